"""Synthetic action clips on which each stream alone fails and the two together succeed.

Every clip shows one solid square moving diagonally at constant speed over a static, textured
background, with a little grey sensor noise. There are eight classes,
:data:`SYNTHETIC_CLASSES`: two colours times four directions ("red moving up-left", ...,
"blue moving down-right"). The classes are built so that each stream sees only half of the
answer:

What one RGB frame shows (the spatial stream)
    The colour, but not the direction. The object's position in any one frame is uniformly
    random over the image (the image wraps around like a torus, so leaving on one side means
    coming back on the other) and nothing is blurred. Stronger still: for one ``seed``, the
    "up-left" clip is the "down-right" clip played backwards (the very same frames), and the
    "up-right" clip is the "down-right" clip rotated by 90 degrees (the same colour histogram in
    every frame). A perfect spatial stream knows the colour and must guess among the four
    directions: **chance is 1/4, 25 %**. (The directions are diagonal so that the path of the
    object covers rows and columns alike for every direction: with horizontal and vertical
    motion, a spatial stream whose scores vary a little with the object's position can tell a
    horizontal path, which stays in one row for the whole clip, from a vertical one once its
    per-frame scores are averaged over the clip; the demo spatial stream then scored about
    32 % instead of 25 %.)

What optical flow shows (the motion stream)
    The direction, but not the colour. Flow is computed on grey frames, and the two colours,
    :data:`COLORS` ``red = (208, 54, 10)`` and ``blue = (30, 100, 240)``, have the same grey
    value: ``0.299 R + 0.587 G + 0.114 B = 95.03`` for both, and OpenCV's fixed-point
    ``cv2.COLOR_RGB2GRAY`` weights ``(4899, 9617, 1868) / 2**14`` give exactly equal sums too.
    The grey noise is added to all three channels alike and never clips, so for one ``seed`` the
    red and the blue clip of a direction have *identical* grey frames, hence identical flow. A
    perfect motion stream knows the direction and must guess between the two colours:
    **chance is 1/2, 50 %**.

Both streams together
    Averaging the two streams' scores (late fusion) puts the most weight on the one class
    that both streams allow: **close to 100 %**.

:func:`make_synthetic_dataset` shows every scene (background, object size, start, speed,
noise) as all eight classes, so within a dataset the up-left and down-right clips of a scene
have the same frames and the red and blue clips of a direction have the same flow: a stream
that sees only frames, or only flow, gives them identical scores and can be right on at most
one of them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from twostream_lab.checks import positive_int, size_pair

__all__ = [
    "COLORS",
    "DIRECTIONS",
    "SYNTHETIC_CLASSES",
    "SPATIAL_CHANCE",
    "MOTION_CHANCE",
    "DEFAULT_SIZE",
    "DEFAULT_NUM_FRAMES",
    "synthetic_class_index",
    "class_color",
    "class_direction",
    "clip_seed",
    "make_synthetic_clip",
    "make_synthetic_dataset",
]

#: The object colours (RGB). Both have grey value 95.03 = 0.299 R + 0.587 G + 0.114 B, and
#: equal OpenCV fixed-point grey sums: (208, 54, 10) - (30, 100, 240) = 2 * (89, -23, -115),
#: which is orthogonal to both weight vectors.
COLORS: dict[str, tuple[int, int, int]] = {"red": (208, 54, 10), "blue": (30, 100, 240)}

#: The motion directions, as (dy, dx) unit steps in image coordinates (y grows downwards).
DIRECTIONS: dict[str, tuple[int, int]] = {
    "up-left": (-1, -1),
    "up-right": (-1, 1),
    "down-left": (1, -1),
    "down-right": (1, 1),
}

#: The eight class names, colour-major: index = 4 * colour + direction.
SYNTHETIC_CLASSES: tuple[str, ...] = tuple(
    f"{color} moving {direction}" for color in COLORS for direction in DIRECTIONS
)

#: Accuracy of a perfect spatial stream: it knows the colour, guesses among 4 directions.
SPATIAL_CHANCE = 1 / len(DIRECTIONS)
#: Accuracy of a perfect motion stream: it knows the direction, guesses between 2 colours.
MOTION_CHANCE = 1 / len(COLORS)

#: Default frame size (height, width) and clip length: small, so TV-L1 flow is fast.
DEFAULT_SIZE = (48, 48)
DEFAULT_NUM_FRAMES = 16

_MAX_NOISE = 10  # every channel of every colour stays in noise .. 255 - noise: no clipping
_BACKGROUND_RANGE = (_MAX_NOISE, 255 - _MAX_NOISE)


def _normalized(name: str) -> str:
    return " ".join(name.replace("_", " ").replace("-", " ").lower().split())


def synthetic_class_index(label: int | str) -> int:
    """Index into :data:`SYNTHETIC_CLASSES` of a class name or an index.

    Names match in any case, with ``_``, ``-`` or spaces between the words.

    Examples
    --------
    >>> synthetic_class_index("blue moving down-left"), synthetic_class_index("Red_Moving_Up-Left")
    (6, 0)
    >>> synthetic_class_index(3)
    3
    """
    if isinstance(label, (int, np.integer)) and not isinstance(label, bool):
        if 0 <= label < len(SYNTHETIC_CLASSES):
            return int(label)
        raise ValueError(
            f"synthetic class index {label} is out of range: there are "
            f"{len(SYNTHETIC_CLASSES)} classes, 0..{len(SYNTHETIC_CLASSES) - 1}"
        )
    if isinstance(label, str):
        names = [_normalized(c) for c in SYNTHETIC_CLASSES]
        if _normalized(label) in names:
            return names.index(_normalized(label))
    raise ValueError(
        f"unknown synthetic class {label!r}; use an index 0..{len(SYNTHETIC_CLASSES) - 1} or "
        f"one of {', '.join(repr(c) for c in SYNTHETIC_CLASSES)}"
    )


def class_color(label: int | str) -> str:
    """The colour name of a synthetic class (``"red"`` or ``"blue"``).

    Examples
    --------
    >>> class_color("blue moving up-left")
    'blue'
    """
    return SYNTHETIC_CLASSES[synthetic_class_index(label)].split(" moving ")[0]


def class_direction(label: int | str) -> str:
    """The direction of a synthetic class: ``"up-left"``, ``"up-right"``, ``"down-left"``, ...

    Examples
    --------
    >>> class_direction(1)
    'up-right'
    """
    return SYNTHETIC_CLASSES[synthetic_class_index(label)].split(" moving ")[1]


def clip_seed(dataset_seed: int, index: int) -> int:
    """The scene seed of clip ``index`` in ``make_synthetic_dataset(..., seed=dataset_seed)``.

    Clips ``8k .. 8k+7`` share scene seed ``1_000_000 * (dataset_seed + 1) + k``, so different
    dataset seeds never share a scene, and small seeds (``make_synthetic_clip(..., seed=0)``)
    never appear in any dataset.

    Examples
    --------
    >>> clip_seed(0, 0), clip_seed(0, 9), clip_seed(1, 0)
    (1000000, 1000001, 2000000)
    """
    if isinstance(dataset_seed, bool) or int(dataset_seed) != dataset_seed or dataset_seed < 0:
        raise ValueError(f"the dataset seed must be a non-negative integer, got {dataset_seed!r}")
    if not 0 <= index < 8_000_000:
        raise ValueError(f"clip index must be in 0..7999999, got {index}")
    return 1_000_000 * (int(dataset_seed) + 1) + int(index) // len(SYNTHETIC_CLASSES)


def _check_size(size: Sequence[int]) -> tuple[int, int]:
    try:
        h, w = size_pair(size)
    except ValueError as error:
        raise ValueError(f"{error}; e.g. size=(48, 48)") from None
    if min(h, w) < 16:
        raise ValueError(f"size must be at least 16 x 16 pixels, got {size!r}; e.g. size=(48, 48)")
    return h, w


def _check_speed(speed: int | Sequence[int]) -> tuple[int, int]:
    low, high = (speed, speed) if isinstance(speed, (int, np.integer)) else tuple(speed)
    if not (int(low) == low and int(high) == high and 1 <= low <= high):
        raise ValueError(
            f"speed must be a positive integer or a range (low, high) of them in pixels per "
            f"frame, got {speed!r}; e.g. speed=(2, 4)"
        )
    return int(low), int(high)


def _periodic_smooth_noise(rng: np.random.Generator, shape: tuple[int, int], sigma: float):
    """White noise blurred with a Gaussian of ``sigma`` pixels on the torus, unit std."""
    white = rng.standard_normal(shape)
    fy = np.fft.fftfreq(shape[0])[:, None]
    fx = np.fft.rfftfreq(shape[1])[None, :]
    kernel = np.exp(-2 * np.pi**2 * sigma**2 * (fy**2 + fx**2))
    field = np.fft.irfft2(np.fft.rfft2(white) * kernel, s=shape)
    return field / field.std()


def _scene_moving_down_right(
    seed: int, shape: tuple[int, int], num_frames: int, speed: tuple[int, int], noise: int,
    color: tuple[int, int, int],
) -> np.ndarray:
    """A scene with the object moving down-right; every random draw depends on ``seed`` only."""
    rng = np.random.default_rng(seed)
    h, w = shape
    m = min(h, w)
    # background: a light pastel tint plus fine and coarse periodic texture, per channel
    tint = rng.uniform(150, 200, size=3)
    background = np.empty((h, w, 3))
    for c in range(3):
        fine = _periodic_smooth_noise(rng, shape, sigma=m / 40)
        coarse = _periodic_smooth_noise(rng, shape, sigma=m / 10)
        background[..., c] = tint[c] + 14 * fine + 22 * coarse
    background = np.clip(np.rint(background), *_BACKGROUND_RANGE).astype(np.int16)
    side = int(rng.integers(round(0.18 * m), round(0.28 * m) + 1))
    y0, x0 = int(rng.integers(h)), int(rng.integers(w))
    step = int(rng.integers(speed[0], speed[1] + 1))
    grain = rng.integers(-noise, noise + 1, size=(num_frames, h, w), dtype=np.int16)

    frames = np.repeat(background[None], num_frames, axis=0)
    for t in range(num_frames):
        rows = (np.arange(h) - y0 - step * t) % h < side
        cols = (np.arange(w) - x0 - step * t) % w < side
        frames[t][rows[:, None] & cols[None, :]] = color
    frames += grain[..., None]
    return frames.astype(np.uint8)


def make_synthetic_clip(
    label: int | str,
    *,
    seed: int = 0,
    size: Sequence[int] = DEFAULT_SIZE,
    num_frames: int = DEFAULT_NUM_FRAMES,
    speed: int | Sequence[int] = (2, 4),
    noise: int = 3,
    fps: float = 25.0,
):
    """One synthetic action clip of class ``label`` (see the module docstring for the design).

    The scene (background texture and tint, object size, start position, speed and noise)
    depends on ``seed`` only, never on the class: for one seed the red and blue clips of a
    direction have identical grey frames, "up-left" is "down-right" played backwards, and
    "up-right"/"down-left" are "down-right"/"up-left" rotated by 90 degrees (square frames).

    Parameters
    ----------
    label : int or str
        A class of :data:`SYNTHETIC_CLASSES`, by index or name (e.g. ``"red moving up-left"``).
    seed : int
        The scene. Datasets use seeds from 1,000,000 up (:func:`clip_seed`), so small seeds give
        scenes no demo model was trained or evaluated on.
    size : (height, width)
        Frame size, at least 16 x 16. The object's side is 18-28 % of the shorter side.
    num_frames : int
        At least 11: a motion stack needs 10 flow frames.
    speed : int or (low, high)
        Object speed in pixels per frame (drawn from ``low..high`` per scene).
    noise : int
        Grey noise amplitude (uniform integers in ``-noise..noise``, the same for R, G and B),
        0..10.
    fps : float
        Frame rate stored in the Video.

    Returns
    -------
    Video
        Frames uint8 ``(num_frames, height, width, 3)``, named e.g.
        ``"synthetic_red_moving_up-left_seed0.mp4"``.

    Examples
    --------
    >>> clip = make_synthetic_clip("red moving up-left", seed=0)
    >>> clip.name, clip.frames.shape
    ('synthetic_red_moving_up-left_seed0.mp4', (16, 48, 48, 3))
    """
    from twostream_lab.video import Video

    index = synthetic_class_index(label)
    h, w = _check_size(size)
    if isinstance(num_frames, bool) or int(num_frames) != num_frames or num_frames < 11:
        raise ValueError(
            f"num_frames must be an integer of at least 11 (a motion stack needs 10 flow "
            f"frames, so 11 video frames), got {num_frames!r}"
        )
    if isinstance(noise, bool) or int(noise) != noise or not 0 <= noise <= _MAX_NOISE:
        raise ValueError(
            f"noise must be an integer in 0..{_MAX_NOISE} (larger noise would clip and make "
            f"the two colours' grey frames differ), got {noise!r}"
        )
    if isinstance(seed, bool) or int(seed) != seed or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    name = SYNTHETIC_CLASSES[index]
    color, direction = class_color(index), class_direction(index)
    rotated = direction in ("up-right", "down-left")
    shape = (w, h) if rotated else (h, w)
    frames = _scene_moving_down_right(
        int(seed), shape, int(num_frames), _check_speed(speed), int(noise), COLORS[color]
    )
    if rotated:  # a down-right scene rotated by 90 degrees counter-clockwise moves up-right
        frames = np.ascontiguousarray(np.rot90(frames, k=1, axes=(1, 2)))
    if direction in ("up-left", "down-left"):  # the same scene played backwards
        frames = np.ascontiguousarray(frames[::-1])
    return Video.from_frames(
        frames, fps=float(fps), name=f"synthetic_{name.replace(' ', '_')}_seed{int(seed)}.mp4"
    )


def make_synthetic_dataset(
    n: int,
    *,
    seed: int = 0,
    size: Sequence[int] = DEFAULT_SIZE,
    num_frames: int = DEFAULT_NUM_FRAMES,
    speed: int | Sequence[int] = (2, 4),
    noise: int = 3,
    fps: float = 25.0,
) -> tuple[list, np.ndarray]:
    """``n`` synthetic clips, balanced over the classes and deterministic in ``seed``.

    Clip ``i`` has class ``i % 8`` and scene seed :func:`clip_seed(seed, i) <clip_seed>`, so
    clips ``8k .. 8k+7`` show one scene as all eight classes. Datasets with different seeds
    share no scene: train on seed 0, evaluate on seed 1.

    Expected accuracies of perfect single streams (video level): spatial 25 %
    (:data:`SPATIAL_CHANCE`), motion 50 % (:data:`MOTION_CHANCE`); fused close to 100 %.

    Parameters
    ----------
    n : int
        Number of clips (use a multiple of 8 for exact balance).
    seed : int
        Dataset seed, non-negative.
    size, num_frames, speed, noise, fps
        As in :func:`make_synthetic_clip`.

    Returns
    -------
    videos : list of Video
    labels : int64 array (n,)
        Indices into :data:`SYNTHETIC_CLASSES`.

    Examples
    --------
    >>> videos, labels = make_synthetic_dataset(16, seed=1)
    >>> len(videos), labels[:9].tolist()
    (16, [0, 1, 2, 3, 4, 5, 6, 7, 0])
    >>> videos[8].name
    'synthetic_red_moving_up-left_seed2000001.mp4'
    """
    n = positive_int(n, "n", unit="clips")
    labels = np.arange(n, dtype=np.int64) % len(SYNTHETIC_CLASSES)
    videos = [
        make_synthetic_clip(
            int(label), seed=clip_seed(seed, i), size=size, num_frames=num_frames, speed=speed,
            noise=noise, fps=fps,
        )
        for i, label in enumerate(labels)
    ]
    return videos, labels
