"""Optical flow between consecutive frames, quantised to uint8 for the motion stream.

Flow frame ``j`` is the motion from video frame ``j`` to frame ``j + 1``: a clip of ``T`` frames
has ``T - 1`` flow frames, each split into a horizontal component ``u`` (positive to the right)
and a vertical one ``v`` (positive downwards), in pixels.

What the methods see (the tutorial's input, exactly): each RGB frame converted to grey with
``cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)``, which equals the tutorial's ``COLOR_BGR2GRAY`` on
OpenCV's BGR frames. The tutorial then divides by 255 and passes float32; OpenCV's TV-L1
multiplies float input by 255 again (it works on the 0..255 scale), so uint8 grey gives the same
flow bit for bit (checked in the tests). The uint8 frames are passed here: 4x less memory.

Quantisation (:func:`quantize_flow`) clips to ``[-bound, bound]`` (bound 20, as the training
flow) and maps that to ``0..255``, rounding half to even like OpenCV's ``saturate_cast``: zero
flow is level 127.5, which rounds to **128** (256 levels have no middle one: flow in
[0, 0.157] px is level 128, in [-0.157, 0) level 127). :func:`tutorial_cast` reproduces the tutorial's
``(255 * (f + 20) / 40).astype(np.uint8)``, which neither clips nor rounds: flow beyond +-20 px
wraps around (21 px becomes level 5, nearly -20 px).

Speed (measured, see ``benchmarks/bench_flow.py`` and the README): OpenCV's TV-L1 takes about
1-2.5 s per 320x240 pair on one core and already uses every core through OpenCV's threads, which
scale well up to 4 cores. ``workers=None`` therefore runs in this process on machines with up to
4 cores, and uses worker processes (each with 2 OpenCV threads) on bigger machines, where they
were 1.8x faster than threads alone on 16 cores. Results are byte-identical either way.

Memory: :func:`compute_flow` holds the clip's frames (given), its result (``u`` and ``v``, 2 bytes
per pixel per flow frame) and a bounded working set on top: frames are turned grey a pair (or a
worker's chunk, at most 32 MiB of flow) at a time, each pair's float32 flow is quantised as soon as
it arrives, and cache entries are read into the result and written from it row by row. No float32
array of the whole video's flow exists, unless asked for with ``return_raw=True``.

Modules (everything public is re-exported here: ``from twostream_lab.flow import compute_flow``):

- :mod:`~twostream_lab.flow.types`: :class:`Flow`, :class:`FlowError`, :func:`quantize_flow`,
  :func:`dequantize_flow`, :func:`tutorial_cast`.
- :mod:`~twostream_lab.flow.methods`: :class:`FlowMethod`, :data:`FLOW_METHODS`,
  :func:`has_optflow`, :data:`OPTFLOW_FIX`, :func:`resolve_flow_method`, the OpenCV backends.
- :mod:`~twostream_lab.flow.frames`: :func:`grey_frames`, :func:`stack_pairs`, the grey frames
  the methods see.
- :mod:`~twostream_lab.flow.parallel`: this process, worker processes (:func:`choose_workers`)
  or TensorFlow.
- :mod:`~twostream_lab.flow.cache`: cache keys, checksummed entries, the cache folder.
- :mod:`~twostream_lab.flow.compute`: :func:`compute_flow`.
- :mod:`~twostream_lab.flow.io`: :func:`save_flow`, :func:`load_flow`.
- :mod:`~twostream_lab.flow.tvl1_tf`: TV-L1 in TensorFlow (method ``"tvl1-tf"``; imported only
  when used).
"""

from __future__ import annotations

from twostream_lab.flow.compute import compute_flow
from twostream_lab.flow.frames import grey_frames, stack_pairs
from twostream_lab.flow.io import load_flow, save_flow
from twostream_lab.flow.methods import (
    FLOW_METHODS,
    OPTFLOW_FIX,
    FlowMethod,
    has_optflow,
    resolve_flow_method,
)
from twostream_lab.flow.parallel import choose_workers
from twostream_lab.flow.types import Flow, FlowError, dequantize_flow, quantize_flow, tutorial_cast

__all__ = [
    "FLOW_METHODS",
    "OPTFLOW_FIX",
    "Flow",
    "FlowError",
    "FlowMethod",
    "choose_workers",
    "compute_flow",
    "dequantize_flow",
    "grey_frames",
    "has_optflow",
    "load_flow",
    "quantize_flow",
    "resolve_flow_method",
    "save_flow",
    "stack_pairs",
    "tutorial_cast",
]

#: The command that gives a Python environment ``cv2.optflow`` (OpenCV's contrib modules).
#: Colab installs ``opencv-python``, ``opencv-python-headless`` and ``opencv-contrib-python``
#: over each other into the same ``cv2`` folder; whichever came last wins, and removing just one
