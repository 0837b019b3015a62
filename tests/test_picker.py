"""The video picker's seeded random start and re-roll, and what both widgets show where the
widget state is missing (the MIME bundle with a static copy)."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import matplotlib.image
import matplotlib.pyplot as plt
import pytest

from twostream_lab.notebook import widgets
from twostream_lab.notebook.exercises.choice import seeded_choice
from twostream_lab.offline_lab.synthetic import SYNTHETIC_CLASSES

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
SAMPLES = ("v_Archery_g02_c02.avi", "v_Biking_g01_c04.avi", "v_Diving_g03_c01.avi",
           "v_Fencing_g01_c02.avi")


@pytest.fixture
def data_folder(tmp_path, monkeypatch) -> Path:
    """A data folder with four (fake) UCF101 clips, as samples.py lays them out."""
    root = tmp_path / "data"
    (root / "ucf101" / "videos").mkdir(parents=True)
    for name in SAMPLES:
        (root / "ucf101" / "videos" / name).write_bytes(b"not decoded in these tests")
    monkeypatch.setenv("TWOSTREAM_LAB_DATA", str(root))
    return root


@pytest.fixture
def shown(monkeypatch) -> list:
    """What ``IPython.display.display`` was given: ``(objects, keywords)`` per call."""
    import IPython.display

    calls: list = []
    monkeypatch.setattr(IPython.display, "display", lambda *objs, **kw: calls.append((objs, kw)))
    return calls


# -- a seeded random start ---------------------------------------------------------------------


def test_without_a_seed_the_picker_starts_on_the_first_video(data_folder):
    picker = widgets.video_picker(use_widgets=False)
    assert picker.source.name == SAMPLES[0] and picker.seed is None and picker.rerolls == 0
    assert picker.pool == "samples"
    assert "random pick" not in picker.text()
    assert "picker.reroll()" in picker.text()


def test_a_seed_picks_the_same_random_video_every_time(data_folder):
    picks = {widgets.video_picker(seed=seed, use_widgets=False).source.name for seed in range(12)}
    assert len(picks) > 1, "different seeds start on different videos"
    picker = widgets.video_picker(seed=5, use_widgets=False)
    assert picker.source == seeded_choice(picker.samples, seed=5).item
    assert widgets.video_picker(seed=5, use_widgets=False).source == picker.source
    assert picker.seed == 5 and picker.rerolls == 0
    assert f"selected: {picker.source.name}" in picker.text()
    assert "random pick with seed 5: video_picker(..., seed=5) starts on it again" in picker.text()


def test_start_with_samples_falls_back_to_synthetic_clips_when_there_are_none(empty_data):
    picker = widgets.video_picker(synthetic=True, start_with="samples", use_widgets=False)
    assert picker.pool == "synthetic"
    assert picker.source == widgets.SYNTHETIC_PREFIX + SYNTHETIC_CLASSES[0]
    assert picker.message == "no sample videos found here: starting on a synthetic clip"
    assert "note: no sample videos found here: starting on a synthetic clip" in picker.text()


def test_start_with_samples_in_a_synthetic_picker(data_folder):
    picker = widgets.video_picker(synthetic=True, start_with="samples", seed=2, use_widgets=False)
    assert picker.pool == "samples" and picker.source in picker.samples and picker.message == ""
    assert all(isinstance(picker.reroll(), Path) for _ in range(5)), "re-rolls stay in the pool"
    synthetic = widgets.video_picker(synthetic=True, seed=2, use_widgets=False)
    assert synthetic.pool == "synthetic" and str(synthetic.source).startswith("synthetic:")


def test_start_with_synthetic_without_synthetic_clips_falls_back_to_the_samples(data_folder):
    picker = widgets.video_picker(start_with="synthetic", use_widgets=False)
    assert picker.pool == "samples" and picker.source.name == SAMPLES[0]
    assert "no synthetic clips offered here (make the picker with synthetic=True)" in picker.message


def test_default_wins_over_seed_and_start_with(data_folder):
    picker = widgets.video_picker(synthetic=True, start_with="synthetic", seed=3,
                                  default=SAMPLES[2], use_widgets=False)
    assert picker.source.name == SAMPLES[2] and picker.message == ""
    assert "random pick" not in picker.text(), "the default is not a random pick"
    assert str(picker.reroll()).startswith("synthetic:"), "re-rolls come from start_with's pool"


@pytest.mark.parametrize("knob, value, allowed", [
    ("start_with", "sample", "'samples', 'synthetic' or None"),
    ("start_with", 1, "'samples', 'synthetic' or None"),
    ("seed", -1, "a non-negative integer, e.g. seed=7, or None"),
    ("seed", True, "a non-negative integer, e.g. seed=7, or None"),
    ("seed", 1.5, "a non-negative integer, e.g. seed=7, or None"),
    ("seed", "7", "a non-negative integer, e.g. seed=7, or None"),
])
def test_a_bad_start_with_or_seed_says_what_is_allowed(empty_data, knob, value, allowed):
    # checked even where there is nothing to pick from
    with pytest.raises(ValueError) as error:
        widgets.video_picker(use_widgets=False, **{knob: value})
    assert str(error.value) == f"{knob} must be {allowed}, got {value!r}"
    with pytest.raises(ValueError, match=knob):
        widgets.VideoPicker([], use_widgets=False, **{knob: value})


# -- re-rolling --------------------------------------------------------------------------------


def test_reroll_moves_to_another_video_and_can_be_repeated(data_folder):
    picker = widgets.video_picker(seed=11, use_widgets=False)
    seen = [picker.source]
    for count in range(1, 8):
        new = picker.reroll()
        assert new == picker.source and new != seen[-1], "a re-roll always changes the video"
        assert new in picker.samples and picker.rerolls == count
        seen.append(new)
        again = widgets.video_picker(seed=picker.seed, use_widgets=False)
        assert again.source == new, "the new seed starts on the re-rolled video"
    assert len(set(seen)) > 2
    twin = widgets.video_picker(seed=11, use_widgets=False)
    assert [twin.reroll() for _ in range(7)] == seen[1:], "the same seed re-rolls the same way"
    text = picker.text()
    assert f"random pick with seed {picker.seed} (re-rolled 7 times)" in text


def test_reroll_after_a_select_still_changes_the_video(data_folder):
    picker = widgets.video_picker(seed=0, use_widgets=False)
    for name in SAMPLES:
        picker.select(name)
        assert picker.reroll().name != name
    assert seeded_choice(picker.samples, seed=picker.seed).item == picker.source


def test_reroll_without_a_seed_draws_one(data_folder, monkeypatch):
    from twostream_lab.notebook.exercises import choice

    monkeypatch.setattr(choice, "new_seed", lambda: 123)
    picker = widgets.video_picker(use_widgets=False)
    new = picker.reroll()
    assert picker.seed >= 123 and new != picker.samples[0]
    assert widgets.video_picker(seed=picker.seed, use_widgets=False).source == new
    assert f"random pick with seed {picker.seed} (re-rolled 1 time)" in picker.text()


def test_reroll_of_a_single_video_keeps_it_and_of_none_says_what_to_do(empty_data, tmp_path):
    only = tmp_path / "only.avi"
    only.write_bytes(b"x")
    picker = widgets.VideoPicker([only], seed=4, use_widgets=False)
    assert picker.source == only and picker.reroll() == only
    nothing = widgets.video_picker(use_widgets=False)
    with pytest.raises(ValueError, match="nothing to re-roll.*download_samples"):
        nothing.reroll()
    assert "picker.reroll()" not in nothing.text()


def test_the_another_video_button_rerolls_and_moves_the_dropdown(data_folder):
    picker = widgets.video_picker(seed=9, use_widgets=True)
    assert picker._reroll.description == "another video" and not picker._reroll.disabled
    assert picker._dropdown.value == str(picker.source)
    first = picker.source
    picker._reroll.click()
    assert picker.source != first and picker.rerolls == 1
    assert picker._dropdown.value == str(picker.source)
    assert f"random pick with seed {picker.seed} (re-rolled 1 time)" in picker._status.value
    picker._dropdown.value = str(first)  # a choice in the list is no longer the random pick
    assert picker.source == first and "random pick" not in picker._status.value
    assert widgets.VideoPicker([], use_widgets=True)._reroll.disabled


# -- what is shown where the widget state is missing -------------------------------------------


def test_the_explorer_shows_its_widget_with_a_png_of_the_frame(make_scored_clip, shown):
    video, flow, prediction = make_scored_clip(16, ("walk", "run", "jump"))
    explorer = widgets.frame_explorer(video, flow, prediction, index=2, use_widgets=True)
    explorer._ipython_display_()
    (bundle,), keywords = shown[-1]
    assert keywords == {"raw": True}
    assert set(bundle) == {WIDGET_VIEW, "image/png", "text/plain"}
    assert bundle[WIDGET_VIEW] == {"version_major": 2, "version_minor": 0,
                                   "model_id": explorer.widget.model_id}
    png = base64.b64decode(bundle["image/png"])
    assert png == explorer._image.value, "the static copy is the frame the widget shows"
    width, height = explorer.figure.get_size_inches() * explorer.figure.dpi
    assert matplotlib.image.imread(io.BytesIO(png)).shape[:2] == (round(height), round(width))
    text = bundle["text/plain"]
    assert text == ("Frame explorer: frame 2 (scored frames 0..5) of clip.mp4, weights: demo. "
                    "Show another with explorer.show(N).")
    assert "VBox" not in text
    assert plt.get_fignums() == []


def test_the_picker_shows_its_widget_with_its_choice_as_text(data_folder, shown):
    picker = widgets.video_picker(seed=1, use_widgets=True)
    picker._ipython_display_()
    (bundle,), keywords = shown[-1]
    assert keywords == {"raw": True} and set(bundle) == {WIDGET_VIEW, "text/plain"}
    assert bundle[WIDGET_VIEW]["model_id"] == picker.widget.model_id
    text = bundle["text/plain"]
    assert text.startswith("Video picker\n") and f"selected: {picker.source.name}" in text
    assert "seed 1" in text and "picker.reroll()" in text and "VBox" not in text


def test_without_widgets_both_still_print(data_folder, make_scored_clip, shown, capsys):
    widgets.video_picker(use_widgets=False)._ipython_display_()
    assert f"selected: {SAMPLES[0]}" in capsys.readouterr().out and shown == []
    video, flow, prediction = make_scored_clip(16, ("walk", "run", "jump"))
    explorer = widgets.frame_explorer(video, flow, prediction, use_widgets=False)
    explorer._ipython_display_()
    assert "showing one static frame): frame 0" in capsys.readouterr().out
    assert shown[-1] == ((explorer.figure,), {})
