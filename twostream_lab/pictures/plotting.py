"""Figures of a prediction: top-k bar charts and the tutorial's six-panel frame figure.

The frame figure (16 x 12 inches, as in the tutorial): the title ``"Prediction for {video}"``,
three lines naming the video-level prediction of the spatial stream, the motion stream and both;
a top row with the RGB frame, its horizontal flow ``u`` and vertical flow ``v`` (``inferno``), and a
bottom row with the top-5 bar charts of the spatial stream, the motion stream and both for that
frame (class names written inside the bars, scores on a 0..1 axis).

:class:`FrameLayout` builds that figure once and redraws only what changes from frame to frame;
:func:`twostream_lab.pictures.render.render_demo_video` uses it to write the demo video.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from twostream_lab.fusion import top_k_indices

__all__ = ["FIGSIZE", "FLOW_CMAP", "plot_top_k", "frame_figure", "FrameLayout", "TopKChart"]

#: The tutorial's figure size in inches.
FIGSIZE = (16, 12)

#: Colour map of the u and v flow frames (the tutorial's).
FLOW_CMAP = "inferno"

_BAR_COLOR = "#9ecae1"


class TopKChart:
    """A horizontal top-k bar chart in ``ax`` whose bars and labels can be updated in place.

    Bars run best first from the top; each class name is written inside its bar and its score
    at the right end of its row, and the score axis is fixed to 0..1. (Names and scores are
    separate texts so that a redraw finds most of them in matplotlib's text-size cache.)

    Examples
    --------
    >>> import matplotlib.figure
    >>> ax = matplotlib.figure.Figure().add_subplot()
    >>> chart = TopKChart(ax, k=2, title="spatial")
    >>> chart.update(np.array([0.1, 0.7, 0.2]), ["a", "b", "c"])
    >>> [(n.get_text(), s.get_text()) for n, s in zip(chart.labels, chart.values)]
    [('b', '0.70'), ('c', '0.20')]
    """

    def __init__(self, ax, k: int = 5, title: str | None = None):
        self.ax = ax
        self.k = int(k)
        positions = np.arange(self.k)[::-1]  # best on top
        self.bars = ax.barh(positions, np.zeros(self.k), height=0.8, color=_BAR_COLOR)
        self.labels = [
            ax.text(0.01, y, "", va="center", ha="left", fontsize=12, clip_on=True)
            for y in positions
        ]
        self.values = [
            ax.text(0.99, y, "", va="center", ha="right", fontsize=12, clip_on=True)
            for y in positions
        ]
        ax.set_xlim(0, 1)
        ax.set_ylim(-0.5, self.k - 0.5)
        ax.set_yticks([])
        ax.set_xlabel("score")
        if title is not None:
            ax.set_title(title, fontsize=14)

    @property
    def artists(self) -> list:
        """The artists :meth:`update` changes, and the spines drawn over the bars, in draw order."""
        spines = [self.ax.spines["left"], self.ax.spines["right"]]  # the ones bars can touch
        return [*self.bars.patches, *spines, *self.labels, *self.values]

    def update(self, scores: np.ndarray, class_names: Sequence[str]) -> None:
        """Show the ``k`` best classes of ``scores`` (ties: lower class index first)."""
        scores = np.asarray(scores)
        if len(class_names) != scores.shape[-1]:
            raise ValueError(
                f"got {len(class_names)} class names for {scores.shape[-1]} scores; "
                "pass the class names that belong to the models"
            )
        best = top_k_indices(scores, min(self.k, len(scores)))
        rows = zip(self.bars.patches, self.labels, self.values, strict=True)
        for slot, (bar, label, value) in enumerate(rows):
            if slot < len(best):
                i = best[slot]
                bar.set_width(float(np.clip(scores[i], 0, 1)))
                label.set_text(class_names[i])
                value.set_text(f"{scores[i]:.2f}")
            else:
                bar.set_width(0)
                label.set_text("")
                value.set_text("")


def plot_top_k(ax, scores, class_names: Sequence[str], k: int = 5, title: str | None = None):
    """Draw the top-``k`` classes of ``scores`` as horizontal bars into ``ax``.

    Class names are written inside the bars, scores at the right; the score axis is 0..1.

    Parameters
    ----------
    ax : matplotlib Axes
    scores : array (C,)
        One score per class (softmax or fused).
    class_names : sequence of C str
    k : int
    title : str, optional

    Returns
    -------
    matplotlib.container.BarContainer

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> bars = plot_top_k(ax, np.array([0.1, 0.7, 0.2]), ["a", "b", "c"], k=2)
    >>> [round(b.get_width(), 2) for b in bars]
    [0.7, 0.2]
    >>> plt.close(fig)
    """
    chart = TopKChart(ax, k, title)
    chart.update(scores, class_names)
    return chart.bars


def _headline(prediction, stream: str) -> str:
    name, score = prediction.top_k(1, stream)[0]
    what = {
        "spatial": "Spatial stream",
        "motion": "Motion stream",
        "fused": f"Both streams ({prediction.fusion})",
    }[stream]
    return f"{what}: {name} ({score:.2f})"


class FrameLayout:
    """The six-panel frame figure, built once into ``fig`` and updated frame by frame.

    :meth:`show` puts a frame's full-resolution images and scores into the figure (for a normal
    draw, as :func:`frame_figure` does). :meth:`render` is the fast path of the demo video: the
    static parts (titles, axes, ticks) are drawn once; per frame the saved background is
    restored, the three images are resized to their on-screen pixel boxes (``cv2.INTER_AREA``),
    colour-mapped with a lookup table and written straight into the canvas, and only the panel
    titles, the bars and their labels are redrawn.

    Parameters
    ----------
    fig : matplotlib Figure
        An empty figure (16 x 12 inches in the tutorial).
    video : Video
    flow : Flow
        The video's quantised flow; must cover the frames shown.
    prediction : Prediction
    blit : bool
        Prepare for :meth:`render` (marks the changing artists animated).

    Examples
    --------
    >>> layout = FrameLayout(fig, video, flow, prediction)  # doctest: +SKIP
    >>> layout.show(prediction.fused_indices[0])             # doctest: +SKIP
    """

    def __init__(self, fig, video, flow, prediction, *, blit: bool = False):
        self.fig = fig
        self.video = video
        self.flow = flow
        self.prediction = prediction
        self.blit = blit
        self._offset = flow.start
        self._background = None
        self._image_boxes: list[tuple[slice, slice]] = []  # (rows, columns) in the canvas

        fig.suptitle(f"Prediction for {prediction.video_name}", fontsize=22, y=0.985)
        lines = "\n".join(_headline(prediction, s) for s in ("spatial", "motion", "fused"))
        self.headline = fig.text(
            0.5, 0.945, lines, ha="center", va="top", fontsize=15, linespacing=1.5
        )
        grid = fig.add_gridspec(
            2, 3, left=0.03, right=0.97, top=0.82, bottom=0.05, hspace=0.25, wspace=0.12
        )
        h, w = video.height, video.width
        fh, fw = np.asarray(flow.u).shape[1:]
        self.axes_rgb = fig.add_subplot(grid[0, 0])
        self.axes_u = fig.add_subplot(grid[0, 1])
        self.axes_v = fig.add_subplot(grid[0, 2])
        self.image_rgb = self.axes_rgb.imshow(np.zeros((h, w, 3), np.uint8))
        self.image_u = self.axes_u.imshow(
            np.zeros((fh, fw), np.uint8), cmap=FLOW_CMAP, vmin=0, vmax=255
        )
        self.image_v = self.axes_v.imshow(
            np.zeros((fh, fw), np.uint8), cmap=FLOW_CMAP, vmin=0, vmax=255
        )
        for ax in (self.axes_rgb, self.axes_u, self.axes_v):
            ax.set_axis_off()
        self.title_rgb = self.axes_rgb.set_title("RGB frame", fontsize=14)
        self.title_u = self.axes_u.set_title("horizontal flow u", fontsize=14)
        self.title_v = self.axes_v.set_title("vertical flow v", fontsize=14)
        self.charts = {
            "spatial": TopKChart(fig.add_subplot(grid[1, 0]), 5, "spatial stream"),
            "motion": TopKChart(fig.add_subplot(grid[1, 1]), 5, "motion stream"),
            "fused": TopKChart(
                fig.add_subplot(grid[1, 2]), 5, f"both streams ({prediction.fusion})"
            ),
        }
        self.images = [self.image_rgb, self.image_u, self.image_v]
        self.animated = [
            *self.images, self.title_rgb, self.title_u, self.title_v,
            *(a for chart in self.charts.values() for a in chart.artists),
        ]
        self._redrawn = self.animated[len(self.images):]  # render() writes the images itself
        if blit:
            for artist in self.animated:
                artist.set_animated(True)

    def _flow_index(self, index: int) -> int:
        p = self.prediction
        if not np.any(p.motion_indices == index):
            raise ValueError(
                f"frame {index} has no fused prediction; the prediction covers frames "
                f"{p.motion_indices[0]}..{p.motion_indices[-1]} ({len(p.motion_indices)} stacks)"
            )
        j = index - self._offset
        if not 0 <= j < len(self.flow.u):
            raise ValueError(
                f"the flow (flow frames {self._offset}..{self._offset + len(self.flow.u) - 1}) "
                f"does not contain flow frame {index}; pass the flow used for the prediction"
            )
        return j

    def _update_scores(self, index: int) -> None:
        p = self.prediction
        self.title_rgb.set_text(f"RGB frame {index}")
        self.title_u.set_text(f"horizontal flow u, frame {index}")
        self.title_v.set_text(f"vertical flow v, frame {index}")
        for stream, chart in self.charts.items():
            chart.update(p.scores(stream, frame=index), p.class_names)

    def show(self, index: int) -> None:
        """Show video frame ``index`` and the stack starting at flow frame ``index``, full size."""
        index = int(index)
        j = self._flow_index(index)
        self.image_rgb.set_data(self.video.frames[index])
        self.image_u.set_data(self.flow.u[j])
        self.image_v.set_data(self.flow.v[j])
        self._update_scores(index)

    def render(self, index: int) -> np.ndarray:
        """RGBA pixels ``(H, W, 4)`` of the figure for frame ``index``, redrawing only what changes.

        Needs ``blit=True`` and an Agg canvas. The returned array is the canvas's buffer: copy it
        before the next call.
        """
        import cv2

        if not self.blit:
            raise RuntimeError("render() needs a FrameLayout made with blit=True")
        index = int(index)
        j = self._flow_index(index)
        canvas = self.fig.canvas
        if self._background is None:
            canvas.draw()  # lays out the axes (image aspect) and draws the static parts
            self._background = canvas.copy_from_bbox(self.fig.bbox)
            height = canvas.get_width_height()[1]
            for image in self.images:
                x0, y0, x1, y1 = image.axes.get_window_extent().extents
                rows = slice(round(height - y1), round(height - y0))
                self._image_boxes.append((rows, slice(round(x0), round(x1))))
        canvas.restore_region(self._background)
        pixels = np.asarray(canvas.buffer_rgba())
        lut = _flow_lut()
        sources = (self.video.frames[index], self.flow.u[j], self.flow.v[j])
        for source, (rows, cols) in zip(sources, self._image_boxes, strict=True):
            size = (cols.stop - cols.start, rows.stop - rows.start)
            small = cv2.resize(source, size, interpolation=cv2.INTER_AREA)
            pixels[rows, cols] = cv2.cvtColor(small, cv2.COLOR_RGB2RGBA) if small.ndim == 3 \
                else lut[small]
        self._update_scores(index)
        for artist in self._redrawn:
            self.fig.draw_artist(artist)
        return pixels


def _flow_lut() -> np.ndarray:
    """uint8 RGBA of the flow colour map for each of the 256 quantised flow levels."""
    from matplotlib import colormaps

    return colormaps[FLOW_CMAP](np.arange(256), bytes=True)


def frame_figure(video, flow, prediction, index: int, *, figsize=FIGSIZE, dpi: float | None = None):
    """The tutorial's six-panel figure for video frame ``index`` (a pyplot figure).

    Parameters
    ----------
    video : Video
    flow : Flow
        The video's quantised flow.
    prediction : Prediction
        From :func:`twostream_lab.predict_video`; ``index`` must be one of its
        ``fused_indices`` (every stack start for ``sampling="all"``).
    index : int
        Video frame, paired with the motion stack starting at flow frame ``index``.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = frame_figure(video, flow, prediction, 0)  # doctest: +SKIP
    """
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=figsize, dpi=dpi)
    try:
        FrameLayout(fig, video, flow, prediction).show(index)
    except Exception:
        plt.close(fig)
        raise
    return fig
