"""The synthetic clips: deterministic, balanced, and built so that each stream sees half the class."""

from __future__ import annotations

import subprocess
import sys

import cv2
import numpy as np
import pytest

from twostream_lab.offline_lab.synthetic import (
    COLORS,
    MOTION_CHANCE,
    SPATIAL_CHANCE,
    SYNTHETIC_CLASSES,
    class_color,
    class_direction,
    clip_seed,
    make_synthetic_clip,
    make_synthetic_dataset,
    synthetic_class_index,
)
from twostream_lab.video import Video


def grey(frames: np.ndarray) -> np.ndarray:
    """OpenCV's RGB -> grey, as the TV-L1 flow sees the frames."""
    return np.stack([cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames])


def grey_float(frames: np.ndarray) -> np.ndarray:
    """0.299 R + 0.587 G + 0.114 B rounded to uint8 (the textbook formula)."""
    f = frames.astype(np.float64)
    return np.rint(0.299 * f[..., 0] + 0.587 * f[..., 1] + 0.114 * f[..., 2]).astype(np.uint8)


def histograms(frames: np.ndarray) -> list[bytes]:
    """Per-frame joint RGB histogram (the sorted pixel values), one entry per frame."""
    return [np.sort(f.reshape(-1, 3).view(np.dtype((np.void, 3))), axis=0).tobytes() for f in frames]


def object_mask(frames: np.ndarray, label: str, noise: int = 3) -> np.ndarray:
    color = np.array(COLORS[class_color(label)], np.int16)
    return np.abs(frames.astype(np.int16) - color).max(axis=-1) <= noise


def test_classes_are_two_colours_times_four_directions():
    assert len(SYNTHETIC_CLASSES) == 8 == len(set(SYNTHETIC_CLASSES))
    assert SYNTHETIC_CLASSES[0] == "red moving up-left"
    assert SYNTHETIC_CLASSES[-1] == "blue moving down-right"
    assert {class_color(c) for c in SYNTHETIC_CLASSES} == {"red", "blue"}
    assert {class_direction(c) for c in SYNTHETIC_CLASSES} == {
        "up-left", "up-right", "down-left", "down-right"}
    assert (SPATIAL_CHANCE, MOTION_CHANCE) == (0.25, 0.5)
    assert synthetic_class_index("Blue_Moving_Down-Left") == 6
    assert synthetic_class_index("blue moving down left") == 6
    with pytest.raises(ValueError, match="unknown synthetic class 'green moving up-left'"):
        synthetic_class_index("green moving up-left")
    with pytest.raises(ValueError, match="out of range"):
        synthetic_class_index(8)


def test_the_two_colours_have_the_same_grey_value():
    red, blue = (np.array([[COLORS[c]]], np.uint8) for c in ("red", "blue"))
    assert cv2.cvtColor(red, cv2.COLOR_RGB2GRAY) == cv2.cvtColor(blue, cv2.COLOR_RGB2GRAY)
    weights = np.array([0.299, 0.587, 0.114])
    assert np.dot(COLORS["red"], weights) == pytest.approx(np.dot(COLORS["blue"], weights))
    # OpenCV's fixed-point weights give exactly equal sums, so noise added to R, G and B alike
    # shifts both greys by the same whole number
    fixed = np.array([4899, 9617, 1868])
    assert np.dot(COLORS["red"], fixed) == np.dot(COLORS["blue"], fixed)


def test_clip_is_a_video_with_a_readable_name():
    clip = make_synthetic_clip("red moving up-left", seed=7)
    assert isinstance(clip, Video)
    assert clip.name == "synthetic_red_moving_up-left_seed7.mp4"
    assert clip.frames.shape == (16, 48, 48, 3) and clip.frames.dtype == np.uint8
    assert clip.fps == 25.0
    other = make_synthetic_clip(5, seed=3, size=(40, 56), num_frames=11, fps=10)
    assert other.frames.shape == (11, 40, 56, 3) and other.fps == 10.0
    assert other.name == "synthetic_blue_moving_up-right_seed3.mp4"
    assert make_synthetic_clip(6, seed=3, size=(40, 56)).frames.shape[1:3] == (40, 56)


def test_generator_is_deterministic():
    a = make_synthetic_clip("blue moving up-right", seed=11).frames
    b = make_synthetic_clip("blue moving up-right", seed=11).frames
    c = make_synthetic_clip("blue moving up-right", seed=12).frames
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


DIRECTIONS = {"up-left": (-1, -1), "up-right": (-1, 1), "down-left": (1, -1), "down-right": (1, 1)}


@pytest.mark.parametrize("direction", DIRECTIONS)
def test_object_moves_in_its_direction(direction):
    label = f"red moving {direction}"
    mask = object_mask(make_synthetic_clip(label, seed=4).frames, label)
    dy, dx = DIRECTIONS[direction]
    for t in range(3):
        assert mask[t].sum() == mask[0].sum() > 0
        shifted = [np.array_equal(np.roll(mask[t], (s * dy, s * dx), axis=(0, 1)), mask[t + 1])
                   for s in range(1, 6)]
        assert sum(shifted) == 1  # moves 1..5 pixels that way, wrapping around the border


@pytest.mark.parametrize("direction", DIRECTIONS)
@pytest.mark.parametrize("noise", [0, 3, 10])
def test_grey_frames_of_the_two_colours_are_identical(direction, noise):
    red = make_synthetic_clip(f"red moving {direction}", seed=5, noise=noise).frames
    blue = make_synthetic_clip(f"blue moving {direction}", seed=5, noise=noise).frames
    assert not np.array_equal(red, blue)
    np.testing.assert_array_equal(grey(red), grey(blue))
    np.testing.assert_array_equal(grey_float(red), grey_float(blue))


@pytest.mark.parametrize("color", ["red", "blue"])
def test_single_frames_do_not_show_the_direction(color):
    clips = {d: make_synthetic_clip(f"{color} moving {d}", seed=9).frames for d in DIRECTIONS}
    # "up-left" is "down-right" played backwards, "down-left" is "up-right" played backwards:
    # the very same frames
    np.testing.assert_array_equal(clips["up-left"], clips["down-right"][::-1])
    np.testing.assert_array_equal(clips["down-left"], clips["up-right"][::-1])
    # "up-right" is "down-right" rotated by 90 degrees: the same colour histogram in every frame
    np.testing.assert_array_equal(clips["up-right"],
                                  np.rot90(clips["down-right"], 1, axes=(1, 2)))
    reference = sorted(histograms(clips["down-right"]))
    for frames in clips.values():
        assert sorted(histograms(frames)) == reference


def test_object_position_is_uniform_over_the_frame():
    # the start position is uniform and the frame wraps around: no place in a frame is
    # typical of a direction, e.g. "down-right" is not more often top left at the start
    counts = np.zeros((4, 48))
    for i, direction in enumerate(("up-left", "down-right")):
        for seed in range(200):
            mask = object_mask(make_synthetic_clip(f"red moving {direction}", seed=seed,
                                                   num_frames=11).frames[:1], "red moving up-left")
            counts[2 * i] += mask[0].any(axis=0)
            counts[2 * i + 1] += mask[0].any(axis=1)
    for row in counts:  # each row and column: covered with chance (mean object side) / 48
        assert row.min() > 0.35 * row.mean() and row.max() < 1.65 * row.mean()


def test_dataset_is_balanced_grouped_and_deterministic():
    videos, labels = make_synthetic_dataset(20, seed=1, num_frames=11)
    assert len(videos) == 20 and labels.dtype == np.int64
    assert np.bincount(labels, minlength=8).tolist() == [3, 3, 3, 3, 2, 2, 2, 2]
    assert labels[:8].tolist() == list(range(8))
    assert videos[9].name == f"synthetic_red_moving_up-right_seed{clip_seed(1, 9)}.mp4"
    # one scene per group of eight: the red and blue clips of a direction share grey frames
    np.testing.assert_array_equal(grey(videos[0].frames), grey(videos[4].frames))
    again, _ = make_synthetic_dataset(20, seed=1, num_frames=11)
    assert all(np.array_equal(a.frames, b.frames) for a, b in zip(videos, again))
    other, _ = make_synthetic_dataset(8, seed=2, num_frames=11)
    assert {v.name for v in videos}.isdisjoint(v.name for v in other)


def test_dataset_seeds_never_collide():
    assert clip_seed(0, 7) == clip_seed(0, 0) == 1_000_000
    assert clip_seed(0, 8) == 1_000_001
    assert clip_seed(1, 0) == 2_000_000 > clip_seed(0, 7_999_999)
    with pytest.raises(ValueError, match="non-negative"):
        clip_seed(-1, 0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"num_frames": 10}, "at least 11"),
        ({"noise": 11}, "noise must be an integer in 0..10"),
        ({"size": (12, 48)}, "at least 16 x 16"),
        ({"size": 48}, "pair"),
        ({"speed": 0}, "speed must be a positive integer"),
        ({"seed": -1}, "seed must be a non-negative integer"),
    ],
)
def test_bad_arguments_name_the_problem(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_synthetic_clip(0, **kwargs)


def test_import_does_not_load_tensorflow():
    code = "import sys, twostream_lab.offline_lab.synthetic; print('tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
