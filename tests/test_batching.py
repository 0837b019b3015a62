"""The network inputs equal the tutorial's formula, batch by batch."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from twostream_lab.batching import (
    motion_batches,
    num_stacks,
    prepare_frames,
    prepare_stacks,
    spatial_batches,
    stack_starts,
)

SIZE = (29, 37)  # (height, width): not the frames' aspect ratio, on purpose


@pytest.fixture(scope="module")
def frames() -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (14, 24, 32, 3), dtype=np.uint8)


@pytest.fixture(scope="module")
def flow_uv() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    u = rng.integers(0, 256, (13, 24, 32), dtype=np.uint8)  # 14 frames -> 13 flow frames
    v = rng.integers(0, 256, (13, 24, 32), dtype=np.uint8)
    return u, v


def _formula_frame(frame: np.ndarray, size) -> np.ndarray:
    h, w = size
    return cv2.resize(frame, (w, h), interpolation=cv2.INTER_CUBIC).astype(np.float32) / 255


def _formula_stack(u, v, s, size, L=10) -> np.ndarray:
    h, w = size
    stack = np.concatenate([u[s : s + L], v[s : s + L]]).transpose(1, 2, 0)  # u0..u9 v0..v9
    return cv2.resize(stack, (w, h), interpolation=cv2.INTER_CUBIC).astype(np.float32) / 255


def test_prepare_frames_equals_whole_frame_cubic_resize(frames):
    out = prepare_frames(frames, SIZE)
    assert out.dtype == np.float32 and out.shape == (14, *SIZE, 3)
    expected = np.stack([_formula_frame(f, SIZE) for f in frames])
    np.testing.assert_array_equal(out, expected)
    assert out.min() >= 0 and out.max() <= 1


def test_prepare_stacks_equals_whole_stack_cubic_resize(flow_uv):
    u, v = flow_uv
    starts = [0, 2, 3]
    out = prepare_stacks(u, v, starts, SIZE)
    assert out.dtype == np.float32 and out.shape == (3, *SIZE, 20)
    expected = np.stack([_formula_stack(u, v, s, SIZE) for s in starts])
    np.testing.assert_array_equal(out, expected)
    # Resizing channel by channel is not the tutorial's result (it differs by one level).
    h, w = SIZE
    per_channel = np.stack(
        [cv2.resize(np.ascontiguousarray(c), (w, h), interpolation=cv2.INTER_CUBIC)
         for c in np.concatenate([u[:10], v[:10]])], axis=-1
    ).astype(np.float32) / 255
    assert not np.array_equal(out[0], per_channel)


def test_stack_channel_order_is_u_then_v():
    L = 10
    u = np.stack([np.full((8, 12), k, np.uint8) for k in range(12)])
    v = np.stack([np.full((8, 12), 100 + k, np.uint8) for k in range(12)])
    out = prepare_stacks(u, v, [2], (5, 7))
    levels = np.round(out[0, 2, 3] * 255).astype(int).tolist()
    assert levels == [2 + k for k in range(L)] + [102 + k for k in range(L)]


def test_t_frames_give_t_minus_10_stacks(flow_uv):
    u, v = flow_uv  # 13 flow frames: a 14-frame video
    assert num_stacks(13) == 4
    assert stack_starts(13).tolist() == [0, 1, 2, 3]
    batches = list(motion_batches(u, v, SIZE, batch_size=3))
    assert [len(b) for b in batches] == [3, 1]
    # The last stack ends on the last flow frame (the tutorial dropped it).
    np.testing.assert_array_equal(batches[-1][0], _formula_stack(u, v, 3, SIZE))


@pytest.mark.parametrize("num_frames", [1, 5, 10])
def test_too_short_video_raises_a_clear_error(num_frames):
    u = v = np.zeros((num_frames - 1, 8, 8), np.uint8)
    with pytest.raises(ValueError, match="needs at least 11 frames"):
        stack_starts(num_frames - 1)
    with pytest.raises(ValueError, match="needs at least 11 frames"):
        motion_batches(u, v, SIZE)


def test_batches_concatenate_to_the_whole_inputs(frames, flow_uv):
    u, v = flow_uv
    spatial = list(spatial_batches(frames, SIZE, batch_size=4))
    assert [len(b) for b in spatial] == [4, 4, 4, 2]
    np.testing.assert_array_equal(np.concatenate(spatial), prepare_frames(frames, SIZE))
    picked = list(spatial_batches(frames, SIZE, indices=[1, 5, 9], batch_size=2))
    np.testing.assert_array_equal(np.concatenate(picked), prepare_frames(frames[[1, 5, 9]], SIZE))
    motion = list(motion_batches(u, v, SIZE, starts=[3, 0], batch_size=1))
    np.testing.assert_array_equal(np.concatenate(motion), prepare_stacks(u, v, [3, 0], SIZE))


def test_other_stack_lengths(flow_uv):
    u, v = flow_uv
    out = np.concatenate(list(motion_batches(u, v, SIZE, stacked_frames=5)))
    assert out.shape == (9, *SIZE, 10)
    np.testing.assert_array_equal(out[8], _formula_stack(u, v, 8, SIZE, L=5))


def test_invalid_inputs_name_the_problem(frames, flow_uv):
    u, v = flow_uv
    with pytest.raises(ValueError, match="uint8 RGB"):
        prepare_frames(frames.astype(np.float32), SIZE)
    with pytest.raises(ValueError, match="same shape"):
        prepare_stacks(u, v[:-1], [0], SIZE)
    with pytest.raises(ValueError, match=r"starts must be in 0\.\.3"):
        prepare_stacks(u, v, [4], SIZE)
    with pytest.raises(ValueError, match="batch_size"):
        spatial_batches(frames, SIZE, batch_size=0)
    with pytest.raises(ValueError, match="height, width"):
        prepare_frames(frames, 29)
    with pytest.raises(IndexError, match="frame indices"):
        spatial_batches(frames, SIZE, indices=[14])
