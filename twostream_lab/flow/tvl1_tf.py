"""TV-L1 optical flow in TensorFlow, step for step as OpenCV's ``DualTVL1OpticalFlow``.

OpenCV's TV-L1 (``cv2.optflow.DualTVL1OpticalFlow_create()``, the algorithm that made the
two-stream training flow) runs on the CPU only in pip's OpenCV. :func:`tvl1_flow_tf` computes the
same flow with TensorFlow on a whole batch of frame pairs at once, so it runs unchanged on a CPU
or on a GPU (Colab's), with no build step.

Every step follows OpenCV's CPU implementation (``modules/optflow/src/tvl1flow.cpp``):

* intensities on the 0..255 scale: uint8 frames are used as they are, float frames are multiplied
  by 255 (OpenCV does the same, so float frames are expected on 0..1);
* the pyramid: each scale is the previous one resized by ``scale_step`` with OpenCV's bilinear
  ``resize`` (``INTER_LINEAR``, pixel centres aligned, edge pixels repeated, no blur; the new size
  is the old one times ``scale_step``, rounded); scales smaller than 16 pixels are dropped;
* centred differences of the second image (one-sided half differences at the borders), warped
  together with the image by OpenCV's ``remap`` with ``INTER_CUBIC`` (the Keys kernel with
  a = -0.75, sample positions rounded to 1/32 pixel, zeros outside the image);
* the thresholding step, the divergence (backward differences, zero outside the top/left border)
  and the forward gradient (zero on the last row/column) of the primal-dual iterations;
* the stopping rule per frame pair: the iterations of a warp stop once the sum of the squared
  flow changes falls to ``epsilon**2 * width * height`` (at most ``outer_iterations *
  inner_iterations`` of them), and a 5x5 median filter (edge pixels repeated) runs on the flow at
  the start of every outer iteration;
* the flow is carried to the next finer scale by bilinear ``resize`` and multiplied by
  ``1 / scale_step``.

The arithmetic is float32 in OpenCV's order of operations, down to its rounding: the
multiply-adds of its vectorised ``resize`` and ``remap`` are fused (emulated with exact float64
products), ``hypot`` and ``multiply(mat, Scalar)`` round a float64 result, and TensorFlow's
Grappler arithmetic rewrites (which regroup sums) are switched off while the flow runs. On the CPU
the flow is bit-identical to OpenCV 4.14's (the Colab release) on the shared UCF101 clips; only
the sum that decides when to stop is added in another order (float64 here, float32 one pixel
after the other in OpenCV), which could change the number of iterations when it lands within
rounding of the threshold.

In a batch, each pair stops iterating exactly when it would alone (a finished pair keeps its flow
while the others go on), so a batch gives the same flow as one pair at a time.
"""

from __future__ import annotations

import contextlib
import functools
from typing import NamedTuple

import numpy as np
import tensorflow as tf

from twostream_lab.checks import positive_int, positive_number

__all__ = ["default_batch_size", "tvl1_flow_tf"]

_FLT_EPSILON = np.float32(np.finfo(np.float32).eps)
_TAB_BITS = 5  # OpenCV's remap rounds sample positions to 1/2**5 = 1/32 pixel
_TAB_SIZE = 1 << _TAB_BITS
_MIN_SCALE_SIZE = 16  # OpenCV drops pyramid scales narrower or lower than this


class _Params(NamedTuple):
    tau: float
    lambda_: float
    theta: float
    nscales: int
    warps: int
    epsilon: float
    inner_iterations: int
    outer_iterations: int
    scale_step: float
    gamma: float
    median_filtering: int


def default_batch_size() -> int:
    """Frame pairs per batch that :func:`tvl1_flow_tf` uses when ``batch_size`` is not given.

    32 when TensorFlow sees a GPU, else 1: on a CPU one pair at a time was the fastest (its
    arrays stay in the caches), 0.42 pairs/s at 320x240 on 2 cores against 0.32 in batches of 4.
    A batch needs about 75 MB per 320x240 pair at its peak (the 16 cubic taps of the warp).

    Examples
    --------
    >>> default_batch_size() in (1, 32)
    True
    """
    return 32 if tf.config.list_logical_devices("GPU") else 1


def tvl1_flow_tf(
    prev_gray: np.ndarray,
    next_gray: np.ndarray,
    *,
    batch_size: int | None = None,
    tau: float = 0.25,
    lambda_: float = 0.15,
    theta: float = 0.3,
    nscales: int = 5,
    warps: int = 5,
    epsilon: float = 0.01,
    inner_iterations: int = 30,
    outer_iterations: int = 10,
    scale_step: float = 0.8,
    gamma: float = 0.0,
    median_filtering: int = 5,
    initial_flow: np.ndarray | None = None,
    progress: bool = False,
) -> np.ndarray:
    """TV-L1 optical flow from each frame in ``prev_gray`` to the same frame in ``next_gray``.

    The same algorithm, parameters and defaults as OpenCV's
    ``cv2.optflow.DualTVL1OpticalFlow_create()`` (see the module docstring), computed with
    TensorFlow on batches of frame pairs, on a GPU when TensorFlow sees one.

    Parameters
    ----------
    prev_gray, next_gray : ndarray, shape (N, H, W) or (H, W)
        Grey frames, uint8 (0..255) or float (0..1; multiplied by 255 as OpenCV does with float
        input), at least 3x3 pixels.
    batch_size : int, optional
        Frame pairs computed together; :func:`default_batch_size` when not given. Every batch
        has this many pairs (the last one, or fewer pairs than this, are filled up with copies
        of the last pair), so the TensorFlow graph is built once per batch size and frame size,
        also over calls with different numbers of pairs.
    tau, lambda_, theta, epsilon, scale_step, gamma : float
        OpenCV's ``tau``, ``lambda``, ``theta``, ``epsilon``, ``scaleStep`` and ``gamma``, with
        OpenCV's defaults.
    nscales, warps, inner_iterations, outer_iterations, median_filtering : int
        OpenCV's ``nscales``, ``warps``, ``innerIterations``, ``outerIterations`` and
        ``medianFiltering`` (0 or 1: off, 3 or 5), with OpenCV's defaults.
    initial_flow : ndarray, shape (N, H, W, 2) or (H, W, 2), optional
        A first guess of the flow, as OpenCV's ``useInitialFlow=True``.
    progress : bool
        Show a progress bar over the batches.

    Returns
    -------
    ndarray, float32, shape (N, H, W, 2) or (H, W, 2)
        The flow in pixels, ``[..., 0]`` horizontal (x, positive to the right) and ``[..., 1]``
        vertical (y, positive downwards), as OpenCV returns it.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> texture = rng.integers(0, 256, (40, 56), dtype=np.uint8)
    >>> frame0, frame1 = texture[4:36, 4:52], texture[4:36, 3:51]  # content moves 1 px right
    >>> flow = tvl1_flow_tf(frame0, frame1)
    >>> flow.shape, flow.dtype
    ((32, 48, 2), dtype('float32'))
    """
    prev = _as_frames(prev_gray, "prev_gray")
    nxt = _as_frames(next_gray, "next_gray")
    single = np.ndim(prev_gray) == 2
    if prev.shape != nxt.shape:
        raise ValueError(
            f"prev_gray and next_gray must have the same shape, got {np.shape(prev_gray)} and "
            f"{np.shape(next_gray)}; pass one frame of next_gray for each frame of prev_gray"
        )
    n, h, w = prev.shape
    init = None
    if initial_flow is not None:
        init = np.asarray(initial_flow, dtype=np.float32)
        expected = (h, w, 2) if single else (n, h, w, 2)
        if init.shape != expected or not np.isfinite(init).all():
            raise ValueError(
                f"initial_flow must be finite with shape {expected} (an (x, y) vector per pixel), "
                f"got shape {init.shape}"
            )
        init = init.reshape(n, h, w, 2)
    params = _check_params(
        tau=tau, lambda_=lambda_, theta=theta, nscales=nscales, warps=warps, epsilon=epsilon,
        inner_iterations=inner_iterations, outer_iterations=outer_iterations,
        scale_step=scale_step, gamma=gamma, median_filtering=median_filtering,
    )
    if batch_size is None:
        batch_size = default_batch_size()
    batch_size = positive_int(batch_size, "batch_size")
    out = np.empty((n, h, w, 2), np.float32)
    if n == 0:
        return out
    batch = batch_size
    flow_fn = _compiled_flow(batch, h, w, params, init is not None)
    starts = range(0, n, batch)
    if progress:
        from twostream_lab.progress import progress_bar

        starts = progress_bar(starts, desc="tvl1-tf", unit="batch")
    for start in starts:
        stop = min(start + batch, n)
        # the last batch is filled up with its last pair: the same shape, so no new graph
        index = list(range(start, stop)) + [stop - 1] * (batch - (stop - start))
        args = [tf.constant(prev[index]), tf.constant(nxt[index])]
        if init is not None:
            args.append(tf.constant(init[index]))
        with _operation_order_kept():
            out[start:stop] = flow_fn(*args).numpy()[: stop - start]
    return out[0] if single else out


@contextlib.contextmanager
def _operation_order_kept():
    """Run TensorFlow functions without Grappler's arithmetic rewrites.

    Its arithmetic optimizer regroups chains of additions (into AddN) and products, which changes
    float32 rounding; OpenCV's order of operations is kept only with it off. The setting is
    TensorFlow-wide, so it is switched back on right after the call.
    """
    key = "arithmetic_optimization"
    before = tf.config.optimizer.get_experimental_options().get(key, True)
    tf.config.optimizer.set_experimental_options({key: False})
    try:
        yield
    finally:
        tf.config.optimizer.set_experimental_options({key: before})


def _as_frames(frames: np.ndarray, name: str) -> np.ndarray:
    """Grey frames as float32 (N, H, W) on OpenCV's internal 0..255 scale."""
    array = np.asarray(frames)
    if array.ndim == 2:
        array = array[None]
    if array.ndim != 3:
        raise ValueError(
            f"{name} must be grey frames of shape (N, H, W) or (H, W), got shape {array.shape}; "
            "convert colour frames first, e.g. cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)"
        )
    if array.shape[1] < 3 or array.shape[2] < 3:
        raise ValueError(f"{name} frames must be at least 3x3 pixels, got {array.shape[1:]}")
    if array.dtype == np.uint8:
        return array.astype(np.float32)
    if not np.issubdtype(array.dtype, np.floating):
        raise TypeError(
            f"{name} must be uint8 (0..255) or float (0..1), got dtype {array.dtype}; "
            "convert with .astype(np.uint8) or divide by 255 and use float32"
        )
    array = array.astype(np.float32)
    if not np.isfinite(array).all():
        raise ValueError(f"{name} holds NaN or infinite values")
    if array.size and (array.min() < -1e-3 or array.max() > 1 + 1e-3):
        raise ValueError(
            f"float {name} must be on 0..1 (OpenCV's TV-L1 multiplies float frames by 255), got "
            f"values from {array.min():g} to {array.max():g}; divide by 255, or pass uint8 frames"
        )
    return array * np.float32(255.0)


def _check_params(**values) -> _Params:
    for name in ("tau", "lambda_", "theta", "epsilon"):
        positive_number(values[name], name)
    for name in ("nscales", "warps", "inner_iterations", "outer_iterations"):
        positive_int(values[name], name)
    step = values["scale_step"]
    if not (isinstance(step, (float, np.floating)) and 0 < step < 1):
        raise ValueError(f"scale_step must be a number between 0 and 1, got {step!r}")
    if not isinstance(values["gamma"], (int, float, np.number)):
        raise ValueError(f"gamma must be a number, got {values['gamma']!r}")
    median = values["median_filtering"]
    if not (isinstance(median, (int, np.integer)) and median in (0, 1, 3, 5)):
        raise ValueError(
            "median_filtering must be 0 or 1 (off), 3 or 5 (the sizes of OpenCV's median filter "
            f"on float images), got {median!r}"
        )
    integers = {"nscales", "warps", "inner_iterations", "outer_iterations", "median_filtering"}
    return _Params(
        **{key: int(value) if key in integers else float(value) for key, value in values.items()}
    )


def _pyramid_shapes(h: int, w: int, nscales: int, scale_step: float) -> list[tuple[int, int]]:
    """(height, width) of each scale, finest first, as OpenCV's ``resize(fx=fy=scale_step)``."""
    shapes = [(h, w)]
    for _ in range(1, nscales):
        ph, pw = shapes[-1]
        # cv::resize with fx, fy: the new size is cvRound(size * scale), half to even like round()
        nh, nw = round(ph * scale_step), round(pw * scale_step)
        if nh < _MIN_SCALE_SIZE or nw < _MIN_SCALE_SIZE:
            break
        shapes.append((nh, nw))
    return shapes


def _linear_taps(src: int, dst: int, scale: float, *, shrink: bool) -> tuple[np.ndarray, ...]:
    """Source indices and weights of OpenCV's bilinear ``resize`` along one axis.

    The source position of output pixel ``d`` is ``(d + 0.5) * scale - 0.5`` (in float64), its
    fraction rounded to float32. A position before the first pixel takes the first pixel. A
    position past the last pixel takes the last pixel; when shrinking by a factor (the pyramid)
    OpenCV gets it as the second tap of the last pixel pair, which rounds differently.
    """
    position = (np.arange(dst) + 0.5) * scale - 0.5
    index = np.floor(position).astype(np.int64)
    frac = (position - index).astype(np.float32)
    before = index < 0
    frac[before], index[before] = 0, 0
    after = index >= src - 1
    if shrink:
        frac[after], index[after] = 1, src - 2
    else:
        frac[after], index[after] = 0, src - 1
    return index, np.minimum(index + 1, src - 1), frac


def _resize_plan(
    src: tuple[int, int], dst: tuple[int, int], scale: tuple[float, float], *, shrink: bool
):
    return (
        _linear_taps(src[0], dst[0], scale[0], shrink=shrink),
        _linear_taps(src[1], dst[1], scale[1], shrink=shrink),
    )


def _fma(a: tf.Tensor, b, c: tf.Tensor) -> tf.Tensor:
    """float32 ``a * b + c`` rounded once, as a fused multiply-add.

    The float64 product of two float32 numbers is exact, so only the sum is rounded (twice, to
    float64 and then to float32, which differs from one rounding only in ties too rare to matter).
    """
    product = tf.cast(a, tf.float64) * tf.cast(b, tf.float64)
    return tf.cast(product + tf.cast(c, tf.float64), tf.float32)


def _scaled(x: tf.Tensor, factor) -> tf.Tensor:
    """float32 ``x * factor`` computed in float64, as OpenCV's ``multiply(mat, Scalar)``."""
    return tf.cast(tf.cast(x, tf.float64) * factor, tf.float32)


def _resize(x: tf.Tensor, plan) -> tf.Tensor:
    """Bilinear resize of (..., H, W) by a plan: along rows, then along columns.

    Each output is ``s0 + (s1 - s0) * frac`` with one rounding of the multiply-add, as OpenCV's
    vectorised resize computes it.
    """
    (y0, y1, fy), (x0, x1, fx) = plan
    s0 = tf.gather(x, x0, axis=-1)
    rows = _fma(tf.gather(x, x1, axis=-1) - s0, fx, s0)
    s0 = tf.gather(rows, y0, axis=-2)
    return _fma(tf.gather(rows, y1, axis=-2) - s0, fy[:, None], s0)


def _cubic_table() -> np.ndarray:
    """OpenCV's cubic interpolation weights (a = -0.75) at the 32 sub-pixel positions, float32."""
    a = np.float32(-0.75)
    one = np.float32(1)
    x = np.arange(_TAB_SIZE, dtype=np.float32) * np.float32(1.0 / _TAB_SIZE)
    c0 = ((a * (x + one) - 5 * a) * (x + one) + 8 * a) * (x + one) - 4 * a
    c1 = ((a + 2) * x - (a + 3)) * x * x + one
    c2 = ((a + 2) * (one - x) - (a + 3)) * (one - x) * (one - x) + one
    c3 = one - c0 - c1 - c2
    return np.stack([c0, c1, c2, c3], axis=-1).astype(np.float32)


def _centered_gradient(img: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """Half the centred difference of (..., H, W); at the borders half the one-sided one."""
    right = tf.concat([img[..., 1:], img[..., -1:]], axis=-1)
    left = tf.concat([img[..., :1], img[..., :-1]], axis=-1)
    down = tf.concat([img[..., 1:, :], img[..., -1:, :]], axis=-2)
    up = tf.concat([img[..., :1, :], img[..., :-1, :]], axis=-2)
    return 0.5 * (right - left), 0.5 * (down - up)


def _forward_gradient(u: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """Forward differences of (..., H, W), zero on the last column / last row."""
    right = tf.concat([u[..., 1:], u[..., -1:]], axis=-1)
    down = tf.concat([u[..., 1:, :], u[..., -1:, :]], axis=-2)
    return right - u, down - u


def _divergence(p1: tf.Tensor, p2: tf.Tensor, not_first_col: np.ndarray) -> tf.Tensor:
    """Backward differences of the dual field (..., H, W), zero before the first column / row.

    OpenCV sums the first column as ``(p1 + p2) - p2[above]`` and the others as
    ``(p1 - p1[left]) + (p2 - p2[above])``; both are ``a + b`` below, in that order.
    """
    left = tf.concat([-p2[..., :1], p1[..., :-1]], axis=-1)
    above = tf.concat([tf.zeros_like(p2[..., :1, :]), p2[..., :-1, :]], axis=-2)
    return (p1 - left) + (p2 * not_first_col - above)


def _batcher_merge(lo: int, hi: int, step: int):
    """Comparators merging the sorted halves of wires lo..hi (inclusive), stride ``step``."""
    if 2 * step < hi - lo:
        yield from _batcher_merge(lo, hi, 2 * step)
        yield from _batcher_merge(lo + step, hi, 2 * step)
        yield from ((i, i + step) for i in range(lo + step, hi - step, 2 * step))
    else:
        yield (lo, lo + step)


def _batcher_sort(lo: int, hi: int):
    """Batcher's odd-even merge sort network on wires lo..hi (inclusive; a power of two)."""
    if hi > lo:
        mid = (lo + hi) // 2
        yield from _batcher_sort(lo, mid)
        yield from _batcher_sort(mid + 1, hi)
        yield from _batcher_merge(lo, hi, 1)


@functools.lru_cache(maxsize=4)
def _median_network(n: int) -> tuple[tuple[tuple[str, int, int], ...], int]:
    """A min/max network whose output is the median of n values (n odd).

    Batcher's sorting network on the next power of two, with the extra wires held at +infinity,
    reduced to the comparisons the middle output depends on. Nodes are ``(op, a, b)``; an
    operand below n is an input, ``n + i`` is node i. Returns the nodes and the output.
    """
    size = 1
    while size < n:
        size *= 2
    wires: list[int | None] = list(range(n)) + [None] * (size - n)  # None: +infinity
    nodes: list[tuple[str, int, int]] = []
    for i, j in _batcher_sort(0, size - 1):
        a, b = wires[i], wires[j]
        if b is None:
            continue
        if a is None:
            wires[i], wires[j] = b, None
            continue
        nodes += [("min", a, b), ("max", a, b)]
        wires[i], wires[j] = n + len(nodes) - 2, n + len(nodes) - 1
    output = wires[n // 2]
    needed, stack = set(), [output]
    while stack:
        node = stack.pop()
        if node >= n and node not in needed:
            needed.add(node)
            stack += nodes[node - n][1:]
    renumber = {old: n + new for new, old in enumerate(sorted(needed))}
    renumber.update({i: i for i in range(n)})
    kept = tuple(
        (op, renumber[a], renumber[b])
        for index, (op, a, b) in enumerate(nodes)
        if n + index in needed
    )
    return kept, renumber[output]


def _median(u: tf.Tensor, size: int) -> tf.Tensor:
    """size x size median filter of (..., H, W), edge pixels repeated (a min/max network)."""
    h, w = u.shape[-2:]
    r = size // 2
    rows = np.clip(np.arange(-r, h + r), 0, h - 1)
    cols = np.clip(np.arange(-r, w + r), 0, w - 1)
    padded = tf.gather(tf.gather(u, rows, axis=-2), cols, axis=-1)
    values = [padded[..., dy : dy + h, dx : dx + w] for dy in range(size) for dx in range(size)]
    nodes, output = _median_network(size * size)
    for op, a, b in nodes:
        values.append((tf.minimum if op == "min" else tf.maximum)(values[a], values[b]))
    return values[output]


def _warp(images: tf.Tensor, u1: tf.Tensor, u2: tf.Tensor, table: tf.Tensor) -> tf.Tensor:
    """OpenCV's ``remap(INTER_CUBIC)`` of (N, H, W, K) images at (x + u1, y + u2).

    Positions are rounded to 1/32 pixel, taps outside the image count as zero. ``table`` holds
    the four cubic weights of each 1/32 position, one row per tap: shape (4, 32).
    """
    n, h, w, k = images.shape
    hp, wp = h + 2, w + 2
    flat = tf.reshape(tf.pad(images, [[0, 0], [1, 1], [1, 1], [0, 0]]), [n * hp * wp, k])
    grid_y, grid_x = np.mgrid[0:h, 0:w].astype(np.float32)
    # beyond 8 pixels outside the image every tap is outside: clipping there changes nothing
    map_x = tf.clip_by_value(grid_x + u1, -8.0, w + 8.0)
    map_y = tf.clip_by_value(grid_y + u2, -8.0, h + 8.0)
    fixed_x = tf.cast(tf.round(map_x * _TAB_SIZE), tf.int32)  # round half to even, as cvRound
    fixed_y = tf.cast(tf.round(map_y * _TAB_SIZE), tf.int32)
    ix = tf.bitwise.right_shift(fixed_x, _TAB_BITS)
    iy = tf.bitwise.right_shift(fixed_y, _TAB_BITS)
    wx = tf.gather(table, tf.bitwise.bitwise_and(fixed_x, _TAB_SIZE - 1), axis=1)  # (4, N, H, W)
    wy = tf.gather(table, tf.bitwise.bitwise_and(fixed_y, _TAB_SIZE - 1), axis=1)
    taps = np.arange(-1, 3, dtype=np.int32).reshape(4, 1, 1, 1)
    # padded row/column of each tap: -1 and the size both land on the zero border
    cols = tf.clip_by_value(ix + taps, -1, w) + 1  # (4, N, H, W)
    rows = tf.clip_by_value(iy + taps, -1, h) + 1
    base = (np.arange(n, dtype=np.int32) * (hp * wp)).reshape(1, 1, n, 1, 1)
    index = base + rows[:, None] * wp + cols[None]  # (4 rows, 4 columns, N, H, W)
    values = tf.gather(flat, index)  # (4, 4, N, H, W, K)
    weights = (wy[:, None] * wx[None])[..., None]  # float32 products, as OpenCV's 2-D table
    terms = values * weights
    # inside the image OpenCV's vectorised loop runs down the rows of the four columns with
    # multiply-adds (one rounding each), then adds the columns as (0 + 2) + (1 + 3)
    col_sums = terms[0]  # (4 columns, N, H, W, K)
    for r in range(1, 4):
        col_sums = _fma(values[r], weights[r], col_sums)
    inside = (col_sums[0] + col_sums[2]) + (col_sums[1] + col_sums[3])
    # near the border it adds the sixteen products in row order
    terms = tf.reshape(terms, [16, n, h, w, k])
    border = terms[0]
    for tap in range(1, 16):
        border = border + terms[tap]
    is_inside = (ix >= 1) & (ix <= w - 3) & (iy >= 1) & (iy <= h - 3)
    return tf.where(is_inside[..., None], inside, border)


def _one_scale(i0: tf.Tensor, i1: tf.Tensor, u: tf.Tensor, p: _Params, table: tf.Tensor):
    """OpenCV's ``procOneScale`` on (N, H, W) frames and the flow u (C, N, H, W).

    ``warps`` times: warp the second frame by the flow, then up to ``outer x inner`` iterations.
    """
    n, h, w = i0.shape
    channels = u.shape[0]
    l_t = np.float32(p.lambda_ * p.theta)
    taut = np.float32(p.tau / p.theta)
    theta = np.float32(p.theta)
    gamma = np.float32(p.gamma)
    scaled_epsilon = float(np.float32(p.epsilon * p.epsilon * h * w))
    max_iterations = p.inner_iterations * p.outer_iterations
    not_first_col = np.ones(w, np.float32)
    not_first_col[0] = 0
    i1x, i1y = _centered_gradient(i1)
    images = tf.stack([i1, i1x, i1y], axis=-1)

    def median(u, active):
        flow = _median(u[:2], p.median_filtering)
        if channels == 3:
            flow = tf.concat([flow, u[2:]], axis=0)
        return tf.where(active[:, None, None], flow, u)

    def warp_step(warp, u, p1, p2):
        warped = _warp(images, u[0], u[1], table)
        i1w, i1wx, i1wy = warped[..., 0], warped[..., 1], warped[..., 2]
        grad = i1wx * i1wx + i1wy * i1wy
        rho_c = ((i1w - i1wx * u[0]) - i1wy * u[1]) - i0
        image_grad = [i1wx, i1wy] + ([tf.fill([n, h, w], gamma)] if channels == 3 else [])
        image_grad = tf.stack(image_grad, axis=0)
        lt_grad = l_t * grad
        neg_lt_grad = -lt_grad
        # -rho / grad as rho / -grad; where OpenCV leaves the step 0 (no gradient) it is +-0
        neg_grad = tf.where(grad > _FLT_EPSILON, -grad, -np.inf)

        def iterate(k, active, u, p1, p2):
            if p.median_filtering > 1:
                u = tf.cond(k % p.inner_iterations == 0, lambda: median(u, active), lambda: u)
            # thresholding step (OpenCV's estimateV)
            rho = rho_c + (i1wx * u[0] + i1wy * u[1])
            if channels == 3:
                rho = rho + gamma * u[2]
            step = tf.where(rho < neg_lt_grad, l_t, tf.where(rho > lt_grad, -l_t, rho / neg_grad))
            v = u + step * image_grad
            # primal step (estimateU) and its squared change
            u_new = v + theta * _divergence(p1, p2, not_first_col)
            change = tf.math.squared_difference(u_new, u)
            per_pixel = change[0] + change[1]
            if channels == 3:
                per_pixel = per_pixel + change[2]
            error = tf.reduce_sum(tf.cast(per_pixel, tf.float64), axis=[1, 2])
            # dual step (estimateDualVariables); |grad u| as float32(hypot(...)), like OpenCV
            ux, uy = _forward_gradient(u_new)
            norm = tf.sqrt(tf.square(tf.cast(ux, tf.float64)) + tf.square(tf.cast(uy, tf.float64)))
            denom = 1.0 + taut * tf.cast(norm, tf.float32)
            new = (u_new, (p1 + taut * ux) / denom, (p2 + taut * uy) / denom)

            def keep_finished():
                # a pair that has stopped keeps its flow while the others go on
                keep = active[None, :, None, None]
                return tuple(tf.where(keep, a, b) for a, b in zip(new, (u, p1, p2)))

            u, p1, p2 = tf.cond(tf.reduce_all(active), lambda: new, keep_finished)
            return k + 1, active & (error > scaled_epsilon), u, p1, p2

        _, _, u, p1, p2 = tf.while_loop(
            lambda k, active, *_: (k < max_iterations) & tf.reduce_any(active),
            iterate,
            (tf.constant(0), tf.ones([n], tf.bool), u, p1, p2),
        )
        return warp + 1, u, p1, p2

    zeros = tf.zeros_like(u)
    _, u, _, _ = tf.while_loop(
        lambda warp, *_: warp < p.warps, warp_step, (tf.constant(0), u, zeros, zeros)
    )
    return u


@functools.lru_cache(maxsize=8)
def _compiled_flow(n: int, h: int, w: int, p: _Params, with_initial: bool):
    """A tf.function for batches of n pairs of h x w frames (built once per shape)."""
    shapes = _pyramid_shapes(h, w, p.nscales, p.scale_step)
    down = 1.0 / p.scale_step  # OpenCV's resize with fx = fy = scale_step
    down_plans = [
        _resize_plan(a, b, (down, down), shrink=True) for a, b in zip(shapes, shapes[1:])
    ]
    # resize to a given size: the scale is 1 / (new size / old size), as in cv::resize
    up_plans = [
        _resize_plan(b, a, (1.0 / (a[0] / b[0]), 1.0 / (a[1] / b[1])), shrink=False)
        for a, b in zip(shapes, shapes[1:])
    ]
    channels = 3 if p.gamma != 0 else 2
    # OpenCV's multiply(flow, Scalar) rounds the float64 product; the gamma channel stays
    up_factor = np.ones((channels, 1, 1, 1))
    up_factor[:2] = 1.0 / p.scale_step
    table = tf.constant(_cubic_table().T)  # (4 taps, 32 positions)

    def flow_fn(i0, i1, *initial):
        i0s, i1s = [i0], [i1]
        for plan in down_plans:
            i0s.append(_resize(i0s[-1], plan))
            i1s.append(_resize(i1s[-1], plan))
        if initial:  # OpenCV's useInitialFlow: shrink it with the frames
            u = tf.transpose(initial[0], [3, 0, 1, 2])
            for plan in down_plans:
                u = _scaled(_resize(u, plan), p.scale_step)
        else:
            u = tf.zeros([2, n, *shapes[-1]])
        if channels == 3:
            u = tf.concat([u, tf.zeros_like(u[:1])], axis=0)
        for s in range(len(shapes) - 1, -1, -1):
            u = _one_scale(i0s[s], i1s[s], u, p, table)
            if s:
                u = _scaled(_resize(u, up_plans[s - 1]), up_factor)
        return tf.stack([u[0], u[1]], axis=-1)

    signature = [tf.TensorSpec([n, h, w], tf.float32)] * 2
    if with_initial:
        signature.append(tf.TensorSpec([n, h, w, 2], tf.float32))
    return tf.function(flow_fn, input_signature=signature, autograph=False)
