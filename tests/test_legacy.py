"""Loading TF1 / Keras 3 HDF5 weights with h5py only: fixtures, layouts, safety, errors."""

from __future__ import annotations

import gzip
import shutil
import time
import zipfile

import h5py
import numpy as np
import pytest
from fixtures_h5 import (build_tiny_model, formula_input, full_models, lambda_model_config,
                         randomize, run_lambda_payload, write_tf1_h5)

from twostream_lab.weights.legacy import WeightsError, load_legacy_weights, read_weights_info

TINY_INPUT = formula_input((32, 32, 4))


def _weights(model) -> list[np.ndarray]:
    return [np.array(w) for w in model.get_weights()]


def _predict(model, x) -> np.ndarray:
    return np.asarray(model(x, training=False))


@pytest.fixture(scope="module")
def tiny_source():
    """A tiny model with random weights, and its outputs on the formula input."""
    model = build_tiny_model()
    randomize(model, seed=1)
    return model, _predict(model, TINY_INPUT)


@pytest.fixture(scope="module")
def tiny_file(tiny_source, tmp_path_factory):
    return write_tf1_h5(tmp_path_factory.mktemp("tf1") / "tiny_tf1.h5", tiny_source[0])


@pytest.fixture
def tiny_target():
    return build_tiny_model()


# --- the shared TF 1.11 fixtures ------------------------------------------------------------

@pytest.mark.parametrize("kind", ["spatial", "motion"])
def test_shared_tf1_fixture_reproduces_tf1_outputs(kind, legacy_fixtures, tmp_path):
    path = tmp_path / f"{kind}_tf1.h5"
    with gzip.open(legacy_fixtures / f"{kind}_tf1.h5.gz") as src, open(path, "wb") as dst:
        shutil.copyfileobj(src, dst)
    model = full_models()[0 if kind == "spatial" else 1]
    start = time.perf_counter()
    load_legacy_weights(model, path)
    seconds = time.perf_counter() - start
    x = formula_input(model.input_shape[1:])
    reference = np.load(legacy_fixtures / f"{kind}_tf1_ref.npy")
    difference = np.abs(_predict(model, x) - reference).max()
    print(f"{kind}: loaded in {seconds:.2f} s, max |Keras 3 - TF 1.11| = {difference:.2e}")
    assert difference <= 1e-5
    assert list(_predict(model, x).argmax(1)) == list(reference.argmax(1))


def test_shared_tiny_fixture_with_optimizer_weights(legacy_fixtures):
    path = legacy_fixtures / "tiny_with_optimizer_tf1.h5"
    info = read_weights_info(path)
    assert info.has_optimizer_weights and info.keras_version == "2.1.6-tf"
    assert (info.num_params, info.input_channels, info.num_classes) == (954, 4, 10)
    model = load_legacy_weights(build_tiny_model(), path)
    reference = np.load(legacy_fixtures / "tiny_with_optimizer_tf1_ref.npy")
    assert np.abs(_predict(model, TINY_INPUT) - reference).max() <= 1e-5


def test_shared_fixture_layout_facts(legacy_fixtures):
    """What the loader relies on, as h5py 3 reads the TF1 files."""
    with h5py.File(legacy_fixtures / "tiny_with_optimizer_tf1.h5", "r") as file:
        assert isinstance(file.attrs["model_config"], str)
        names = file["model_weights"].attrs["layer_names"]
        assert names.dtype.kind == "S"
        empty = file["model_weights/input_tiny"].attrs["weight_names"]
        assert empty.dtype == np.float64 and empty.size == 0
        assert "block1_conv1" in file["model_weights/xception"]


# --- our own TF1-layout files -----------------------------------------------------------------

@pytest.mark.parametrize("layout", [
    {},
    {"suffix": "_1", "split": 3, "optimizer": True, "bytes_attrs": True},
    {"split": 1, "extra_layers": ("lambda",)},
])
def test_tf1_layouts_load_exactly(layout, tiny_source, tiny_target, tmp_path):
    source, expected = tiny_source
    path = write_tf1_h5(tmp_path / "tiny.h5", source, **layout)
    with h5py.File(path, "r") as file:
        group = file["model_weights"]
        assert ("layer_names" in group.attrs) == ("split" not in layout)
        assert group[f"xception{layout.get('suffix', '')}"].attrs  # nested model group
    load_legacy_weights(tiny_target, path)
    for got, want in zip(_weights(tiny_target), _weights(source)):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_allclose(_predict(tiny_target, TINY_INPUT), expected, atol=1e-6)
    info = read_weights_info(path)
    assert info.layer_names == tuple(f"{n}{layout.get('suffix', '')}"
                                     for n in ("data_norm", "xception", "predictions"))
    assert (info.num_arrays, info.num_params, info.input_channels, info.num_classes) == (
        20, source.count_params(), 4, 10)
    assert info.has_optimizer_weights == bool(layout.get("optimizer"))


def test_order_survives_frozen_layers(tiny_source, tiny_file, tiny_target):
    tiny_target.get_layer("xception").trainable = False
    tiny_target.get_layer("xception").get_layer("block1_conv1").trainable = True
    load_legacy_weights(tiny_target, tiny_file)
    np.testing.assert_allclose(_predict(tiny_target, TINY_INPUT), tiny_source[1], atol=1e-6)
    assert not tiny_target.get_layer("xception").trainable  # flags restored
    assert tiny_target.get_layer("xception").get_layer("block1_conv1").trainable


def test_lambda_in_model_config_is_never_executed(tiny_source, tiny_target, tmp_path):
    marker = tmp_path / "code-ran"
    config = lambda_model_config(marker)
    run_lambda_payload(config)  # control: the payload is live code that creates the marker
    assert marker.exists()
    marker.unlink()
    path = write_tf1_h5(tmp_path / "crafted.h5", tiny_source[0], model_config=config,
                        extra_layers=("evil",))
    load_legacy_weights(tiny_target, path)
    read_weights_info(path)
    assert not marker.exists()
    np.testing.assert_allclose(_predict(tiny_target, TINY_INPUT), tiny_source[1], atol=1e-6)


# --- files saved by Keras 3 ---------------------------------------------------------------

@pytest.mark.parametrize("name", ["saved.h5", "saved.weights.h5"])
def test_keras3_files_round_trip(name, tiny_source, tiny_target, tmp_path):
    source, expected = tiny_source
    path = tmp_path / name
    if name.endswith(".weights.h5"):
        source.save_weights(path)
    else:
        source.save(path)
    load_legacy_weights(tiny_target, path)
    np.testing.assert_allclose(_predict(tiny_target, TINY_INPUT), expected, atol=1e-6)


@pytest.mark.parametrize("kind, name", [("spatial", "spatial.weights.h5"),
                                        ("motion", "motion.h5")])
def test_keras3_files_of_the_full_architectures(kind, name, tmp_path):
    model = full_models()[0 if kind == "spatial" else 1]
    saved = randomize(model, seed=3)
    path = tmp_path / name
    if name.endswith(".weights.h5"):
        model.save_weights(path)
    else:
        model.save(path)
    randomize(model, seed=4)
    load_legacy_weights(model, path)
    for got, want in zip(_weights(model), saved):
        np.testing.assert_array_equal(got, want)
    info = read_weights_info(path)
    assert info.input_channels == (3 if kind == "spatial" else 20)
    assert info.num_params == model.count_params() and info.num_classes == 101


# --- errors ----------------------------------------------------------------------------------

def test_other_architecture_names_layer_and_shapes(tiny_file):
    model = build_tiny_model(channels=3)
    before = _weights(model)
    with pytest.raises(WeightsError) as error:
        load_legacy_weights(model, tiny_file)
    message = str(error.value)
    assert "layer 'data_norm'" in message and "(3,)" in message and "(4,)" in message
    for got, want in zip(_weights(model), before):  # nothing was assigned
        np.testing.assert_array_equal(got, want)


def test_spatial_file_into_the_motion_model(tmp_path):
    spatial, motion = full_models()
    path = tmp_path / "spatial.weights.h5"
    spatial.save_weights(path)
    with pytest.raises(WeightsError, match=r"layer 'data_norm'.*\(20,\).*\(3,\)"):
        load_legacy_weights(motion, path)
    with pytest.raises(WeightsError, match=r"holds weights for 3 layers"):
        load_legacy_weights(motion, write_tf1_h5(tmp_path / "tiny.h5", build_tiny_model()))


def test_misordered_arrays_are_caught(tiny_source, tmp_path):
    path = write_tf1_h5(tmp_path / "swapped.h5", tiny_source[0])
    with h5py.File(path, "r+") as file:  # list beta before gamma (both shape (8,))
        attrs = file["model_weights/xception"].attrs
        names = list(attrs["weight_names"])
        names[1], names[2] = names[2], names[1]
        attrs["weight_names"] = np.array(names)
    with pytest.raises(WeightsError, match="unexpected order"):
        load_legacy_weights(build_tiny_model(), path)


def test_truncated_file(tiny_file, tmp_path):
    data = tiny_file.read_bytes()
    path = tmp_path / "truncated.h5"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(WeightsError, match="damaged or truncated"):
        load_legacy_weights(build_tiny_model(), path)
    with pytest.raises(WeightsError, match="damaged or truncated"):
        read_weights_info(path)


@pytest.mark.parametrize("content, message", [
    (b"<!DOCTYPE html><html><title>Google Drive - Quota exceeded</title>", "web page"),
    (b"", "empty"),
    (b"\x00" * 64, "not an HDF5"),
    ("zip", "zip archive"),
])
def test_not_hdf5(content, message, tmp_path):
    path = tmp_path / "weights.h5"
    if content == "zip":
        with zipfile.ZipFile(path, "w") as zipped:
            zipped.writestr("spatial.h5", b"x")
    else:
        path.write_bytes(content)
    with pytest.raises(WeightsError, match=message):
        load_legacy_weights(build_tiny_model(), path)


def test_missing_file_and_no_weights(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_weights_info(tmp_path / "nope.h5")
    path = tmp_path / "empty.h5"
    with h5py.File(path, "w") as file:
        file.create_group("something")
    with pytest.raises(WeightsError, match="holds no Keras weights"):
        read_weights_info(path)
