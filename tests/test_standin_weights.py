"""tools/make_standin_weights.py: a stand-in mirror from the legacy .h5 fixtures, fetched and
loaded through every kind of mirror (folder, file:// URL, HTTP on 127.0.0.1)."""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import json
import pickle
import shutil
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from fixtures_h5 import formula_input
from loopback import closed_port, file_server

from twostream_lab.weights import pretrained
from twostream_lab.data.classes import UCF101_CLASSES
from twostream_lab.evaluation.preds import evaluate_two_stream, read_preds, read_test_list
from twostream_lab.data.paths import cache_dir
from twostream_lab.models.two_stream import load_two_stream
from twostream_lab.weights.pretrained import MIRROR_ENV, fetch_pretrained

ROOT = Path(__file__).resolve().parents[1]
STREAMS = ("spatial", "motion")


def _tool():
    spec = importlib.util.spec_from_file_location("make_standin_weights",
                                                  ROOT / "tools" / "make_standin_weights.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def standin(legacy_fixtures, tmp_path_factory):
    """The tool module and the mirror it built (once for this module: 2 x 84 MB of .h5)."""
    tool = _tool()
    start = time.perf_counter()
    folder = tool.build_standin_mirror(tmp_path_factory.mktemp("mirror") / "weights",
                                       fixtures=legacy_fixtures)
    print(f"stand-in mirror built in {time.perf_counter() - start:.1f} s")
    return tool, folder


@pytest.fixture(autouse=True)
def drive_unreachable(monkeypatch):
    """No mirror from this machine's environment, and Drive's address refuses connections:
    a fetch that contacted it would fail."""
    monkeypatch.delenv(MIRROR_ENV, raising=False)
    monkeypatch.setattr(pretrained, "DOWNLOAD_URL", f"http://127.0.0.1:{closed_port()}/{{id}}")


def test_standin_mirror_layout(standin, legacy_fixtures, tmp_path):
    """Two zips like Drive's (members, fixed timestamps), SHA256SUMS as sha256sum writes it,
    the fixtures' .h5 bytes, a .log that says what they are, .preds in the released layout;
    the same bytes on a second run (through the command line)."""
    tool, folder = standin
    assert sorted(p.name for p in folder.iterdir()) == ["SHA256SUMS", "motion.zip",
                                                        "spatial.zip"]
    assert (folder / "SHA256SUMS").read_text() == "".join(
        f"{_sha256(folder / f'{s}.zip')}  {s}.zip\n" for s in STREAMS)
    test_list = ROOT.parent / "shared" / "data" / "ucf101" / "testlist01.txt"
    keys = ([key for key, _ in read_test_list(test_list)] if test_list.is_file()
            else [key for key, _ in tool.split1_test_videos(None)])
    assert len(keys) == len(set(keys)) == 3783
    scores = {}
    for stream in STREAMS:
        with zipfile.ZipFile(folder / f"{stream}.zip") as zipped:
            infos = zipped.infolist()
            assert [i.filename for i in infos] == [f"{stream}.h5", f"{stream}.log",
                                                   f"{stream}.preds"]
            assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
            h5 = hashlib.sha256(zipped.read(f"{stream}.h5")).hexdigest()
            log = zipped.read(f"{stream}.log").decode()
            raw = zipped.read(f"{stream}.preds")
        with gzip.open(legacy_fixtures / f"{stream}_tf1.h5.gz") as original:
            assert h5 == hashlib.sha256(original.read()).hexdigest()
        assert "Stand-in weights" in log and "NOT the trained" in log
        raw_scores, frames = pickle.loads(raw)  # our own file; read_preds reads it below
        assert frames == 19 and list(raw_scores) == keys
        assert {(v.dtype, v.shape) for v in raw_scores.values()} == {(np.dtype(np.float32), (101,))}
        preds = tmp_path / f"{stream}.preds"
        preds.write_bytes(raw)
        scores[stream], frames = read_preds(preds)
        assert frames == 19
        sums = np.array([v.sum() for v in scores[stream].values()])
        np.testing.assert_allclose(sums, 19, rtol=1e-5)  # 19 softmax vectors each
    table = evaluate_two_stream(scores["spatial"], scores["motion"])
    print({name: round(acc.top1, 4) for name, acc in table.items()})
    assert table["average"].top1 > max(table["spatial"].top1, table["motion"].top1)
    assert all(acc.num_videos == 3783 for acc in table.values())
    assert len({key.rsplit("_", 2)[0] for key in keys}) == len(UCF101_CLASSES)

    assert tool.main([str(tmp_path / "again"), "--fixtures", str(legacy_fixtures)]) == 0
    assert (tmp_path / "again" / "SHA256SUMS").read_bytes() == (
        folder / "SHA256SUMS").read_bytes()


def test_fetch_and_load_from_every_kind_of_mirror(standin, legacy_fixtures):
    """Folder, file:// URL and HTTP mirror each give the verified stand-in files; the models
    loaded from the HTTP mirror reproduce TF 1.11's outputs on the fixtures' input."""
    _, folder = standin
    for mirror in (folder, folder.as_uri()):
        files = fetch_pretrained("spatial", mirror=mirror, progress=False)
        stamp = json.loads((files.folder / "complete.json").read_text())
        assert stamp["url"] == f"{folder.as_uri()}/spatial.zip" and stamp["source"] == "mirror"
        assert stamp["files"]["spatial.h5"]["sha256"] == _sha256(files.h5)
        start = time.perf_counter()
        assert fetch_pretrained("spatial", mirror=mirror, progress=False) == files
        seconds = time.perf_counter() - start
        print(f"cached spatial.h5 ({files.h5.stat().st_size / 1e6:.0f} MB) verified and "
              f"returned in {seconds:.2f} s")
        shutil.rmtree(cache_dir("pretrained"))

    with file_server(folder) as server:
        start = time.perf_counter()
        models = load_two_stream("pretrained", mirror=server.url, progress=False)
        print(f"load_two_stream from the HTTP mirror: {time.perf_counter() - start:.1f} s")
    assert models.source == "pretrained" and models.class_names == UCF101_CLASSES
    for stream, model in (("spatial", models.spatial), ("motion", models.motion)):
        x = formula_input(model.input_shape[1:])
        reference = np.load(legacy_fixtures / f"{stream}_tf1_ref.npy")
        got = np.asarray(model(x, training=False))
        assert np.abs(got - reference).max() <= 1e-5, stream
        assert list(got.argmax(1)) == list(reference.argmax(1))
