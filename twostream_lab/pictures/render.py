"""The annotated demo video (the tutorial's frame figure for every stack) and inline playback.

:func:`render_demo_video` builds the six-panel figure of :mod:`twostream_lab.pictures.plotting` once, then
for every scored stack updates the images, bar lengths and labels, redraws only those, and sends
the pixels (``canvas.buffer_rgba()``) to ffmpeg: H.264 (x264 preset ``veryfast``), ``yuv420p``,
even width and height, so it plays in browsers, Colab and Jupyter. The tutorial built a new
figure per frame (about 0.33 s a frame on two cores) and wrote it with scikit-video.

:func:`show_video` embeds an mp4 in a notebook with the title ``"Prediction for {video}"``.
"""

from __future__ import annotations

import base64
import html
import os
import re
import subprocess
from pathlib import Path

import numpy as np

from twostream_lab.checks import positive_number
from twostream_lab.data.paths import atomic_file
from twostream_lab.pictures.plotting import FIGSIZE, FrameLayout

__all__ = ["render_demo_video", "show_video", "video_title"]

#: Default resolution of the demo video: 16 x 12 inches at 72 dpi is 1152 x 864 pixels.
DEFAULT_DPI = 72


def _even_crop(rgba: np.ndarray) -> np.ndarray:
    """The pixels with even height and width (yuv420p needs them); no copy when already even."""
    h, w = rgba.shape[:2]
    if h % 2 == 0 and w % 2 == 0:
        return rgba
    return np.ascontiguousarray(rgba[: h - h % 2, : w - w % 2])


def render_demo_video(
    video,
    flow,
    prediction,
    path: str | os.PathLike,
    *,
    fps: float = 16,
    dpi: float = DEFAULT_DPI,
    quality: float = 6,
    progress: bool = True,
) -> Path:
    """Write the tutorial's annotated video: one six-panel frame per scored stack, H.264 mp4.

    Parameters
    ----------
    video : Video
    flow : Flow
        The video's quantised flow (it must contain the scored stacks' first flow frames).
    prediction : Prediction
        From :func:`twostream_lab.predict_video`; one video frame per ``fused_indices`` entry.
    path : str or Path
        The mp4 to write; written to a temporary file beside it, then moved into place.
    fps : float
        Frames per second (the tutorial used 16).
    dpi : float
        Pixels per inch of the 16 x 12 inch figure (72 gives 1152 x 864).
    quality : float
        0..10, imageio-ffmpeg's H.264 quality (higher is better and larger).
    progress : bool
        Show a progress bar.

    Returns
    -------
    Path
        ``path``. The mp4's ``title`` metadata is ``"Prediction for {video name}"``.

    Examples
    --------
    >>> render_demo_video(video, flow, prediction, "demo.mp4")  # doctest: +SKIP
    PosixPath('demo.mp4')
    """
    import imageio_ffmpeg
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from twostream_lab.progress import progress_bar

    path = Path(path)
    if path.suffix.lower() != ".mp4":
        raise ValueError(f"the demo video must be an .mp4 file, got {str(path)!r}")
    fps = positive_number(fps, "fps")
    indices = [int(i) for i in prediction.fused_indices]
    fig = Figure(figsize=FIGSIZE, dpi=dpi)
    FigureCanvasAgg(fig)
    layout = FrameLayout(fig, video, flow, prediction, blit=True)
    layout.show(indices[0])  # validates the flow and prediction before ffmpeg starts
    width, height = (n // 2 * 2 for n in fig.canvas.get_width_height())
    title = f"Prediction for {prediction.video_name}"

    with atomic_file(path, suffix=".mp4") as tmp:
        writer = imageio_ffmpeg.write_frames(
            str(tmp),
            (width, height),
            fps=fps,
            codec="libx264",
            pix_fmt_in="rgba",
            pix_fmt_out="yuv420p",
            quality=quality,
            macro_block_size=1,
            ffmpeg_log_level="error",
            output_params=[
                "-preset", "veryfast", "-movflags", "+faststart", "-metadata", f"title={title}"
            ],
        )
        writer.send(None)  # start ffmpeg
        try:
            for index in progress_bar(indices, desc="demo video", unit="frame",
                                      enabled=progress):
                writer.send(_even_crop(layout.render(index)))
        finally:
            writer.close()
    return path


def video_title(path: str | os.PathLike) -> str | None:
    """The ``title`` metadata of a video file (as written by :func:`render_demo_video`), or None.

    Examples
    --------
    >>> video_title("demo.mp4")  # doctest: +SKIP
    'Prediction for abseiling_k400.mp4'
    """
    import imageio_ffmpeg

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no video at {str(path)!r}")
    result = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path)],
        capture_output=True, text=True, errors="replace", check=False,
    )
    match = re.search(r"^\s*title\s*:\s*(.*?)\s*$", result.stderr, flags=re.MULTILINE)
    return match.group(1) if match else None


def show_video(path: str | os.PathLike, *, caption: str | None = None, width: int = 800):
    """Show an mp4 inline in a notebook (embedded as base64, with a caption).

    Parameters
    ----------
    path : str or Path
        An H.264 mp4, e.g. from :func:`render_demo_video`.
    caption : str, optional
        Defaults to the video's title metadata (``"Prediction for {video}"`` for a demo
        video), else the file name.
    width : int
        Display width in pixels.

    Returns
    -------
    IPython.display.HTML
        A ``<figure>`` with a ``<video controls>`` element whose ``title`` and ``<figcaption>``
        are ``caption``.

    Examples
    --------
    >>> show_video(render_demo_video(video, flow, prediction, "demo.mp4"))  # doctest: +SKIP
    """
    from IPython.display import HTML

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"no video at {str(path)!r}; write one with render_demo_video(...) first"
        )
    if caption is None:
        caption = video_title(path) or path.name
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    text = html.escape(caption)
    return HTML(
        f'<figure style="margin: 0">'
        f'<video controls loop playsinline width="{int(width)}" title="{text}">'
        f'<source src="data:video/mp4;base64,{data}" type="video/mp4">'
        "Your browser cannot play H.264 video."
        "</video>"
        f"<figcaption>{text}</figcaption>"
        "</figure>"
    )
