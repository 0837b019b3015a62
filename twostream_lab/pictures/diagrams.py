"""Pictures that explain the two-stream model: its flow input and its decision.

(The whole model as a diagram, :func:`draw_two_stream_architecture`, is in
:mod:`twostream_lab.pictures.architecture`, which uses the colours and helpers here.)

:func:`draw_flow_stack`
    The 20-channel motion input as the temporal stream sees it: ``u0..u9`` then ``v0..v9``.
:func:`draw_flow_components`
    One flow frame's ``u`` and ``v`` in pixels, on a colour scale centred on "no motion".
:func:`draw_flow_arrows`
    The same flow as arrows on the RGB frame (draws into an ``Axes`` you pass).
:func:`draw_stream_confidence`
    How sure each stream is of the top classes, and what their fusion decides.

The functions that make a whole figure return a pyplot ``Figure``; close it with
``plt.close(fig)`` when drawing many. Flow is taken quantised (uint8 levels as in ``Flow.u`` and
``Flow.v``, turned back into pixels with :func:`twostream_lab.flow.dequantize_flow`) or as float
pixels. Nothing here imports TensorFlow, and matplotlib only when a picture is drawn.
"""

from __future__ import annotations

import numpy as np

from twostream_lab.batching import STACKED_FRAMES
from twostream_lab.checks import positive_int, positive_number
from twostream_lab.flow import dequantize_flow, quantize_flow
from twostream_lab.fusion import top_k_indices

__all__ = [
    "draw_flow_stack",
    "draw_flow_arrows",
    "draw_flow_components",
    "draw_stream_confidence",
]

_SPATIAL = "#1f77b4"  # the spatial stream's colour in every picture
_MOTION = "#e6550d"  # the motion (temporal) stream's
_FUSED = "#54278f"  # their fusion's
_U_COLOR = "#3182bd"  # the u channels of a stack
_V_COLOR = "#31a354"  # the v channels
_FLOW_CMAP = "RdBu_r"  # diverging: blue = negative, white = still, red = positive


def _flow_norm(bound: float):
    """Colour scale of flow in pixels: -bound .. +bound, white at 0, square-root spaced.

    Most motion is a few pixels per frame; on a linear -20..20 px scale 2 px would be almost
    white. With ``sign(f) * sqrt(|f| - q)`` 2 px is a third of the way to full colour. ``q`` is
    one quantisation step's half, ``bound / 255``: quantised "no motion" (level 128, +0.08 px,
    and level 127, -0.08 px) is pure white.
    """
    from matplotlib.colors import FuncNorm

    q = 1.001 * float(bound) / 255  # a hair more, for levels 127 and 128 decoded in float32

    def forward(f):
        return np.sign(f) * np.sqrt(np.maximum(np.abs(f) - q, 0))

    def inverse(y):
        return np.sign(y) * (y**2 + q)

    return FuncNorm((forward, inverse), vmin=-float(bound), vmax=float(bound))


def _flow_ticks(bound: float) -> list[float]:
    """Colour-bar ticks for :func:`_flow_norm`: 0, +-2, 5, 10, 20, ... px inside the bound."""
    steps = [t for t in (2, 5, 10, 20, 50, 100) if t < bound * 0.8] + [float(bound)]
    return [-t for t in steps[::-1]] + [0.0] + steps


def _pixels(component: np.ndarray, bound: float) -> np.ndarray:
    """Flow in pixels from quantised uint8 levels, or float pixels as they are (float32)."""
    component = np.asarray(component)
    if component.dtype == np.uint8:
        return dequantize_flow(component, bound=bound)
    if not np.issubdtype(component.dtype, np.floating):
        raise ValueError(
            "flow must be quantised uint8 levels (Flow.u, Flow.v) or float pixels, got "
            f"{component.dtype}"
        )
    return component.astype(np.float32, copy=False)


def _check_component_pair(u, v, ndim: int, what: str) -> tuple[np.ndarray, np.ndarray]:
    u = np.asarray(u)
    v = np.asarray(v)
    if u.ndim != ndim or u.shape != v.shape:
        raise ValueError(f"u and v must both be {what}, got shapes {u.shape} and {v.shape}")
    return u, v


def _check_frame(frame) -> np.ndarray:
    frame = np.asarray(frame)
    if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
        raise ValueError(
            f"frame must be one uint8 RGB image (H, W, 3), e.g. video.frames[0], got "
            f"{frame.dtype} {frame.shape}"
        )
    return frame


# --------------------------------------------------------------------------- the flow stack


def draw_flow_stack(
    u: np.ndarray,
    v: np.ndarray,
    start: int = 0,
    length: int = STACKED_FRAMES,
    *,
    bound: float = 20,
    figsize: tuple[float, float] | None = None,
):
    """The motion stream's input stack as a grid: channels ``u0..u{L-1}`` then ``v0..v{L-1}``.

    Top row, channels ``0 .. L-1``: the horizontal flow ``u[start] .. u[start+L-1]``; bottom row,
    channels ``L .. 2L-1``: the vertical flow ``v[start] .. v[start+L-1]``, in the order
    :func:`twostream_lab.batching.prepare_stacks` puts them in (before the resize and ``/ 255``).
    Each image is titled with its channel index, its name in the stack and its flow frame; the
    colour scale is fixed, white is "no motion" (level 128, 0 px).

    Parameters
    ----------
    u, v : uint8 arrays (F, H, W)
        Quantised flow frames (``Flow.u``, ``Flow.v``).
    start : int
        First flow frame of the stack, in ``0 .. F-L``.
    length : int
        ``L``, flow frames per stack (10 for the pretrained models: 20 channels).
    bound : float
        Quantisation bound, for the pixel labels of the colour bar.
    figsize : (width, height) in inches, optional

    Returns
    -------
    matplotlib.figure.Figure
        Its first ``2L`` axes are the channels in order; the last one is the colour bar.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> u = v = np.full((12, 24, 32), 128, np.uint8)
    >>> fig = draw_flow_stack(u, v, start=2)
    >>> [ax.get_title().splitlines()[0] for ax in fig.axes[:2]], len(fig.axes)
    (['channel 0', 'channel 1'], 21)
    >>> plt.close(fig)
    """
    import matplotlib.pyplot as plt

    u, v = _check_component_pair(u, v, 3, "quantised flow frames (F, H, W) (Flow.u, Flow.v)")
    if u.dtype != np.uint8 or v.dtype != np.uint8:
        raise ValueError(
            f"u and v must be quantised uint8 flow (Flow.u, Flow.v), got {u.dtype} and {v.dtype}"
        )
    L = int(length)
    if L < 1:
        raise ValueError(f"length must be at least 1, got {length}")
    start = int(start)
    if not 0 <= start <= len(u) - L:
        raise ValueError(
            f"start must be in 0..{len(u) - L} for {len(u)} flow frames and stacks of {L}, "
            f"got {start}"
        )
    h, w = u.shape[1:]
    if figsize is None:
        tile = 1.5
        figsize = (tile * L + 1.8, 2 * tile * h / w + 1.9)
    fig, axes = plt.subplots(2, L, figsize=figsize, squeeze=False,
                             gridspec_kw={"left": 0.07, "right": 0.9, "top": 0.76,
                                          "bottom": 0.04, "wspace": 0.08, "hspace": 0.5})
    image, norm = None, _flow_norm(bound)
    for row, (name, frames, color) in enumerate((("u", u, _U_COLOR), ("v", v, _V_COLOR))):
        for i in range(L):
            ax = axes[row, i]
            image = ax.imshow(dequantize_flow(frames[start + i], bound=bound), cmap=_FLOW_CMAP,
                              norm=norm)
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_edgecolor(color)
                spine.set_linewidth(2)
            ax.set_title(f"channel {row * L + i}\n{name}{i} = {name}[{start + i}]", fontsize=9,
                         color=color, linespacing=1.3)
        what = "horizontal" if name == "u" else "vertical"
        axes[row, 0].set_ylabel(f"{name}: {what}\nchannels {row * L}-{row * L + L - 1}",
                                fontsize=10, color=color, weight="bold")
    fig.suptitle(
        f"The motion stream's input: one stack of {2 * L} channels, u0..u{L - 1} then "
        f"v0..v{L - 1} (flow frames {start}..{start + L - 1}), read row by row",
        fontsize=12, weight="bold",
    )
    fig.text(0.5, 0.87, "red: u > 0 moving right, v > 0 moving down;  blue: left, up;  "
             "white: still", ha="center", va="center", fontsize=10)
    bar = fig.colorbar(image, ax=axes, fraction=0.025, pad=0.02)
    ticks = _flow_ticks(bound)
    bar.set_ticks(ticks)
    bar.set_ticklabels([f"{t:+g} px = level {float(quantize_flow(t, bound=bound)):.0f}"
                        if t else "0 px = level 128" for t in ticks])
    bar.set_label("flow (white = still)")
    return fig


# --------------------------------------------------------------------------- u and v, arrows


def draw_flow_components(
    u: np.ndarray,
    v: np.ndarray,
    *,
    bound: float = 20,
    frame: np.ndarray | None = None,
    figsize: tuple[float, float] | None = None,
):
    """One flow frame's horizontal ``u`` and vertical ``v`` side by side, in pixels.

    The colour scale is diverging and fixed to ``-bound .. +bound`` px, with white at 0 px: still
    areas are white, motion to the right (``u > 0``) and down (``v > 0``) red, to the left and up
    blue. One colour bar in pixels serves both.

    Parameters
    ----------
    u, v : arrays (H, W)
        One flow frame, quantised uint8 levels (``flow.u[t]``) or float pixels.
    bound : float
        Quantisation bound of uint8 flow, and the end of the colour scale, in pixels.
    frame : uint8 array (H, W, 3), optional
        The RGB frame the flow starts from, drawn first for reference.
    figsize : (width, height) in inches, optional

    Returns
    -------
    matplotlib.figure.Figure
        Axes: [frame,] u, v, colour bar.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig = draw_flow_components(np.full((24, 32), 3.0), np.zeros((24, 32)))
    >>> norm = fig.axes[0].images[0].norm
    >>> norm.vmin, norm.vmax
    (-20.0, 20.0)
    >>> plt.close(fig)
    """
    import matplotlib.pyplot as plt

    u, v = _check_component_pair(u, v, 2, "one flow frame (H, W)")
    positive_number(bound, "bound", unit="pixels")
    panels = [] if frame is None else [("frame", _check_frame(frame))]
    panels += [("u", _pixels(u, bound)), ("v", _pixels(v, bound))]
    h, w = u.shape
    if figsize is None:
        figsize = (4.4 * len(panels) + 1.0, 4.4 * h / w + 0.8)
    fig, axes = plt.subplots(1, len(panels), figsize=figsize, squeeze=False,
                             layout="constrained")
    titles = {
        "frame": "RGB frame",
        "u": "u: horizontal motion\nred u > 0: to the right, blue u < 0: to the left",
        "v": "v: vertical motion\nred v > 0: down, blue v < 0: up",
    }
    image, norm = None, _flow_norm(bound)
    for ax, (name, data) in zip(axes[0], panels, strict=True):
        if name == "frame":
            ax.imshow(data)
        else:
            image = ax.imshow(data, cmap=_FLOW_CMAP, norm=norm)
        ax.set_title(titles[name], fontsize=11)
        ax.set_xticks([])
        ax.set_yticks([])
    bar = fig.colorbar(image, ax=axes[0].tolist(), fraction=0.03, pad=0.02,
                       ticks=_flow_ticks(bound))
    bar.set_label("flow (px per frame); white = still")
    return fig


def _nice(value: float) -> float:
    """The number of the form 1, 2, 2.5 or 5 x 10^k nearest to ``value`` (> 0), for legends."""
    exponent = np.floor(np.log10(value))
    candidates = np.array([1.0, 2.0, 2.5, 5.0, 10.0]) * 10**exponent
    return float(candidates[np.argmin(np.abs(np.log(candidates / value)))])


def draw_flow_arrows(
    ax,
    frame: np.ndarray,
    u: np.ndarray,
    v: np.ndarray,
    *,
    bound: float = 20,
    step: int = 16,
    min_length: float = 1.0,
    gain: float | None = None,
    title: str | None = None,
    color: str = "#ffd400",
):
    """Draw a flow frame as arrows on its RGB frame, into ``ax``.

    The flow is averaged over ``step x step`` blocks; each block with at least ``min_length``
    pixels of motion gets one arrow from its centre, pointing where the pixels move (image ``y``
    grows downwards, so ``v > 0`` points down). Quantised flow is turned back into pixels with
    :func:`twostream_lab.flow.dequantize_flow` (``0 -> -bound``, ``255 -> +bound``; level 128,
    still, is +0.08 px, below ``min_length``). Arrows are drawn ``gain`` times longer than the
    motion, so that they can be seen; the title and the key arrow say by how much.

    Parameters
    ----------
    ax : matplotlib Axes
    frame : uint8 array (H, W, 3)
        The RGB frame the flow starts from.
    u, v : arrays (H, W)
        The flow frame, quantised uint8 levels or float pixels, the size of ``frame``.
    bound : float
        Quantisation bound of uint8 flow, in pixels.
    step : int
        Grid spacing of the arrows, in pixels.
    min_length : float
        Blocks moving less than this (pixels) get no arrow.
    gain : float, optional
        Arrow length / motion. By default a round number that makes the fastest arrows (95th
        percentile) about one and a half grid steps long.
    title : str, optional
        Replaces the default title (which states the gain).
    color : str
        Arrow colour (drawn with a black outline).

    Returns
    -------
    matplotlib.quiver.Quiver
        ``.N`` is the number of arrows drawn (0 for a still frame).

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> frame = np.zeros((48, 64, 3), np.uint8)
    >>> draw_flow_arrows(ax, frame, np.full((48, 64), 2.0), np.zeros((48, 64))).N
    12
    >>> plt.close(fig)
    """
    frame = _check_frame(frame)
    u, v = _check_component_pair(u, v, 2, "one flow frame (H, W)")
    if u.shape != frame.shape[:2]:
        raise ValueError(
            f"the flow ({u.shape[1]}x{u.shape[0]}) must be the size of the frame "
            f"({frame.shape[1]}x{frame.shape[0]}); pass the frame the flow was computed from"
        )
    step = positive_int(step, "step", unit="pixels")
    if gain is not None:
        positive_number(gain, "gain")
    dx, dy = _pixels(u, bound), _pixels(v, bound)
    rows, cols = dx.shape[0] // step, dx.shape[1] // step
    if rows == 0 or cols == 0:
        raise ValueError(
            f"step {step} is larger than the frame ({dx.shape[1]}x{dx.shape[0]}); use a smaller one"
        )

    def blocks(component):
        crop = component[: rows * step, : cols * step]
        return crop.reshape(rows, step, cols, step).mean(axis=(1, 3))

    bu, bv = blocks(dx), blocks(dy)
    ys, xs = np.mgrid[0:rows, 0:cols] * step + (step - 1) / 2
    keep = np.hypot(bu, bv) >= min_length
    xs, ys, bu, bv = xs[keep], ys[keep], bu[keep], bv[keep]
    speed = np.hypot(bu, bv)
    if gain is None:
        fastest = float(np.percentile(speed, 95)) if speed.size else 1.0
        gain = _nice(1.5 * step / max(fastest, 1e-3))

    ax.imshow(frame)
    quiver = ax.quiver(xs, ys, bu, bv, angles="xy", scale_units="xy", scale=1.0 / gain,
                       color=color, edgecolor="black", linewidth=0.6, width=0.005,
                       headwidth=3.5, headlength=4, headaxislength=3.5)
    ax.set_xlim(-0.5, frame.shape[1] - 0.5)
    ax.set_ylim(frame.shape[0] - 0.5, -0.5)
    ax.set_xticks([])
    ax.set_yticks([])
    if speed.size:
        key = _nice(float(np.percentile(speed, 95)))
        ax.quiverkey(quiver, 0.62, -0.05, key, f"= {key:g} px of motion", labelpos="E",
                     coordinates="axes", color=color, labelcolor="black",
                     fontproperties={"size": 9})
    if title is None:
        title = (f"motion as arrows (drawn {gain:g}x longer than the motion)\n"
                 f"{quiver.N} of {rows * cols} blocks of {step}x{step} px move "
                 f"at least {min_length:g} px")
    ax.set_title(title, fontsize=10)
    return quiver


# --------------------------------------------------------------------------- confidence


def draw_stream_confidence(prediction, *, k: int = 5, figsize: tuple[float, float] | None = None):
    """How confident each stream is in the top classes, and which class the fusion picks.

    Left: for the ``k`` best classes of the fused video-level score, the spatial, the motion and
    the fused score side by side; the fused winner is highlighted. Right (when the prediction
    has more than one scored frame): that winner's score frame by frame for each stream, so one
    sees when each stream is sure.

    Parameters
    ----------
    prediction : Prediction
        From :func:`twostream_lab.predict_video`.
    k : int
        Classes shown (at most the number of classes).
    figsize : (width, height) in inches, optional

    Returns
    -------
    matplotlib.figure.Figure
        One or two axes.

    Examples
    --------
    >>> fig = draw_stream_confidence(predict_video(video, models), k=3)  # doctest: +SKIP
    """
    import matplotlib.pyplot as plt

    names = list(prediction.class_names)
    k = min(positive_int(k, "k"), len(names))
    scores = {stream: np.asarray(prediction.scores(stream), np.float64)
              for stream in ("spatial", "motion", "fused")}
    best = top_k_indices(scores["fused"], k)
    over_time = len(prediction.spatial) > 1 or len(prediction.motion) > 1
    if figsize is None:
        figsize = (14.5 if over_time else 8.0, max(3.8, 0.9 * k + 1.9))
    fig, axes = plt.subplots(1, 2 if over_time else 1, figsize=figsize, squeeze=False,
                             gridspec_kw={"width_ratios": [1.0, 1.1]} if over_time else None)
    ax = axes[0, 0]
    fusion = prediction.fusion if prediction.fusion_weights is None else (
        f"{prediction.fusion} {prediction.fusion_weights[0]:g}:{prediction.fusion_weights[1]:g}")
    streams = (("spatial", "spatial stream (RGB)", _SPATIAL),
               ("motion", "motion stream (flow)", _MOTION),
               ("fused", f"fused ({fusion})", _FUSED))
    height = 0.26
    positions = np.arange(k)[::-1].astype(float)  # best on top
    ax.axhspan(positions[0] - 0.47, positions[0] + 0.47, color="#ffe680", zorder=0)
    for j, (stream, label, color) in enumerate(streams):
        y = positions + (1 - j) * height
        values = scores[stream][best]
        ax.barh(y, values, height=height * 0.92, color=color, label=label, zorder=2)
        for yi, value in zip(y, values, strict=True):
            ax.text(min(value, 1.0) + 0.01, yi, f"{value:.2f}", va="center", ha="left",
                    fontsize=8, color=color, zorder=3)
    ax.set_yticks(positions)
    ax.set_yticklabels([names[i] for i in best], fontsize=10)
    winner_label = ax.get_yticklabels()[0]
    winner_label.set_fontweight("bold")
    ax.text(1.13, positions[0] + 0.47, "fused winner", ha="right", va="top", fontsize=9,
            weight="bold", color="#7a5c00")
    ax.set_xlim(0, 1.15)
    ax.set_xticks(np.linspace(0, 1, 6))
    ax.set_ylim(-0.6, k - 0.4)
    ax.set_xlabel("score (softmax probability, video level)")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=3, fontsize=9,
              frameon=False)
    tops = {stream: names[int(np.argmax(scores[stream]))] for stream in scores}
    agree = "the streams agree" if tops["spatial"] == tops["motion"] else "the streams disagree"
    ax.set_title(f"{prediction.video_name}: spatial says {tops['spatial']}, motion says "
                 f"{tops['motion']}\n({agree}); fused: {tops['fused']}", fontsize=11)

    if over_time:
        winner = int(best[0])
        ax2 = axes[0, 1]
        rows = (("spatial", prediction.spatial_indices), ("motion", prediction.motion_indices),
                ("fused", prediction.motion_indices))
        for (stream, label, color), (_, frames) in zip(streams, rows, strict=True):
            values = np.asarray(getattr(prediction, stream))[:, winner]
            ax2.plot(frames, values, color=color, label=label, marker="o" if len(frames) < 40
                     else None, markersize=3, linewidth=2.2 if stream == "fused" else 1.4)
        ax2.set_ylim(-0.02, 1.02)
        ax2.set_xlabel("video frame (motion: the stack starting at that flow frame)")
        ax2.set_ylabel(f"score of {names[winner]}")
        ax2.set_title(f"frame by frame: how sure is each stream of {names[winner]}?",
                      fontsize=11)
        ax2.grid(alpha=0.3)
        ax2.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=3, fontsize=9,
                   frameon=False)
    fig.tight_layout()
    return fig
