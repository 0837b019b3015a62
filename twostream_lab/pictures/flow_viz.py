"""Pictures of optical flow: u and v as images, a colour-wheel rendering, and the magnitude.

Every ``show_*`` function draws into a matplotlib ``Axes`` that you pass, and returns the image
artist, so figures are composed by the caller::

    fig, axes = plt.subplots(1, 3, figsize=(12, 3))
    show_flow_component(axes[0], flow.u[0], title="u")
    show_flow_color(axes[1], flow.u[0], flow.v[0])
    show_flow_magnitude(axes[2], flow.u[0], flow.v[0], colorbar=True)

Flow can be given quantised (uint8 levels, as in ``Flow.u``/``Flow.v``; converted back to
pixels with the ``bound`` it was quantised with) or raw (float pixels, ``Flow.raw[..., 0]``).
"""

from __future__ import annotations

import numpy as np

from twostream_lab.checks import positive_number
from twostream_lab.flow import dequantize_flow

__all__ = [
    "color_wheel",
    "flow_magnitude",
    "flow_to_rgb",
    "show_flow_color",
    "show_flow_component",
    "show_flow_magnitude",
]


def _pixels(component: np.ndarray, bound: float) -> np.ndarray:
    """Flow in pixels from uint8 levels (0..255 -> -bound..bound) or float pixels."""
    component = np.asarray(component)
    if component.dtype == np.uint8:
        # level 127.5 is zero flow; 128 (how quantize_flow stores 0) is +bound/255 px
        return dequantize_flow(component, bound=bound)
    return component.astype(np.float32, copy=False)


def flow_magnitude(u: np.ndarray, v: np.ndarray, *, bound: float = 20) -> np.ndarray:
    """Length of the flow vectors in pixels, float32 ``(H, W)``.

    Examples
    --------
    >>> flow_magnitude(np.array([[3.0]]), np.array([[4.0]]))
    array([[5.]], dtype=float32)
    """
    return np.hypot(_pixels(u, bound), _pixels(v, bound)).astype(np.float32)


def flow_to_rgb(
    u: np.ndarray, v: np.ndarray, *, bound: float = 20, max_magnitude: float | None = None
) -> np.ndarray:
    """Colour-wheel (HSV) picture of a flow field: hue = direction, brightness = speed.

    Motion to the right is red, down (image y grows downwards) yellow-green, left cyan, up
    violet; see :func:`color_wheel`. Brightness is ``magnitude / max_magnitude`` clipped to 1.

    Parameters
    ----------
    u, v : ndarray (H, W)
        Quantised uint8 levels or float pixels.
    bound : float
        The quantisation bound of uint8 input.
    max_magnitude : float, optional
        Magnitude (px) shown at full brightness. By default the frame's 99th percentile, but at
        least 1 px, so that a still frame stays dark; pass a number to compare frames.

    Returns
    -------
    ndarray of uint8, shape (H, W, 3), RGB

    Examples
    --------
    >>> rgb = flow_to_rgb(np.full((2, 2), 5.0), np.zeros((2, 2)))  # 5 px to the right
    >>> rgb[0, 0].tolist()
    [255, 0, 0]
    """
    import cv2

    dx, dy = _pixels(u, bound), _pixels(v, bound)
    magnitude, angle = cv2.cartToPolar(dx, dy, angleInDegrees=True)
    if max_magnitude is None:
        max_magnitude = max(1.0, float(np.percentile(magnitude, 99)))
    else:
        max_magnitude = positive_number(max_magnitude, "max_magnitude", unit="pixels")
    hsv = np.empty((*dx.shape, 3), np.uint8)
    hsv[..., 0] = np.rint(angle / 2) % 180  # OpenCV's uint8 hue is degrees / 2
    hsv[..., 1] = 255
    hsv[..., 2] = np.rint(np.clip(magnitude / max_magnitude, 0, 1) * 255)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)


def color_wheel(size: int = 65) -> np.ndarray:
    """The legend of :func:`flow_to_rgb`: flow ``(x, y)`` drawn at each pixel, RGB uint8.

    Outside the unit circle is white.

    Examples
    --------
    >>> color_wheel(33).shape
    (33, 33, 3)
    """
    r = np.linspace(-1, 1, size, dtype=np.float32)
    x, y = np.meshgrid(r, r)
    wheel = flow_to_rgb(x, y, max_magnitude=1.0)
    wheel[np.hypot(x, y) > 1] = 255
    return wheel


def _finish(ax, image, title: str | None, colorbar: bool, label: str | None = None):
    ax.set_axis_off()
    if title is not None:
        ax.set_title(title)
    if colorbar:
        bar = ax.figure.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
        if label:
            bar.set_label(label)
    return image


def show_flow_component(
    ax,
    frame: np.ndarray,
    *,
    title: str | None = None,
    bound: float = 20,
    cmap: str = "inferno",
    colorbar: bool = False,
):
    """Draw one flow component (u or v) as an image with the inferno colormap, as the tutorial.

    The colour scale is fixed (levels 0..255, or ``-bound..bound`` px for float input), so that
    the middle colour always means "no motion" and frames can be compared; the tutorial let
    matplotlib stretch every frame to its own range.

    Returns
    -------
    matplotlib.image.AxesImage

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> show_flow_component(ax, np.full((4, 6), 128, np.uint8), title="u").get_clim()
    (0.0, 255.0)
    >>> plt.close(fig)
    """
    frame = np.asarray(frame)
    limits = (0, 255) if frame.dtype == np.uint8 else (-bound, bound)
    image = ax.imshow(frame, cmap=cmap, vmin=limits[0], vmax=limits[1])
    return _finish(ax, image, title, colorbar, "level" if frame.dtype == np.uint8 else "px")


def show_flow_color(
    ax,
    u: np.ndarray,
    v: np.ndarray,
    *,
    bound: float = 20,
    max_magnitude: float | None = None,
    title: str | None = None,
    wheel: bool = True,
):
    """Draw the colour-wheel picture of a flow field (:func:`flow_to_rgb`), with its legend.

    Returns
    -------
    matplotlib.image.AxesImage

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> _ = show_flow_color(ax, np.zeros((8, 8)), np.ones((8, 8)), title="flow")
    >>> plt.close(fig)
    """
    image = ax.imshow(flow_to_rgb(u, v, bound=bound, max_magnitude=max_magnitude))
    if wheel:
        inset = ax.inset_axes([0.78, 0.02, 0.2, 0.2])
        inset.imshow(color_wheel())
        inset.set_axis_off()
    return _finish(ax, image, title, False)


def show_flow_magnitude(
    ax,
    u: np.ndarray,
    v: np.ndarray,
    *,
    bound: float = 20,
    vmax: float | None = None,
    title: str | None = None,
    cmap: str = "magma",
    colorbar: bool = False,
):
    """Draw the flow magnitude in pixels (:func:`flow_magnitude`).

    ``vmax`` fixes the top of the colour scale (by default the frame's maximum, at least 1 px).

    Returns
    -------
    matplotlib.image.AxesImage

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> show_flow_magnitude(ax, np.zeros((4, 4)), np.full((4, 4), 2.0)).get_clim()
    (0.0, 2.0)
    >>> plt.close(fig)
    """
    magnitude = flow_magnitude(u, v, bound=bound)
    top = vmax if vmax is not None else max(1.0, float(magnitude.max()))
    image = ax.imshow(magnitude, cmap=cmap, vmin=0.0, vmax=top)
    return _finish(ax, image, title, colorbar, "px")
