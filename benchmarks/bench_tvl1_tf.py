"""tvl1-tf against OpenCV's TV-L1 (defaults): pairs per second here, and agreement on UCF101 clips.

Both run in the same process on the same frame pairs, so their speeds compare on this machine as
it is loaded now (the load average is printed). tvl1-tf runs on a GPU when TensorFlow sees one.

Agreement (the issue's targets: mean end-point error <= 0.1 px, >= 99 % of quantised u/v within
+-1 level) is measured on the first pairs of every clip, quantised as the lab does: clip to
+-bound, map to 0..255, round.

Usage::

    python benchmarks/bench_tvl1_tf.py                      # all clips, 2 pairs each
    python benchmarks/bench_tvl1_tf.py --clips 4 --pairs-per-clip 3 --batch-sizes 1,4,8
    python benchmarks/bench_tvl1_tf.py --videos DIR --json results.json

The clips are ``$TWOSTREAM_LAB_DATA/ucf101/videos/*.avi`` unless ``--videos`` names a folder.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import cv2  # noqa: E402
import numpy as np  # noqa: E402


def grey_frames(path: Path, count: int) -> np.ndarray:
    """The first ``count`` frames of a video as grey uint8 (the tutorial's cv2 conversion)."""
    capture = cv2.VideoCapture(str(path))
    frames = []
    while len(frames) < count:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY))
    capture.release()
    return np.stack(frames)


def opencv_flows(prev: np.ndarray, nxt: np.ndarray) -> tuple[np.ndarray, float]:
    """OpenCV's TV-L1 with default settings, one pair after the other; (flows, seconds)."""
    tvl1 = cv2.optflow.DualTVL1OpticalFlow_create()
    start = time.perf_counter()
    flows = np.stack([tvl1.calc(a, b, None) for a, b in zip(prev, nxt)])
    return flows, time.perf_counter() - start


def quantize(flow: np.ndarray, bound: float) -> np.ndarray:
    return np.round((np.clip(flow, -bound, bound) + bound) * (255 / (2 * bound)))


def agreement(ours: np.ndarray, reference: np.ndarray, bound: float) -> dict[str, float]:
    epe = np.sqrt(((ours - reference) ** 2).sum(axis=-1))
    levels = np.abs(quantize(ours, bound) - quantize(reference, bound))
    return {
        "pairs": len(ours),
        "mean_epe_px": float(epe.mean()),
        "max_epe_px": float(epe.max()),
        "within_1_level": float(np.mean(levels <= 1)),
        "bit_identical": float(np.mean(ours == reference)),
        "mean_flow_px": float(np.sqrt((reference**2).sum(axis=-1)).mean()),
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    data = Path(os.environ.get("TWOSTREAM_LAB_DATA", "../shared/data"))
    default_videos = data / "ucf101" / "videos"
    parser.add_argument("--videos", type=Path, default=default_videos, help="folder of .avi clips")
    parser.add_argument("--clips", type=int, default=None, help="use only the first N clips")
    parser.add_argument("--pairs-per-clip", type=int, default=2, help="pairs per clip (agreement)")
    parser.add_argument("--speed-pairs", type=int, default=8, help="pairs timed per method")
    parser.add_argument("--batch-sizes", default="1,4,8", help="tvl1-tf batch sizes to time")
    parser.add_argument("--bound", type=float, default=20.0, help="quantisation bound in pixels")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args(argv)
    batch_sizes = [int(b) for b in args.batch_sizes.split(",")]

    clips = sorted(args.videos.glob("*.avi"))[: args.clips]
    if not clips:
        parser.error(f"no .avi clips in {args.videos}; pass --videos or set TWOSTREAM_LAB_DATA")

    import tensorflow as tf

    from twostream_lab.flow.tvl1_tf import tvl1_flow_tf

    gpus = tf.config.list_logical_devices("GPU")
    names = [
        tf.config.experimental.get_device_details(gpu).get("device_name", "GPU")
        for gpu in tf.config.list_physical_devices("GPU")
    ]
    device = ", ".join(names) if gpus else "CPU"
    results: dict = {
        "machine": {
            "tensorflow_device": device,
            "cpu_count": os.cpu_count(),
            "load_average_1min": os.getloadavg()[0],
            "python": platform.python_version(),
            "tensorflow": tf.__version__,
            "opencv": cv2.__version__,
        }
    }
    print(f"tvl1-tf on {device}; {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}; "
          f"TensorFlow {tf.__version__}, OpenCV {cv2.__version__}", flush=True)

    # speed: the same pairs for every method (consecutive pairs of the first clips)
    frames = [grey_frames(path, args.pairs_per_clip + 1) for path in clips]
    speed_frames = grey_frames(clips[0], args.speed_pairs + 1)
    prev, nxt = speed_frames[:-1], speed_frames[1:]
    h, w = prev.shape[1:]
    reference, seconds = opencv_flows(prev, nxt)
    speed = [{"method": "opencv tvl1", "batch_size": 1, "pairs_per_s": len(prev) / seconds}]
    for batch in batch_sizes:
        first = time.perf_counter()
        tvl1_flow_tf(prev[:batch], nxt[:batch], batch_size=batch)  # builds the graph
        first = time.perf_counter() - first
        start = time.perf_counter()
        ours = tvl1_flow_tf(prev, nxt, batch_size=batch)
        seconds = time.perf_counter() - start
        speed.append({
            "method": "tvl1-tf", "batch_size": batch, "pairs_per_s": len(prev) / seconds,
            "first_call_s": first, "bit_identical": float(np.mean(ours == reference)),
        })
    results["speed"] = {"frame_size": [w, h], "pairs": len(prev), "runs": speed}
    print(f"\nspeed on {len(prev)} pairs of {w}x{h} ({clips[0].name})")
    print(f"{'method':14s} {'batch':>5s} {'pairs/s':>8s} {'first call s':>13s}")
    for run in speed:
        first = f"{run['first_call_s']:13.1f}" if "first_call_s" in run else f"{'':13s}"
        print(f"{run['method']:14s} {run['batch_size']:5d} {run['pairs_per_s']:8.3f} {first}")

    # agreement over the clips: the first pairs of each, all in one tvl1-tf call per frame size
    pairs = [
        (clip, f[i], f[i + 1])
        for clip, f in zip(clips, frames)
        for i in range(min(args.pairs_per_clip, len(f) - 1))
    ]
    per_clip: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
    ours_all, reference_all = [], []
    for size in sorted({p[1].shape for p in pairs}):
        group = [p for p in pairs if p[1].shape == size]
        prev = np.stack([p[1] for p in group])
        nxt = np.stack([p[2] for p in group])
        reference, _ = opencv_flows(prev, nxt)
        ours = tvl1_flow_tf(prev, nxt, batch_size=max(batch_sizes))
        ours_all.append(ours)
        reference_all.append(reference)
        for (clip, _, _), a, b in zip(group, ours, reference):
            per_clip.setdefault(clip.name, []).append((a, b))
    results["agreement"] = {
        "clips": len(per_clip),
        "all": agreement(np.concatenate(ours_all), np.concatenate(reference_all), args.bound),
        "per_clip": {
            name: agreement(np.stack([a for a, _ in v]), np.stack([b for _, b in v]), args.bound)
            for name, v in per_clip.items()
        },
    }
    print(f"\nagreement with OpenCV's TV-L1 (bound {args.bound:g})")
    print(f"{'clip':32s} {'pairs':>5s} {'|flow| px':>9s} {'EPE px':>8s} {'max EPE':>8s} "
          f"{'within 1':>9s} {'identical':>9s}")
    rows = list(results["agreement"]["per_clip"].items()) + [("ALL", results["agreement"]["all"])]
    for name, a in rows:
        print(f"{name:32s} {a['pairs']:5d} {a['mean_flow_px']:9.3f} {a['mean_epe_px']:8.4f} "
              f"{a['max_epe_px']:8.3f} {a['within_1_level']:9.2%} {a['bit_identical']:9.2%}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return results


if __name__ == "__main__":
    main(sys.argv[1:])
