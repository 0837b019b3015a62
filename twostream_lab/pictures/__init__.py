"""The lab's pictures: flow as images (``flow_viz``), the tutorial's figures (``plotting``), the
annotated demo video (``render``), and diagrams of the two-stream model (``architecture``), its
flow input and its decision (``diagrams``), re-exported here. Importing this package loads
neither matplotlib nor TensorFlow; matplotlib is imported when a picture is drawn.
"""

from __future__ import annotations

from twostream_lab.pictures.architecture import draw_two_stream_architecture
from twostream_lab.pictures.diagrams import (
    draw_flow_arrows,
    draw_flow_components,
    draw_flow_stack,
    draw_stream_confidence,
)

__all__ = [
    "draw_two_stream_architecture",
    "draw_flow_stack",
    "draw_flow_arrows",
    "draw_flow_components",
    "draw_stream_confidence",
]
