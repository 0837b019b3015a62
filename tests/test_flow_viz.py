"""Flow pictures: colour wheel directions, magnitude, and drawing into given Axes."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from twostream_lab.flow import compute_flow, quantize_flow  # noqa: E402
from twostream_lab.pictures.flow_viz import (  # noqa: E402
    color_wheel,
    flow_magnitude,
    flow_to_rgb,
    show_flow_color,
    show_flow_component,
    show_flow_magnitude,
)


@pytest.fixture
def axes():
    fig, axes = plt.subplots(1, 3)
    yield axes
    plt.close(fig)


def uniform(dx: float, dy: float, shape=(6, 8)):
    return np.full(shape, dx, np.float32), np.full(shape, dy, np.float32)


@pytest.mark.parametrize(
    "dx, dy, rgb",
    [
        (5, 0, (255, 0, 0)),  # right: red
        (-5, 0, (0, 255, 255)),  # left: cyan
        (0, 5, (128, 255, 0)),  # down (image y grows downwards): yellow-green
        (0, -5, (128, 0, 255)),  # up: violet
    ],
)
def test_flow_to_rgb_hue_is_the_direction(dx, dy, rgb):
    image = flow_to_rgb(*uniform(dx, dy))
    assert image.shape == (6, 8, 3) and image.dtype == np.uint8
    np.testing.assert_allclose(image[0, 0], rgb, atol=3)


def test_flow_to_rgb_brightness_is_the_speed():
    u = np.array([[0.0, 1.0, 2.0, 4.0]], np.float32)
    v = np.zeros_like(u)
    np.testing.assert_array_equal(flow_to_rgb(u, v, max_magnitude=4.0)[0, :, 0], [0, 64, 128, 255])
    assert flow_to_rgb(u, v)[0, -1, 0] == 255, "by default the 99th percentile is full brightness"
    with pytest.raises(ValueError, match="max_magnitude"):
        flow_to_rgb(u, v, max_magnitude=0)


def test_quantised_still_flow_stays_dark():
    u = v = np.full((4, 4), 128, np.uint8)  # zero flow after quantize_flow
    assert flow_to_rgb(u, v).max() < 30
    levels = quantize_flow(np.full((4, 4), 3.0))
    np.testing.assert_allclose(flow_magnitude(levels, levels), 3 * np.sqrt(2), atol=0.2)


def test_color_wheel_is_the_legend():
    wheel = color_wheel(33)
    assert wheel.shape == (33, 33, 3)
    np.testing.assert_array_equal(wheel[0, 0], [255, 255, 255])  # outside the circle
    np.testing.assert_allclose(wheel[16, 32], [255, 0, 0], atol=3)  # right edge: red
    np.testing.assert_array_equal(wheel[16, 16], [0, 0, 0])  # centre: no motion


def test_flow_magnitude():
    np.testing.assert_allclose(flow_magnitude(*uniform(3, -4)), 5.0)


def test_show_functions_draw_into_the_given_axes(axes):
    flow = compute_flow(np.random.default_rng(0).integers(0, 256, (3, 32, 40, 3), np.uint8),
                        method="dis", cache=False, progress=False, return_raw=True)
    image = show_flow_component(axes[0], flow.u[0], title="u", colorbar=True)
    assert image.get_cmap().name == "inferno" and image.get_clim() == (0.0, 255.0)
    assert axes[0].get_title() == "u" and not axes[0].axison
    assert show_flow_component(axes[0], flow.raw[0, ..., 0]).get_clim() == (-20.0, 20.0)

    image = show_flow_color(axes[1], flow.u[0], flow.v[0], title="colour")
    assert image.get_array().shape == (32, 40, 3)
    assert len(axes[1].child_axes) == 1, "the colour wheel legend"
    show_flow_color(axes[1], flow.raw[0, ..., 0], flow.raw[0, ..., 1], wheel=False)

    image = show_flow_magnitude(axes[2], flow.u[0], flow.v[0], vmax=5.0, colorbar=True)
    assert image.get_clim() == (0.0, 5.0)
    assert len(axes[2].figure.axes) == 5, "three panels and two colour bars"
    axes[0].figure.canvas.draw()
