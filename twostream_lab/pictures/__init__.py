"""The lab's pictures: diagrams of the two-stream model, its flow input and its decision.

See :mod:`twostream_lab.pictures.diagrams`. Importing this package loads neither matplotlib nor
TensorFlow; matplotlib is imported when a picture is drawn.
"""

from __future__ import annotations

from .diagrams import (
    draw_flow_arrows,
    draw_flow_components,
    draw_flow_stack,
    draw_stream_confidence,
    draw_two_stream_architecture,
)

__all__ = [
    "draw_two_stream_architecture",
    "draw_flow_stack",
    "draw_flow_arrows",
    "draw_flow_components",
    "draw_stream_confidence",
]
