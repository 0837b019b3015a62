"""twostream-lab: two-stream action recognition (Simonyan & Zisserman 2014) for teaching.

The public names are imported lazily, so ``import twostream_lab`` stays light: TensorFlow is only
loaded when a model is built or loaded, OpenCV only when a video or flow is touched.
"""

from __future__ import annotations

import importlib
import os

# TensorFlow's C++ start-up lines ("oneDNN custom operations are on", timestamps) go to stderr,
# clutter every notebook and break nbval's output comparison. Users can still set their own level.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

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
