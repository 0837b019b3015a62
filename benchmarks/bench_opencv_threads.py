"""Benchmark of OpenCV's own threads for TV-L1: one thread against all cores (a script, not a test).

Measured in one run, on this machine, for a 48x48 synthetic clip (the offline lab's size) and a
320x240 frame pair (UCF101's size; a real clip with ``TWOSTREAM_LAB_DATA``, else a smooth random
texture): the time and the CPU time (all threads of this process) per frame pair, and whether
the flow is the same bit for bit. It is why ``conftest.py`` gives each of the ``-n N`` pytest
workers ``cores // N`` OpenCV threads: a thread that saves little time still takes CPU from the
other workers.

Usage::

    python benchmarks/bench_opencv_threads.py [--pairs 15]
"""

from __future__ import annotations

import argparse
import os
import resource
import time

import cv2
import numpy as np

from twostream_lab.data.paths import data_dir
from twostream_lab.flow.parallel import available_cores
from twostream_lab.offline_lab.synthetic import make_synthetic_clip


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _grey_frames(pairs: int) -> dict[str, np.ndarray]:
    clip = make_synthetic_clip("red moving up-left", seed=3)
    frames = {"48x48 synthetic clip": np.stack([cv2.cvtColor(f, cv2.COLOR_RGB2GRAY)
                                                for f in clip.frames[:pairs + 1]])}
    videos = sorted(data_dir("ucf101", "videos").glob("*.avi")) \
        if os.environ.get("TWOSTREAM_LAB_DATA") else []
    if videos:
        capture, large = cv2.VideoCapture(str(videos[0])), []
        while len(large) < min(pairs, 4) + 1:
            ok, frame = capture.read()
            if not ok:
                break
            large.append(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY))
        frames[f"320x240 {videos[0].name}"] = np.stack(large)
    else:
        noise = np.random.default_rng(0).random((240 + 8, 320 + 8)).astype(np.float32)
        texture = cv2.normalize(cv2.GaussianBlur(noise, (0, 0), 2), None, 0, 255,
                                cv2.NORM_MINMAX).astype(np.uint8)
        frames["320x240 texture"] = np.stack([texture[i:i + 240, i:i + 320]
                                              for i in range(min(pairs, 4) + 1)])
    return frames


def _run(grey: np.ndarray, threads: int) -> tuple[float, float, np.ndarray]:
    cv2.setNumThreads(threads)
    tvl1 = cv2.optflow.DualTVL1OpticalFlow_create()
    tvl1.calc(grey[0], grey[1], None)  # warm-up
    started, cpu = time.perf_counter(), _cpu_seconds()
    flows = np.stack([tvl1.calc(a, b, None) for a, b in zip(grey[:-1], grey[1:])])
    pairs = len(grey) - 1
    return (time.perf_counter() - started) / pairs, (_cpu_seconds() - cpu) / pairs, flows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=15, help="frame pairs of the 48x48 clip")
    args = parser.parse_args()
    cores = available_cores()
    print(f"OpenCV {cv2.__version__}, {cores} cores")
    for name, grey in _grey_frames(args.pairs).items():
        one = _run(grey, 1)
        many = _run(grey, cores)
        print(f"{name}, {len(grey) - 1} pairs:")
        print(f"  1 thread:   {one[0] * 1e3:7.1f} ms a pair, {one[1] * 1e3:7.1f} ms of CPU")
        print(f"  {cores} threads:  {many[0] * 1e3:7.1f} ms a pair, {many[1] * 1e3:7.1f} ms of CPU")
        print(f"  {cores} threads against 1: {one[0] / many[0]:.2f}x as fast, "
              f"{many[1] / one[1]:.2f}x the CPU; same flow: {np.array_equal(one[2], many[2])}")


if __name__ == "__main__":
    main()
