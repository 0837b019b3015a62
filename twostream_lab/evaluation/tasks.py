"""What runs on a Dask worker: the per-process model cache and one video's task.

:func:`_evaluate_task` is what the cluster is sent (by module path, so it must stay importable
as ``twostream_lab.evaluation.tasks._evaluate_task``).
"""

from __future__ import annotations

import json
import logging
import threading
import time
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

from twostream_lab.evaluation.store import EvaluationError, _file_sha256, _weights_files

log = logging.getLogger(__name__)

_MODELS: dict[str, Any] = {}
_MODELS_LOCK = threading.Lock()
_LOADS = {"count": 0}
# warnings.catch_warnings swaps the process's warning state: in a worker of several threads,
# two blocks that overlap would restore each other's state
_WARNINGS_LOCK = threading.Lock()


def _limit_threads(threads: int) -> None:
    """Give this worker process ``threads`` OpenCV and TensorFlow threads (before TF starts)."""
    import cv2
    import tensorflow as tf

    cv2.setNumThreads(threads)
    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:  # TensorFlow already ran in this process (an earlier task): keep it
        log.info("TensorFlow was already initialised here; its thread counts stay as they are")


def _worker_models(weights: Mapping[str, Any], threads: int | None) -> tuple[Any, int, float]:
    """The models of ``weights``, loaded on the first task of this worker process only.

    Returns them, the number of loads this process has done, and the seconds this call spent
    loading (0 when the models were loaded already, or by another thread while it waited).
    """
    from twostream_lab.models.two_stream import WeightsChoice, load_two_stream

    key = json.dumps(weights, sort_keys=True)
    with _MODELS_LOCK:
        if key in _MODELS:
            return _MODELS[key], _LOADS["count"], 0.0
        started = time.perf_counter()
        if threads is not None and not _LOADS["count"]:
            _limit_threads(threads)
        spec = weights["spec"] if isinstance(weights["spec"], str) else tuple(weights["spec"])
        names = weights["class_names"] if weights["custom_classes"] else None
        spatial, motion = _weights_files(spec, progress=False)
        for stream, path in (("spatial", spatial), ("motion", motion)):
            digest = _file_sha256(path)
            if digest != weights[f"{stream}_sha256"]:
                raise EvaluationError(
                    f"the {stream} weights on worker {_worker_address()} ({path}) have "
                    f"SHA-256 {digest}, not the {weights[f'{stream}_sha256']} of the run: "
                    "give every worker the same weights files (the same paths, or the same "
                    "pretrained cache, $TWOSTREAM_LAB_CACHE) and the same twostream-lab")
        _MODELS.clear()  # one set of models per worker process
        # a WeightsChoice: exactly these weights, whatever $TWOSTREAM_LAB_WEIGHTS says
        _MODELS[key] = load_two_stream(WeightsChoice(spec, "evaluate_videos"),
                                       class_names=names, progress=False)
        _LOADS["count"] += 1
        return _MODELS[key], _LOADS["count"], time.perf_counter() - started


def _worker_address() -> str:
    from distributed import get_worker

    return get_worker().address


def _video_flow(video, stacked_frames: int, sampling: str | int, method: str):
    """The quantised flow the sampled stacks need (not cached: a dataset's flow is large)."""
    from twostream_lab.batching import stack_starts
    from twostream_lab.flow import compute_flow, stack_pairs
    from twostream_lab.predict import sample_starts
    from twostream_lab.video import TRAINING_SHORT_SIDE

    starts = stack_starts(video.num_frames - 1, stacked_frames)  # clear error when too short
    if sampling != "all":
        starts = sample_starts(len(starts), sampling)
    short_side = TRAINING_SHORT_SIDE if min(video.height, video.width) > TRAINING_SHORT_SIDE \
        else None
    pairs = None if sampling == "all" else stack_pairs(starts, stacked_frames)
    flow = compute_flow(video, method=method, cache=False, workers=1, progress=False,
                        pairs=pairs, short_side=short_side)
    return flow, video.num_frames - 1 if pairs is None else len(pairs)


def _evaluate_task(path: str, methods: Sequence[str], weights: Mapping[str, Any],
                   sampling: str | int, batch_size: int, threads: int | None) -> dict[str, Any]:
    """One video, on a worker: read it, then flow and both streams for each flow method."""
    import cv2

    from twostream_lab.predict import predict_video
    from twostream_lab.video import read_video

    models, loads, load_seconds = _worker_models(weights, threads)
    answer: dict[str, Any] = {"worker": _worker_address(), "model_loads": loads,
                              "load_seconds": load_seconds, "results": {}}
    began = time.perf_counter()
    try:
        with _WARNINGS_LOCK, warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", UserWarning)
            video = read_video(path)
    except (ValueError, OSError, cv2.error) as exc:
        answer["results"] = {m: {"status": "failed", "reason": f"unreadable: {exc}"}
                             for m in methods}
        return answer
    notes = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
    read_seconds = time.perf_counter() - began
    for method in methods:
        began = time.perf_counter()
        try:
            flow, flow_pairs = _video_flow(video, models.stacked_frames, sampling, method)
            flow_seconds = time.perf_counter() - began
            prediction = predict_video(video, models, flow=flow, sampling=sampling,
                                       batch_size=batch_size, progress=False)
        except (ValueError, cv2.error) as exc:
            answer["results"][method] = {"status": "failed", "reason": str(exc)}
            continue
        answer["results"][method] = {
            "status": "ok",
            "num_frames": int(prediction.num_frames),
            "pairs": len(prediction.motion_indices),
            "flow_pairs": int(flow_pairs),
            "flow_method": prediction.flow_method,
            "spatial": [float(x) for x in prediction.spatial_video],
            "motion": [float(x) for x in prediction.motion_video],
            "warnings": notes,
            "seconds": {"read": read_seconds, "flow": flow_seconds,
                        "models": time.perf_counter() - began - flow_seconds},
        }
    return answer
