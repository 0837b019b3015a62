"""twostream-lab: two-stream action recognition (Simonyan & Zisserman 2014) for teaching.

The public names are imported lazily, so ``import twostream_lab`` stays light: TensorFlow is only
loaded when a model is built or loaded, OpenCV only when a video or flow is touched.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.machinery
import os
import re
import sys
from collections.abc import Iterator

# TensorFlow's C++ start-up lines ("oneDNN custom operations are on", timestamps) go to stderr,
# clutter every notebook and break nbval's output comparison. Users can still set their own level.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# TensorFlow 2.21 logs through absl while its libraries load, before it applies that level: where
# oneDNN is on (by default on CPUs with AVX-512 VNNI or newer) `import tensorflow` prints, twice,
# "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR" and
# "I0000 ... port.cc:153] oneDNN custom operations are on ...". So the first `import tensorflow`
# after this package's runs with file descriptor 2 captured, and what it wrote goes back to stderr
# without the log lines that TF_CPP_MIN_LOG_LEVEL hides; everything else (Python warnings, errors)
# is kept. oneDNN itself is left as it is: turning it off would change the numbers.
_ABSL_BANNER = (
    b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR"
)
_TF_LOG_LINE = re.compile(  # absl "I0000 00:00:1796128823.35  42 port.cc:153] ", TF "2026-... I "
    rb"(?:(?P<absl>[IWEF])\d{4} \d\d:\d\d:\d+\.\d+ +\d+ "
    rb"|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: (?P<tf>[IWEF]) )\S+:\d+\] "
)


def _tf_log_level() -> int:
    """``TF_CPP_MIN_LOG_LEVEL`` as TensorFlow reads it (0 when unset or not a number)."""
    value = os.environ.get("TF_CPP_MIN_LOG_LEVEL", "").strip()
    return int(value) if value.isdigit() else 0


def _hidden_by_level(line: bytes, level: int) -> bool:
    """Whether TensorFlow's log ``level`` (2: no INFO or WARNING) hides this line of stderr."""
    if line.rstrip(b"\r\n") == _ABSL_BANNER:
        return True
    match = _TF_LOG_LINE.match(line)
    return match is not None and b"IWEF".index(match["absl"] or match["tf"]) < level


@contextlib.contextmanager
def _tensorflow_startup_filtered() -> Iterator[None]:
    """Capture file descriptor 2 for the block; then write it back without the hidden log lines."""
    import tempfile

    level = _tf_log_level()
    try:
        saved = os.dup(2) if level >= 2 else None
    except OSError:  # no stderr at all: nothing to filter
        saved = None
    if saved is None:
        yield
        return
    with tempfile.TemporaryFile() as captured:
        if sys.stderr is not None:
            sys.stderr.flush()
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            if sys.stderr is not None:
                sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            kept = b"".join(line for line in captured if not _hidden_by_level(line, level))
            while kept:
                kept = kept[os.write(2, kept):]


class _FilteredLoader:
    """Runs TensorFlow's own loader inside :func:`_tensorflow_startup_filtered`."""

    def __init__(self, loader) -> None:
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module) -> None:
        module.__loader__ = module.__spec__.loader = self.loader  # TensorFlow sees its own loader
        if _TENSORFLOW_FINDER in sys.meta_path:
            sys.meta_path.remove(_TENSORFLOW_FINDER)  # only the first import
        with _tensorflow_startup_filtered():
            self.loader.exec_module(module)


class _TensorFlowFinder:
    """Finds ``tensorflow`` only: its usual spec, executed by :class:`_FilteredLoader`."""

    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow":
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or not hasattr(spec.loader, "exec_module"):
            return None  # not found on sys.path: the other finders decide
        spec.loader = _FilteredLoader(spec.loader)
        return spec


_TENSORFLOW_FINDER = _TensorFlowFinder()
if "tensorflow" not in sys.modules:
    sys.meta_path.insert(0, _TENSORFLOW_FINDER)

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    # folders and data
    "cache_dir": "paths",
    "data_dir": "paths",
    "UCF101_CLASSES": "classes",
    "SAMPLE_VIDEOS": "samples",
    "available_samples": "samples",
    "download_samples": "samples",
    # video and optical flow
    "Video": "video",
    "VideoError": "video",
    "read_video": "video",
    "Flow": "flow",
    "FlowError": "flow",
    "FLOW_METHODS": "flow",
    "compute_flow": "flow",
    "quantize_flow": "flow",
    "tutorial_cast": "flow",
    "save_flow": "flow",
    "load_flow": "flow",
    "flow_to_rgb": "flow_viz",
    "tvl1_flow_tf": "tvl1_tf",
    # models and weights
    "build_spatial_model": "models",
    "build_motion_model": "models",
    "load_legacy_weights": "legacy",
    "WeightsError": "legacy",
    "TwoStream": "pretrained",
    "PretrainedError": "pretrained",
    "load_two_stream": "pretrained",
    "fetch_pretrained": "pretrained",
    "read_preds": "evaluation",
    "evaluate_two_stream": "evaluation",
    "evaluate_videos": "dataset_eval",
    # prediction, fusion, pictures
    "predict_video": "predict",
    "Prediction": "predict",
    "fuse_scores": "fusion",
    "plot_top_k": "plotting",
    "frame_figure": "plotting",
    "render_demo_video": "render",
    "show_video": "render",
    # the offline lab
    "SYNTHETIC_CLASSES": "synthetic",
    "make_synthetic_clip": "synthetic",
    "make_synthetic_dataset": "synthetic",
    "load_demo_models": "demo_models",
    "train_demo_models": "demo_models",
    # notebooks and instructors
    "video_picker": "widgets",
    "frame_explorer": "widgets",
    "check_submissions": "checker",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'twostream_lab' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
