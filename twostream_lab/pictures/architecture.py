"""The two-stream architecture (Simonyan & Zisserman 2014) as a diagram.

:func:`draw_two_stream_architecture` draws the whole model, optionally with a real frame and
real flow on it, in the colours of :mod:`twostream_lab.pictures.diagrams` (whose helpers it
uses). It returns a pyplot ``Figure``; nothing here imports TensorFlow, and matplotlib only when
the picture is drawn.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from twostream_lab.batching import STACKED_FRAMES
from twostream_lab.pictures.flow_viz import flow_to_rgb
from twostream_lab.fusion import FUSION_METHODS
from twostream_lab.pictures.diagrams import (_FLOW_CMAP, _FUSED, _MOTION, _SPATIAL, _U_COLOR,
                                             _V_COLOR, _check_component_pair, _check_frame,
                                             _flow_norm, _pixels)

__all__ = ["draw_two_stream_architecture"]


# --------------------------------------------------------------------------- architecture


def _box(ax, x, y, w, h, text, color, *, fontsize=11, weight="normal"):
    """A rounded box with centred text, (x, y) its lower-left corner in data units."""
    from matplotlib.patches import FancyBboxPatch

    ax.add_patch(FancyBboxPatch(
        (x, y), w, h, boxstyle="round,pad=0.3,rounding_size=0.8", linewidth=1.6,
        edgecolor=color, facecolor=color + "22", zorder=2,
    ))
    ax.text(x + w / 2, y + h / 2, text, ha="center", va="center", fontsize=fontsize,
            weight=weight, zorder=3, linespacing=1.35)


def _arrow(ax, start, end, color, text=None, *, rad=0.0):
    """An arrow from ``start`` to ``end`` (bent by ``rad``), with ``text`` above its middle."""
    from matplotlib.patches import FancyArrowPatch

    ax.add_patch(FancyArrowPatch(
        start, end, arrowstyle="-|>", mutation_scale=16, linewidth=1.6, color=color,
        connectionstyle=f"arc3,rad={rad}", shrinkA=2, shrinkB=2, zorder=1,
    ))
    if text:
        ax.text((start[0] + end[0]) / 2, (start[1] + end[1]) / 2 + 0.4, text, ha="center",
                va="bottom", fontsize=10, color=color, zorder=3)


def _card(ax, x, y, w, h, image, edge, *, cmap=None, norm=None, zorder=2.0, label=None):
    """An image (or, with ``image=None``, a flat card) in the data rectangle (x, y, w, h)."""
    inset = ax.inset_axes((x, y, w, h), transform=ax.transData, zorder=zorder)
    if image is None:  # an opaque pale card, so that a deck's cards hide each other
        from matplotlib.colors import to_rgb

        inset.set_facecolor(0.8 + 0.2 * np.asarray(to_rgb(edge)))
    else:
        inset.imshow(image, cmap=cmap, norm=norm, aspect="auto", interpolation="antialiased")
    inset.set_xticks([])
    inset.set_yticks([])
    for spine in inset.spines.values():
        spine.set_edgecolor(edge)
        spine.set_linewidth(1.3)
    if label:
        inset.text(0.5, 0.5, label, transform=inset.transAxes, ha="center", va="center",
                   fontsize=10, weight="bold")
    return inset


def _deck(ax, x, y, w, h, images, edges, *, dx, dy, cmap=None, norm=None):
    """Cards ``images[0]`` (front, lower left) to ``images[-1]`` (back, upper right)."""
    n = len(images)
    insets = []
    for i in reversed(range(n)):  # back to front, the front one drawn last
        insets.append(_card(ax, x + i * dx, y + i * dy, w, h, images[i], edges[i], cmap=cmap,
                            norm=norm, zorder=2.0 + (n - i) / (n + 1)))
    return insets[::-1]


def draw_two_stream_architecture(
    *,
    frame: np.ndarray | None = None,
    u: np.ndarray | None = None,
    v: np.ndarray | None = None,
    bound: float = 20,
    input_size: Sequence[int] = (299, 299),
    stacked_frames: int = STACKED_FRAMES,
    num_classes: int = 101,
    fusion: str = "average",
    figsize: tuple[float, float] = (16, 7.2),
):
    """The two-stream architecture (Simonyan & Zisserman 2014) as a diagram.

    Top, the spatial stream: one RGB frame, resized to ``299x299x3``, goes through an Xception
    CNN to a softmax over the classes. Bottom, the temporal (motion) stream: the optical flow of
    ``L = 10`` consecutive frame pairs, split into horizontal ``u`` and vertical ``v``
    components and stacked as ``u0..u9, v0..v9`` (``299x299x20``), goes through its own Xception
    CNN to a softmax. Late fusion (the average of the two softmax vectors) gives the class
    scores. The sizes, ``L``, the class count and the fusion are knobs.

    Parameters
    ----------
    frame : uint8 array (H, W, 3), optional
        A real RGB frame to show as the spatial input (e.g. ``video.frames[t]``).
    u, v : arrays (N, H, W), optional
        Real flow frames (e.g. ``flow.u[t:t + 10]``), quantised uint8 or float pixels: up to 4
        are drawn in colour-wheel colours (:func:`twostream_lab.pictures.flow_viz.flow_to_rgb`), and the
        first ``min(N, L)`` of each component on the stack's cards. Give both or neither.
    bound : float
        Quantisation bound of uint8 flow, in pixels.
    input_size : (height, width)
        The models' input size, written on the diagram.
    stacked_frames : int
        ``L``, flow frames per motion stack (the motion input has ``2L`` channels).
    num_classes : int
        Size of each softmax (101 for UCF101).
    fusion : str
        The fusion written in the fusion box (:data:`twostream_lab.fusion.FUSION_METHODS`).
    figsize : (width, height) in inches

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig = draw_two_stream_architecture()
    >>> any("299x299x20" in t.get_text() for t in fig.axes[0].texts)
    True
    >>> plt.close(fig)
    """
    import matplotlib.pyplot as plt

    try:
        h_in, w_in = (int(s) for s in input_size)
    except (TypeError, ValueError):
        raise ValueError(
            f"input_size must be (height, width), e.g. (299, 299), got {input_size!r}"
        ) from None
    L = int(stacked_frames)
    if L < 1:
        raise ValueError(f"stacked_frames must be at least 1, got {stacked_frames}")
    if fusion not in FUSION_METHODS:
        raise ValueError(f"fusion must be one of {FUSION_METHODS}, got {fusion!r}")
    if frame is not None:
        frame = _check_frame(frame)
    if (u is None) != (v is None):
        raise ValueError("give both u and v (the flow frames' two components), or neither")
    if u is not None:
        u, v = _check_component_pair(u, v, 3, "flow frames (N, H, W)")
        if len(u) == 0:
            raise ValueError("u and v hold no flow frames; pass e.g. flow.u[t:t + 10]")

    fig = plt.figure(figsize=figsize)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 45)
    ax.set_axis_off()
    ax.text(50, 43.0, "Two-stream network (Simonyan & Zisserman 2014)", ha="center",
            va="center", fontsize=17, weight="bold")

    top, bottom = 28.5, 5.5  # lower edge of the two rows' pictures
    card_w, card_h = 10.5, 7.9  # 4:3 (one data unit is the same length on both axes)
    top_mid, bottom_mid = top + card_h / 2, bottom + card_h / 2

    # the video: a film strip of frames
    _deck(ax, 0.8, 17.0, card_w, card_h, [frame] * 3, ["#555555"] * 3, dx=0.9, dy=0.9)
    ax.text(0.8 + card_w / 2 + 0.9, 16.2, "video (T frames)", ha="center", va="top",
            fontsize=11, weight="bold")
    split = (0.8 + card_w + 2.2, 17.0 + card_h / 2 + 0.9)

    # spatial stream input: one frame
    x_in = 17.0
    _card(ax, x_in, top, card_w, card_h, frame, _SPATIAL,
          label=None if frame is not None else "RGB frame t")
    ax.text(x_in + card_w / 2, top + card_h + 0.7, "one RGB frame t", ha="center",
            va="bottom", fontsize=11, color=_SPATIAL, weight="bold")
    _arrow(ax, split, (x_in - 0.3, top_mid), _SPATIAL, rad=-0.2)

    # temporal stream input: the flow frames, then the stack
    if u is not None:
        shown = min(len(u), 4)
        pictures = [flow_to_rgb(u[i], v[i], bound=bound) for i in range(shown)]
    else:
        shown, pictures = 4, [None] * 4
    fdx, fdy = 0.6, 0.6
    flow_cards = _deck(ax, x_in - 1.0, bottom, card_w, card_h, pictures, [_MOTION] * shown,
                       dx=fdx, dy=fdy)
    if u is None:
        flow_cards[0].text(0.5, 0.5, "flow t → t+1", transform=flow_cards[0].transAxes,
                           ha="center", va="center", fontsize=10, weight="bold")
    flow_right = x_in - 1.0 + (shown - 1) * fdx + card_w
    ax.text(x_in - 1.0 + card_w / 2 + 1.0, bottom + card_h + (shown - 1) * fdy + 0.7,
            f"{L} optical-flow frames", ha="center", va="bottom", fontsize=11, color=_MOTION,
            weight="bold")
    pairs = f"pairs t→t+1 ... t+{L - 1}→t+{L}"
    ax.text(x_in - 1.0 + card_w / 2, bottom - 0.7,
            pairs if u is None else pairs + "\ncolour = direction", ha="center", va="top",
            fontsize=9.5)
    _arrow(ax, split, (x_in - 1.3, bottom_mid), _MOTION, rad=0.2)

    if u is not None:
        cards = [_pixels(c[i], bound) if i < len(c) else None for c in (u, v) for i in range(L)]
    else:
        cards = [None] * (2 * L)
    stack_x, stack_y, stack_w, stack_h = 31.0, bottom + 0.2, 6.6, 4.95
    sdx, sdy = 0.3, 0.3
    _deck(ax, stack_x, stack_y, stack_w, stack_h, cards, [_U_COLOR] * L + [_V_COLOR] * L,
          dx=sdx, dy=sdy, cmap=_FLOW_CMAP, norm=_flow_norm(bound))
    back_x = stack_x + (2 * L - 1) * sdx + stack_w
    back_y = stack_y + (2 * L - 1) * sdy + stack_h
    ax.text(stack_x + stack_w / 2, stack_y - 0.5, "u0 (front)", ha="center", va="top",
            fontsize=10, color=_U_COLOR, weight="bold")
    ax.text(back_x + 0.3, back_y - 0.3, f"v{L - 1}\n(back)", ha="left", va="top", fontsize=10,
            color=_V_COLOR, weight="bold")
    ax.text((stack_x + back_x) / 2, back_y + 2.3, f"stack of {2 * L} channels", ha="center",
            va="bottom", fontsize=11, color=_MOTION, weight="bold")
    ax.text((stack_x + back_x) / 2 - 3.0, back_y + 0.6, f"u0..u{L - 1}", ha="right",
            va="bottom", fontsize=10, color=_U_COLOR, weight="bold")
    ax.text((stack_x + back_x) / 2 - 2.8, back_y + 0.6, f", then v0..v{L - 1}", ha="left",
            va="bottom", fontsize=10, color=_V_COLOR, weight="bold")
    _arrow(ax, (flow_right + 0.3, bottom_mid), (stack_x - 0.3, bottom_mid), _MOTION)

    # the CNNs and their softmax
    cnn_x, cnn_w, cnn_h = 53.5, 13.5, 6.4
    sm_x, sm_w, sm_h = 70.5, 8.6, 4.8
    for mid, name, color in ((top_mid, "spatial", _SPATIAL), (bottom_mid, "temporal", _MOTION)):
        _box(ax, cnn_x, mid - cnn_h / 2, cnn_w, cnn_h, f"{name} stream CNN\n(Xception)", color,
             fontsize=11.5, weight="bold")
        _box(ax, sm_x, mid - sm_h / 2, sm_w, sm_h, f"softmax\n{num_classes} class scores",
             color)
        _arrow(ax, (cnn_x + cnn_w + 0.5, mid), (sm_x - 0.5, mid), color)
    _arrow(ax, (x_in + card_w + 0.3, top_mid), (cnn_x - 0.5, top_mid), _SPATIAL,
           f"resize, /255\n{h_in}x{w_in}x3")
    _arrow(ax, (back_x + 0.4, bottom_mid), (cnn_x - 0.5, bottom_mid), _MOTION,
           f"resize, /255\n{h_in}x{w_in}x{2 * L}")

    # late fusion and the answer
    fuse_x, fuse_w, fuse_h = 82.6, 8.6, 6.4
    mid = (top_mid + bottom_mid) / 2
    _box(ax, fuse_x, mid - fuse_h / 2, fuse_w, fuse_h, f"late fusion\n({fusion})", _FUSED,
         fontsize=11.5, weight="bold")
    _arrow(ax, (sm_x + sm_w + 0.5, top_mid), (fuse_x + fuse_w / 2, mid + fuse_h / 2 + 0.5),
           _SPATIAL, rad=-0.3)
    _arrow(ax, (sm_x + sm_w + 0.5, bottom_mid), (fuse_x + fuse_w / 2, mid - fuse_h / 2 - 0.5),
           _MOTION, rad=0.3)
    _box(ax, 93.8, mid - sm_h / 2, 5.6, sm_h, "class\nscores", _FUSED, weight="bold")
    _arrow(ax, (fuse_x + fuse_w + 0.5, mid), (93.3, mid), _FUSED)
    ax.text(50, 1.0, "The spatial stream sees what is in one frame (appearance); the temporal "
            f"stream sees how the pixels move over {L} frames (motion).", ha="center",
            va="center", fontsize=11, style="italic", color="#333333")
    return fig
