"""The two streams' network inputs, exactly as the tutorial builds them, in fixed-size batches.

Spatial input
    One RGB frame resized to the model's input size with OpenCV's bicubic interpolation
    (``cv2.resize(frame, (w, h), interpolation=cv2.INTER_CUBIC)`` on the whole frame; the
    aspect ratio is not kept), then ``float32 / 255``.

Motion input
    For a start index ``s``: the quantised horizontal flow frames ``u[s], ..., u[s+L-1]`` in
    channels ``0 .. L-1`` and the vertical flow frames ``v[s], ..., v[s+L-1]`` in channels
    ``L .. 2L-1`` (``u0..u9 v0..v9`` for the pretrained models, ``L = 10``), the whole
    ``2L``-channel uint8 stack resized at once with the same bicubic resize, then
    ``float32 / 255``. Resizing the stack at once is what the tutorial's imgaug call does
    (``cv2.resize`` takes up to 512 channels in one call); resizing channel by channel differs by
    one grey level on about 5 % of pixels.

A video of ``T`` frames has ``T - 1`` flow frames and ``T - L`` complete stacks, starting at flow
frames ``0 .. T-L-1``. The tutorial built stacks for ``range(len(u) - 10)`` and so dropped the
last one; :func:`stack_starts` returns all of them.

The tutorial built both inputs for the whole video at once (about 6 MiB of float32 per frame:
1.7 GiB for a 250-frame clip). :func:`spatial_batches` and :func:`motion_batches` build at most
``batch_size`` items at a time instead, so no whole-video float32 array ever exists.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from twostream_lab.checks import positive_int, size_pair

__all__ = [
    "STACKED_FRAMES",
    "num_stacks",
    "stack_starts",
    "prepare_frames",
    "prepare_stacks",
    "spatial_batches",
    "motion_batches",
]

#: Flow frames per motion stack in the pretrained motion model (20 input channels).
STACKED_FRAMES = 10


def _resize(image: np.ndarray, h: int, w: int) -> np.ndarray:
    """Bicubic resize of a whole ``(H, W, C)`` uint8 image; keeps the channel axis."""
    import cv2

    out = cv2.resize(image, (w, h), interpolation=cv2.INTER_CUBIC)
    return out.reshape(h, w, image.shape[2])


def num_stacks(num_flow_frames: int, stacked_frames: int = STACKED_FRAMES) -> int:
    """Number of complete motion stacks in ``num_flow_frames`` flow frames (0 if too few).

    Examples
    --------
    >>> num_stacks(249)  # a 250-frame video has 249 flow frames and 240 stacks
    240
    """
    return max(0, int(num_flow_frames) - int(stacked_frames) + 1)


def stack_starts(num_flow_frames: int, stacked_frames: int = STACKED_FRAMES) -> np.ndarray:
    """Start indices ``0 .. T-L-1`` of every complete stack; error when there is none.

    ``num_flow_frames`` is ``T - 1`` for a video of ``T`` frames, so a video needs at least
    ``L + 1`` frames (11 for the pretrained motion model).

    Examples
    --------
    >>> stack_starts(12).tolist()  # a 13-frame video
    [0, 1, 2]
    """
    if stacked_frames < 1:
        raise ValueError(f"stacked_frames must be at least 1, got {stacked_frames}")
    n = num_stacks(num_flow_frames, stacked_frames)
    if n == 0:
        raise ValueError(
            f"the video is too short for the motion stream: it has {num_flow_frames} flow frames "
            f"({num_flow_frames + 1} video frames) but one motion stack needs {stacked_frames} "
            f"consecutive flow frames, so the video needs at least {stacked_frames + 1} frames; "
            "use a longer clip (or a motion model with fewer stacked frames)"
        )
    return np.arange(n)


def prepare_frames(frames: np.ndarray, size: Sequence[int] = (299, 299)) -> np.ndarray:
    """Spatial-stream inputs: each frame resized (bicubic, whole frame) to ``size``, / 255.

    Parameters
    ----------
    frames : uint8 array (N, H, W, 3)
        RGB frames.
    size : (height, width)
        The spatial model's input size.

    Returns
    -------
    float32 array (N, height, width, 3) in 0..1.

    Examples
    --------
    >>> frames = np.zeros((2, 24, 32, 3), np.uint8)
    >>> prepare_frames(frames, size=(16, 16)).shape
    (2, 16, 16, 3)
    """
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ValueError(
            "frames must be a uint8 RGB array of shape (N, H, W, 3), got "
            f"{frames.dtype} {frames.shape}; read videos with twostream_lab.read_video"
        )
    h, w = size_pair(size)
    out = np.empty((len(frames), h, w, 3), np.float32)
    for i, frame in enumerate(frames):
        out[i] = _resize(frame, h, w)
    out /= np.float32(255)
    return out


def _check_flow(u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    u = np.asarray(u)
    v = np.asarray(v)
    if u.ndim != 3 or u.shape != v.shape or u.dtype != np.uint8 or v.dtype != np.uint8:
        raise ValueError(
            "u and v must be uint8 quantised flow frames of the same shape (T-1, H, W), got "
            f"u {u.dtype} {u.shape} and v {v.dtype} {v.shape}; compute them with "
            "twostream_lab.compute_flow (Flow.u, Flow.v)"
        )
    return u, v


def _check_starts(starts, num_flow_frames: int, stacked_frames: int) -> np.ndarray:
    if stacked_frames < 1:
        raise ValueError(f"stacked_frames must be at least 1, got {stacked_frames}")
    starts = np.asarray(starts, dtype=np.int64).reshape(-1)
    last = num_flow_frames - stacked_frames
    bad = starts[(starts < 0) | (starts > last)]
    if bad.size:
        raise ValueError(
            f"stack start {int(bad[0])} is out of range: with {num_flow_frames} flow frames and "
            f"{stacked_frames} frames per stack the starts must be in 0..{last}; "
            "use stack_starts(len(u), stacked_frames)"
        )
    return starts


def prepare_stacks(
    u: np.ndarray,
    v: np.ndarray,
    starts: Sequence[int] | np.ndarray,
    size: Sequence[int] = (299, 299),
    stacked_frames: int = STACKED_FRAMES,
) -> np.ndarray:
    """Motion-stream inputs: the ``2L``-channel flow stacks starting at ``starts``, resized, / 255.

    Stack ``s`` has channels ``u[s], ..., u[s+L-1], v[s], ..., v[s+L-1]``; the whole stack is
    resized at once (bicubic, aspect not kept).

    Parameters
    ----------
    u, v : uint8 arrays (F, H, W)
        Quantised flow frames (``Flow.u``, ``Flow.v``).
    starts : sequence of int
        Start flow-frame index of each stack, each in ``0 .. F-L``.
    size : (height, width)
        The motion model's input size.
    stacked_frames : int
        ``L``, flow frames per stack (motion input channels // 2).

    Returns
    -------
    float32 array (len(starts), height, width, 2L) in 0..1.

    Examples
    --------
    >>> u = np.zeros((12, 24, 32), np.uint8); v = np.full((12, 24, 32), 255, np.uint8)
    >>> x = prepare_stacks(u, v, [0, 2], size=(16, 16))
    >>> x.shape, float(x[0, 0, 0, 0]), float(x[0, 0, 0, 10])
    ((2, 16, 16, 20), 0.0, 1.0)
    """
    u, v = _check_flow(u, v)
    h, w = size_pair(size)
    L = int(stacked_frames)
    starts = _check_starts(starts, len(u), L)
    out = np.empty((len(starts), h, w, 2 * L), np.float32)
    stack = np.empty(u.shape[1:] + (2 * L,), np.uint8)
    for i, s in enumerate(starts):
        stack[..., :L] = np.moveaxis(u[s : s + L], 0, -1)
        stack[..., L:] = np.moveaxis(v[s : s + L], 0, -1)
        out[i] = _resize(stack, h, w)
    out /= np.float32(255)
    return out


def _batch_indices(indices: np.ndarray, batch_size: int) -> list[np.ndarray]:
    n = positive_int(batch_size, "batch_size")
    return [indices[i : i + n] for i in range(0, len(indices), n)]


def spatial_batches(
    frames: np.ndarray,
    size: Sequence[int] = (299, 299),
    *,
    indices: Sequence[int] | np.ndarray | None = None,
    batch_size: int = 8,
) -> Iterator[np.ndarray]:
    """Yield :func:`prepare_frames` of ``frames[indices]``, at most ``batch_size`` at a time.

    ``indices`` defaults to every frame, in order.

    Examples
    --------
    >>> frames = np.zeros((5, 24, 32, 3), np.uint8)
    >>> [b.shape[0] for b in spatial_batches(frames, (16, 16), batch_size=2)]
    [2, 2, 1]
    """
    frames = np.asarray(frames)
    prepare_frames(frames[:0], size)  # validate now, not at the first next()
    idx = np.arange(len(frames)) if indices is None else np.asarray(indices, np.int64).reshape(-1)
    if idx.size and (idx.min() < 0 or idx.max() >= len(frames)):
        raise IndexError(f"frame indices must be in 0..{len(frames) - 1}, got {idx.tolist()}")
    return (prepare_frames(frames[chunk], size) for chunk in _batch_indices(idx, batch_size))


def motion_batches(
    u: np.ndarray,
    v: np.ndarray,
    size: Sequence[int] = (299, 299),
    *,
    starts: Sequence[int] | np.ndarray | None = None,
    stacked_frames: int = STACKED_FRAMES,
    batch_size: int = 8,
) -> Iterator[np.ndarray]:
    """Yield :func:`prepare_stacks` for ``starts``, at most ``batch_size`` stacks at a time.

    ``starts`` defaults to every complete stack (:func:`stack_starts`), which raises a clear
    error when the flow is too short for a single stack.

    Examples
    --------
    >>> u = v = np.zeros((12, 24, 32), np.uint8)  # a 13-frame video: 3 stacks
    >>> [b.shape for b in motion_batches(u, v, (16, 16), batch_size=2)]
    [(2, 16, 16, 20), (1, 16, 16, 20)]
    """
    u, v = _check_flow(u, v)
    if starts is None:
        starts = stack_starts(len(u), stacked_frames)
    starts = _check_starts(starts, len(u), int(stacked_frames))
    size_pair(size)
    return (
        prepare_stacks(u, v, chunk, size, stacked_frames)
        for chunk in _batch_indices(starts, batch_size)
    )
