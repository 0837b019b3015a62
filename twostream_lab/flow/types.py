"""The flow result and its quantisation: :class:`Flow`, :class:`FlowError`, :func:`quantize_flow`,
:func:`dequantize_flow` and :func:`tutorial_cast` (the tutorial's wrapping cast).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from twostream_lab.checks import positive_number


class FlowError(RuntimeError):
    """Flow cannot be computed in this environment (e.g. ``cv2.optflow`` is missing)."""


@dataclass(frozen=True, eq=False)
class Flow:
    """Quantised optical flow of a clip.

    Attributes
    ----------
    u, v : ndarray of uint8, shape (N, H, W)
        Horizontal and vertical flow, quantised by :func:`quantize_flow` with ``bound``.
    method : str
        The method that computed it (for ``"auto"``, the method it chose).
    bound : float
        Flow of ``+-bound`` pixels maps to levels 255 and 0.
    start : int
        Row ``j`` of ``u``/``v`` is flow frame ``start + j`` of the video (from video frame
        ``start + j`` to ``start + j + 1``).
    computed : ndarray of bool, shape (N,), optional
        With ``compute_flow(..., pairs=...)``: which rows were computed; the others hold level
        128 (no motion). ``None`` when every row was computed.
    raw : ndarray of float32, shape (N, H, W, 2), optional
        The flow in pixels before quantisation (``compute_flow(..., return_raw=True)``);
        NaN in rows that were not computed.

    Examples
    --------
    >>> flow = Flow(np.full((2, 4, 5), 128, np.uint8), np.full((2, 4, 5), 128, np.uint8),
    ...             method="tvl1", bound=20)
    >>> flow.num_frames, flow.stop
    (2, 2)
    """

    u: np.ndarray
    v: np.ndarray
    method: str
    bound: float
    start: int = 0
    computed: np.ndarray | None = None
    raw: np.ndarray | None = None

    def __post_init__(self) -> None:
        for label, array in (("u", self.u), ("v", self.v)):
            if not isinstance(array, np.ndarray) or array.dtype != np.uint8 or array.ndim != 3:
                raise ValueError(f"Flow.{label} must be a uint8 array (N, H, W), got "
                                 f"{getattr(array, 'dtype', type(array).__name__)} "
                                 f"{getattr(array, 'shape', '')}")
        if self.u.shape != self.v.shape:
            raise ValueError(f"Flow.u and Flow.v differ in shape: {self.u.shape} vs {self.v.shape}")
        if self.computed is not None and self.computed.shape != (len(self.u),):
            raise ValueError(f"Flow.computed must have shape ({len(self.u)},), "
                             f"got {self.computed.shape}")

    @property
    def num_frames(self) -> int:
        """Number of flow frames held (rows of ``u`` and ``v``)."""
        return int(self.u.shape[0])

    @property
    def height(self) -> int:
        """Flow frame height in pixels."""
        return int(self.u.shape[1])

    @property
    def width(self) -> int:
        """Flow frame width in pixels."""
        return int(self.u.shape[2])

    @property
    def stop(self) -> int:
        """One past the last flow frame index held (``start + num_frames``)."""
        return self.start + self.num_frames

    def __repr__(self) -> str:
        done = "" if self.computed is None else f", computed={int(self.computed.sum())}"
        return (f"Flow(method={self.method!r}, bound={self.bound:g}, start={self.start}, "
                f"num_frames={self.num_frames}{done}, size={self.width}x{self.height})")


def _check_bound(bound: float) -> float:
    return positive_number(bound, "bound", unit="pixels")


def quantize_flow(flow_xy: np.ndarray, *, bound: float = 20) -> np.ndarray:
    """Clip flow to ``[-bound, bound]`` pixels and map it to uint8 levels ``0..255``.

    ``level = rint(clip(f, -bound, bound) * 127.5 / bound + 127.5)`` in float32, where ``rint``
    rounds halves to even (as OpenCV's ``saturate_cast`` does): ``-bound -> 0``,
    ``0 -> 127.5 -> 128``, ``+bound -> 255``, and anything beyond the bound saturates. NaN (no
    estimate) is treated as zero flow.

    Parameters
    ----------
    flow_xy : array_like
        Flow in pixels, any shape (e.g. ``(H, W, 2)`` or one component ``(H, W)``).
    bound : float
        Clipping bound in pixels (20 for the pretrained models' training flow).

    Returns
    -------
    ndarray of uint8, the shape of ``flow_xy``

    Examples
    --------
    >>> quantize_flow(np.array([-30.0, -20.0, 0.0, 20.0, 30.0]))
    array([  0,   0, 128, 255, 255], dtype=uint8)
    """
    bound = _check_bound(bound)
    flow = np.asarray(flow_xy, dtype=np.float32)
    scaled = np.clip(flow, -bound, bound) * np.float32(127.5 / bound) + np.float32(127.5)
    if np.isnan(scaled).any():
        scaled = np.nan_to_num(scaled, nan=127.5)
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)


def dequantize_flow(levels: np.ndarray, *, bound: float = 20) -> np.ndarray:
    """Map uint8 levels back to pixels (float32): ``0 -> -bound``, ``255 -> +bound``.

    Level 128 maps to ``+bound / 255`` (+0.08 px for bound 20): one level is ``2 * bound / 255``
    pixels, so quantisation is exact to half of that.

    Examples
    --------
    >>> dequantize_flow(np.array([0, 255], np.uint8))
    array([-20.,  20.], dtype=float32)
    """
    bound = _check_bound(bound)
    return (np.asarray(levels, np.float32) * np.float32(2 * bound / 255) - np.float32(bound))


def tutorial_cast(flow_xy: np.ndarray, bound: float = 20) -> np.ndarray:
    """The tutorial's ``(255 * (f + 20) / 40).astype(np.uint8)``, which wraps instead of clipping.

    The cast truncates toward zero and keeps the low 8 bits, so 20.2 px becomes level 0 and
    -20.7 px level 252: fast motion turns into its opposite. That is what numpy's cast gives on
    x86-64 (where the tutorial ran); it is written out here so that it is the same on every
    machine (ARM CPUs saturate instead). Use it only to show the problem; use
    :func:`quantize_flow` for real work. Inside the bound it truncates where
    :func:`quantize_flow` rounds, e.g. zero flow is level 127 instead of 128.

    Examples
    --------
    >>> tutorial_cast(np.array([-20.0, 0.0, 19.9, 20.2, 21.0], np.float32))
    array([  0, 127, 254,   0,   5], dtype=uint8)
    """
    flow = np.asarray(flow_xy, dtype=np.float32)
    scaled = np.float32(255) * (flow + np.float32(bound)) / np.float32(2 * bound)
    return (np.trunc(scaled).astype(np.int64) % 256).astype(np.uint8)
