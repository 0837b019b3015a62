"""The ``twostream-lab`` command line, run in-process through ``main``."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

from twostream_lab import __version__
from twostream_lab.cli import main
from twostream_lab.flow import load_flow
from twostream_lab.synthetic import make_synthetic_clip


@pytest.fixture
def clip_file(tmp_path):
    import imageio.v3 as iio

    clip = make_synthetic_clip(0, seed=3)
    path = tmp_path / "clip.mp4"
    iio.imwrite(path, clip.frames, fps=clip.fps, codec="libx264", quality=10)
    return path


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"twostream-lab {__version__}"


def test_doctor_reports_the_environment(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("TWOSTREAM_LAB_DATA", str(tmp_path / "nothing"))
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    for line in ("Python", "numpy", "OpenCV", "TensorFlow", "Keras", "cv2.optflow", "GPU",
                 "cache folder", "data folder", "pretrained"):
        assert line in out
    assert "0 found" in out and "twostream-lab samples" in out


def test_doctor_names_the_fix_when_optflow_is_missing(capsys, monkeypatch):
    import twostream_lab.flow as flow

    monkeypatch.setattr(flow, "has_optflow", lambda: False)
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert "MISSING" in out and "pip install" in out and "opencv-contrib-python" in out


def test_doctor_still_reports_when_tensorflow_is_missing(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorflow", None)  # import tensorflow -> ImportError
    monkeypatch.setitem(sys.modules, "twostream_lab.pretrained", None)
    assert main(["doctor"]) == 0
    out = capsys.readouterr().out
    assert "TensorFlow   not importable" in out
    assert "GPU          unknown" in out
    assert "twostream-lab[cpu]" in out


def test_flow_writes_the_quantised_flow(clip_file, tmp_path, capsys):
    out = tmp_path / "flow.npz"
    assert main(["flow", str(clip_file), "--method", "dis", "--out", str(out), "--quiet"]) == 0
    assert "Wrote" in capsys.readouterr().out
    flow = load_flow(out)
    assert flow.u.dtype == np.uint8 and flow.u.shape[0] == 15 and flow.v.shape == flow.u.shape
    assert flow.method == "dis"


def test_predict_with_demo_weights_prints_json(clip_file, capsys):
    assert main(["predict", str(clip_file), "--weights", "demo", "--flow", "dis", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data) >= {"spatial", "motion", "fused"} or "top_k" in json.dumps(data)
    assert "demo" in json.dumps(data).lower()


def test_predict_rejects_a_bad_weights_option(clip_file):
    with pytest.raises(ValueError, match="--weights"):
        main(["predict", str(clip_file), "--weights", "only_one.h5"])


def test_check_exits_non_zero_for_a_bad_submission(tmp_path, capsys):
    (tmp_path / "broken.ipynb").write_text("{not json")
    assert main(["check", str(tmp_path), "--csv", str(tmp_path / "r.csv")]) != 0
    assert "broken.ipynb" in capsys.readouterr().out
    assert (tmp_path / "r.csv").read_text().count("\n") == 2
