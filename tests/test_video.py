"""Reading videos: RGB frames, limits, memory guard, downloads and every bad input's error."""

from __future__ import annotations

import csv
import http.server
import os
import threading
import time
import warnings
from pathlib import Path

import cv2
import numpy as np
import pytest
from loopback import POLL_INTERVAL, closed_port, trickling_server

import twostream_lab.video as video_module
import twostream_lab.video_download as download_module
from twostream_lab.data.paths import TEMP_PREFIX, cache_dir
from twostream_lab.video import (
    MIN_MOTION_FRAMES,
    TRAINING_SHORT_SIDE,
    TruncatedVideoWarning,
    Video,
    VideoError,
    download_video,
    read_video,
    require_frames,
    resize_short_side,
    short_side_size,
)

RED, BLUE = (255, 0, 0), (0, 0, 255)


def two_colour_frames(n: int = 12, h: int = 64, w: int = 80) -> np.ndarray:
    """RGB frames: left half red, right half blue, plus a moving bright bar."""
    frames = np.zeros((n, h, w, 3), np.uint8)
    frames[:, :, : w // 2] = RED
    frames[:, :, w // 2:] = BLUE
    for t in range(n):
        frames[t, 4:8, (3 * t) % w] = 255
    return frames


@pytest.fixture
def clip_path(tmp_path, write_clip) -> Path:
    return write_clip(tmp_path / "clip.avi", two_colour_frames())


class CountingCapture:
    """Wraps cv2.VideoCapture: counts decoded frames and can fake the header's frame count."""

    real = cv2.VideoCapture
    reads = 0
    fake_count: float | None = None

    def __init__(self, *args):
        self._capture = self.real(*args)

    def read(self):
        type(self).reads += 1
        return self._capture.read()

    def get(self, prop):
        if prop == cv2.CAP_PROP_FRAME_COUNT and self.fake_count is not None:
            return self.fake_count
        return self._capture.get(prop)

    def isOpened(self):
        return self._capture.isOpened()

    def release(self):
        self._capture.release()


@pytest.fixture
def counting_capture(monkeypatch):
    class Capture(CountingCapture):
        reads = 0
        fake_count = None

    monkeypatch.setattr(cv2, "VideoCapture", Capture)
    return Capture


# ------------------------------------------------------------------ reading


def test_read_video_returns_rgb_frames_with_metadata(clip_path):
    video = read_video(clip_path)
    assert isinstance(video, Video)
    assert video.frames.shape == (12, 64, 80, 3) and video.frames.dtype == np.uint8
    assert (video.num_frames, video.height, video.width) == (12, 64, 80)
    assert video.fps == pytest.approx(25.0)
    assert video.duration == pytest.approx(12 / 25)
    assert video.name == "clip.avi" and video.source == str(clip_path)
    left, right = video.frames[0, 40, 10], video.frames[0, 40, 70]
    assert left[0] > 200 and left[2] < 60, "the left half is red in RGB order"
    assert right[2] > 200 and right[0] < 60, "the right half is blue in RGB order"
    assert "clip.avi" in repr(video) and "80x64" in repr(video)


def test_frames_are_opencvs_bgr_converted_once(clip_path):
    capture = cv2.VideoCapture(str(clip_path))
    bgr = [capture.read()[1] for _ in range(12)]
    capture.release()
    video = read_video(clip_path)
    np.testing.assert_array_equal(video.frames, np.stack(bgr)[..., ::-1])


def test_max_frames_and_short_side(clip_path):
    video = read_video(clip_path, max_frames=5, short_side=32)
    assert video.frames.shape == (5, 32, 40, 3)
    full = read_video(clip_path)
    expected = resize_short_side(full.frames[:5], 32)
    np.testing.assert_array_equal(video.frames, expected)
    with pytest.raises(ValueError, match="max_frames"):
        read_video(clip_path, max_frames=0)


def test_short_side_size_and_resize():
    assert short_side_size(240, 320, 256) == (256, 341)
    assert short_side_size(320, 240, 256) == (341, 256)
    assert short_side_size(240, 320, None) == (240, 320)
    with pytest.raises(ValueError, match="short_side"):
        short_side_size(240, 320, 0)
    frame = np.zeros((240, 320, 3), np.uint8)
    assert resize_short_side(frame, 120).shape == (120, 160, 3)
    assert resize_short_side(frame, 240) is frame
    assert resize_short_side(np.zeros((2, 240, 320), np.uint8), 256).shape == (2, 256, 341)


def test_from_frames_accepts_arrays_and_lists():
    frames = two_colour_frames(3)
    video = Video.from_frames(list(frames), fps=10, name="synthetic")
    np.testing.assert_array_equal(video.frames, frames)
    assert (video.fps, video.name, video.source) == (10.0, "synthetic", "array")
    assert Video.from_frames(frames).name == "clip"


@pytest.mark.parametrize(
    "frames, message",
    [
        (np.zeros((3, 8, 8, 3), np.float32), "uint8"),
        (np.zeros((3, 8, 8), np.uint8), r"\(T, H, W, 3\)"),
        (np.zeros((0, 8, 8, 3), np.uint8), "no frames"),
        ([], "no frames"),
    ],
)
def test_from_frames_rejects_bad_frames(frames, message):
    with pytest.raises(VideoError, match=message):
        Video.from_frames(frames, name="bad")


# ------------------------------------------------------------------ bad inputs


def test_missing_file(tmp_path):
    with pytest.raises(VideoError, match=r"nope\.mp4.*does not exist"):
        read_video(tmp_path / "nope.mp4")
    with pytest.raises(VideoError, match="is a folder"):
        read_video(tmp_path)


def test_not_a_video(tmp_path):
    path = tmp_path / "notes.mp4"
    path.write_text("these are not video frames")
    with pytest.raises(VideoError, match=r"notes\.mp4: OpenCV cannot open it as a video"):
        read_video(path)


def test_truncated_video(tmp_path, clip_path):
    data = clip_path.read_bytes()
    path = tmp_path / "broken.avi"
    path.write_bytes(data[:200])  # the header and nothing else
    with pytest.raises(VideoError, match=r"broken\.avi"):
        read_video(path)


def test_zero_frames(tmp_path, write_clip):
    path = write_clip(tmp_path / "empty.avi", np.zeros((0, 64, 80, 3), np.uint8))
    with pytest.raises(VideoError, match=r"empty\.avi.*no frame"):
        read_video(path)


def test_too_few_frames_for_a_motion_stack(tmp_path, write_clip):
    short = read_video(write_clip(tmp_path / "short.avi", two_colour_frames(8)))
    with pytest.raises(VideoError, match=r"short\.avi: 8 frames.*at least 11"):
        require_frames(short)
    enough = Video.from_frames(two_colour_frames(MIN_MOTION_FRAMES))
    assert require_frames(enough) is enough
    with pytest.raises(VideoError, match="the clip: 3 frames"):
        require_frames(two_colour_frames(3))


def test_memory_guard_refuses_before_decoding(clip_path, counting_capture):
    frame_bytes = 64 * 80 * 3
    with pytest.raises(VideoError) as error:
        read_video(clip_path, memory_limit=5 * frame_bytes)
    message = str(error.value)
    assert "clip.avi" in message and "memory limit" in message and "max_frames=5" in message
    assert counting_capture.reads == 0, "refused from the header, before decoding any frame"
    assert read_video(clip_path, max_frames=5, memory_limit=5 * frame_bytes).num_frames == 5


def test_memory_guard_suggests_a_smaller_short_side(tmp_path, counting_capture, write_clip):
    path = write_clip(tmp_path / "big.avi", two_colour_frames(4, 300, 400))
    limit = 3 * 300 * 400 * 3
    with pytest.raises(VideoError, match=r"short_side=256 makes frames 341x256"):
        read_video(path, memory_limit=limit)
    assert counting_capture.reads == 0
    assert read_video(path, short_side=256, memory_limit=limit).height == 256


def test_memory_guard_when_the_header_has_no_frame_count(clip_path, counting_capture):
    counting_capture.fake_count = 0.0
    with pytest.raises(VideoError, match="more than 5 frames"):
        read_video(clip_path, memory_limit=5 * 64 * 80 * 3)
    assert counting_capture.reads == 6, "stopped as soon as the limit was passed"


def test_wrong_header_frame_count_still_reads_every_frame(clip_path, counting_capture):
    counting_capture.fake_count = 5.0  # the buffer grows past the header's count
    grown = read_video(clip_path)
    counting_capture.fake_count = 40.0  # and shrinks to the frames really decoded
    with pytest.warns(TruncatedVideoWarning, match="only 12 of the 40 frames"):
        shrunk = read_video(clip_path)
    counting_capture.fake_count = None
    np.testing.assert_array_equal(grown.frames, read_video(clip_path).frames)
    np.testing.assert_array_equal(shrunk.frames, grown.frames)


def _cut(path: Path, out: Path, fraction: float) -> Path:
    data = path.read_bytes()
    out.write_bytes(data[: int(len(data) * fraction)])
    return out


def test_truncated_file_warns_and_keeps_both_frame_counts(tmp_path, write_clip):
    full = write_clip(tmp_path / "full.avi", two_colour_frames(40))
    cut = _cut(full, tmp_path / "cut.avi", 0.3)
    with pytest.warns(TruncatedVideoWarning) as caught:
        video = read_video(cut)
    assert video.declared_frames == 40 and 1 <= video.num_frames < 38 and video.truncated
    n = video.num_frames
    message = str(caught[0].message)
    assert message.startswith(f"cut.avi: only {n} of the 40 frames the file declares could be "
                              "decoded (damaged or truncated file)")
    assert f"the video covers {n / 25:.1f} s, not 1.6 s" in message
    assert "declared_frames=40" in repr(video)
    # the frames before the cut are the file's (the last one may be cut through)
    np.testing.assert_array_equal(video.frames[: n - 1], read_video(full).frames[: n - 1])


def test_a_whole_file_or_a_max_frames_read_is_not_truncated(clip_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error", TruncatedVideoWarning)
        whole = read_video(clip_path)
        first = read_video(clip_path, max_frames=5)
        more = read_video(clip_path, max_frames=50)
    assert (whole.declared_frames, whole.max_frames, whole.truncated) == (12, None, False)
    assert (first.declared_frames, first.max_frames, first.num_frames) == (12, 5, 5)
    assert first.expected_frames == 5 and not first.truncated
    assert more.expected_frames == 12 and not more.truncated
    assert Video.from_frames(two_colour_frames(3)).declared_frames is None
    with pytest.raises(VideoError, match="declared_frames must be a positive whole number"):
        Video(two_colour_frames(3), 25.0, "x", "x", declared_frames=0)


def test_max_short_side_shrinks_only_larger_videos(tmp_path, clip_path, write_clip):
    path = write_clip(tmp_path / "big.avi", two_colour_frames(4, 300, 400))
    video = read_video(path, max_short_side=TRAINING_SHORT_SIDE)
    assert (video.height, video.width, video.source_size) == (256, 341, (300, 400))
    np.testing.assert_array_equal(video.frames, resize_short_side(read_video(path).frames, 256))
    small = read_video(clip_path, max_short_side=TRAINING_SHORT_SIDE)
    assert (small.height, small.width, small.source_size) == (64, 80, (64, 80))
    assert read_video(path, short_side=128, max_short_side=256).height == 128
    assert read_video(path, short_side=280, max_short_side=256).height == 256
    with pytest.raises(ValueError, match="max_short_side"):
        read_video(path, max_short_side=0)


# ------------------------------------------------------------------ URLs


class _Handler(http.server.SimpleHTTPRequestHandler):
    requests: list[str] = []

    def log_message(self, *args):  # keep the test output clean
        pass

    def do_GET(self):
        type(self).requests.append(self.path)
        if self.path.startswith("/slow"):
            time.sleep(1.5)
        if self.path.startswith("/stream"):  # no Content-Length: the size shows only while reading
            self.send_response(200)
            self.end_headers()
            for _ in range(64):
                self.wfile.write(b"\0" * 1024)
            return
        super().do_GET()


@pytest.fixture
def server(tmp_path, clip_path):
    root = tmp_path / "www"
    root.mkdir()
    (root / "clip.avi").write_bytes(clip_path.read_bytes())

    class Handler(_Handler):
        requests: list[str] = []

        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(root), **kwargs)

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.handle_error = lambda request, address: None  # a client that gives up is expected here
    thread = threading.Thread(target=httpd.serve_forever, args=(POLL_INTERVAL,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", Handler
    httpd.shutdown()
    httpd.server_close()


def test_read_video_from_url_downloads_once_into_the_cache(server, clip_path):
    base, handler = server
    video = read_video(f"{base}/clip.avi")
    assert video.name == "clip.avi" and video.source == f"{base}/clip.avi"
    np.testing.assert_array_equal(video.frames, read_video(clip_path).frames)
    files = list(cache_dir("videos").iterdir())
    assert [f.name.endswith("-clip.avi") for f in files] == [True]
    read_video(f"{base}/clip.avi")
    assert handler.requests == ["/clip.avi"], "the second read uses the cached file"


def test_download_too_large_is_refused_and_leaves_nothing(server):
    base, _ = server
    with pytest.raises(VideoError, match=r"clip\.avi: the download is .* over the limit"):
        read_video(f"{base}/clip.avi", download_limit=1000)
    with pytest.raises(VideoError, match=r"more than 9\.8 KiB, over the limit of 9\.8 KiB"):
        download_video(f"{base}/stream.avi", max_bytes=10_000)
    assert list(cache_dir("videos").iterdir()) == [], "no partial file is left behind"


def test_download_errors_name_the_url_and_the_problem(server):
    base, _ = server
    with pytest.raises(VideoError, match=r"missing\.mp4: the server answered HTTP 404"):
        read_video(f"{base}/missing.mp4")
    with pytest.raises(VideoError, match=r"slow\.avi: could not download it .*timeout 0.3 s"):
        read_video(f"{base}/slow.avi", timeout=0.3)
    with pytest.raises(VideoError, match=r"could not download"):
        read_video(f"http://127.0.0.1:{closed_port()}/clip.avi", timeout=2)


HTML = b"<!DOCTYPE html>\n<html><head><title>clip</title></head><body>a player</body></html>\n"


def test_a_web_page_is_reported_and_not_cached(server, tmp_path):
    with trickling_server(HTML, interval=0.001, content_type="text/html") as port:
        with pytest.raises(VideoError, match=r"watch\?v=1: the server sent a web page, not a "
                                             r"video \(text/html\)"):
            read_video(f"http://127.0.0.1:{port}/watch?v=1", timeout=5)
    base, _ = server
    page = tmp_path / "www" / "page.mp4"  # a web page that claims to be a video
    page.write_bytes(HTML)
    with pytest.raises(VideoError, match=r"page\.mp4: the server sent a web page, not a video"):
        read_video(f"{base}/page.mp4")
    assert list(cache_dir("videos").iterdir()) == [], "neither the page nor a partial file"


def test_a_download_that_is_not_a_video_is_reported_and_not_cached(server, tmp_path):
    base, _ = server
    (tmp_path / "www" / "noise.mp4").write_bytes(bytes(range(256)) * 40)
    with pytest.raises(VideoError, match=r"noise\.mp4: the download \(10\.0 KiB, video/mp4\) is "
                                         "not a video OpenCV can decode"):
        read_video(f"{base}/noise.mp4")
    assert list(cache_dir("videos").iterdir()) == []


def test_a_cached_web_page_is_fetched_again(server, clip_path):
    base, handler = server
    url = f"{base}/clip.avi"
    download_video(url)
    (cached,) = cache_dir("videos").iterdir()
    cached.write_bytes(HTML)  # what an older version kept
    video = read_video(url)
    assert handler.requests == ["/clip.avi", "/clip.avi"], "the page was replaced by the video"
    np.testing.assert_array_equal(video.frames, read_video(clip_path).frames)


def test_download_deadline_bounds_a_trickling_server():
    body = bytes(200)  # one byte every 0.2 s: 40 s in all, yet never 5 s without a byte
    with trickling_server(body, interval=0.2) as port:
        began = time.monotonic()
        with pytest.raises(VideoError, match=r"clip\.mp4: the download did not finish within "
                                             r"the deadline= of 1\.5 s \(only .* of 0\.2 KiB "
                                             r"arrived\).*larger read_video\(\.\.\., deadline="):
            download_video(f"http://127.0.0.1:{port}/clip.mp4", timeout=5, deadline=1.5)
        elapsed = time.monotonic() - began
    assert 1.5 <= elapsed < 3.5, f"stopped after {elapsed:.1f} s"
    assert list(cache_dir("videos").iterdir()) == []
    with pytest.raises(ValueError, match="deadline must be a positive number"):
        download_video("http://127.0.0.1:1/clip.mp4", deadline=0)


def test_default_deadline_is_a_minute_or_the_size_at_a_slow_rate(monkeypatch):
    assert video_module.default_deadline(5 * 2**20) == 60.0
    assert video_module.default_deadline(200 * 2**20) == 200 * 2**20 / (100 * 1024)
    sizes = []

    def short(size):
        sizes.append(size)
        return 0.5

    monkeypatch.setattr(download_module, "default_deadline", short)
    with trickling_server(bytes(100), interval=0.05) as port:
        with pytest.raises(VideoError, match="within the default deadline of 0.5 s"):
            download_video(f"http://127.0.0.1:{port}/clip.mp4", timeout=5)
    assert sizes == [100], "the size the server announced"


def test_download_removes_only_stale_temporaries(server):
    base, _ = server
    folder = cache_dir("videos")
    stale = [folder / f"{TEMP_PREFIX}0123456789abcdef-clip.avi-k2j3.part.avi",
             folder / ".0123456789abcdef-clip.avi-x8y9.part"]  # named before TEMP_PREFIX
    young = folder / f"{TEMP_PREFIX}fedcba9876543210-other.mp4-a1b2.part.mp4"
    other = folder / ".keep-me"
    hour_ago = time.time() - 2 * 3600
    for path in (*stale, young, other):
        path.write_bytes(b"partial")
    for path in (*stale, other):
        os.utime(path, (hour_ago, hour_ago))
    read_video(f"{base}/clip.avi")
    assert not any(path.exists() for path in stale)
    assert young.exists() and other.exists(), "a running download's file, and not ours"


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/clip.mp4", "s3://bucket/clip.mp4"])
def test_unsupported_url_scheme(url):
    with pytest.raises(VideoError, match="unsupported URL scheme"):
        read_video(url)


# ------------------------------------------------------------------ real clips


def test_real_clips_decode_as_listed(ucf101_videos):
    with open(ucf101_videos[0].parent.parent / "videos.tsv") as table:
        rows = {row["file"]: row for row in csv.DictReader(table, delimiter="\t")}
    for path in ucf101_videos[:2]:
        row = rows[path.name]
        video = read_video(path)
        assert (video.width, video.height) == (int(row["width"]), int(row["height"]))
        assert video.num_frames == int(row["decoded_frames"])
        assert video.fps == pytest.approx(float(row["fps"]))
