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
"""

from __future__ import annotations

import csv
import glob
import hashlib
import importlib.resources
import io
import json
import logging
import os
import re
import sys
import threading
import time
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np

from twostream_lab.data.classes import UCF101_CLASSES, normalize_class_name
from twostream_lab.data.paths import atomic_file, data_dir, remove_stale_temporaries
from twostream_lab.evaluation.preds import (
    PUBLISHED_TOP1,
    VideoAccuracy,
    format_accuracy_table,
    video_accuracy,
    video_key,
)
from twostream_lab.fusion import FUSION_METHODS, TSN_WEIGHTS, fuse_scores

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
    "run_evaluate",
    "weights_fingerprint",
]

#: The rows of every accuracy table: both streams, then each fusion of their video scores.
EVALUATION_STREAMS: tuple[str, ...] = ("spatial", "motion", *FUSION_METHODS)

#: Test videos of UCF101 split 1 (``testlist01.txt``), for time estimates.
UCF101_SPLIT1_TEST_VIDEOS = 3783

#: File endings taken as videos when ``videos`` is a folder.
VIDEO_SUFFIXES = frozenset({".avi", ".mp4", ".mkv", ".mov", ".webm", ".mpg", ".mpeg", ".m4v"})

_RESULT_FORMAT = 1
#: The shipped demo weights and metrics (architecture, class names) in ``twostream_lab/weights``
#: (``models.demo.SPATIAL_WEIGHTS``, ``MOTION_WEIGHTS``, ``METRICS_FILE``), named here so that
#: the machine that runs the evaluation hashes the weights and reads the class names without
#: importing Keras.
_DEMO_FILES = ("demo_spatial.weights.h5", "demo_motion.weights.h5", "demo_metrics.json")
_SETTINGS_FILE = "settings.json"
_LOG_FILE = "evaluate.log"
_GLOB_CHARACTERS = re.compile(r"[*?\[]")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
_CSV_FLOAT = "{:.6f}"

log = logging.getLogger(__name__)


class EvaluationError(RuntimeError):
    """The evaluation cannot run: no cluster, weights that differ on a worker, foreign results."""


# ---------------------------------------------------------------------------------------------
# which videos, with which labels


@dataclass(frozen=True)
class VideoItem:
    """One video to evaluate.

    Attributes
    ----------
    id : str
        The name its result is stored under: the UCF101 key (``ApplyEyeMakeup_g08_c01``) for a
        UCF101 file name, else its path relative to the folder, list or glob it came from.
    path : Path
        The file (absolute).
    label : int
        Index of its class among the models' class names.
    """

    id: str
    path: Path
    label: int


def _is_glob(text: str) -> bool:
    return bool(_GLOB_CHARACTERS.search(text))


def _label_from_name(path: Path, class_names: Sequence[str]) -> int | None:
    """The class of a UCF101 file name (``v_<Class>_gNN_cNN``), else of a class-named folder."""
    try:
        name = video_key(path.stem).rsplit("_", 2)[0]
    except ValueError:
        name = path.parent.name
    name = normalize_class_name(name)
    return class_names.index(name) if name in class_names else None


def _video_id(path: Path, relative: str) -> str:
    try:
        return video_key(path.stem)
    except ValueError:
        return relative


def _list_candidates(entry: str, list_file: Path, root: Path | None) -> list[Path]:
    relative = PurePosixPath(entry.replace("\\", "/"))
    if relative.is_absolute():
        return [Path(relative)]
    bases = [root] if root is not None else [list_file.parent, data_dir("ucf101", "videos")]
    candidates = []
    for base in bases:
        candidates.append(base / relative)
        if len(relative.parts) > 1:  # class subfolders the videos may not be in
            candidates.append(base / relative.name)
    return candidates


def _read_list(list_file: Path, root: Path | None, class_names: Sequence[str],
               problems: list[str]) -> tuple[list[tuple[Path, str, int | None]], dict[str, str]]:
    found, missing = [], {}
    for number, line in enumerate(list_file.read_text().splitlines(), start=1):
        parts = line.split()
        if not parts or parts[0].startswith("#"):
            continue
        if len(parts) > 2:
            problems.append(f"{list_file}, line {number}: expected 'PATH' or 'PATH LABEL', got "
                            f"{line.strip()!r}")
            continue
        label = None
        if len(parts) == 2:
            if not parts[1].isdigit() or not 1 <= int(parts[1]) <= len(class_names):
                problems.append(f"{list_file}, line {number}: the label must be a class number "
                                f"1..{len(class_names)} (as in classInd.txt), got {parts[1]!r}")
                continue
            label = int(parts[1]) - 1
        candidates = _list_candidates(parts[0], list_file, root)
        path = next((c for c in candidates if c.is_file()), None)
        if path is None:
            missing[parts[0]] = ("file not found (looked at "
                                 + ", ".join(str(c) for c in candidates) + ")")
            continue
        found.append((path, parts[0], label))
    return found, missing


def find_videos(videos, *, class_names: Sequence[str] = UCF101_CLASSES,
                root: str | os.PathLike | None = None) -> tuple[list[VideoItem], dict[str, str]]:
    """The videos ``evaluate_videos`` would evaluate, with their labels, and the missing ones.

    Parameters
    ----------
    videos : str, path or sequence of paths
        A folder (every video file in it and its subfolders), a list file in the UCF101 split
        format (``ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi`` per line, optionally followed
        by a 1-based class number as in ``classInd.txt``), a glob (``"clips/*.avi"``), a
        single video file, or a sequence of video paths.
    class_names : sequence of str
        The models' classes (the labels are indices into them).
    root : str or path, optional
        Where the relative paths of a list file are; by default the list's folder, then
        ``$TWOSTREAM_LAB_DATA/ucf101/videos``. A path with class subfolders that do not exist
        there (``ApplyEyeMakeup/v_...avi``) is also looked for directly in that folder.

    Returns
    -------
    items : list of VideoItem
        Sorted by id. A video's label is its list file's class number, else the UCF101 class
        in its file name (``v_<Class>_gNN_cNN``), else the name of its folder when that is a
        class name.
    missing : dict of str to str
        List entries whose file was not found -> where it was looked for.

    Raises
    ------
    ValueError
        No video found, a video whose class cannot be told, two videos with the same id, or
        a malformed list line.

    Examples
    --------
    >>> items, missing = find_videos("ucf101/testlist01.txt")  # doctest: +SKIP
    >>> items[0].id, items[0].label, len(missing)  # doctest: +SKIP
    ('ApplyEyeMakeup_g01_c01', 0, 3749)
    """
    class_names = tuple(class_names)
    root_path = Path(root).expanduser().resolve() if root is not None else None
    problems: list[str] = []
    missing: dict[str, str] = {}
    entries: list[tuple[Path, str, int | None]] = []  # (path, relative name, listed label)
    if isinstance(videos, str | os.PathLike):
        text = os.fspath(videos)
        source = Path(text).expanduser()
        if source.is_dir():
            entries = [(p, p.relative_to(source).as_posix(), None) for p in source.rglob("*")
                       if p.suffix.lower() in VIDEO_SUFFIXES and p.is_file()]
        elif source.is_file() and source.suffix.lower() in VIDEO_SUFFIXES:
            entries = [(source, source.name, None)]
        elif source.is_file():
            entries, missing = _read_list(source, root_path, class_names, problems)
        elif _is_glob(text):
            base = Path(re.split(r"[*?\[]", text, maxsplit=1)[0] or ".").expanduser()
            base = base if base.is_dir() else base.parent
            entries = [(Path(p), Path(p).relative_to(base).as_posix(), None)
                       for p in glob.glob(os.path.expanduser(text), recursive=True)
                       if Path(p).is_file()]
        else:
            raise ValueError(f"videos must be a folder, a list file, a video file or a glob; "
                             f"{text!r} is none of these (no such file or folder)")
    else:
        paths = [Path(p).expanduser() for p in videos]
        for path in paths:
            if path.is_file():
                entries.append((path, path.name, None))
            else:
                missing[str(path)] = "file not found"
    items, seen = [], {}
    for path, relative, label in entries:
        path = path.resolve()
        if label is None:
            label = _label_from_name(path, class_names)
        if label is None:
            problems.append(f"{path}: its class cannot be told; name it like "
                            f"v_<Class>_g01_c01.avi with a class of the models "
                            f"({', '.join(class_names[:3])}, ...), put it in a folder named "
                            "after its class, or give its class number in a list file")
            continue
        item = VideoItem(_video_id(path, relative), path, label)
        if item.id in seen and seen[item.id] != path:
            problems.append(f"{seen[item.id]} and {path} would both be stored as {item.id!r}; "
                            "rename one, or evaluate them separately")
            continue
        if item.id not in seen:
            seen[item.id] = path
            items.append(item)
    if problems:
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        raise ValueError(f"{len(problems)} problem(s) with the videos{more}:\n  "
                         + "\n  ".join(problems[:3]))
    if not items:
        where = (f"; {len(missing)} listed file(s) are missing: "
                 f"{next(iter(missing))} {next(iter(missing.values()))}") if missing else ""
        raise ValueError(f"no video found in {videos!r}{where}. Pass a folder of videos, a list "
                         "file, or a glob such as 'videos/*.avi' (and --root for a list whose "
                         "videos are elsewhere)")
    return sorted(items, key=lambda i: i.id), missing


# ---------------------------------------------------------------------------------------------
# weights and settings


def _file_sha256(path: Path) -> str:
    with open(path, "rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def _demo_folder() -> Path:
    return Path(str(importlib.resources.files("twostream_lab") / "weights"))


def _weights_files(source, *, progress: bool) -> tuple[Path, Path]:
    """The (spatial, motion) ``.h5`` files of a weights spec, on this machine."""
    if source == "demo":
        return _demo_folder() / _DEMO_FILES[0], _demo_folder() / _DEMO_FILES[1]
    if source == "pretrained":
        from twostream_lab.weights.pretrained import fetch_pretrained

        return (fetch_pretrained("spatial", progress=progress).h5,
                fetch_pretrained("motion", progress=progress).h5)
    return Path(source[0]), Path(source[1])


def _weights_spec(models, class_names) -> tuple[str | tuple[str, str], tuple[str, ...] | None]:
    """A weights spec every worker can load (absolute paths), and the class names to pass."""
    source = getattr(models, "source", None) if not isinstance(models, str | tuple | list) \
        else models
    if source in ("demo", "pretrained"):
        if class_names is not None:
            raise ValueError(f"class_names is only for a (spatial_h5, motion_h5) pair: the "
                             f"{source!r} models come with their own")
        return source, None
    if isinstance(source, tuple | list) and len(source) == 2:
        paths = tuple(str(Path(p).expanduser().resolve()) for p in source)
        for path in paths:
            if not Path(path).is_file():
                raise FileNotFoundError(f"no weights file at {path}: pass the two .h5 files as "
                                        "(spatial_h5, motion_h5)")
        return paths, None if class_names is None else tuple(class_names)
    if source == "local":
        raise TypeError("these models were loaded from your own .h5 files; pass the files "
                        "instead, models=(spatial_h5, motion_h5): every worker loads the "
                        "models itself")
    raise ValueError(f"models must be 'pretrained', 'demo' or a (spatial_h5, motion_h5) pair; "
                     f"got {models!r}")


def weights_fingerprint(models, *, class_names: Sequence[str] | None = None,
                        progress: bool = True) -> dict[str, Any]:
    """What identifies a weights spec in the results: its source, files' SHA-256 and classes.

    Parameters
    ----------
    models : "pretrained", "demo", (spatial_h5, motion_h5) or TwoStream
        As :func:`twostream_lab.models.two_stream.load_two_stream` takes (a loaded ``TwoStream`` of
        the pretrained or demo weights stands for its source). ``"pretrained"`` downloads the
        weights if they are not cached, since their files are hashed.
    class_names : sequence of str, optional
        For a pair of files whose models do not have UCF101's classes.
    progress : bool
        Show download progress.

    Returns
    -------
    dict
        ``source`` (``"pretrained"``, ``"demo"``, ``"local"``), ``spec`` (what a worker
        loads), ``custom_classes`` (whether ``class_names`` was given), ``spatial_sha256``,
        ``motion_sha256``, ``class_names``.

    Examples
    --------
    >>> weights_fingerprint("demo")["source"]
    'demo'
    """
    spec, names = _weights_spec(models, class_names)
    spatial, motion = _weights_files(spec, progress=progress)
    if names is None:
        if spec == "demo":
            names = json.loads((_demo_folder() / _DEMO_FILES[2]).read_text())["class_names"]
        else:
            names = UCF101_CLASSES
    return {
        "source": spec if isinstance(spec, str) else "local",
        "spec": spec if isinstance(spec, str) else list(spec),
        "custom_classes": class_names is not None,
        "spatial_sha256": _file_sha256(spatial),
        "motion_sha256": _file_sha256(motion),
        "class_names": list(names),
    }


def _settings(weights: Mapping[str, Any], flow: str, sampling: str | int) -> dict[str, Any]:
    from twostream_lab.video import TRAINING_SHORT_SIDE

    return {
        "format": _RESULT_FORMAT,
        "weights": {key: weights[key] for key in ("source", "spatial_sha256", "motion_sha256")},
        "class_names": list(weights["class_names"]),
        "flow": flow,
        "flow_short_side": TRAINING_SHORT_SIDE,
        "sampling": sampling,
    }


def _settings_id(settings: Mapping[str, Any]) -> str:
    text = json.dumps(settings, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _settings_folder(out: Path, settings: Mapping[str, Any]) -> Path:
    sampling = settings["sampling"]
    how = "all-frames" if sampling == "all" else f"{sampling}-samples"
    name = f"{settings['weights']['source']}-{settings['flow']}-{how}-{_settings_id(settings)}"
    folder = out / name
    (folder / "videos").mkdir(parents=True, exist_ok=True)
    recorded = folder / _SETTINGS_FILE
    if not recorded.is_file():
        with atomic_file(recorded, suffix=".json") as tmp:
            tmp.write_text(json.dumps(settings, indent=1, sort_keys=True) + "\n")
        return folder
    try:
        previous = json.loads(recorded.read_text())
    except ValueError:
        previous = None
    if previous != dict(settings):
        raise EvaluationError(
            f"{recorded} records other settings than this run's ({_describe(settings)}): the "
            "folder was edited or copied from elsewhere, so its results are not used. Pass "
            "another --out, or delete the folder to evaluate again")
    return folder


def _describe(settings: Mapping[str, Any]) -> str:
    weights = settings["weights"]
    sampling = settings["sampling"]
    how = "all frames" if sampling == "all" else f"{sampling} samples per video"
    return (f"weights {weights['source']} (spatial sha256 {weights['spatial_sha256'][:12]}, "
            f"motion {weights['motion_sha256'][:12]}), flow {settings['flow']}, {how}")


# ---------------------------------------------------------------------------------------------
# on a worker

_MODELS: dict[str, Any] = {}
_MODELS_LOCK = threading.Lock()
_LOADS = {"count": 0}


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


def _worker_models(weights: Mapping[str, Any], threads: int | None):
    """The models of ``weights``, loaded on the first task of this worker process only."""
    from twostream_lab.models.two_stream import WeightsChoice, load_two_stream

    key = json.dumps(weights, sort_keys=True)
    with _MODELS_LOCK:
        if key not in _MODELS:
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
        return _MODELS[key], _LOADS["count"]


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

    started = time.perf_counter()
    loads_before = _LOADS["count"]
    models, loads = _worker_models(weights, threads)
    answer: dict[str, Any] = {"worker": _worker_address(), "model_loads": loads,
                              "load_seconds": time.perf_counter() - started
                              if loads > loads_before else 0.0, "results": {}}
    began = time.perf_counter()
    try:
        with warnings.catch_warnings(record=True) as caught:
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


# ---------------------------------------------------------------------------------------------
# on the machine that runs the evaluation


def _distributed():
    """The ``distributed`` module, or an ImportError that says how to install it."""
    try:
        import distributed
    except ImportError as exc:
        raise ImportError(
            f"evaluating a dataset needs Dask distributed, which is not importable here ({exc}); "
            "install it with pip install 'twostream-lab[evaluate]' (or pip install "
            "'dask[distributed]')") from exc
    return distributed


def _available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


@contextmanager
def _connect(scheduler, workers: int, connect_timeout: float) -> Iterator[tuple[Any, str]]:
    """A Dask client: on ``scheduler`` (an address or a Client), else on a new LocalCluster."""
    distributed = _distributed()

    if isinstance(scheduler, distributed.Client):
        yield scheduler, f"the cluster of {scheduler.scheduler.address}"
        return
    if scheduler is not None:
        try:
            client = distributed.Client(scheduler, timeout=connect_timeout,
                                        set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise EvaluationError(
                f"cannot reach the Dask scheduler at {scheduler!r} within {connect_timeout:g} s "
                f"({exc}). Start one with `dask scheduler` and workers with `dask worker "
                f"ADDRESS`, pass the address it prints (tcp://HOST:8786), or leave out "
                "--scheduler to run on this machine") from exc
        with client:
            try:
                client.wait_for_workers(1, timeout=connect_timeout)
            except TimeoutError:
                raise EvaluationError(
                    f"the Dask scheduler at {scheduler!r} has no worker (waited "
                    f"{connect_timeout:g} s): start some with `dask worker {scheduler}` on "
                    "machines that have twostream-lab, the weights and the videos") from None
            yield client, f"the cluster of {scheduler}"
        return
    with distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None,
                                  silence_logs=logging.ERROR) as cluster, \
            distributed.Client(cluster, set_as_default=False) as client:
        yield client, f"{workers} local worker process{'es' if workers != 1 else ''}"


def _result_path(folder: Path, video_id: str) -> Path:
    safe = _UNSAFE.sub("_", video_id)
    if safe != video_id:
        safe += "-" + hashlib.sha256(video_id.encode()).hexdigest()[:8]
    return folder / "videos" / f"{safe}.json"


def _load_result(path: Path, settings_id: str, video_id: str) -> dict[str, Any] | None:
    """A stored result, or None if there is none (or it is not one of this setting's)."""
    try:
        result = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except ValueError:
        log.warning("%s is not valid JSON (damaged): the video is evaluated again", path)
        return None
    if result.get("settings") != settings_id or result.get("video") != video_id:
        log.warning("%s holds another setting's or video's result: the video is evaluated "
                    "again", path)
        return None
    return result


def _store(folder: Path, item: VideoItem, settings: Mapping[str, Any], settings_id: str,
           result: Mapping[str, Any], answer: Mapping[str, Any]) -> None:
    record = {"format": _RESULT_FORMAT, "video": item.id, "path": str(item.path),
              "settings": settings_id, "weights": settings["weights"],
              "flow": settings["flow"], "sampling": settings["sampling"],
              "worker": answer["worker"], "worker_model_loads": answer["model_loads"], **result}
    with atomic_file(_result_path(folder, item.id), suffix=".json") as tmp:
        tmp.write_text(json.dumps(record, sort_keys=True) + "\n")


class _Log:
    """Timestamped lines appended to ``out/evaluate.log``."""

    def __init__(self, path: Path):
        self.path = path

    def __call__(self, text: str) -> None:
        stamp = datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")
        with open(self.path, "a", encoding="utf-8") as file:
            file.write(f"{stamp} {text}\n")


@dataclass
class _Plan:
    """One flow method's settings, folder, and the videos already stored there."""

    method: str
    settings: dict[str, Any]
    settings_id: str
    folder: Path
    stored: dict[str, dict[str, Any]]


def _run_tasks(todo: dict[str, list[str]], items: dict[str, VideoItem],
               plans: dict[str, _Plan], weights: Mapping[str, Any], *, sampling, batch_size: int,
               scheduler, workers: int, connect_timeout: float, progress: bool,
               write_log: _Log) -> tuple[dict[str, dict[str, str]], list[float], int, str]:
    """Evaluate ``todo`` (video id -> flow methods) on the cluster, storing each result.

    Returns the failures that are not stored (a worker died), the compute seconds of each video,
    the pairs scored, and the cluster's description.
    """
    from tqdm.auto import tqdm

    distributed = _distributed()
    transient: dict[str, dict[str, str]] = {m: {} for m in plans}
    seconds: list[float] = []
    pairs = 0
    if progress and scheduler is None:
        print(f"starting {workers} local Dask worker process(es) on 127.0.0.1 ...",
              file=sys.stderr)
    threads = max(1, _available_cores() // workers) if scheduler is None else None
    with _connect(scheduler, workers, connect_timeout) as (client, where):
        write_log(f"cluster: {where}")
        futures = {client.submit(_evaluate_task, str(items[vid].path), methods, dict(weights),
                                 sampling, batch_size, threads, pure=False): vid
                   for vid, methods in todo.items()}
        start = time.perf_counter()
        bar = tqdm(total=len(futures), desc="evaluate", unit="video", disable=not progress,
                   file=sys.stderr)
        failed = 0
        try:
            for future in distributed.as_completed(futures, loop=client.loop):
                vid = futures[future]
                try:
                    answer = future.result()
                except distributed.KilledWorker as exc:
                    for method in todo[vid]:
                        transient[method][vid] = (f"the worker running it died ({exc}); it is "
                                                  "evaluated again by the next run")
                    failed += 1
                    write_log(f"{vid}: worker died")
                    bar.update()
                    continue
                except EvaluationError:
                    raise
                except Exception as exc:
                    raise EvaluationError(
                        f"{items[vid].path}: the task failed on a worker: {exc!r}. A worker "
                        "needs twostream-lab (the same version), the weights and the videos at "
                        "the same paths") from exc
                for method, result in answer["results"].items():
                    _store(plans[method].folder, items[vid], plans[method].settings,
                           plans[method].settings_id, result, answer)
                    if result["status"] == "ok":
                        pairs += result["pairs"]
                    else:
                        failed += 1
                ok = [r for r in answer["results"].values() if r["status"] == "ok"]
                compute = sum(sum(r["seconds"].values()) for r in ok)
                if ok:
                    seconds.append(compute)
                write_log(f"{vid}: " + ", ".join(
                    f"{m} {r['status']}" for m, r in answer["results"].items())
                    + f" on {answer['worker']} in {compute:.2f} s"
                    + (f" (+{answer['load_seconds']:.1f} s loading the models)"
                       if answer["load_seconds"] else ""))
                elapsed = time.perf_counter() - start
                bar.set_postfix_str(f"{pairs / max(elapsed, 1e-9):.1f} pairs/s, {failed} failed",
                                    refresh=False)
                bar.update()
        finally:
            bar.close()
            client.cancel(list(futures))
    return transient, seconds, pairs, where


# ---------------------------------------------------------------------------------------------
# the report


@dataclass(frozen=True)
class EvaluationReport:
    """The accuracy of one setting (weights, flow method, sampling) on the videos asked for.

    Attributes
    ----------
    folder : Path
        The setting's results folder (``videos/``, the CSV tables, ``confusion.png``).
    settings : dict
        Weights (source and SHA-256), class names, flow method, sampling.
    overall : dict of str to VideoAccuracy
        Per stream of :data:`EVALUATION_STREAMS`; empty when no video could be scored.
    per_class : dict of str to dict of str to VideoAccuracy
        Class name -> stream -> accuracy, for the classes that have scored videos.
    scores : dict of str to dict of str to ndarray
        Stream -> video id -> video-level class scores (the fusions of the two streams'
        scores), for the scored videos.
    labels : dict of str to int
        Video id -> class index, for the scored videos.
    failures : dict of str to str
        Video id (or list entry) -> why it has no scores.
    new, reused : int
        Scored videos evaluated by this run, and taken from an earlier one.
    fusion_weights : (float, float)
        The (spatial, motion) weights of the ``"weighted"`` fusion.
    files : tuple of str
        The tables and the picture written in ``folder``.
    """

    folder: Path
    settings: dict[str, Any]
    overall: dict[str, VideoAccuracy]
    per_class: dict[str, dict[str, VideoAccuracy]]
    scores: dict[str, dict[str, np.ndarray]]
    labels: dict[str, int]
    failures: dict[str, str]
    new: int
    reused: int
    fusion_weights: tuple[float, float] = TSN_WEIGHTS
    files: tuple[str, ...] = field(default=())

    @property
    def class_names(self) -> tuple[str, ...]:
        """The models' classes (what the labels and score indices mean)."""
        return tuple(self.settings["class_names"])

    def accuracy(self, videos: Sequence[str], stream: str) -> VideoAccuracy:
        """Accuracy of ``stream`` on some of the scored videos (ids).

        Examples
        --------
        >>> report.accuracy(["YoYo_g01_c01"], "average").top1  # doctest: +SKIP
        1.0
        """
        return video_accuracy(self.scores[stream], [(v, self.labels[v]) for v in videos])

    def accuracy_table(self) -> str:
        """The overall table: top-1 and top-5 per stream (and the published top-1 for the
        pretrained weights)."""
        if not self.overall:
            return "no video could be scored: see the failures"
        published = PUBLISHED_TOP1 if self.settings["weights"]["source"] == "pretrained" else {}
        return format_accuracy_table(self.overall, published)

    def class_table(self) -> str:
        """Top-1 / top-5 (%) per class and stream, one line per class with scored videos."""
        if not self.per_class:
            return ""
        width = max(len("class"), *(len(name) for name in self.per_class))
        lines = [f"{'class':<{width}} {'videos':>6} "
                 + " ".join(f"{s:>9}" for s in EVALUATION_STREAMS)]
        for name, accuracies in self.per_class.items():
            cells = " ".join(f"{f'{100 * a.top1:.0f}/{100 * a.top5:.0f}':>9}"
                             for a in accuracies.values())
            lines.append(f"{name:<{width}} {accuracies['spatial'].num_videos:>6} {cells}")
        return "\n".join(lines)

    def summary(self) -> str:
        """The report as the terminal shows it (no timings: those are in the log)."""
        a, b = self.fusion_weights
        lines = [
            _describe(self.settings),
            f"results: {self.folder}",
            f"videos: {len(self.labels)} scored ({self.new} now, {self.reused} from an earlier "
            f"run), {len(self.failures)} without scores"
            + (" (see failures.csv)" if self.failures else ""),
            "",
            self.accuracy_table(),
            f"(weighted fusion: spatial {a:g} : motion {b:g})",
        ]
        if self.per_class:
            lines += ["", "per class, top-1/top-5 %:", self.class_table()]
        return "\n".join(lines)


def _csv_text(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def _write_text(path: Path, text: str) -> None:
    with atomic_file(path, suffix=path.suffix) as tmp:
        tmp.write_text(text, encoding="utf-8")


def _accuracy_cells(accuracy: VideoAccuracy) -> list[str]:
    return [_CSV_FLOAT.format(accuracy.top1), _CSV_FLOAT.format(accuracy.top5)]


def _video_scores(results: Mapping[str, Mapping[str, Any]],
                  fusion_weights: tuple[float, float]) -> dict[str, dict[str, np.ndarray]]:
    """Stream -> video id -> video-level scores, the fusions computed from the two streams."""
    scores: dict[str, dict[str, np.ndarray]] = {s: {} for s in EVALUATION_STREAMS}
    for vid, result in results.items():
        spatial = np.asarray(result["spatial"], np.float64)
        motion = np.asarray(result["motion"], np.float64)
        scores["spatial"][vid] = spatial
        scores["motion"][vid] = motion
        for method in FUSION_METHODS:
            weights = fusion_weights if method == "weighted" else None
            scores[method][vid] = fuse_scores(spatial, motion, method=method, weights=weights)
    return scores


def _confusion_picture(path: Path, labels: Sequence[int], predicted: Sequence[int],
                       class_names: Sequence[str], title: str) -> None:
    """Row-normalised confusion matrix over the classes that occur, as a PNG (Agg)."""
    from matplotlib.figure import Figure

    shown = sorted(set(labels) | set(predicted))
    position = {c: i for i, c in enumerate(shown)}
    matrix = np.zeros((len(shown), len(shown)))
    for true, guess in zip(labels, predicted, strict=True):
        matrix[position[true], position[guess]] += 1
    rows = matrix.sum(axis=1, keepdims=True)
    matrix = np.divide(matrix, rows, out=np.zeros_like(matrix), where=rows > 0)
    size = max(5.0, 0.16 * len(shown) + 2.5)
    figure = Figure(figsize=(size, size), dpi=100, layout="constrained")
    axes = figure.add_subplot()
    image = axes.imshow(matrix, cmap="Blues", vmin=0, vmax=1)
    names = [class_names[c] for c in shown]
    font = 8 if len(shown) <= 30 else 5
    axes.set_xticks(range(len(shown)), labels=names, rotation=90, fontsize=font)
    axes.set_yticks(range(len(shown)), labels=names, fontsize=font)
    axes.set_xlabel("predicted class")
    axes.set_ylabel("true class")
    axes.set_title(title, fontsize=9)
    figure.colorbar(image, ax=axes, shrink=0.6, label="fraction of the class's videos")
    with atomic_file(path, suffix=".png") as tmp:
        figure.savefig(tmp, format="png", metadata={"Software": None})


def _build_report(plan: _Plan, items: Sequence[VideoItem], missing: Mapping[str, str],
                  transient: Mapping[str, str], new: int, fusion_weights: tuple[float, float],
                  confusion_stream: str) -> EvaluationReport:
    """Read the stored results of ``items``, write the tables and the picture, return them."""
    class_names = tuple(plan.settings["class_names"])
    results, failures = {}, dict(missing)
    for item in items:
        result = _load_result(_result_path(plan.folder, item.id), plan.settings_id, item.id)
        if result is None:
            failures[item.id] = transient.get(item.id, "no stored result")
        elif result["status"] != "ok":
            failures[item.id] = result["reason"]
        else:
            results[item.id] = result
    labels = {item.id: item.label for item in items if item.id in results}
    pairs = sorted(labels.items())
    scores = _video_scores(results, fusion_weights)
    overall, per_class = {}, {}
    if pairs:
        overall = {s: video_accuracy(scores[s], pairs) for s in EVALUATION_STREAMS}
        for label in sorted(set(labels.values())):
            subset = [p for p in pairs if p[1] == label]
            per_class[class_names[label]] = {s: video_accuracy(scores[s], subset)
                                             for s in EVALUATION_STREAMS}
    top1 = {vid: {s: int(np.argsort(-scores[s][vid], kind="stable")[0])
                  for s in EVALUATION_STREAMS} for vid, _ in pairs}
    tables = {
        "accuracy.csv": _csv_text(["stream", "videos", "top1", "top5"], [
            [s, a.num_videos, *_accuracy_cells(a)] for s, a in overall.items()]),
        "per_class.csv": _csv_text(
            ["class", "videos", *(f"{s}_top{k}" for s in EVALUATION_STREAMS for k in (1, 5))],
            [[name, acc["spatial"].num_videos,
              *(cell for s in EVALUATION_STREAMS for cell in _accuracy_cells(acc[s]))]
             for name, acc in per_class.items()]),
        "predictions.csv": _csv_text(["video", "label", *EVALUATION_STREAMS], [
            [vid, class_names[label], *(class_names[top1[vid][s]] for s in EVALUATION_STREAMS)]
            for vid, label in pairs]),
        "failures.csv": _csv_text(["video", "reason"], sorted(failures.items())),
    }
    for name, text in tables.items():
        _write_text(plan.folder / name, text)
    files = [*tables]
    if pairs:
        what = f"{confusion_stream} fusion" if confusion_stream in FUSION_METHODS \
            else f"{confusion_stream} stream"
        _confusion_picture(plan.folder / "confusion.png", [label for _, label in pairs],
                           [top1[vid][confusion_stream] for vid, _ in pairs], class_names,
                           f"{what}, {len(pairs)} videos: {plan.settings['weights']['source']} "
                           f"weights, flow {plan.method}, sampling {plan.settings['sampling']}")
        files.append("confusion.png")
    return EvaluationReport(
        folder=plan.folder, settings=plan.settings, overall=overall, per_class=per_class,
        scores=scores, labels=labels, failures=failures, new=new, reused=len(results) - new,
        fusion_weights=fusion_weights, files=tuple(files))


def _comparison(reports: Mapping[str, EvaluationReport]) -> tuple[dict[str, Path], str]:
    """Per class accuracy differences of each other flow method against the first one."""
    methods = list(reports)
    reference = reports[methods[0]]
    paths, texts = {}, []
    for method in methods[1:]:
        other = reports[method]
        common = sorted(set(reference.labels) & set(other.labels))
        if not common:
            texts.append(f"flow {method} vs {methods[0]}: no video was scored with both")
            continue
        by_class: dict[int, list[str]] = {}
        for vid in common:
            by_class.setdefault(reference.labels[vid], []).append(vid)
        groups = [(reference.class_names[c], by_class[c]) for c in sorted(by_class)]
        groups.append(("all", common))
        width = max(len("class"), *(len(name) for name, _ in groups))
        lines = [f"flow {method} vs {methods[0]}: top-1 difference in points ({method} minus "
                 f"{methods[0]}) on the {len(common)} videos scored with both",
                 f"{'class':<{width}} {'videos':>6} "
                 + " ".join(f"{s:>9}" for s in EVALUATION_STREAMS)]
        rows = []
        for name, vids in groups:
            cells, shown = [], []
            for stream in EVALUATION_STREAMS:
                a, b = reference.accuracy(vids, stream), other.accuracy(vids, stream)
                for before, after in ((a.top1, b.top1), (a.top5, b.top5)):
                    cells += [_CSV_FLOAT.format(x) for x in (before, after, after - before)]
                shown.append(f"{100 * (b.top1 - a.top1):>+9.1f}")
            rows.append([name, len(vids), *cells])
            lines.append(f"{name:<{width}} {len(vids):>6} " + " ".join(shown))
        header = ["class", "videos"] + [f"{s}_top{k}_{tag}" for s in EVALUATION_STREAMS
                                        for k in (1, 5)
                                        for tag in (methods[0], method, "difference")]
        paths[method] = reference.folder / f"compare_flow_{method}.csv"
        _write_text(paths[method], _csv_text(header, rows))
        texts.append("\n".join(lines))
    return paths, "\n\n".join(texts)


# ---------------------------------------------------------------------------------------------
# the public entry points


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
        return max(1, _available_cores() // 2)
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive whole number, got {workers!r}")
    return workers


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
    from twostream_lab.commands import parse_sampling

    began = time.perf_counter()
    _distributed()
    sampling = parse_sampling(sampling)
    methods = _check_methods(flow, compare_flow)
    workers = _check_workers(workers, scheduler)
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive whole number, got {batch_size!r}")
    fuse_scores(np.ones(1), np.ones(1), method="weighted", weights=fusion_weights)  # validate
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
    everything else is passed to :func:`evaluate_videos`.

    Examples
    --------
    >>> print(run_evaluate("clips/", weights="demo", flow="dis", out="results"))  # doctest: +SKIP
    """
    from twostream_lab.commands import parse_weights

    methods = None if compare_flow is None else [m.strip() for m in compare_flow.split(",")]
    return evaluate_videos(videos, parse_weights(weights), flow=flow, sampling=sampling,
                           scheduler=scheduler, out=out, workers=workers, root=root,
                           compare_flow=methods, batch_size=batch_size, retry_failed=retry_failed,
                           progress=progress).text
