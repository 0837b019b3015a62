"""The ``twostream-lab`` command line.

Each sub-command only parses its arguments and calls the one library function that does the work,
so everything the command line does can also be done from a notebook.
"""

from __future__ import annotations

import argparse
import importlib
import platform
import sys
from collections.abc import Callable, Sequence

from . import __version__


def _version(module: str) -> str:
    try:
        return getattr(importlib.import_module(module), "__version__", "?")
    except Exception as error:  # a broken install is exactly what doctor must report
        return f"not importable ({type(error).__name__}: {error})"


def doctor_report() -> str:
    """Return a plain-text report of the environment the lab runs in."""
    from . import paths, samples
    from .flow import OPTFLOW_FIX, has_optflow

    lines = [
        f"twostream-lab {__version__}",
        f"Python       {platform.python_version()} ({sys.executable})",
        f"numpy        {_version('numpy')}",
        f"OpenCV       {_version('cv2')}",
        f"matplotlib   {_version('matplotlib')}",
        f"TensorFlow   {_version('tensorflow')}",
        f"Keras        {_version('keras')}",
    ]
    if has_optflow():
        lines.append("cv2.optflow  present (TV-L1 available)")
    else:
        lines.append(f"cv2.optflow  MISSING: TV-L1 needs opencv-contrib-python. Fix:\n  {OPTFLOW_FIX}")
    try:
        import tensorflow as tf

        gpus = [d.name for d in tf.config.list_physical_devices("GPU")]
        lines.append(f"GPU          {', '.join(gpus) if gpus else 'none (TensorFlow runs on the CPU)'}")
    except Exception as error:
        lines.append(f"GPU          unknown: TensorFlow is not importable ({error})")
    lines.append(f"cache folder {paths.cache_dir(create=False)}  (${paths.CACHE_ENV})")
    lines.append(f"data folder  {paths.data_dir()}  (${paths.DATA_ENV})")
    found = samples.available_samples()
    lines.append(
        f"sample videos {len(found)} found"
        + ("" if found else " (run `twostream-lab samples` to download them)")
    )
    try:
        from .pretrained import cached_pretrained_files

        cached = cached_pretrained_files()
        lines.append(
            "pretrained   "
            + (", ".join(str(p) for p in cached) if cached else "not downloaded yet (Colab: load_two_stream())")
        )
    except ImportError as error:
        lines.append(
            f"pretrained   unknown: Keras cannot load ({error}); "
            'install TensorFlow, e.g. pip install "twostream-lab[cpu]"'
        )
    return "\n".join(lines)


def _doctor(args: argparse.Namespace) -> int:
    print(doctor_report())
    return 0


def _samples(args: argparse.Namespace) -> int:
    from .paths import data_dir
    from .samples import download_samples

    paths = download_samples(args.names or None, progress=not args.quiet)
    print(f"{len(paths)} sample videos in {data_dir()}")
    return 0


def _flow(args: argparse.Namespace) -> int:
    from .flow import flow_command

    print(
        flow_command(
            args.video,
            args.out,
            method=args.method,
            workers=args.workers,
            cache=not args.no_cache,
            bound=args.bound,
            short_side=args.short_side,
            max_frames=args.max_frames,
            progress=not args.quiet,
        )
    )
    return 0


def _predict(args: argparse.Namespace) -> int:
    from .predict import run_predict

    print(
        run_predict(
            args.video,
            weights=args.weights,
            flow_method=args.flow,
            sampling=args.sampling,
            out=args.out,
            as_json=args.json,
            batch_size=args.batch_size,
            progress=not (args.quiet or args.json),
        )
    )
    return 0


def _demo(args: argparse.Namespace) -> int:
    from .predict import run_demo

    print(run_demo(args.out, label=args.label, seed=args.seed, progress=not args.quiet))
    return 0


def _train_demo(args: argparse.Namespace) -> int:
    from .demo_models import run_train_demo

    print(run_train_demo(out_dir=args.out_dir, seed=args.seed, progress=not args.quiet))
    return 0


def _check(args: argparse.Namespace) -> int:
    from .checker import run_check

    text, code = run_check(args.paths, args.csv, optional=tuple(args.optional))
    print(text)
    return code


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="twostream-lab",
        description="Two-stream action recognition lab (Simonyan & Zisserman 2014).",
    )
    parser.add_argument("--version", action="version", version=f"twostream-lab {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, handler: Callable[[argparse.Namespace], int], help: str):
        p = sub.add_parser(name, help=help, description=help)
        p.set_defaults(handler=handler)
        return p

    command("doctor", _doctor, "report versions, cv2.optflow, GPU, folders and cached files")

    p = command("samples", _samples, "download the sample videos into the data folder")
    p.add_argument("names", nargs="*", help="file names to download (default: all)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p = command("demo", _demo, "offline main job: synthetic clip, flow, both streams, fused top-5, demo video")
    p.add_argument("--out", default="demo.mp4", help="annotated video to write (default demo.mp4)")
    p.add_argument("--label", default=None, help="synthetic class (name or index; default: one at random from --seed)")
    p.add_argument("--seed", type=int, default=0, help="seed of the synthetic clip")
    p.add_argument("--quiet", action="store_true", help="no progress bars")

    p = command("flow", _flow, "compute the quantised optical flow of a video into an .npz file")
    p.add_argument("video", help="video file or http(s) URL")
    p.add_argument("--out", required=True, help="the .npz file to write (arrays u, v)")
    p.add_argument("--method", default="tvl1", help="tvl1 (default), tvl1-fast, tvl1-tf, dis, farneback or auto")
    p.add_argument("--workers", type=int, default=None, help="worker processes (default: chosen by measurement)")
    p.add_argument("--bound", type=float, default=20, help="clip flow to +-bound pixels (default 20)")
    p.add_argument("--short-side", type=int, default=None, help="resize frames to this short side first (training data: 256)")
    p.add_argument("--max-frames", type=int, default=None, help="read at most this many frames")
    p.add_argument("--no-cache", action="store_true", help="neither read nor write the flow cache")
    p.add_argument("--quiet", action="store_true", help="no progress bar")

    p = command("predict", _predict, "top-5 of each stream and fused for a video")
    p.add_argument("video", help="video file or http(s) URL")
    p.add_argument("--weights", default="pretrained", help="pretrained (default), demo, or SPATIAL.h5,MOTION.h5")
    p.add_argument("--flow", default="tvl1", help="flow method (default tvl1, as the training data)")
    p.add_argument("--sampling", default="all", help="all frames (default, the tutorial) or a number of evenly spaced samples, e.g. 19 (the authors' protocol)")
    p.add_argument("--out", default=None, help="also write the annotated demo video here (.mp4)")
    p.add_argument("--batch-size", type=int, default=8, help="frames per model call (default 8)")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.add_argument("--quiet", action="store_true", help="no progress bars")

    p = command("train-demo", _train_demo, "retrain the offline demo models and print their accuracies")
    p.add_argument("--out-dir", default=None, help="where to write the weights (default: <cache>/demo-models)")
    p.add_argument("--seed", type=int, default=0, help="training seed (default 0, the shipped models)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")

    p = command("check", _check, "check executed student submissions of the activity notebook")
    p.add_argument("paths", nargs="+", help=".ipynb files or folders of them")
    p.add_argument("--csv", help="also write the report as CSV to this file")
    p.add_argument(
        "--optional",
        action="append",
        default=[],
        metavar="CHECK",
        help="report CHECK without failing on it (e.g. individual, for pair work)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
