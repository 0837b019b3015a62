"""The one weights choice (choose_weights) and load_two_stream: "auto", the override, fall-backs."""

from __future__ import annotations

import sys
import types

import pytest

from twostream_lab.models import two_stream
from twostream_lab.models.two_stream import WEIGHTS_ENV, choose_weights, load_two_stream
from twostream_lab.offline_lab.synthetic import SYNTHETIC_CLASSES
from twostream_lab.weights import pretrained


@pytest.fixture
def colab(monkeypatch):
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))


def test_auto_is_demo_offline_and_pretrained_in_colab_or_when_cached(monkeypatch):
    choice = choose_weights("auto")
    assert choice.source == "demo" and choice.auto and choice.is_demo
    assert "not in the cache and this is not Colab" in str(choice)
    assert "offline demo models" in str(choice)

    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    choice = choose_weights("auto")
    assert choice.source == "pretrained" and "Colab" in choice.reason
    assert "from Google Drive" in choice.reason
    monkeypatch.setenv(pretrained.MIRROR_ENV, "http://127.0.0.1:1/weights/")
    assert "from the mirror" in choose_weights("auto").reason
    monkeypatch.delitem(sys.modules, "google.colab")

    monkeypatch.setattr(two_stream, "cached_pretrained", lambda: {"spatial": 1, "motion": 1})
    assert choose_weights("auto").reason == "auto: the pretrained weights are in the cache"


def test_explicit_weights_and_bad_values():
    assert str(choose_weights("pretrained")) == (
        'weights: pretrained (chosen with WEIGHTS = "pretrained")')
    pair = choose_weights(["s.h5", "m.h5"])
    assert pair.source == ("s.h5", "m.h5") and str(pair).startswith("weights: local .h5 files")
    with pytest.raises(ValueError, match='"auto", "pretrained", "demo" or a'):
        choose_weights("imagenet")


def test_the_override_is_explicit(monkeypatch):
    monkeypatch.setenv(WEIGHTS_ENV, "demo")
    choice = choose_weights("pretrained")
    assert choice.is_demo
    assert str(choice).startswith('weights: demo (set by TWOSTREAM_LAB_WEIGHTS=demo, which '
                                  "overrides this notebook's WEIGHTS = \"pretrained\")")
    monkeypatch.setenv(WEIGHTS_ENV, "toy")
    with pytest.raises(ValueError, match='TWOSTREAM_LAB_WEIGHTS must be "auto", "pretrained" '
                                         "or \"demo\"; got 'toy'"):
        choose_weights("auto")


def _unavailable(*args, **kwargs):
    raise pretrained.PretrainedError("cannot reach drive.google.com")


def test_auto_falls_back_to_demo_and_says_why(monkeypatch, colab):
    monkeypatch.setattr(two_stream, "fetch_pretrained", _unavailable)
    models = load_two_stream("auto")
    assert models.is_demo and models.class_names == SYNTHETIC_CLASSES
    text = str(models.choice)
    assert "could not be downloaded: cannot reach drive.google.com" in text
    assert "offline demo models" in text


def test_explicit_pretrained_that_cannot_be_had_says_how_to_get_them(monkeypatch):
    def unavailable(*args, **kwargs):
        raise pretrained.PretrainedError(f"cannot reach drive.google.com.\n{pretrained._by_hand()}")

    monkeypatch.setattr(two_stream, "fetch_pretrained", unavailable)
    with pytest.raises(pretrained.PretrainedError) as error:
        load_two_stream("pretrained")
    message = str(error.value)
    assert message.startswith("cannot reach drive.google.com")
    assert "TWOSTREAM_LAB_WEIGHTS_URL" in message and "load_two_stream('demo')" in message


def test_demo_loads_the_shipped_models_and_records_the_choice():
    models = load_two_stream("demo")
    assert models.is_demo and models.class_names == SYNTHETIC_CLASSES
    assert str(models.choice).startswith('weights: demo (chosen with WEIGHTS = "demo")')


def test_a_mistyped_switch_fails_even_when_overridden(monkeypatch):
    monkeypatch.setenv(WEIGHTS_ENV, "demo")
    with pytest.raises(ValueError, match="got 'pretraned'"):
        choose_weights("pretraned")


def test_the_override_never_replaces_named_files_or_the_command_line(monkeypatch, tmp_path):
    from twostream_lab.commands import run_demo

    monkeypatch.setenv(WEIGHTS_ENV, "pretrained")
    assert choose_weights(("s.h5", "m.h5")).source == ("s.h5", "m.h5")
    monkeypatch.setattr(two_stream, "fetch_pretrained", _unavailable)  # it must not be asked
    text = run_demo(str(tmp_path / "demo.mp4"), progress=False)
    assert "weights: demo" in text
