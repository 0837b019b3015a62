"""The ``twostream-lab`` command line, run in-process through ``main``."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from twostream_lab import __version__
from twostream_lab.cli import build_parser, main
from twostream_lab.flow import load_flow
from twostream_lab.offline_lab.synthetic import make_synthetic_clip


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
    monkeypatch.setitem(sys.modules, "twostream_lab.weights.pretrained", None)
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
    assert data["weights"] == "demo" and data["demo"] is True
    assert set(data["top_k"]) == {"spatial", "motion", "fused"}
    assert all(len(top) == 5 for top in data["top_k"].values())
    fused = data["scores"]["fused"]
    assert data["top_k"]["fused"][0]["class"] == max(fused, key=fused.get)
    assert data["video_out"] is None


def test_predict_rejects_a_bad_weights_option(clip_file, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["predict", str(clip_file), "--weights", "only_one.h5"])
    assert exit_info.value.code == 2
    assert "argument --weights" in capsys.readouterr().err


def test_flow_reads_with_short_side_and_max_frames(clip_file, tmp_path, capsys):
    out = tmp_path / "flow.npz"
    assert main(["flow", str(clip_file), "--method", "dis", "--out", str(out), "--quiet",
                 "--short-side", "24", "--max-frames", "5"]) == 0
    assert "of 24x24 from clip.mp4 (5 frames)" in capsys.readouterr().out
    assert load_flow(out).u.shape == (4, 24, 24)


def test_flow_short_side_reads_a_video_too_large_at_full_size(clip_file, tmp_path, monkeypatch):
    from twostream_lab.video import VideoError, read_video

    monkeypatch.setitem(read_video.__kwdefaults__, "memory_limit", 16 * 48 * 48 * 3 // 2)
    with pytest.raises(VideoError, match="memory limit"):
        read_video(clip_file)
    out = tmp_path / "flow.npz"
    assert main(["flow", str(clip_file), "--method", "dis", "--out", str(out), "--quiet",
                 "--short-side", "24"]) == 0
    assert load_flow(out).u.shape == (15, 24, 24)


def test_predict_reads_with_short_side_and_max_frames(clip_file, capsys):
    assert main(["predict", str(clip_file), "--weights", "demo", "--flow", "dis", "--json",
                 "--max-frames", "12", "--short-side", "32"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["num_frames"] == 12 and len(data["frames"]["spatial"]) == 12


def test_demo_label_takes_an_index_or_a_name():
    parser = build_parser()
    assert parser.parse_args(["demo", "--label", "3"]).label == 3
    name = "blue moving up-left"
    assert parser.parse_args(["demo", "--label", name]).label == name


# TensorFlow's start-up lines: 2.21 writes these to stderr while it loads, despite the level.
_TF_STARTUP = re.compile(
    r"absl::InitializeLog|oneDNN custom operations|cpu_feature_guard|"
    r"^[IW]\d{4} \d\d:\d\d:\d+\.\d+ +\d+ \S+:\d+\]|^\d{4}-\d\d-\d\d [\d:.]+: [IW] ",
    re.MULTILINE,
)


def test_demo_prints_no_tensorflow_startup_lines(tmp_path):
    env = {key: value for key, value in os.environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"}
    env["TF_ENABLE_ONEDNN_OPTS"] = "1"  # oneDNN on, as by default on AVX-512 CPUs: its notice
    result = subprocess.run(
        [sys.executable, "-m", "twostream_lab.cli", "demo", "--quiet", "--out",
         str(tmp_path / "demo.mp4")],
        capture_output=True, text=True, env=env, timeout=600,
    )
    assert result.returncode == 0, result.stderr
    assert "Prediction for" in result.stdout
    assert not _TF_STARTUP.findall(result.stderr), result.stderr


_FAKE_TENSORFLOW = """
import os, sys
os.write(2, b"WARNING: All log messages before absl::InitializeLog() is called are written to "
            b"STDERR\\n")
os.write(2, b"I0000 00:00:1796128537.320764   10795 port.cc:153] oneDNN custom operations on\\n")
sys.stderr.write("a Python warning while importing\\n")
os.write(2, b"E0000 00:00:1796128537.391237   10795 cuda_dnn.cc:8579] Unable to register cuDNN\\n")
os.write(2, b"2026-12-01 12:27:02.108800: W tensorflow/core/x.cc:1] a TensorFlow warning\\n")
if os.environ.get("FAKE_TENSORFLOW_FAILS"):
    raise ImportError("this TensorFlow is broken")
"""


def _import_fake_tensorflow(tmp_path, **env: str) -> subprocess.CompletedProcess:
    """Import twostream_lab, then a ``tensorflow`` that writes what TensorFlow 2.21 writes."""
    (tmp_path / "tensorflow").mkdir()
    (tmp_path / "tensorflow" / "__init__.py").write_text(_FAKE_TENSORFLOW)
    code = (
        "import sys, twostream_lab\n"
        "try:\n    import tensorflow\nexcept ImportError as error:\n    print(error)\n"
        "print('after the import', file=sys.stderr)\n"
        "print(any(type(f).__name__ == '_TensorFlowFinder' for f in sys.meta_path))\n"
    )
    environ = {key: value for key, value in os.environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"}
    environ.update(env, PYTHONPATH=os.pathsep.join([str(tmp_path), *sys.path]))
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=environ, timeout=120, check=True)


def test_tensorflow_startup_lines_are_dropped_and_everything_else_kept(tmp_path):
    result = _import_fake_tensorflow(tmp_path)
    assert result.stderr.splitlines() == [
        "a Python warning while importing",
        "E0000 00:00:1796128537.391237   10795 cuda_dnn.cc:8579] Unable to register cuDNN",
        "after the import",
    ]
    assert result.stdout.split() == ["False"]  # only the first import is filtered


def test_tensorflow_startup_lines_stay_with_the_users_own_log_level(tmp_path):
    result = _import_fake_tensorflow(tmp_path, TF_CPP_MIN_LOG_LEVEL="1")
    assert "absl::InitializeLog" in result.stderr and "oneDNN custom operations" in result.stderr


def test_stderr_is_restored_when_the_tensorflow_import_fails(tmp_path):
    result = _import_fake_tensorflow(tmp_path, FAKE_TENSORFLOW_FAILS="1")
    assert "this TensorFlow is broken" in result.stdout
    assert result.stderr.splitlines()[-1] == "after the import"
    assert "Unable to register cuDNN" in result.stderr and "absl" not in result.stderr


def test_check_exits_non_zero_for_a_bad_submission(tmp_path, capsys):
    (tmp_path / "broken.ipynb").write_text("{not json")
    assert main(["check", str(tmp_path), "--csv", str(tmp_path / "r.csv")]) != 0
    assert "broken.ipynb" in capsys.readouterr().out
    assert (tmp_path / "r.csv").read_text().count("\n") == 2
