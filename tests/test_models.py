"""The two-stream architectures: exact parameter counts, layer names, options."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from fixtures_h5 import full_models

from twostream_lab.models.xception import build_motion_model, build_spatial_model, stacked_frames_of


def _counts(model) -> tuple[int, int]:
    non_trainable = sum(int(np.prod(w.shape)) for w in model.non_trainable_weights)
    return model.count_params(), non_trainable


def test_spatial_architecture_matches_the_pretrained_model():
    spatial, _ = full_models()
    assert _counts(spatial) == (21_068_435, 54_534)
    assert spatial.name == "spatial_xception"
    assert [layer.name for layer in spatial.layers] == [
        "input_spatial", "data_norm", "xception", "avg_pool", "predictions"]
    assert spatial.input_shape == (None, 299, 299, 3)
    assert spatial.output_shape == (None, 101)
    norm = spatial.get_layer("data_norm").get_config()
    assert (norm["center"], norm["scale"], norm["axis"]) == (False, False, 3)
    xception = spatial.get_layer("xception")
    assert xception.output_shape == (None, 10, 10, 2048)  # include_top=False
    assert spatial.get_layer("predictions").get_config()["activation"] == "softmax"


def test_motion_architecture_matches_the_pretrained_model():
    _, motion = full_models()
    assert _counts(motion) == (21_073_365, 54_568)
    assert motion.name == "motion_xception"
    assert [layer.name for layer in motion.layers] == ["input_motion", "data_norm", "xception"]
    assert motion.input_shape == (None, 299, 299, 20)
    xception = motion.get_layer("xception")
    assert [layer.name for layer in xception.layers[-2:]] == ["avg_pool", "predictions"]
    assert xception.get_layer("block1_conv1").kernel.shape == (3, 3, 20, 32)
    assert motion.output_shape == (None, 101)
    assert stacked_frames_of(motion) == 10


def test_options_change_sizes_and_the_flow_warning_is_silenced():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # Keras's "expects 1 or 3 input channels" would raise
        motion = build_motion_model(3, input_shape=(96, 80), num_classes=7)
    assert motion.input_shape == (None, 96, 80, 6)
    assert motion.output_shape == (None, 7)
    assert stacked_frames_of(motion) == 3
    spatial = build_spatial_model(input_shape=(80, 96, 3), num_classes=7)
    assert spatial.input_shape == (None, 80, 96, 3)
    assert spatial.output_shape == (None, 7)
    x = np.random.default_rng(0).uniform(size=(1, 96, 80, 6)).astype("float32")
    np.testing.assert_allclose(np.asarray(motion(x)).sum(), 1.0, rtol=1e-5)


@pytest.mark.parametrize("call, message", [
    (lambda: build_motion_model(0), "stacked_frames"),
    (lambda: build_motion_model(10, input_shape=(299, 299, 20)), "2 \\* stacked_frames"),
    (lambda: build_spatial_model(input_shape=(299, 299)), "height, width, channels"),
])
def test_bad_arguments_are_refused_before_building(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_stacked_frames_needs_an_even_channel_count():
    spatial, _ = full_models()
    with pytest.raises(ValueError, match="even number"):
        stacked_frames_of(spatial)
