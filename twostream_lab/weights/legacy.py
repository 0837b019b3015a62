"""Load legacy tf.keras (TensorFlow 1) and Keras 3 HDF5 weights into a rebuilt model, safely.

``keras.models.load_model`` cannot read the TF1 files of the pretrained two-stream models
(their configs carry TF1-only fields and Lambda layers as marshalled Python bytecode), and
deserialising a model config from a downloaded file would run code from that file. So the
architecture is rebuilt in code (:mod:`twostream_lab.models.xception`) and this module copies only
the arrays in, with h5py. ``model_config`` and ``training_config`` are never read.

Supported layouts:

* legacy HDF5 (``model.save("x.h5")`` of TF1 tf.keras, Keras 2 and Keras 3, and the
  ``save_weights("x.h5")`` of Keras 2): ``model_weights/<layer>/<weight name>``, with the
  names in ``layer_names`` / ``weight_names`` attributes (str, bytes, fixed-length byte arrays,
  split into ``layer_names0``, ``layer_names1``, ... when large; an empty float array for a
  layer without weights; ``:0`` and graph suffixes such as ``block1_conv1_1`` in the names).
  Arrays are matched **by order**, not by name (auto-generated names such as ``conv2d_4``
  differ between TF1 and Keras 3 and between sessions): the i-th top-level layer with weights
  in the file goes to the i-th top-level layer with weights in the model, in the order
  trainable weights then non-trainable weights (for a nested model such as ``xception``: all
  its trainable weights, then all its non-trainable ones). ``optimizer_weights`` is ignored.
* Keras 3 ``model.save_weights("x.weights.h5")``: ``layers/<class name>[_n]/vars/<i>``.

Every shape is checked before anything is assigned, so a failed load leaves the model as it
was and raises one :class:`WeightsError` that names the layer and both shapes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from typing import TYPE_CHECKING

import h5py
import numpy as np

if TYPE_CHECKING:  # Keras (TensorFlow) is imported by the functions that load weights
    import keras

__all__ = ["WeightsError", "WeightsFileInfo", "load_legacy_weights", "read_weights_info"]

LEGACY_FORMAT = "legacy-h5"
KERAS3_FORMAT = "keras3-weights-h5"

# Last component of a weight name: BatchNormalization gamma/beta/moving_*, Conv/Dense
# kernel/bias, SeparableConv depthwise/pointwise kernels. Used to catch misordered arrays.
_ROLES = frozenset({"kernel", "bias", "gamma", "beta", "moving_mean", "moving_variance",
                    "depthwise_kernel", "pointwise_kernel"})


class WeightsError(ValueError):
    """A weights file cannot be read, or its arrays do not fit the model."""


@dataclass(frozen=True)
class WeightsFileInfo:
    """What a weights file holds, read from its HDF5 structure only (no array data).

    Attributes
    ----------
    path : Path
    format : str
        ``"legacy-h5"`` (``model_weights`` / ``layer_names``: TF1, Keras 2, Keras 3 ``.h5``) or
        ``"keras3-weights-h5"`` (Keras 3 ``.weights.h5``).
    keras_version : str or None
        As written by the saving Keras (``"2.1.6-tf"`` for the TF1 files).
    layer_names : tuple of str
        Top-level layers that hold weights (file order for legacy files).
    num_arrays, num_params : int
        Number of weight arrays and of numbers in them (optimizer state excluded).
    input_channels : int or None
        Length of the ``data_norm`` statistics: 3 for a spatial stream, 2L for a motion one.
    num_classes : int or None
        Output size of the (only) Dense kernel.
    has_optimizer_weights : bool
    """

    path: Path
    format: str
    keras_version: str | None
    layer_names: tuple[str, ...]
    num_arrays: int
    num_params: int
    input_channels: int | None
    num_classes: int | None
    has_optimizer_weights: bool


@dataclass(frozen=True)
class _FileLayer:
    """The weight datasets of one layer of the file, in file order."""

    name: str
    weight_names: tuple[str, ...]
    datasets: tuple[h5py.Dataset, ...]


# ---------------------------------------------------------------------------------------------
# reading the file


def _text(value) -> str:
    return value.decode("utf-8") if isinstance(value, bytes | np.bytes_) else str(value)


def _string_list(attrs: h5py.AttributeManager, name: str) -> list[str] | None:
    """Attribute ``name`` (or its split parts ``name0``, ``name1``, ...) as a list of str."""
    if name in attrs:
        parts = [attrs[name]]
    else:
        parts = []
        while f"{name}{len(parts)}" in attrs:
            parts.append(attrs[f"{name}{len(parts)}"])
        if not parts:
            return None
    names: list[str] = []
    for part in parts:
        array = np.atleast_1d(np.asarray(part))
        if array.size == 0:  # TF1 writes an empty float array for a layer without weights
            continue
        if array.dtype.kind not in "SUO":
            raise WeightsError(f"attribute {name!r} holds {array.dtype} values, not names")
        names.extend(_text(item) for item in array.ravel())
    return names


def _short(weight_name: str) -> str:
    return weight_name[:-2] if weight_name.endswith(":0") else weight_name


def _role(weight_name: str) -> str:
    return _short(weight_name).rsplit("/", 1)[-1]


def _base_name(layer_name: str) -> str:
    """``data_norm_1`` -> ``data_norm`` (graph suffix of TF1 models built in a used graph)."""
    return re.sub(r"_\d+$", "", layer_name)


def _sniff(path: Path) -> str:
    """A short description of what a non-HDF5 file looks like."""
    with open(path, "rb") as file:
        head = file.read(512)
    if not head:
        return "it is empty"
    if head.startswith(b"PK\x03\x04"):
        return ("it is a zip archive: extract the .h5 from it first (a Keras 3 '.keras' "
                "file is a zip too: load it with keras.models.load_model)")
    if b"<html" in head.lower() or head.lstrip().startswith(b"<"):
        return ("it is a web page (HTML), e.g. Google Drive's 'quota exceeded' or "
                "'confirm download' page saved instead of the file")
    return f"it starts with {head[:16]!r}"


@contextmanager
def _open(path) -> Iterator[h5py.File]:
    """Open ``path`` read-only, turning every reading problem into a clear error."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no weights file at {path}")
    if not h5py.is_hdf5(path):
        raise WeightsError(f"{path} is not an HDF5 weights file: {_sniff(path)}")
    try:
        with h5py.File(path, "r") as file:
            yield file
    except WeightsError:
        raise
    except (OSError, KeyError, RuntimeError) as exc:
        raise WeightsError(
            f"{path} is damaged or truncated ({path.stat().st_size:,} bytes); h5py said: {exc}. "
            "Download or copy the file again.") from exc


def _file_format(file: h5py.File) -> tuple[str, h5py.Group]:
    if "model_weights" in file:
        return LEGACY_FORMAT, file["model_weights"]
    if _string_list(file.attrs, "layer_names") is not None:
        return LEGACY_FORMAT, file
    if isinstance(file.get("layers"), h5py.Group):
        return KERAS3_FORMAT, file
    raise WeightsError(
        f"{file.filename} holds no Keras weights (no 'model_weights' group, no 'layer_names' "
        f"attribute, no 'layers' group; top-level entries: {sorted(file)})")


def _legacy_layers(group: h5py.Group) -> list[_FileLayer]:
    """The layers of a legacy file that hold weights, in file order."""
    layer_names = _string_list(group.attrs, "layer_names") or []
    layers = []
    for layer_name in layer_names:
        layer_group = group.get(layer_name)
        if not isinstance(layer_group, h5py.Group):
            raise WeightsError(f"the file lists layer {layer_name!r} in 'layer_names' but has no "
                               "group for it: the file is damaged")
        weight_names = tuple(_string_list(layer_group.attrs, "weight_names") or ())
        datasets = []
        for weight_name in weight_names:
            dataset = layer_group.get(weight_name)
            if not isinstance(dataset, h5py.Dataset):
                raise WeightsError(f"layer {layer_name!r} lists weight {weight_name!r} but the "
                                   "file has no such array: the file is damaged")
            datasets.append(dataset)
        if datasets:
            layers.append(_FileLayer(layer_name, weight_names, tuple(datasets)))
    return layers


def _vars_of(group: h5py.Group | None) -> tuple[str, tuple[h5py.Dataset, ...]]:
    """(saved layer name, arrays 0..n-1) of a Keras 3 ``.../vars`` group."""
    if not isinstance(group, h5py.Group):
        return "", ()
    count = len(group)
    if sorted(group) != sorted(str(i) for i in range(count)):
        raise WeightsError(f"{group.name} should hold arrays '0'..'{count - 1}', "
                           f"holds {sorted(group)}")
    return _text(group.attrs.get("name", "")), tuple(group[str(i)] for i in range(count))


def _datasets_in(group: h5py.Group) -> list[h5py.Dataset]:
    found: list[h5py.Dataset] = []
    group.visititems(lambda _, obj: found.append(obj) if isinstance(obj, h5py.Dataset) else None)
    return found


def _keras3_file_layers(file: h5py.File) -> tuple[list[_FileLayer], list[str]]:
    """(every leaf layer with arrays, names of the top-level layers with arrays) of a Keras 3
    ``.weights.h5`` file."""
    leaves = []

    def visit(path: str, obj) -> None:
        is_vars = path == "vars" or path.endswith("/vars")
        if is_vars and isinstance(obj, h5py.Group) and len(obj):
            name, datasets = _vars_of(obj)
            leaves.append(_FileLayer(name or path, tuple(f"layers/{path}/{i}" for i in
                                                         range(len(datasets))), datasets))

    top = file["layers"]
    top.visititems(visit)
    names = [_vars_of(top[key].get("vars"))[0] or key for key in top
             if isinstance(top[key], h5py.Group) and _datasets_in(top[key])]
    return leaves, names


def read_weights_info(path) -> WeightsFileInfo:
    """Describe a weights file from its structure, without reading the arrays or any config.

    Parameters
    ----------
    path : str or Path
        A legacy ``.h5`` (TF1, Keras 2, Keras 3) or a Keras 3 ``.weights.h5`` file.

    Returns
    -------
    WeightsFileInfo

    Raises
    ------
    FileNotFoundError
        No file at ``path``.
    WeightsError
        Not an HDF5 file, damaged or truncated, or no Keras weights inside.

    Examples
    --------
    >>> info = read_weights_info("spatial.h5")  # doctest: +SKIP
    >>> info.input_channels, info.num_classes, info.num_params  # doctest: +SKIP
    (3, 101, 21068435)
    """
    with _open(path) as file:
        fmt, group = _file_format(file)
        if fmt == LEGACY_FORMAT:
            layers = _legacy_layers(group)
            names = [layer.name for layer in layers]
            version = group.attrs.get("keras_version", file.attrs.get("keras_version"))
        else:
            layers, names = _keras3_file_layers(file)
            version = None
        datasets = [d for layer in layers for d in layer.datasets]
        norm = [layer for layer in layers if _base_name(layer.name) == "data_norm"]
        first = norm[0].datasets[0] if norm else None
        kernels = [d for d in datasets if d.ndim == 2]
        return WeightsFileInfo(
            path=Path(path), format=fmt,
            keras_version=None if version is None else _text(version),
            layer_names=tuple(names), num_arrays=len(datasets),
            num_params=int(sum(d.size for d in datasets)),
            input_channels=int(first.shape[0]) if first is not None and first.ndim == 1 else None,
            num_classes=int(kernels[-1].shape[-1]) if kernels else None,
            has_optimizer_weights="optimizer_weights" in file or "optimizer" in file)


# ---------------------------------------------------------------------------------------------
# matching arrays to the model's variables


@dataclass(frozen=True)
class _Pair:
    layer: str  # model layer the variable belongs to (top-level layer, or leaf for Keras 3)
    variable: keras.Variable
    weight_name: str  # name in the file
    dataset: h5py.Dataset


def _sublayers(layer) -> list:
    """``layer`` and all layers nested in it (through ``.layers``), parents first."""
    found = [layer]
    for sub in getattr(layer, "layers", None) or ():
        found.extend(_sublayers(sub))
    return found


@contextmanager
def _all_trainable(layer) -> Iterator[None]:
    """Temporarily unfreeze ``layer`` so ``trainable_weights`` lists every weight that was
    created trainable (a frozen layer would move its kernels to ``non_trainable_weights`` and
    change the order that the file was written in)."""
    flags = [(sub, sub.trainable) for sub in _sublayers(layer)]
    if all(flag for _, flag in flags):
        yield
        return
    layer.trainable = True
    try:
        yield
    finally:
        for sub, flag in flags:  # parents first: a parent's setter also sets its children
            sub.trainable = flag


def _ordered_weights(layer) -> list:
    with _all_trainable(layer):
        return list(layer.trainable_weights) + list(layer.non_trainable_weights)


def _zip_layer(label: str, variables: list, names: tuple[str, ...], datasets: tuple,
               path: Path, pairs: list[_Pair], problems: list[str]) -> None:
    """Pair ``variables`` with the arrays of one file layer by order; note a count mismatch."""
    pairs.extend(_Pair(label, v, n, d) for v, n, d in zip(variables, names, datasets))
    if len(variables) > len(datasets):
        missing = variables[len(datasets)]
        problems.append(f"layer {label!r}: the model expects {len(variables)} arrays, {path.name} "
                        f"holds {len(datasets)}; the first one missing is {missing.path!r} with "
                        f"shape {tuple(missing.shape)}")
    elif len(datasets) > len(variables):
        problems.append(f"layer {label!r}: the model expects {len(variables)} arrays, {path.name} "
                        f"holds {len(datasets)}; the first extra one is "
                        f"{_short(names[len(variables)])!r} with shape "
                        f"{datasets[len(variables)].shape}")


def _legacy_pairs(model: keras.Model, group: h5py.Group,
                  path: Path) -> tuple[list[_Pair], list[str]]:
    file_layers = _legacy_layers(group)
    model_layers = [layer for layer in model.layers if layer.weights]
    pairs: list[_Pair] = []
    problems: list[str] = []
    if len(file_layers) != len(model_layers):
        problems.append(
            f"{path.name} holds weights for {len(file_layers)} layers "
            f"{[layer.name for layer in file_layers]}, the model has {len(model_layers)} "
            f"{[layer.name for layer in model_layers]}")
    for layer, file_layer in zip(model_layers, file_layers):
        same = _base_name(file_layer.name) in (layer.name, _base_name(layer.name))
        label = layer.name if same else f"{layer.name} (file layer {file_layer.name})"
        _zip_layer(label, _ordered_weights(layer), file_layer.weight_names, file_layer.datasets,
                   path, pairs, problems)
    return pairs, problems


def _snake_case(class_name: str) -> str:
    """``BatchNormalization`` -> ``batch_normalization`` (Keras 3's key for a layer's state)."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", re.sub(r"\W+", "", class_name))
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def _keras3_pairs(model: keras.Model, file: h5py.File,
                  path: Path) -> tuple[list[_Pair], list[str]]:
    """Pair each layer with the ``vars`` group Keras 3 saved it to: ``layers/<key>`` where the
    key is the snake-case class name, numbered ``_1``, ``_2``, ... in layer order."""
    import keras

    pairs: list[_Pair] = []
    problems: list[str] = []

    def visit(layer, key: str) -> None:
        if isinstance(layer, keras.Model):
            counts: dict[str, int] = {}
            for sub in layer.layers:
                base = _snake_case(type(sub).__name__)
                counts[base] = counts.get(base, -1) + 1
                visit(sub, f"{key}/layers/{base}" + (f"_{counts[base]}" if counts[base] else ""))
            return
        saved_name, datasets = _vars_of(file.get(f"{key}/vars"))
        label = layer.name if saved_name in ("", layer.name) else (
            f"{layer.name} (file layer {saved_name})")
        names = tuple(f"{key}/vars/{i}" for i in range(len(datasets)))
        _zip_layer(label, list(layer.weights), names, datasets, path, pairs, problems)

    visit(model, "")
    return pairs, problems


def _check(pairs: list[_Pair], problems: list[str], path: Path, model_name: str) -> None:
    """Raise one WeightsError if any shape, array order or array count does not fit."""
    mismatches = []
    for pair in pairs:
        expected, found = tuple(pair.variable.shape), tuple(pair.dataset.shape)
        file_role, model_role = _role(pair.weight_name), _role(pair.variable.path)
        if expected != found:
            mismatches.append(f"layer {pair.layer!r}: weight {pair.variable.path!r} expects shape "
                              f"{expected} but {path.name} holds {_short(pair.weight_name)!r} "
                              f"with shape {found}")
        elif file_role in _ROLES and model_role in _ROLES and file_role != model_role:
            mismatches.append(f"layer {pair.layer!r}: weight {pair.variable.path!r} would "
                              f"receive {_short(pair.weight_name)!r} from {path.name} (a "
                              f"{file_role}, not a {model_role}): the arrays are in an "
                              "unexpected order")
    total = len(mismatches) + len(problems)
    if total:
        count = f" ({total} mismatches)" if total > 1 else ""
        raise WeightsError(
            f"the weights in {path} do not fit model {model_name!r}{count}: "
            + "; ".join(mismatches[:1] + problems[:1])
            + ". Build the architecture the file was saved from (build_spatial_model() for a "
            "spatial file, build_motion_model(L) for a motion file with 2L input channels) and "
            "load again.")


def load_legacy_weights(model: keras.Model, path) -> keras.Model:
    """Copy the weights of a legacy TF1 / Keras HDF5 file into a built model, with h5py only.

    Nothing from the file is executed or deserialised: ``model_config`` (which, for TF1
    models with Lambda layers, holds marshalled Python bytecode) is never read. All arrays are
    read and their shapes checked before the first one is assigned.

    Parameters
    ----------
    model : keras.Model
        A built model of the architecture the file was saved from, e.g.
        :func:`twostream_lab.models.xception.build_spatial_model`.
    path : str or Path
        A ``model.save()`` ``.h5`` of TF1 tf.keras, Keras 2 or Keras 3, or a Keras 3
        ``.weights.h5``.

    Returns
    -------
    keras.Model
        ``model``, now holding the file's weights.

    Raises
    ------
    FileNotFoundError
        No file at ``path``.
    WeightsError
        Not an HDF5 file, damaged or truncated, no weights inside, or the arrays do not fit the
        model (the message names the layer, the expected and the found shapes).

    Examples
    --------
    >>> from twostream_lab.models.xception import build_spatial_model
    >>> model = load_legacy_weights(build_spatial_model(), "spatial.h5")  # doctest: +SKIP
    """
    path = Path(path)
    with _open(path) as file:
        fmt, group = _file_format(file)
        if fmt == LEGACY_FORMAT:
            pairs, problems = _legacy_pairs(model, group, path)
        else:
            pairs, problems = _keras3_pairs(model, file, path)
        if not pairs and not problems:
            raise WeightsError(f"model {model.name!r} has no weights to load from {path}")
        _check(pairs, problems, path, model.name)
        arrays = [np.asarray(pair.dataset[()]) for pair in pairs]
    for pair, array in zip(pairs, arrays):
        pair.variable.assign(array.astype(pair.variable.dtype, copy=False))
    return model
