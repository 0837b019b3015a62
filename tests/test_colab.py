"""Colab's side of the lab, with the replica's stand-in ``google.colab``: the Drive cache, Colab's
uploader, the weights switch and its override, the time estimate, and the replica's own rules."""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import pytest

from twostream_lab.notebook import colab

from twostream_lab.data import paths
from twostream_lab.notebook.widgets import video_picker

ROOT = Path(__file__).resolve().parents[1]
STANDIN = ROOT / "tools" / "colab_standin"


@pytest.fixture
def in_colab(monkeypatch, tmp_path):
    """The replica's google.colab loaded, a Drive folder and a clip to upload."""
    monkeypatch.syspath_prepend(str(STANDIN))
    for name in [m for m in sys.modules if m == "google.colab" or m.startswith("google.colab.")]:
        monkeypatch.delitem(sys.modules, name)
    import google.colab  # noqa: F401  (Colab imports it at start-up)

    monkeypatch.setenv("COLAB_REPLICA_DRIVE", str(tmp_path / "google-drive"))
    clip = tmp_path / "my clip.avi"
    clip.write_bytes(b"the student's video")
    monkeypatch.setenv("COLAB_REPLICA_UPLOAD", str(clip))
    content = tmp_path / "content"
    content.mkdir()
    monkeypatch.chdir(content)
    yield content
    for name in [m for m in sys.modules if m == "google.colab" or m.startswith("google.colab.")]:
        sys.modules.pop(name, None)


def test_outside_colab_the_colab_helpers_say_so():
    assert not colab.in_colab()
    with pytest.raises(RuntimeError, match="needs Google Colab"):
        colab.keep_cache_in_drive()
    with pytest.raises(RuntimeError, match="needs Google Colab"):
        colab.upload_video()
    with pytest.raises(RuntimeError, match="upload button or picker.select"):
        video_picker(use_widgets=False).upload()


def test_the_drive_cache_moves_the_cache_but_not_the_samples(in_colab, monkeypatch, capsys):
    monkeypatch.delenv(paths.DATA_ENV, raising=False)
    samples_before = paths.data_dir()
    cache = colab.keep_cache_in_drive()
    assert cache == in_colab / "drive" / "MyDrive" / colab.DRIVE_CACHE_FOLDER
    assert paths.cache_dir() == cache and cache.is_dir()
    assert paths.data_dir() == samples_before, "the sample videos stay on the local disk"
    assert (in_colab / "drive").resolve() == (in_colab.parent / "google-drive").resolve()
    assert "Mounted at" in capsys.readouterr().out
    paths.cache_dir("pretrained")  # written into Drive, where the next notebook finds it
    assert (in_colab.parent / "google-drive" / "MyDrive" / colab.DRIVE_CACHE_FOLDER
            / "pretrained").is_dir()
    assert colab.keep_cache_in_drive() == cache  # a second run of the setup cell is harmless


def test_colab_uploads_go_through_colabs_uploader(in_colab):
    picker = video_picker(use_widgets=False)
    path = picker.upload()
    assert picker.source == path
    assert path == paths.cache_dir("uploads") / "my_clip.avi"
    assert path.read_bytes() == b"the student's video"
    assert list(in_colab.iterdir()) == [], "Colab's copy in the working folder is removed"
    assert "picker.upload()" in picker.text()


def test_the_picker_widget_offers_colabs_uploader_instead_of_fileupload(in_colab):
    pytest.importorskip("ipywidgets")
    import ipywidgets

    picker = video_picker(use_widgets=True)
    assert not isinstance(picker._upload, ipywidgets.FileUpload)
    assert "picker.upload()" in picker._upload.value


def test_the_time_estimate_scales_measured_steps_to_the_whole_video():
    from twostream_lab import load_two_stream, make_synthetic_clip
    from twostream_lab.notebook.timing import estimate_run_time

    models = load_two_stream("demo")
    clip = make_synthetic_clip("red moving down-right", seed=0)
    whole = estimate_run_time(clip, models, flow_method="dis")
    assert (whole.flow_pairs, whole.frames, whole.stacks) == (clip.num_frames - 1,
                                                               clip.num_frames,
                                                               clip.num_frames - 10)
    assert whole.total_seconds == pytest.approx(whole.flow_seconds + whole.spatial_seconds
                                                + whole.motion_seconds + whole.render_seconds)
    assert min(whole.seconds_per_pair, whole.seconds_per_frame, whole.seconds_per_stack) > 0
    assert str(whole).startswith("expected time on this machine: about ")
    sampled = estimate_run_time(clip, models, flow_method="dis", sampling=3)
    assert (sampled.frames, sampled.stacks, sampled.flow_pairs) == (3, 3, clip.num_frames - 1)


# -- the replica's own rules (tools/colab_replica.py) -----------------------------------------


@pytest.fixture(scope="module")
def replica():
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import colab_replica
    finally:
        sys.path.remove(str(ROOT / "tools"))
    return colab_replica


def test_the_replica_switches_on_every_choice_a_student_makes(replica, tmp_path):
    for source in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = replica.student_copy(source, tmp_path / source.name)
        code = "\n".join(cell.source for cell in nb.cells if cell.cell_type == "code")
        assert "KEEP_CACHE_IN_DRIVE = True" in code
        assert all(not cell.get("outputs") for cell in nb.cells if cell.cell_type == "code")
    assert "UPLOAD = True" in (tmp_path / "05_predictions_and_fusion.ipynb").read_text()


def test_the_replica_fails_when_a_choice_it_exercises_is_gone(replica, tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print('no setup cell')")])
    source = tmp_path / "01_renamed.ipynb"
    nbformat.write(nb, source)
    with pytest.raises(replica.ReplicaFailure, match="KEEP_CACHE_IN_DRIVE = False"):
        replica.student_copy(source, tmp_path / "copy.ipynb")


def test_the_replica_checks_what_the_setup_cell_may_change(replica):
    colab_image = {"cv2": "5.0.0", "tvl1": False,
                   "packages": {"tensorflow": "2.20.0", "keras": "3.13.2", "tf-keras": "2.20.1",
                                "numpy": "2.1.3", "opencv-contrib-python": "4.14.0.94",
                                "opencv-python": "5.0.0.93"}}
    repaired = {"cv2": "4.14.0", "tvl1": True,
                "packages": {**colab_image["packages"]}}
    del repaired["packages"]["opencv-python"]
    assert replica.check_image(colab_image) == []
    assert replica.check_image(repaired) != []
    assert replica.check_packages(colab_image, repaired) == []
    numpy_moved = {**repaired, "packages": {**repaired["packages"], "numpy": "2.4.0"}}
    assert replica.check_packages(colab_image, numpy_moved) == [
        "the setup cell changed numpy: 2.1.3 -> 2.4.0"]
    assert "TV-L1 is missing" in replica.check_packages(colab_image, colab_image)[0]
