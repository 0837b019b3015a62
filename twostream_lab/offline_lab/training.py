"""Training and evaluating the demo models (:mod:`twostream_lab.models.demo`) on synthetic clips.

The demo models take 48 x 48 inputs (one RGB frame; a stack of 10 flow frames, ``u0..u9 v0..v9``)
and score the eight :data:`~twostream_lab.offline_lab.synthetic.SYNTHETIC_CLASSES`. Their weights ship in
``twostream_lab/weights/`` (:func:`load_demo_models`) and :func:`train_demo_models` rebuilds them
reproducibly: synthetic clips (:func:`~twostream_lab.offline_lab.synthetic.make_synthetic_dataset`), TV-L1
flow (:func:`~twostream_lab.flow.compute_flow`) and exactly the inputs the prediction pipeline
feeds (:mod:`twostream_lab.batching`). The held-out accuracies (:func:`evaluate_demo_models`,
via :func:`~twostream_lab.predict.predict_video`) show the two-stream idea: the spatial stream
sees the colour but not the direction (about 25 %), the motion stream the direction but not the
colour (about 50 %), and their average both (close to 100 %).
"""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import keras
import numpy as np

from twostream_lab.batching import STACKED_FRAMES, prepare_frames, prepare_stacks, stack_starts
from twostream_lab.models.demo import (
    METRICS_FILE,
    MOTION_WEIGHTS,
    SPATIAL_WEIGHTS,
    build_demo_motion_model,
    build_demo_pair,
    build_demo_spatial_model,
    load_demo_models,
)
from twostream_lab.offline_lab.synthetic import (
    DEFAULT_NUM_FRAMES,
    DEFAULT_SIZE,
    MOTION_CHANCE,
    SPATIAL_CHANCE,
    SYNTHETIC_CLASSES,
    class_color,
    class_direction,
    make_synthetic_dataset,
)

__all__ = [
    "evaluate_demo_models",
    "train_demo_models",
    "format_demo_metrics",
]

def _flows(videos: Sequence, method: str, workers: int | None, progress: bool, desc: str) -> list:
    """The clips' flow, through the flow cache: it is keyed by the grey frames, which the red
    and blue clips of a direction share, so half of a dataset's flow is computed and a second
    run computes none."""
    from twostream_lab.flow import compute_flow
    from twostream_lab.progress import progress_bar

    return [
        compute_flow(video, method=method, workers=workers, progress=False)
        for video in progress_bar(videos, desc=desc, unit="clip", enabled=progress)
    ]


def evaluate_demo_models(
    models: tuple[keras.Model, keras.Model] | None = None,
    *,
    clips: int = 64,
    seed: int = 1,
    num_frames: int = DEFAULT_NUM_FRAMES,
    flow_method: str = "tvl1",
    workers: int | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """Video-level accuracy of each stream and of their fusion on fresh synthetic clips.

    Every clip goes through :func:`twostream_lab.predict.predict_video` (all frames, all
    stacks, average fusion), exactly as a student's video would.

    Parameters
    ----------
    models : (spatial, motion), optional
        Default: :func:`load_demo_models`.
    clips, seed, num_frames
        The held-out set, ``make_synthetic_dataset(clips, seed=seed, size=<model input size>,
        num_frames=num_frames)``; use a seed the models were not trained on (training uses 0).
    flow_method, workers
        Passed to :func:`twostream_lab.flow.compute_flow`.
    progress : bool
        Show a progress bar over the clips.

    Returns
    -------
    dict
        ``accuracy`` (``spatial``, ``motion``, ``fused``), ``expected`` (the chance levels the
        class design predicts), ``spatial_color_accuracy`` (did the spatial stream pick the
        right colour), ``motion_direction_accuracy`` (did the motion stream pick the right
        direction), and ``eval`` (``clips``, ``seed``).

    Examples
    --------
    >>> evaluate_demo_models(clips=16, seed=2)["accuracy"]  # doctest: +SKIP
    {'spatial': 0.25, 'motion': 0.5, 'fused': 1.0}
    """
    from twostream_lab.predict import model_input_size, predict_video
    from twostream_lab.models.two_stream import TwoStream

    spatial, motion = load_demo_models() if models is None else models
    size = model_input_size(spatial)[:2]
    videos, labels = make_synthetic_dataset(clips, seed=seed, size=size, num_frames=num_frames)
    pair = TwoStream(spatial, motion, SYNTHETIC_CLASSES, "demo")
    flows = _flows(videos, flow_method, workers, progress, "held-out flow")
    picked = {"spatial": [], "motion": [], "fused": []}
    for video, flow in zip(videos, flows, strict=True):
        p = predict_video(video, pair, flow=flow, batch_size=64, progress=False)
        for stream in picked:
            picked[stream].append(int(np.argmax(p.scores(stream))))
    accuracy = {s: float(np.mean(np.array(picked[s]) == labels)) for s in picked}
    return {
        "accuracy": accuracy,
        "expected": {"spatial": SPATIAL_CHANCE, "motion": MOTION_CHANCE, "fused": 1.0},
        "spatial_color_accuracy": float(np.mean(
            [class_color(int(a)) == class_color(int(b)) for a, b in zip(picked["spatial"], labels)]
        )),
        "motion_direction_accuracy": float(np.mean(
            [class_direction(int(a)) == class_direction(int(b))
             for a, b in zip(picked["motion"], labels)]
        )),
        "eval": {"clips": int(clips), "seed": int(seed), "num_frames": int(num_frames)},
    }


def _spatial_inputs(videos: Sequence, labels: np.ndarray, size, frames_per_clip: int):
    """``frames_per_clip`` evenly spaced frames of each clip (first and last included)."""
    xs = []
    for video in videos:
        picked = np.unique(np.rint(np.linspace(0, video.num_frames - 1, frames_per_clip)))
        xs.append(prepare_frames(video.frames[picked.astype(np.int64)], size))
    y = np.repeat(labels, [len(x) for x in xs])
    return np.concatenate(xs), y


def _motion_inputs(flows: Sequence, labels: np.ndarray, size, stacked_frames: int):
    xs, ys = [], []
    for flow, label in zip(flows, labels, strict=True):
        starts = stack_starts(len(flow.u), stacked_frames)
        xs.append(prepare_stacks(flow.u, flow.v, starts, size, stacked_frames))
        ys.append(np.full(len(starts), label))
    return np.concatenate(xs), np.concatenate(ys)


def _set_data_norm(model: keras.Model, x: np.ndarray) -> None:
    """Fix ``data_norm`` to the training inputs' per-channel mean and variance, then freeze it.

    Learning them as moving averages during a few hundred steps would leave them far from the
    data (they start at mean 0, variance 1; flow stacks have a variance of about 0.0002).
    """
    layer = model.get_layer("data_norm")
    mean = np.mean(x, axis=(0, 1, 2), dtype=np.float64)
    var = np.mean((x - mean.astype(np.float32)) ** 2, axis=(0, 1, 2), dtype=np.float64)
    layer.set_weights([mean.astype(np.float32), var.astype(np.float32)])
    layer.trainable = False


def _fit(model: keras.Model, x: np.ndarray, y: np.ndarray, *, epochs: int, batch_size: int,
         learning_rate: float, progress: bool) -> None:
    _set_data_norm(model, x)
    steps = epochs * -(-len(x) // batch_size)
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, steps)
    model.compile(
        optimizer=keras.optimizers.Adam(schedule),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model.fit(x, y, epochs=epochs, batch_size=batch_size, shuffle=True,
              verbose=2 if progress else 0)


def output_folder(out_dir: str | Path | None) -> Path:
    """Where :func:`train_demo_models` writes: ``out_dir``, by default ``<cache>/demo-models``."""
    from twostream_lab.data.paths import cache_dir

    return Path(out_dir) if out_dir is not None else cache_dir("demo-models", create=False)


def train_demo_models(
    *,
    seed: int = 0,
    out_dir: str | Path | None = None,
    spatial_clips: int = 512,
    spatial_frames: int = 4,
    motion_clips: int = 48,
    eval_clips: int = 64,
    eval_seed: int | None = None,
    size: Sequence[int] = DEFAULT_SIZE,
    num_frames: int = DEFAULT_NUM_FRAMES,
    stacked_frames: int = STACKED_FRAMES,
    epochs: tuple[int, int] = (8, 8),
    batch_size: int = 32,
    learning_rate: float = 6e-3,
    flow_method: str = "tvl1",
    workers: int | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Train the demo spatial and motion streams on synthetic clips, evaluate, and save them.

    Reproducible: the data are deterministic in ``seed`` and training runs with
    ``keras.utils.set_random_seed(seed)`` and TensorFlow's deterministic ops (switched on for
    the rest of the process). The shipped weights are ``train_demo_models(seed=0,
    out_dir=WEIGHTS_DIR)``.

    Steps: ``make_synthetic_dataset(spatial_clips, seed=seed)``; ``spatial_frames`` evenly
    spaced frames of each clip through :func:`~twostream_lab.batching.prepare_frames` for the
    spatial stream (many scenes matter more than many frames of one scene); for the first
    ``motion_clips`` clips, TV-L1 flow (:func:`~twostream_lab.flow.compute_flow`, the slow
    part) and every stack through :func:`~twostream_lab.batching.prepare_stacks` for the
    motion stream; ``data_norm`` set to the inputs' per-channel mean and variance, then Adam
    on the cross-entropy; then :func:`evaluate_demo_models` on ``eval_clips`` clips from
    ``eval_seed`` (default ``seed + 1``: no scene in common with the training set).

    Parameters
    ----------
    seed : int
        Training data and initialisation seed.
    out_dir : path, optional
        Where to write ``demo_spatial.weights.h5``, ``demo_motion.weights.h5`` and
        ``demo_metrics.json``; default the cache folder ``<cache>/demo-models`` (load them with
        ``load_demo_models(out_dir)``). Pass :data:`WEIGHTS_DIR` to replace the shipped files.
    spatial_clips, motion_clips, eval_clips : int
        Training clips of each stream (the motion stream's are the first ``motion_clips`` of
        the spatial stream's) and held-out clips; multiples of 8 keep them balanced.
    spatial_frames : int
        Frames per clip for the spatial stream.
    eval_seed : int, optional
        Held-out dataset seed, default ``seed + 1``.
    size, num_frames
        Clip size (also the models' input size) and length.
    stacked_frames : int
        ``L``, flow frames per motion stack.
    epochs : (spatial, motion)
        Training epochs of each stream.
    batch_size, learning_rate
        Adam's mini-batch size and step size.
    flow_method, workers
        Passed to :func:`twostream_lab.flow.compute_flow`.
    progress : bool
        Print training progress.

    Returns
    -------
    dict
        What :func:`evaluate_demo_models` returns, plus the training settings (``train``),
        ``input_size``, ``num_frames``, ``stacked_frames``, ``flow_method``, ``class_names``,
        ``seconds`` (wall clock), ``cpu_seconds`` (all threads of this process) and library
        ``versions``; also written to ``demo_metrics.json``.

    Examples
    --------
    >>> metrics = train_demo_models(out_dir="demo-models")  # doctest: +SKIP
    >>> print(format_demo_metrics(metrics))                 # doctest: +SKIP
    """
    import tensorflow as tf

    started, started_cpu = time.perf_counter(), time.process_time()
    folder = output_folder(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    eval_seed = seed + 1 if eval_seed is None else eval_seed
    size = tuple(int(s) for s in size)
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()

    videos, labels = make_synthetic_dataset(max(spatial_clips, motion_clips), seed=seed,
                                            size=size, num_frames=num_frames)
    spatial = build_demo_spatial_model(input_shape=(*size, 3))
    x, y = _spatial_inputs(videos[:spatial_clips], labels[:spatial_clips], size, spatial_frames)
    _fit(spatial, x, y, epochs=epochs[0], batch_size=batch_size, learning_rate=learning_rate,
         progress=progress)
    del x

    flows = _flows(videos[:motion_clips], flow_method, workers, progress, "training flow")
    motion = build_demo_motion_model(stacked_frames, input_shape=size)
    x, y = _motion_inputs(flows, labels[:motion_clips], size, stacked_frames)
    _fit(motion, x, y, epochs=epochs[1], batch_size=batch_size, learning_rate=learning_rate,
         progress=progress)
    del x

    metrics = evaluate_demo_models(
        (spatial, motion), clips=eval_clips, seed=eval_seed, num_frames=num_frames,
        flow_method=flow_method, workers=workers, progress=progress,
    )
    metrics.update({
        "class_names": list(SYNTHETIC_CLASSES),
        "input_size": list(size),
        "num_frames": int(num_frames),
        "stacked_frames": int(stacked_frames),
        "flow_method": flow_method,
        "train": {
            "spatial_clips": int(spatial_clips), "spatial_frames": int(spatial_frames),
            "motion_clips": int(motion_clips),
            "seed": int(seed), "epochs": list(epochs),
            "batch_size": int(batch_size), "learning_rate": float(learning_rate),
        },
        "seconds": round(time.perf_counter() - started, 1),
        "cpu_seconds": round(time.process_time() - started_cpu, 1),
        "versions": {
            "python": platform.python_version(), "keras": keras.__version__,
            "tensorflow": tf.__version__, "numpy": np.__version__,
        },
    })
    # saved from fresh, uncompiled models as load_demo_models builds them: no optimizer state
    for trained, fresh, name in zip((spatial, motion), build_demo_pair(metrics),
                                    (SPATIAL_WEIGHTS, MOTION_WEIGHTS), strict=True):
        fresh.set_weights(trained.get_weights())
        fresh.save_weights(folder / name)
    (folder / METRICS_FILE).write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")
    return metrics


def format_demo_metrics(metrics: dict[str, Any]) -> str:
    """The accuracy table ``twostream-lab train-demo`` prints.

    Examples
    --------
    >>> m = {"accuracy": {"spatial": 0.25, "motion": 0.5, "fused": 1.0},
    ...      "expected": {"spatial": 0.25, "motion": 0.5, "fused": 1.0},
    ...      "spatial_color_accuracy": 1.0, "motion_direction_accuracy": 1.0,
    ...      "eval": {"clips": 64, "seed": 1}}
    >>> print(format_demo_metrics(m))  # doctest: +NORMALIZE_WHITESPACE
    Demo two-stream models on 64 held-out synthetic clips (seed 1), video level:
    stream    accuracy  expected  sees
    spatial     25.0 %      25 %  the colour (right 100.0 %), not the direction
    motion      50.0 %      50 %  the direction (right 100.0 %), not the colour
    fused      100.0 %     100 %  both: average of the two streams' scores
    """
    acc, expected = metrics["accuracy"], metrics["expected"]
    sees = {
        "spatial": f"the colour (right {100 * metrics['spatial_color_accuracy']:.1f} %), "
                   "not the direction",
        "motion": f"the direction (right {100 * metrics['motion_direction_accuracy']:.1f} %), "
                  "not the colour",
        "fused": "both: average of the two streams' scores",
    }
    lines = [
        f"Demo two-stream models on {metrics['eval']['clips']} held-out synthetic clips "
        f"(seed {metrics['eval']['seed']}), video level:",
        "stream    accuracy  expected  sees",
    ]
    for stream in ("spatial", "motion", "fused"):
        lines.append(
            f"{stream:<8}  {100 * acc[stream]:6.1f} %  {100 * expected[stream]:6.0f} %  "
            f"{sees[stream]}"
        )
    return "\n".join(lines)


