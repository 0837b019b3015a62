"""Recording from the webcam in Colab, with a stand-in ``google.colab.output`` whose ``eval_js``
answers what a browser would: a real WebM clip as a base64 data URL, or an error."""

from __future__ import annotations

import base64
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from twostream_lab.data import paths
from twostream_lab.notebook import webcam, widgets
from twostream_lab.video import VideoError, read_video

ROOT = Path(__file__).resolve().parents[1]
STANDIN = ROOT / "tools" / "colab_standin"
HEIGHT, WIDTH = 48, 64


def _frames(count: int) -> np.ndarray:
    """``count`` RGB frames of a bright square moving right over a dark background."""
    frames = np.full((count, HEIGHT, WIDTH, 3), 30, np.uint8)
    for t in range(count):
        frames[t, 16:32, 2 * t:2 * t + 16] = (220, 180, 40)
    return frames


def _write_webm(path: Path, count: int) -> None:
    """A real WebM (VP8) clip: with OpenCV when its FFmpeg can, else with imageio-ffmpeg."""
    import cv2

    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"VP80"), 25, (WIDTH, HEIGHT))
    if writer.isOpened():
        for frame in _frames(count):
            writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
        writer.release()
    if not (path.is_file() and path.stat().st_size):
        imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg", reason="no way to write WebM")
        try:
            frames = imageio_ffmpeg.write_frames(str(path), (WIDTH, HEIGHT), fps=25,
                                                 codec="libvpx", macro_block_size=1)
            frames.send(None)
            for frame in _frames(count):
                frames.send(np.ascontiguousarray(frame))
            frames.close()
        except (OSError, RuntimeError) as error:
            pytest.skip(f"neither OpenCV nor imageio-ffmpeg can write WebM here: {error}")


def _data_url(content: bytes, mime: str = "video/webm;codecs=vp8") -> str:
    return f"data:{mime};base64,{base64.b64encode(content).decode('ascii')}"


class FakeBrowser:
    """``google.colab.output.eval_js``: records each script and answers ``self.answer``."""

    def __init__(self) -> None:
        self.scripts: list[str] = []
        self.answer: object = None

    def eval_js(self, script: str, ignore_result: bool = False, timeout_sec=None):
        self.scripts.append(script)
        return self.answer


@pytest.fixture
def browser(monkeypatch) -> FakeBrowser:
    """A stand-in google, google.colab and google.colab.output in sys.modules (so in Colab)."""
    fake = FakeBrowser()
    google = types.ModuleType("google")
    colab = types.ModuleType("google.colab")
    output = types.ModuleType("google.colab.output")
    output.eval_js = fake.eval_js
    colab.output = output
    google.colab = colab
    for name, module in (("google", google), ("google.colab", colab),
                         ("google.colab.output", output)):
        monkeypatch.setitem(sys.modules, name, module)
    return fake


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> bytes:
    """20 frames of WebM."""
    path = tmp_path_factory.mktemp("webm") / "clip.webm"
    _write_webm(path, 20)
    return path.read_bytes()


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_a_recording_is_decoded_saved_and_readable(browser, clip, tmp_path):
    browser.answer = _data_url(clip)
    path = webcam.record_webcam(2.5, folder=tmp_path / "uploads", name="jumping jacks")
    assert path == tmp_path / "uploads" / "jumping_jacks.webm" and path.read_bytes() == clip
    assert _files(tmp_path / "uploads") == ["jumping_jacks.webm"], "no temporary file is left"
    video = read_video(path)
    assert video.frames.shape == (20, HEIGHT, WIDTH, 3)
    assert abs(int(video.frames[5, 24, 2 * 5 + 8, 0]) - 220) < 40, "the square is where it was"
    (script,) = browser.scripts
    assert "navigator.mediaDevices.getUserMedia({video: true})" in script
    assert "new MediaRecorder(" in script and "'video/webm'" in script
    assert script.rstrip().endswith("(2500)"), "the duration goes to the browser in ms"
    assert "readAsDataURL" in script


def test_by_default_the_recording_goes_into_the_uploads_folder(browser, clip):
    browser.answer = _data_url(clip, "video/webm")
    path = webcam.record_webcam()
    assert path.parent == paths.cache_dir("uploads")
    assert path.name.startswith("webcam_") and path.suffix == ".webm"
    assert browser.scripts[-1].rstrip().endswith("(4000)")


def test_an_mp4_recording_keeps_its_suffix(browser, tmp_path):
    import cv2

    source = tmp_path / "safari.mp4"
    writer = cv2.VideoWriter(str(source), cv2.VideoWriter_fourcc(*"mp4v"), 25, (WIDTH, HEIGHT))
    for frame in _frames(15):
        writer.write(frame)
    writer.release()
    browser.answer = _data_url(source.read_bytes(), "video/mp4")
    path = webcam.record_webcam(1, folder=tmp_path / "uploads", name="wave.webm")
    assert path.name == "wave.mp4"


@pytest.mark.parametrize("error, advice", [
    ("NotAllowedError", "the camera was not allowed: click the camera icon"),
    ("NotFoundError", "no camera was found"),
    ("AbortError", "the browser could not record"),
])
def test_a_browser_error_says_how_to_fix_it(browser, tmp_path, error, advice):
    browser.answer = {"error": error, "message": "Permission denied"}
    with pytest.raises(webcam.WebcamError) as raised:
        webcam.record_webcam(folder=tmp_path / "uploads")
    assert str(raised.value).startswith(advice)
    assert f"({error}: Permission denied)" in str(raised.value)
    assert "picker.upload()" in str(raised.value)
    assert _files(tmp_path / "uploads") == []


@pytest.mark.parametrize("answer, problem", [
    (None, "the browser sent no recording"),
    ("data:", "the browser sent no recording"),
    ("not a data URL", "the browser sent no recording"),
    ("data:video/webm;base64,@@not base64@@", "not valid base64"),
    ("data:video/webm;base64,", "the recording is empty"),
    (_data_url(b"junk bytes, not a video " * 40), "decodes into 0 frames"),
])
def test_an_unusable_recording_is_not_kept(browser, tmp_path, answer, problem):
    browser.answer = answer
    with pytest.raises(VideoError, match=problem) as raised:
        webcam.record_webcam(folder=tmp_path / "uploads")
    message = str(raised.value)
    assert "allow the camera" in message and "record longer" in message
    assert "picker.upload()" in message
    assert _files(tmp_path / "uploads") == []


def test_a_recording_too_short_for_the_motion_stream_is_not_kept(browser, tmp_path):
    short = tmp_path / "short.webm"
    _write_webm(short, 5)
    browser.answer = _data_url(short.read_bytes())
    with pytest.raises(VideoError, match=r"decodes into 5 frames, fewer than the 11"):
        webcam.record_webcam(folder=tmp_path / "uploads")
    assert _files(tmp_path / "uploads") == []


def test_outside_colab_it_names_the_alternatives(monkeypatch):
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    with pytest.raises(RuntimeError, match=r"needs Google Colab.*upload button or "
                                           r"picker.select\(PATH\)"):
        webcam.record_webcam()
    picker = widgets.VideoPicker([], use_widgets=False)
    with pytest.raises(webcam.WebcamError, match="needs Google Colab"):
        picker.record()


def test_a_colab_without_output_fails_clearly(monkeypatch):
    """The replica's stand-in google.colab has drive and files but no output module."""
    monkeypatch.syspath_prepend(str(STANDIN))
    for name in [m for m in sys.modules if m == "google.colab" or m.startswith("google.colab.")]:
        monkeypatch.delitem(sys.modules, name)
    import google.colab  # noqa: F401

    try:
        with pytest.raises(webcam.WebcamError, match="no output.eval_js.*picker.upload()"):
            webcam.record_webcam()
    finally:
        for name in [m for m in sys.modules
                     if m == "google.colab" or m.startswith("google.colab.")]:
            sys.modules.pop(name, None)


@pytest.mark.parametrize("seconds", [0, -1, True, "4", float("nan"), float("inf"), None, 31])
def test_bad_seconds_are_refused_before_anything_runs(browser, seconds):
    with pytest.raises(ValueError, match=r"^seconds must be"):
        webcam.record_webcam(seconds)
    assert browser.scripts == []


@pytest.mark.parametrize("name", ["", "...", 7])
def test_a_bad_name_is_refused(browser, name):
    with pytest.raises(ValueError, match="name must be a file name"):
        webcam.record_webcam(name=name)


def test_the_picker_records_and_selects_the_recording(browser, clip, tmp_path):
    browser.answer = _data_url(clip)
    picker = widgets.VideoPicker([], use_widgets=False, upload_dir=tmp_path / "uploads")
    assert "picker.record(seconds=4)" in picker.text()
    path = picker.record(3)
    assert picker.source == path and path.parent == tmp_path / "uploads"
    assert browser.scripts[-1].rstrip().endswith("(3000)")
    assert picker.read().num_frames == 20


def test_in_colab_the_picker_says_how_to_record(browser, tmp_path):
    pytest.importorskip("ipywidgets")
    picker = widgets.VideoPicker([], synthetic_classes=["red moving up-left"], use_widgets=True,
                                 upload_dir=tmp_path / "uploads")
    assert "picker.record(seconds=4)" in picker._upload.value
    assert browser.scripts == [], "nothing runs in the browser before picker.record()"


_BROWSER_MOCK = """
const element = () => ({style: {}, append() {}, remove() {}, play: async () => {}});
global.window = global;
global.document = {createElement: element, body: {appendChild() {}},
                   documentElement: {scrollHeight: 480}};
const tracks = [];
global.navigator = {mediaDevices: {getUserMedia: async () => {
  if (process.argv[2] === 'deny') {
    throw Object.assign(new Error('Permission denied'), {name: 'NotAllowedError'});
  }
  const track = {stopped: false, stop() { this.stopped = true; }};
  tracks.push(track);
  return {getTracks: () => [track]};
}}};
global.MediaRecorder = class {
  static isTypeSupported(type) { return type === 'video/webm'; }
  constructor(stream, options) { this.mimeType = options.mimeType; this.state = 'inactive'; }
  start() { this.state = 'recording'; }
  stop() {
    this.state = 'inactive';
    this.ondataavailable({data: new Blob([Buffer.from('webm bytes')])});
    this.onstop();
  }
};
global.FileReader = class {
  readAsDataURL(blob) {
    blob.arrayBuffer().then((buffer) => {
      this.result = 'data:' + blob.type + ';base64,' + Buffer.from(buffer).toString('base64');
      this.onload();
    });
  }
};
const started = Date.now();
Promise.resolve(%s).then((result) => {
  console.log(JSON.stringify({result, seconds: (Date.now() - started) / 1000,
                              stopped: tracks.every((track) => track.stopped)}));
});
"""


@pytest.mark.parametrize("mode", ["record", "deny"])
def test_the_recorder_script_runs_in_a_javascript_engine(mode, tmp_path):
    """The recorder's own JavaScript, run by Node against a stand-in browser: it records for the
    requested time, answers a data URL (or the browser's error) and always frees the camera."""
    import json
    import shutil
    import subprocess

    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed")
    from twostream_lab.notebook.webcam import _RECORDER_JS

    script = tmp_path / "recorder.js"
    script.write_text(_BROWSER_MOCK % (_RECORDER_JS % 300))
    run = subprocess.run([node, str(script), mode], capture_output=True, text=True, timeout=30)
    assert run.returncode == 0, run.stderr
    answer = json.loads(run.stdout)
    assert answer["stopped"]
    if mode == "deny":
        assert answer["result"] == {"error": "NotAllowedError", "message": "Permission denied"}
    else:
        assert answer["result"] == "data:video/webm;base64," + base64.b64encode(
            b"webm bytes").decode()
        assert answer["seconds"] >= 0.29
