"""Helpers for the model tests: write weights files in the TF1 tf.keras HDF5 layout with h5py.

The layout follows ../shared/fixtures/legacy_h5/README.md (as h5py 3 reads a file written by
TF 1.11 + h5py 2.8): a ``model_weights`` group whose ``layer_names`` attribute is a
fixed-length byte array; one group per top-level layer with a ``weight_names`` attribute
(fixed-length bytes, or an empty float64 array for a layer without weights); weight names
ending in ``:0``; a nested model's arrays inside the nested layer's group
(``model_weights/xception/block1_conv1/kernel:0``), all trainable ones first; optional graph
suffixes (``block1_conv1_1``), attributes split into ``layer_names0``, ``layer_names1``, ...,
and an ``optimizer_weights`` group.
"""

from __future__ import annotations

import base64
import functools
import json
import marshal
import os
from pathlib import Path

import h5py
import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def formula_input(shape, batch: int = 2) -> np.ndarray:
    """The fixtures' input: ``x[n,i,j,c] = ((i*7 + j*13 + c*29 + n*31) % 256) / 255``."""
    h, w, c = shape
    n, i, j, ch = np.meshgrid(np.arange(batch), np.arange(h), np.arange(w), np.arange(c),
                              indexing="ij")
    return (((i * 7 + j * 13 + ch * 29 + n * 31) % 256) / 255.0).astype(np.float32)


def build_tiny_model(channels: int = 4, num_classes: int = 10):
    """The README's ``tiny_xception``: data_norm -> nested ``xception`` -> avg_pool -> Dense."""
    import keras
    from keras import layers

    sub_in = keras.Input(shape=(32, 32, channels))
    y = layers.Conv2D(8, 3, strides=2, use_bias=False, name="block1_conv1")(sub_in)
    y = layers.BatchNormalization(name="block1_conv1_bn")(y)
    y = layers.Activation("relu", name="block1_conv1_act")(y)
    r = layers.Conv2D(16, 1, strides=2, padding="same", use_bias=False, name="conv2d_1")(y)
    r = layers.BatchNormalization(name="batch_normalization_1")(r)
    y = layers.SeparableConv2D(16, 3, padding="same", use_bias=False, name="block2_sepconv1")(y)
    y = layers.BatchNormalization(name="block2_sepconv1_bn")(y)
    y = layers.MaxPooling2D(3, strides=2, padding="same", name="block2_pool")(y)
    y = layers.add([y, r], name="add_1")
    sub = keras.Model(sub_in, y, name="xception")

    inputs = keras.Input(shape=(32, 32, channels), name="input_tiny")
    x = layers.BatchNormalization(axis=3, center=False, scale=False, name="data_norm")(inputs)
    x = sub(x)
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name="tiny_xception")


def randomize(model, seed: int = 0) -> list[np.ndarray]:
    """Give every weight distinct random values (variances stay positive); return them."""
    rng = np.random.default_rng(seed)
    values = []
    for variable in model.weights:
        shape = tuple(variable.shape)
        if variable.path.endswith(("moving_variance", "gamma")):
            value = rng.uniform(0.5, 1.5, shape)
        else:
            value = rng.normal(0.0, 0.3, shape)
        variable.assign(value.astype("float32"))
        values.append(value.astype("float32"))
    return values


def _fixed_bytes(names: list[str]) -> np.ndarray:
    return np.array([n.encode("utf-8") for n in names], dtype=f"S{max(map(len, names))}")


def _write_names(attrs, key: str, names: list[str], split: int | None) -> None:
    if not names:
        attrs[key] = np.array([], dtype=np.float64)
    elif split is None or len(names) <= split:
        attrs[key] = _fixed_bytes(names)
    else:
        for part, start in enumerate(range(0, len(names), split)):
            attrs[f"{key}{part}"] = _fixed_bytes(names[start:start + split])


def tf1_weight_names(layer, suffix: str = "") -> tuple[list[str], list]:
    """TF1 names (``block1_conv1{suffix}/kernel:0``) and variables of one top-level layer."""
    variables = list(layer.trainable_weights) + list(layer.non_trainable_weights)
    names = []
    for variable in variables:
        owner, _, role = variable.path.rpartition("/")
        names.append(f"{owner.rsplit('/', 1)[-1]}{suffix}/{role}:0")
    return names, variables


def lambda_model_config(marker: Path) -> str:
    """A TF1-style model_config whose Lambda layer holds marshalled bytecode that, if it were
    ever deserialised and called, would create ``marker``."""
    source = f"lambda x: (__import__('pathlib').Path({str(marker)!r}).write_text('ran'), x)[1]"
    code = compile(source, "<payload>", "eval").co_consts[0]
    payload = base64.b64encode(marshal.dumps(code)).decode("ascii")
    layer = {"class_name": "Lambda", "name": "evil", "inbound_nodes": [[["data_norm", 0, 0, {}]]],
             "config": {"name": "evil", "trainable": True, "function_type": "lambda",
                        "function": [payload, None, None], "module": "__main__",
                        "output_shape": None, "output_shape_type": "raw", "arguments": {}}}
    return json.dumps({"class_name": "Model", "config": {"name": "tiny_xception",
                                                         "layers": [layer]}})


def run_lambda_payload(model_config: str) -> None:
    """What an unsafe loader would do with the Lambda of :func:`lambda_model_config`."""
    import types

    function = json.loads(model_config)["config"]["layers"][0]["config"]["function"][0]
    code = marshal.loads(base64.b64decode(function))
    types.FunctionType(code, {"__builtins__": __builtins__})(0)


def write_tf1_h5(path, model, *, suffix: str = "", split: int | None = None,
                 optimizer: bool = False, bytes_attrs: bool = False,
                 model_config: str | None = None, extra_layers: tuple[str, ...] = ()) -> Path:
    """Write ``model``'s weights in the TF1 ``model.save()`` layout.

    ``suffix`` adds a graph suffix (``_1``) to layer and weight names, ``split`` splits
    ``layer_names`` / ``weight_names`` into parts of that many names, ``optimizer`` adds an
    ``optimizer_weights`` group, ``bytes_attrs`` stores the root string attributes as bytes
    (older h5py) instead of str, ``extra_layers`` lists weightless layers to add at the end.
    """
    path = Path(path)
    text = (lambda s: np.bytes_(s.encode())) if bytes_attrs else str
    config = model_config or json.dumps({"class_name": "Model",
                                         "config": {"name": model.name, "layers": []}})
    with h5py.File(path, "w") as file:
        file.attrs["keras_version"] = text("2.1.6-tf")
        file.attrs["backend"] = text("tensorflow")
        file.attrs["model_config"] = text(config)
        file.attrs["training_config"] = text(json.dumps({"loss": "sparse_ce"}))
        group = file.create_group("model_weights")
        group.attrs["keras_version"] = text("2.1.6-tf")
        group.attrs["backend"] = text("tensorflow")
        layer_names = [layer.name + suffix for layer in model.layers] + list(extra_layers)
        _write_names(group.attrs, "layer_names", layer_names, split)
        for layer, layer_name in zip(model.layers, layer_names):
            layer_group = group.create_group(layer_name)
            names, variables = tf1_weight_names(layer, suffix)
            _write_names(layer_group.attrs, "weight_names", names, split)
            for name, variable in zip(names, variables):
                layer_group.create_dataset(name, data=np.asarray(variable.numpy()))
        for name in extra_layers:
            _write_names(group.create_group(name).attrs, "weight_names", [], None)
        if optimizer:
            opt = file.create_group("optimizer_weights")
            names = ["Adam/iterations:0"] + [f"training/Adam/Variable_{i}:0" for i in range(3)]
            _write_names(opt.attrs, "weight_names", names, None)
            opt.create_dataset(names[0], data=np.int64(7))
            for name in names[1:]:
                opt.create_dataset(name, data=np.ones((5, 3), np.float32))
    return path


@functools.cache
def full_models():
    """The spatial and the motion model, built once per test session (each build is slow)."""
    from twostream_lab.models.xception import build_motion_model, build_spatial_model

    return build_spatial_model(), build_motion_model()
