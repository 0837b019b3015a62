"""Cache/data folders and the sample-video registry (downloads against a 127.0.0.1 server)."""

from __future__ import annotations

import csv
import hashlib

import pytest
from loopback import file_server

from twostream_lab.data import paths

from twostream_lab.data import samples
from twostream_lab.data.classes import UCF101_CLASSES, class_index, normalize_class_name


def test_cache_dir_follows_environment_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("TWOSTREAM_LAB_CACHE", str(tmp_path / "c"))
    assert paths.cache_dir("flow") == tmp_path / "c" / "flow"
    assert (tmp_path / "c" / "flow").is_dir()
    assert paths.cache_dir("x", create=False) == tmp_path / "c" / "x"
    assert not (tmp_path / "c" / "x").exists()


def test_cache_dir_defaults_to_platform_cache(monkeypatch):
    monkeypatch.delenv("TWOSTREAM_LAB_CACHE")
    assert paths.cache_dir(create=False).name == "twostream-lab"


def test_data_dir_defaults_inside_cache_and_follows_variable(tmp_path, monkeypatch):
    monkeypatch.delenv("TWOSTREAM_LAB_DATA", raising=False)
    assert paths.data_dir() == paths.cache_dir(create=False) / "data"
    monkeypatch.setenv("TWOSTREAM_LAB_DATA", str(tmp_path))
    assert paths.data_dir("kinetics") == tmp_path / "kinetics"


def test_ucf101_classes_are_the_official_101():
    assert len(UCF101_CLASSES) == len(set(UCF101_CLASSES)) == 101
    assert class_index("ApplyEyeMakeup") == 0 and class_index("YoYo") == 100
    assert normalize_class_name("HandStandPushups") == "HandstandPushups"
    with pytest.raises(ValueError, match="not a UCF101 class"):
        class_index("Abseiling")


def test_registry_matches_the_shared_sample_list(ucf101_table):
    with open(ucf101_table, newline="") as f:
        rows = {r["file"]: r for r in csv.DictReader(f, delimiter="\t")}
    registered = {s.name: s for s in samples.SAMPLE_VIDEOS if s.folder == "ucf101/videos"}
    assert set(registered) == set(rows)
    for name, row in rows.items():
        assert registered[name].size == int(row["bytes"])
        assert registered[name].label == row["class"]
        assert class_index(row["class"]) == int(row["label0"])


def test_available_samples_lists_the_data_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("TWOSTREAM_LAB_DATA", str(tmp_path))
    assert samples.available_samples() == []
    assert samples.activity_video_path() is None
    (tmp_path / "ucf101" / "videos").mkdir(parents=True)
    (tmp_path / "kinetics").mkdir()
    for p in ["ucf101/videos/v_B.avi", "ucf101/videos/v_A.avi", "ucf101/videos/notes.txt",
              "kinetics/abseiling_k400.mp4"]:
        (tmp_path / p).write_bytes(b"x")
    names = [p.name for p in samples.available_samples()]
    assert names == ["v_A.avi", "v_B.avi", "abseiling_k400.mp4"]
    assert samples.activity_video_path() == tmp_path / "kinetics" / "abseiling_k400.mp4"


@pytest.fixture
def local_server(tmp_path):
    root = tmp_path / "www"
    root.mkdir()
    with file_server(root) as server:
        yield root, server.url


def _register(monkeypatch, url: str, payload: bytes, name="clip.mp4") -> samples.SampleVideo:
    sample = samples.SampleVideo(
        name, "kinetics", url + name, len(payload), hashlib.sha256(payload).hexdigest()
    )
    monkeypatch.setattr(samples, "SAMPLE_VIDEOS", (sample,))
    return sample


def test_download_samples_fetches_once_and_repairs_damage(local_server, tmp_path, monkeypatch):
    root, url = local_server
    payload = b"not really a video, but checksummed" * 100
    (root / "clip.mp4").write_bytes(payload)
    monkeypatch.setenv("TWOSTREAM_LAB_DATA", str(tmp_path / "data"))
    _register(monkeypatch, url, payload)

    [path] = samples.download_samples(progress=False)
    assert path == tmp_path / "data" / "kinetics" / "clip.mp4"
    assert path.read_bytes() == payload

    (root / "clip.mp4").unlink()  # a second call must not need the server
    assert samples.download_samples(progress=False) == [path]

    (root / "clip.mp4").write_bytes(payload)
    path.write_bytes(payload[:10])  # damaged: downloaded again
    samples.download_samples(progress=False)
    assert path.read_bytes() == payload


def test_download_samples_rejects_wrong_checksum_without_leaving_a_file(
    local_server, tmp_path, monkeypatch
):
    root, url = local_server
    (root / "clip.mp4").write_bytes(b"tampered")
    monkeypatch.setenv("TWOSTREAM_LAB_DATA", str(tmp_path / "data"))
    _register(monkeypatch, url, b"the real bytes")
    with pytest.raises(samples.SampleDownloadError, match="clip.mp4: checksum mismatch"):
        samples.download_samples(progress=False)
    assert not (tmp_path / "data" / "kinetics" / "clip.mp4").exists()
    assert list((tmp_path / "data" / "kinetics").iterdir()) == [], "no temporary file is left"


def test_download_samples_names_unknown_files():
    with pytest.raises(ValueError, match="unknown sample video"):
        samples.download_samples(["v_Nope.avi"], progress=False)


def test_stale_temporaries_are_removed_only_when_old_and_ours(tmp_path):
    import os
    import time

    from twostream_lab.data.paths import TEMP_PREFIX, remove_stale_temporaries, temporary_folder

    old_file = tmp_path / f"{TEMP_PREFIX}flow.npz-abc.tmp"
    old_file.write_bytes(b"half")
    old_folder = temporary_folder(tmp_path, "spatial")
    (old_folder / "spatial.h5").write_bytes(b"x")
    young = tmp_path / f"{TEMP_PREFIX}render.mp4-def.mp4"
    young.write_bytes(b"still being written")
    someone_elses = tmp_path / "notes.tmp"
    someone_elses.write_bytes(b"not ours")
    pooch_part = tmp_path / "tmpk2j3"
    pooch_part.write_bytes(b"pooch's temporary name")
    two_hours_ago = time.time() - 7200
    for path in (old_file, old_folder, someone_elses, pooch_part):
        os.utime(path, (two_hours_ago, two_hours_ago))

    removed = remove_stale_temporaries(tmp_path, ("tmp*",))
    assert sorted(p.name for p in removed) == sorted([old_file.name, old_folder.name, "tmpk2j3"])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([young.name, "notes.tmp"])
    assert remove_stale_temporaries(tmp_path / "absent") == []


def test_failed_downloads_are_one_line_each_and_the_rest_still_download(
        local_server, tmp_path, monkeypatch, capsys):
    from loopback import closed_port

    from twostream_lab.cli import main

    root, url = local_server
    (root / "good.mp4").write_bytes(b"good bytes")
    monkeypatch.setenv("TWOSTREAM_LAB_DATA", str(tmp_path / "data"))
    dead = f"http://127.0.0.1:{closed_port()}/"
    registered = (
        samples.SampleVideo("good.mp4", "kinetics", url + "good.mp4", 10,
                            hashlib.sha256(b"good bytes").hexdigest()),
        samples.SampleVideo("missing.mp4", "kinetics", url + "missing.mp4", 1, "0" * 64),
        samples.SampleVideo("offline.mp4", "kinetics", dead + "offline.mp4", 1, "0" * 64),
    )
    monkeypatch.setattr(samples, "SAMPLE_VIDEOS", registered)

    assert main(["samples", "--quiet"]) == 1
    err = capsys.readouterr().err
    assert err.splitlines() == [
        f"missing.mp4: the server answered HTTP 404 for {url}missing.mp4",
        "offline.mp4: cannot connect to 127.0.0.1 (is this machine offline?)",
        "2 of 3 sample videos could not be downloaded. Run `twostream-lab samples` again to "
        "retry (the others are kept), or set TWOSTREAM_LAB_SAMPLES_URL to a mirror laid out "
        "like the data folder.",
    ]
    assert (tmp_path / "data" / "kinetics" / "good.mp4").read_bytes() == b"good bytes"
    assert sorted(p.name for p in (tmp_path / "data" / "kinetics").iterdir()) == ["good.mp4"]


@pytest.mark.parametrize("kind", ["url", "folder"])
def test_samples_mirror_replaces_the_original_addresses(kind, local_server, tmp_path, monkeypatch):
    from loopback import closed_port

    root, url = local_server
    (root / "kinetics").mkdir()
    (root / "kinetics" / "clip.mp4").write_bytes(b"mirrored clip")
    monkeypatch.setenv("TWOSTREAM_LAB_DATA", str(tmp_path / "data"))
    monkeypatch.setenv(samples.SAMPLES_URL_ENV, url if kind == "url" else str(root))
    unreachable = f"http://127.0.0.1:{closed_port()}/"  # the original address is never used
    _register(monkeypatch, unreachable, b"mirrored clip")
    [path] = samples.download_samples(progress=False)
    assert path.read_bytes() == b"mirrored clip"
