"""Run both streams over a video: per-frame scores, their alignment, fusion and video-level scores.

Alignment (the tutorial's): a video of ``T`` frames has ``T - 1`` flow frames and ``T - L``
motion stacks (``L = 10`` for the pretrained models). Motion stack ``i`` holds flow frames
``i .. i+L-1`` and is paired with RGB frame ``i``; fused row ``i`` fuses the two.

Video-level scoring, ``sampling=``

``"all"`` (the tutorial)
    every frame through the spatial stream (``T`` rows) and every stack through the motion stream
    (``T - L`` rows, the tutorial's off-by-one fixed); each stream's video score is the mean of
    its rows.
an integer ``N``, or ``"sampled"`` (``N = 19``, the authors' evaluation protocol)
    ``N`` evenly spaced stack starts, :func:`sample_starts`; each stream sees only the paired
    frames / stacks, and only the optical flow those stacks need is computed.

The fused video score is ``fuse_scores(spatial_video, motion_video)``: the streams are averaged
over time first, then fused (the authors' protocol).

Inputs are built ``batch_size`` at a time (:mod:`twostream_lab.batching`), so memory does not grow
with the video's length beyond its uint8 frames and flow.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from twostream_lab.batching import motion_batches, spatial_batches, stack_starts
from twostream_lab.fusion import fuse_scores, top_k_classes

if TYPE_CHECKING:
    from twostream_lab.video import Video

__all__ = [
    "DEFAULT_SAMPLES",
    "STREAMS",
    "Prediction",
    "predict_video",
    "sample_starts",
    "model_input_size",
    "parse_sampling",
    "parse_weights",
    "run_predict",
]

#: Samples per video in the authors' evaluation protocol (``sampling="sampled"``).
DEFAULT_SAMPLES = 19

#: Stream names accepted by :meth:`Prediction.top_k` and :meth:`Prediction.scores`.
STREAMS = ("spatial", "motion", "fused")

_STREAM_TITLES = {
    "spatial": "spatial stream (RGB frames)",
    "motion": "motion stream (optical flow)",
    "fused": "both streams",
}


def sample_starts(num_stacks: int, samples: int = DEFAULT_SAMPLES) -> np.ndarray:
    """``samples`` evenly spaced stack starts among ``0 .. num_stacks-1`` (first and last included).

    The starts are ``floor(linspace(0, num_stacks - 1, n) + 0.5)`` with
    ``n = min(samples, num_stacks)``: every stack when there are no more stacks than samples.

    Examples
    --------
    >>> sample_starts(240, 5).tolist()
    [0, 60, 120, 179, 239]
    >>> sample_starts(3, 19).tolist()
    [0, 1, 2]
    """
    if isinstance(samples, bool) or int(samples) != samples or samples < 1:
        raise ValueError(f"samples must be a positive integer, got {samples!r}")
    if num_stacks < 1:
        raise ValueError(f"num_stacks must be at least 1, got {num_stacks}")
    n = min(int(samples), int(num_stacks))
    return np.floor(np.linspace(0, num_stacks - 1, n) + 0.5).astype(np.int64)


def model_input_size(model) -> tuple[int, int, int]:
    """``(height, width, channels)`` of a single-input image model.

    Examples
    --------
    >>> import keras
    >>> model_input_size(keras.Sequential([keras.Input((32, 24, 20)), keras.layers.Flatten()]))
    (32, 24, 20)
    """
    shape = tuple(model.input_shape)
    if len(shape) != 4 or any(d is None for d in shape[1:]):
        raise ValueError(
            f"model {model.name!r} must take images of a fixed size (batch, height, width, "
            f"channels), its input shape is {shape}"
        )
    return int(shape[1]), int(shape[2]), int(shape[3])


def _num_classes(model) -> int:
    shape = tuple(model.output_shape)
    if len(shape) != 2:
        raise ValueError(
            f"model {model.name!r} must output one score vector (batch, classes), "
            f"its output shape is {shape}"
        )
    return int(shape[1])


@dataclass(frozen=True, eq=False)
class Prediction:
    """Both streams' scores for one video (returned by :func:`predict_video`).

    Attributes
    ----------
    spatial : float32 (Ns, C)
        Spatial-stream softmax per RGB frame ``spatial_indices`` (``Ns = T`` for ``"all"``).
    motion : float32 (Nm, C)
        Motion-stream softmax per stack starting at flow frame ``motion_indices``
        (``Nm = T - L`` for ``"all"``).
    fused : float32 (Nm, C)
        Row ``i`` fuses RGB frame ``motion_indices[i]`` with the stack starting there.
    spatial_video, motion_video, fused_video : float32 (C,)
        Video-level scores (means over rows; fused = fusion of the two means).
    spatial_indices, motion_indices : int arrays
        The video frame (= first flow frame of the stack) of each row.
    class_names : tuple of str
    video_name : str
    source : str
        The weights: ``"pretrained"``, ``"demo"`` or ``"local"``.
    sampling : "all" or int
    fusion, fusion_weights
        How ``fused`` was computed (:func:`twostream_lab.fusion.fuse_scores`).
    stacked_frames : int
        ``L``, flow frames per motion stack.
    num_frames : int
        ``T``, frames in the video.
    """

    spatial: np.ndarray
    motion: np.ndarray
    fused: np.ndarray
    spatial_video: np.ndarray
    motion_video: np.ndarray
    fused_video: np.ndarray
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

    @property
    def is_demo(self) -> bool:
        """True when the scores come from the synthetic demo models."""
        return self.source == "demo"

    @property
    def fused_indices(self) -> np.ndarray:
        """The video frame of each fused row (the same as :attr:`motion_indices`)."""
        return self.motion_indices

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


def _describe_indices(indices: np.ndarray) -> str:
    values = [int(i) for i in indices]
    if len(values) > 2 and values == list(range(values[0], values[-1] + 1)):
        return f"{values[0]}..{values[-1]}"
    return ", ".join(str(i) for i in values)


def _as_video(video):
    from twostream_lab.video import Video

    if isinstance(video, Video):
        return video
    if isinstance(video, np.ndarray):
        return Video.from_frames(video)
    raise TypeError(
        f"video must be a twostream_lab Video (read_video(...)) or a uint8 (T, H, W, 3) array, "
        f"got {type(video).__name__}"
    )


def _flow_for(video, flow, starts, stacked_frames, flow_method, progress):
    """The flow holding every needed stack (computed if None), and each stack's start row in it."""
    L = stacked_frames
    if flow is None:
        from twostream_lab.flow import compute_flow, stack_pairs

        if len(starts) == video.num_frames - L:  # every stack: the whole video's flow
            flow = compute_flow(video, method=flow_method, progress=progress)
        else:  # only the flow frames of the sampled stacks
            flow = compute_flow(
                video, method=flow_method, progress=progress, pairs=stack_pairs(starts, L)
            )
    offset = int(getattr(flow, "start", 0))
    u = np.asarray(flow.u)
    if offset + len(u) > video.num_frames - 1:
        raise ValueError(
            f"the flow has {len(u)} flow frames starting at {offset} but the video "
            f"{video.name!r} has {video.num_frames} frames ({video.num_frames - 1} flow "
            "frames); pass the flow computed from this video"
        )
    computed = getattr(flow, "computed", None)
    for s in starts:
        rows = np.arange(s, s + L) - offset
        if rows[0] < 0 or rows[-1] >= len(u) or (computed is not None and not computed[rows].all()):
            raise ValueError(
                f"the flow (flow frames {offset}..{offset + len(u) - 1}"
                f"{'' if computed is None else ', not all computed'}) does not cover the motion "
                f"stack starting at flow frame {s} ({L} flow frames); pass flow=None to compute "
                "what is needed, or the flow of the whole video"
            )
    return flow, np.asarray(starts) - offset


def _run(model, batches, total: int, desc: str, progress: bool) -> np.ndarray:
    from tqdm.auto import tqdm

    rows = []
    with tqdm(total=total, desc=desc, unit="frame", disable=not progress) as bar:
        for batch in batches:
            rows.append(np.asarray(model.predict_on_batch(batch), np.float32))
            bar.update(len(batch))
    return np.concatenate(rows)


def _check_sampling(sampling) -> str | int:
    if sampling == "all":
        return "all"
    if sampling == "sampled":
        return DEFAULT_SAMPLES
    if isinstance(sampling, (int, np.integer)) and not isinstance(sampling, bool) and sampling > 0:
        return int(sampling)
    raise ValueError(
        f"sampling must be 'all', 'sampled' ({DEFAULT_SAMPLES} samples) or a positive number "
        f"of samples, got {sampling!r}"
    )


def predict_video(
    video,
    models,
    *,
    flow=None,
    sampling: str | int = "all",
    batch_size: int = 8,
    flow_method: str = "tvl1",
    progress: bool = True,
    fusion: str = "average",
    fusion_weights: tuple[float, float] | None = None,
) -> Prediction:
    """Score a video with both streams, frame by frame, and fuse them.

    Parameters
    ----------
    video : Video or uint8 array (T, H, W, 3)
        From :func:`twostream_lab.read_video` (a bare array is named ``"clip"``).
    models : TwoStream
        Anything with ``.spatial`` and ``.motion`` Keras models, ``.class_names`` and ``.source``
        (:func:`twostream_lab.load_two_stream`). Input sizes, ``L`` (motion channels // 2) and
        the class count are read from the models.
    flow : Flow, optional
        The video's quantised flow (:func:`twostream_lab.compute_flow`). When omitted it is
        computed with ``flow_method``: for the whole video with ``sampling="all"``, only the
        frames the sampled stacks need otherwise.
    sampling : "all", "sampled" or int
        ``"all"`` frames (the tutorial), or ``N`` evenly spaced stacks (:func:`sample_starts`;
        ``"sampled"`` is 19, the authors' protocol).
    batch_size : int
        Frames (stacks) per forward pass; memory grows with it, not with the video's length.
    flow_method : str
        Optical flow method when ``flow`` is None (see ``twostream_lab.FLOW_METHODS``).
    progress : bool
        Show progress bars.
    fusion, fusion_weights
        Passed to :func:`twostream_lab.fusion.fuse_scores` as ``method`` and ``weights``.

    Returns
    -------
    Prediction

    Examples
    --------
    >>> models = load_two_stream("demo")                 # doctest: +SKIP
    >>> p = predict_video(read_video("clip.mp4"), models)  # doctest: +SKIP
    >>> p.top_k(5)                                       # doctest: +SKIP
    """
    video = _as_video(video)
    sampling = _check_sampling(sampling)
    fuse_scores(np.ones(1), np.ones(1), method=fusion, weights=fusion_weights)  # validate early
    h_s, w_s, c_s = model_input_size(models.spatial)
    h_m, w_m, c_m = model_input_size(models.motion)
    if c_s != 3:
        raise ValueError(f"the spatial model must take RGB images (3 channels), it takes {c_s}")
    if c_m % 2:
        raise ValueError(
            f"the motion model must take 2L channels (u then v flow frames), it takes {c_m}"
        )
    L = c_m // 2
    class_names = tuple(models.class_names)
    for model in (models.spatial, models.motion):
        if _num_classes(model) != len(class_names):
            raise ValueError(
                f"model {model.name!r} outputs {_num_classes(model)} classes but "
                f"{len(class_names)} class names were given; load matching models and names"
            )

    T = video.num_frames
    all_starts = stack_starts(T - 1, L)  # raises the clear error for a too-short video
    if sampling == "all":
        starts = all_starts
        frames = np.arange(T)
    else:
        starts = sample_starts(len(all_starts), sampling)
        frames = starts
    flow, local = _flow_for(video, flow, starts, L, flow_method, progress)

    spatial = _run(
        models.spatial,
        spatial_batches(video.frames, (h_s, w_s), indices=frames, batch_size=batch_size),
        len(frames), "spatial stream", progress,
    )
    motion = _run(
        models.motion,
        motion_batches(
            flow.u, flow.v, (h_m, w_m), starts=local, stacked_frames=L, batch_size=batch_size
        ),
        len(local), "motion stream", progress,
    )
    paired = spatial[np.searchsorted(frames, starts)]
    fused = fuse_scores(paired, motion, method=fusion, weights=fusion_weights)
    spatial_video = spatial.mean(axis=0)
    motion_video = motion.mean(axis=0)
    weights = None
    if fusion_weights is not None:
        a, b = (float(w) for w in fusion_weights)
        weights = (a, b)
    return Prediction(
        spatial=spatial,
        motion=motion,
        fused=fused,
        spatial_video=spatial_video,
        motion_video=motion_video,
        fused_video=fuse_scores(spatial_video, motion_video, method=fusion, weights=fusion_weights),
        spatial_indices=np.asarray(frames, np.int64),
        motion_indices=np.asarray(starts, np.int64),
        class_names=class_names,
        video_name=video.name,
        source=str(getattr(models, "source", "local")),
        sampling=sampling,
        fusion=fusion,
        fusion_weights=weights,
        stacked_frames=L,
        num_frames=T,
        flow_method=str(getattr(flow, "method", "")),
    )


def parse_weights(weights: str) -> str | tuple[str, str]:
    """The ``--weights`` option: ``"pretrained"``, ``"demo"`` or ``"SPATIAL.h5,MOTION.h5"``.

    Examples
    --------
    >>> parse_weights("s.h5,m.h5")
    ('s.h5', 'm.h5')
    """
    if weights in ("pretrained", "demo"):
        return weights
    parts = [p.strip() for p in str(weights).split(",")]
    if len(parts) != 2 or not all(parts):
        raise ValueError(
            f"--weights must be 'pretrained', 'demo' or 'SPATIAL.h5,MOTION.h5', got {weights!r}"
        )
    return parts[0], parts[1]


def parse_sampling(sampling: str | int) -> str | int:
    """The ``--sampling`` option: ``"all"``, ``"sampled"`` or a number of samples such as ``19``.

    Examples
    --------
    >>> parse_sampling("19"), parse_sampling("all")
    (19, 'all')
    """
    if isinstance(sampling, str) and sampling.strip().isdigit():
        sampling = int(sampling)
    return _check_sampling(sampling)


def run_predict(
    video: str | Path | Video,
    *,
    weights: str = "pretrained",
    flow_method: str = "tvl1",
    sampling: str | int = "all",
    out: str | Path | None = None,
    as_json: bool = False,
    batch_size: int = 8,
    progress: bool = True,
) -> str:
    """What ``twostream-lab predict VIDEO`` does; returns the text to print.

    Reads the video, loads the weights (:func:`parse_weights`), scores the video
    (:func:`predict_video`) and, with ``out``, writes the annotated demo video
    (:func:`twostream_lab.render.render_demo_video`; it then computes the whole video's flow and
    renders one frame per scored stack, so with sampling only the sampled frames). Returns the
    top-5 per stream and fused (:meth:`Prediction.summary`), or with ``as_json`` the JSON of
    :meth:`Prediction.to_dict` plus ``"video_out"``.

    Examples
    --------
    >>> print(run_predict("clip.mp4", weights="demo", out="demo.mp4"))  # doctest: +SKIP
    """
    from twostream_lab.pretrained import load_two_stream
    from twostream_lab.video import read_video

    source = parse_weights(weights)
    sampling = parse_sampling(sampling)
    clip = _as_video(video) if not isinstance(video, (str, Path)) else read_video(video)
    models = load_two_stream(source, progress=progress)
    flow = None
    if out is not None:
        from twostream_lab.flow import compute_flow

        flow = compute_flow(clip, method=flow_method, progress=progress)
    prediction = predict_video(
        clip, models, flow=flow, sampling=sampling, batch_size=batch_size,
        flow_method=flow_method, progress=progress,
    )
    written = None
    if out is not None:
        from twostream_lab.render import render_demo_video

        written = render_demo_video(clip, flow, prediction, out, progress=progress)
    if as_json:
        data = prediction.to_dict()
        data["video_out"] = None if written is None else str(written)
        return json.dumps(data, indent=2)
    text = prediction.summary()
    if written is not None:
        text += f"\n\nannotated video written to {written}"
    return text


def run_demo(
    out: str | Path = "demo.mp4",
    *,
    label: int | str | None = None,
    seed: int = 0,
    progress: bool = True,
) -> str:
    """What ``twostream-lab demo`` does, offline: the whole pipeline on a synthetic action clip.

    Makes a 32-frame clip of a synthetic class (``label``; by default one chosen by ``seed``),
    computes its TV-L1 flow, runs both streams of the shipped demo models
    (:func:`twostream_lab.demo_models.load_demo_models`), fuses them, and writes the annotated
    demo video to ``out``. Returns the text to print: the top-5 per stream and fused.

    Examples
    --------
    >>> print(run_demo("demo.mp4", label="red moving up-left"))  # doctest: +SKIP
    Prediction for synthetic_red_moving_up-left_seed0.mp4 ...
    """
    from twostream_lab.synthetic import SYNTHETIC_CLASSES, make_synthetic_clip

    if label is None:
        label = int(np.random.default_rng(seed).integers(len(SYNTHETIC_CLASSES)))
    clip = make_synthetic_clip(label, seed=seed, num_frames=32)
    return run_predict(clip, weights="demo", flow_method="tvl1", out=out, progress=progress)
