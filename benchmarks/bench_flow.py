"""Benchmark of twostream_lab.flow against the tutorial's own flow loop (a script, not a test).

Measured in one run, on this machine:

1. speed: pairs/s of every method on a real 320x240 UCF101 clip, next to the tutorial's serial
   loop (BGR frames, COLOR_BGR2GRAY, float32 / 255, ``DualTVL1OpticalFlow_create()`` defaults,
   ``(255 * (f + 20) / 40).astype(np.uint8)``), and whether ``tvl1`` gives its flow exactly;
2. agreement of every faster method with default TV-L1 over the shared UCF101 clips: mean
   end-point error (px) and the share of quantised u/v pixels within +-2 (and +-1) levels;
3. the cache: the same flow a second time, served from the cache;
4. a synthetic dataset through the cache, whose key is the grey frames: the red and blue clips
   of a direction share one entry, against every clip computed (``cache=False``).

Usage::

    TWOSTREAM_LAB_DATA=../shared/data python benchmarks/bench_flow.py --agreement-pairs 1
    python benchmarks/bench_flow.py --synthetic-only    # step 4 alone, no clips needed

Use ``--clips`` / ``--agreement-pairs`` / ``--speed-pairs`` to keep it to a few minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from twostream_lab.flow import (
    FLOW_METHODS,
    choose_workers,
    compute_flow,
    quantize_flow,
)
from twostream_lab.data.paths import data_dir
from twostream_lab.video import read_video


def tutorial_loop(bgr: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The tutorial's flow loop, as it is written there: returns (raw flow, u, v)."""
    tvl1 = cv2.optflow.DualTVL1OpticalFlow_create()
    prev = np.float32(cv2.cvtColor(bgr[0], cv2.COLOR_BGR2GRAY)) / 255
    raw, u, v = [], [], []
    for frame in bgr[1:]:
        nxt = np.float32(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)) / 255
        flow = tvl1.calc(prev, nxt, None)
        raw.append(flow)
        u.append((255 * (flow[..., 0] + 20) / 40).astype(np.uint8))
        v.append((255 * (flow[..., 1] + 20) / 40).astype(np.uint8))
        prev = nxt
    return np.stack(raw), np.stack(u), np.stack(v)


def timed(function, *args, **kwargs):
    began = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - began


def timed_cpu(function, *args, **kwargs):
    """Wall and CPU seconds (all threads of this process; not child processes)."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - wall, time.process_time() - cpu


def available_methods(skip_tf: bool) -> list[str]:
    methods = [m for m in FLOW_METHODS if m != "auto"]
    if skip_tf:
        methods.remove("tvl1-tf")
    else:
        try:
            import twostream_lab.flow.tvl1_tf  # noqa: F401
        except ImportError as error:
            print(f"tvl1-tf skipped: {error}")
            methods.remove("tvl1-tf")
    return methods


def speed(clip: Path, pairs: int, methods: list[str], report: dict) -> None:
    print(f"\n## Speed on {clip.name} (first {pairs} pairs; fast methods: the whole clip)")
    video = read_video(clip)
    frames = video.frames[: pairs + 1]
    bgr = np.ascontiguousarray(frames[..., ::-1])
    rows = report["speed"] = {}

    def row(name, n, seconds, cpu=None):
        rows[name] = {"pairs": n, "seconds": seconds, "pairs_per_s": n / seconds,
                      "cpu_s_per_pair": None if cpu is None else cpu / n}
        busy = "" if cpu is None else f", CPU {cpu / n:.2f} s/pair"
        print(f"{name:34s} {n / seconds:8.2f} pairs/s  ({seconds:6.1f} s for {n}{busy})",
              flush=True)

    # tutorial, ours, ours, tutorial: drifts in the machine's load cancel out on average
    (tut_raw, tut_u, tut_v), t1, c1 = timed_cpu(tutorial_loop, bgr)
    row("tutorial loop (1st run)", pairs, t1, c1)
    ours, t, c = timed_cpu(compute_flow, frames, method="tvl1", workers=1, cache=False,
                           progress=False, return_raw=True)
    row("tvl1, workers=1 (this process)", pairs, t, c)
    parallel, t = timed(compute_flow, frames, method="tvl1", workers=2, cache=False,
                        progress=False)
    row("tvl1, workers=2 (processes)", pairs, t)
    _, t2, c2 = timed_cpu(tutorial_loop, bgr)
    row("tutorial loop (2nd run)", pairs, t2, c2)
    identical = bool(np.array_equal(ours.raw, tut_raw))
    same_u = bool(np.array_equal(ours.u, quantize_flow(tut_raw[..., 0]))
                  and np.array_equal(ours.v, quantize_flow(tut_raw[..., 1])))
    parallel_same = bool(np.array_equal(parallel.u, ours.u) and np.array_equal(parallel.v, ours.v))
    levels = np.concatenate([ours.u.ravel(), ours.v.ravel()]).astype(int)
    cast = np.concatenate([tut_u.ravel(), tut_v.ravel()]).astype(int)
    beyond = float((np.abs(tut_raw) > 20).mean())
    report["identity"] = {
        "tvl1_raw_equals_tutorial_raw": identical,
        "tvl1_levels_equal_quantized_tutorial_raw": same_u,
        "workers2_equals_workers1": parallel_same,
        "tutorial_cast_equal_levels_share": float((levels == cast).mean()),
        "tutorial_cast_off_by_one_share": float((np.abs(levels - cast) == 1).mean()),
        "flow_beyond_20px_share": beyond,
    }
    print(f"tvl1 raw flow == tutorial's: {identical}; tvl1 u/v == quantize(tutorial flow): "
          f"{same_u}; workers=2 == workers=1: {parallel_same}")
    print(f"tutorial's cast vs quantize_flow: {report['identity']['tutorial_cast_equal_levels_share']:.1%} "
          f"of levels equal, {report['identity']['tutorial_cast_off_by_one_share']:.1%} one lower "
          f"(truncation), flow beyond +-20 px (wrapped by the cast): {beyond:.4%}")

    everything = video.frames
    for method in methods:
        if method == "tvl1":
            continue
        fast = FLOW_METHODS[method].seconds_per_pair < 0.1
        clip_frames = everything if fast else frames
        n = len(clip_frames) - 1
        if method == "tvl1-tf":  # the first call builds the TensorFlow graph: time a second one
            _, compile_s = timed(compute_flow, clip_frames[:2], method=method, cache=False,
                                 progress=False)
            print(f"{'tvl1-tf first call (graph build)':34s} {compile_s:6.1f} s")
        _, t, c = timed_cpu(compute_flow, clip_frames, method=method, workers=1, cache=False,
                            progress=False)
        row(method, n, t, c)


def agreement(clips: list[Path], per_clip: int, methods: list[str], report: dict) -> None:
    print(f"\n## Agreement with tvl1 over {len(clips)} clips, {per_clip} pair(s) per clip")
    faster = [m for m in methods if m != "tvl1"]
    sums = {m: {"epe": 0.0, "within2": 0.0, "within1": 0.0, "seconds": 0.0} for m in faster}
    ref_seconds, pixels, npairs, magnitude = 0.0, 0, 0, 0.0
    for clip in clips:
        count = int(cv2.VideoCapture(str(clip)).get(cv2.CAP_PROP_FRAME_COUNT))
        pairs = sorted({int(count * (k + 1) / (per_clip + 1)) for k in range(per_clip)})
        video = read_video(clip, max_frames=pairs[-1] + 2)
        ref, t = timed(compute_flow, video, method="tvl1", pairs=pairs, cache=False,
                       progress=False, return_raw=True)
        ref_seconds += t
        rows = np.array(pairs) - ref.start
        ref_raw = ref.raw[rows]
        ref_q = np.stack([ref.u[rows], ref.v[rows]]).astype(int)
        magnitude += float(np.hypot(ref_raw[..., 0], ref_raw[..., 1]).sum())
        for method in faster:
            got, t = timed(compute_flow, video, method=method, pairs=pairs, cache=False,
                           progress=False, return_raw=True)
            raw = got.raw[rows]
            diff = np.abs(np.stack([got.u[rows], got.v[rows]]).astype(int) - ref_q)
            s = sums[method]
            s["epe"] += float(np.hypot(*(raw - ref_raw).transpose(3, 0, 1, 2)).sum())
            s["within2"] += float((diff <= 2).sum()) / 2
            s["within1"] += float((diff <= 1).sum()) / 2
            s["seconds"] += t
        pixels += ref_raw[..., 0].size
        npairs += len(pairs)
        print(f"  {clip.name:34s} pairs {pairs}", flush=True)
    table = report["agreement"] = {
        "clips": len(clips), "pairs": npairs,
        "tvl1_mean_magnitude_px": magnitude / pixels,
        "tvl1_seconds_per_pair": ref_seconds / npairs,
    }
    print(f"tvl1: mean flow magnitude {magnitude / pixels:.3f} px, "
          f"{ref_seconds / npairs:.2f} s per pair")
    print(f"{'method':10s} {'EPE px':>8s} {'within +-2':>11s} {'within +-1':>11s} {'s/pair':>8s} {'speed-up':>9s}")
    for method, s in sums.items():
        table[method] = {
            "mean_epe_px": s["epe"] / pixels, "within2": s["within2"] / pixels,
            "within1": s["within1"] / pixels, "seconds_per_pair": s["seconds"] / npairs,
            "speedup_vs_tvl1": ref_seconds / s["seconds"],
        }
        r = table[method]
        print(f"{method:10s} {r['mean_epe_px']:8.3f} {r['within2']:11.2%} {r['within1']:11.2%} "
              f"{r['seconds_per_pair']:8.4f} {r['speedup_vs_tvl1']:8.1f}x")


def cache_speedup(clip: Path, pairs: int, report: dict) -> None:
    print(f"\n## Cache: the same video ({pairs + 1} frames of {clip.name}) twice, method tvl1")
    frames = read_video(clip, max_frames=pairs + 1).frames
    with tempfile.TemporaryDirectory() as folder:
        first, t_first = timed(compute_flow, frames, method="tvl1", cache=folder, progress=False)
        second, t_second = timed(compute_flow, frames, method="tvl1", cache=folder,
                                 progress=False)
        size = sum(f.stat().st_size for f in Path(folder).iterdir())
    same = bool(np.array_equal(first.u, second.u) and np.array_equal(first.v, second.v))
    report["cache"] = {"compute_s": t_first, "cached_s": t_second,
                       "speedup": t_first / t_second, "identical": same, "entry_bytes": size,
                       "workers_chosen": choose_workers("tvl1", pairs, *frames.shape[1:3])}
    print(f"computed in {t_first:.1f} s (workers=None chose "
          f"{report['cache']['workers_chosen']}), from the cache in {t_second * 1000:.1f} ms: "
          f"{t_first / t_second:.0f}x faster, identical: {same}, entry {size / 1024:.0f} KiB")


def synthetic_dataset(clips: int, report: dict) -> None:
    from twostream_lab.offline_lab.synthetic import make_synthetic_dataset

    print(f"\n## A synthetic dataset of {clips} clips (48x48, 16 frames), method tvl1")
    videos, _ = make_synthetic_dataset(clips, seed=0)
    every, t_every = timed(lambda: [compute_flow(v, method="tvl1", cache=False, progress=False)
                                    for v in videos])
    with tempfile.TemporaryDirectory() as folder:
        shared, t_shared = timed(lambda: [compute_flow(v, method="tvl1", cache=folder,
                                                       progress=False) for v in videos])
        entries = len(list(Path(folder).glob("*.npz")))
    same = all(np.array_equal(a.u, b.u) and np.array_equal(a.v, b.v)
               for a, b in zip(every, shared, strict=True))
    report["synthetic_dataset"] = {"clips": clips, "every_clip_s": t_every,
                                   "through_cache_s": t_shared, "entries": entries,
                                   "speedup": t_every / t_shared, "identical": same}
    print(f"every clip computed: {t_every:.1f} s; through the cache: {t_shared:.1f} s with "
          f"{entries} entries for {clips} clips: {t_every / t_shared:.2f}x, identical: {same}")


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=data_dir("ucf101", "videos"),
                        help="folder of the UCF101 clips (default: $TWOSTREAM_LAB_DATA/ucf101/videos)")
    parser.add_argument("--speed-clip", default="v_Archery_g02_c02.avi")
    parser.add_argument("--speed-pairs", type=int, default=8,
                        help="TV-L1 pairs timed per run (default 8)")
    parser.add_argument("--clips", type=int, default=None, help="use only the first N clips")
    parser.add_argument("--agreement-pairs", type=int, default=1,
                        help="pairs per clip for the agreement (default 1)")
    parser.add_argument("--skip-tf", action="store_true", help="leave out tvl1-tf")
    parser.add_argument("--synthetic-clips", type=int, default=16,
                        help="clips of the synthetic dataset in step 4 (default 16)")
    parser.add_argument("--synthetic-only", action="store_true", help="run step 4 only")
    parser.add_argument("--json", type=Path, help="also write the numbers to this file")
    args = parser.parse_args(argv)
    if args.synthetic_only:
        report: dict = {}
        synthetic_dataset(args.synthetic_clips, report)
        return report

    clips = sorted(args.data.glob("*.avi"))[: args.clips]
    if not clips:
        sys.exit(f"no .avi clips in {args.data}: set TWOSTREAM_LAB_DATA or pass --data")
    report = {
        "machine": {"cpus": os.cpu_count(), "opencv_threads": cv2.getNumThreads(),
                    "opencv": cv2.__version__, "load_before": os.getloadavg()},
    }
    print(f"OpenCV {cv2.__version__}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
    methods = available_methods(args.skip_tf)
    began = time.perf_counter()
    speed(args.data / args.speed_clip, args.speed_pairs, methods, report)
    cache_speedup(args.data / args.speed_clip, args.speed_pairs, report)
    agreement(clips, args.agreement_pairs, methods, report)
    synthetic_dataset(args.synthetic_clips, report)
    report["machine"]["load_after"] = os.getloadavg()
    report["seconds"] = time.perf_counter() - began
    print(f"\nfinished in {report['seconds']:.0f} s, load {os.getloadavg()[0]:.1f}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
