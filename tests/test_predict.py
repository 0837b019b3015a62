"""Prediction over a video with tiny models: shapes, alignment, sampling, fusion, text and JSON."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import cv2
import keras
import numpy as np
import pytest

import twostream_lab.flow
from twostream_lab.batching import prepare_frames, prepare_stacks
from twostream_lab.commands import parse_weights, run_predict
from twostream_lab.flow import Flow, compute_flow
from twostream_lab.fusion import fuse_scores
from twostream_lab.predict import (
    DEFAULT_SAMPLES,
    PREDICT_MEMORY_LIMIT,
    Prediction,
    parse_sampling,
    predict_video,
    read_for_prediction,
    sample_starts,
)
from twostream_lab.video import TruncatedVideoWarning, Video, VideoError, read_video

# What the instructor checker parses from Prediction.summary().
SHORTENED_LINE = re.compile(r"^video: the first (\d+) of (\d+) frames", re.M)
TRUNCATED_LINE = re.compile(r"^warning: only (\d+) of the (\d+) frames", re.M)

CLASSES = ("climb", "dive", "jump", "run", "swim")


def _tiny(shape, name):
    inputs = keras.Input(shape, name=f"input_{name}")
    x = keras.layers.Conv2D(4, 3, activation="relu", name="conv")(inputs)
    x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
    outputs = keras.layers.Dense(len(CLASSES), activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs, name=name)


@dataclass
class Models:
    spatial: keras.Model
    motion: keras.Model
    class_names: tuple[str, ...] = CLASSES
    source: str = "demo"


class Recording:
    """A model wrapper that records the batch sizes it is given."""

    def __init__(self, model):
        self.model = model
        self.batches: list[int] = []

    def __getattr__(self, name):
        return getattr(self.model, name)

    def predict_on_batch(self, batch):
        self.batches.append(len(batch))
        return self.model.predict_on_batch(batch)


@pytest.fixture(scope="module")
def models() -> Models:
    keras.utils.set_random_seed(0)
    return Models(_tiny((32, 32, 3), "spatial"), _tiny((32, 32, 20), "motion"))


def _clip(num_frames: int, seed: int = 0) -> tuple[Video, Flow]:
    rng = np.random.default_rng(seed)
    frames = rng.integers(0, 256, (num_frames, 24, 40, 3), dtype=np.uint8)
    u = rng.integers(0, 256, (num_frames - 1, 24, 40), dtype=np.uint8)
    v = rng.integers(0, 256, (num_frames - 1, 24, 40), dtype=np.uint8)
    return Video.from_frames(frames, name="clip.mp4"), Flow(u=u, v=v, method="test", bound=20.0)


@pytest.fixture(scope="module")
def clip():
    return _clip(24)


@pytest.fixture(scope="module")
def prediction(models, clip) -> Prediction:
    video, flow = clip
    return predict_video(video, models, flow=flow, progress=False)


def test_shapes_and_alignment(models, clip, prediction):
    video, flow = clip
    p = prediction
    assert p.spatial.shape == (24, 5) and p.motion.shape == (14, 5) and p.fused.shape == (14, 5)
    assert p.spatial_indices.tolist() == list(range(24))
    assert p.motion_indices.tolist() == list(range(14)) == p.fused_indices.tolist()
    expected_spatial = models.spatial.predict(prepare_frames(video.frames, (32, 32)), verbose=0)
    expected_motion = models.motion.predict(
        prepare_stacks(flow.u, flow.v, np.arange(14), (32, 32)), verbose=0
    )
    np.testing.assert_allclose(p.spatial, expected_spatial, atol=1e-6)
    np.testing.assert_allclose(p.motion, expected_motion, atol=1e-6)
    # Fused row i pairs RGB frame i with the stack starting at flow frame i.
    np.testing.assert_allclose(p.fused, fuse_scores(p.spatial[:14], p.motion), atol=1e-7)
    np.testing.assert_array_equal(p.scores("spatial", frame=5), p.spatial[5])
    assert p.class_names == CLASSES and p.video_name == "clip.mp4" and p.source == "demo"
    assert p.stacked_frames == 10 and p.num_frames == 24 and p.flow_method == "test"


def test_all_frames_scoring_is_the_mean_of_per_frame(prediction):
    p = prediction
    np.testing.assert_allclose(p.spatial_video, p.spatial.mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(p.motion_video, p.motion.mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(p.fused_video, (p.spatial_video + p.motion_video) / 2, rtol=1e-6)


def test_batch_size_bounds_every_forward_pass(models, clip, prediction):
    video, flow = clip
    recorded = Models(Recording(models.spatial), Recording(models.motion))
    p = predict_video(video, recorded, flow=flow, batch_size=5, progress=False)
    assert recorded.spatial.batches == [5, 5, 5, 5, 4]
    assert recorded.motion.batches == [5, 5, 4]
    np.testing.assert_allclose(p.spatial, prediction.spatial, atol=1e-6)
    np.testing.assert_allclose(p.motion, prediction.motion, atol=1e-6)


def test_sample_starts_are_the_documented_indices():
    # floor(linspace(0, S - 1, N) + 0.5)
    assert sample_starts(14, 5).tolist() == [0, 3, 7, 10, 13]
    assert sample_starts(240, 19).tolist() == [
        0, 13, 27, 40, 53, 66, 80, 93, 106, 120, 133, 146, 159, 173, 186, 199, 212, 226, 239
    ]
    assert sample_starts(4, 19).tolist() == [0, 1, 2, 3]
    assert DEFAULT_SAMPLES == 19


def test_sampled_scoring_uses_the_sampled_frames(models, clip, prediction):
    video, flow = clip
    p = predict_video(video, models, flow=flow, sampling=5, progress=False)
    assert p.spatial_indices.tolist() == p.motion_indices.tolist() == [0, 3, 7, 10, 13]
    np.testing.assert_allclose(p.spatial, prediction.spatial[[0, 3, 7, 10, 13]], atol=1e-6)
    np.testing.assert_allclose(p.motion, prediction.motion[[0, 3, 7, 10, 13]], atol=1e-6)
    np.testing.assert_allclose(p.spatial_video, p.spatial.mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(p.motion_video, p.motion.mean(axis=0), rtol=1e-6)
    assert p.sampling == 5 and "5 evenly spaced samples" in p.summary()
    sampled = predict_video(video, models, flow=flow, sampling="sampled", progress=False)
    assert sampled.sampling == 19 and len(sampled.motion) == 14  # 19 samples of 14 stacks: all


def test_sampled_scoring_computes_only_the_needed_flow(models, monkeypatch):
    video, flow = _clip(60, seed=1)  # 50 stacks; 3 samples start at 0, 25, 49
    calls = []

    def fake_compute_flow(frames, *, method, progress, pairs=None, **kwargs):
        calls.append(None if pairs is None else np.asarray(pairs).tolist())
        if pairs is None:
            return Flow(u=flow.u, v=flow.v, method=method, bound=20.0)
        first, last = min(pairs), max(pairs)
        computed = np.isin(np.arange(first, last + 1), pairs)
        u = np.where(computed[:, None, None], flow.u[first : last + 1], 128).astype(np.uint8)
        v = np.where(computed[:, None, None], flow.v[first : last + 1], 128).astype(np.uint8)
        return Flow(u=u, v=v, method=method, bound=20.0, start=first, computed=computed)

    monkeypatch.setattr(twostream_lab.flow, "compute_flow", fake_compute_flow)
    p = predict_video(video, models, sampling=3, flow_method="fake", progress=False)
    # 10 flow frames per sampled stack, nothing else.
    assert calls == [[*range(0, 10), *range(25, 35), *range(49, 59)]]
    full = predict_video(video, models, flow=flow, progress=False)
    np.testing.assert_allclose(p.motion, full.motion[[0, 25, 49]], atol=1e-6)
    assert p.flow_method == "fake"

    calls.clear()
    predict_video(video, models, progress=False)  # all frames: the whole video's flow at once
    assert calls == [None]
    # A flow whose needed rows were not computed is refused.
    partial = fake_compute_flow(video, method="fake", progress=False, pairs=[0, 1, 2])
    with pytest.raises(ValueError, match="not all computed"):
        predict_video(video, models, flow=partial, sampling=1, progress=False)


def test_top_k_summary_and_json(prediction):
    p = prediction
    top = p.top_k(3)
    assert [name for name, _ in top] == [CLASSES[i] for i in np.argsort(-p.fused_video)[:3]]
    assert top[0][1] == pytest.approx(float(p.fused_video.max()))
    assert p.top_k(1, "motion", frame=13)[0][0] == CLASSES[int(np.argmax(p.motion[13]))]
    text = p.summary()
    assert text.startswith("Prediction for clip.mp4\n")
    assert "synthetic demo models" in text
    assert "spatial stream" in text and "motion stream" in text and "both streams" in text
    data = json.loads(json.dumps(p.to_dict()))
    assert data["title"] == "Prediction for clip.mp4" and data["demo"] is True
    assert len(data["top_k"]["fused"]) == 5
    assert data["scores"]["motion"]["climb"] == pytest.approx(float(p.motion_video[0]))
    with pytest.raises(ValueError, match="unknown stream"):
        p.top_k(5, "rgb")
    with pytest.raises(ValueError, match="no scores for frame 20"):
        p.top_k(5, "motion", frame=20)


def test_pretrained_weights_are_named(models, clip):
    video, flow = clip
    pre = Models(models.spatial, models.motion, source="pretrained")
    p = predict_video(video, pre, flow=flow, sampling=2, progress=False, fusion="weighted",
                      fusion_weights=(1, 1.5))
    assert "pretrained" in p.summary() and "synthetic" not in p.summary()
    assert "fusion: weighted 1:1.5" in p.summary()
    np.testing.assert_allclose(p.fused_video, 0.4 * p.spatial_video + 0.6 * p.motion_video,
                               rtol=1e-6)


def test_errors_name_the_problem(models, clip):
    video, flow = clip
    short, short_flow = _clip(10)
    with pytest.raises(ValueError, match="needs at least 11 frames"):
        predict_video(short, models, flow=short_flow, progress=False)
    with pytest.raises(ValueError, match="computed from this video"):
        predict_video(_clip(12)[0], models, flow=flow, progress=False)
    partial = Flow(u=flow.u[5:], v=flow.v[5:], method="test", bound=20.0, start=5)
    with pytest.raises(ValueError, match="does not cover"):
        predict_video(video, models, flow=partial, progress=False)
    with pytest.raises(ValueError, match="class names"):
        predict_video(video, Models(models.spatial, models.motion, CLASSES[:3]), flow=flow,
                      progress=False)
    with pytest.raises(ValueError, match="sampling must be"):
        predict_video(video, models, flow=flow, sampling=0, progress=False)
    with pytest.raises(ValueError, match="needs weights"):
        predict_video(video, models, flow=flow, fusion="weighted", progress=False)


def test_cli_option_parsing():
    assert parse_weights("demo") == "demo"
    assert parse_weights("a.h5, b.h5") == ("a.h5", "b.h5")
    with pytest.raises(ValueError, match="SPATIAL.h5,MOTION.h5"):
        parse_weights("a.h5")
    assert parse_sampling("19") == 19 and parse_sampling("all") == "all"
    with pytest.raises(ValueError, match="sampling must be"):
        parse_sampling("some")


def test_run_predict_end_to_end_on_a_real_clip(models, ucf101_videos, tmp_path, monkeypatch):
    import imageio_ffmpeg

    import twostream_lab.models.two_stream
    from twostream_lab.video import read_video

    monkeypatch.setattr(twostream_lab.models.two_stream, "load_two_stream", lambda source, **kw: models)
    path = ucf101_videos[0]
    real = read_video(path, max_frames=17)
    monkeypatch.setattr("twostream_lab.video.read_video", lambda source, **options: real)
    out = tmp_path / "demo.mp4"
    text = run_predict(path, weights="demo", flow_method="farneback", out=out, progress=False)
    assert text.startswith(f"Prediction for {path.name}\n")
    assert "synthetic demo models" in text and f"written to {out}" in text
    reader = imageio_ffmpeg.read_frames(str(out))
    meta = next(reader)
    assert meta["codec"] == "h264" and sum(1 for _ in reader) == 7  # 17 frames: 7 stacks
    data = json.loads(run_predict(path, weights="demo", flow_method="farneback", as_json=True,
                                  progress=False))
    assert data["frames"]["spatial"] == list(range(17))
    assert data["frames"]["motion"] == list(range(7)) and data["video_out"] is None
    assert data["flow_method"] == "farneback" and data["title"] == f"Prediction for {path.name}"
    data = json.loads(run_predict(path, weights="demo", flow_method="farneback", sampling="3",
                                  as_json=True, progress=False))
    assert data["frames"]["motion"] == data["frames"]["spatial"] == [0, 3, 6]


# ------------------------------------------------------------------ damaged, shortened, large


def _random_video(num_frames: int, h: int = 24, w: int = 40, **facts) -> tuple[Video, Flow]:
    rng = np.random.default_rng(num_frames)
    frames = rng.integers(0, 256, (num_frames, h, w, 3), dtype=np.uint8)
    u, v = (rng.integers(0, 256, (num_frames - 1, h, w), dtype=np.uint8) for _ in range(2))
    video = Video(frames, 25.0, "cut.mp4", "cut.mp4", **facts)
    return video, Flow(u=u, v=v, method="test", bound=20.0)


def test_summary_says_when_the_file_was_truncated(models):
    video, flow = _random_video(55, declared_frames=250)
    p = predict_video(video, models, flow=flow, progress=False)
    lines = p.summary().splitlines()
    scoring = next(i for i, line in enumerate(lines) if line.startswith("scoring:"))
    assert lines[scoring + 1] == (
        "warning: only 55 of the 250 frames the file declares could be decoded (damaged or "
        "truncated file): the prediction covers 2.2 s, not 10.0 s"
    )
    assert TRUNCATED_LINE.search(p.summary()).groups() == ("55", "250")
    assert not SHORTENED_LINE.search(p.summary())
    data = json.loads(json.dumps(p.to_dict()))
    assert (data["num_frames"], data["declared_frames"], data["truncated"]) == (55, 250, True)
    assert data["fps"] == 25.0 and data["warnings"] == [lines[scoring + 1]]


def test_summary_says_when_max_frames_shortened_the_video(models):
    video, flow = _random_video(60, declared_frames=250, max_frames=60)
    p = predict_video(video, models, flow=flow, progress=False)
    text = p.summary()
    assert "\nvideo: the first 60 of 250 frames (max_frames=60)\n" in text
    assert SHORTENED_LINE.search(text).groups() == ("60", "250")
    assert not TRUNCATED_LINE.search(text), "a chosen shorter run is not a damaged file"
    data = p.to_dict()
    assert (data["max_frames"], data["shortened"], data["truncated"]) == (60, True, False)
    assert data["notes"] == ["video: the first 60 of 250 frames (max_frames=60)"]
    for facts in ({"declared_frames": 60}, {"declared_frames": 60, "max_frames": 100}, {}):
        whole, flow = _random_video(60, **facts)
        text = predict_video(whole, models, flow=flow, progress=False).summary()
        assert not SHORTENED_LINE.search(text) and not TRUNCATED_LINE.search(text)
        assert "\nvideo:" not in text and "\nflow:" not in text


def test_truncated_real_clip_is_predicted_with_a_warning(models, abseiling_video, tmp_path):
    """The first 30 % of a faststart re-mux of the abseiling clip: 55 of its 250 frames."""
    import subprocess

    import imageio_ffmpeg

    remux = tmp_path / "faststart.mp4"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-i",
                    str(abseiling_video), "-c", "copy", "-movflags", "+faststart", str(remux)],
                   check=True)
    cut = tmp_path / "abseiling_cut.mp4"
    cut.write_bytes(remux.read_bytes()[: int(remux.stat().st_size * 0.3)])
    capture = cv2.VideoCapture(str(cut))
    assert capture.get(cv2.CAP_PROP_FRAME_COUNT) == 250, "the header still declares 250"
    capture.release()
    with pytest.warns(TruncatedVideoWarning, match=r"only \d+ of the 250 frames"):
        video = read_video(cut)
    n = video.num_frames
    assert 40 <= n <= 70 and video.declared_frames == 250  # 55 with FFmpeg 7
    p = predict_video(video, models, flow_method="dis", progress=False)
    assert (f"warning: only {n} of the 250 frames the file declares could be decoded (damaged or "
            f"truncated file): the prediction covers {n / 25:.1f} s, not 10.0 s") in p.summary()


def test_flow_for_larger_frames_is_computed_at_the_training_size(models):
    rng = np.random.default_rng(3)
    frames = cv2.resize(rng.integers(0, 256, (75, 100, 3), dtype=np.uint8), (400, 300))
    video = Video.from_frames(np.stack([np.roll(frames, 2 * t, axis=1) for t in range(12)]),
                              name="big.mp4")
    p = predict_video(video, models, flow_method="dis", progress=False)
    assert p.flow_size == (256, 341) and p.frame_size == (300, 400)
    assert ("flow: at 341x256, from the 400x300 frames (short side 256, the size of the flow the "
            "pretrained models were trained on)") in p.summary()
    expected = compute_flow(video, method="dis", short_side=256, progress=False)
    same = predict_video(video, models, flow=expected, progress=False)
    np.testing.assert_allclose(p.motion, same.motion, atol=1e-6)
    full = predict_video(video, models, flow_method="dis", flow_short_side=None, progress=False)
    assert full.flow_size == (300, 400) and "\nflow:" not in full.summary()
    with pytest.raises(ValueError, match="flow_short_side"):
        predict_video(video, models, flow_short_side=0, progress=False)


def test_a_video_too_large_is_refused_before_any_flow(models, monkeypatch):
    calls = []
    monkeypatch.setattr(twostream_lab.flow, "compute_flow", lambda *a, **k: calls.append(k))
    big = Video.from_frames(np.zeros((24, 300, 400, 3), np.uint8), name="big.mp4")  # 8.2 MiB
    with pytest.raises(VideoError) as error:
        predict_video(big, models, memory_limit=4 * 2**20, progress=False)
    message = str(error.value)
    assert message.startswith("big.mp4: predicting on 24 frames of 400x300 needs 12.1 MiB "
                              "(8.2 MiB of frames, 3.8 MiB of optical flow at 341x256), over the "
                              "limit of 4.0 MiB.")
    fit = 4 * 2**20 // (5 * 256 * 341)
    assert f"read_video(path, max_short_side=256, max_frames={fit})" in message
    assert f"--short-side 256 --max-frames {fit}" in message and "memory_limit=" in message
    small = Video.from_frames(np.zeros((60, 240, 320, 3), np.uint8), name="long.avi")
    with pytest.raises(VideoError, match=r"long\.avi: .* Predict on its first 10 frames: "
                                         r"read_video\(path, max_frames=10\)"):
        predict_video(small, models, memory_limit=10 * 5 * 240 * 320 + 1, progress=False)
    assert calls == [], "refused before computing any flow"
    assert PREDICT_MEMORY_LIMIT == 2**30
    flow = Flow(u=np.zeros((23, 30, 40), np.uint8), v=np.zeros((23, 30, 40), np.uint8),
                method="test", bound=20.0)
    predict_video(big, models, flow=flow, memory_limit=1, progress=False)  # nothing to compute


def test_reading_for_prediction_shrinks_large_videos(models, tmp_path, write_clip):
    rng = np.random.default_rng(0)
    path = write_clip(tmp_path / "big.avi", rng.integers(0, 256, (12, 300, 400, 3), np.uint8))
    video = read_for_prediction(path)
    assert (video.height, video.width, video.source_size) == (256, 341, (300, 400))
    p = predict_video(video, models, flow_method="dis", progress=False)
    assert ("video: read at 341x256 from the file's 400x300 (short side 256, the size of the "
            "frames the pretrained models were trained on)") in p.summary()
    assert p.to_dict()["source_size"] == {"height": 300, "width": 400}
    assert read_for_prediction(path, short_side=128).height == 128
    with pytest.raises(VideoError, match=r"big\.avi: 12 frames of 341x256 .* over the memory "
                                         r"limit"):
        read_for_prediction(path, memory_limit=5 * 341 * 256 * 3)
