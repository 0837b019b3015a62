"""The result of :func:`~twostream_lab.predict.predict_video`: both streams' scores for a video.

:class:`Prediction` holds the per-row and video-level scores of the spatial, motion and fused
streams, with the frame each row belongs to, and reports them (``top_k``, ``summary``,
``to_dict``). See :mod:`twostream_lab.predict` for how the rows are aligned.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from twostream_lab.fusion import check_fusion, fuse_scores, top_k_classes

__all__ = ["STREAMS", "Prediction"]

#: Stream names accepted by :meth:`Prediction.top_k` and :meth:`Prediction.scores`.
STREAMS = ("spatial", "motion", "fused")

_STREAM_TITLES = {
    "spatial": "spatial stream (RGB frames)",
    "motion": "motion stream (optical flow)",
    "fused": "both streams",
}


@dataclass(frozen=True, eq=False)
class Prediction:
    """Both streams' scores for one video (returned by :func:`~twostream_lab.predict.predict_video`).

    Only what the models said is stored: each stream's rows and the video frame of each row.
    The fused rows and the video-level scores are derived from them (and ``fusion``) the first
    time they are asked for, so a Prediction can be built from scores alone.

    Attributes
    ----------
    spatial : float32 (Ns, C)
        Spatial-stream softmax per RGB frame ``spatial_indices`` (``Ns = T`` for ``"all"``).
    motion : float32 (Nm, C)
        Motion-stream softmax per stack starting at flow frame ``motion_indices``
        (``Nm = T - L`` for ``"all"``).
    spatial_indices, motion_indices : int arrays
        The video frame (= first flow frame of the stack) of each row; every motion frame is
        also a spatial one.
    class_names : tuple of str
    video_name : str
    source : str
        The weights: ``"pretrained"``, ``"demo"`` or ``"local"``.
    sampling : "all" or int
    fusion, fusion_weights
        How ``fused`` is computed (:func:`twostream_lab.fusion.fuse_scores`).
    stacked_frames : int
        ``L``, flow frames per motion stack.
    num_frames : int
        ``T``, frames in the video (decoded).
    flow_method : str
        The flow's method (``Flow.method``).
    fps : float, optional
        The video's frame rate.
    declared_frames : int, optional
        The frame count the video file declares (``Video.declared_frames``); clearly more than
        ``num_frames`` means a damaged or truncated file (:attr:`truncated`).
    max_frames : int, optional
        The ``max_frames`` the video was read with.
    frame_size, source_size, flow_size : (height, width), optional
        The frames scored, the frames in the file (before resizing while reading) and the flow.

    Examples
    --------
    >>> s = np.array([[0.9, 0.1], [0.6, 0.4]], np.float32); m = np.array([[0.2, 0.8]], np.float32)
    >>> p = Prediction(spatial=s, motion=m, spatial_indices=[0, 1], motion_indices=[1],
    ...                class_names=("a", "b"), video_name="clip.mp4", source="demo")
    >>> p.fused.tolist(), p.top_k(1, "spatial")
    ([[0.4000000059604645, 0.6000000238418579]], [('a', 0.75)])
    """

    spatial: np.ndarray
    motion: np.ndarray
    spatial_indices: np.ndarray
    motion_indices: np.ndarray
    class_names: tuple[str, ...]
    video_name: str
    source: str
    sampling: str | int = "all"
    fusion: str = "average"
    fusion_weights: tuple[float, float] | None = None
    stacked_frames: int = 10
    num_frames: int = 0
    flow_method: str = field(default="")
    fps: float | None = None
    declared_frames: int | None = None
    max_frames: int | None = None
    frame_size: tuple[int, int] | None = None
    source_size: tuple[int, int] | None = None
    flow_size: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        # frozen: the normalised values are set through object.__setattr__
        # bad fusion settings fail here, not at the first summary()
        check_fusion(self.fusion, self.fusion_weights)
        normalised = {
            "spatial": np.array(self.spatial, np.float32),
            "motion": np.array(self.motion, np.float32),
            "spatial_indices": _frame_indices(self.spatial_indices, "spatial_indices"),
            "motion_indices": _frame_indices(self.motion_indices, "motion_indices"),
            "class_names": tuple(self.class_names),
            "fusion_weights": None if self.fusion_weights is None
            else tuple(float(w) for w in self.fusion_weights),
        }
        for name, value in normalised.items():
            if isinstance(value, np.ndarray):
                value.flags.writeable = False  # the derived scores are computed once from them
            object.__setattr__(self, name, value)
        C = len(self.class_names)
        for stream, indices in (("spatial", self.spatial_indices),
                                ("motion", self.motion_indices)):
            rows = getattr(self, stream)
            if rows.ndim != 2 or rows.shape != (len(indices), C) or not len(indices):
                raise ValueError(
                    f"{stream} must have one row of {C} class scores per {stream}_indices entry "
                    f"({len(indices)}), and at least one; got shape {rows.shape}"
                )
        missing = np.setdiff1d(self.motion_indices, self.spatial_indices)
        if missing.size:
            raise ValueError(
                f"every motion row needs the spatial row of its frame to be fused; frames "
                f"{_describe_indices(missing)} have no spatial scores"
            )

    @cached_property
    def fused(self) -> np.ndarray:
        """float32 (Nm, C): row ``i`` fuses RGB frame ``motion_indices[i]`` with the stack
        starting there."""
        order = np.argsort(self.spatial_indices, kind="stable")
        rows = order[np.searchsorted(self.spatial_indices, self.motion_indices, sorter=order)]
        paired = self.spatial[rows]
        return fuse_scores(paired, self.motion, method=self.fusion, weights=self.fusion_weights)

    @cached_property
    def spatial_video(self) -> np.ndarray:
        """float32 (C,): the spatial stream's video score, the mean of its rows."""
        return self.spatial.mean(axis=0)

    @cached_property
    def motion_video(self) -> np.ndarray:
        """float32 (C,): the motion stream's video score, the mean of its rows."""
        return self.motion.mean(axis=0)

    @cached_property
    def fused_video(self) -> np.ndarray:
        """float32 (C,): the fusion of the two streams' video scores."""
        return fuse_scores(self.spatial_video, self.motion_video, method=self.fusion,
                           weights=self.fusion_weights)

    @property
    def is_demo(self) -> bool:
        """True when the scores come from the synthetic demo models."""
        return self.source == "demo"

    @property
    def fused_indices(self) -> np.ndarray:
        """The video frame of each fused row (the same as :attr:`motion_indices`)."""
        return self.motion_indices

    @property
    def expected_frames(self) -> int | None:
        """The frames the video should have had: ``declared_frames``, at most ``max_frames``."""
        from twostream_lab.video import expected_frame_count

        return expected_frame_count(self.declared_frames, self.max_frames)

    @property
    def truncated(self) -> bool:
        """Whether clearly fewer frames were decoded than the file declares (a damaged file)."""
        from twostream_lab.video import is_truncated

        return is_truncated(self.num_frames, self.declared_frames, self.max_frames)

    @property
    def shortened(self) -> bool:
        """Whether ``max_frames`` stopped the reading before the end of the video."""
        return (self.max_frames is not None and self.num_frames == self.max_frames
                and (self.declared_frames is None or self.declared_frames > self.max_frames))

    def warning_lines(self) -> list[str]:
        """The ``warning:`` lines of :meth:`summary`: a damaged or truncated video."""
        if not self.truncated:
            return []
        covers = ""
        if self.fps:
            covers = (f": the prediction covers {self.num_frames / self.fps:.1f} s, "
                      f"not {self.expected_frames / self.fps:.1f} s")
        return [f"warning: only {self.num_frames} of the {self.declared_frames} frames the file "
                f"declares could be decoded (damaged or truncated file){covers}"]

    def video_lines(self) -> list[str]:
        """The ``video:`` and ``flow:`` lines of :meth:`summary`: a shortened or resized video,
        flow at another size than the frames (none for a whole video used as it is)."""
        from twostream_lab.video import TRAINING_SHORT_SIDE

        def size(hw: tuple[int, int]) -> str:
            return f"{hw[1]}x{hw[0]}"

        def training(hw: tuple[int, int], what: str) -> str:
            return (f" (short side {TRAINING_SHORT_SIDE}, the size of the {what} the pretrained "
                    "models were trained on)" if min(hw) == TRAINING_SHORT_SIDE else "")

        lines = []
        if self.shortened:
            total = (f"of {self.declared_frames} frames" if self.declared_frames is not None
                     else "frames (the file does not declare how many it has)")
            lines.append(f"video: the first {self.num_frames} {total} "
                         f"(max_frames={self.max_frames})")
        if self.frame_size and self.source_size and self.frame_size != self.source_size:
            lines.append(f"video: read at {size(self.frame_size)} from the file's "
                         f"{size(self.source_size)}{training(self.frame_size, 'frames')}")
        if self.frame_size and self.flow_size and self.flow_size != self.frame_size:
            lines.append(f"flow: at {size(self.flow_size)}, from the {size(self.frame_size)} "
                         f"frames{training(self.flow_size, 'flow')}")
        return lines

    def _check_stream(self, stream: str) -> None:
        if stream not in STREAMS:
            raise ValueError(f"unknown stream {stream!r}; choose one of {STREAMS}")

    def scores(self, stream: str = "fused", frame: int | None = None) -> np.ndarray:
        """Video-level scores ``(C,)`` of a stream, or its row for video frame ``frame``.

        Examples
        --------
        >>> p = predict_video(video, models)       # doctest: +SKIP
        >>> p.scores("motion", frame=0).shape      # doctest: +SKIP
        (101,)
        """
        self._check_stream(stream)
        if frame is None:
            return getattr(self, f"{stream}_video")
        indices = self.spatial_indices if stream == "spatial" else self.motion_indices
        rows = np.flatnonzero(indices == frame)
        if rows.size == 0:
            raise ValueError(
                f"the {stream} stream has no scores for frame {frame}; it has frames "
                f"{_describe_indices(indices)}"
            )
        return getattr(self, stream)[rows[0]]

    def top_k(
        self, k: int = 5, stream: str = "fused", frame: int | None = None
    ) -> list[tuple[str, float]]:
        """The ``k`` best ``(class name, score)`` pairs of a stream, video-level or one frame.

        Ties go to the lower class index.

        Examples
        --------
        >>> name, score = predict_video(video, models).top_k(1, "spatial")[0]  # doctest: +SKIP
        """
        return top_k_classes(self.scores(stream, frame), self.class_names, k)

    def weights_description(self) -> str:
        """One line saying which weights produced the scores."""
        if self.is_demo:
            return (
                "weights: demo. These predictions come from the synthetic demo models (tiny "
                f"models trained on synthetic clips, classes: {', '.join(self.class_names)}), "
                "not from the pretrained UCF101 models."
            )
        if self.source == "pretrained":
            return (
                "weights: pretrained two-stream Xception models "
                f"(UCF101, {len(self.class_names)} classes)"
            )
        if self.source == "local":
            return f"weights: local .h5 files ({len(self.class_names)} classes)"
        return f"weights: {self.source} ({len(self.class_names)} classes)"

    def scoring_description(self) -> str:
        """One line saying how the video-level scores were computed."""
        fusion = self.fusion if self.fusion_weights is None else (
            f"{self.fusion} {self.fusion_weights[0]:g}:{self.fusion_weights[1]:g}"
        )
        if self.sampling == "all":
            how = (
                f"all frames ({len(self.spatial)} RGB frames, {len(self.motion)} flow stacks of "
                f"{self.stacked_frames})"
            )
        else:
            how = (
                f"{len(self.motion)} evenly spaced samples (frames "
                f"{_describe_indices(self.motion_indices)})"
            )
        return f"scoring: {how}; fusion: {fusion}"

    def summary(self, k: int = 5) -> str:
        """The text the ``predict`` command prints: title, weights, and the top-k per stream.

        Examples
        --------
        >>> print(predict_video(video, models).summary(k=1))  # doctest: +SKIP
        Prediction for abseiling_k400.mp4
        weights: pretrained two-stream Xception models (UCF101, 101 classes)
        scoring: all frames (250 RGB frames, 240 flow stacks of 10); fusion: average
        <BLANKLINE>
        spatial stream (RGB frames), top-1:
        ...
        """
        width = max(len(name) for name in self.class_names)
        lines = [
            f"Prediction for {self.video_name}",
            self.weights_description(),
            self.scoring_description(),
            *self.warning_lines(),
            *self.video_lines(),
            "",
        ]
        for stream in STREAMS:
            title = _STREAM_TITLES[stream]
            if stream == "fused":
                title = f"{title} ({self.fusion})"
            lines.append(f"{title}, top-{min(k, len(self.class_names))}:")
            for rank, (name, score) in enumerate(self.top_k(k, stream), start=1):
                lines.append(f"  {rank:>2}. {name:<{width}}  {score:.3f}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def to_dict(self, k: int = 5) -> dict[str, Any]:
        """A JSON-ready summary: the video-level scores of every class and the top-k per stream.

        Examples
        --------
        >>> json.dumps(predict_video(video, models).to_dict())  # doctest: +SKIP
        """
        return {
            "title": f"Prediction for {self.video_name}",
            "video": self.video_name,
            "weights": self.source,
            "demo": self.is_demo,
            "num_frames": int(self.num_frames),
            "stacked_frames": int(self.stacked_frames),
            "sampling": self.sampling,
            "flow_method": self.flow_method,
            "fps": self.fps,
            "declared_frames": self.declared_frames,
            "max_frames": self.max_frames,
            "truncated": self.truncated,
            "shortened": self.shortened,
            "frame_size": _size_dict(self.frame_size),
            "source_size": _size_dict(self.source_size),
            "flow_size": _size_dict(self.flow_size),
            "warnings": self.warning_lines(),
            "notes": self.video_lines(),
            "fusion": {"method": self.fusion, "weights": self.fusion_weights},
            "frames": {
                "spatial": self.spatial_indices.tolist(),
                "motion": self.motion_indices.tolist(),
            },
            "top_k": {
                stream: [{"class": n, "score": s} for n, s in self.top_k(k, stream)]
                for stream in STREAMS
            },
            "scores": {
                stream: dict(zip(self.class_names, self.scores(stream).tolist(), strict=True))
                for stream in STREAMS
            },
        }


def _frame_indices(indices, name: str) -> np.ndarray:
    array = np.array(indices)
    if array.ndim != 1 or not (array.size == 0 or np.issubdtype(array.dtype, np.integer)):
        raise ValueError(f"{name} must be a list of whole frame numbers, got {indices!r}")
    return array.astype(np.int64)


def _size_dict(size: tuple[int, int] | None) -> dict[str, int] | None:
    return None if size is None else {"height": int(size[0]), "width": int(size[1])}


def _describe_indices(indices: np.ndarray) -> str:
    values = [int(i) for i in indices]
    if len(values) > 2 and values == list(range(values[0], values[-1] + 1)):
        return f"{values[0]}..{values[-1]}"
    return ", ".join(str(i) for i in values)
