"""The ``twostream-lab`` command line.

Each sub-command only parses its arguments and calls the one library function that does the work,
so everything the command line does can also be done from a notebook.

Errors are checked before any work: a bad option value is a usage error (exit status 2, from
argparse, at parse time); an input that cannot be read, an output that cannot be written, an
unsupported video or weights that cannot be had print one message naming the problem and the fix,
in the options' own spelling (exit status 1). Any other exception is a bug and shows its
traceback; ``--debug`` (or ``TWOSTREAM_LAB_DEBUG=1``) shows the traceback of every error.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from twostream_lab import __version__

#: Set to 1 to see the full traceback of every error, as with ``--debug``.
DEBUG_ENV = "TWOSTREAM_LAB_DEBUG"


def _doctor(args: argparse.Namespace) -> int:
    from twostream_lab.commands import doctor_report

    print(doctor_report())
    return 0


def _samples(args: argparse.Namespace) -> int:
    from twostream_lab.data.paths import data_dir
    from twostream_lab.data.samples import SampleDownloadError, download_samples

    try:
        paths = download_samples(args.names or None, progress=not args.quiet)
    except SampleDownloadError as error:
        print(error, file=sys.stderr)
        return 1
    print(f"{len(paths)} sample videos in {data_dir()}")
    return 0


class CommandError(Exception):
    """A problem with the user's files that a command finds before any work (exit status 1)."""


# --------------------------------------------------------------------------- option values
# argparse types: a bad value is a usage error (exit status 2) before anything is loaded.


def _whole_number(minimum: int, example: int | None = None) -> Callable[[str], int]:
    such_as = "" if example is None else f", such as {example}"

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum:
            raise argparse.ArgumentTypeError(
                f"must be a whole number of {minimum} or more{such_as}; got {text!r}"
            )
        return value

    return parse


def _positive_number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a positive number, such as 20; got {text!r}")
    return value


def _flow_method(text: str) -> str:
    from twostream_lab.flow import FLOW_METHODS

    if text not in FLOW_METHODS:
        raise argparse.ArgumentTypeError(
            f"unknown flow method {text!r}; choose one of {', '.join(FLOW_METHODS)}"
        )
    return text


def _weights(text: str) -> str:
    from twostream_lab.commands import parse_weights

    try:
        parse_weights(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"give pretrained, demo, or two weights files as SPATIAL.h5,MOTION.h5; got {text!r}"
        ) from None
    return text


def _sampling(text: str) -> str | int:
    from twostream_lab.predict import parse_sampling
    from twostream_lab.predict import DEFAULT_SAMPLES

    try:
        return parse_sampling(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"give all, sampled ({DEFAULT_SAMPLES} samples) or a number of samples of 1 or more, "
            f"such as 19; got {text!r}"
        ) from None


def _synthetic_label(text: str) -> int | str:
    from twostream_lab.offline_lab.synthetic import synthetic_class_index

    label = int(text) if text.strip().isdigit() else text
    try:
        synthetic_class_index(label)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return label


def _file_name(suffix: str, what: str, example: str) -> Callable[[str], str]:
    """An ``--out`` type: the name must end in ``suffix``, the only kind the writer produces.

    An existing folder passes: the handler says that it needs a file name in it.
    """

    def parse(text: str) -> str:
        if Path(text).suffix.lower() != suffix and not Path(text).expanduser().is_dir():
            raise argparse.ArgumentTypeError(
                f"{what}: give a file name ending in {suffix}, such as {example}; got {text!r}"
            )
        return text

    return parse


# --------------------------------------------------------------------------- files
# Checked by the handlers before the work starts: a problem here is exit status 1.

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")  # as read_video tells URLs from paths


def _check_readable(path: str, what: str) -> None:
    """Raise :class:`CommandError` unless the local file ``path`` can be opened (URLs pass)."""
    if _URL.match(path):
        return
    file = Path(path).expanduser()
    try:
        with open(file, "rb"):
            pass
    except FileNotFoundError:
        raise CommandError(
            f"{path}: no such file (looked in {file.absolute().parent}); check the path and the "
            "file name"
        ) from None
    except IsADirectoryError:
        raise CommandError(f"{path} is a folder, not a {what}; give the path of the file") from None
    except OSError as error:
        raise CommandError(
            f"{path}: cannot read it ({error.strerror}); check its permissions"
        ) from None


def _check_writable(path: str, option: str = "--out", *, example: str | None = None) -> None:
    """Raise :class:`CommandError` unless ``path`` can be written: a file beside which the lab can
    create its temporary file, or with ``example=None`` a folder (created if missing).

    Writability is probed (a temporary file named with ``TEMP_PREFIX`` is created and removed),
    since permission bits do not tell: root writes read-only folders, a read-only mount refuses
    everyone.
    """
    from twostream_lab.data.paths import TEMP_PREFIX

    target = Path(path).expanduser()
    if example is not None and target.is_dir():
        raise CommandError(
            f"{option} {path} is a folder: give a file name such as {Path(path) / example}"
        )
    if example is None and target.exists() and not target.is_dir():
        raise CommandError(f"{option} {path} is a file, not a folder: give a folder")
    folder = target if example is None else target.parent
    existing = next((p for p in (folder, *folder.parents) if p.exists()), Path.cwd())
    if not existing.is_dir():
        raise CommandError(f"{option} {path}: {existing} is a file, not a folder; check the path")
    if example is not None and existing != folder:
        raise CommandError(
            f"{option} {path}: the folder {folder} does not exist; create it first "
            f"(mkdir -p {folder}) or give another {option}"
        )
    try:
        fd, probe = tempfile.mkstemp(dir=existing, prefix=f"{TEMP_PREFIX}probe-")
    except OSError as error:
        raise CommandError(
            f"{option} {path}: cannot write in the folder {existing} ({error.strerror}); "
            f"give a {option} in a folder you can write to"
        ) from None
    os.close(fd)
    os.unlink(probe)


def _stem(video: str) -> str:
    return Path(video).stem or "clip"


def _flow(args: argparse.Namespace) -> int:
    _check_readable(args.video, "video file")
    _check_writable(args.out, example=f"{_stem(args.video)}_flow.npz")
    from twostream_lab.commands import flow_command

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
    from twostream_lab.commands import parse_weights, run_predict

    if args.out is not None:
        _check_writable(args.out, example=f"{_stem(args.video)}_demo.mp4")
    weights = parse_weights(args.weights)
    for path in weights if isinstance(weights, tuple) else ():
        _check_readable(path, "weights file")
    _check_readable(args.video, "video file")
    print(
        run_predict(
            args.video,
            weights=args.weights,
            flow_method=args.flow,
            sampling=args.sampling,
            out=args.out,
            as_json=args.json,
            batch_size=args.batch_size,
            short_side=args.short_side,
            max_frames=args.max_frames,
            progress=not (args.quiet or args.json),
        )
    )
    return 0


def _demo(args: argparse.Namespace) -> int:
    _check_writable(args.out, example="demo.mp4")
    from twostream_lab.commands import run_demo

    print(run_demo(args.out, label=args.label, seed=args.seed, progress=not args.quiet))
    return 0


def _train_demo(args: argparse.Namespace) -> int:
    if args.out_dir is not None:
        _check_writable(args.out_dir, "--out-dir")
    from twostream_lab.commands import run_train_demo

    print(run_train_demo(out_dir=args.out_dir, seed=args.seed, progress=not args.quiet))
    return 0


def _check(args: argparse.Namespace) -> int:
    from twostream_lab.instructor.checker import run_check

    text, code = run_check(
        args.paths,
        args.csv,
        html_path=args.html,
        allow_demo=args.allow_demo,
        optional=tuple(args.optional),
    )
    print(text)
    return code


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="twostream-lab",
        description="Two-stream action recognition lab (Simonyan & Zisserman 2014).",
    )
    parser.add_argument("--version", action="version", version=f"twostream-lab {__version__}")
    debug_help = f"show the full traceback of an error (or set {DEBUG_ENV}=1)"
    parser.add_argument("--debug", action="store_true", help=debug_help)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    # --debug also after the command; SUPPRESS keeps the global one when it is not repeated there
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=debug_help)

    def command(name: str, handler: Callable[[argparse.Namespace], int], help: str):
        p = sub.add_parser(name, help=help, description=help, parents=[common])
        p.set_defaults(handler=handler)
        return p

    seed = _whole_number(0)
    short_side = _whole_number(1, 256)
    max_frames = _whole_number(1, 60)
    mp4 = _file_name(".mp4", "the annotated video is an H.264 mp4", "demo.mp4")

    command("doctor", _doctor, "report versions, cv2.optflow, GPU, folders and cached files")

    p = command("samples", _samples, "download the sample videos into the data folder")
    p.add_argument("names", nargs="*", help="file names to download (default: all)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p = command("demo", _demo, "offline main job: synthetic clip, flow, both streams, fused top-5, demo video")
    p.add_argument("--out", type=mp4, default="demo.mp4", help="annotated video to write (default demo.mp4)")
    p.add_argument("--label", type=_synthetic_label, default=None, help="synthetic class (name or index; default: one at random from --seed)")
    p.add_argument("--seed", type=seed, default=0, help="seed of the synthetic clip")
    p.add_argument("--quiet", action="store_true", help="no progress bars")

    p = command("flow", _flow, "compute the quantised optical flow of a video into an .npz file")
    p.add_argument("video", help="video file or http(s) URL")
    p.add_argument("--out", type=_file_name(".npz", "flow files are .npz archives", "clip_flow.npz"), required=True, help="the .npz file to write (arrays u, v)")
    p.add_argument("--method", type=_flow_method, default="tvl1", help="tvl1 (default), tvl1-fast, tvl1-tf, dis, farneback or auto")
    p.add_argument("--workers", type=_whole_number(1, 2), default=None, help="worker processes (default: chosen by measurement)")
    p.add_argument("--bound", type=_positive_number, default=20, help="clip flow to +-bound pixels (default 20)")
    p.add_argument("--short-side", type=short_side, default=None, help="resize frames to this short side when reading (training data: 256)")
    p.add_argument("--max-frames", type=max_frames, default=None, help="read at most this many frames")
    p.add_argument("--no-cache", action="store_true", help="neither read nor write the flow cache")
    p.add_argument("--quiet", action="store_true", help="no progress bar")

    p = command("predict", _predict, "top-5 of each stream and fused for a video")
    p.add_argument("video", help="video file or http(s) URL")
    p.add_argument("--weights", type=_weights, default="pretrained", help="pretrained (default), demo, or SPATIAL.h5,MOTION.h5")
    p.add_argument("--flow", type=_flow_method, default="tvl1", help="flow method (default tvl1, as the training data)")
    p.add_argument("--sampling", type=_sampling, default="all", help="all frames (default, the tutorial) or a number of evenly spaced samples, e.g. 19 (the authors' protocol)")
    p.add_argument("--out", type=mp4, default=None, help="also write the annotated demo video here (.mp4)")
    p.add_argument("--batch-size", type=_whole_number(1, 8), default=8, help="frames per model call (default 8)")
    p.add_argument("--short-side", type=short_side, default=None, help="resize frames to this short side when reading (training data: 256)")
    p.add_argument("--max-frames", type=max_frames, default=None, help="read at most this many frames")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.add_argument("--quiet", action="store_true", help="no progress bars")

    p = command("train-demo", _train_demo, "retrain the offline demo models and print their accuracies")
    p.add_argument("--out-dir", default=None, help="where to write the weights (default: <cache>/demo-models)")
    p.add_argument("--seed", type=seed, default=0, help="training seed (default 0, the shipped models)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")

    p = command("check", _check, "check executed student submissions of the activity notebook")
    p.add_argument("paths", nargs="+", help=".ipynb files or folders of them")
    p.add_argument("--csv", help="also write the report as CSV to this file")
    p.add_argument("--html", help="also write an HTML page with every answer, question by question")
    p.add_argument(
        "--allow-demo",
        action="store_true",
        help="accept activities run with the demo models instead of the pretrained ones",
    )
    p.add_argument(
        "--optional",
        action="append",
        default=[],
        metavar="CHECK",
        help="report CHECK without failing on it (e.g. individual, for pair work)",
    )

    p = command("evaluate", _evaluate, "accuracy of both streams and every fusion on a whole dataset, on a Dask cluster, resumable")
    p.add_argument("videos", help="a folder of videos, a UCF101 list file (testlist01.txt) or a glob such as 'videos/*.avi'")
    p.add_argument("--weights", type=_weights, default="pretrained", help="pretrained (default), demo, or SPATIAL.h5,MOTION.h5")
    p.add_argument("--flow", type=_flow_method, default="tvl1", help="flow method (default tvl1, as the training data; dis is fast)")
    p.add_argument("--sampling", type=_sampling, default="all", help="all frames (default) or a number of evenly spaced samples, e.g. 19 (the authors' protocol)")
    cluster = p.add_mutually_exclusive_group()
    cluster.add_argument("--workers", type=_whole_number(1, 2), default=None, help="local worker processes (default: half the cores)")
    cluster.add_argument("--scheduler", default=None, help="address of an existing Dask scheduler, e.g. tcp://HOST:8786")
    p.add_argument("--out", required=True, help="results folder: one result per video, CSV tables, confusion.png; a re-run resumes")
    p.add_argument("--root", default=None, help="folder of a list file's videos (default: the list's folder, then $TWOSTREAM_LAB_DATA/ucf101/videos)")
    p.add_argument("--compare-flow", default=None, metavar="A,B", help="run two flow methods (e.g. tvl1,dis) and show the accuracy difference per class")
    p.add_argument("--batch-size", type=_whole_number(1, 8), default=8, help="frames per model call (default 8)")
    p.add_argument("--retry-failed", action="store_true", help="evaluate again the videos an earlier run recorded as failed")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def _evaluate(args: argparse.Namespace) -> int:
    _check_writable(args.out, "--out")
    from twostream_lab.commands import run_evaluate
    from twostream_lab.evaluation.dataset import EvaluationError

    try:
        text = run_evaluate(
            args.videos, weights=args.weights, flow=args.flow, sampling=args.sampling,
            out=args.out, workers=args.workers, scheduler=args.scheduler, root=args.root,
            compare_flow=args.compare_flow, batch_size=args.batch_size,
            retry_failed=args.retry_failed, progress=not args.quiet,
        )
    except EvaluationError as error:
        raise CommandError(str(error)) from None
    print(text)
    return 0


# --------------------------------------------------------------------------- errors

#: The library's keyword arguments that a sub-command sets with an option, and that option: hints
#: in library messages ("pass method='dis'") are rewritten in the command's spelling ("--flow dis").
_OPTIONS: Mapping[str, Mapping[str, str]] = {
    "flow": {"method": "--method", "workers": "--workers", "bound": "--bound",
             "short_side": "--short-side", "max_frames": "--max-frames"},
    "predict": {"method": "--flow", "flow_method": "--flow", "batch_size": "--batch-size",
                "sampling": "--sampling", "short_side": "--short-side",
                "max_frames": "--max-frames"},
}
_KEYWORD_VALUE = re.compile(r"\b(?P<key>[a-z_]+)=(?P<values>'[^']*'(?: or '[^']*')*|[\w.+-]+)")
_BARE_KEYWORD = re.compile(r"\b(?P<key>[a-z]+_[a-z_]+)\b(?!=)")
_NO_OPTION_CLAUSE = re.compile(r",? or pass (?P<key>[a-z_]+)=[^.]*")
_NO_OPTION_SENTENCE = re.compile(r"\s*Or pass (?:a larger )?(?P<key>[a-z_]+)=[^.]*\.")
_LARGER_READ = re.compile(r"(?P<listed>, )?pass a larger read_video\(\.\.\., (?P<key>[a-z_]+)=[^)]*\)"
                          r"(?(listed)(?=,))")

# Exceptions that are the user's to fix. Besides these, FlowError and PretrainedError (both
# RuntimeError), looked up only when their module was imported, so that nothing is loaded here.
_USER_ERRORS = (CommandError, ValueError, FileNotFoundError, PermissionError, IsADirectoryError,
                NotADirectoryError)
_LIBRARY_ERRORS = (("twostream_lab.flow", "FlowError"),
                   ("twostream_lab.weights.pretrained", "PretrainedError"))
_OS_ERROR_FIXES = (
    (FileNotFoundError, "check the path"),
    (PermissionError, "check its permissions, or choose another path"),
    (IsADirectoryError, "it is a folder: give a file name"),
    (NotADirectoryError, "a part of the path is a file, not a folder: check the path"),
)


def cli_spelling(message: str, options: Mapping[str, str]) -> str:
    """Rewrite a library message's Python hints in a command's spelling.

    ``options`` maps keyword arguments to the command's options. A hint for a keyword the command
    has no option for ("or pass workers=1 ...") is dropped, or for a larger download limit
    replaced by downloading the file yourself.

    Examples
    --------
    >>> cli_spelling("or pass method='dis' or 'farneback'; max_frames=60 fits",
    ...              {"method": "--flow", "max_frames": "--max-frames"})
    'or pass --flow dis or --flow farneback; --max-frames 60 fits'
    """

    def unless_offered(match: re.Match) -> str:
        return match[0] if match["key"] in options else ""

    def download_instead(match: re.Match) -> str:
        if match["key"] in options:
            return match[0]
        return "" if match["listed"] else "download it yourself and pass its path"

    def keyword_value(match: re.Match) -> str:
        option = options.get(match["key"])
        if option is None:
            return match[0]
        values = re.findall(r"'([^']*)'", match["values"]) or [match["values"]]
        return " or ".join(f"{option} {value}" for value in values)

    message = _NO_OPTION_SENTENCE.sub(unless_offered, message)
    message = _NO_OPTION_CLAUSE.sub(unless_offered, message)
    message = _LARGER_READ.sub(download_instead, message)
    message = message.replace(" with read_video(...)", "")
    message = _KEYWORD_VALUE.sub(keyword_value, message)
    return _BARE_KEYWORD.sub(lambda m: options.get(m["key"], m[0]), message)


def _is_user_error(error: BaseException) -> bool:
    if isinstance(error, _USER_ERRORS):
        return True
    return any(isinstance(error, getattr(sys.modules[module], name, ()))
               for module, name in _LIBRARY_ERRORS if module in sys.modules)


def _error_message(error: BaseException) -> str:
    if isinstance(error, OSError) and error.filename is not None:
        fix = next(fix for kind, fix in _OS_ERROR_FIXES if isinstance(error, kind))
        return f"{error.filename}: {error.strerror}; {fix}"
    return str(error) or type(error).__name__


def _debug_wanted(args: argparse.Namespace) -> bool:
    return args.debug or os.environ.get(DEBUG_ENV, "").strip().lower() not in ("", "0", "false")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return its exit status (argparse exits with 2 on a usage error)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return args.handler(args)
    except Exception as error:
        if _debug_wanted(args) or not _is_user_error(error):
            raise
        message = cli_spelling(_error_message(error), _OPTIONS.get(args.command, {}))
        print(f"twostream-lab {args.command}: error: {message}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
