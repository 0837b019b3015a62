"""Demo-video rendering speed: one reused figure against the tutorial's figure-per-frame loop.

Both write the same six-panel 16 x 12 inch layout (:mod:`twostream_lab.pictures.plotting`) at the same dpi
into the same H.264 encoder (imageio-ffmpeg), in the same run:

* reused: :func:`twostream_lab.pictures.render.render_demo_video` (one figure; the static parts are drawn
  once, the images, bars and labels are redrawn per frame);
* tutorial: for every frame a new pyplot figure (:func:`twostream_lab.pictures.plotting.frame_figure`),
  a full ``canvas.draw()``, its pixels to the encoder, ``plt.close``.

The frames come from the abseiling clip when ``$TWOSTREAM_LAB_DATA`` has it (else random frames of
its size) and their flow from :func:`twostream_lab.compute_flow` (``--flow-method``: real flow
compresses like real flow); the scores are random (drawing does not depend on them), 101 classes.

Run::

    python benchmarks/bench_render.py --frames 120
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import imageio_ffmpeg  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from twostream_lab.data.classes import UCF101_CLASSES  # noqa: E402
from twostream_lab.flow import compute_flow  # noqa: E402
from twostream_lab.data.paths import data_dir  # noqa: E402
from twostream_lab.pictures.plotting import frame_figure  # noqa: E402
from twostream_lab.predict import Prediction  # noqa: E402
from twostream_lab.pictures.render import DEFAULT_DPI, render_demo_video  # noqa: E402
from twostream_lab.video import Video, read_video  # noqa: E402


def _inputs(num_stacks: int, flow_method: str):
    T = num_stacks + 10
    clip = data_dir("kinetics", "abseiling_k400.mp4")
    rng = np.random.default_rng(0)
    if clip.is_file():
        video = read_video(clip, max_frames=T)
    else:
        frames = rng.integers(0, 256, (T, 256, 454, 3), dtype=np.uint8)
        video = Video.from_frames(frames, name="abseiling_k400.mp4")
    T = video.num_frames
    flow = compute_flow(video, method=flow_method, progress=False)
    C = len(UCF101_CLASSES)
    spatial = rng.dirichlet(np.full(C, 0.1), T).astype(np.float32)
    motion = rng.dirichlet(np.full(C, 0.1), T - 10).astype(np.float32)
    prediction = Prediction(
        spatial=spatial, motion=motion,
        spatial_indices=np.arange(T), motion_indices=np.arange(T - 10),
        class_names=UCF101_CLASSES, video_name=video.name, source="pretrained", num_frames=T,
    )
    return video, flow, prediction


def _tutorial_loop(video, flow, prediction, path: Path, dpi: float, fps: float) -> None:
    """A new figure per frame, fully drawn, into the same encoder settings as the renderer."""
    indices = prediction.fused_indices
    fig = frame_figure(video, flow, prediction, int(indices[0]), dpi=dpi)
    width, height = (n // 2 * 2 for n in fig.canvas.get_width_height())
    plt.close(fig)
    writer = imageio_ffmpeg.write_frames(
        str(path), (width, height), fps=fps, codec="libx264", pix_fmt_out="yuv420p", quality=6,
        macro_block_size=1, ffmpeg_log_level="error",
        output_params=["-preset", "veryfast", "-movflags", "+faststart"],
    )
    writer.send(None)
    for index in indices:
        fig = frame_figure(video, flow, prediction, int(index), dpi=dpi)
        fig.canvas.draw()
        rgb = np.asarray(fig.canvas.buffer_rgba())[:height, :width, :3]
        writer.send(np.ascontiguousarray(rgb))
        plt.close(fig)
    writer.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=120, help="video frames rendered per method")
    parser.add_argument("--dpi", type=float, default=DEFAULT_DPI)
    parser.add_argument("--fps", type=float, default=16)
    parser.add_argument("--flow-method", default="tvl1")
    args = parser.parse_args()

    video, flow, prediction = _inputs(args.frames, args.flow_method)
    n = len(prediction.fused_indices)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        render_demo_video(video, flow, prediction, Path(tmp, "reused.mp4"), fps=args.fps,
                          dpi=args.dpi, progress=False)
        reused = n / (time.perf_counter() - t0)
        t0 = time.perf_counter()
        _tutorial_loop(video, flow, prediction, Path(tmp, "tutorial.mp4"), args.dpi, args.fps)
        tutorial = n / (time.perf_counter() - t0)
    w, h = int(16 * args.dpi) // 2 * 2, int(12 * args.dpi) // 2 * 2
    print(f"{n} frames of {video.name} ({video.width}x{video.height}), figure 16x12 in at "
          f"{args.dpi:g} dpi = {w}x{h} px, H.264")
    print(f"reused figure (render_demo_video): {reused:6.2f} frames/s ({1 / reused:.3f} s/frame)")
    print(f"figure per frame (tutorial loop):  {tutorial:6.2f} frames/s "
          f"({1 / tutorial:.3f} s/frame)")
    print(f"speed-up: {reused / tutorial:.1f}x")


if __name__ == "__main__":
    main()
