"""Evaluate both streams on a whole dataset, one video per task on a Dask cluster, resumably.

:func:`evaluate_videos` (``twostream-lab evaluate``) scores every video of a folder, a UCF101
split list or a glob with :func:`twostream_lab.predict.predict_video`, and reports the video-level
top-1 and top-5 accuracy of the spatial stream, the motion stream and each fusion method
(:data:`twostream_lab.fusion.FUSION_METHODS`), overall and per class.

How the work is spread
    Each video is one task on Dask distributed: by default an embedded ``LocalCluster`` on
    127.0.0.1 (``workers=N`` processes of one thread each), or an existing cluster
    (``scheduler="tcp://HOST:8786"``; the same code). A worker needs only this package, the
    weights and the videos at the same paths: the models are loaded once per worker process
    (a cache keyed by the weights), never sent over the network, and each worker checks that
    its weights files have the SHA-256 the run expects.

What is stored, and resuming
    ``out`` holds one folder per setting, named after the weights, the flow method, the
    sampling and a hash of all three (the weights by the SHA-256 of their ``.h5`` files), so
    results of a changed setting are never mixed with old ones. In it, ``videos/`` holds one
    small JSON file per video, written atomically as soon as the video is done: a killed run,
    run again, evaluates only the videos that have no result yet. A video that cannot be
    scored (unreadable, too short) is stored with its reason and the run goes on.

The report
    ``accuracy.csv`` (overall), ``per_class.csv``, ``predictions.csv`` (top-1 class of every
    video and stream), ``failures.csv`` and ``confusion.png`` (average fusion) in the settings
    folder, and the same tables in the terminal. The CSV files depend only on the stored scores
    and the videos asked for: they are byte-identical whatever the number of workers, the order
    in which videos finish, or how often the run was resumed. Timings go to the terminal and to
    ``out/evaluate.log``. With ``compare_flow=("tvl1", "dis")`` each video is scored with both
    flow methods and ``compare_flow_<method>.csv`` gives the accuracy difference per class.

Scripts that start the embedded cluster need the ``if __name__ == "__main__":`` guard (Dask
starts its worker processes with ``spawn``); the command line and notebooks need nothing.

This module is the public entry point; the work is in ``videos`` (which videos, which labels),
``store`` (weights and settings fingerprint, per-video result files), ``tasks`` (what runs on a
worker), ``cluster`` (the Dask client and the task loop) and ``report`` (tables, CSV files,
confusion picture, flow comparison).
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from twostream_lab.checks import positive_int
from twostream_lab.data.paths import remove_stale_temporaries
from twostream_lab.evaluation.cluster import _distributed, _run_tasks
from twostream_lab.evaluation.report import (
    EVALUATION_STREAMS,
    EvaluationReport,
    _build_report,
    _comparison,
)
from twostream_lab.evaluation.store import (
    _LOG_FILE,
    EvaluationError,
    _describe,
    _load_result,
    _Log,
    _Plan,
    _result_path,
    _settings,
    _settings_folder,
    _settings_id,
    weights_fingerprint,
)
from twostream_lab.evaluation.videos import VIDEO_SUFFIXES, VideoItem, find_videos
from twostream_lab.flow.parallel import available_cores
from twostream_lab.fusion import TSN_WEIGHTS, check_fusion

__all__ = [
    "EVALUATION_STREAMS",
    "UCF101_SPLIT1_TEST_VIDEOS",
    "VIDEO_SUFFIXES",
    "Evaluation",
    "EvaluationError",
    "EvaluationReport",
    "VideoItem",
    "evaluate_videos",
    "find_videos",
    "weights_fingerprint",
]

#: Test videos of UCF101 split 1 (``testlist01.txt``), for time estimates.
UCF101_SPLIT1_TEST_VIDEOS = 3783


@dataclass(frozen=True)
class Evaluation:
    """What :func:`evaluate_videos` did: one report per flow method, timings, the text.

    Attributes
    ----------
    reports : dict of str to EvaluationReport
        Flow method -> its report (one entry, ``flow``, unless ``compare_flow`` was given).
    comparisons : dict of str to Path
        With ``compare_flow``: each other method -> its ``compare_flow_<method>.csv``.
    out : Path
        The results folder (one sub-folder per setting).
    log : Path
        ``out/evaluate.log``, where every run appends its timings.
    seconds : float
        Wall time of the whole call.
    video_seconds : tuple of float
        Compute time of each video evaluated by this run, on its worker (reading, flow and
        both streams; not loading the models).
    pairs : int
        (RGB frame, flow stack) pairs scored by this run.
    cluster : str
        Where the tasks ran.
    text : str
        The terminal report.
    """

    reports: dict[str, EvaluationReport]
    comparisons: dict[str, Path]
    out: Path
    log: Path
    seconds: float
    video_seconds: tuple[float, ...]
    pairs: int
    cluster: str
    text: str

    @property
    def report(self) -> EvaluationReport:
        """The report of ``flow`` (the first method of ``compare_flow``)."""
        return next(iter(self.reports.values()))

    def __str__(self) -> str:
        return self.text


def _check_methods(flow: str, compare_flow: Sequence[str] | None) -> list[str]:
    from twostream_lab.flow import FLOW_METHODS

    methods = [flow] if compare_flow is None else list(compare_flow)
    if compare_flow is not None and (len(methods) < 2 or len(set(methods)) != len(methods)):
        raise ValueError(f"compare_flow needs two or more different flow methods, e.g. "
                         f"('tvl1', 'dis'); got {compare_flow!r}")
    for method in methods:
        if method not in FLOW_METHODS:
            raise ValueError(f"unknown flow method {method!r}; choose one of "
                             f"{', '.join(FLOW_METHODS)}")
    return methods


def _check_workers(workers: int | None, scheduler) -> int:
    if workers is not None and scheduler is not None:
        raise ValueError("pass workers= (a local cluster) or scheduler= (an existing one), "
                         "not both: an existing cluster has its own workers")
    if workers is None:
        return max(1, available_cores() // 2)
    return positive_int(workers, "workers")


def evaluate_videos(
    videos,
    models,
    *,
    flow: str = "tvl1",
    sampling: str | int = "all",
    scheduler=None,
    out: str | os.PathLike,
    workers: int | None = None,
    root: str | os.PathLike | None = None,
    compare_flow: Sequence[str] | None = None,
    class_names: Sequence[str] | None = None,
    batch_size: int = 8,
    fusion_weights: Sequence[float] = TSN_WEIGHTS,
    confusion_stream: str = "average",
    retry_failed: bool = False,
    connect_timeout: float = 30.0,
    progress: bool = True,
) -> Evaluation:
    """Score every video with both streams on a Dask cluster and report the accuracy tables.

    Parameters
    ----------
    videos : str, path or sequence of paths
        A folder, a UCF101 split list (``testlist01.txt``), a glob or a list of paths; see
        :func:`find_videos` for how paths and labels are found.
    models : "pretrained", "demo", (spatial_h5, motion_h5), or a TwoStream of those
        The weights, as :func:`twostream_lab.models.two_stream.load_two_stream` takes them; every
        worker loads them once (a worker of another machine needs the same files at the same
        paths, or the pretrained ones in its cache).
    flow : str
        The optical flow method (``twostream_lab.FLOW_METHODS``); ``"dis"`` is fast, ``"tvl1"``
        what the models were trained on.
    sampling : "all", "sampled" or int
        As in :func:`twostream_lab.predict.predict_video`; 19 is the authors' protocol.
    scheduler : str or distributed.Client, optional
        An existing cluster (``"tcp://HOST:8786"``). By default a ``LocalCluster`` of
        ``workers`` processes on 127.0.0.1 is started and stopped.
    out : str or path
        The results folder (one sub-folder per setting; see the module docstring). Results
        already there for the same setting are reused, so a killed run resumes.
    workers : int, optional
        Processes of the local cluster (one task at a time each, ``cores // workers`` OpenCV and
        TensorFlow threads each); by default half the cores.
    root : str or path, optional
        Where a list file's relative paths are (:func:`find_videos`).
    compare_flow : sequence of str, optional
        Two or more flow methods to run instead of ``flow``, e.g. ``("tvl1", "dis")``: one
        report each, and the per-class accuracy difference of each against the first.
    class_names : sequence of str, optional
        For a pair of ``.h5`` files whose models do not have UCF101's classes.
    batch_size : int
        Frames (stacks) per model call.
    fusion_weights : (float, float)
        (spatial, motion) weights of the ``"weighted"`` fusion (TSN's 1 : 1.5). The fusions are
        computed from the stored stream scores, so changing them needs no re-run.
    confusion_stream : str
        The stream or fusion drawn in ``confusion.png``.
    retry_failed : bool
        Evaluate again the videos stored as failed (e.g. files fixed since).
    connect_timeout : float
        Seconds to wait for the scheduler and its first worker.
    progress : bool
        Show the run's progress (videos done, pairs/s, time left) on stderr.

    Returns
    -------
    Evaluation
        ``.report`` (``.overall``, ``.per_class``, ``.failures``, ...), ``.text``.

    Raises
    ------
    ValueError
        Bad settings, no videos, or videos whose class cannot be told.
    EvaluationError
        No scheduler or no worker at ``scheduler``, weights that differ on a worker, a task
        that fails for another reason than its video, or a results folder of other settings.

    Examples
    --------
    >>> run = evaluate_videos("ucf101/testlist01.txt", "pretrained", flow="dis",
    ...                       sampling=19, out="results", workers=2)  # doctest: +SKIP
    >>> run.report.overall["average"].top1  # doctest: +SKIP
    >>> print(run.text)  # doctest: +SKIP
    """
    from twostream_lab.predict import parse_sampling

    began = time.perf_counter()
    _distributed()
    sampling = parse_sampling(sampling)
    methods = _check_methods(flow, compare_flow)
    workers = _check_workers(workers, scheduler)
    positive_int(batch_size, "batch_size")
    check_fusion("weighted", fusion_weights)
    fusion_weights = tuple(float(w) for w in fusion_weights)
    if confusion_stream not in EVALUATION_STREAMS:
        raise ValueError(f"confusion_stream must be one of {EVALUATION_STREAMS}, got "
                         f"{confusion_stream!r}")
    weights = weights_fingerprint(models, class_names=class_names, progress=progress)
    items, missing = find_videos(videos, class_names=weights["class_names"], root=root)
    out = Path(out).expanduser().resolve()
    out.mkdir(parents=True, exist_ok=True)
    write_log = _Log(out / _LOG_FILE)

    plans = {}
    for method in methods:
        settings = _settings(weights, method, sampling)
        folder = _settings_folder(out, settings)
        remove_stale_temporaries(folder / "videos")  # what a killed run left, once stale
        settings_id = _settings_id(settings)
        stored = {}
        for item in items:
            result = _load_result(_result_path(folder, item.id), settings_id, item.id)
            if result is not None and (result["status"] == "ok" or not retry_failed):
                stored[item.id] = result
        plans[method] = _Plan(method, settings, settings_id, folder, stored)
    todo = {item.id: [m for m in methods if item.id not in plans[m].stored] for item in items}
    todo = {vid: needed for vid, needed in todo.items() if needed}
    write_log(f"start: {len(items)} videos, {len(todo)} to evaluate, {len(missing)} missing; "
              + "; ".join(_describe(p.settings) for p in plans.values()))

    transient: dict[str, dict[str, str]] = {m: {} for m in methods}
    video_seconds: list[float] = []
    pairs, where = 0, "nothing to evaluate: every video has a stored result"
    if todo:
        transient, video_seconds, pairs, where = _run_tasks(
            todo, {item.id: item for item in items}, plans, weights, sampling=sampling,
            batch_size=batch_size, scheduler=scheduler, workers=workers,
            connect_timeout=connect_timeout, progress=progress, write_log=write_log)
    reports = {}
    for method, plan in plans.items():
        new = sum(1 for vid, needed in todo.items() if method in needed
                  and (_load_result(_result_path(plan.folder, vid), plan.settings_id, vid)
                       or {}).get("status") == "ok")
        reports[method] = _build_report(plan, items, missing, transient[method], new,
                                        fusion_weights, confusion_stream)
    comparisons, compared = _comparison(reports) if len(reports) > 1 else ({}, "")
    seconds = time.perf_counter() - began
    timing = (f"time: {seconds:.1f} s for {len(todo)} video(s) on {where}"
              + (f": {len(todo) / seconds:.2f} videos/s, {pairs / seconds:.1f} pairs/s, "
                 f"{np.mean(video_seconds):.2f} s per video on a worker"
                 if video_seconds else ""))
    write_log(f"end: {timing}")
    files = ", ".join(next(iter(reports.values())).files)
    text = "\n\n".join([*(r.summary() for r in reports.values()),
                        *([compared] if compared else []), timing,
                        f"files in each results folder: {files}; log: {out / _LOG_FILE}"])
    return Evaluation(reports=reports, comparisons=comparisons, out=out, log=out / _LOG_FILE,
                      seconds=seconds, video_seconds=tuple(video_seconds), pairs=pairs,
                      cluster=where, text=text)


