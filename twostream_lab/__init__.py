"""twostream-lab: two-stream action recognition (Simonyan & Zisserman 2014) for teaching.

The public names are imported lazily, so ``import twostream_lab`` stays light: TensorFlow is only
loaded when a model is built or loaded, OpenCV only when a video or flow is touched.

The sub-packages follow the pipeline, each importing only those before it: ``data`` (folders,
sample videos, classes) -> ``video`` -> ``flow`` -> ``batching`` -> ``weights`` (TF1 .h5 files,
the pretrained download) -> ``models`` (the architectures, the demo models, ``TwoStream``) ->
``fusion`` -> ``predict`` -> ``pictures`` -> ``evaluation``; then ``offline_lab`` (synthetic
clips, demo training), ``instructor`` (the checker), ``notebook`` (widgets, Colab, exercises),
``commands`` and ``cli`` on top.
"""

from __future__ import annotations

import importlib

from twostream_lab import _tensorflow_startup

_tensorflow_startup.install()

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    # data: folders, sample videos, classes
    "cache_dir": "data.paths",
    "data_dir": "data.paths",
    "UCF101_CLASSES": "data.classes",
    "SAMPLE_VIDEOS": "data.samples",
    "available_samples": "data.samples",
    "download_samples": "data.samples",
    # video and optical flow
    "Video": "video",
    "VideoError": "video",
    "TruncatedVideoWarning": "video",
    "read_video": "video",
    "Flow": "flow",
    "FlowError": "flow",
    "FLOW_METHODS": "flow",
    "compute_flow": "flow",
    "quantize_flow": "flow",
    "tutorial_cast": "flow",
    "save_flow": "flow",
    "load_flow": "flow",
    "tvl1_flow_tf": "flow.tvl1_tf",
    # weights and models
    "load_legacy_weights": "weights.legacy",
    "WeightsError": "weights.legacy",
    "PretrainedError": "weights.pretrained",
    "fetch_pretrained": "weights.pretrained",
    "build_spatial_model": "models.xception",
    "build_motion_model": "models.xception",
    "load_demo_models": "models.demo",
    "TwoStream": "models.two_stream",
    "load_two_stream": "models.two_stream",
    "choose_weights": "models.two_stream",
    # fusion, prediction, pictures
    "fuse_scores": "fusion",
    "predict_video": "predict",
    "Prediction": "predict",
    "flow_to_rgb": "pictures.flow_viz",
    "plot_top_k": "pictures.plotting",
    "frame_figure": "pictures.plotting",
    "render_demo_video": "pictures.render",
    "show_video": "pictures.render",
    # evaluation
    "read_preds": "evaluation.preds",
    "evaluate_two_stream": "evaluation.preds",
    "evaluate_videos": "evaluation.dataset",
    # the offline lab
    "SYNTHETIC_CLASSES": "offline_lab.synthetic",
    "make_synthetic_clip": "offline_lab.synthetic",
    "make_synthetic_dataset": "offline_lab.synthetic",
    "train_demo_models": "offline_lab.training",
    # notebooks and instructors
    "video_picker": "notebook.widgets",
    "frame_explorer": "notebook.widgets",
    "check_submissions": "instructor.checker",
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
