"""The demo models: two tiny streams with the structure of the pretrained ones, and their weights.

The demo models have the structure of the pretrained streams, only much smaller::

    Input "input_spatial" / "input_motion"
      -> BatchNormalization "data_norm" (moving mean/variance only: the input normalisation)
      -> block1_conv -> block1_pool -> block2_conv -> block2_pool -> block3_conv   (3x3, ReLU)
      -> GlobalAveragePooling2D "avg_pool" -> Dense softmax "predictions"

They take 48 x 48 inputs (one RGB frame; a stack of 10 flow frames, ``u0..u9 v0..v9``) and
score the eight synthetic classes of the offline lab (their names are stored with the weights,
:func:`demo_class_names`). The weights ship in ``twostream_lab/weights/``; the offline lab
(:func:`twostream_lab.offline_lab.training.train_demo_models`) trains them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import keras
from keras import layers

from twostream_lab.batching import STACKED_FRAMES
from twostream_lab.checks import positive_int

__all__ = [
    "SPATIAL_DEMO_NAME",
    "MOTION_DEMO_NAME",
    "DEMO_INPUT_SIZE",
    "DEMO_NUM_CLASSES",
    "WEIGHTS_DIR",
    "SPATIAL_WEIGHTS",
    "MOTION_WEIGHTS",
    "METRICS_FILE",
    "build_demo_spatial_model",
    "build_demo_motion_model",
    "build_demo_pair",
    "demo_class_names",
    "demo_metrics",
    "load_demo_models",
]

SPATIAL_DEMO_NAME = "spatial_demo"
MOTION_DEMO_NAME = "motion_demo"
#: The demo models' input size and number of classes (the offline lab's synthetic clips).
DEMO_INPUT_SIZE = (48, 48)
DEMO_NUM_CLASSES = 8

#: The shipped weights and metrics.
WEIGHTS_DIR = Path(__file__).resolve().parents[1] / "weights"
SPATIAL_WEIGHTS = "demo_spatial.weights.h5"
MOTION_WEIGHTS = "demo_motion.weights.h5"
METRICS_FILE = "demo_metrics.json"

_FILTERS = (16, 32, 32)
_loaded: dict[tuple, tuple[keras.Model, keras.Model]] = {}


def _backbone(x, filters: Sequence[int]):
    """3x3 ReLU convolutions, each but the last followed by 2x2 max pooling."""
    for i, width in enumerate(filters, start=1):
        x = layers.Conv2D(width, 3, padding="same", activation="relu", name=f"block{i}_conv")(x)
        if i < len(filters):
            x = layers.MaxPooling2D(2, name=f"block{i}_pool")(x)
    return x


def _head(x, num_classes: int):
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    return layers.Dense(num_classes, activation="softmax", name="predictions")(x)


def _check_shape(shape, length: int, what: str) -> tuple[int, ...]:
    try:
        dims = tuple(int(d) for d in shape)
    except (TypeError, ValueError):
        dims = ()
    if len(dims) != length or min(dims) < 1:
        raise ValueError(f"input_shape must be {what}, got {shape!r}")
    return dims


def build_demo_spatial_model(
    *,
    input_shape: Sequence[int] = (*DEMO_INPUT_SIZE, 3),
    num_classes: int = DEMO_NUM_CLASSES,
    filters: Sequence[int] = _FILTERS,
) -> keras.Model:
    """The demo spatial stream: data_norm -> 3 small conv blocks -> avg_pool -> predictions.

    Parameters
    ----------
    input_shape : (height, width, 3)
        One RGB frame in 0..1 (:func:`twostream_lab.batching.prepare_frames`).
    num_classes : int
        Softmax size (8 synthetic classes).
    filters : sequence of int
        Width of each convolution block.

    Returns
    -------
    keras.Model
        ``spatial_demo`` with layers ``input_spatial``, ``data_norm``, ``block*_conv``,
        ``avg_pool``, ``predictions``; random weights.

    Examples
    --------
    >>> model = build_demo_spatial_model()
    >>> model.input_shape, model.output_shape
    ((None, 48, 48, 3), (None, 8))
    """
    shape = _check_shape(input_shape, 3, "(height, width, 3)")
    inputs = keras.Input(shape=shape, name="input_spatial")
    x = layers.BatchNormalization(axis=3, center=False, scale=False, name="data_norm")(inputs)
    outputs = _head(_backbone(x, filters), int(num_classes))
    return keras.Model(inputs, outputs, name=SPATIAL_DEMO_NAME)


def build_demo_motion_model(
    stacked_frames: int = STACKED_FRAMES,
    *,
    input_shape: Sequence[int] = DEMO_INPUT_SIZE,
    num_classes: int = DEMO_NUM_CLASSES,
    filters: Sequence[int] = _FILTERS,
) -> keras.Model:
    """The demo motion stream: data_norm -> 3 small conv blocks -> avg_pool -> predictions.

    Parameters
    ----------
    stacked_frames : int
        ``L`` flow frames per input; the input has ``2L`` channels, ``u`` then ``v``
        (:func:`twostream_lab.batching.prepare_stacks`).
    input_shape : (height, width)
        Spatial size of the flow stack.
    num_classes : int
        Softmax size (8 synthetic classes).
    filters : sequence of int
        Width of each convolution block.

    Returns
    -------
    keras.Model
        ``motion_demo`` with layers ``input_motion``, ``data_norm``, ``block*_conv``,
        ``avg_pool``, ``predictions``; random weights.

    Examples
    --------
    >>> build_demo_motion_model().input_shape
    (None, 48, 48, 20)
    """
    positive_int(stacked_frames, "stacked_frames")
    height, width = _check_shape(input_shape, 2, "(height, width): the channels are 2L")
    inputs = keras.Input(shape=(height, width, 2 * int(stacked_frames)), name="input_motion")
    x = layers.BatchNormalization(axis=3, center=False, scale=False, name="data_norm")(inputs)
    outputs = _head(_backbone(x, filters), int(num_classes))
    return keras.Model(inputs, outputs, name=MOTION_DEMO_NAME)


def demo_metrics(directory: str | Path | None = None) -> dict[str, Any]:
    """The metrics written next to the demo weights (the shipped ones by default).

    Examples
    --------
    >>> sorted(demo_metrics()["accuracy"])
    ['fused', 'motion', 'spatial']
    """
    path = Path(directory or WEIGHTS_DIR) / METRICS_FILE
    if not path.is_file():
        raise FileNotFoundError(
            f"no demo metrics at {path}; train the demo models there with "
            f"train_demo_models(out_dir={str(path.parent)!r}) (or `twostream-lab train-demo`)"
        )
    return json.loads(path.read_text(encoding="utf-8"))


def build_demo_pair(metrics: dict[str, Any]) -> tuple[keras.Model, keras.Model]:
    """Untrained ``(spatial, motion)`` demo models of the sizes that ``metrics`` records."""
    size = tuple(metrics["input_size"])
    spatial = build_demo_spatial_model(input_shape=(*size, 3))
    motion = build_demo_motion_model(metrics["stacked_frames"], input_shape=size)
    return spatial, motion


def demo_class_names(directory: str | Path | None = None) -> tuple[str, ...]:
    """The class names of the demo models in ``directory`` (the shipped ones by default).

    Examples
    --------
    >>> demo_class_names()[0]
    'red moving up-left'
    """
    return tuple(demo_metrics(directory)["class_names"])


def load_demo_models(directory: str | Path | None = None) -> tuple[keras.Model, keras.Model]:
    """The demo ``(spatial, motion)`` models with their trained weights.

    Parameters
    ----------
    directory : path, optional
        Folder with ``demo_spatial.weights.h5``, ``demo_motion.weights.h5`` and
        ``demo_metrics.json`` (written by :func:`train_demo_models`); default: the weights
        shipped in the package. The loaded pair is cached per folder (and file times), so
        repeated calls are instant and return the same model objects.

    Returns
    -------
    (keras.Model, keras.Model)
        Spatial and motion streams; class names are
        :data:`~twostream_lab.offline_lab.synthetic.SYNTHETIC_CLASSES`.

    Examples
    --------
    >>> spatial, motion = load_demo_models()
    >>> spatial.name, motion.input_shape
    ('spatial_demo', (None, 48, 48, 20))
    """
    folder = Path(directory or WEIGHTS_DIR).resolve()
    files = [folder / SPATIAL_WEIGHTS, folder / MOTION_WEIGHTS, folder / METRICS_FILE]
    missing = [f.name for f in files if not f.is_file()]
    if missing:
        raise FileNotFoundError(
            f"the demo weights folder {folder} lacks {', '.join(missing)}; train the demo models "
            f"with train_demo_models(out_dir={str(folder)!r}) (or `twostream-lab train-demo`), "
            "or reinstall twostream-lab to get the shipped weights"
        )
    key = (str(folder), *(f.stat().st_mtime_ns for f in files))
    if key not in _loaded:
        spatial, motion = build_demo_pair(demo_metrics(folder))
        spatial.load_weights(files[0])
        motion.load_weights(files[1])
        _loaded[key] = (spatial, motion)
    return _loaded[key]
