"""What each ``twostream-lab`` command does, as functions that return the text to print.

:mod:`twostream_lab.cli` parses the command line, checks the arguments and turns user errors
into one-line messages; these functions do the work with the library's public API:
``doctor`` (:func:`doctor_report`), ``flow`` (:func:`flow_command`), ``predict``
(:func:`run_predict`), ``demo`` (:func:`run_demo`), ``train-demo`` (:func:`run_train_demo`) and
``evaluate`` (:func:`run_evaluate`).
"""

from __future__ import annotations

import importlib
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

from twostream_lab import __version__
from twostream_lab.checks import positive_int
from twostream_lab.video import Video

__all__ = ["doctor_report", "flow_command", "parse_weights", "run_demo",
           "run_evaluate", "run_predict", "run_train_demo"]


def _version(module: str) -> str:
    try:
        return getattr(importlib.import_module(module), "__version__", "?")
    except Exception as error:  # a broken install is exactly what doctor must report
        return f"not importable ({type(error).__name__}: {error})"


def doctor_report() -> str:
    """Return a plain-text report of the environment the lab runs in."""
    from twostream_lab.data import paths
    from twostream_lab.data import samples
    from twostream_lab.flow import OPTFLOW_FIX, has_optflow

    lines = [
        f"twostream-lab {__version__}",
        f"Python       {platform.python_version()} ({sys.executable})",
        f"numpy        {_version('numpy')}",
        f"OpenCV       {_version('cv2')}",
        f"matplotlib   {_version('matplotlib')}",
        f"TensorFlow   {_version('tensorflow')}",
        f"Keras        {_version('keras')}",
    ]
    if has_optflow():
        lines.append("cv2.optflow  present (TV-L1 available)")
    else:
        lines.append(f"cv2.optflow  MISSING: TV-L1 needs opencv-contrib-python. Fix:\n  {OPTFLOW_FIX}")
    try:
        import tensorflow as tf

        gpus = [d.name for d in tf.config.list_physical_devices("GPU")]
        lines.append(f"GPU          {', '.join(gpus) if gpus else 'none (TensorFlow runs on the CPU)'}")
    except Exception as error:
        lines.append(f"GPU          unknown: TensorFlow is not importable ({error})")
    lines.append(f"cache folder {paths.cache_dir(create=False)}  (${paths.CACHE_ENV})")
    lines.append(f"data folder  {paths.data_dir()}  (${paths.DATA_ENV})")
    found = samples.available_samples()
    lines.append(
        f"sample videos {len(found)} found"
        + ("" if found else " (run `twostream-lab samples` to download them)")
    )
    try:
        from twostream_lab.weights.pretrained import cached_pretrained_files, weights_source

        lines.append(f"weights from {weights_source()}")
        cached = cached_pretrained_files()
        lines.append(
            "pretrained   "
            + (", ".join(str(p) for p in cached) if cached else "not downloaded yet (Colab: load_two_stream())")
        )
    except ImportError as error:
        lines.append(
            f"pretrained   unknown: Keras cannot load ({error}); "
            'install TensorFlow, e.g. pip install "twostream-lab[cpu]"'
        )
    return "\n".join(lines)


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


def run_predict(
    video: str | Path | Video,
    *,
    weights: str = "pretrained",
    flow_method: str = "tvl1",
    sampling: str | int = "all",
    out: str | Path | None = None,
    as_json: bool = False,
    batch_size: int = 8,
    short_side: int | None = None,
    max_frames: int | None = None,
    progress: bool = True,
) -> str:
    """What ``twostream-lab predict VIDEO`` does; returns the text to print.

    Checks the options first, then reads the video (``short_side`` and ``max_frames`` are passed
    to :func:`twostream_lab.read_video`; a ``Video`` is used as it is), loads the weights
    (:func:`parse_weights`), scores the video (:func:`predict_video`) and, with ``out``, writes
    the annotated demo video
    (:func:`twostream_lab.pictures.render.render_demo_video`; it then computes the whole video's flow and
    renders one frame per scored stack, so with sampling only the sampled frames). Returns the
    top-5 per stream and fused (:meth:`Prediction.summary`), or with ``as_json`` the JSON of
    :meth:`Prediction.to_dict` plus ``"video_out"``.

    Examples
    --------
    >>> print(run_predict("clip.mp4", weights="demo", out="demo.mp4"))  # doctest: +SKIP
    """
    from twostream_lab.predict import as_video, parse_sampling, predict_video, read_for_prediction

    source = parse_weights(weights)
    sampling = parse_sampling(sampling)
    positive_int(batch_size, "batch_size")
    if out is not None and Path(out).suffix.lower() != ".mp4":
        raise ValueError(f"the annotated video must be an .mp4 file, got {str(out)!r}")
    if isinstance(video, (str, Path)):
        clip = read_for_prediction(video, short_side=short_side, max_frames=max_frames)
    elif short_side is not None or max_frames is not None:
        raise ValueError(
            "short_side and max_frames apply when reading a video file, and a Video is used as "
            "it is: read it with read_video(path, short_side=..., max_frames=...) instead"
        )
    else:
        clip = as_video(video)

    from twostream_lab.models.two_stream import WeightsChoice, load_two_stream  # TensorFlow: last

    # the command line's choice is explicit: $TWOSTREAM_LAB_WEIGHTS (for notebooks) does not apply
    models = load_two_stream(WeightsChoice(source, "chosen with --weights"), progress=progress)
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
        from twostream_lab.pictures.render import render_demo_video

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
    (:func:`twostream_lab.models.demo.load_demo_models`), fuses them, and writes the annotated
    demo video to ``out``. Returns the text to print: the top-5 per stream and fused.

    Examples
    --------
    >>> print(run_demo("demo.mp4", label="red moving up-left"))  # doctest: +SKIP
    Prediction for synthetic_red_moving_up-left_seed0.mp4 ...
    """
    from twostream_lab.offline_lab.synthetic import SYNTHETIC_CLASSES, make_synthetic_clip

    if label is None:
        label = int(np.random.default_rng(seed).integers(len(SYNTHETIC_CLASSES)))
    clip = make_synthetic_clip(label, seed=seed, num_frames=32)
    return run_predict(clip, weights="demo", flow_method="tvl1", out=out, progress=progress)


def flow_command(
    video: str | os.PathLike,
    out: str | os.PathLike,
    *,
    method: str = "tvl1",
    workers: int | None = None,
    cache: bool | str | os.PathLike = True,
    bound: float = 20,
    short_side: int | None = None,
    max_frames: int | None = None,
    progress: bool = True,
) -> str:
    """``twostream-lab flow VIDEO --out FLOW.npz``: read, compute, save; return what to print.

    ``short_side`` and ``max_frames`` are passed to :func:`twostream_lab.read_video`: frames are
    resized while decoding, which gives the same flow as ``compute_flow(short_side=...)`` and
    reads, in less memory, videos too large at their full size.

    Examples
    --------
    >>> print(flow_command("clip.avi", "clip_flow.npz", method="dis"))  # doctest: +SKIP
    Wrote clip_flow.npz: 159 flow frames (u and v, uint8) of 320x240 from clip.avi ...
    """
    from twostream_lab.flow import compute_flow, save_flow
    from twostream_lab.video import read_video

    began = time.perf_counter()
    clip = read_video(video, short_side=short_side, max_frames=max_frames)
    flow = compute_flow(clip, method=method, bound=bound, workers=workers, cache=cache,
                        progress=progress)
    path = save_flow(out, flow)
    return (f"Wrote {path}: {flow.num_frames} flow frames (u and v, uint8) of "
            f"{flow.width}x{flow.height} from {clip.name} ({clip.num_frames} frames); "
            f"method {flow.method}, bound {flow.bound:g}, {time.perf_counter() - began:.1f} s")


def run_train_demo(
    *, out_dir: str | Path | None = None, seed: int = 0, progress: bool = True
) -> str:
    """What ``twostream-lab train-demo`` does: train, save, and return the text to print.

    Trains with :func:`train_demo_models` (default folder ``<cache>/demo-models``; the shipped
    weights are ``out_dir=twostream_lab.models.demo.WEIGHTS_DIR``) and returns :func:`format_demo_metrics` plus where the
    files went and how to use them.

    Examples
    --------
    >>> print(run_train_demo(out_dir="demo-models"))  # doctest: +SKIP
    """
    from twostream_lab.offline_lab.training import (format_demo_metrics, output_folder,
                                                    train_demo_models)

    folder = output_folder(out_dir)
    metrics = train_demo_models(seed=seed, out_dir=folder, progress=progress)
    return (
        f"{format_demo_metrics(metrics)}\n\n"
        f"trained in {metrics['seconds']:.0f} s; weights and metrics written to {folder}\n"
        f"use them with load_demo_models({str(folder)!r})"
    )


def run_evaluate(
    videos: str,
    *,
    weights: str = "pretrained",
    flow: str = "tvl1",
    sampling: str | int = "all",
    out: str | os.PathLike,
    workers: int | None = None,
    scheduler: str | None = None,
    root: str | os.PathLike | None = None,
    compare_flow: str | None = None,
    batch_size: int = 8,
    retry_failed: bool = False,
    progress: bool = True,
) -> str:
    """What ``twostream-lab evaluate VIDEOS`` does; returns the text to print.

    ``weights`` is the ``--weights`` option (``pretrained``, ``demo`` or
    ``SPATIAL.h5,MOTION.h5``) and ``compare_flow`` the ``--compare-flow`` one (``tvl1,dis``);
    everything else is passed to
    :func:`~twostream_lab.evaluation.dataset.evaluate_videos`.

    Examples
    --------
    >>> print(run_evaluate("clips/", weights="demo", flow="dis", out="results"))  # doctest: +SKIP
    """
    from twostream_lab.evaluation.dataset import evaluate_videos

    methods = None if compare_flow is None else [m.strip() for m in compare_flow.split(",")]
    return evaluate_videos(videos, parse_weights(weights), flow=flow, sampling=sampling,
                           scheduler=scheduler, out=out, workers=workers, root=root,
                           compare_flow=methods, batch_size=batch_size, retry_failed=retry_failed,
                           progress=progress).text
