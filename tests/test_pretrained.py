"""Pretrained download (fake downloader; gdown over HTTP on 127.0.0.1; mirrors), cache,
load_two_stream."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import json
import os
import shutil
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from fixtures_h5 import build_tiny_model, full_models, randomize, write_tf1_h5
from loopback import closed_port, file_server, http_head, stalling_server, unanswered_server

from twostream_lab.weights import pretrained
from twostream_lab.data.classes import UCF101_CLASSES
from twostream_lab.data.paths import TEMP_PREFIX, cache_dir
from twostream_lab.models import demo
from twostream_lab.models.two_stream import TwoStream, load_two_stream
from twostream_lab.weights.pretrained import (MIRROR_ENV, PretrainedError, cached_pretrained,
                                              cached_pretrained_files, fetch_pretrained,
                                              weights_source)

MANUAL = "https://drive.google.com/uc?id=fake-spatial"


@pytest.fixture(autouse=True)
def no_mirror(monkeypatch):
    """Google Drive unless a test sets a mirror, whatever this machine's environment says."""
    monkeypatch.delenv(MIRROR_ENV, raising=False)


def _zip(path: Path, members: dict[str, Path | bytes]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zipped:
        for name, content in members.items():
            if isinstance(content, Path):
                zipped.write(content, name)
            else:
                zipped.writestr(name, content)
    return path


@functools.cache
def _tiny_h5(folder: Path) -> Path:
    model = build_tiny_model()
    randomize(model, seed=5)
    return write_tf1_h5(folder / "tiny_tf1.h5", model, optimizer=True)


@pytest.fixture(scope="module")
def tiny_zip(tmp_path_factory) -> Path:
    """A stand-in for spatial.zip: a TF1-layout .h5 (the tiny model), .log and .preds."""
    folder = tmp_path_factory.mktemp("tiny_zip")
    return _zip(folder / "spatial.zip", {"spatial.h5": _tiny_h5(folder),
                                         "spatial.log": b"epoch 1\n",
                                         "spatial.preds": b"not read here"})


def _register(monkeypatch, stream: str, size: int, **changes) -> None:
    entry = dataclasses.replace(pretrained.PRETRAINED[stream], drive_id=f"fake-{stream}",
                                size=size, **changes)
    monkeypatch.setitem(pretrained.PRETRAINED, stream, entry)


@pytest.fixture
def tiny_registered(tiny_zip, monkeypatch) -> Path:
    _register(monkeypatch, "spatial", tiny_zip.stat().st_size, num_params=954, input_channels=4)
    return tiny_zip


class FakeDownloader:
    """A pooch downloader that copies local files (by URL) and counts its calls."""

    def __init__(self, files: dict[str, Path | bytes]):
        self.files = files
        self.urls: list[str] = []

    def __call__(self, url, output_file, pooch=None):
        self.urls.append(url)
        content = self.files[url.rsplit("=", 1)[-1]]
        if isinstance(content, Path):
            shutil.copyfile(content, output_file)
        else:
            Path(output_file).write_bytes(content)


def test_nothing_cached_at_first():
    assert cached_pretrained() == {"spatial": None, "motion": None}
    assert cached_pretrained_files() == []


def _leftovers() -> list[str]:
    root = cache_dir("pretrained")
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


# --- download, cache, re-download ---------------------------------------------------------

def test_fake_download_is_cached_and_redownloaded_when_damaged(tiny_registered):
    fake = FakeDownloader({"fake-spatial": tiny_registered})
    files = fetch_pretrained("spatial", downloader=fake, progress=False)
    assert len(fake.urls) == 1 and fake.urls[0].endswith("uc?id=fake-spatial")
    assert files.h5.name == "spatial.h5" and files.preds.name == "spatial.preds"
    assert files.log.read_text() == "epoch 1\n"
    assert _leftovers() == ["spatial", "spatial/complete.json", "spatial/spatial.h5",
                            "spatial/spatial.log", "spatial/spatial.preds"]  # no zip, no temp
    assert cached_pretrained() == {"spatial": files, "motion": None}
    assert cached_pretrained_files() == [files.h5, files.preds, files.log]

    assert fetch_pretrained("spatial", downloader=fake, progress=False) == files
    assert len(fake.urls) == 1  # cached

    data = files.h5.read_bytes()
    files.h5.write_bytes(data[: len(data) // 2])  # truncated
    assert cached_pretrained()["spatial"] is None
    fetch_pretrained("spatial", downloader=fake, progress=False)
    assert len(fake.urls) == 2 and files.h5.read_bytes() == data

    files.h5.write_bytes(b"\0" * len(data))  # same size, not HDF5 any more
    fetch_pretrained("spatial", downloader=fake, progress=False)
    assert len(fake.urls) == 3 and files.h5.read_bytes() == data


@pytest.fixture
def server(tmp_path, monkeypatch):
    (tmp_path / "served").mkdir()
    with file_server(tmp_path / "served") as served:
        monkeypatch.setattr(pretrained, "DOWNLOAD_URL", f"{served.url}{{id}}.zip")
        yield served


def test_gdown_download_over_http(tiny_registered, server):
    shutil.copyfile(tiny_registered, server.folder / "fake-spatial.zip")
    files = fetch_pretrained("spatial", progress=False)  # the default GDriveDownloader
    assert server.hits == 1
    assert files.h5.read_bytes() == zipfile.ZipFile(tiny_registered).read("spatial.h5")
    assert fetch_pretrained("spatial", progress=False) == files
    assert server.hits == 1
    assert _leftovers()[0] == "spatial" and not any(".zip" in p for p in _leftovers())


def test_html_page_over_http(tiny_registered, server):
    page = b"<!DOCTYPE html><html><head><title>Google Drive - Quota exceeded</title></head>"
    (server.folder / "fake-spatial.zip").write_bytes(page + b" " * 2000)
    with pytest.raises(PretrainedError, match="is a web page") as error:
        fetch_pretrained("spatial", progress=False)
    assert MANUAL in str(error.value) and "load_two_stream((" in str(error.value)
    assert "drive.mount" in str(error.value)
    assert _leftovers() == []


def test_quota_refusal_from_gdown(tiny_registered, server, monkeypatch):
    import gdown
    from gdown.exceptions import FileURLRetrievalError

    def refuse(*args, **kwargs):
        raise FileURLRetrievalError("Too many users have viewed or downloaded this file recently")

    monkeypatch.setattr(gdown, "download", refuse)
    with pytest.raises(PretrainedError, match="download quota") as error:
        fetch_pretrained("spatial", progress=False)
    assert MANUAL in str(error.value)
    assert _leftovers() == []


@pytest.mark.parametrize("server", ["refusing", "unanswered"])
def test_offline_fails_fast(server, tiny_registered, monkeypatch):
    """A refused connection and one that is never answered (a host that is down) both fail
    within the connect timeout, on 127.0.0.1."""
    with contextlib.ExitStack() as stack:
        port = closed_port() if server == "refusing" else stack.enter_context(unanswered_server())
        monkeypatch.setattr(pretrained, "DOWNLOAD_URL", f"http://127.0.0.1:{port}/{{id}}.zip")
        monkeypatch.setattr(pretrained, "CONNECT_TIMEOUT", 2.0)
        start = time.perf_counter()
        with pytest.raises(PretrainedError, match="offline") as error:
            fetch_pretrained("spatial", progress=False)
        seconds = time.perf_counter() - start
    assert seconds < 5
    if server == "unanswered":
        assert seconds >= 1.9, "the unanswered server must really make the client wait"
        assert "no answer within 2 s" in str(error.value)
    assert MANUAL in str(error.value) and "load_two_stream('demo')" in str(error.value)
    assert _leftovers() == []


def _bad_zips(tiny_zip: Path, folder: Path) -> dict[str, tuple[bytes, str]]:
    h5 = zipfile.ZipFile(tiny_zip).read("spatial.h5")
    good = tiny_zip.read_bytes()
    other = build_tiny_model(channels=3)
    cases = {
        "no_h5": (_zip(folder / "a.zip", {"spatial.log": b"x"}), "holds no spatial.h5"),
        "other_model": (_zip(folder / "b.zip", {"spatial.h5": write_tf1_h5(folder / "o.h5",
                                                                           other)}),
                        "it is another model"),
        "truncated_h5": (_zip(folder / "c.zip", {"spatial.h5": h5[: len(h5) // 2]}),
                         "spatial.h5 is not usable.*damaged or truncated"),
        "not_a_zip": (folder / "d.zip", "not a valid zip"),
        "crc": (folder / "e.zip", "fails its CRC check"),
    }
    (folder / "d.zip").write_bytes(b"\x00" * 100)
    offset = good.index(h5) + 100  # flip a byte inside the stored spatial.h5
    (folder / "e.zip").write_bytes(good[:offset] + bytes([good[offset] ^ 1]) + good[offset + 1:])
    return {name: (path.read_bytes(), message) for name, (path, message) in cases.items()}


@pytest.mark.parametrize("case", ["no_h5", "other_model", "truncated_h5", "not_a_zip", "crc"])
def test_bad_downloads_leave_the_cache_clean(case, tiny_registered, tmp_path, monkeypatch):
    content, message = _bad_zips(tiny_registered, tmp_path)[case]
    _register(monkeypatch, "spatial", len(content), num_params=954, input_channels=4)
    with pytest.raises(PretrainedError, match=message):
        fetch_pretrained("spatial", downloader=FakeDownloader({"fake-spatial": content}),
                         progress=False)
    assert _leftovers() == []


def test_incomplete_download_leaves_the_cache_clean(tiny_registered):
    partial = tiny_registered.read_bytes()[:-1000]
    with pytest.raises(PretrainedError, match="bytes instead of") as error:
        fetch_pretrained("spatial", downloader=FakeDownloader({"fake-spatial": partial}),
                         progress=False)
    assert MANUAL in str(error.value)
    assert _leftovers() == []


def test_interrupted_download_leaves_the_cache_clean(tiny_registered):
    def interrupted(url, output_file, pooch=None):
        Path(output_file).write_bytes(b"PK\x03\x04 half a zip")
        raise ConnectionResetError("connection reset by peer")

    with pytest.raises(PretrainedError, match="connection reset"):
        fetch_pretrained("spatial", downloader=interrupted, progress=False)
    assert _leftovers() == []


def test_unknown_stream():
    with pytest.raises(ValueError, match="'motion', 'spatial'"):
        fetch_pretrained("rgb")


# --- HTTP statuses, stalls, leftovers, altered cache -----------------------------------------

@pytest.mark.parametrize("status", ["404 Not Found", "403 Forbidden", "500 Internal Server Error"])
def test_http_error_status_is_reported(status, tiny_registered, monkeypatch):
    """An error status from Drive's address is reported as such, not as an incomplete file."""
    page = b"<html><body>error</body></html>"
    with stalling_server(http_head(len(page), "text/html", status) + page, hold=0) as port:
        monkeypatch.setattr(pretrained, "DOWNLOAD_URL", f"http://127.0.0.1:{port}/{{id}}.zip")
        with pytest.raises(PretrainedError) as error:
            fetch_pretrained("spatial", progress=False)
    code = status.split()[0]
    message = str(error.value)
    assert f"the server answered HTTP {code} " in message
    assert f"for http://127.0.0.1:{port}/fake-spatial.zip" in message
    assert "incomplete" not in message and "web page" not in message
    assert ("quota" in message) == (code == "403") and MANUAL in message
    assert _leftovers() == []


@pytest.mark.parametrize("source", ["drive", "mirror"])
def test_stalled_server_fails_within_the_read_timeout(source, tiny_registered, monkeypatch):
    """A server that sends its headers and the start of the body, then nothing, fails after
    READ_TIMEOUT (gdown for Drive, plain HTTP for a mirror), and leaves nothing behind."""
    monkeypatch.setattr(pretrained, "READ_TIMEOUT", 1.5)
    with stalling_server(http_head(100_000) + b"PK\x03\x04", hold=30) as port:
        url = f"http://127.0.0.1:{port}"
        monkeypatch.setattr(pretrained, "DOWNLOAD_URL", f"{url}/{{id}}.zip")
        start = time.perf_counter()
        with pytest.raises(PretrainedError, match="stopped sending data for 1.5 s") as error:
            fetch_pretrained("spatial", mirror=f"{url}/w" if source == "mirror" else None,
                             progress=False)
        seconds = time.perf_counter() - start
    print(f"{source}: a stalled server failed after {seconds:.2f} s (READ_TIMEOUT 1.5 s)")
    assert 1.4 <= seconds < 20
    assert "READ_TIMEOUT" in str(error.value)
    assert _leftovers() == []


def _age(path: Path, seconds: float) -> Path:
    stamp = time.time() - seconds
    os.utime(path, (stamp, stamp))
    return path


def test_stale_temporaries_are_removed_and_young_ones_kept(tiny_registered):
    """What killed runs left (ours, pooch's tmp*, earlier versions' names) goes once it is an
    hour old; a young one may be a download still running and stays."""
    root = cache_dir("pretrained")
    made = {}
    for name, folder in [(f"{TEMP_PREFIX}spatial-killed", True), ("tmpq1w2e3r4", False),
                         (".gdown-x1y2z3", True), ("spatial.zipab12.part", False),
                         (".spatial-k9j8", True), ("spatial.zip", False),
                         (f"{TEMP_PREFIX}motion-running", True), ("tmpyoung1", False)]:
        path = root / name
        if folder:
            path.mkdir()
            (path / "download").write_bytes(b"half")
        else:
            path.write_bytes(b"half")
        made[name] = path
    young = {f"{TEMP_PREFIX}motion-running", "tmpyoung1"}
    for name, path in made.items():
        _age(path, 60 if name in young else 7200)
    fetch_pretrained("spatial", downloader=FakeDownloader({"fake-spatial": tiny_registered}),
                     progress=False)
    assert sorted(os.listdir(root)) == sorted([*young, "spatial"])


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _stamp(files) -> dict:
    return json.loads((files.folder / "complete.json").read_text())


def test_altered_cached_h5_is_never_loaded(tiny_registered, monkeypatch):
    """HDF5 has no checksum: the stamp's SHA-256 catches a cached .h5 altered in place (same
    size), offline that is a clear error, online it is downloaded again."""
    fake = FakeDownloader({"fake-spatial": tiny_registered})
    files = fetch_pretrained("spatial", downloader=fake, progress=False)
    stamp = _stamp(files)
    assert stamp["source"] == "drive" and stamp["url"].endswith("uc?id=fake-spatial")
    assert stamp["zip_sha256"] == _sha256(tiny_registered)
    assert {name: entry["sha256"] for name, entry in stamp["files"].items()} == {
        name: _sha256(files.folder / name) for name in ("spatial.h5", "spatial.log",
                                                        "spatial.preds")}
    good = files.h5.read_bytes()
    middle = len(good) // 2
    altered = good[:middle] + bytes(b ^ 0xFF for b in good[middle:middle + 4096]) \
        + good[middle + 4096:]
    files.h5.write_bytes(altered)
    assert cached_pretrained()["spatial"] is None

    with monkeypatch.context() as offline:
        offline.setattr(pretrained, "DOWNLOAD_URL", f"http://127.0.0.1:{closed_port()}/{{id}}")
        with pytest.raises(PretrainedError, match="altered or damaged") as error:
            fetch_pretrained("spatial", progress=False)
    message = str(error.value)
    assert f"rm -r '{files.folder}'" in message and "offline" in message and MANUAL in message
    assert files.h5.read_bytes() == altered  # kept until a verified copy replaces it

    assert fetch_pretrained("spatial", downloader=fake, progress=False) == files
    assert len(fake.urls) == 2 and files.h5.read_bytes() == good


# --- mirror ---------------------------------------------------------------------------------

def _write_sums(folder: Path, *names: str, star: bool = False, extra: str = "") -> None:
    lines = [f"{_sha256(folder / name)} {'*' if star else ' '}{name}\n" for name in names]
    (folder / "SHA256SUMS").write_text("".join(lines) + extra)


@pytest.fixture
def tiny_mirror(tiny_registered, tmp_path, monkeypatch) -> Path:
    """A mirror folder with the tiny spatial.zip and its SHA256SUMS; Drive's address refuses
    connections, so a fetch that contacted it would fail."""
    folder = tmp_path / "mirror"
    folder.mkdir()
    shutil.copyfile(tiny_registered, folder / "spatial.zip")
    monkeypatch.setattr(pretrained, "DOWNLOAD_URL", f"http://127.0.0.1:{closed_port()}/{{id}}")
    return folder


@pytest.mark.parametrize("how", ["folder", "file_url", "http"])
def test_mirror_download(how, tiny_mirror, monkeypatch):
    """A folder (the argument beats the environment variable), a file:// URL (from the
    environment variable, `*name` lines) and a web server (listing another file under a
    path) all give the verified files, never contacting Drive; the stamp says where from."""
    with contextlib.ExitStack() as stack:
        if how == "folder":
            _write_sums(tiny_mirror, "spatial.zip")
            monkeypatch.setenv(MIRROR_ENV, f"http://127.0.0.1:{closed_port()}/weights")
            mirror, base = tiny_mirror, tiny_mirror.as_uri()
        elif how == "file_url":
            _write_sums(tiny_mirror, "spatial.zip", star=True)
            monkeypatch.setenv(MIRROR_ENV, tiny_mirror.as_uri() + "/")
            mirror, base = None, tiny_mirror.as_uri()
        else:
            _write_sums(tiny_mirror, "spatial.zip", extra=f"{'0' * 64}  weights/motion.zip\n")
            served = stack.enter_context(file_server(tiny_mirror))
            base = f"http://127.0.0.1:{served.port}"
            mirror = base + "/"
        files = fetch_pretrained("spatial", mirror=mirror, progress=False)
        assert fetch_pretrained("spatial", mirror=mirror, progress=False) == files  # cached
        if how == "http":
            assert served.hits == 2  # SHA256SUMS, then the zip; none for the cached copy
    assert files.h5.read_bytes() == zipfile.ZipFile(tiny_mirror / "spatial.zip").read(
        "spatial.h5")
    stamp = _stamp(files)
    assert (stamp["source"], stamp["mirror"], stamp["url"]) == ("mirror", base,
                                                                f"{base}/spatial.zip")
    assert stamp["zip_sha256"] == _sha256(tiny_mirror / "spatial.zip")
    assert stamp["files"]["spatial.h5"]["sha256"] == _sha256(files.h5)
    assert _leftovers() == ["spatial", "spatial/complete.json", "spatial/spatial.h5",
                            "spatial/spatial.log", "spatial/spatial.preds"]


MIRROR_ERRORS = {
    "unreachable": r"cannot reach 127\.0\.0\.1 .*the mirror's server is down",
    "no_folder": "does not exist .*drive.mount",
    "no_sums": r"has no SHA256SUMS \(there is no file",
    "no_sums_http": r"has no SHA256SUMS \(the server answered HTTP 404",
    "zip_missing_http": r"the server answered HTTP 404 .* for http://127\.0\.0\.1:\d+/spatial.zip",
    "not_listed": r"lists no spatial\.zip \(it lists \['motion\.zip'\]\)",
    "mismatch": "the mirror's file differs from its SHA256SUMS.*re-upload spatial.zip .*re-run "
                "`sha256sum spatial.zip motion.zip > SHA256SUMS`",
    "web_page": "line 1 of .*SHA256SUMS is '<!DOCTYPE html>', not '<64 hex digits>",
}


@pytest.mark.parametrize("case", sorted(MIRROR_ERRORS))
def test_mirror_errors(case, tiny_mirror):
    """Each way a mirror can be wrong says so, with the by-hand steps, and leaves nothing."""
    with contextlib.ExitStack() as stack:
        mirror = tiny_mirror
        if case == "unreachable":
            mirror = f"http://127.0.0.1:{closed_port()}/weights"
        elif case == "no_folder":
            mirror = tiny_mirror / "nope"
        elif case in ("no_sums_http", "zip_missing_http"):
            if case == "zip_missing_http":
                _write_sums(tiny_mirror, "spatial.zip")
                (tiny_mirror / "spatial.zip").unlink()
            mirror = f"http://127.0.0.1:{stack.enter_context(file_server(tiny_mirror)).port}"
        elif case == "not_listed":
            (tiny_mirror / "motion.zip").write_bytes(b"x")
            _write_sums(tiny_mirror, "motion.zip")
        elif case == "mismatch":
            _write_sums(tiny_mirror, "spatial.zip")
            with open(tiny_mirror / "spatial.zip", "ab") as file:
                file.write(b"\0")  # changed after sha256sum ran
        elif case == "web_page":
            (tiny_mirror / "SHA256SUMS").write_text("<!DOCTYPE html>\n<html>sign in</html>\n")
        with pytest.raises(PretrainedError, match=MIRROR_ERRORS[case]) as error:
            fetch_pretrained("spatial", mirror=mirror, progress=False)
    assert "sha256sum -c SHA256SUMS" in str(error.value)  # the by-hand steps for a mirror
    assert "load_two_stream((" in str(error.value)
    assert _leftovers() == []


def test_mirror_mistakes_in_the_address(monkeypatch):
    with pytest.raises(ValueError, match="must be an http://, https:// or file:// URL"):
        fetch_pretrained("spatial", mirror="ftp://127.0.0.1/weights")
    with pytest.raises(ValueError, match="not of one file"):
        fetch_pretrained("spatial", mirror="http://127.0.0.1:8000/weights/SHA256SUMS")
    monkeypatch.setenv(MIRROR_ENV, "s3://bucket/weights")
    with pytest.raises(ValueError, match="TWOSTREAM_LAB_WEIGHTS_URL or mirror="):
        fetch_pretrained("spatial")
    assert weights_source().startswith("invalid: the mirror")  # what doctor prints
    monkeypatch.setenv(MIRROR_ENV, "http://127.0.0.1:8000/weights/")
    assert weights_source() == ("the mirror http://127.0.0.1:8000/weights (Google Drive is "
                                "not contacted)")
    assert weights_source("").startswith("Google Drive")  # "" overrides the variable


# --- load_two_stream ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def full_files(tmp_path_factory):
    """TF1-layout .h5 files of both full architectures (random weights) and the weights."""
    folder = tmp_path_factory.mktemp("full")
    paths, weights = {}, {}
    for stream, model in zip(("spatial", "motion"), full_models()):
        weights[stream] = randomize(model, seed=len(stream))
        paths[stream] = write_tf1_h5(folder / f"{stream}.h5", model, optimizer=True)
    return paths, weights


def _assert_weights(model, expected):
    for got, want in zip(model.get_weights(), expected):
        np.testing.assert_array_equal(got, want)


def test_load_two_stream_pretrained(full_files, tmp_path, monkeypatch):
    paths, weights = full_files
    zips = {}
    for stream in ("spatial", "motion"):
        zips[f"fake-{stream}"] = _zip(tmp_path / f"{stream}.zip",
                                      {f"{stream}.h5": paths[stream],
                                       f"{stream}.preds": b"p", f"{stream}.log": b"l"})
        _register(monkeypatch, stream, zips[f"fake-{stream}"].stat().st_size)
    fake = FakeDownloader(zips)
    start = time.perf_counter()
    models = load_two_stream("pretrained", downloader=fake, progress=False)
    print(f"load_two_stream('pretrained') from a fake download: "
          f"{time.perf_counter() - start:.1f} s")
    assert models.source == "pretrained" and not models.is_demo
    assert models.class_names == UCF101_CLASSES and models.stacked_frames == 10
    assert models.spatial.name == "spatial_xception" and models.motion.name == "motion_xception"
    _assert_weights(models.spatial, weights["spatial"])
    _assert_weights(models.motion, weights["motion"])
    assert "source='pretrained'" in repr(models) and "299x299x20" in repr(models)
    assert all(files is not None for files in cached_pretrained().values())


def test_load_two_stream_local_pair(full_files):
    paths, weights = full_files
    models = load_two_stream((str(paths["spatial"]), paths["motion"]))
    assert models.source == "local" and models.class_names == UCF101_CLASSES
    _assert_weights(models.spatial, weights["spatial"])
    _assert_weights(models.motion, weights["motion"])
    assert _leftovers() == []  # nothing downloaded


def test_local_pair_mistakes(full_files, tiny_zip):
    paths, _ = full_files
    with pytest.raises(ValueError, match=r"pass \(spatial_h5, motion_h5\)"):
        load_two_stream((paths["motion"], paths["spatial"]))
    with pytest.raises(ValueError, match="should be a spatial two-stream model"):
        load_two_stream((_tiny_h5(tiny_zip.parent), paths["motion"]))
    with pytest.raises(FileNotFoundError):
        load_two_stream((paths["spatial"], paths["spatial"].with_name("nope.h5")))
    with pytest.raises(ValueError, match='"auto", "pretrained", "demo" or a'):
        load_two_stream("imagenet")
    with pytest.raises(ValueError, match="class_names is only for"):
        load_two_stream("pretrained", class_names=("a", "b"))


def test_load_two_stream_demo(monkeypatch):
    spatial, motion = build_tiny_model(3, 4), build_tiny_model(4, 4)
    monkeypatch.setattr(demo, "load_demo_models", lambda: (spatial, motion))
    monkeypatch.setattr(demo, "demo_class_names", lambda: ("wave", "swing", "run", "spin"))
    models = load_two_stream("demo")
    assert models.is_demo and models.source == "demo"
    assert models.class_names == ("wave", "swing", "run", "spin")
    assert models.spatial is spatial and models.stacked_frames == 2
    monkeypatch.setattr(demo, "demo_class_names", lambda: ("wave", "swing"))
    with pytest.raises(ValueError, match="4 outputs but 2 class names"):
        load_two_stream("demo")


def test_two_stream_checks_its_source():
    model = build_tiny_model(4, 2)
    with pytest.raises(ValueError, match="source must be one of"):
        TwoStream(model, model, ("a", "b"), "imagenet")
