"""The annotated demo video: H.264 mp4 from one reused figure, and inline playback."""

from __future__ import annotations

import base64
import re

import imageio_ffmpeg
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import twostream_lab.pictures.plotting  # noqa: E402
from twostream_lab.pictures.render import render_demo_video, show_video, video_title  # noqa: E402

CLASSES = ("climb", "dive", "jump", "run", "swim")


@pytest.fixture(scope="module")
def clip(make_scored_clip):
    return make_scored_clip(17, CLASSES)


def _decode(path):
    reader = imageio_ffmpeg.read_frames(str(path))
    meta = next(reader)
    w, h = meta["size"]
    frames = [np.frombuffer(f, np.uint8).reshape(h, w, 3) for f in reader]
    return meta, frames


def test_render_writes_h264_that_decodes_back(clip, tmp_path, monkeypatch):
    video, flow, prediction = clip
    seen = []
    original = twostream_lab.pictures.plotting.FrameLayout.render

    def spy(layout, index):
        seen.append((index, id(layout.fig), layout.fig._suptitle.get_text(),
                     len(plt.get_fignums())))
        return original(layout, index)

    monkeypatch.setattr(twostream_lab.pictures.plotting.FrameLayout, "render", spy)
    before = len(plt.get_fignums())
    path = render_demo_video(video, flow, prediction, tmp_path / "demo.mp4", dpi=20,
                             progress=False)
    assert path == tmp_path / "demo.mp4"
    meta, frames = _decode(path)
    assert meta["codec"] == "h264" and meta["pix_fmt"].startswith("yuv420p")
    assert meta["fps"] == 16
    assert len(frames) == 7 == len(prediction.fused_indices)
    assert meta["size"] == (320, 240)  # 16 x 12 inches at 20 dpi
    # One figure for the whole video, titled from the first frame on, and no pyplot figures.
    assert [s[0] for s in seen] == list(range(7))
    assert len({s[1] for s in seen}) == 1
    assert seen[0][2] == "Prediction for clip.mp4"
    assert {s[3] for s in seen} == {before} and len(plt.get_fignums()) == before
    assert video_title(path) == "Prediction for clip.mp4"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo.mp4"]  # no temporary left


def test_odd_figure_sizes_are_cropped_to_even(clip, tmp_path):
    video, flow, prediction = clip
    path = render_demo_video(video, flow, prediction, tmp_path / "odd.mp4", dpi=20.1, fps=8,
                             progress=False)
    meta, frames = _decode(path)
    assert meta["size"] == (320, 240) and len(frames) == 7 and meta["fps"] == 8  # 321 x 241


def test_failed_render_keeps_the_old_file(clip, tmp_path, monkeypatch):
    video, flow, prediction = clip
    path = tmp_path / "demo.mp4"
    path.write_bytes(b"old video")

    def broken(layout, index):
        raise RuntimeError("disk full")

    monkeypatch.setattr(twostream_lab.pictures.plotting.FrameLayout, "render", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        render_demo_video(video, flow, prediction, path, dpi=20, progress=False)
    assert path.read_bytes() == b"old video"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo.mp4"]
    with pytest.raises(ValueError, match=r"\.mp4"):
        render_demo_video(video, flow, prediction, tmp_path / "demo.avi", progress=False)


def test_show_video_embeds_the_mp4_with_its_title(clip, tmp_path):
    video, flow, prediction = clip
    path = render_demo_video(video, flow, prediction, tmp_path / "demo.mp4", dpi=20,
                             progress=False)
    html = show_video(path).data
    assert "<video" in html and "<figcaption>Prediction for clip.mp4</figcaption>" in html
    assert 'title="Prediction for clip.mp4"' in html
    data = re.search(r'src="data:video/mp4;base64,([^"]+)"', html).group(1)
    assert base64.b64decode(data) == path.read_bytes()
    assert "<figcaption>my caption &amp; more</figcaption>" in show_video(
        path, caption="my caption & more"
    ).data
    with pytest.raises(FileNotFoundError, match="render_demo_video"):
        show_video(tmp_path / "missing.mp4")
