"""The notebook widgets, headless: built, driven by setting values, and their plain fallbacks."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest

from twostream_lab.notebook import widgets
from twostream_lab.flow import Flow
from twostream_lab.predict import Prediction
from twostream_lab.offline_lab.synthetic import SYNTHETIC_CLASSES
from twostream_lab.video import Video


@pytest.fixture
def data_folder(tmp_path, monkeypatch) -> Path:
    """A data folder with two (fake) UCF101 clips and the activity clip, as samples.py lays out."""
    root = tmp_path / "data"
    (root / "ucf101" / "videos").mkdir(parents=True)
    (root / "kinetics").mkdir()
    for name in ("v_Biking_g01_c04.avi", "v_Archery_g02_c02.avi"):
        (root / "ucf101" / "videos" / name).write_bytes(b"not decoded in these tests")
    (root / "kinetics" / "abseiling_k400.mp4").write_bytes(b"not decoded in these tests")
    monkeypatch.setenv("TWOSTREAM_LAB_DATA", str(root))
    return root


def test_widgets_available_reports_why_not(monkeypatch):
    monkeypatch.setenv(widgets.WIDGETS_ENV, "0")
    ok, reason = widgets.widgets_available()
    assert not ok and widgets.WIDGETS_ENV in reason
    monkeypatch.delenv(widgets.WIDGETS_ENV)
    ok, reason = widgets.widgets_available()  # pytest is not a Jupyter kernel
    assert not ok and "kernel" in reason


def test_picker_lists_samples_and_defaults_to_the_first(data_folder):
    picker = widgets.video_picker(use_widgets=False)
    assert [p.name for p in picker.samples] == [
        "v_Archery_g02_c02.avi", "v_Biking_g01_c04.avi", "abseiling_k400.mp4",
    ]
    assert picker.source == data_folder / "ucf101" / "videos" / "v_Archery_g02_c02.avi"
    text = picker.text()
    assert "use_widgets=False" in text
    assert "sample videos found: 3" in text
    assert "selected: v_Archery_g02_c02.avi" in text
    assert repr(picker) == "VideoPicker(source='v_Archery_g02_c02.avi')"


def test_picker_plain_display_prints_the_choice(data_folder, capsys):
    picker = widgets.video_picker(use_widgets=False, default="abseiling_k400.mp4")
    picker._ipython_display_()
    out = capsys.readouterr().out
    assert "selected: abseiling_k400.mp4" in out and "picker.select(" in out


def test_synthetic_picker_defaults_to_a_synthetic_clip_and_reads_it(empty_data):
    picker = widgets.video_picker(synthetic=True, use_widgets=False)
    assert picker.samples == []
    assert picker.source == widgets.SYNTHETIC_PREFIX + SYNTHETIC_CLASSES[0]
    picker.select("synthetic:" + SYNTHETIC_CLASSES[-1])
    video = picker.read(seed=3)
    assert video.name == f"synthetic_{SYNTHETIC_CLASSES[-1].replace(' ', '_')}_seed3.mp4"
    assert video.frames.dtype == np.uint8 and video.frames.ndim == 4


def test_select_accepts_paths_and_urls_and_names_the_choices_otherwise(data_folder, tmp_path):
    picker = widgets.video_picker(use_widgets=False)
    own = tmp_path / "my clip.mp4"
    own.write_bytes(b"x")
    assert picker.select(own) == own
    assert picker.select(str(own)) == own
    assert picker.select("https://example.org/a.mp4") == "https://example.org/a.mp4"
    with pytest.raises(ValueError, match="v_Biking_g01_c04.avi.*existing file.*URL"):
        picker.select("v_Nothing.avi")
    with pytest.raises(ValueError, match="synthetic=True"):
        picker.select("synthetic:" + SYNTHETIC_CLASSES[0])
    synthetic = widgets.video_picker(synthetic=True, use_widgets=False)
    with pytest.raises(ValueError, match="unknown synthetic class 'green moving left'"):
        synthetic.select("synthetic:green moving left")


def test_picker_without_any_video_says_what_to_do(empty_data):
    picker = widgets.video_picker(use_widgets=False)
    assert picker.source is None
    assert "download_samples" in picker.text()
    with pytest.raises(ValueError, match="no video chosen"):
        picker.read()


def test_picker_reads_a_real_file(empty_data, tmp_path, write_clip):
    frames = np.stack([np.full((24, 32, 3), 20 * i, np.uint8) for i in range(12)])
    path = write_clip(tmp_path / "clip.avi", frames)
    picker = widgets.video_picker(use_widgets=False, default=path)
    video = picker.read(max_frames=5)
    assert video.name == "clip.avi" and video.frames.shape == (5, 24, 32, 3)


def test_picker_widget_is_driven_by_its_controls(data_folder, tmp_path):
    picker = widgets.VideoPicker(
        widgets.video_picker(use_widgets=False).samples,
        synthetic_classes=SYNTHETIC_CLASSES[:2],
        use_widgets=True,
        upload_dir=tmp_path / "uploads",
    )
    assert picker.interactive and picker.widget is not None
    labels = [label for label, _ in picker._dropdown.options]
    assert labels == [
        "v_Archery_g02_c02.avi", "v_Biking_g01_c04.avi", "abseiling_k400.mp4",
        f"synthetic: {SYNTHETIC_CLASSES[0]}", f"synthetic: {SYNTHETIC_CLASSES[1]}",
    ]
    assert picker.source == "synthetic:" + SYNTHETIC_CLASSES[0]  # synthetic ones are the default
    assert "synthetic clip of class" in picker._status.value

    picker._dropdown.value = str(data_folder / "ucf101" / "videos" / "v_Biking_g01_c04.avi")
    assert picker.source.name == "v_Biking_g01_c04.avi"
    assert "v_Biking_g01_c04.avi" in picker._status.value

    picker._url.value = "https://example.org/clip.mp4"
    assert picker.source == "https://example.org/clip.mp4"
    assert picker._dropdown.value is None  # a URL is not one of the listed videos

    picker._url.value = "ftp://example.org/clip.mp4"
    assert picker.source == "https://example.org/clip.mp4"  # unchanged
    assert "neither an http(s) URL nor an existing file" in picker._status.value

    # ipywidgets 7 (Colab): the browser sends metadata and data, value becomes
    # {name: {"metadata": ..., "content": bytes}}
    picker._upload.set_trait("value", {"../my video.mp4": {"metadata": {}, "content": b"abc"}})
    assert picker.source == tmp_path / "uploads" / "my_video.mp4"
    assert picker.source.read_bytes() == b"abc"
    assert picker.message == ""
    # ipywidgets 8 upload value: a tuple of {"name": ..., "content": memoryview}
    picker._on_upload({"new": ({"name": "second.avi", "content": memoryview(b"xyz")},)})
    assert picker.source == tmp_path / "uploads" / "second.avi"
    assert picker.source.read_bytes() == b"xyz"

    picker.select("abseiling_k400.mp4")  # selecting in code moves the dropdown too
    assert picker._dropdown.value == str(data_folder / "kinetics" / "abseiling_k400.mp4")


def _prediction(starts: list[int], num_frames: int = 14) -> Prediction:
    classes = ("walk", "run", "jump")
    rng = np.random.default_rng(0)
    spatial = rng.dirichlet(np.ones(3), num_frames).astype(np.float32)
    motion = rng.dirichlet(np.ones(3), len(starts)).astype(np.float32)
    return Prediction(
        spatial=spatial, motion=motion,
        spatial_indices=np.arange(num_frames), motion_indices=np.asarray(starts),
        class_names=classes, video_name="clip.mp4", source="demo",
        stacked_frames=10, num_frames=num_frames,
    )


@pytest.fixture
def scored():
    rng = np.random.default_rng(1)
    video = Video.from_frames(rng.integers(0, 256, (14, 24, 32, 3), np.uint8), name="clip.mp4")
    flow = Flow(u=rng.integers(0, 256, (13, 24, 32), np.uint8),
                v=rng.integers(0, 256, (13, 24, 32), np.uint8), method="test", bound=20.0)
    return video, flow, _prediction([0, 1, 2, 3])


def test_explorer_fallback_prints_and_draws_one_frame(scored, capsys):
    video, flow, prediction = scored
    explorer = widgets.frame_explorer(video, flow, prediction, index=2, use_widgets=False)
    assert explorer.widget is None and explorer.frames == [0, 1, 2, 3]
    explorer._ipython_display_()
    out = capsys.readouterr().out
    assert "showing one static frame): frame 2 (scored frames 0..3) of clip.mp4" in out
    assert "weights: demo" in out
    assert explorer.figure._suptitle.get_text() == "Prediction for clip.mp4"
    assert explorer.figure.axes[0].get_title() == "RGB frame 2"
    figure = explorer.draw(3)
    assert explorer.index == 3 and figure.axes[0].get_title() == "RGB frame 3"
    assert plt.get_fignums() == []  # drawn figures never pile up in pyplot
    assert repr(explorer) == "FrameExplorer(video='clip.mp4', index=3, frames=0..3)"


def test_explorer_rejects_frames_without_a_fused_score(scored):
    video, flow, prediction = scored
    with pytest.raises(ValueError, match=r"frame 4 has no fused prediction.*0\.\.3 of clip.mp4"):
        widgets.frame_explorer(video, flow, prediction, index=4, use_widgets=False)
    explorer = widgets.frame_explorer(video, flow, prediction, use_widgets=False)
    with pytest.raises(ValueError, match="frame -1"):
        explorer.draw(-1)


def test_explorer_slider_redraws_the_chosen_frame(scored):
    video, flow, prediction = scored
    explorer = widgets.frame_explorer(video, flow, prediction, use_widgets=True)
    assert explorer.interactive and list(explorer._slider.options) == [0, 1, 2, 3]
    assert explorer.index == 0 and explorer.figure is None  # nothing drawn until shown
    explorer._slider.value = 2
    assert explorer.index == 2
    assert explorer.figure.axes[0].get_title() == "RGB frame 2"
    explorer.show(1)  # moves the slider, whose callback redraws
    assert explorer._slider.value == 1 and explorer.figure.axes[0].get_title() == "RGB frame 1"
    with pytest.raises(ValueError, match="frame 7"):
        explorer.show(7)
    assert plt.get_fignums() == []


def test_explorer_follows_sampled_predictions(scored):
    video, flow, _ = scored
    prediction = _prediction([0, 2, 3])
    explorer = widgets.frame_explorer(video, flow, prediction, use_widgets=True)
    assert list(explorer._slider.options) == [0, 2, 3]
    explorer._slider.value = 3
    assert explorer.figure.axes[0].get_title() == "RGB frame 3"
    assert "scored frames 0, 2, 3" in explorer.text()


def test_widget_display_shows_the_widget_and_draws_into_it(scored, data_folder, monkeypatch):
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda *objs, **kw: shown.append(objs[0]))
    video, flow, prediction = scored
    explorer = widgets.frame_explorer(video, flow, prediction, index=1, use_widgets=True)
    explorer._ipython_display_()
    view = "application/vnd.jupyter.widget-view+json"
    assert shown[-1][view]["model_id"] == explorer.widget.model_id
    assert explorer.figure.axes[0].get_title() == "RGB frame 1"
    assert explorer._image.value.startswith(b"\x89PNG")  # the picture is in the widget's state
    picker = widgets.video_picker(use_widgets=True)
    picker._ipython_display_()
    assert shown[-1][view]["model_id"] == picker.widget.model_id
