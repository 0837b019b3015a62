"""Reading videos into RGB uint8 frames.

Every frame inside twostream-lab is RGB ``uint8`` with shape ``(T, H, W, 3)``. OpenCV decodes to
BGR; :func:`read_video` converts each frame exactly once, while reading. Bad input raises one
:class:`VideoError` that names the file, the problem and the fix.

A decoded video takes ``T * H * W * 3`` bytes: 10 minutes of 1080p at 25 fps would be 87 GiB. So
:func:`read_video` checks the size *before* reading and refuses a video over ``memory_limit``
(2 GiB by default), saying which ``short_side`` or ``max_frames`` would fit. ``max_short_side``
shrinks (never enlarges) a larger video while reading: ``max_short_side=TRAINING_SHORT_SIDE`` reads
a 1080p video at 455x256, the size the pretrained models were trained on, in 1/18 of the memory.

A damaged or cut-off file often still opens and decodes its first frames. When clearly fewer
frames decode than its header declares, :func:`read_video` warns (:class:`TruncatedVideoWarning`)
and the :class:`Video` keeps both counts (``declared_frames``, ``num_frames``).

A URL is downloaded once into ``cache_dir("videos")`` (:func:`download_video`, from
:mod:`twostream_lab.video_download`), within a deadline for the whole download, and kept only if
OpenCV can decode it as a video.
"""

from __future__ import annotations

import math
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from twostream_lab.checks import optional_positive_int, positive_int
from twostream_lab.video_download import (DEFAULT_DOWNLOAD_LIMIT, DOWNLOAD_MIN_RATE, _is_url,
                                          _url_file_name, default_deadline, download_video)
from twostream_lab.video_errors import VideoError, _format_bytes

__all__ = [
    "DEFAULT_DOWNLOAD_LIMIT",
    "DEFAULT_MEMORY_LIMIT",
    "DOWNLOAD_MIN_RATE",
    "MIN_MOTION_FRAMES",
    "TRAINING_SHORT_SIDE",
    "TRUNCATION_RATIO",
    "TruncatedVideoWarning",
    "Video",
    "VideoError",
    "default_deadline",
    "download_video",
    "read_video",
    "require_frames",
    "resize_short_side",
    "short_side_size",
]

#: Largest decoded video :func:`read_video` accepts by default (bytes of RGB uint8 frames).
DEFAULT_MEMORY_LIMIT = 2 * 2**30
#: Frames needed for one motion-stream input: 10 stacked flow frames come from 11 video frames.
MIN_MOTION_FRAMES = 11
#: Short side (pixels) of the frames and the flow the pretrained models were trained on.
TRAINING_SHORT_SIDE = 256
#: A video that decodes fewer than this fraction of the frames its header declares is truncated.
TRUNCATION_RATIO = 0.95


class TruncatedVideoWarning(UserWarning):
    """A video decoded clearly fewer frames than its file declares (damaged or cut off)."""


def expected_frame_count(declared_frames: int | None, max_frames: int | None) -> int | None:
    """The frames a read should give: the file's declared count, at most ``max_frames``
    (None when the file declares none)."""
    if declared_frames is None:
        return None
    return min(declared_frames, max_frames or declared_frames)


def is_truncated(num_frames: int, declared_frames: int | None, max_frames: int | None) -> bool:
    """Whether clearly fewer frames were decoded than expected (under :data:`TRUNCATION_RATIO`),
    as from a damaged or cut file."""
    expected = expected_frame_count(declared_frames, max_frames)
    return expected is not None and num_frames < TRUNCATION_RATIO * expected


@dataclass(frozen=True, eq=False)
class Video:
    """A decoded video clip.

    Parameters
    ----------
    frames : ndarray of uint8, shape (T, H, W, 3)
        RGB frames.
    fps : float
        Frames per second.
    name : str
        File name with extension, e.g. ``"abseiling_k400.mp4"``.
    source : str
        Where the frames came from: the path or URL given to :func:`read_video`, or ``"array"``.
    declared_frames : int, optional
        The frame count in the file's header (``None``: the file gives none, or not a file).
        Fewer decoded frames than that means a damaged or cut-off file (:attr:`truncated`).
    max_frames : int, optional
        The ``max_frames`` that :func:`read_video` was given.
    source_size : (int, int), optional
        ``(height, width)`` of the frames in the file, before any resizing while reading.

    Examples
    --------
    >>> clip = Video.from_frames(np.zeros((12, 64, 80, 3), np.uint8), fps=25.0, name="still")
    >>> clip.num_frames, clip.height, clip.width
    (12, 64, 80)
    """

    frames: np.ndarray
    fps: float
    name: str
    source: str
    declared_frames: int | None = None
    max_frames: int | None = None
    source_size: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        _check_frames(self.frames, self.name)
        if not (math.isfinite(self.fps) and self.fps > 0):
            raise VideoError(f"{self.name}: fps must be a positive number, got {self.fps!r}")
        for label in ("declared_frames", "max_frames"):
            try:
                optional_positive_int(getattr(self, label), label)
            except ValueError as error:
                raise VideoError(f"{self.name}: {error}") from None

    @classmethod
    def from_frames(
        cls, frames: np.ndarray | Sequence[np.ndarray], *, fps: float = 25.0, name: str = "clip"
    ) -> Video:
        """Wrap RGB uint8 frames ``(T, H, W, 3)`` (an array or a list of ``(H, W, 3)`` frames).

        Examples
        --------
        >>> Video.from_frames([np.zeros((4, 6, 3), np.uint8)] * 3).num_frames
        3
        """
        if not isinstance(frames, np.ndarray):
            frames = np.stack([np.asarray(frame) for frame in frames]) if len(frames) else None
        if frames is None:
            raise VideoError(f"{name}: no frames were given; pass at least one (H, W, 3) frame")
        return cls(frames=frames, fps=float(fps), name=name, source="array")

    @property
    def num_frames(self) -> int:
        """Number of frames T."""
        return int(self.frames.shape[0])

    @property
    def height(self) -> int:
        """Frame height H in pixels."""
        return int(self.frames.shape[1])

    @property
    def width(self) -> int:
        """Frame width W in pixels."""
        return int(self.frames.shape[2])

    @property
    def duration(self) -> float:
        """Length in seconds (``num_frames / fps``)."""
        return self.num_frames / self.fps

    @property
    def expected_frames(self) -> int | None:
        """The frames reading should have given: ``declared_frames``, at most ``max_frames``."""
        return expected_frame_count(self.declared_frames, self.max_frames)

    @property
    def truncated(self) -> bool:
        """Whether clearly fewer frames decoded than expected (under :data:`TRUNCATION_RATIO`).

        Examples
        --------
        >>> frames = np.zeros((55, 4, 4, 3), np.uint8)
        >>> Video(frames, 25.0, "cut.mp4", "cut.mp4", declared_frames=250).truncated
        True
        """
        return is_truncated(self.num_frames, self.declared_frames, self.max_frames)

    def __repr__(self) -> str:
        declared = f", declared_frames={self.declared_frames}" if self.truncated else ""
        return (
            f"Video(name={self.name!r}, num_frames={self.num_frames}{declared}, "
            f"size={self.width}x{self.height}, fps={self.fps:g}, source={self.source!r})"
        )


def _check_frames(frames: object, name: str) -> None:
    if not isinstance(frames, np.ndarray):
        raise VideoError(f"{name}: frames must be a numpy array, got {type(frames).__name__}")
    if frames.dtype != np.uint8:
        raise VideoError(
            f"{name}: frames must be uint8 (0..255), got {frames.dtype}; "
            "convert float frames in 0..1 with (frames * 255).round().astype(np.uint8)"
        )
    if frames.ndim != 4 or frames.shape[-1] != 3:
        raise VideoError(
            f"{name}: frames must have shape (T, H, W, 3) (RGB), got {frames.shape}; "
            "for grey frames use np.repeat(grey[..., None], 3, axis=-1)"
        )
    if frames.shape[0] == 0:
        raise VideoError(f"{name}: the video has no frames")


def short_side_size(height: int, width: int, short_side: int | None) -> tuple[int, int]:
    """Return ``(height, width)`` scaled so that the shorter side is ``short_side``.

    The longer side is rounded to the nearest pixel; ``None`` keeps the size.

    Examples
    --------
    >>> short_side_size(240, 320, 256)
    (256, 341)
    >>> short_side_size(1080, 1920, 256)
    (256, 455)
    """
    if short_side is None:
        return height, width
    positive_int(short_side, "short_side", unit="pixels")
    scale = short_side / min(height, width)
    if height <= width:
        return int(short_side), max(1, round(width * scale))
    return max(1, round(height * scale)), int(short_side)


def resize_short_side(frames: np.ndarray, short_side: int | None) -> np.ndarray:
    """Resize one frame ``(H, W[, C])`` or a clip ``(T, H, W[, C])`` to the given short side.

    Shrinking uses area averaging (``cv2.INTER_AREA``, no aliasing), enlarging bilinear
    interpolation (``cv2.INTER_LINEAR``, OpenCV's default). A frame that already has the size is
    returned unchanged.

    Examples
    --------
    >>> resize_short_side(np.zeros((240, 320, 3), np.uint8), 120).shape
    (120, 160, 3)
    """
    import cv2

    clip = frames.ndim == 4 or (frames.ndim == 3 and frames.shape[-1] not in (1, 3, 4))
    height, width = frames.shape[1:3] if clip else frames.shape[:2]
    size = short_side_size(height, width, short_side)
    if size == (height, width):
        return frames
    interpolation = cv2.INTER_AREA if size[0] < height else cv2.INTER_LINEAR
    if not clip:
        return cv2.resize(frames, size[::-1], interpolation=interpolation)
    out = np.empty((frames.shape[0], *size, *frames.shape[3:]), frames.dtype)
    for i, frame in enumerate(frames):
        out[i] = cv2.resize(frame, size[::-1], interpolation=interpolation).reshape(out.shape[1:])
    return out


def require_frames(video: Video | np.ndarray, minimum: int = MIN_MOTION_FRAMES) -> Video | np.ndarray:
    """Return ``video`` unchanged, or raise :class:`VideoError` if it has fewer than ``minimum`` frames.

    The default, 11, is what one motion-stream input needs: a stack of 10 flow frames, each made
    from two consecutive video frames.

    Examples
    --------
    >>> require_frames(Video.from_frames(np.zeros((11, 4, 4, 3), np.uint8))).num_frames
    11
    """
    count = len(video.frames) if isinstance(video, Video) else len(video)
    name = video.name if isinstance(video, Video) else "the clip"
    if count < minimum:
        stack = minimum - 1
        raise VideoError(
            f"{name}: {count} frame{'s' if count != 1 else ''}, but at least {minimum} are needed "
            f"(the motion stream stacks {stack} flow frames, made from {minimum} consecutive "
            "video frames). Use a longer clip, or a larger max_frames when reading it."
        )
    return video



def _memory_error(name: str, frames: int, more: bool, height: int, width: int,
                  limit: int) -> VideoError:
    """The message for a video whose decoded frames would not fit ``limit`` bytes."""
    frame_bytes = height * width * 3
    fit = max(1, limit // frame_bytes)
    hints = [f"max_frames={fit} keeps the first {fit} frames at {width}x{height}"]
    if min(height, width) > 256:
        small_h, small_w = short_side_size(height, width, 256)
        small_fit = limit // (small_h * small_w * 3)
        hints.insert(0, f"short_side=256 makes frames {small_w}x{small_h}"
                     + ("" if small_fit >= frames else f" (then max_frames={small_fit} fits)"))
    size = ("more than " if more else "") + _format_bytes(frames * frame_bytes)
    return VideoError(
        f"{name}: {'more than ' if more else ''}{frames} frames of {width}x{height} would take "
        f"{size} as RGB uint8, over the memory limit of {_format_bytes(limit)}. Read less of it "
        "with read_video(...): " + "; ".join(hints)
        + ". Or pass a larger memory_limit= if this machine has the memory."
    )


def read_video(
    source: str | os.PathLike,
    *,
    max_frames: int | None = None,
    short_side: int | None = None,
    max_short_side: int | None = None,
    memory_limit: int = DEFAULT_MEMORY_LIMIT,
    download_limit: int = DEFAULT_DOWNLOAD_LIMIT,
    timeout: float = 60.0,
    deadline: float | None = None,
) -> Video:
    """Read a video file or http(s) URL into RGB uint8 frames.

    Parameters
    ----------
    source : str or path
        A local file, or an ``http(s)://`` URL (downloaded once into ``cache_dir("videos")``).
    max_frames : int, optional
        Keep only the first ``max_frames`` frames.
    short_side : int, optional
        Resize every frame so that its shorter side has this many pixels (256 for the training
        flow), keeping the aspect ratio; see :func:`resize_short_side`.
    max_short_side : int, optional
        Shrink (never enlarge) frames whose shorter side is longer than this, keeping the
        aspect ratio: ``max_short_side=TRAINING_SHORT_SIDE`` reads a 1920x1080 video at 455x256,
        the size the pretrained models were trained on, and a 320x240 one unchanged. With
        ``short_side`` too, the smaller of the two applies. ``Video.source_size`` keeps the size
        in the file.
    memory_limit : int
        Refuse, before reading, a video whose decoded frames would take more bytes than this.
    download_limit, timeout, deadline
        Passed to :func:`download_video` (as ``max_bytes``, ``timeout``, ``deadline``) for URLs.

    Returns
    -------
    Video
        With ``declared_frames`` (the header's frame count), ``max_frames`` and
        ``source_size`` recorded.

    Raises
    ------
    VideoError
        Missing file, not a video or damaged, no frames, unsupported URL scheme, download
        failed or too large, or frames over ``memory_limit``.

    Warns
    -----
    TruncatedVideoWarning
        Fewer than 95 % (:data:`TRUNCATION_RATIO`) of the frames the file declares (at most
        ``max_frames``) could be decoded: a damaged or cut-off file, whose video is shorter than
        it claims.

    Examples
    --------
    >>> video = read_video("v_Archery_g02_c02.avi", max_frames=16)  # doctest: +SKIP
    >>> video.frames.shape  # doctest: +SKIP
    (16, 240, 320, 3)
    """
    import cv2

    optional_positive_int(max_frames, "max_frames")
    optional_positive_int(max_short_side, "max_short_side", unit="pixels")
    source_text = os.fspath(source)
    if _is_url(source_text):
        path = download_video(source_text, max_bytes=download_limit, timeout=timeout,
                              deadline=deadline)
        name = _url_file_name(source_text)
    else:
        path = Path(source_text).expanduser()
        name = path.name
        if not path.is_file():
            where = "is a folder, not a video file" if path.is_dir() else "does not exist"
            raise VideoError(
                f"{source_text}: the file {where} (looked in {path.absolute().parent}); "
                "check the path and the file name"
            )

    capture = cv2.VideoCapture(str(path))
    try:
        if not capture.isOpened():
            raise VideoError(
                f"{name}: OpenCV cannot open it as a video: it is not a video file, is damaged or "
                "truncated, or uses a codec this OpenCV lacks. Check the file (does it play?), "
                "or convert it to H.264 mp4, e.g. ffmpeg -i IN -c:v libx264 OUT.mp4"
            )
        fps = capture.get(cv2.CAP_PROP_FPS)
        fps = float(fps) if math.isfinite(fps) and fps > 0 else 25.0
        in_h = int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
        in_w = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH))
        count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        declared = count if count > 0 else None
        expected = declared
        if max_frames is not None:
            expected = min(expected, max_frames) if expected else max_frames
        decoded = _decode(capture, name, in_h, in_w, expected=expected, max_frames=max_frames,
                          sizes=(short_side, max_short_side), memory_limit=memory_limit)
    finally:
        capture.release()
    if decoded is None:
        raise VideoError(
            f"{name}: the file opens but no frame could be decoded (an empty or damaged video); "
            "check that it plays, or re-encode it"
        )
    frames, source_size = decoded
    video = Video(frames=frames, fps=fps, name=name, source=source_text, declared_frames=declared,
                  max_frames=None if max_frames is None else int(max_frames),
                  source_size=source_size)
    if video.truncated:
        warnings.warn(TruncatedVideoWarning(
            f"{name}: only {video.num_frames} of the {declared} frames the file declares could "
            f"be decoded (damaged or truncated file): the video covers {video.duration:.1f} s, "
            f"not {video.expected_frames / fps:.1f} s. Download or copy the file again, or "
            "re-encode it, to get the whole clip"
        ), stacklevel=2)
    return video


def _output_size(height: int, width: int, sizes: tuple[int | None, int | None]) -> tuple[int, int]:
    """The frame size read: ``short_side`` and ``max_short_side`` (``sizes``) applied."""
    short_side, max_short_side = sizes
    if max_short_side is not None and min(height, width) > max_short_side:
        short_side = max_short_side if short_side is None else min(short_side, max_short_side)
    return short_side_size(height, width, short_side)


def _decode(capture, name, in_h, in_w, *, expected, max_frames, sizes, memory_limit):
    """Decode into one preallocated RGB array, resizing on the fly.

    Returns ``(frames, (height, width) in the file)``, or ``None`` if no frame decoded.
    """
    import cv2

    out_h, out_w = _output_size(in_h, in_w, sizes) if in_h and in_w else (0, 0)
    frame_bytes = out_h * out_w * 3
    if expected and frame_bytes and expected * frame_bytes > memory_limit:
        raise _memory_error(name, expected, False, out_h, out_w, memory_limit)
    frames = None
    n = 0
    while max_frames is None or n < max_frames:
        ok, bgr = capture.read()
        if not ok:
            break
        if frames is None:  # the decoder's real size can differ from the container's header
            source_size = bgr.shape[:2]
            out_h, out_w = _output_size(*source_size, sizes)
            frame_bytes = out_h * out_w * 3
            capacity = expected or max(1, min(256, memory_limit // frame_bytes))
            frames = np.empty((capacity, out_h, out_w, 3), np.uint8)
        if n == len(frames):  # the header's frame count was missing or too small
            if (n + 1) * frame_bytes > memory_limit:
                raise _memory_error(name, n, True, out_h, out_w, memory_limit)
            grown = min(2 * n, memory_limit // frame_bytes, max_frames or 2 * n)
            frames = np.concatenate([frames, np.empty((grown - n, out_h, out_w, 3), np.uint8)])
        if bgr.shape[:2] != (out_h, out_w):
            shrink = out_h < bgr.shape[0]
            bgr = cv2.resize(bgr, (out_w, out_h),
                             interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
        cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB, dst=frames[n])
        n += 1
    if frames is None:
        return None
    if n < len(frames):  # the header promised more frames: copy only if much was unused
        frames = frames[:n].copy() if len(frames) - n > n // 8 else frames[:n]
    return frames, (int(source_size[0]), int(source_size[1]))
