"""Peak memory (RSS) of prediction and flow on a large video, against the code before the bound.

A synthetic 1920 x 1080 clip of 300 frames (a smooth texture panning right and down, mp4v) is
written to a temporary folder; its RGB frames take 1.74 GiB, under read_video's 2 GiB limit. Each
configuration runs in a fresh subprocess with an empty cache and reports its own ``ru_maxrss``:

``library-full``
    ``read_video(path)`` at full size, then ``predict_video`` (demo models, ``flow_method="dis"``).
``library-training``
    the video read as prediction wants it, at the training size (short side 256: 455 x 256,
    ``predict.read_for_prediction``), then ``predict_video`` (not in the old code).
``cli``
    ``twostream-lab predict CLIP --weights demo --flow dis --quiet`` (in the child process).
``flow``
    ``twostream-lab flow CLIP --method dis --out FLOW.npz --quiet`` (the flow cache on).

With ``--baseline REF`` (default: the commit before the bound, when this checkout has it) every
configuration also runs on the package as it was at that commit (``git archive``, nothing in the
working tree or the repository changes), and the ratio new / old is printed. Without it the old
numbers measured when the bound was written are printed for comparison: flow 5.93 GiB,
predict (library and command line) 6.45 GiB.

Run (about 10 minutes on 2 cores, most of it the old code's full-size flow)::

    python benchmarks/bench_memory_bound.py
    python benchmarks/bench_memory_bound.py --frames 100 --no-baseline   # quicker
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import resource
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BEFORE = "86b3342"  # the last commit whose predict and flow were not bounded
MODES = ("library-full", "library-training", "cli", "flow")
PREVIOUS_GIB = {"library-full": 6.45, "cli": 6.45, "flow": 5.93}  # measured with BEFORE
_GIB = 2**30


def write_clip(path: Path, frames: int, width: int = 1920, height: int = 1080) -> Path:
    """A smooth random texture panning 1 px right and 0.5 px down per frame, as mp4v."""
    import cv2
    import numpy as np

    rng = np.random.default_rng(0)
    texture = rng.integers(0, 256, (height + frames, width + frames, 3), dtype=np.uint8)
    texture = cv2.normalize(cv2.GaussianBlur(texture, (0, 0), 6), None, 0, 255, cv2.NORM_MINMAX)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 25, (width, height))
    if not writer.isOpened():
        raise RuntimeError("OpenCV cannot write mp4v here; this benchmark needs it")
    for t in range(frames):
        writer.write(np.ascontiguousarray(texture[t // 2:t // 2 + height, t:t + width]))
    writer.release()
    return path


def _child(mode: str, clip: str, out: str) -> dict:
    """Run one configuration in this process; report its outcome and peak RSS."""
    import twostream_lab

    began = time.perf_counter()
    try:
        if mode in ("library-full", "library-training"):
            from twostream_lab.models.two_stream import load_two_stream
            from twostream_lab.predict import predict_video
            from twostream_lab.video import read_video

            models = load_two_stream("demo", progress=False)
            if mode == "library-full":
                video = read_video(clip)
            else:
                from twostream_lab.predict import read_for_prediction

                video = read_for_prediction(clip)
            prediction = predict_video(video, models, flow_method="dis", progress=False)
            notes = getattr(prediction, "video_lines", list)()
            outcome = "ok: " + " | ".join(notes)
        else:
            from twostream_lab.cli import main

            argv = (["predict", clip, "--weights", "demo", "--flow", "dis", "--quiet"]
                    if mode == "cli" else ["flow", clip, "--method", "dis", "--out", out,
                                           "--quiet"])
            printed, errors = io.StringIO(), io.StringIO()
            with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(errors):
                code = main(argv)
            text = [line for line in (errors.getvalue() + printed.getvalue()).splitlines()
                    if line.startswith(("twostream-lab", "video:", "flow:", "warning:", "Wrote"))]
            outcome = f"{'ok' if code == 0 else f'exit {code}'}: {' | '.join(text)}"
    except Exception as error:  # a refusal is an outcome to report, not a failure
        outcome = f"refused: {type(error).__name__}: {str(error)[:160]}"
    return {"mode": mode, "outcome": outcome, "package": twostream_lab.__file__,
            "seconds": time.perf_counter() - began,
            "peak_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / _GIB}


def _run(mode: str, clip: Path, work: Path, package_root: Path | None) -> dict:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    cache = Path(tempfile.mkdtemp(prefix="cache-", dir=work))
    env["TWOSTREAM_LAB_CACHE"] = str(cache)
    if package_root is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(package_root),
                                                          env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(clip), str(work / f"{mode}.npz")],
        env=env, capture_output=True, text=True,
    )
    lines = done.stdout.strip().splitlines()
    if done.returncode or not lines:
        raise RuntimeError(f"{mode} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return json.loads(lines[-1])


def _old_package(ref: str, work: Path) -> Path | None:
    """The package as it was at ``ref`` in a folder of its own, or None if git cannot give it."""
    archive = work / "old.tar"
    with open(archive, "wb") as file:
        done = subprocess.run(["git", "-C", str(ROOT), "archive", ref, "twostream_lab"],
                              stdout=file, stderr=subprocess.PIPE)
    if done.returncode:
        print(f"(no baseline: git archive {ref} failed: {done.stderr.decode().strip()})")
        return None
    target = work / "old"
    with tarfile.open(archive) as tar:
        tar.extractall(target, filter="data")
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=300, help="frames of 1920x1080 (300)")
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=MODES)
    parser.add_argument("--baseline", default=BEFORE, help=f"git ref of the old code ({BEFORE})")
    parser.add_argument("--no-baseline", action="store_true", help="do not run the old code")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(*args.child)))
        return

    with tempfile.TemporaryDirectory(prefix="bench-memory-bound-") as folder:
        work = Path(folder)
        clip = write_clip(work / "clip1080.mp4", args.frames)
        size = args.frames * 1920 * 1080 * 3 / _GIB
        print(f"clip: {args.frames} frames of 1920x1080 ({size:.2f} GiB as RGB uint8)", flush=True)
        old = None if args.no_baseline else _old_package(args.baseline, work)
        print(f"{'mode':17} {'code':4} {'peak RSS GiB':>12} {'new/old':>7} {'s':>6}  outcome")
        for mode in args.modes:
            before = None
            if old is not None and mode != "library-training":
                r = _run(mode, clip, work, old)
                before = r["peak_gib"]
                if not r["package"].startswith(str(old)):
                    raise RuntimeError(f"the old run imported {r['package']}, not {old}")
                print(f"{mode:17} {'old':4} {before:12.2f} {'':>7} {r['seconds']:6.0f}  "
                      f"{r['outcome'][:90]}", flush=True)
            r = _run(mode, clip, work, None)
            reference = before if before is not None else (
                PREVIOUS_GIB.get(mode) if args.frames == 300 else None)
            ratio = f"{r['peak_gib'] / reference:7.2f}" if reference else f"{'':>7}"
            print(f"{mode:17} {'new':4} {r['peak_gib']:12.2f} {ratio} {r['seconds']:6.0f}  "
                  f"{r['outcome'][:160]}", flush=True)
        if old is None and args.frames == 300:
            print("(new/old against the old code's peaks measured when the bound was written: "
                  + ", ".join(f"{m} {g} GiB" for m, g in PREVIOUS_GIB.items()) + ")")


if __name__ == "__main__":
    main()
