"""The two Xception streams of the pretrained UCF101 models, rebuilt layer for layer in Keras 3.

Both streams share one structure::

    Input -> BatchNormalization "data_norm" (moving mean/variance only) -> Xception "xception"
          -> [spatial: GlobalAveragePooling2D "avg_pool" -> Dense softmax "predictions"]

``data_norm`` is the only input normalisation: frames and flow stacks go in as values in
[0, 1]. The spatial stream sees one RGB frame; the motion stream sees ``stacked_frames``
consecutive flow frames, channels ``u[0..L-1]`` then ``v[0..L-1]``. Output index ``i`` is line
``i + 1`` of UCF101's ``classInd.txt``.

With the defaults the parameter counts are exactly those of the TF1 files:
21,068,435 (54,534 non-trainable) for the spatial stream and 21,073,365 (54,568
non-trainable) for the motion stream, so their weights load with
:func:`twostream_lab.weights.legacy.load_legacy_weights`.
"""

from __future__ import annotations

import warnings

import keras
from keras import layers

SPATIAL_MODEL_NAME = "spatial_xception"
MOTION_MODEL_NAME = "motion_xception"
DEFAULT_STACKED_FRAMES = 10


def _xception(input_shape: tuple[int, int, int], *, include_top: bool,
              num_classes: int) -> keras.Model:
    """Keras's Xception (random weights) as a sub-model named ``xception``."""
    kwargs = {"classes": num_classes} if include_top else {}
    with warnings.catch_warnings():
        # Keras warns for any channel count other than 1 or 3; 2L flow channels are intended.
        warnings.filterwarnings("ignore", message="This model usually expects 1 or 3 input")
        return keras.applications.Xception(weights=None, include_top=include_top,
                                           input_shape=input_shape, name="xception", **kwargs)


def _check_size(input_shape, length: int, what: str) -> tuple[int, ...]:
    shape = tuple(int(d) for d in input_shape)
    if len(shape) != length or min(shape) < 1:
        raise ValueError(f"input_shape must be {what}; got {tuple(input_shape)!r}")
    return shape


def build_spatial_model(*, input_shape: tuple[int, int, int] = (299, 299, 3),
                        num_classes: int = 101) -> keras.Model:
    """Build the spatial (RGB frame) stream: data_norm -> Xception -> avg_pool -> predictions.

    Parameters
    ----------
    input_shape : (height, width, channels)
        One frame; the pretrained model uses (299, 299, 3). Xception needs at least 71x71.
    num_classes : int
        Size of the softmax output (101 for UCF101).

    Returns
    -------
    keras.Model
        Model ``spatial_xception`` with layers ``input_spatial``, ``data_norm``, ``xception``
        (nested, ``include_top=False``), ``avg_pool``, ``predictions``; random weights.

    Examples
    --------
    >>> model = build_spatial_model()
    >>> model.count_params()
    21068435
    """
    shape = _check_size(input_shape, 3, "(height, width, channels)")
    inputs = keras.Input(shape=shape, name="input_spatial")
    x = layers.BatchNormalization(axis=3, center=False, scale=False, name="data_norm")(inputs)
    x = _xception(shape, include_top=False, num_classes=num_classes)(x)
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name=SPATIAL_MODEL_NAME)


def build_motion_model(stacked_frames: int = DEFAULT_STACKED_FRAMES, *,
                       input_shape: tuple[int, int] = (299, 299),
                       num_classes: int = 101) -> keras.Model:
    """Build the motion (stacked optical flow) stream: data_norm -> Xception with its top.

    Parameters
    ----------
    stacked_frames : int
        Number L of consecutive flow frames per input; the input has 2L channels
        (u of the L frames, then v of the same frames). The pretrained model uses 10.
    input_shape : (height, width)
        Spatial size of the flow stack; the pretrained model uses (299, 299).
    num_classes : int
        Size of the softmax output (101 for UCF101).

    Returns
    -------
    keras.Model
        Model ``motion_xception`` with layers ``input_motion``, ``data_norm`` and ``xception``
        (nested, ``include_top=True``: its own ``avg_pool`` and ``predictions``); random weights.

    Examples
    --------
    >>> model = build_motion_model()
    >>> model.input_shape, model.count_params()
    ((None, 299, 299, 20), 21073365)
    """
    if int(stacked_frames) < 1:
        raise ValueError(f"stacked_frames must be at least 1; got {stacked_frames!r}")
    height, width = _check_size(input_shape, 2, "(height, width): the channels are "
                                "2 * stacked_frames")
    shape = (height, width, 2 * int(stacked_frames))
    inputs = keras.Input(shape=shape, name="input_motion")
    x = layers.BatchNormalization(axis=3, center=False, scale=False, name="data_norm")(inputs)
    outputs = _xception(shape, include_top=True, num_classes=num_classes)(x)
    return keras.Model(inputs, outputs, name=MOTION_MODEL_NAME)


def stacked_frames_of(model: keras.Model) -> int:
    """Return the number of stacked flow frames L a motion model expects (channels // 2).

    Examples
    --------
    >>> stacked_frames_of(build_motion_model(5, input_shape=(71, 71)))
    5
    """
    channels = model.input_shape[-1]
    if channels is None or channels % 2:
        raise ValueError(f"{model.name!r} takes {channels} input channels; a motion model takes "
                         "an even number (u then v of each stacked flow frame)")
    return channels // 2
