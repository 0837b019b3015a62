"""What the command line does with mistakes: a short message naming the problem and the fix.

Usage errors (bad option values) exit with status 2 at parse time; problems with the user's files,
videos and weights exit with status 1 before any work; anything else is a bug and keeps its
traceback, as every error does with ``--debug`` or ``TWOSTREAM_LAB_DEBUG=1``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from twostream_lab.cli import cli_spelling, main
from twostream_lab.data.paths import TEMP_PREFIX
from twostream_lab.offline_lab.synthetic import make_synthetic_clip


@pytest.fixture
def clip_file(tmp_path):
    import imageio.v3 as iio

    clip = make_synthetic_clip(0, seed=3)  # 16 frames of 48x48
    path = tmp_path / "clip.mp4"
    iio.imwrite(path, clip.frames, fps=clip.fps, codec="libx264", quality=10)
    return path


@pytest.fixture
def no_work(monkeypatch):
    """Fail the test if a command gets as far as its library runner."""

    def started(*args, **kwargs):
        raise AssertionError("the work started before the error was found")

    import twostream_lab.commands

    for module, name in ((twostream_lab.commands, "run_predict"),
                         (twostream_lab.commands, "run_demo"),
                         (twostream_lab.commands, "flow_command"),
                         (twostream_lab.commands, "run_train_demo")):
        monkeypatch.setattr(module, name, started)


def _exit_status(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    return exit_info.value.code


def _one_error(capsys) -> str:
    """The error printed on stderr: no traceback, nothing on stdout."""
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "Traceback" not in captured.err
    return captured.err.strip().splitlines()[-1]


# --------------------------------------------------------------------------- usage errors: 2


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["predict", "V", "--batch-size", "0"], "--batch-size"),
        (["predict", "V", "--batch-size", "-4"], "--batch-size"),
        (["predict", "V", "--batch-size", "many"], "--batch-size"),
        (["predict", "V", "--sampling", "0"], "--sampling"),
        (["predict", "V", "--sampling", "some"], "--sampling"),
        (["predict", "V", "--short-side", "0"], "--short-side"),
        (["predict", "V", "--max-frames", "0"], "--max-frames"),
        (["predict", "V", "--weights", "only_one.h5"], "--weights"),
        (["predict", "V", "--flow", "tvl2"], "--flow"),
        (["predict", "V", "--out", "demo.avi"], "--out"),
        (["flow", "V", "--out", "f.npz", "--workers", "0"], "--workers"),
        (["flow", "V", "--out", "f.npz", "--short-side", "0"], "--short-side"),
        (["flow", "V", "--out", "f.npz", "--max-frames", "0"], "--max-frames"),
        (["flow", "V", "--out", "f.npz", "--bound", "0"], "--bound"),
        (["flow", "V", "--out", "f.npz", "--method", "TVL1"], "--method"),
        (["flow", "V", "--out", "flow.npy"], "--out"),
        (["demo", "--out", "demo.gif"], "--out"),
        (["demo", "--label", "99"], "--label"),
        (["demo", "--seed", "-1"], "--seed"),
    ],
)
def test_a_bad_option_value_is_a_usage_error_at_parse_time(argv, named, capsys, no_work):
    assert _exit_status(argv) == 2
    error = capsys.readouterr().err
    assert f"argument {named}:" in error and "Traceback" not in error


def test_usage_error_messages_say_what_to_give(capsys):
    assert _exit_status(["predict", "V", "--batch-size", "0"]) == 2
    assert "must be a whole number of 1 or more, such as 8; got '0'" in capsys.readouterr().err
    assert _exit_status(["flow", "V", "--out", "flow.npy"]) == 2
    assert "ending in .npz, such as clip_flow.npz; got 'flow.npy'" in capsys.readouterr().err
    assert _exit_status(["predict", "V", "--out", "demo.avi"]) == 2
    assert "ending in .mp4" in capsys.readouterr().err
    assert _exit_status(["predict", "V", "--weights", "only_one.h5"]) == 2
    assert "SPATIAL.h5,MOTION.h5" in capsys.readouterr().err


def test_batch_size_0_is_a_usage_error_in_a_real_process(clip_file):
    result = subprocess.run(
        [sys.executable, "-m", "twostream_lab.cli", "predict", str(clip_file), "--batch-size", "0"],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 2
    assert "argument --batch-size" in result.stderr and "Traceback" not in result.stderr


# --------------------------------------------------------------------------- the user's files: 1


def test_a_missing_video_is_one_line_and_status_1(tmp_path, capsys, no_work):
    assert main(["predict", str(tmp_path / "nothing.mp4"), "--weights", "demo"]) == 1
    error = _one_error(capsys)
    assert error.startswith("twostream-lab predict: error: ")
    assert "nothing.mp4: no such file" in error and "check the path" in error


def test_a_folder_given_as_the_video(tmp_path, capsys, no_work):
    assert main(["flow", str(tmp_path), "--out", str(tmp_path / "f.npz")]) == 1
    assert "is a folder, not a video file" in _one_error(capsys)


def test_a_file_that_is_not_a_video(tmp_path, capsys):
    junk = tmp_path / "junk.mp4"
    junk.write_text("not a video")
    assert main(["predict", str(junk), "--weights", "demo", "--flow", "dis"]) == 1
    error = _one_error(capsys)
    assert "junk.mp4: OpenCV cannot open it as a video" in error and "ffmpeg" in error


def test_an_unreadable_video(clip_file, capsys, no_work):
    clip_file.chmod(0)
    try:
        if os.access(clip_file, os.R_OK):
            pytest.skip("running as root: permission bits do not stop reading")
        assert main(["predict", str(clip_file), "--weights", "demo"]) == 1
        assert "cannot read it (Permission denied); check its permissions" in _one_error(capsys)
    finally:
        clip_file.chmod(0o644)


def test_a_video_url_that_cannot_be_downloaded(tmp_path, capsys):
    from loopback import closed_port

    url = f"http://127.0.0.1:{closed_port()}/clip.mp4"
    assert main(["flow", url, "--out", str(tmp_path / "f.npz"), "--quiet"]) == 1
    error = _one_error(capsys)
    assert f"{url}: could not download it" in error and "no such file" not in error


def test_missing_local_weights_files_fail_before_reading_the_video(tmp_path, capsys, no_work):
    weights = f"{tmp_path / 'spatial.h5'},{tmp_path / 'motion.h5'}"
    assert main(["predict", str(tmp_path / "absent.mp4"), "--weights", weights]) == 1
    assert "spatial.h5: no such file" in _one_error(capsys)


@pytest.mark.parametrize("command", ["predict", "flow", "demo"])
def test_out_in_a_missing_folder_fails_at_once(command, clip_file, tmp_path, capsys, no_work):
    suffix = ".npz" if command == "flow" else ".mp4"
    out = tmp_path / "no" / "such" / f"result{suffix}"
    argv = {"predict": ["predict", str(clip_file), "--weights", "demo"],
            "flow": ["flow", str(clip_file)], "demo": ["demo"]}[command]
    assert main([*argv, "--out", str(out)]) == 1
    error = _one_error(capsys)
    assert f"--out {out}: the folder {out.parent} does not exist" in error and "mkdir -p" in error
    assert not (tmp_path / "no").exists()


def test_out_below_a_file_fails_at_once(clip_file, tmp_path, capsys, no_work):
    out = clip_file / "demo.mp4"  # works as root too: nobody makes a folder inside a file
    assert main(["predict", str(clip_file), "--weights", "demo", "--out", str(out)]) == 1
    assert f"--out {out}: {clip_file} is a file, not a folder" in _one_error(capsys)


def test_out_where_nothing_can_be_created_names_the_users_path(clip_file, capsys, no_work):
    if not Path("/proc/self").is_dir():
        pytest.skip("no /proc on this system")
    assert main(["predict", str(clip_file), "--weights", "demo", "--out", "/proc/x.mp4"]) == 1
    error = _one_error(capsys)
    assert "--out /proc/x.mp4: cannot write in the folder /proc" in error
    assert TEMP_PREFIX not in error


def test_out_in_a_read_only_folder(clip_file, tmp_path, capsys, no_work):
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        if os.access(folder, os.W_OK):
            pytest.skip("running as root: a read-only folder is still writable")
        assert main(["flow", str(clip_file), "--out", str(folder / "f.npz")]) == 1
        error = _one_error(capsys)
        assert f"cannot write in the folder {folder} (Permission denied)" in error
    finally:
        folder.chmod(0o755)


def test_flow_out_an_existing_folder_asks_for_a_file_name(clip_file, tmp_path, capsys, no_work):
    assert main(["flow", str(clip_file), "--out", str(tmp_path)]) == 1
    error = _one_error(capsys)
    assert f"--out {tmp_path} is a folder: give a file name such as {tmp_path / 'clip_flow.npz'}" \
        in error


def test_train_demo_out_dir_that_is_a_file(clip_file, capsys, no_work):
    assert main(["train-demo", "--out-dir", str(clip_file)]) == 1
    assert "is a file, not a folder" in _one_error(capsys)


def test_the_write_probe_leaves_nothing_behind(clip_file, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    assert main(["flow", str(clip_file), "--method", "dis", "--out", str(out / "f.npz"),
                 "--quiet", "--no-cache"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["f.npz"]


# --------------------------------------------------------------------------- library errors: 1


def test_missing_optflow_names_the_fix_in_the_commands_spelling(clip_file, tmp_path, capsys,
                                                               monkeypatch):
    import twostream_lab.flow.methods as flow

    monkeypatch.setattr(flow, "has_optflow", lambda: False)
    assert main(["flow", str(clip_file), "--out", str(tmp_path / "f.npz"), "--quiet"]) == 1
    error = capsys.readouterr().err
    assert "Traceback" not in error and "pip install opencv-contrib-python" in error
    assert "--method dis or --method farneback" in error and "method='dis'" not in error

    assert main(["predict", str(clip_file), "--weights", "demo", "--quiet"]) == 1
    error = capsys.readouterr().err
    assert "--flow dis or --flow farneback" in error and "method=" not in error


def test_a_video_over_the_memory_limit_suggests_max_frames(clip_file, tmp_path, capsys,
                                                          monkeypatch):
    from twostream_lab.video import read_video

    monkeypatch.setitem(read_video.__kwdefaults__, "memory_limit", 48 * 48 * 3 * 10)
    assert main(["flow", str(clip_file), "--out", str(tmp_path / "f.npz"), "--quiet"]) == 1
    error = _one_error(capsys)
    assert "over the memory limit" in error and "--max-frames 10 keeps the first 10" in error
    assert "max_frames=" not in error and "read_video" not in error
    assert "memory_limit" not in error  # no option for it: the hint is dropped


def test_weights_that_cannot_be_had(clip_file, capsys, monkeypatch):
    import twostream_lab.models.two_stream as two_stream
    import twostream_lab.weights.pretrained as pretrained

    def offline(stream, **kwargs):
        raise pretrained.PretrainedError("cannot reach drive.google.com: this machine is offline")

    monkeypatch.setattr(two_stream, "fetch_pretrained", offline)
    assert main(["predict", str(clip_file), "--quiet"]) == 1
    assert "this machine is offline" in _one_error(capsys)


# --------------------------------------------------------------------------- tracebacks


def test_debug_shows_the_traceback(tmp_path, monkeypatch):
    missing, out = str(tmp_path / "nothing.mp4"), str(tmp_path / "f.npz")
    for argv in (["--debug", "flow", missing, "--out", out],
                 ["flow", missing, "--out", out, "--debug"]):
        with pytest.raises(Exception, match="no such file"):
            main(argv)
    monkeypatch.setenv("TWOSTREAM_LAB_DEBUG", "1")
    with pytest.raises(Exception, match="no such file"):
        main(["flow", missing, "--out", out])


def test_a_bug_keeps_its_traceback(clip_file, monkeypatch):
    import twostream_lab.commands

    def broken(*args, **kwargs):
        raise KeyError("a bug, not the user's mistake")

    monkeypatch.setattr(twostream_lab.commands, "run_predict", broken)
    with pytest.raises(KeyError):
        main(["predict", str(clip_file), "--weights", "demo"])


def test_a_bug_in_a_subprocess_prints_the_traceback_and_a_user_error_does_not(tmp_path):
    command = [sys.executable, "-m", "twostream_lab.cli", "flow", str(tmp_path / "none.mp4"),
               "--out", str(tmp_path / "f.npz")]
    plain = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert plain.returncode == 1 and "Traceback" not in plain.stderr
    assert len(plain.stderr.strip().splitlines()) == 1
    env = {**os.environ, "TWOSTREAM_LAB_DEBUG": "1"}
    debug = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)
    assert debug.returncode == 1 and "Traceback" in debug.stderr


# --------------------------------------------------------------------------- the spelling


def test_cli_spelling_rewrites_hints_and_drops_those_without_an_option():
    flow_options = {"method": "--method", "workers": "--workers", "max_frames": "--max-frames"}
    message = "a worker stopped; see the messages above, or pass workers=1 to compute here"
    assert cli_spelling(message, flow_options).endswith("or pass --workers 1 to compute here")
    assert cli_spelling(message, {}) == "a worker stopped; see the messages above"
    message = ("Read less of it with read_video(...): max_frames=8 keeps 8 frames. Or pass a "
               "larger memory_limit= if this machine has the memory.")
    assert cli_spelling(message, flow_options) == "Read less of it: --max-frames 8 keeps 8 frames."
    assert cli_spelling("use a larger max_frames", flow_options) == "use a larger --max-frames"
    assert cli_spelling("flow method 'dis' is fine", flow_options) == "flow method 'dis' is fine"


def test_cli_spelling_of_the_download_hints():
    slow = ("the server is too slow. Try again later, pass a larger read_video(..., "
            "deadline=SECONDS), or download the file yourself and pass its path")
    assert cli_spelling(slow, {}) == ("the server is too slow. Try again later, or download the "
                                      "file yourself and pass its path")
    large = ("over the limit of 200.0 MiB; pass a larger read_video(..., download_limit=...) if "
             "you really want this file")
    assert cli_spelling(large, {}) == ("over the limit of 200.0 MiB; download it yourself and "
                                       "pass its path if you really want this file")
