"""Dataset evaluation: ``evaluate_videos`` on 1 and 2 Dask workers against a plain loop.

The baseline, measured in the same run on the same clips: the models loaded once, then
``predict_video(read_video(clip), models, ...)`` per clip (with a fresh flow cache, so every flow
is computed). Then ``evaluate_videos`` with ``workers=1`` and ``workers=2`` (a LocalCluster on
127.0.0.1 each), timed end to end: starting the cluster, loading the models in each worker,
storing the results and writing the report. Prints videos/s for each against the loop, the
compute time per video on a worker, and the projected time for the 3,783 test videos of UCF101
split 1 on N workers.

By default the stand-in pretrained weights (``../shared/fixtures/legacy_h5``: the exact
Xception architectures, so the same cost as the real weights) on the first 4 shared UCF101
clips, DIS flow, 19 samples per video (the authors' protocol)::

    python benchmarks/bench_evaluate.py [--clips 4] [--sampling 19] [--flow dis] [--weights demo]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT.parent / "shared" / "fixtures" / "legacy_h5"


def _standin_weights(folder: Path) -> tuple[str, str]:
    paths = []
    for stream in ("spatial", "motion"):
        source = FIXTURES / f"{stream}_tf1.h5.gz"
        if not source.is_file():
            sys.exit(f"{source} is absent: pass --weights demo, or run beside ../shared")
        path = folder / f"{stream}.h5"
        with gzip.open(source) as packed, open(path, "wb") as out:
            shutil.copyfileobj(packed, out)
        paths.append(str(path))
    return paths[0], paths[1]


def _clips(count: int) -> list[Path]:
    from twostream_lab.data.paths import data_dir

    clips = sorted(data_dir("ucf101", "videos").glob("*.avi"))[:count]
    if len(clips) < count:
        sys.exit(f"need {count} UCF101 clips in {data_dir('ucf101', 'videos')} (set "
                 f"TWOSTREAM_LAB_DATA to the shared data folder); found {len(clips)}")
    return clips


def _plain_loop(clips, spec, *, flow: str, sampling) -> tuple[float, float]:
    """(seconds to load the models, seconds for the clips) of the loop a user would write."""
    from twostream_lab.predict import predict_video
    from twostream_lab.models.two_stream import load_two_stream
    from twostream_lab.video import read_video

    start = time.perf_counter()
    models = load_two_stream(spec, progress=False)
    loaded = time.perf_counter()
    for clip in clips:
        predict_video(read_video(clip), models, sampling=sampling, flow_method=flow,
                      progress=False)
    return loaded - start, time.perf_counter() - loaded


def _flow_share(folder: Path) -> tuple[float, float]:
    """Mean (flow seconds, flow pairs) per video, from the stored results."""
    results = [json.loads(p.read_text()) for p in folder.glob("videos/*.json")]
    ok = [r for r in results if r["status"] == "ok"]
    return (sum(r["seconds"]["flow"] for r in ok) / len(ok),
            sum(r["flow_pairs"] for r in ok) / len(ok))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", type=int, default=4)
    parser.add_argument("--sampling", default="19")
    parser.add_argument("--flow", default="dis")
    parser.add_argument("--weights", choices=("standin", "demo", "pretrained"),
                        default="standin")
    parser.add_argument("--workers", default="1,2", help="worker counts to run, e.g. 1,2")
    args = parser.parse_args()

    from twostream_lab.evaluation.dataset import UCF101_SPLIT1_TEST_VIDEOS, evaluate_videos
    from twostream_lab.flow import FLOW_METHODS
    from twostream_lab.predict import parse_sampling

    sampling = parse_sampling(args.sampling)
    work = Path(tempfile.mkdtemp(prefix="bench-evaluate-"))
    os.environ["TWOSTREAM_LAB_CACHE"] = str(work / "cache")  # no flow cache hits
    try:
        spec = _standin_weights(work) if args.weights == "standin" else args.weights
        clips = _clips(args.clips)
        listed = work / "videos.txt"
        # the demo models score the synthetic classes: any class number will do for a timing
        label = " 1" if args.weights == "demo" else ""
        listed.write_text("".join(f"{clip}{label}\n" for clip in clips))
        print(f"{len(clips)} UCF101 clips, weights {args.weights}, flow {args.flow}, sampling "
              f"{sampling}, {os.cpu_count()} CPUs", flush=True)

        load, loop = _plain_loop(clips, spec, flow=args.flow, sampling=sampling)
        rows = [("plain loop (models loaded once)", loop, loop / len(clips), "")]
        print(f"plain loop: {loop:.1f} s (+{load:.1f} s loading the models)", flush=True)
        per_video = {}
        for workers in (int(w) for w in args.workers.split(",")):
            run = evaluate_videos(listed, spec, flow=args.flow, sampling=sampling,
                                  out=work / f"out-{workers}", workers=workers, progress=False)
            assert not run.report.failures, run.report.failures
            per_video[workers] = (sum(run.video_seconds) / len(run.video_seconds),
                                  *_flow_share(run.report.folder))
            rows.append((f"evaluate_videos, {workers} worker(s) (end to end)", run.seconds,
                         per_video[workers][0], f"{loop / run.seconds:.2f}x"))
            print(f"{workers} worker(s): {run.seconds:.1f} s", flush=True)

        print()
        print(f"{'':<48} {'seconds':>8} {'videos/s':>9} {'s/video on a worker':>20} "
              f"{'vs loop':>8}")
        for name, seconds, video, ratio in rows:
            print(f"{name:<48} {seconds:>8.1f} {len(clips) / seconds:>9.3f} {video:>20.2f} "
                  f"{ratio or '1x':>8}")

        t1, flow_seconds, flow_pairs = per_video[min(per_video)]
        tvl1 = t1 - flow_seconds + flow_pairs * FLOW_METHODS["tvl1"].seconds_per_pair
        print(f"\nProjected for UCF101 split 1 ({UCF101_SPLIT1_TEST_VIDEOS:,} test videos), "
              f"N workers each as fast as this run's {min(per_video)}-worker one "
              f"({t1:.2f} s per video; with tvl1 flow, {flow_pairs:.0f} pairs at "
              f"{FLOW_METHODS['tvl1'].seconds_per_pair:g} s each, about {tvl1:.0f} s):")
        print(f"{'N':>4} {args.flow + ' (hours)':>14} {'tvl1 (hours, estimate)':>24}")
        for n in (1, 2, 4, 8, 16, 32, 64):
            print(f"{n:>4} {UCF101_SPLIT1_TEST_VIDEOS * t1 / n / 3600:>14.2f} "
                  f"{UCF101_SPLIT1_TEST_VIDEOS * tvl1 / n / 3600:>24.1f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
