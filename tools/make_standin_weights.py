"""Build a stand-in mirror of the pretrained weights from the legacy .h5 fixtures.

    python tools/make_standin_weights.py OUT_DIR [--fixtures DIR] [--test-list FILE]

``OUT_DIR`` gets what an instructor's mirror holds (see ``twostream_lab.weights.pretrained``):
``spatial.zip`` and ``motion.zip``, laid out as the Google Drive zips (members
``<stream>.h5``, ``<stream>.log``, ``<stream>.preds``), and ``SHA256SUMS`` as
``sha256sum spatial.zip motion.zip`` writes it. Serve the folder (or pass it) as
``TWOSTREAM_LAB_WEIGHTS_URL`` and the whole download path runs without Google Drive.

These are **not** the trained models:

* ``<stream>.h5`` is ``<fixtures>/<stream>_tf1.h5.gz`` gunzipped (default fixtures:
  ``<repo>/../shared/fixtures/legacy_h5``): the exact architecture and TF 1.11 file format of
  the released models, with a deterministic weight pattern instead of trained weights;
* ``<stream>.preds`` holds synthetic scores in the released layout (a pickle of
  ``(scores, 19)``; ``scores`` maps each UCF101 split-1 test video, e.g.
  ``ApplyEyeMakeup_g08_c01``, to a float32 vector of 101 scores, the sum of 19 softmax
  vectors), drawn with seeded numpy so that each stream is right on about 80 % of the videos
  and their average on about 89 %. The videos are those of ``--test-list`` (default
  ``<repo>/../shared/data/ucf101/testlist01.txt``) when it exists, else 3,783 names made up
  from the class list (groups ``g01``..``g07``);
* ``<stream>.log`` says so in a few lines.

The output bytes are the same on every run with the same inputs, zlib and numpy (fixed zip
timestamps and attributes, fixed seeds). Importable: ``build_standin_mirror(out_dir,
fixtures=...)`` returns ``out_dir``.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import pickle
import shutil
import sys
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from twostream_lab.data.classes import UCF101_CLASSES
from twostream_lab.evaluation.preds import read_test_list
from twostream_lab.data.paths import atomic_file

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_FIXTURES = ROOT.parent / "shared" / "fixtures" / "legacy_h5"
DEFAULT_TEST_LIST = ROOT.parent / "shared" / "data" / "ucf101" / "testlist01.txt"
STREAMS = ("spatial", "motion")
#: Frames (or flow stacks) whose softmax outputs each released score vector sums.
FRAMES = 19
#: Videos in UCF101's split-1 test list.
NUM_TEST_VIDEOS = 3783
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip can hold: no build date
# Score model: logits = true-class strength + video noise (part shared by both streams, so the
# two streams err on partly the same videos) + frame noise; about 81 % / 79 % / 89 % top-1
# (spatial / motion / average), deliberately not the published 86.04 / 84.40 / 91.25.
_STRENGTH = {"spatial": 3.8, "motion": 3.65}
_SEEDS = {"spatial": 1, "motion": 2}
_SHARED_SEED = 0
_SHARED_NOISE, _OWN_NOISE = 0.8, 0.7

_LOG = """\
Stand-in weights for twostream-lab, NOT the trained UCF101 models.
{stream}.h5 is the {stream}_tf1.h5 test fixture: the architecture and TensorFlow 1.11 file
format of mohammed-elkomy's {stream} model, with a deterministic weight pattern instead of
trained weights. {stream}.preds holds synthetic scores (seeded numpy) in the released layout.
Built by tools/make_standin_weights.py to test the download path without Google Drive.
"""


def _generated_test_videos() -> list[tuple[str, int]]:
    """3,783 split-1-like ``(key, label)`` pairs: 37 or 38 clips per class over g01..g07."""
    base, extra = divmod(NUM_TEST_VIDEOS, len(UCF101_CLASSES))
    pairs = []
    for label, name in enumerate(UCF101_CLASSES):
        count = base + (label < extra)
        for group in range(1, 8):
            clips = count // 7 + (group <= count % 7)
            pairs += [(f"{name}_g{group:02d}_c{clip:02d}", label) for clip in range(1, clips + 1)]
    return pairs


def split1_test_videos(test_list: str | Path | None = DEFAULT_TEST_LIST) -> list[tuple[str, int]]:
    """The ``(video key, class index)`` pairs the ``.preds`` files score.

    Parameters
    ----------
    test_list : str or Path, optional
        UCF101's ``testlist01.txt``; when it is None or absent, the pairs are made up from the
        class list.
    """
    if test_list is not None and Path(test_list).is_file():
        return read_test_list(test_list)
    return _generated_test_videos()


def standin_scores(pairs: Sequence[tuple[str, int]]) -> dict[str, dict[str, np.ndarray]]:
    """``{stream: {video key: float32 (101,) sum of 19 softmax vectors}}``, deterministic."""
    labels = np.array([label for _, label in pairs])
    count, rows = len(labels), np.arange(len(labels))
    shape = (count, 1, len(UCF101_CLASSES))
    shared = np.random.default_rng(_SHARED_SEED).standard_normal(shape, dtype=np.float32)
    scores = {}
    for stream in STREAMS:
        rng = np.random.default_rng(_SEEDS[stream])
        logits = rng.standard_normal((count, FRAMES, len(UCF101_CLASSES)), dtype=np.float32)
        logits += _SHARED_NOISE * shared
        logits += _OWN_NOISE * rng.standard_normal(shape, dtype=np.float32)
        logits[rows, :, labels] += _STRENGTH[stream]
        logits -= logits.max(axis=-1, keepdims=True)
        softmax = np.exp(logits)
        softmax /= softmax.sum(axis=-1, keepdims=True)
        summed = softmax.sum(axis=1, dtype=np.float32)
        scores[stream] = {key: summed[i] for i, (key, _) in enumerate(pairs)}
    return scores


def _member(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3  # Unix, whatever machine builds it
    info.external_attr = 0o644 << 16
    return info


def _write_zip(path: Path, stream: str, h5_gz: Path, preds: bytes) -> None:
    with atomic_file(path) as tmp, zipfile.ZipFile(tmp, "w") as zipped:
        with gzip.open(h5_gz) as src, zipped.open(_member(f"{stream}.h5"), "w") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        zipped.writestr(_member(f"{stream}.log"), _LOG.format(stream=stream))
        zipped.writestr(_member(f"{stream}.preds"), preds)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def build_standin_mirror(out_dir: str | Path, *, fixtures: str | Path = DEFAULT_FIXTURES,
                         test_list: str | Path | None = DEFAULT_TEST_LIST) -> Path:
    """Write ``spatial.zip``, ``motion.zip`` and ``SHA256SUMS`` into ``out_dir``.

    Parameters
    ----------
    out_dir : str or Path
        Created if needed; the three files in it are replaced.
    fixtures : str or Path
        The folder with ``spatial_tf1.h5.gz`` and ``motion_tf1.h5.gz``.
    test_list : str or Path, optional
        UCF101's ``testlist01.txt``, for the ``.preds`` keys (see :func:`split1_test_videos`).

    Returns
    -------
    Path
        ``out_dir``, to pass as ``mirror=`` or serve as ``TWOSTREAM_LAB_WEIGHTS_URL``.

    Examples
    --------
    >>> build_standin_mirror("/tmp/weights")  # doctest: +SKIP
    PosixPath('/tmp/weights')
    """
    out, fixtures = Path(out_dir), Path(fixtures)
    sources = {stream: fixtures / f"{stream}_tf1.h5.gz" for stream in STREAMS}
    missing = [str(path) for path in sources.values() if not path.is_file()]
    if missing:
        raise FileNotFoundError(
            f"no legacy .h5 fixtures at {', '.join(missing)}: pass --fixtures (fixtures=) the "
            "folder holding spatial_tf1.h5.gz and motion_tf1.h5.gz (../shared/fixtures/"
            "legacy_h5 in a checkout beside the shared data)")
    out.mkdir(parents=True, exist_ok=True)
    scores = standin_scores(split1_test_videos(test_list))
    lines = []
    for stream in STREAMS:
        path = out / f"{stream}.zip"
        _write_zip(path, stream, sources[stream], pickle.dumps((scores[stream], FRAMES),
                                                               protocol=3))
        lines.append(f"{_sha256(path)}  {path.name}\n")
    with atomic_file(out / "SHA256SUMS") as tmp:
        tmp.write_text("".join(lines))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", type=Path, help="folder for spatial.zip, motion.zip, SHA256SUMS")
    parser.add_argument("--fixtures", type=Path, default=DEFAULT_FIXTURES,
                        help=f"folder with the *_tf1.h5.gz fixtures (default {DEFAULT_FIXTURES})")
    parser.add_argument("--test-list", type=Path, default=DEFAULT_TEST_LIST,
                        help="UCF101 testlist01.txt for the .preds keys (made up when absent)")
    args = parser.parse_args(argv)
    try:
        out = build_standin_mirror(args.out_dir, fixtures=args.fixtures,
                                   test_list=args.test_list)
    except FileNotFoundError as error:
        print(error, file=sys.stderr)
        return 1
    print(f"Stand-in mirror in {out}: " + ", ".join(sorted(p.name for p in out.iterdir())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
