"""Peak memory (RSS) of the whole prediction pipeline against the tutorial's all-in-RAM batches.

Each configuration runs in a fresh subprocess, which reports its ``ru_maxrss``:

1. a T-frame 320 x 240 clip (the UCF101 size: the abseiling clip played back and forth, resized;
   random frames when it is absent) in memory as uint8,
2. its quantised optical flow with :func:`twostream_lab.compute_flow` (``--flow-method``,
   farneback by default to keep the run short; cache off) or, with ``--flow-method random``,
   random flow frames; the flow worker processes' peak is reported separately,
3. both full Xception streams (:mod:`twostream_lab.models.xception`, random weights),
4. either ``predict_video(..., batch_size=8)`` ("batched"), or the tutorial's way ("tutorial"):
   the float32 inputs of the whole video at once (every frame, the stacks of
   ``range(len(u) - 10)``) passed to ``model.predict``.

Run (the defaults take a while on a small CPU: every frame goes through both streams)::

    python benchmarks/bench_memory.py --frames 60 250 500 --modes batched tutorial
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from types import SimpleNamespace


def _frames(num_frames: int):
    """``num_frames`` RGB frames of 320 x 240: the abseiling clip played back and forth, resized
    (random frames when the clip is absent)."""
    import cv2
    import numpy as np

    from twostream_lab.data.paths import data_dir
    from twostream_lab.video import read_video

    clip = data_dir("kinetics", "abseiling_k400.mp4")
    if not clip.is_file():
        rng = np.random.default_rng(0)
        return rng.integers(0, 256, (num_frames, 240, 320, 3), dtype=np.uint8)
    source = read_video(clip, max_frames=num_frames).frames
    order = np.concatenate([np.arange(len(source)), np.arange(len(source))[::-1]])
    order = np.resize(order, num_frames)
    out = np.empty((num_frames, 240, 320, 3), np.uint8)
    for i, j in enumerate(order):
        out[i] = cv2.resize(source[j], (320, 240), interpolation=cv2.INTER_AREA)
    return out


def _child(mode: str, num_frames: int, flow_method: str) -> dict:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import numpy as np

    from twostream_lab.batching import prepare_frames, prepare_stacks
    from twostream_lab.flow import Flow, compute_flow
    from twostream_lab.models.xception import build_motion_model, build_spatial_model
    from twostream_lab.predict import predict_video
    from twostream_lab.video import Video

    t0 = time.perf_counter()
    rng = np.random.default_rng(0)
    video = Video.from_frames(_frames(num_frames), name=f"clip_{num_frames}.avi")
    if flow_method == "random":
        shape = (num_frames - 1, 240, 320)
        flow = Flow(u=rng.integers(0, 256, shape, dtype=np.uint8),
                    v=rng.integers(0, 256, shape, dtype=np.uint8), method="random", bound=20.0)
    else:
        flow = compute_flow(video, method=flow_method, cache=False, progress=False)
    flow_s = time.perf_counter() - t0

    models = SimpleNamespace(spatial=build_spatial_model(), motion=build_motion_model(),
                             class_names=tuple(f"class{i}" for i in range(101)), source="random")

    t0 = time.perf_counter()
    if mode == "batched":
        predict_video(video, models, flow=flow, batch_size=8, progress=False)
    else:
        x_spatial = prepare_frames(video.frames, (299, 299))
        x_motion = prepare_stacks(flow.u, flow.v, range(len(flow.u) - 10), (299, 299))
        models.spatial.predict(x_spatial, verbose=0)
        models.motion.predict(x_motion, verbose=0)
    predict_s = time.perf_counter() - t0
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    workers_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # flow processes
    return {"mode": mode, "frames": num_frames, "peak_rss_mib": peak_kib / 1024,
            "worker_rss_mib": workers_kib / 1024, "flow_s": flow_s, "predict_s": predict_s}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, nargs="+", default=[60, 250, 500])
    parser.add_argument("--modes", nargs="+", default=["batched", "tutorial"],
                        choices=["batched", "tutorial"])
    parser.add_argument("--flow-method", default="farneback",
                        help="a twostream_lab.FLOW_METHODS name, or 'random' for random flow")
    parser.add_argument("--child", nargs=2, metavar=("MODE", "FRAMES"), help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        print(json.dumps(_child(args.child[0], int(args.child[1]), args.flow_method)))
        return
    print(f"{'mode':9} {'frames':>6} {'peak RSS MiB':>12} {'flow worker MiB':>15} "
          f"{'flow s':>7} {'predict s':>9}", flush=True)
    for mode in args.modes:
        for n in args.frames:
            out = subprocess.run(
                [sys.executable, __file__, "--child", mode, str(n),
                 "--flow-method", args.flow_method],
                capture_output=True, text=True, check=True,
            )
            r = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"{r['mode']:9} {r['frames']:6d} {r['peak_rss_mib']:12.0f} "
                  f"{r['worker_rss_mib']:15.0f} {r['flow_s']:7.1f} {r['predict_s']:9.1f}",
                  flush=True)


if __name__ == "__main__":
    main()
