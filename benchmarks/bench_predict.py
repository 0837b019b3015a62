"""Prediction time per frame per stream of the two Xception streams, at a few batch sizes.

Both streams are built with :mod:`twostream_lab.models.xception` (random weights: the time does not depend
on them). Each batch size is warmed up once (graph tracing), then timed over ``--repeats`` batches
of inputs from :mod:`twostream_lab.batching`; the batching time is reported separately.

Run::

    TF_CPP_MIN_LOG_LEVEL=2 python benchmarks/bench_predict.py --batch-sizes 1 4 8 16
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

from twostream_lab.batching import prepare_frames, prepare_stacks  # noqa: E402
from twostream_lab.models.xception import build_motion_model, build_spatial_model  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 4, 8, 16])
    parser.add_argument("--repeats", type=int, default=2, help="timed batches per batch size")
    args = parser.parse_args()

    import tensorflow as tf

    rng = np.random.default_rng(0)
    biggest = max(args.batch_sizes)
    frames = rng.integers(0, 256, (biggest, 240, 320, 3), dtype=np.uint8)
    u = rng.integers(0, 256, (biggest + 9, 240, 320), dtype=np.uint8)
    v = rng.integers(0, 256, (biggest + 9, 240, 320), dtype=np.uint8)
    streams = {"spatial": build_spatial_model(), "motion": build_motion_model()}

    print(f"CPU threads: {os.cpu_count()}, TensorFlow {tf.__version__}, "
          f"intra-op threads {tf.config.threading.get_intra_op_parallelism_threads() or 'auto'}")
    print(f"{'stream':8} {'batch':>5} {'s/frame':>8} {'frames/s':>9} {'batching s/frame':>17}")
    for name, model in streams.items():
        for n in args.batch_sizes:
            t0 = time.perf_counter()
            if name == "spatial":
                batch = prepare_frames(frames[:n], (299, 299))
            else:
                batch = prepare_stacks(u, v, np.arange(n), (299, 299))
            prep = (time.perf_counter() - t0) / n
            model.predict_on_batch(batch)  # warm-up: traces the graph for this batch size
            t0 = time.perf_counter()
            for _ in range(args.repeats):
                model.predict_on_batch(batch)
            per_frame = (time.perf_counter() - t0) / (args.repeats * n)
            print(f"{name:8} {n:5d} {per_frame:8.3f} {1 / per_frame:9.2f} {prep:17.4f}",
                  flush=True)


if __name__ == "__main__":
    main()
