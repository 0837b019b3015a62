"""Notebook widgets: a video picker and a frame-by-frame explorer (user interface only).

The two widgets work in Jupyter, JupyterLab and Colab with ipywidgets, and degrade to plain
output where widgets cannot render (a script, a terminal, a static notebook viewer,
``TWOSTREAM_LAB_WIDGETS=0``): the picker then prints the video it chose and how to choose
another, the explorer prints the frame it shows and draws that one frame as a static figure.

:func:`video_picker`
    The sample videos found in the data folder (:func:`twostream_lab.data.samples.available_samples`),
    optionally the synthetic action clips of the offline lab, an upload of the student's own file,
    an http(s) URL field and, in Colab, a webcam recording (:mod:`twostream_lab.notebook.webcam`).
    It starts on the first video, or on a random one with ``seed=``, which ``picker.reroll()``
    re-rolls. ``picker.source`` is what the next cells read, ``picker.read()`` reads it.
:func:`frame_explorer`
    A slider over the frames that both streams scored, drawing the tutorial's six panels
    (:func:`twostream_lab.pictures.plotting.frame_figure`): the RGB frame, u and v, and the top-5 bars of
    the spatial stream, the motion stream and their fusion for that frame.

Both are displayed as a MIME bundle that holds the live widget and a static copy of what it showed
when the cell ran (the frame as PNG, the picker's choice as text): a viewer without the widget
manager (GitHub, nbviewer, an instructor's static export of a Colab download) shows the copy
instead of ``VBox(children=(...``. Later moves of the slider are not in the copy.
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Sequence
from pathlib import Path

__all__ = [
    "START_POOLS",
    "SYNTHETIC_PREFIX",
    "WIDGETS_ENV",
    "FrameExplorer",
    "VideoPicker",
    "frame_explorer",
    "video_picker",
    "widgets_available",
]

#: Set this environment variable to 0 / false / no / off to get the plain output everywhere.
WIDGETS_ENV = "TWOSTREAM_LAB_WIDGETS"

#: A picker source that starts with this names a synthetic clip of that class, e.g.
#: ``"synthetic:red moving up-left"``; it is generated, not read from disk.
SYNTHETIC_PREFIX = "synthetic:"

#: The pools a picker's first video (and its re-rolls) can come from: ``start_with=`` values.
START_POOLS = ("samples", "synthetic")

_OFF = {"0", "false", "no", "off"}


def widgets_available() -> tuple[bool, str]:
    """Return whether interactive widgets can render here, and the reason when they cannot.

    Widgets need ipywidgets and a running Jupyter kernel (a notebook or Colab), and are switched
    off by ``TWOSTREAM_LAB_WIDGETS=0``.

    Examples
    --------
    >>> ok, reason = widgets_available()
    >>> ok or bool(reason)
    True
    """
    if os.environ.get(WIDGETS_ENV, "").strip().lower() in _OFF:
        return False, f"switched off by {WIDGETS_ENV}={os.environ[WIDGETS_ENV]}"
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        return False, "ipywidgets is not installed (pip install ipywidgets)"
    try:
        from IPython import get_ipython
    except ImportError:
        return False, "not running in IPython"
    shell = get_ipython()
    if shell is None or getattr(shell, "kernel", None) is None:
        return False, "not running in a Jupyter kernel"
    return True, ""


def _use_widgets(use_widgets: bool | None) -> tuple[bool, str]:
    if use_widgets is None:
        return widgets_available()
    if use_widgets:
        return True, ""
    return False, "use_widgets=False"


def _widget_bundle(widget, fallbacks: dict[str, str]) -> dict:
    """The widget's MIME bundle plus static ``fallbacks``: a frontend with the widget manager shows
    the live widget, a static viewer (or a notebook saved without widget state) a fallback."""
    view = {"version_major": 2, "version_minor": 0, "model_id": widget.model_id}
    return {"application/vnd.jupyter.widget-view+json": view, **fallbacks}


def _describe(source: Path | str | None) -> str:
    if source is None:
        return "nothing yet"
    if isinstance(source, Path):
        return source.name
    if source.startswith(SYNTHETIC_PREFIX):
        return f"synthetic clip of class {source[len(SYNTHETIC_PREFIX):]!r}"
    return source


class VideoPicker:
    """Choose the video the next cells use: a sample, a synthetic clip, an upload or a URL.

    Use :func:`video_picker` to make one. ``source`` is a :class:`~pathlib.Path` (a sample or an
    uploaded file), an ``http(s)://`` URL, ``"synthetic:<class>"`` or None (nothing found yet).

    Parameters
    ----------
    samples : sequence of Path
        The video files offered in the list.
    synthetic_classes : sequence of str
        Synthetic action classes offered in the list as ``"synthetic:<class>"``.
    default : str or Path, optional
        The first choice: a listed file name, a path, a URL or ``"synthetic:<class>"``; it wins
        over ``seed`` and ``start_with``.
    start_with : {"samples", "synthetic"}, optional
        The pool the first video (and :meth:`reroll`) comes from; when it is empty, the other
        one (and ``message`` says so). Default: the synthetic clips if any are offered, else the
        samples.
    seed : int, optional
        None (default): start on the pool's first video. A non-negative integer: start on a
        random one of the pool, the same one for the same seed
        (:func:`~twostream_lab.notebook.exercises.choice.seeded_choice`).
    use_widgets : bool, optional
        None (default) decides with :func:`widgets_available`.
    upload_dir : Path, optional
        Where uploaded files and webcam recordings are written; default ``<cache>/uploads``.

    Attributes
    ----------
    seed : int or None
        The seed of the current random pick: a picker made with this seed starts on it again.
    rerolls : int
        How many times :meth:`reroll` was called.
    pool : str
        The pool :meth:`reroll` draws from, one of :data:`START_POOLS`.
    """

    def __init__(
        self,
        samples: Sequence[Path],
        *,
        synthetic_classes: Sequence[str] = (),
        default: str | Path | None = None,
        start_with: str | None = None,
        seed: int | None = None,
        use_widgets: bool | None = None,
        upload_dir: Path | None = None,
    ) -> None:
        from twostream_lab.notebook.exercises.choice import check_seed

        if start_with is not None and start_with not in START_POOLS:
            raise ValueError(f"start_with must be 'samples', 'synthetic' or None, "
                             f"got {start_with!r}")
        self.seed = check_seed(seed, optional=True)
        self.rerolls = 0
        self.samples = [Path(p) for p in samples]
        self.synthetic_classes = tuple(synthetic_classes)
        self._upload_dir = upload_dir
        self.source: Path | str | None = None
        self._picked: Path | str | None = None  # the last random pick (vs. a select)
        self.message = ""
        self.interactive, self.reason = _use_widgets(use_widgets)
        self.pool, note = self._start_pool(start_with)
        self.widget = self._build_widget() if self.interactive else None
        if default is not None:
            self.select(default)
        elif not self._pool_items():
            self._set(None, "no sample videos found: upload a video, give a URL, "
                            "or download the samples with twostream_lab.download_samples()")
        elif self.seed is None:
            self._set(self._pool_items()[0], note)
        else:
            self._pick(self.seed, note)

    # -- choosing ------------------------------------------------------------------------------
    def _options(self) -> list[tuple[str, str]]:
        options = [(p.name, str(p)) for p in self.samples]
        options += [(f"synthetic: {c}", SYNTHETIC_PREFIX + c) for c in self.synthetic_classes]
        return options

    def _pool_items(self, pool: str | None = None) -> list[Path | str]:
        if (pool or self.pool) == "samples":
            return list(self.samples)
        return [SYNTHETIC_PREFIX + c for c in self.synthetic_classes]

    def _start_pool(self, start_with: str | None) -> tuple[str, str]:
        """The pool to start in, and the note to show when the requested one is empty."""
        wanted = start_with or ("synthetic" if self.synthetic_classes else "samples")
        other = "samples" if wanted == "synthetic" else "synthetic"
        if self._pool_items(wanted) or not self._pool_items(other):
            return wanted, ""
        if wanted == "samples":
            return other, "no sample videos found here: starting on a synthetic clip"
        return other, ("no synthetic clips offered here (make the picker with synthetic=True): "
                       "starting on a sample video")

    def _pick(self, seed: int, message: str) -> Path | str:
        from twostream_lab.notebook.exercises.choice import seeded_choice

        self.seed, self._picked = seed, seeded_choice(self._pool_items(), seed=seed).item
        self._set(self._picked, message)
        return self._picked

    def reroll(self) -> Path | str:
        """Choose another random video of the same pool, and return it (the new ``source``).

        Each re-roll takes the next seed (``seed + 1``, skipping one that picks the current
        video again): a picker made with the new ``picker.seed`` starts on the same video. Without
        a seed, the first re-roll draws a new one.

        Examples
        --------
        >>> picker = video_picker(synthetic=True, seed=7, use_widgets=False)
        >>> first = picker.source
        >>> picker.reroll() != first, picker.seed > 7, picker.rerolls
        (True, True, 1)
        """
        from twostream_lab.notebook.exercises.choice import new_seed, seeded_choice

        items = self._pool_items()
        if not items:
            raise ValueError(f"nothing to re-roll: the picker lists no {self.pool} videos; "
                             "upload a video, give a URL, or run twostream_lab.download_samples() "
                             "and make the picker again")
        seed = new_seed() if self.seed is None else self.seed + 1
        while len(items) > 1 and seeded_choice(items, seed=seed).item == self.source:
            seed += 1
        self.rerolls += 1
        return self._pick(seed, "")

    def select(self, choice: str | Path) -> Path | str:
        """Choose a video: a listed file name, a path, an http(s) URL or ``"synthetic:<class>"``.

        Returns the new ``source``. Raises ValueError (naming the choices) for anything else.

        Examples
        --------
        >>> picker = video_picker(synthetic=True, use_widgets=False)  # doctest: +SKIP
        >>> picker.select("synthetic:" + picker.synthetic_classes[1])  # doctest: +SKIP
        """
        text = str(choice)
        by_name = {p.name: p for p in self.samples}
        if text.startswith(SYNTHETIC_PREFIX):
            label = text[len(SYNTHETIC_PREFIX):].strip()
            if label not in self.synthetic_classes:
                raise ValueError(
                    f"unknown synthetic class {label!r}; choose one of {list(self.synthetic_classes)}"
                    + ("" if self.synthetic_classes else " (make the picker with synthetic=True)")
                )
            source: Path | str = SYNTHETIC_PREFIX + label
        elif re.match(r"^https?://", text):
            source = text
        elif text in by_name:
            source = by_name[text]
        elif Path(text).expanduser().is_file():
            source = Path(text).expanduser()
        else:
            raise ValueError(
                f"cannot use {text!r} as a video: it is not a listed sample "
                f"({', '.join(by_name) or 'none found'}), an existing file, an http(s) URL, "
                f"or '{SYNTHETIC_PREFIX}<class>'"
            )
        self._set(source, "")
        return source

    def _set(self, source: Path | str | None, message: str) -> None:
        self.source = source
        self.message = message
        if self.widget is not None:
            self._sync_widget()

    def _random_pick(self) -> str:
        """How to get the current video again, when it is a random pick; else ''."""
        if self.seed is None or self.source != self._picked:
            return ""
        times = f" (re-rolled {self.rerolls} time{'s' * (self.rerolls > 1)})" if self.rerolls else ""
        return f"random pick with seed {self.seed}{times}"

    def save_upload(self, name: str, content: bytes) -> Path:
        """Write an uploaded file into the upload folder and select it; returns its path."""
        from twostream_lab.notebook.colab import save_upload

        path = save_upload(name, content, self._upload_dir)
        self._set(path, "")
        return path

    def upload(self) -> Path:
        """Ask for a video file from this computer with Colab's uploader, then select it.

        In Colab, run it in a cell of its own (``picker.upload()``): Colab's uploader has no
        size limit, unlike the widget's upload button, which drops files over about 1 MB there.
        Elsewhere, use the picker's upload button or ``picker.select(PATH)``.
        """
        from twostream_lab.notebook.colab import in_colab, upload_video

        if not in_colab():
            raise RuntimeError("picker.upload() uses Colab's uploader; here, use the picker's "
                               "upload button or picker.select(PATH)")
        path = upload_video(self._upload_dir)
        self._set(path, "")
        return path

    def record(self, seconds: float = 4.0) -> Path:
        """Record ``seconds`` of video with the webcam in Colab (see
        :func:`~twostream_lab.notebook.webcam.record_webcam`), then select the recording.

        Examples
        --------
        >>> path = picker.record(5)  # act out an action for 5 seconds  # doctest: +SKIP
        """
        from twostream_lab.notebook.webcam import record_webcam

        path = record_webcam(seconds, folder=self._upload_dir)
        self._set(path, "")
        return path

    def read(self, *, max_frames: int | None = None, short_side: int | None = None, seed: int = 0):
        """Read the chosen video (or generate the chosen synthetic clip) as a :class:`Video`.

        ``max_frames`` and ``short_side`` go to :func:`twostream_lab.video.read_video`; ``seed`` to
        :func:`twostream_lab.offline_lab.synthetic.make_synthetic_clip`.
        """
        if self.source is None:
            raise ValueError(
                "no video chosen: the picker found no sample videos. Upload one, give a URL, "
                "or run twostream_lab.download_samples() and make the picker again"
            )
        if isinstance(self.source, str) and self.source.startswith(SYNTHETIC_PREFIX):
            from twostream_lab.offline_lab.synthetic import make_synthetic_clip

            return make_synthetic_clip(self.source[len(SYNTHETIC_PREFIX):], seed=seed)
        from twostream_lab.video import read_video

        return read_video(self.source, max_frames=max_frames, short_side=short_side)

    # -- showing -------------------------------------------------------------------------------
    def _build_widget(self):
        import ipywidgets as widgets

        self._dropdown = widgets.Dropdown(
            options=self._options(), description="video", layout=widgets.Layout(width="460px")
        )
        self._reroll = widgets.Button(description="another video",
                                      tooltip="a random video of the list: picker.reroll()",
                                      disabled=not self._pool_items())
        self._reroll.on_click(lambda _button: self.reroll())  # disabled when there is none
        from twostream_lab.notebook.colab import in_colab

        colab = in_colab()
        if colab:  # FileUpload drops files over ~1 MB in Colab (ipywidgets#3452)
            # Colab's uploader and the webcam recorder wait for the browser (eval_js), which a
            # widget's click handler cannot do: both run from a cell of their own.
            self._upload = widgets.HTML("to upload a video: <code>picker.upload()</code>; to "
                                        "record one from the webcam: "
                                        "<code>picker.record(seconds=4)</code>, in a new cell")
        else:
            self._upload = widgets.FileUpload(accept="video/*", multiple=False,
                                              description="upload")
            self._upload.observe(self._on_upload, names="value")
        self._url = widgets.Text(placeholder="https://... (a video file)", description="URL",
                                 continuous_update=False, layout=widgets.Layout(width="460px"))
        self._status = widgets.HTML()
        self._syncing = False
        self._dropdown.observe(self._on_dropdown, names="value")
        self._url.observe(self._on_url, names="value")
        sources = [self._upload, self._url]
        return widgets.VBox([widgets.HBox([self._dropdown, self._reroll]), widgets.HBox(sources),
                             self._status])

    def _sync_widget(self) -> None:
        import html

        self._syncing = True
        try:
            values = [value for _, value in self._options()]
            current = str(self.source) if self.source is not None else None
            self._dropdown.value = current if current in values else None
        finally:
            self._syncing = False
        text = f"<b>selected:</b> {html.escape(_describe(self.source))}"
        text += f" ({html.escape(self._random_pick())})" if self._random_pick() else ""
        if self.message:
            text += f"<br><span style='color:#b00'>{html.escape(self.message)}</span>"
        self._status.value = text

    def _on_dropdown(self, change) -> None:
        if not self._syncing and change["new"] is not None:
            self.select(change["new"])

    def _on_upload(self, change) -> None:
        value = change["new"]
        # ipywidgets 7 (Colab): {name: {"metadata": {...}, "content": bytes}};
        # ipywidgets 8: a tuple of {"name": ..., "content": memoryview, ...}.
        if isinstance(value, dict):
            items = [(name, item["content"]) for name, item in value.items()]
        else:
            items = [(item["name"], item["content"]) for item in value]
        if items:
            self.save_upload(*items[-1])

    def _on_url(self, change) -> None:
        url = change["new"].strip()
        if not url:
            return
        try:
            self.select(url)
        except ValueError:
            self._set(self.source, f"{url!r} is neither an http(s) URL nor an existing file; "
                                   "the selection is unchanged")

    def text(self) -> str:
        """The plain-text description shown where widgets do not render."""
        lines = [
            f"Video picker ({self.reason}; showing plain text)" if not self.interactive
            else "Video picker",
            f"  sample videos found: {len(self.samples)}",
        ]
        if self.synthetic_classes:
            lines.append(f"  synthetic classes: {', '.join(self.synthetic_classes)}")
        lines.append(f"  selected: {_describe(self.source)}")
        if self._random_pick():
            lines.append(f"  {self._random_pick()}: video_picker(..., seed={self.seed}) "
                         "starts on it again")
        if self.message:
            lines.append(f"  note: {self.message}")
        lines.append(
            '  choose another with picker.select(NAME), where NAME is a listed file name, a path, '
            f'an http(s) URL or "{SYNTHETIC_PREFIX}<class>"'
        )
        if self._pool_items():
            what = "sample video" if self.pool == "samples" else "synthetic clip"
            lines.append(f"  or another random {what} with picker.reroll()")
        from twostream_lab.notebook.colab import in_colab

        if in_colab():
            lines.append("  or upload your own with picker.upload() (Colab's uploader)")
            lines.append("  or record one with the webcam: picker.record(seconds=4)")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"VideoPicker(source={_describe(self.source)!r})"

    def _ipython_display_(self) -> None:
        from IPython.display import display

        if self.widget is not None:
            display(_widget_bundle(self.widget, {"text/plain": self.text()}), raw=True)
        else:
            print(self.text())


def video_picker(
    *,
    synthetic: bool = False,
    default: str | Path | None = None,
    start_with: str | None = None,
    seed: int | None = None,
    use_widgets: bool | None = None,
) -> VideoPicker:
    """Make a :class:`VideoPicker` over the sample videos found in the data folder.

    Parameters
    ----------
    synthetic : bool
        Also offer the offline lab's synthetic action clips (and choose the first one by default);
        use it with the demo models, which only know the synthetic classes.
    default : str or Path, optional
        The first choice (see :class:`VideoPicker`); it wins over ``seed`` and ``start_with``.
    start_with : {"samples", "synthetic"}, optional
        The pool the first video (and ``picker.reroll()``) comes from; default: the synthetic
        clips when ``synthetic=True``, else the samples.
    seed : int, optional
        Start on a random video of that pool, the same one for the same seed; None (default):
        on its first video.
    use_widgets : bool, optional
        None (default): widgets where they can render, plain text elsewhere.

    Examples
    --------
    >>> picker = video_picker(synthetic=True, use_widgets=False)
    >>> str(picker.source).startswith("synthetic:")
    True
    >>> video_picker(synthetic=True, seed=3, use_widgets=False).source
    'synthetic:blue moving down-left'
    """
    from twostream_lab.data.samples import available_samples

    classes: Sequence[str] = ()
    if synthetic:
        from twostream_lab.offline_lab.synthetic import SYNTHETIC_CLASSES

        classes = SYNTHETIC_CLASSES
    return VideoPicker(available_samples(), synthetic_classes=classes, default=default,
                       start_with=start_with, seed=seed, use_widgets=use_widgets)


class FrameExplorer:
    """A slider over the scored frames of a prediction, drawing the six-panel frame figure.

    Use :func:`frame_explorer` to make one. ``index`` is the current video frame (RGB frame
    ``index`` and the flow stack starting at flow frame ``index``; one of
    ``prediction.fused_indices``); ``figure`` is the last figure drawn.
    """

    def __init__(self, video, flow, prediction, *, index: int | None = None,
                 use_widgets: bool | None = None) -> None:
        self.video = video
        self.flow = flow
        self.prediction = prediction
        self.frames = [int(i) for i in prediction.fused_indices]
        if not self.frames:
            raise ValueError("the prediction has no scored frames (its fused_indices are empty)")
        self.interactive, self.reason = _use_widgets(use_widgets)
        self.index = self._check(self.frames[0] if index is None else index)
        self.figure = None
        self.widget = self._build_widget() if self.interactive else None

    def _check(self, index: int) -> int:
        index = int(index)
        if index not in self.frames:
            raise ValueError(
                f"frame {index} has no fused prediction: both streams scored frames "
                f"{self._frames_text()} of {self.prediction.video_name}"
            )
        return index

    def _frames_text(self) -> str:
        first, last = self.frames[0], self.frames[-1]
        if self.frames == list(range(first, last + 1)):
            return f"{first}..{last}"
        return ", ".join(map(str, self.frames))

    def draw(self, index: int | None = None):
        """Draw frame ``index`` (default: the current one) and return the figure (not shown)."""
        import matplotlib.pyplot as plt

        from twostream_lab.pictures.plotting import frame_figure

        if index is not None:
            self.index = self._check(index)
        if self.figure is not None:
            plt.close(self.figure)
        self.figure = frame_figure(self.video, self.flow, self.prediction, self.index)
        plt.close(self.figure)  # shown explicitly with display(), never twice by the inline backend
        return self.figure

    def show(self, index: int | None = None) -> None:
        """Move to frame ``index`` (the slider too, when there is one) and display it."""
        if self.widget is not None and index is not None:
            self._slider.value = self._check(index)  # the slider's callback redraws
            return
        from IPython.display import display

        display(self.draw(index))

    def _build_widget(self):
        import ipywidgets as widgets

        self._slider = widgets.SelectionSlider(options=self.frames, value=self.index,
                                               description="frame", continuous_update=False,
                                               layout=widgets.Layout(width="600px"))
        # The figure goes into an Image widget as PNG bytes, not into an Output widget: its
        # state then holds the picture itself, and no output is routed through the widget.
        self._image = widgets.Image(format="png")
        self._slider.observe(self._on_slide, names="value")
        return widgets.VBox([self._slider, self._image])

    def _on_slide(self, change) -> None:
        self._render(change["new"])

    def _render(self, index: int) -> bytes:
        import io

        figure = self.draw(index)
        png = io.BytesIO()
        figure.savefig(png, format="png")
        self._image.value = png.getvalue()
        return self._image.value

    def text(self) -> str:
        """The plain-text line shown above the static figure where widgets do not render (and
        in place of the slider where a saved notebook has no widget state)."""
        head = ("Frame explorer" if self.interactive
                else f"Frame explorer ({self.reason}; showing one static frame)")
        return (
            f"{head}: frame {self.index} (scored frames {self._frames_text()}) of "
            f"{self.prediction.video_name}, weights: {self.prediction.source}. "
            "Show another with explorer.show(N)."
        )

    def __repr__(self) -> str:
        return (
            f"FrameExplorer(video={self.prediction.video_name!r}, index={self.index}, "
            f"frames={self._frames_text()})"
        )

    def _ipython_display_(self) -> None:
        from IPython.display import display

        if self.widget is not None:
            png = base64.b64encode(self._render(self.index)).decode("ascii")
            display(_widget_bundle(self.widget, {"image/png": png, "text/plain": self.text()}),
                    raw=True)
        else:
            print(self.text())
            display(self.draw())


def frame_explorer(
    video, flow, prediction, *, index: int | None = None, use_widgets: bool | None = None
) -> FrameExplorer:
    """Make a :class:`FrameExplorer` for a video, its flow and its :class:`Prediction`.

    Parameters
    ----------
    video : Video
        The frames that were predicted.
    flow : Flow
        Their quantised optical flow (u and v are shown).
    prediction : Prediction
        From :func:`twostream_lab.predict.predict_video`; the slider moves over its
        ``fused_indices`` (every frame with a flow stack for ``sampling="all"``).
    index : int, optional
        The video frame shown first (default: the first scored one).
    use_widgets : bool, optional
        None (default): a slider where widgets render, one static frame elsewhere.

    Examples
    --------
    >>> explorer = frame_explorer(video, flow, prediction)  # doctest: +SKIP
    >>> explorer  # a slider in a notebook  # doctest: +SKIP
    """
    return FrameExplorer(video, flow, prediction, index=index, use_widgets=use_widgets)
