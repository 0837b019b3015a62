"""Whole-dataset evaluation on Dask (``evaluate_videos``, ``twostream-lab evaluate``).

One 2-worker LocalCluster on 127.0.0.1 serves the whole module (passed as ``scheduler=``, the
path an existing cluster takes); the command-line run that is killed half-way starts its own
1-worker cluster, the other command-line runs use the module's. Every worker is a fresh process,
as for a user, so the runs compared bit for bit share no state with the test process (where
``train_demo_models`` may have switched on TensorFlow's deterministic ops). Most tests use the
tiny demo models on synthetic clips written as MJPG .avi files (the labels come from a list
file's class numbers), which check the per-class tables; one uses the stand-in pretrained
Xception weights on one real UCF101 clip, and skips without it (a worker that gets a video
builds both Xception streams, about 10 s of CPU).
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from twostream_lab.data.paths import TEMP_PREFIX
from twostream_lab.evaluation.dataset import (
    EVALUATION_STREAMS,
    EvaluationError,
    evaluate_videos,
    find_videos,
    weights_fingerprint,
)
from twostream_lab.offline_lab.synthetic import SYNTHETIC_CLASSES

pytest.importorskip("distributed")

TABLES = ("accuracy.csv", "per_class.csv", "predictions.csv", "failures.csv")
CLIPS = 8
# TV-L1 with the early stop: about 0.7 s per 16-frame 48x48 clip, so a run of 8 clips lasts
# long enough on one worker to be killed half-way.
FLOW = "tvl1-fast"
SAMPLING = 5


@pytest.fixture(scope="module")
def clips(tmp_path_factory, write_clip) -> Path:
    """8 synthetic clips (one per class) and ``list.txt`` naming each with its class number."""
    from twostream_lab.offline_lab.synthetic import make_synthetic_dataset

    folder = tmp_path_factory.mktemp("clips")
    videos, labels = make_synthetic_dataset(CLIPS, seed=1)
    lines = []
    for i, (video, label) in enumerate(zip(videos, labels, strict=True)):
        write_clip(folder / f"clip{i:02d}.avi", video.frames)
        lines.append(f"clip{i:02d}.avi {label + 1}")
    (folder / "list.txt").write_text("\n".join(lines) + "\n")
    return folder


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A 2-worker LocalCluster on 127.0.0.1 for the whole module; yields its address."""
    from distributed import LocalCluster

    cache = tmp_path_factory.mktemp("worker-cache")
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None, silence_logs=logging.ERROR,
                      env={"TWOSTREAM_LAB_CACHE": str(cache)}) as local:
        yield local.scheduler_address


def _settings_folder(out: Path) -> Path:
    (folder,) = [p for p in out.iterdir() if p.is_dir()]
    return folder


def _tables(folder: Path) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in TABLES}


def _results(folder: Path) -> dict[str, dict]:
    return {p.name: json.loads(p.read_text()) for p in sorted((folder / "videos").glob("*.json"))}


def _stored_results(out: Path) -> dict[str, int]:
    """Stored result files (not the temporary files of a write under way) and their mtimes."""
    return {p.name: p.stat().st_mtime_ns for p in out.glob("*/videos/*.json")
            if not p.name.startswith(TEMP_PREFIX)}


def _cli(*args: str, **kwargs) -> subprocess.Popen:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    return subprocess.Popen([sys.executable, "-m", "twostream_lab", "evaluate", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            **kwargs)


# ---------------------------------------------------------------------------------------------
# finding the videos and their labels (no cluster)


def test_find_videos_from_a_folder_a_glob_and_a_list(tmp_path):
    flat = tmp_path / "videos"
    flat.mkdir()
    for name in ("v_ApplyEyeMakeup_g08_c01.avi", "v_HandStandPushups_g01_c02.avi",
                 "v_YoYo_g02_c03.mp4"):
        (flat / name).touch()
    (flat / "Archery").mkdir()
    (flat / "Archery" / "shot.mp4").touch()  # no UCF101 name: the class comes from its folder
    (flat / "notes.txt").touch()

    items, missing = find_videos(flat)
    assert [(i.id, i.label) for i in items] == [
        ("ApplyEyeMakeup_g08_c01", 0), ("Archery/shot.mp4", 2),
        ("HandstandPushups_g01_c02", 36), ("YoYo_g02_c03", 100)]
    assert missing == {} and all(i.path.is_absolute() for i in items)

    assert [i.id for i in find_videos(str(flat / "v_*.avi"))[0]] == [
        "ApplyEyeMakeup_g08_c01", "HandstandPushups_g01_c02"]

    # a split list whose class subfolders do not exist under --root: found directly in it
    listed = tmp_path / "lists" / "testlist.txt"
    listed.parent.mkdir()
    listed.write_text("ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi\n"
                      "YoYo/v_YoYo_g02_c03.mp4 5\n"  # a class number wins over the name
                      "Biking/v_Biking_g01_c01.avi\n\n")
    items, missing = find_videos(listed, root=flat)
    assert [(i.id, i.label) for i in items] == [("ApplyEyeMakeup_g08_c01", 0),
                                                ("YoYo_g02_c03", 4)]
    assert list(missing) == ["Biking/v_Biking_g01_c01.avi"]
    assert "file not found" in missing["Biking/v_Biking_g01_c01.avi"]


def test_find_videos_says_what_is_wrong(tmp_path):
    (tmp_path / "clip.avi").touch()
    with pytest.raises(ValueError, match="its class cannot be told"):
        find_videos(tmp_path)
    (tmp_path / "list.txt").write_text("clip.avi 9\n")
    with pytest.raises(ValueError, match=r"class number 1\.\.8"):
        find_videos(tmp_path / "list.txt", class_names=SYNTHETIC_CLASSES)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    for folder in ("a", "b"):
        (tmp_path / folder / "v_YoYo_g01_c01.avi").touch()
    with pytest.raises(ValueError, match="would both be stored as 'YoYo_g01_c01'"):
        find_videos(str(tmp_path / "*" / "*.avi"))
    with pytest.raises(ValueError, match="no video found"):
        find_videos(str(tmp_path / "*.mkv"))
    with pytest.raises(ValueError, match="is none of these"):
        find_videos(tmp_path / "nothing-here")


def test_find_videos_resolves_the_ucf101_test_list_against_the_data_folder(ucf101_videos):
    from twostream_lab.data.classes import UCF101_CLASSES
    from twostream_lab.data.paths import data_dir
    from twostream_lab.evaluation.preds import video_key

    items, missing = find_videos(data_dir("ucf101", "testlist01.txt"))
    assert len(items) == len(ucf101_videos) and len(items) + len(missing) == 3783
    assert {i.path for i in items} == {p.resolve() for p in ucf101_videos}
    for item in items:
        assert video_key(item.path.name) == item.id
        assert UCF101_CLASSES[item.label] == item.id.rsplit("_", 2)[0]


def test_weights_fingerprint_and_argument_checks(tmp_path):
    import twostream_lab

    shipped = Path(twostream_lab.__file__).parent / "weights"  # demo_models.WEIGHTS_DIR
    demo = weights_fingerprint("demo")  # without importing Keras
    for stream in ("spatial", "motion"):
        assert demo[f"{stream}_sha256"] == hashlib.sha256(
            (shipped / f"demo_{stream}.weights.h5").read_bytes()).hexdigest()
    assert demo["source"] == "demo" and demo["class_names"] == list(SYNTHETIC_CLASSES)
    with pytest.raises(FileNotFoundError, match="no weights file"):
        weights_fingerprint((tmp_path / "s.h5", tmp_path / "m.h5"))
    with pytest.raises(ValueError, match="'pretrained', 'demo' or a"):
        weights_fingerprint("tutorial")
    with pytest.raises(ValueError, match="not both"):
        evaluate_videos(tmp_path, "demo", out=tmp_path, workers=2, scheduler="tcp://127.0.0.1:1")
    with pytest.raises(ValueError, match="unknown flow method 'tv-l1'"):
        evaluate_videos(tmp_path, "demo", flow="tv-l1", out=tmp_path)
    with pytest.raises(ValueError, match="two or more different"):
        evaluate_videos(tmp_path, "demo", compare_flow=("dis", "dis"), out=tmp_path)


def test_a_worker_loads_the_models_once_and_times_only_that_load(monkeypatch):
    from twostream_lab.evaluation import tasks

    monkeypatch.setattr(tasks, "_MODELS", {})
    monkeypatch.setattr(tasks, "_LOADS", {"count": 0})
    weights = weights_fingerprint("demo")
    models, loads, seconds = tasks._worker_models(weights, None)
    assert models.is_demo and loads == 1 and seconds > 0
    again, loads, seconds = tasks._worker_models(weights, None)
    assert again is models and (loads, seconds) == (1, 0.0)


def test_an_unreachable_scheduler_is_a_clear_error(clips, tmp_path):
    from loopback import closed_port

    with pytest.raises(EvaluationError, match="cannot reach the Dask scheduler.*dask scheduler"):
        evaluate_videos(clips / "list.txt", "demo", flow="dis", sampling=2, out=tmp_path,
                        scheduler=f"tcp://127.0.0.1:{closed_port()}", connect_timeout=2,
                        progress=False)


def test_the_evaluate_command_line():
    from twostream_lab.cli import build_parser

    args = build_parser().parse_args(["evaluate", "list.txt", "--weights", "demo", "--flow",
                                      "dis", "--sampling", "19", "--workers", "2", "--out", "r",
                                      "--compare-flow", "tvl1,dis"])
    parsed = (args.videos, args.weights, args.flow, args.sampling, args.workers, args.scheduler,
              args.compare_flow, args.out)
    assert parsed == ("list.txt", "demo", "dis", 19, 2, None, "tvl1,dis", "r")
    for bad in (["--workers", "2", "--scheduler", "tcp://127.0.0.1:8786"], ["--workers", "0"],
                ["--sampling", "some"]):
        with pytest.raises(SystemExit) as exit_info:
            build_parser().parse_args(["evaluate", "list.txt", "--out", "r", *bad])
        assert exit_info.value.code == 2


# ---------------------------------------------------------------------------------------------
# on the cluster


def test_one_or_two_workers_and_a_killed_run_give_the_same_tables(clips, cluster, tmp_path):
    # 2 workers (the module's cluster, through scheduler= as for any existing cluster)
    two = evaluate_videos(clips / "list.txt", "demo", flow=FLOW, sampling=SAMPLING,
                          scheduler=cluster, out=tmp_path / "two", progress=False)
    report = two.report
    assert (report.new, report.reused, report.failures) == (CLIPS, 0, {})
    assert set(report.overall) == set(EVALUATION_STREAMS)
    assert report.overall["average"].num_videos == CLIPS
    assert len(report.per_class) == CLIPS  # one clip per class
    folder = _settings_folder(tmp_path / "two")
    assert folder == report.folder and folder.name.startswith(f"demo-{FLOW}-{SAMPLING}-samples-")
    fingerprint = weights_fingerprint("demo")
    results = _results(folder).values()
    # the models are loaded once per worker, not per video
    assert len({(r["worker"], r["worker_model_loads"]) for r in results}) == \
        len({r["worker"] for r in results})
    for result in results:
        assert result["status"] == "ok" and result["flow"] == FLOW
        assert result["sampling"] == SAMPLING and result["pairs"] == SAMPLING
        assert result["weights"]["spatial_sha256"] == fingerprint["spatial_sha256"]
        assert result["weights"]["motion_sha256"] == fingerprint["motion_sha256"]
    expected = _tables(folder)
    assert expected["accuracy.csv"].decode().splitlines()[0] == "stream,videos,top1,top5"
    assert (folder / "confusion.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # 1 worker (the command line's own LocalCluster), killed once its first result is stored,
    # then resumed on the module's 2-worker cluster
    out = tmp_path / "one"
    args = (str(clips / "list.txt"), "--weights", "demo", "--flow", FLOW, "--sampling",
            str(SAMPLING), "--out", str(out), "--quiet")
    run = _cli(*args, "--workers", "1", start_new_session=True)
    deadline = time.monotonic() + 120
    stored: dict[str, int] = {}
    while not stored and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
        stored = _stored_results(out)
    os.killpg(run.pid, signal.SIGKILL)
    _, stderr = run.communicate(timeout=30)
    assert stored, f"no result within 120 s; stderr: {stderr[-2000:]}"
    before = _stored_results(out)
    assert 0 < len(before) < CLIPS, "the run was not killed half-way"

    resumed = _cli(*args, "--scheduler", cluster)
    stdout, stderr = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, stderr[-2000:]
    assert f"{CLIPS} scored ({CLIPS - len(before)} now, {len(before)} from an earlier run)" \
        in stdout
    one = _settings_folder(out)
    assert one.name == folder.name
    after = _stored_results(out)
    assert {name: after[name] for name in before} == before, "stored results are not rewritten"
    assert _tables(one) == expected
    one_results, two_results = _results(one), _results(folder)
    for name, result in one_results.items():
        assert result["spatial"] == two_results[name]["spatial"]
        assert result["motion"] == two_results[name]["motion"]
    assert {one_results[name]["worker"] for name in before}.isdisjoint(
        r["worker"] for r in two_results.values()), "the killed run had its own worker"
    assert "time:" in stdout and "time" not in expected["accuracy.csv"].decode()
    log = (out / "evaluate.log").read_text()
    assert log.count(" start: ") == 2 and "clip00.avi" in log


def test_failed_videos_are_recorded_and_settings_are_not_mixed(clips, cluster, tmp_path,
                                                                write_clip):
    write_clip(tmp_path / "short.avi", np.zeros((5, 48, 48, 3), np.uint8))
    (tmp_path / "broken.avi").write_bytes(b"not a video at all")
    for name in ("clip00.avi", "clip01.avi"):
        shutil.copy(clips / name, tmp_path / name)
    (tmp_path / "list.txt").write_text("clip00.avi 1\nclip01.avi 2\nshort.avi 3\nbroken.avi 4\n"
                                       "gone.avi 5\n")
    out = tmp_path / "results"
    run = _cli(str(tmp_path / "list.txt"), "--weights", "demo", "--flow", "dis", "--sampling",
               "3", "--scheduler", cluster, "--out", str(out), "--quiet")
    stdout, stderr = run.communicate(timeout=300)
    assert run.returncode == 0, stderr[-2000:]
    assert "2 scored (2 now, 0 from an earlier run), 3 without scores" in stdout
    folder = _settings_folder(out)
    with open(folder / "failures.csv", newline="") as table:
        failures = dict(list(csv.reader(table))[1:])
    assert list(failures) == ["broken.avi", "gone.avi", "short.avi"]
    assert failures["broken.avi"].startswith("unreadable:")
    assert "file not found" in failures["gone.avi"]
    assert "too short" in failures["short.avi"]
    stored = _results(folder)
    assert stored["short.avi.json"]["status"] == "failed"  # stored: not tried again
    assert "gone.avi.json" not in stored  # missing: looked for again next time

    again = evaluate_videos(tmp_path / "list.txt", "demo", flow="dis", sampling=3,
                            scheduler=cluster, out=out, progress=False).report
    assert (again.new, again.reused, len(again.failures)) == (0, 2, 3)
    retried = evaluate_videos(tmp_path / "list.txt", "demo", flow="dis", sampling=3,
                              scheduler=cluster, out=out, retry_failed=True, progress=False)
    assert "short.avi: dis failed" in retried.log.read_text()

    # another sampling: its own folder, nothing reused from the first one
    other = evaluate_videos(tmp_path / "list.txt", "demo", flow="dis", sampling=2,
                            scheduler=cluster, out=out, progress=False).report
    assert other.folder != folder and (other.new, other.reused) == (2, 0)
    assert _results(folder).keys() == stored.keys()

    # results of another setting cannot be passed off as this one's
    settings = json.loads((folder / "settings.json").read_text())
    (folder / "settings.json").write_text(json.dumps({**settings, "sampling": 7}))
    with pytest.raises(EvaluationError, match="records other settings"):
        evaluate_videos(tmp_path / "list.txt", "demo", flow="dis", sampling=3,
                        scheduler=cluster, out=out, progress=False)


def test_compare_flow_reports_the_difference_per_class(clips, cluster, tmp_path):
    run = evaluate_videos(clips / "list.txt", "demo", sampling=3, scheduler=cluster,
                          out=tmp_path, compare_flow=("dis", "farneback"), progress=False)
    assert list(run.reports) == ["dis", "farneback"]
    dis, farneback = run.reports["dis"], run.reports["farneback"]
    assert dis.folder != farneback.folder and dis.new == farneback.new == CLIPS
    table = run.comparisons["farneback"].read_text().splitlines()
    assert table[0].startswith("class,videos,spatial_top1_dis,spatial_top1_farneback,"
                               "spatial_top1_difference,")
    rows = {line.split(",")[0]: line.split(",") for line in table[1:]}
    assert list(rows) == [*SYNTHETIC_CLASSES, "all"]
    column = table[0].split(",").index("motion_top1_difference")
    expected = farneback.overall["motion"].top1 - dis.overall["motion"].top1
    assert float(rows["all"][column]) == pytest.approx(expected, abs=1e-6)
    # the spatial stream does not see the flow
    assert dis.overall["spatial"] == farneback.overall["spatial"]
    assert "flow farneback vs dis: top-1 difference" in run.text


def test_stand_in_pretrained_weights_on_a_real_clip(ucf101_videos, legacy_fixtures, cluster,
                                                    tmp_path):
    weights = []
    for stream in ("spatial", "motion"):
        path = tmp_path / f"{stream}.h5"
        with gzip.open(legacy_fixtures / f"{stream}_tf1.h5.gz") as source, open(path, "wb") as h5:
            shutil.copyfileobj(source, h5)
        weights.append(path)
    chosen = ucf101_videos[:1]
    listed = tmp_path / "list.txt"  # a split-list line; the class folder does not exist
    listed.write_text("".join(f"{p.name.split('_')[1]}/{p.name}\n" for p in chosen))
    run = evaluate_videos(listed, tuple(weights), flow="dis", sampling=2, scheduler=cluster,
                          out=tmp_path / "results", root=chosen[0].parent, progress=False)
    report = run.report
    assert report.failures == {} and report.settings["weights"]["source"] == "local"
    assert report.settings["weights"]["spatial_sha256"] == hashlib.sha256(
        weights[0].read_bytes()).hexdigest()
    assert sorted(report.labels) == sorted(p.stem.removeprefix("v_") for p in chosen)
    assert all(report.class_names[label] == vid.rsplit("_", 2)[0]
               for vid, label in report.labels.items())
    assert [line.split(",")[0] for line in
            (report.folder / "accuracy.csv").read_text().splitlines()] == [
        "stream", *EVALUATION_STREAMS]
    assert (report.folder / "confusion.png").stat().st_size > 0
    assert run.pairs == 2 and len(run.video_seconds) == 1
