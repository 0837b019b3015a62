"""What a dataset evaluation stores: the weights and settings fingerprint, the settings folder,
one result file per video (what a resumed run reuses), and the run's log."""

from __future__ import annotations

import hashlib
import importlib.resources
import json
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from twostream_lab.data.classes import UCF101_CLASSES
from twostream_lab.data.paths import atomic_file
from twostream_lab.evaluation.videos import VideoItem

_RESULT_FORMAT = 1
#: The shipped demo weights and metrics (architecture, class names) in ``twostream_lab/weights``
#: (``models.demo.SPATIAL_WEIGHTS``, ``MOTION_WEIGHTS``, ``METRICS_FILE``), named here so that
#: the machine that runs the evaluation hashes the weights and reads the class names without
#: importing Keras.
_DEMO_FILES = ("demo_spatial.weights.h5", "demo_motion.weights.h5", "demo_metrics.json")
_SETTINGS_FILE = "settings.json"
_LOG_FILE = "evaluate.log"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")

log = logging.getLogger(__name__)


class EvaluationError(RuntimeError):
    """The evaluation cannot run: no cluster, weights that differ on a worker, foreign results."""


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
        with atomic_file(recorded) as tmp:
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
    # the temporary name ends in ".tmp", so that a glob of videos/*.json sees only results
    with atomic_file(_result_path(folder, item.id)) as tmp:
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
