"""The frames the flow methods see: the clip check, grey frames at the flow size (:func:`grey_frames`,
converted a few at a time), :func:`stack_pairs` and the choice of rows to compute.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np

from twostream_lab.video import Video, short_side_size


def _as_clip(frames: Video | np.ndarray | Sequence[np.ndarray]) -> tuple[np.ndarray, str]:
    if isinstance(frames, Video):
        return frames.frames, frames.name
    clip = frames if isinstance(frames, np.ndarray) else np.stack([np.asarray(f) for f in frames])
    if clip.dtype != np.uint8 or not (clip.ndim == 4 and clip.shape[-1] == 3 or clip.ndim == 3):
        raise ValueError(
            "frames must be a Video, RGB uint8 frames (T, H, W, 3) or grey uint8 frames "
            f"(T, H, W); got {clip.dtype} {clip.shape}"
        )
    return clip, "clip"


class _GreyFrames:
    """A clip's frames in grey at the flow size, converted when asked for, never all at once."""

    def __init__(self, clip: np.ndarray, size: tuple[int, int]) -> None:
        self.clip = clip
        self.size = size
        self._last: tuple[int, np.ndarray] | None = None

    def frame(self, index: int) -> np.ndarray:
        """Frame ``index``. The last one asked for is kept, so that consecutive pairs convert
        each frame once."""
        if self._last is None or self._last[0] != index:
            self._last = (int(index), _grey_frame(self.clip[index], self.size))
        return self._last[1]

    def frames(self, indices: Iterable[int]) -> np.ndarray:
        """Frames ``indices`` as one array ``(N, H, W)``; safe to call from several threads."""
        indices = list(indices)
        out = np.empty((len(indices), *self.size), np.uint8)
        for k, index in enumerate(indices):
            out[k] = _grey_frame(self.clip[index], self.size)
        return out


def _grey_frame(frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    import cv2

    if frame.shape[:2] != size:  # resize the colour frame, then grey, as the training flow
        shrink = size[0] < frame.shape[0]
        frame = cv2.resize(frame, size[::-1],
                           interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
    return cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY) if frame.ndim == 3 else frame


def grey_frames(frames: Video | np.ndarray, *, short_side: int | None = None) -> np.ndarray:
    """The grey uint8 frames ``(T, H, W)`` that the flow methods see.

    RGB frames are converted with ``cv2.COLOR_RGB2GRAY`` (0.299 R + 0.587 G + 0.114 B), after
    resizing to ``short_side`` if given.

    Examples
    --------
    >>> grey_frames(np.full((2, 4, 6, 3), 200, np.uint8))[0, 0, 0]
    np.uint8(200)
    """
    clip, _ = _as_clip(frames)
    size = short_side_size(*clip.shape[1:3], short_side)
    return np.stack([_grey_frame(frame, size) for frame in clip])


def stack_pairs(starts: Iterable[int], stacked_frames: int = 10) -> np.ndarray:
    """The flow frame indices that motion stacks starting at ``starts`` need (sorted, unique).

    Pass the result as ``compute_flow(..., pairs=...)`` to compute only those.

    Examples
    --------
    >>> stack_pairs([0, 3, 20], stacked_frames=4).tolist()
    [0, 1, 2, 3, 4, 5, 6, 20, 21, 22, 23]
    """
    starts = np.asarray(list(starts), dtype=np.int64)
    if starts.size == 0:
        return np.zeros(0, np.int64)
    return np.unique((starts[:, None] + np.arange(stacked_frames)).ravel())


def _requested(frame_range, pairs, num_flow: int) -> tuple[int, int, np.ndarray]:
    """``(start, stop, wanted)``: the rows to return and the flow frame indices to compute."""
    if frame_range is not None and pairs is not None:
        raise ValueError("pass frame_range or pairs, not both")
    if pairs is not None:
        wanted = np.unique(np.asarray(list(pairs) if not isinstance(pairs, np.ndarray) else pairs,
                                      dtype=np.int64).ravel())
        if wanted.size == 0:
            raise ValueError("pairs is empty: name at least one flow frame index")
        if wanted[0] < 0 or wanted[-1] >= num_flow:
            raise ValueError(f"pairs must be flow frame indices in 0..{num_flow - 1} "
                             f"(the clip has {num_flow + 1} frames), got {wanted[0]}..{wanted[-1]}")
        return int(wanted[0]), int(wanted[-1]) + 1, wanted
    if frame_range is None:
        return 0, num_flow, np.arange(num_flow)
    if isinstance(frame_range, range) and frame_range.step == 1:
        frame_range = (frame_range.start, frame_range.stop)
    if not (isinstance(frame_range, (tuple, list)) and len(frame_range) == 2
            and all(isinstance(x, (int, np.integer)) for x in frame_range)):
        raise ValueError(
            f"frame_range must be (first, stop): video frames first..stop-1, got {frame_range!r}; "
            "for a set of flow frames use pairs=[...]"
        )
    first, stop = int(frame_range[0]), int(frame_range[1])
    if not (0 <= first and first + 2 <= stop <= num_flow + 1):
        raise ValueError(
            f"frame_range={tuple(frame_range)!r} must name at least 2 of the clip's "
            f"{num_flow + 1} video frames: 0 <= first, first + 2 <= stop <= {num_flow + 1}"
        )
    return first, stop - 1, np.arange(first, stop - 1)
