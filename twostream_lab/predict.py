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

Memory and size: the flow that :func:`predict_video` computes is at the training flow's size,
short side 256 (:data:`twostream_lab.video.TRAINING_SHORT_SIDE`), for frames larger than that, and
a video whose frames plus that flow would take more than ``memory_limit``
(:data:`PREDICT_MEMORY_LIMIT`, 1 GiB) is refused before any flow is computed, with the
``read_video`` call that fits. With the models (about 1.1 GiB for the pretrained Xception pair on
a CPU) the whole prediction then stays under 2.5 GiB.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from twostream_lab.batching import motion_batches, spatial_batches, stack_starts
from twostream_lab.checks import optional_positive_int, positive_int
from twostream_lab.flow.types import Flow
from twostream_lab.fusion import check_fusion
from twostream_lab.prediction import STREAMS, Prediction
from twostream_lab.video import TRAINING_SHORT_SIDE

if TYPE_CHECKING:
    from twostream_lab.video import Video

__all__ = [
    "DEFAULT_SAMPLES",
    "PREDICT_MEMORY_LIMIT",
    "STREAMS",
    "Prediction",
    "predict_video",
    "sample_starts",
    "model_input_size",
    "as_video",
    "check_sampling",
    "parse_sampling",
    "read_for_prediction",
]

#: Samples per video in the authors' evaluation protocol (``sampling="sampled"``).
DEFAULT_SAMPLES = 19

#: Largest frames plus optical flow (bytes) :func:`predict_video` works on by default.
PREDICT_MEMORY_LIMIT = 2**30


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
    samples = positive_int(samples, "samples")
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


def as_video(video):
    """``video`` as a :class:`~twostream_lab.video.Video`: a Video as it is, frames wrapped."""
    from twostream_lab.video import Video

    if isinstance(video, Video):
        return video
    if isinstance(video, np.ndarray):
        return Video.from_frames(video)
    raise TypeError(
        f"video must be a twostream_lab Video (read_video(...)) or a uint8 (T, H, W, 3) array, "
        f"got {type(video).__name__}"
    )


def _flow_short_side(video, flow_short_side: int | None) -> int | None:
    """The ``short_side`` to compute the flow at: ``flow_short_side`` if the frames are larger."""
    optional_positive_int(flow_short_side, "flow_short_side", unit="pixels")
    if flow_short_side is None or min(video.height, video.width) <= flow_short_side:
        return None
    return int(flow_short_side)


def _check_memory(video, starts, stacked_frames: int, short_side: int | None,
                  memory_limit: int) -> None:
    """Refuse a video whose frames and the flow to compute would take over ``memory_limit``."""
    from twostream_lab.video import VideoError, _format_bytes, short_side_size

    L = stacked_frames
    flow_rows = video.num_frames - 1 if len(starts) == video.num_frames - L else (
        int(starts[-1]) + L - int(starts[0]))
    flow_h, flow_w = short_side_size(video.height, video.width, short_side)
    frame_bytes, flow_bytes = video.frames.nbytes, 2 * flow_rows * flow_h * flow_w
    if frame_bytes + flow_bytes <= memory_limit:
        return
    if min(video.height, video.width) > TRAINING_SHORT_SIDE:
        small_h, small_w = short_side_size(video.height, video.width, TRAINING_SHORT_SIDE)
        fit = memory_limit // (5 * small_h * small_w)  # 3 bytes of RGB + 2 of flow per pixel
        more = f", max_frames={fit}" if fit < video.num_frames else ""
        more_cli = f" --max-frames {fit}" if fit < video.num_frames else ""
        fix = (f"Read it at the size the pretrained models were trained on, "
               f"read_video(path, max_short_side={TRAINING_SHORT_SIDE}{more}) "
               f"({small_w}x{small_h}; on the command line --short-side {TRAINING_SHORT_SIDE}"
               f"{more_cli})")
    else:
        fit = memory_limit // (3 * video.height * video.width + 2 * flow_h * flow_w)
        fix = (f"Predict on its first {fit} frames: read_video(path, max_frames={fit}) (on the "
               f"command line --max-frames {fit})")
    raise VideoError(
        f"{video.name}: predicting on {video.num_frames} frames of {video.width}x{video.height} "
        f"needs {_format_bytes(frame_bytes + flow_bytes)} ({_format_bytes(frame_bytes)} of "
        f"frames, {_format_bytes(flow_bytes)} of optical flow at {flow_w}x{flow_h}), over the "
        f"limit of {_format_bytes(memory_limit)}. {fix}; or pass a larger memory_limit= if this "
        "machine has the memory (the models need about 1.1 GiB more)."
    )


def _flow_for(video, flow, starts, stacked_frames, flow_method, progress, short_side):
    """The flow holding every needed stack (computed if None), and each stack's start row in it."""
    L = stacked_frames
    if flow is None:
        from twostream_lab.flow import compute_flow, stack_pairs

        if len(starts) == video.num_frames - L:  # every stack: the whole video's flow
            flow = compute_flow(video, method=flow_method, progress=progress,
                                short_side=short_side)
        else:  # only the flow frames of the sampled stacks
            flow = compute_flow(video, method=flow_method, progress=progress,
                                pairs=stack_pairs(starts, L), short_side=short_side)
    if not isinstance(flow, Flow):
        raise TypeError(f"flow must be the Flow that compute_flow returns, got "
                         f"{type(flow).__name__}; pass flow=None to compute it")
    offset = flow.start
    u = flow.u
    if offset + len(u) > video.num_frames - 1:
        raise ValueError(
            f"the flow has {len(u)} flow frames starting at {offset} but the video "
            f"{video.name!r} has {video.num_frames} frames ({video.num_frames - 1} flow "
            "frames); pass the flow computed from this video"
        )
    computed = flow.computed
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
    from twostream_lab.progress import progress_bar

    rows = []
    with progress_bar(total=total, desc=desc, unit="frame", enabled=progress) as bar:
        for batch in batches:
            rows.append(np.asarray(model.predict_on_batch(batch), np.float32))
            bar.update(len(batch))
    return np.concatenate(rows)


def parse_sampling(sampling: str | int) -> str | int:
    """Sampling as a user writes it (the ``--sampling`` option): ``"all"``, ``"sampled"`` or a number of samples such as ``19``.

    Examples
    --------
    >>> parse_sampling("19"), parse_sampling("all")
    (19, 'all')
    """
    if isinstance(sampling, str) and sampling.strip().isdigit():
        sampling = int(sampling)
    return check_sampling(sampling)


def check_sampling(sampling) -> str | int:
    """``sampling`` as :func:`predict_video` uses it: ``"all"`` or a number of samples."""
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
    flow_short_side: int | None = TRAINING_SHORT_SIDE,
    memory_limit: int = PREDICT_MEMORY_LIMIT,
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
    flow_short_side : int, optional
        When ``flow`` is None and the frames' shorter side is longer than this, the flow is
        computed on frames shrunk to this short side: 256 (the default) is the size of the flow
        the pretrained motion stream was trained on, and 455x256 instead of 1920x1080 takes
        1/32 of the memory and time. ``None`` computes it at the frames' size.
        ``Prediction.flow_size`` records the size used.
    memory_limit : int
        Refuse, before computing any flow, a video whose frames plus the flow to compute
        would take more bytes than this; the message names the ``read_video`` call that fits
        (``max_short_side=256``, ``max_frames=``).

    Returns
    -------
    Prediction
        With the video's facts (``declared_frames``, ``max_frames``, sizes) for
        :meth:`Prediction.summary`, which says when the video was damaged, shortened or resized.

    Raises
    ------
    VideoError
        The video is too large for ``memory_limit``.

    Examples
    --------
    >>> models = load_two_stream("demo")                 # doctest: +SKIP
    >>> p = predict_video(read_video("clip.mp4"), models)  # doctest: +SKIP
    >>> p.top_k(5)                                       # doctest: +SKIP
    """
    video = as_video(video)
    sampling = check_sampling(sampling)
    check_fusion(fusion, fusion_weights)  # before any flow is computed
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
    short_side = _flow_short_side(video, flow_short_side)
    if flow is None:
        _check_memory(video, starts, L, short_side, memory_limit)
    flow, local = _flow_for(video, flow, starts, L, flow_method, progress, short_side)

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
    return Prediction(
        spatial=spatial,
        motion=motion,
        spatial_indices=frames,
        motion_indices=starts,
        class_names=class_names,
        video_name=video.name,
        source=str(models.source),
        sampling=sampling,
        fusion=fusion,
        fusion_weights=fusion_weights,
        stacked_frames=L,
        num_frames=T,
        flow_method=flow.method,
        fps=float(video.fps),
        declared_frames=video.declared_frames,
        max_frames=video.max_frames,
        frame_size=(video.height, video.width),
        source_size=video.source_size,
        flow_size=tuple(int(n) for n in np.shape(flow.u)[1:3]),
    )


def read_for_prediction(
    source: str | Path,
    *,
    max_frames: int | None = None,
    short_side: int | None = None,
    memory_limit: int = PREDICT_MEMORY_LIMIT,
) -> Video:
    """Read a video as :func:`predict_video` (and ``twostream-lab predict``) wants it.

    A video larger than the training size is read at short side 256
    (``read_video(..., max_short_side=TRAINING_SHORT_SIDE)``; ``short_side``, when given, is
    used instead), and one whose frames would take more than 3/5 of ``memory_limit`` is refused
    from its header, before decoding: at that size its flow takes 2/3 of its frames, so frames and
    flow then fit ``memory_limit``. ``Prediction.summary()`` says when the video was resized.
    """
    from twostream_lab.video import read_video

    return read_video(
        source, max_frames=max_frames, short_side=short_side,
        max_short_side=TRAINING_SHORT_SIDE if short_side is None else None,
        memory_limit=memory_limit * 3 // 5,
    )


