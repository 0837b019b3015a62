"""Top-k bar charts and the tutorial's six-panel frame figure."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import cv2  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from twostream_lab.flow import Flow  # noqa: E402
from twostream_lab.pictures.plotting import FrameLayout, frame_figure, plot_top_k  # noqa: E402
from twostream_lab.video import Video  # noqa: E402

CLASSES = ("climb", "dive", "jump", "run", "swim", "walk")


@pytest.fixture(scope="module")
def clip(make_scored_clip):
    return make_scored_clip(14, CLASSES)


def test_plot_top_k_writes_names_inside_bars_on_a_0_1_axis():
    fig, ax = plt.subplots()
    scores = np.array([0.05, 0.4, 0.1, 0.3, 0.1, 0.05])
    bars = plot_top_k(ax, scores, CLASSES, k=5, title="spatial stream")
    assert [round(b.get_width(), 2) for b in bars] == [0.4, 0.3, 0.1, 0.1, 0.05]
    assert bars[0].get_y() > bars[-1].get_y()  # best on top
    names, values = ax.texts[:5], ax.texts[5:]
    assert [t.get_text() for t in names] == ["dive", "run", "jump", "swim", "climb"]
    assert [t.get_text() for t in values] == ["0.40", "0.30", "0.10", "0.10", "0.05"]
    for bar, name, value in zip(bars, names, values, strict=True):  # each on its own bar's row
        assert bar.get_y() <= name.get_position()[1] <= bar.get_y() + bar.get_height()
        assert name.get_position()[1] == value.get_position()[1]
        assert name.get_position()[0] < bar.get_width()  # the name starts inside the bar
    assert ax.get_xlim() == (0, 1) and ax.get_title() == "spatial stream"
    plt.close(fig)


def test_plot_top_k_with_fewer_classes_than_k():
    fig, ax = plt.subplots()
    bars = plot_top_k(ax, np.array([0.25, 0.75]), ["a", "b"], k=5)
    assert [b.get_width() for b in bars] == [0.75, 0.25, 0, 0, 0]
    assert [t.get_text() for t in ax.texts] == ["b", "a", "", "", "", "0.75", "0.25", "", "", ""]
    plt.close(fig)


def test_frame_figure_has_the_tutorials_six_panels(clip):
    video, flow, prediction = clip
    fig = frame_figure(video, flow, prediction, 3)
    try:
        assert tuple(fig.get_size_inches()) == (16, 12)
        assert fig._suptitle.get_text() == "Prediction for clip.mp4"
        (headline,) = (t for t in fig.texts if t is not fig._suptitle)
        lines = headline.get_text().splitlines()
        assert len(lines) == 3
        for line, stream in zip(lines, ("spatial", "motion", "fused"), strict=True):
            assert prediction.top_k(1, stream)[0][0] in line
        assert lines[0].startswith("Spatial") and lines[1].startswith("Motion")
        assert lines[2].startswith("Both")
        axes = fig.axes
        assert len(axes) == 6
        rgb, u, v = (ax.images[0] for ax in axes[:3])
        np.testing.assert_array_equal(rgb.get_array(), video.frames[3])
        np.testing.assert_array_equal(u.get_array(), flow.u[3])
        np.testing.assert_array_equal(v.get_array(), flow.v[3])
        assert u.get_cmap().name == v.get_cmap().name == "inferno"
        for ax, stream in zip(axes[3:], ("spatial", "motion", "fused"), strict=True):
            best = prediction.top_k(1, stream, frame=3)[0]
            assert ax.texts[0].get_text() == best[0]
            assert ax.texts[5].get_text() == f"{best[1]:.2f}"
    finally:
        plt.close(fig)


def test_blitted_render_matches_a_full_draw(clip):
    _, _, prediction = clip
    # Smooth images, so that resampling them two ways gives nearly the same pixels.
    y, x = np.mgrid[0:24, 0:40]
    ramp = (x * 6 + y * 2 + np.arange(14)[:, None, None]).astype(np.uint8)
    frames = np.stack([ramp, ramp[:, ::-1], 255 - ramp], axis=-1)
    video = Video.from_frames(frames, name="clip.mp4")
    flow = Flow(u=ramp[:-1], v=ramp[:-1, ::-1].copy(), method="test", bound=20.0)
    fig = Figure(figsize=(16, 12), dpi=30)
    FigureCanvasAgg(fig)
    layout = FrameLayout(fig, video, flow, prediction, blit=True)
    layout.render(0)
    blitted = layout.render(2).copy()
    full = frame_figure(video, flow, prediction, 2, dpi=30)
    full.canvas.draw()
    reference = np.asarray(full.canvas.buffer_rgba()).astype(int)
    plt.close(full)
    height = blitted.shape[0]
    outside_images = np.ones(blitted.shape[:2], bool)
    lut = matplotlib.colormaps["inferno"](np.arange(256), bytes=True)
    for image, source in zip(layout.images, (video.frames[2], flow.u[2], flow.v[2]), strict=True):
        x0, y0, x1, y1 = image.axes.get_window_extent().extents
        rows, cols = slice(round(height - y1), round(height - y0)), slice(round(x0), round(x1))
        outside_images[rows.start - 1 : rows.stop + 1, cols.start - 1 : cols.stop + 1] = False
        # Inside: the frame resized to its on-screen box, colour-mapped like imshow's inferno.
        small = cv2.resize(source, (cols.stop - cols.start, rows.stop - rows.start),
                           interpolation=cv2.INTER_AREA)
        expected = small if small.ndim == 3 else lut[small][..., :3]
        np.testing.assert_array_equal(blitted[rows, cols, :3], expected)
        assert np.abs(blitted[rows, cols] - reference[rows, cols]).mean() < 2
    # Titles, axes, bars and labels: pixel for pixel those of a full draw.
    np.testing.assert_array_equal(blitted[outside_images], reference[outside_images])
    with pytest.raises(RuntimeError, match="blit=True"):
        FrameLayout(Figure(), video, flow, prediction).render(0)


def test_frame_without_a_stack_is_refused(clip):
    video, flow, prediction = clip
    before = plt.get_fignums()
    with pytest.raises(ValueError, match="no fused prediction"):
        frame_figure(video, flow, prediction, 4)
    partial = Flow(u=flow.u[2:], v=flow.v[2:], method="test", bound=20.0, start=2)
    with pytest.raises(ValueError, match="does not contain flow frame 1"):
        frame_figure(video, partial, prediction, 1)
    assert plt.get_fignums() == before  # no figure left behind
