"""Optical flow: known motion, quantisation, workers, frame selection, cache and errors."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
import tracemalloc
import warnings

import cv2
import numpy as np
import pytest

import twostream_lab.flow as flow_module
import twostream_lab.flow.cache as flow_cache
import twostream_lab.flow.methods as flow_methods
import twostream_lab.flow.parallel as flow_parallel
from twostream_lab.commands import flow_command
from twostream_lab.flow import (
    FLOW_METHODS,
    OPTFLOW_FIX,
    Flow,
    FlowError,
    choose_workers,
    compute_flow,
    dequantize_flow,
    grey_frames,
    load_flow,
    quantize_flow,
    resolve_flow_method,
    save_flow,
    stack_pairs,
    tutorial_cast,
)
from twostream_lab.data.paths import TEMP_PREFIX, cache_dir
from twostream_lab.video import Video

DX, DY = 0.6, -0.3


def translating_clip(n=3, h=64, w=80, dx=DX, dy=DY, seed=0, colour=False) -> np.ndarray:
    """RGB uint8 frames of a smooth random texture moving by (dx, dy) pixels per frame.

    The texture is a sum of sinusoids (wavelengths 8-33 px) evaluated at shifted coordinates,
    so every frame is an exact sub-pixel translation of the first, up to uint8 rounding.
    """
    rng = np.random.default_rng(seed)
    k = 24
    freq, theta = rng.uniform(0.03, 0.12, k), rng.uniform(0, 2 * np.pi, k)
    fx, fy, phase = freq * np.cos(theta), freq * np.sin(theta), rng.uniform(0, 2 * np.pi, (3, k))
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    frames = np.empty((n, h, w, 3), np.uint8)
    for t in range(n):
        xs, ys = x - dx * t, y - dy * t
        for c in range(3):
            p = phase[c if colour else 0]
            g = sum(np.cos(2 * np.pi * (fx[i] * xs + fy[i] * ys) + p[i]) for i in range(k))
            frames[t, ..., c] = np.clip(np.rint(127.5 + g * 127.5 / (0.45 * k)), 0, 255)
    return frames


@pytest.fixture(scope="module")
def moving() -> np.ndarray:
    return translating_clip(n=5, colour=True)


@pytest.fixture
def count_pairs(monkeypatch):
    """Count the frame pairs computed in this process by the OpenCV methods."""
    calls = {"pairs": 0}
    real = flow_methods._opencv_flow_function

    def counting(spec):
        calc = real(spec)

        def counted(prev, nxt):
            calls["pairs"] += 1
            return calc(prev, nxt)

        return counted

    monkeypatch.setattr(flow_parallel, "_opencv_flow_function", counting)
    return calls


# ------------------------------------------------------------------ known motion


@pytest.mark.parametrize("method", ["tvl1", "dis"])
def test_known_subpixel_translation(method):
    flow = compute_flow(translating_clip(), method=method, cache=False, progress=False,
                        return_raw=True)
    inner = flow.raw[:, 10:-10, 10:-10]
    assert abs(np.median(inner[..., 0]) - DX) < 0.1
    assert abs(np.median(inner[..., 1]) - DY) < 0.1
    assert flow.u.shape == (2, 64, 80) and flow.u.dtype == np.uint8
    np.testing.assert_array_equal(flow.u, quantize_flow(flow.raw[..., 0]))
    np.testing.assert_array_equal(flow.v, quantize_flow(flow.raw[..., 1]))


@pytest.mark.parametrize("method", ["tvl1", "tvl1-fast", "dis", "farneback"])
def test_still_video_has_no_motion(method):
    still = np.repeat(translating_clip(n=1), 3, axis=0)
    flow = compute_flow(still, method=method, cache=False, progress=False, return_raw=True)
    assert np.abs(flow.raw).max() < 0.1
    assert np.isin(flow.u, [127, 128]).all() and np.isin(flow.v, [127, 128]).all()


def test_uint8_grey_gives_the_tutorials_flow_exactly():
    """The tutorial: BGR frames, COLOR_BGR2GRAY, float32 / 255, DualTVL1 defaults."""
    rgb = translating_clip(n=3, colour=True)
    tvl1 = cv2.optflow.DualTVL1OpticalFlow_create()
    grey = [np.float32(cv2.cvtColor(f[..., ::-1], cv2.COLOR_BGR2GRAY)) / 255 for f in rgb]
    tutorial = np.stack([tvl1.calc(grey[i], grey[i + 1], None) for i in range(2)])
    ours = compute_flow(rgb, cache=False, progress=False, return_raw=True)
    np.testing.assert_array_equal(ours.raw, tutorial)
    np.testing.assert_array_equal(grey_frames(rgb), [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in rgb])


# ------------------------------------------------------------------ quantisation


def test_quantize_edges_and_rounding():
    f = np.array([-1000, -20.5, -20, 0, 20, 20.5, 1000, np.nan], np.float32)
    np.testing.assert_array_equal(quantize_flow(f), [0, 0, 0, 128, 255, 255, 255, 128])
    # bound 31.875 makes one level exactly 0.25 px: halves round to even (as cv2.saturate_cast)
    half = np.array([-31.25, -31.0, 31.0, 31.25], np.float32)  # levels 2.5, 3.5, 251.5, 252.5
    np.testing.assert_array_equal(quantize_flow(half, bound=31.875), [2, 4, 252, 252])
    ramp = np.linspace(-25, 25, 1001, dtype=np.float32)
    q = quantize_flow(ramp)
    assert q.dtype == np.uint8 and (np.diff(q.astype(int)) >= 0).all()
    assert np.array_equal(np.unique(q), np.arange(256))
    expected = np.rint(np.clip(ramp, -20, 20) * np.float32(127.5 / 20) + np.float32(127.5))
    np.testing.assert_array_equal(q, expected)
    assert np.abs(dequantize_flow(q) - np.clip(ramp, -20, 20)).max() <= 20 / 255 + 1e-5
    with pytest.raises(ValueError, match="bound"):
        quantize_flow(ramp, bound=0)


def test_tutorial_cast_wraps_where_quantize_saturates():
    f = np.array([-20.7, -20, -0.01, 0, 19.9, 20, 20.2, 21, 50], np.float32)
    cast = tutorial_cast(f)
    np.testing.assert_array_equal(cast, [252, 0, 127, 127, 254, 255, 0, 5, 190])
    np.testing.assert_array_equal(quantize_flow(f), [0, 0, 127, 128, 254, 255, 255, 255, 255])
    if platform.machine().lower() in ("x86_64", "amd64"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            np.testing.assert_array_equal(cast, (255 * (f + 20) / 40).astype(np.uint8))


# ------------------------------------------------------------------ workers, ranges


@pytest.mark.parametrize("method", ["tvl1", "dis"])
def test_worker_processes_give_byte_identical_flow(moving, method):
    serial = compute_flow(moving, method=method, workers=1, cache=False, progress=False,
                          return_raw=True)
    parallel = compute_flow(moving, method=method, workers=2, cache=False, progress=False,
                            return_raw=True)
    assert parallel.raw.tobytes() == serial.raw.tobytes()
    assert parallel.u.tobytes() == serial.u.tobytes()
    assert parallel.v.tobytes() == serial.v.tobytes()


def test_choose_workers_rule(monkeypatch):
    monkeypatch.setattr(flow_parallel, "available_cores", lambda: 2)
    assert choose_workers("tvl1", 249) == 1
    monkeypatch.setattr(flow_parallel, "available_cores", lambda: 16)
    assert choose_workers("tvl1", 249) == 8
    assert choose_workers("tvl1", 12) == 6, "no more processes than pairs / 2"
    assert choose_workers("tvl1", 2, 64, 80) == 1, "a few seconds of work: no processes"
    assert choose_workers("dis", 249) == 1
    assert choose_workers("tvl1-tf", 249) == 1


def test_frame_range_computes_only_its_pairs(moving, count_pairs):
    full = compute_flow(moving, method="dis", cache=False, progress=False)
    count_pairs["pairs"] = 0
    part = compute_flow(moving, method="dis", cache=False, progress=False, frame_range=(1, 4))
    assert count_pairs["pairs"] == 2
    assert (part.start, part.num_frames, part.stop, part.computed) == (1, 2, 3, None)
    np.testing.assert_array_equal(part.u, full.u[1:3])
    np.testing.assert_array_equal(part.v, full.v[1:3])
    for bad in [(3, 4), (0, 6), (-1, 3), (0, 1.5), "0:3"]:
        with pytest.raises(ValueError, match="frame_range"):
            compute_flow(moving, method="dis", cache=False, progress=False, frame_range=bad)


def test_pairs_computes_only_the_stacks_pairs(count_pairs):
    clip = translating_clip(n=9)
    full = compute_flow(clip, method="dis", cache=False, progress=False)
    count_pairs["pairs"] = 0
    needed = stack_pairs([1, 5], stacked_frames=2)
    assert needed.tolist() == [1, 2, 5, 6]
    part = compute_flow(clip, method="dis", cache=False, progress=False, pairs=needed)
    assert count_pairs["pairs"] == 4
    assert (part.start, part.num_frames) == (1, 6)
    assert part.computed.tolist() == [True, True, False, False, True, True]
    rows = needed - part.start
    np.testing.assert_array_equal(part.u[rows], full.u[needed])
    assert (part.u[~part.computed] == 128).all()
    with pytest.raises(ValueError, match="pairs must be flow frame indices in 0..7"):
        compute_flow(clip, method="dis", cache=False, progress=False, pairs=[8])
    with pytest.raises(ValueError, match="not both"):
        compute_flow(clip, cache=False, pairs=[0], frame_range=(0, 2))


def test_short_side_resizes_before_the_flow(moving):
    flow = compute_flow(moving, method="dis", cache=False, progress=False, short_side=32)
    assert flow.u.shape == (4, 32, 40)
    assert grey_frames(moving, short_side=32).shape == (5, 32, 40)


def test_accepts_video_grey_frames_and_lists(moving):
    expected = compute_flow(moving, method="dis", cache=False, progress=False)
    video = Video.from_frames(moving)
    for frames in (video, grey_frames(moving), list(moving)):
        got = compute_flow(frames, method="dis", cache=False, progress=False)
        np.testing.assert_array_equal(got.u, expected.u)
    with pytest.raises(ValueError, match="at least 2 frames"):
        compute_flow(moving[:1], cache=False)
    with pytest.raises(ValueError, match="uint8"):
        compute_flow(moving.astype(np.float32), cache=False)
    with pytest.raises(ValueError, match="workers"):
        compute_flow(moving, cache=False, workers=0)


# ------------------------------------------------------------------ cache


def _entries():
    return sorted(cache_dir("flow").glob("*.npz"))


def test_cache_hit_is_identical_and_not_recomputed(moving, count_pairs):
    first = compute_flow(moving, method="tvl1", progress=False)
    assert count_pairs["pairs"] == 4 and len(_entries()) == 1
    second = compute_flow(moving, method="tvl1", progress=False)
    assert count_pairs["pairs"] == 4, "served from the cache"
    assert second.u.tobytes() == first.u.tobytes() and second.v.tobytes() == first.v.tobytes()
    compute_flow(moving, method="tvl1", bound=15, progress=False)
    compute_flow(moving[::-1], method="tvl1", progress=False)
    assert count_pairs["pairs"] == 12, "another bound or other frames are other entries"
    assert len(_entries()) == 3
    assert not list(cache_dir("flow").glob(".*")), "no temporary files are left"


def test_cache_is_keyed_by_the_grey_frames_the_method_sees(moving, count_pairs):
    from twostream_lab.offline_lab.synthetic import make_synthetic_clip

    red = make_synthetic_clip("red moving up-left", seed=3)
    blue = make_synthetic_clip("blue moving up-left", seed=3)
    assert not np.array_equal(red.frames, blue.frames)
    first = compute_flow(red, method="dis", progress=False)
    assert count_pairs["pairs"] == 15
    second = compute_flow(blue, method="dis", progress=False)
    assert count_pairs["pairs"] == 15, "same grey frames: the red clip's entry serves the blue one"
    assert second.u.tobytes() == first.u.tobytes() and second.v.tobytes() == first.v.tobytes()
    compute_flow(make_synthetic_clip("red moving up-right", seed=3), method="dis", progress=False)
    assert count_pairs["pairs"] == 30 and len(_entries()) == 2

    compute_flow(moving, method="dis", progress=False)
    compute_flow(grey_frames(moving), method="dis", progress=False)
    assert count_pairs["pairs"] == 34, "an RGB clip and its grey frames are one entry"
    compute_flow(moving, method="dis", progress=False, short_side=32)
    assert count_pairs["pairs"] == 38, "frames resized for the flow are another entry"


def test_cache_completes_a_partial_entry(count_pairs):
    clip = translating_clip(n=9)
    compute_flow(clip, method="dis", progress=False, pairs=[2, 3])
    full = compute_flow(clip, method="dis", progress=False)
    assert count_pairs["pairs"] == 8, "the 2 cached pairs are not computed again"
    uncached = compute_flow(clip, method="dis", cache=False, progress=False)
    np.testing.assert_array_equal(full.u, uncached.u)
    np.testing.assert_array_equal(full.v, uncached.v)
    compute_flow(clip, method="dis", progress=False, frame_range=(0, 9))
    assert count_pairs["pairs"] == 16, "cache=False computed 8; the full entry served the rest"


def test_truncated_cache_file_is_recomputed(moving, count_pairs):
    first = compute_flow(moving, method="dis", progress=False)
    (entry,) = _entries()
    entry.write_bytes(entry.read_bytes()[: entry.stat().st_size // 2])
    with pytest.warns(RuntimeWarning, match="damaged flow cache file"):
        again = compute_flow(moving, method="dis", progress=False)
    assert count_pairs["pairs"] == 8
    np.testing.assert_array_equal(again.u, first.u)
    compute_flow(moving, method="dis", progress=False)
    assert count_pairs["pairs"] == 8, "the rewritten entry is valid"


def test_cache_entry_with_wrong_checksum_is_recomputed(moving, count_pairs):
    first = compute_flow(moving, method="dis", progress=False)
    (entry,) = _entries()
    with np.load(entry) as data:
        arrays = dict(data)
    arrays["u"] = arrays["u"].copy()
    arrays["u"][0, 0, 0] ^= 1
    np.savez_compressed(entry, **arrays)
    with pytest.warns(RuntimeWarning, match="checksum"):
        again = compute_flow(moving, method="dis", progress=False)
    np.testing.assert_array_equal(again.u, first.u)
    assert count_pairs["pairs"] == 8


def test_failed_cache_write_leaves_no_entry(moving, monkeypatch):
    def disk_full(file, *args):
        file.write(b"PK partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(flow_cache, "_write_npz", disk_full)
    with pytest.warns(RuntimeWarning, match="could not write the flow cache"):
        flow = compute_flow(moving, method="dis", progress=False)
    assert flow.u.shape == (4, 64, 80)
    assert list(cache_dir("flow").iterdir()) == [], "neither an entry nor a temporary file"


def _peak_bytes(function, *args, **kwargs) -> tuple[object, int]:
    """``function(*args, **kwargs)`` and the most memory it held at once (numpy's included)."""
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        result = function(*args, **kwargs)
        return result, tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()


def test_memory_is_the_result_and_a_few_pairs(monkeypatch):
    """No float32 flow of the whole clip, no grey copy of it, no copy of the result for the cache:
    computing, writing the cache entry and reading it back hold little more than u and v."""
    clip = translating_clip(n=40, h=192, w=256)
    result_bytes = 2 * 39 * 192 * 256  # u and v: 3.7 MiB (the float32 flow would be 14.6 MiB)
    compute_flow(clip[:3], method="dis", cache=False, progress=False)  # imports done
    flow, peak = _peak_bytes(compute_flow, clip, method="dis", workers=1, progress=False)
    assert peak < 1.5 * result_bytes, f"computing and caching held {peak / result_bytes:.2f}x u+v"
    assert len(_entries()) == 1
    cached, peak = _peak_bytes(compute_flow, clip, method="dis", progress=False)
    assert peak < 1.5 * result_bytes, f"the cache hit held {peak / result_bytes:.2f}x u+v"
    np.testing.assert_array_equal(cached.u, flow.u)
    np.testing.assert_array_equal(cached.v, flow.v)
    part, peak = _peak_bytes(compute_flow, clip, method="dis", progress=False, frame_range=(0, 11))
    assert part.u.base is None, "a part of an entry is copied, not a view that keeps it all"
    np.testing.assert_array_equal(part.u, flow.u[:10])


def test_worker_chunks_are_bounded_in_bytes(monkeypatch, capsys):
    clip = translating_clip(n=12)
    sizes = []
    real_runs = flow_parallel._runs
    monkeypatch.setattr(flow_parallel, "_CHUNK_BYTES", 3 * 64 * 80 * 2 * 4)  # 3 pairs of float32
    monkeypatch.setattr(flow_parallel, "_runs",
                        lambda todo, size: sizes.append(size) or real_runs(todo, size))
    parallel = compute_flow(clip, method="dis", workers=2, cache=False, progress=True)
    assert "Optical flow (dis, 2 processes)" in capsys.readouterr().err
    serial = compute_flow(clip, method="dis", workers=1, cache=False, progress=False)
    one_pair = compute_flow(clip[:2], method="dis", workers=2, cache=False, progress=True)
    bar = capsys.readouterr().err
    assert "Optical flow (dis)" in bar and "processes" not in bar, "one pair: this process"
    np.testing.assert_array_equal(one_pair.u, serial.u[:1])
    assert sizes == [2], "ceil(11 pairs / (4 x 2 workers)) = 2 pairs, under the 3 that fit"
    monkeypatch.setattr(flow_parallel, "_CHUNK_BYTES", 64 * 80 * 2 * 4)  # 1 pair
    single = compute_flow(clip, method="dis", workers=2, cache=False, progress=False)
    assert sizes == [2, 1]
    for other in (parallel, single):
        np.testing.assert_array_equal(other.u, serial.u)
        np.testing.assert_array_equal(other.v, serial.v)


def test_stale_temporaries_are_removed_when_the_cache_is_used(moving, tmp_path):
    folder = cache_dir("flow")
    hours_ago = time.time() - 2 * 3600

    def leftovers():
        stale = [folder / f"{TEMP_PREFIX}{'a' * 40}.npz-k2j3x.tmp",
                 folder / f".{'b' * 40}.npz-x8y9z.tmp"]  # the name before TEMP_PREFIX
        young = folder / f"{TEMP_PREFIX}{'c' * 40}.npz-a1b2c.tmp"  # a write still running
        for path in (*stale, young):
            path.write_bytes(b"PK partial")
        for path in stale:
            os.utime(path, (hours_ago, hours_ago))
        return stale, young

    stale, young = leftovers()
    compute_flow(moving, method="dis", progress=False)  # a miss: read, then write
    assert not any(path.exists() for path in stale) and young.exists()
    stale, _ = leftovers()
    compute_flow(moving, method="dis", progress=False)  # a hit: read only
    assert not any(path.exists() for path in stale) and young.exists()
    assert len(_entries()) == 1
    own = tmp_path / "flows"
    own.mkdir()
    (own / "notes.tmp").write_text("not ours")
    os.utime(own / "notes.tmp", (hours_ago, hours_ago))
    folder = own
    stale, _ = leftovers()
    compute_flow(moving, method="dis", progress=False, cache=own)
    assert not any(path.exists() for path in stale) and (own / "notes.tmp").exists()


def test_raw_flow_is_computed_even_when_cached(moving, count_pairs):
    compute_flow(moving, method="dis", progress=False)
    raw = compute_flow(moving, method="dis", progress=False, return_raw=True)
    assert count_pairs["pairs"] == 8
    assert raw.raw.shape == (4, 64, 80, 2) and raw.raw.dtype == np.float32


# ------------------------------------------------------------------ methods and errors


def test_registry_lists_every_method():
    assert set(FLOW_METHODS) == {"tvl1", "tvl1-fast", "dis", "farneback", "tvl1-tf", "auto"}
    assert FLOW_METHODS["tvl1"].params["epsilon"] == 0.01
    assert dict(FLOW_METHODS["tvl1"].params) == dict(FLOW_METHODS["tvl1-tf"].params)
    tvl1 = cv2.optflow.DualTVL1OpticalFlow_create()
    for name, setter in flow_methods._TVL1_SETTERS.items():
        assert getattr(tvl1, "g" + setter[1:])() == pytest.approx(FLOW_METHODS["tvl1"].params[name])
    with pytest.raises(ValueError, match="unknown flow method 'brox'.*tvl1, tvl1-fast, dis"):
        compute_flow(translating_clip(), method="brox", cache=False)


def test_missing_optflow_gives_the_pip_fix(monkeypatch):
    monkeypatch.delattr(cv2, "optflow")
    with pytest.raises(FlowError) as error:
        compute_flow(translating_clip(), method="tvl1", cache=False, progress=False)
    assert OPTFLOW_FIX in str(error.value)
    assert OPTFLOW_FIX.startswith("pip uninstall -y opencv-python opencv-python-headless "
                                  "opencv-contrib-python")
    assert OPTFLOW_FIX.endswith("&& pip install opencv-contrib-python")
    assert not flow_module.has_optflow()
    compute_flow(translating_clip(), method="dis", cache=False, progress=False)


def test_auto_records_and_shows_its_choice(monkeypatch, capsys):
    monkeypatch.setattr(flow_methods, "_tensorflow_gpu_available", lambda: False)
    flow = compute_flow(translating_clip(), method="auto", cache=False, progress=True)
    assert flow.method == "tvl1"
    assert "Optical flow (auto: tvl1)" in capsys.readouterr().err
    monkeypatch.setattr(flow_methods, "_tensorflow_gpu_available", lambda: True)
    monkeypatch.setattr(flow_methods, "_tvl1_tf_available", lambda: True)
    assert resolve_flow_method("auto") == "tvl1-tf"
    monkeypatch.setattr(flow_methods, "_tvl1_tf_available", lambda: False)
    assert resolve_flow_method("auto") == "tvl1"


def test_tvl1_tf_missing_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "twostream_lab.flow.tvl1_tf", None)
    with pytest.raises(FlowError, match="'tvl1-tf' needs twostream_lab.flow.tvl1_tf and TensorFlow"):
        compute_flow(translating_clip(), method="tvl1-tf", cache=False, progress=False)


def test_importing_flow_does_not_import_tensorflow():
    code = ("import sys, twostream_lab.flow, twostream_lab.video, twostream_lab.pictures.flow_viz; "
            "print('tensorflow' in sys.modules, 'keras' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


# ------------------------------------------------------------------ files and CLI


def test_save_and_load_flow(tmp_path, moving):
    flow = compute_flow(translating_clip(n=9), method="dis", cache=False, progress=False,
                        pairs=[1, 2, 6])
    path = save_flow(tmp_path / "flow", flow)
    assert path.name == "flow.npz"
    back = load_flow(path)
    np.testing.assert_array_equal(back.u, flow.u)
    np.testing.assert_array_equal(back.computed, flow.computed)
    assert (back.method, back.bound, back.start) == ("dis", 20.0, 1)
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="cannot read it as a twostream-lab flow file"):
        load_flow(tmp_path / "bad.npz")
    with pytest.raises(FileNotFoundError, match="no such flow file"):
        load_flow(tmp_path / "missing.npz")


def test_flow_command_writes_the_file(tmp_path, write_clip):
    write_clip(tmp_path / "clip.avi", translating_clip(n=6, colour=True))
    text = flow_command(tmp_path / "clip.avi", tmp_path / "out.npz", method="dis",
                        progress=False)
    assert text.startswith(f"Wrote {tmp_path / 'out.npz'}: 5 flow frames")
    assert "80x64 from clip.avi (6 frames); method dis, bound 20" in text
    flow = load_flow(tmp_path / "out.npz")
    assert flow.u.shape == (5, 64, 80) and flow.method == "dis"


def test_flow_repr_and_validation():
    u = np.full((2, 4, 5), 128, np.uint8)
    flow = Flow(u, u.copy(), method="tvl1", bound=20, start=3)
    assert repr(flow) == "Flow(method='tvl1', bound=20, start=3, num_frames=2, size=5x4)"
    with pytest.raises(ValueError, match="uint8"):
        Flow(u.astype(np.float32), u, method="tvl1", bound=20)


# ------------------------------------------------------------------ real clips


def test_real_clip_tvl1_is_the_tutorials_flow(ucf101_videos):
    """One real pair (the central 160x120 of a UCF101 clip, to keep the test short)."""
    capture = cv2.VideoCapture(str(ucf101_videos[0]))
    bgr = [capture.read()[1][60:180, 80:240] for _ in range(2)]
    capture.release()
    grey = [np.float32(cv2.cvtColor(f, cv2.COLOR_BGR2GRAY)) / 255 for f in bgr]
    tutorial = cv2.optflow.DualTVL1OpticalFlow_create().calc(grey[0], grey[1], None)
    from twostream_lab.video import read_video

    rgb = read_video(ucf101_videos[0], max_frames=2).frames[:, 60:180, 80:240]
    flow = compute_flow(rgb, progress=False, return_raw=True)
    np.testing.assert_array_equal(flow.raw[0], tutorial)
    np.testing.assert_array_equal(flow.u[0], quantize_flow(tutorial[..., 0]))
    np.testing.assert_array_equal(flow.v[0], quantize_flow(tutorial[..., 1]))
