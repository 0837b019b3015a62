"""Prediction over a video with tiny models: shapes, alignment, sampling, fusion, text and JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass

import keras
import numpy as np
import pytest

import twostream_lab.flow
from twostream_lab.batching import prepare_frames, prepare_stacks
from twostream_lab.flow import Flow
from twostream_lab.fusion import fuse_scores
from twostream_lab.predict import (
    DEFAULT_SAMPLES,
    Prediction,
    parse_sampling,
    parse_weights,
    predict_video,
    run_predict,
    sample_starts,
)
from twostream_lab.video import Video

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

    import twostream_lab.pretrained
    from twostream_lab.video import read_video

    monkeypatch.setattr(twostream_lab.pretrained, "load_two_stream", lambda source, **kw: models)
    path = ucf101_videos[0]
    real = read_video(path, max_frames=17)
    monkeypatch.setattr("twostream_lab.video.read_video", lambda source: real)
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
