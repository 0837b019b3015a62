"""tvl1_flow_tf against OpenCV's TV-L1 (defaults): synthetic textures, known motion, real clips.

Each new batch size, frame size or parameter set builds a TensorFlow graph (about 8 s of CPU), so
the tests share a handful: batches of three and of one 48x64 pair, one 32x40 pair and, on the
real clips, a batch of two 320x240 pairs.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from twostream_lab.flow.tvl1_tf import default_batch_size, tvl1_flow_tf

H, W = 48, 64
# sub-pixel motion of each synthetic pair: (dx, dy, rotation in degrees)
MOTIONS = [(0.3, -0.45, 0.0), (-0.7, 0.2, 0.0), (0.5, 0.5, 2.0)]
# the targets: mean end-point error and share of quantised u/v within +-1 level
MAX_MEAN_EPE = 0.1
MIN_WITHIN_ONE = 0.99
# the OpenCV release whose TV-L1 tvl1_flow_tf reproduces bit for bit (Colab's, CI's)
EXACT_OPENCV = "4.14."


def _texture(seed: int, size: tuple[int, int]) -> np.ndarray:
    noise = np.random.default_rng(seed).random(size).astype(np.float32)
    smooth = cv2.GaussianBlur(noise, (0, 0), 1.5)
    return cv2.normalize(smooth, None, 0, 255, cv2.NORM_MINMAX)


def _moved(image: np.ndarray, dx: float, dy: float, degrees: float) -> np.ndarray:
    h, w = image.shape
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    matrix[:, 2] += (dx, dy)
    return cv2.warpAffine(
        image, matrix, (w, h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT
    )


def _quantize(flow: np.ndarray, bound: float = 20) -> np.ndarray:
    return np.round((np.clip(flow, -bound, bound) + bound) * (255 / (2 * bound)))


def _opencv_flow(prev: np.ndarray, nxt: np.ndarray, initial=None, gamma: float = 0.0) -> np.ndarray:
    tvl1 = cv2.optflow.DualTVL1OpticalFlow_create()
    tvl1.setGamma(gamma)
    if initial is None:
        return np.stack([tvl1.calc(a, b, None) for a, b in zip(prev, nxt)])
    tvl1.setUseInitialFlow(True)
    return np.stack([tvl1.calc(a, b, f.copy()) for a, b, f in zip(prev, nxt, initial)])


def _assert_agrees(ours: np.ndarray, reference: np.ndarray) -> None:
    epe = np.sqrt(((ours - reference) ** 2).sum(axis=-1))
    within = np.mean(np.abs(_quantize(ours) - _quantize(reference)) <= 1)
    assert epe.mean() <= MAX_MEAN_EPE, f"mean end-point error {epe.mean():.4f} px"
    assert within >= MIN_WITHIN_ONE, f"only {within:.2%} of quantised u/v within +-1 level"
    if cv2.__version__.startswith(EXACT_OPENCV):
        assert np.array_equal(ours, reference), (
            f"not bit-identical to OpenCV {cv2.__version__}: {np.mean(ours != reference):.2%} of "
            f"values differ, by up to {np.abs(ours - reference).max():.3g} px"
        )


@pytest.fixture(scope="module")
def textures() -> tuple[np.ndarray, np.ndarray]:
    """Three 48x64 pairs of a smooth random texture, each moved by its entry in MOTIONS."""
    prev, nxt = [], []
    for seed, motion in enumerate(MOTIONS):
        big = _texture(seed, (H + 16, W + 16))
        prev.append(big[8:-8, 8:-8])
        nxt.append(_moved(big, *motion)[8:-8, 8:-8])
    return np.round(prev).astype(np.uint8), np.round(nxt).astype(np.uint8)


@pytest.fixture(scope="module")
def texture_flow(textures) -> np.ndarray:
    return tvl1_flow_tf(*textures, batch_size=len(MOTIONS))


def test_output_shape_dtype_and_convention(textures, texture_flow):
    assert texture_flow.shape == (len(MOTIONS), H, W, 2)
    assert texture_flow.dtype == np.float32
    # MOTIONS[0] moves right and up: [..., 0] is x (positive right), [..., 1] y (positive down)
    inner = texture_flow[0, 8:-8, 8:-8]
    assert np.median(inner[..., 0]) > 0 > np.median(inner[..., 1])


def test_matches_opencv_on_synthetic_textures(textures, texture_flow):
    _assert_agrees(texture_flow, _opencv_flow(*textures))


@pytest.mark.parametrize("pair", [0, 1])
def test_known_subpixel_shift(texture_flow, pair):
    dx, dy, _ = MOTIONS[pair]
    inner = texture_flow[pair, 8:-8, 8:-8]
    assert abs(np.median(inner[..., 0]) - dx) <= 0.1
    assert abs(np.median(inner[..., 1]) - dy) <= 0.1


def test_still_video_gives_zero_flow(textures):
    frames = textures[0]
    flow = tvl1_flow_tf(frames, frames, batch_size=len(MOTIONS))
    assert np.abs(flow).max() == 0


def test_float_frames_on_0_1_match_uint8_scale_like_opencv(textures):
    prev, nxt = (frames.astype(np.float32) / 255 for frames in textures)
    _assert_agrees(tvl1_flow_tf(prev, nxt, batch_size=len(MOTIONS)), _opencv_flow(prev, nxt))


def test_batch_equals_one_pair_at_a_time(textures, texture_flow):
    prev, nxt = textures
    assert np.array_equal(tvl1_flow_tf(prev, nxt, batch_size=1), texture_flow)
    # one (H, W) pair gives one (H, W, 2) flow
    assert np.array_equal(tvl1_flow_tf(prev[2], nxt[2], batch_size=1), texture_flow[2])


def test_the_tvl1_tf_flow_method_is_this_flow_quantised(textures, texture_flow):
    from twostream_lab.flow import compute_flow, quantize_flow

    prev, nxt = textures
    grey = np.stack([prev[0], nxt[0], prev[0]])  # two pairs: there and back
    rgb = np.repeat(grey[..., None], 3, axis=-1)  # equal channels: exactly this grey
    flow = compute_flow(rgb, method="tvl1-tf", cache=False, progress=False, return_raw=True)
    assert flow.method == "tvl1-tf" and flow.u.dtype == np.uint8
    # the same flow whatever batch size it chose (batches of one on a CPU)
    assert np.array_equal(flow.raw[0], texture_flow[0])
    assert np.array_equal(flow.raw[1], tvl1_flow_tf(nxt[0], prev[0], batch_size=1))
    np.testing.assert_array_equal(flow.u, quantize_flow(flow.raw[..., 0]))
    np.testing.assert_array_equal(flow.v, quantize_flow(flow.raw[..., 1]))


def test_fewer_pairs_than_the_batch_reuse_its_graph(textures, texture_flow):
    from twostream_lab.flow.tvl1_tf import _compiled_flow

    built = _compiled_flow.cache_info().misses
    flow = tvl1_flow_tf(textures[0][1:], textures[1][1:], batch_size=len(MOTIONS))
    assert np.array_equal(flow, texture_flow[1:])
    # a full batch, then a last one filled up with copies of its last pair
    order = [0, 1, 2, 1]
    flow = tvl1_flow_tf(textures[0][order], textures[1][order], batch_size=len(MOTIONS))
    assert np.array_equal(flow, texture_flow[order])
    assert _compiled_flow.cache_info().misses == built


def test_progress_bar_and_empty_input(textures, texture_flow, capsys):
    prev, nxt = textures
    flow = tvl1_flow_tf(prev, nxt, batch_size=len(MOTIONS), progress=True)
    assert np.array_equal(flow, texture_flow)
    assert "tvl1-tf" in capsys.readouterr().err
    assert tvl1_flow_tf(prev[:0], nxt[:0]).shape == (0, H, W, 2)


def test_initial_flow_and_gamma_match_opencv(textures):
    prev, nxt = (frames[:1, :32, :40] for frames in textures)
    initial = np.random.default_rng(0).normal(0, 1, (1, 32, 40, 2)).astype(np.float32)
    ours = tvl1_flow_tf(prev, nxt, initial_flow=initial, gamma=0.05)
    _assert_agrees(ours, _opencv_flow(prev, nxt, initial, gamma=0.05))


def test_default_batch_size():
    import tensorflow as tf

    expected = 32 if tf.config.list_logical_devices("GPU") else 1
    assert default_batch_size() == expected


@pytest.mark.parametrize(
    ("prev", "nxt", "kwargs", "error", "message"),
    [
        (np.zeros((2, 8, 8), np.uint8), np.zeros((3, 8, 8)), {}, ValueError, "same shape"),
        (np.zeros((1, 8, 8, 3), np.uint8), None, {}, ValueError, "cvtColor"),
        (np.zeros((1, 2, 8), np.uint8), None, {}, ValueError, "at least 3x3"),
        (np.zeros((1, 8, 8), np.int16), None, {}, TypeError, "uint8"),
        (np.full((1, 8, 8), 200.0, np.float32), None, {}, ValueError, "divide by 255"),
        (np.full((1, 8, 8), np.nan, np.float32), None, {}, ValueError, "NaN"),
        (np.zeros((1, 8, 8), np.uint8), None, {"batch_size": 0}, ValueError, "batch_size"),
        (np.zeros((1, 8, 8), np.uint8), None, {"median_filtering": 7}, ValueError, "3 or 5"),
        (np.zeros((1, 8, 8), np.uint8), None, {"scale_step": 1.5}, ValueError, "scale_step"),
        (np.zeros((1, 8, 8), np.uint8), None, {"warps": 0}, ValueError, "warps"),
        (
            np.zeros((1, 8, 8), np.uint8),
            None,
            {"initial_flow": np.zeros((8, 8, 2))},
            ValueError,
            "(1, 8, 8, 2)",
        ),
    ],
)
def test_bad_input_is_refused_clearly(prev, nxt, kwargs, error, message):
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        tvl1_flow_tf(prev, prev if nxt is None else nxt, **kwargs)


def _grey_frames(path, count: int) -> np.ndarray:
    capture = cv2.VideoCapture(str(path))
    frames = []
    while len(frames) < count:
        ok, frame = capture.read()
        assert ok, f"{path} has fewer than {count} frames"
        frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY))
    capture.release()
    return np.stack(frames)


def test_matches_opencv_on_two_real_clips(ucf101_videos):
    if len(ucf101_videos) < 2:
        pytest.skip("fewer than two UCF101 clips")
    frames = np.stack([_grey_frames(path, 2) for path in ucf101_videos[:2]])  # a pair of each
    prev, nxt = frames[:, 0], frames[:, 1]
    assert prev.shape == (2, 240, 320)
    _assert_agrees(tvl1_flow_tf(prev, nxt, batch_size=2), _opencv_flow(prev, nxt))
