"""Video-level accuracy of the two streams on UCF101 split 1, from the published ``.preds`` files.

Each pretrained zip holds a ``.preds`` file: a pickle of ``(scores, 19)`` where ``scores``
maps each of the 3,783 split-1 test videos (keys like ``ApplyEyeMakeup_g08_c01``: no ``v_``,
no ``.avi``, ``HandstandPushups`` spelled as in ``classInd.txt``) to the sum of the softmax
outputs of 19 frames (or flow stacks) of the video. Averaging the two streams' scores gives
the published table: spatial 86.04 %, motion 84.40 %, average fusion 91.25 % top-1.

The pickle is read with an unpickler that only rebuilds numpy arrays and plain Python
containers, so a tampered ``.preds`` file cannot run code.
"""

from __future__ import annotations

import collections
import pickle
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np

from twostream_lab.data.classes import UCF101_CLASSES, class_index, normalize_class_name
from twostream_lab.data.paths import data_dir
from twostream_lab.fusion import check_fusion, fuse_scores

__all__ = ["PUBLISHED_TOP1", "PredsError", "VideoAccuracy", "evaluate_two_stream",
           "format_accuracy_table", "fuse_preds", "read_preds", "read_test_list",
           "video_accuracy", "video_key"]

#: Top-1 video accuracy on UCF101 split 1 published with the pretrained models.
PUBLISHED_TOP1: dict[str, float] = {"spatial": 0.8604, "motion": 0.8440, "average": 0.9125}

_KEY = re.compile(r"^(?P<cls>[A-Za-z]+)_(?P<group>g\d+)_(?P<clip>c\d+)$")
_SAFE_BUILTINS = frozenset({"dict", "list", "tuple", "set", "frozenset", "int", "float",
                            "complex", "bool", "str", "bytes", "bytearray"})


class PredsError(ValueError):
    """A ``.preds`` file is not the expected pickle, or its videos do not match a test list."""


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Rebuilds numpy arrays, numpy scalars and builtin containers; refuses everything else."""

    def __init__(self, file, path: Path):
        super().__init__(file, encoding="latin1")
        self._path = path
        reconstruct = np.zeros(1).__reduce__()[0]  # numpy's array rebuilder, wherever it lives
        scalar = np.float32(0).__reduce__()[0]
        self._allowed = {("numpy", "ndarray"): np.ndarray, ("numpy", "dtype"): np.dtype,
                         ("collections", "OrderedDict"): collections.OrderedDict,
                         # protocol-2 pickles spell bytes as _codecs.encode(str, "latin1")
                         ("_codecs", "encode"): lambda text, encoding="utf-8":
                         text.encode(encoding)}
        for module in ("numpy.core.multiarray", "numpy._core.multiarray"):
            self._allowed[(module, "_reconstruct")] = reconstruct
            self._allowed[(module, "scalar")] = scalar

    def find_class(self, module: str, name: str):
        if module == "builtins" and name in _SAFE_BUILTINS:
            return super().find_class(module, name)
        try:
            return self._allowed[(module, name)]
        except KeyError:
            raise PredsError(
                f"{self._path} asks the unpickler for {module}.{name}; a .preds file only holds "
                "a dict of numpy arrays, so it was not loaded (the file is not an original "
                ".preds file, or it was tampered with)") from None


def read_preds(path) -> tuple[dict[str, np.ndarray], int]:
    """Read a ``.preds`` file safely: ``(video key -> summed softmax scores, frames per video)``.

    Parameters
    ----------
    path : str or Path
        ``spatial.preds`` or ``motion.preds`` from the pretrained zips (see
        :func:`twostream_lab.weights.pretrained.fetch_pretrained`), or a file of the same layout.

    Returns
    -------
    scores : dict of str to ndarray
        One float64 vector of class scores per video (the sum over the sampled frames).
    frames : int
        Number of frames summed per video (19 in the published files).

    Raises
    ------
    PredsError
        Not a pickle of ``(dict, int)`` with equal-length score vectors, or a pickle that asks
        for anything other than numpy arrays (it is refused before anything runs).

    Examples
    --------
    >>> scores, frames = read_preds("spatial.preds")  # doctest: +SKIP
    >>> len(scores), frames  # doctest: +SKIP
    (3783, 19)
    """
    path = Path(path)
    with open(path, "rb") as file:
        try:
            content = _NumpyOnlyUnpickler(file, path).load()
        except PredsError:
            raise
        except Exception as exc:  # any malformed pickle: EOFError, UnpicklingError, ...
            raise PredsError(f"{path} is not a readable .preds pickle: {exc!r}") from exc
    if not (isinstance(content, tuple | list) and len(content) == 2
            and isinstance(content[0], dict) and isinstance(content[1], int | np.integer)):
        raise PredsError(f"{path} should hold the pair (dict video -> scores, frames per video); "
                         f"it holds a {type(content).__name__}")
    raw, frames = content
    scores = {}
    for key, value in raw.items():
        array = np.asarray(value)
        if not isinstance(key, str) or array.ndim != 1 or array.dtype.kind not in "fiu":
            raise PredsError(f"{path}: entry {key!r} should map a video name to a 1-D numeric "
                             f"score vector; got {array.dtype} with shape {array.shape}")
        scores[key] = array.astype(np.float64)
    lengths = {len(v) for v in scores.values()}
    if len(lengths) > 1:
        raise PredsError(f"{path}: the score vectors have different lengths {sorted(lengths)}")
    return scores, int(frames)


def video_key(name: str) -> str:
    """Return the ``.preds`` key of a UCF101 video name or test-list line.

    Examples
    --------
    >>> video_key("HandstandPushups/v_HandStandPushups_g01_c01.avi")
    'HandstandPushups_g01_c01'
    >>> video_key("ApplyEyeMakeup_g08_c01")
    'ApplyEyeMakeup_g08_c01'
    """
    stem = PurePosixPath(name.strip().replace("\\", "/")).name
    stem = stem.removesuffix(".avi").removeprefix("v_")
    match = _KEY.match(stem)
    if match is None:
        raise ValueError(f"{name!r} is not a UCF101 video name like "
                         "'ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi'")
    return f"{normalize_class_name(match['cls'])}_{match['group']}_{match['clip']}"


def _label_of_key(key: str) -> int:
    return class_index(key.rsplit("_", 2)[0])


def read_test_list(path=None) -> list[tuple[str, int]]:
    """Parse a UCF101 split list (``testlist01.txt``) into ``(video key, class index)`` pairs.

    Parameters
    ----------
    path : str or Path, optional
        The list; by default ``<data folder>/ucf101/testlist01.txt``. Lines look like
        ``ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi`` (train lists add a 1-based label, which
        is ignored: the class comes from the folder name).

    Examples
    --------
    >>> pairs = read_test_list()  # doctest: +SKIP
    >>> len(pairs), pairs[0]  # doctest: +SKIP
    (3783, ('ApplyEyeMakeup_g01_c01', 0))
    """
    path = Path(path) if path is not None else data_dir("ucf101", "testlist01.txt")
    if not path.is_file():
        raise FileNotFoundError(
            f"no UCF101 split list at {path}: take testlist01.txt from "
            "UCF101TrainTestSplits-RecognitionTask.zip (https://www.crcv.ucf.edu/data/UCF101/) "
            "and pass its path, or put it in $TWOSTREAM_LAB_DATA/ucf101/")
    pairs = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        entry = line.split()[0]
        folder = PurePosixPath(entry).parent.name
        try:
            key = video_key(entry)
            label = class_index(folder) if folder else _label_of_key(key)
        except ValueError as exc:
            raise PredsError(f"{path}, line {number}: {exc}") from None
        if UCF101_CLASSES[label] != key.rsplit("_", 2)[0]:
            raise PredsError(f"{path}, line {number}: video {entry!r} is not in its class folder")
        pairs.append((key, label))
    return pairs


@dataclass(frozen=True)
class VideoAccuracy:
    """Video-level accuracy (fractions in [0, 1]) over ``num_videos`` videos."""

    top1: float
    top5: float
    num_videos: int


def video_accuracy(scores: dict[str, np.ndarray], test_list=None, *,
                   strict: bool = True) -> VideoAccuracy:
    """Top-1 and top-5 accuracy of one score per video.

    Parameters
    ----------
    scores : dict of str to ndarray
        Video key -> class scores (e.g. from :func:`read_preds` or :func:`fuse_preds`).
    test_list : list of (key, label) or str or Path, optional
        The videos to score and their labels (:func:`read_test_list` or its path). By default
        every video in ``scores``, labelled by the class in its key.
    strict : bool
        Raise if a test-list video has no score; otherwise skip it.

    Examples
    --------
    >>> video_accuracy({"YoYo_g01_c01": np.eye(101)[100]})
    VideoAccuracy(top1=1.0, top5=1.0, num_videos=1)
    """
    if test_list is None:
        pairs = [(key, _label_of_key(key)) for key in scores]
    elif isinstance(test_list, str | Path):
        pairs = read_test_list(test_list)
    else:
        pairs = list(test_list)
    missing = [key for key, _ in pairs if key not in scores]
    if missing and strict:
        raise PredsError(f"{len(missing)} of the {len(pairs)} test videos have no scores (first: "
                         f"{missing[:3]}); pass strict=False to score the others only")
    pairs = [(key, label) for key, label in pairs if key in scores]
    if not pairs:
        raise PredsError("no video of the test list has scores: are the keys like "
                         "'ApplyEyeMakeup_g01_c01'?")
    matrix = np.stack([scores[key] for key, _ in pairs])
    labels = np.array([label for _, label in pairs])
    order = np.argsort(-matrix, axis=1, kind="stable")
    top1 = float(np.mean(order[:, 0] == labels))
    top5 = float(np.mean(np.any(order[:, :5] == labels[:, None], axis=1)))
    return VideoAccuracy(top1=top1, top5=top5, num_videos=len(pairs))


def fuse_preds(spatial: dict[str, np.ndarray], motion: dict[str, np.ndarray], *,
               method: str = "average",
               weights: tuple[float, float] | None = None) -> dict[str, np.ndarray]:
    """Fuse the two streams' video scores, video by video, with :func:`~twostream_lab.fusion.fuse_scores`.

    ``method`` and ``weights`` are those of :func:`~twostream_lab.fusion.fuse_scores` (the same
    rules as for one video's frames). Only the videos scored by both streams are kept.

    Examples
    --------
    >>> fused = fuse_preds({"a": np.array([1.0, 0.0])}, {"a": np.array([0.0, 3.0])},
    ...                    method="weighted", weights=(3, 1))
    >>> fused["a"]
    array([0.75, 0.75])
    """
    check_fusion(method, weights)  # bad arguments first, even with no video in common
    return {key: fuse_scores(spatial[key], motion[key], method=method, weights=weights)
            for key in spatial if key in motion}


def evaluate_two_stream(spatial: dict[str, np.ndarray], motion: dict[str, np.ndarray],
                        test_list=None, *, weights: tuple[float, float] | None = None,
                        strict: bool = True) -> dict[str, VideoAccuracy]:
    """The published table: accuracy of each stream and of their average fusion.

    Parameters
    ----------
    spatial, motion : dict of str to ndarray
        The scores of :func:`read_preds` for each stream.
    test_list : optional
        As in :func:`video_accuracy`.
    weights : (float, float), optional
        Also report the weighted fusion with these (spatial, motion) weights.

    Returns
    -------
    dict
        ``"spatial"``, ``"motion"``, ``"average"`` (and ``"weighted"``) -> VideoAccuracy.

    Examples
    --------
    >>> s, _ = read_preds("spatial.preds"); m, _ = read_preds("motion.preds")  # doctest: +SKIP
    >>> evaluate_two_stream(s, m)["average"].top1  # doctest: +SKIP
    0.9125...
    """
    results = {"spatial": video_accuracy(spatial, test_list, strict=strict),
               "motion": video_accuracy(motion, test_list, strict=strict),
               "average": video_accuracy(fuse_preds(spatial, motion), test_list, strict=strict)}
    if weights is not None:
        fused = fuse_preds(spatial, motion, method="weighted", weights=weights)
        results["weighted"] = video_accuracy(fused, test_list, strict=strict)
    return results


def format_accuracy_table(results: dict[str, VideoAccuracy],
                          published: dict[str, float] | None = None) -> str:
    """Format :func:`evaluate_two_stream` results as a text table (percentages).

    Examples
    --------
    >>> print(format_accuracy_table({"spatial": VideoAccuracy(0.8604, 0.97, 3783)}))
    stream     top-1    top-5   published top-1   videos
    spatial   86.04%   97.00%            86.04%     3783
    """
    published = PUBLISHED_TOP1 if published is None else published
    lines = [f"{'stream':<8} {'top-1':>7} {'top-5':>8} {'published top-1':>17} {'videos':>8}"]
    for name, acc in results.items():
        ref = f"{100 * published[name]:.2f}%" if name in published else "-"
        lines.append(f"{name:<8} {100 * acc.top1:>6.2f}% {100 * acc.top5:>7.2f}% {ref:>17} "
                     f"{acc.num_videos:>8}")
    return "\n".join(lines)
