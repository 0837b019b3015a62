"""Reading .preds pickles safely and video-level accuracy on the split-1 test list."""

from __future__ import annotations

import os
import pickle

import numpy as np
import pytest

from twostream_lab.data.classes import class_index
from twostream_lab.fusion import fuse_scores
from twostream_lab.evaluation.preds import (PUBLISHED_TOP1, PredsError, evaluate_two_stream,
                                      format_accuracy_table, fuse_preds, read_preds,
                                      read_test_list, video_accuracy, video_key)

# (test-list line, spatial rank of the true class, motion rank of the true class);
# rank 0 = top-1, 3 = within top-5, 7 = outside top-5.
VIDEOS = [
    ("ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi", 0, 0),
    ("HandstandPushups/v_HandStandPushups_g02_c03.avi", 0, 3),
    ("YoYo/v_YoYo_g07_c04.avi", 0, 7),
    ("Archery/v_Archery_g03_c01.avi", 3, 0),
    ("Basketball/v_Basketball_g01_c01.avi", 7, 0),
    ("PlayingDaf/v_PlayingDaf_g05_c02.avi", 7, 7),
]
# Expected: spatial top-1 3/6, top-5 4/6; motion top-1 3/6, top-5 4/6.


def _scores(label: int, rank: int, rng) -> np.ndarray:
    """Summed softmax of 19 frames whose true class comes out at position ``rank``."""
    scores = rng.uniform(0.0, 0.05, 101)
    others = [c for c in range(101) if c != label]
    rng.shuffle(others)
    order = others[:rank] + [label]
    for position, cls in enumerate(order):
        scores[cls] = 10.0 - position
    return scores / scores.sum() * 19


def _original_pickle(content) -> bytes:
    """Pickle like Python 3.6 + numpy 1.15 did: protocol 3, numpy.core.multiarray globals."""
    data = pickle.dumps(content, protocol=3)
    data = data.replace(b"cnumpy._core.multiarray\n", b"cnumpy.core.multiarray\n")
    assert b"cnumpy.core.multiarray\n_reconstruct" in data
    return data


@pytest.fixture
def preds_files(tmp_path):
    rng = np.random.default_rng(0)
    spatial, motion = {}, {}
    for line, spatial_rank, motion_rank in VIDEOS:
        key = video_key(line)
        label = class_index(line.split("/")[0])
        spatial[key] = _scores(label, spatial_rank, rng).astype(np.float32)
        motion[key] = _scores(label, motion_rank, rng).astype(np.float32)
    paths = {}
    for name, scores in (("spatial", spatial), ("motion", motion)):
        paths[name] = tmp_path / f"{name}.preds"
        paths[name].write_bytes(_original_pickle((scores, 19)))
    test_list = tmp_path / "testlist01.txt"
    test_list.write_text("".join(line + "\r\n" for line, _, _ in VIDEOS))
    return paths, test_list


def test_read_preds_original_layout(preds_files):
    paths, _ = preds_files
    scores, frames = read_preds(paths["spatial"])
    assert frames == 19
    assert set(scores) == {video_key(line) for line, _, _ in VIDEOS}
    assert "HandstandPushups_g02_c03" in scores
    assert all(v.shape == (101,) and v.dtype == np.float64 for v in scores.values())
    np.testing.assert_allclose(sum(scores["YoYo_g07_c04"]), 19, rtol=1e-5)


def test_accuracies_of_the_fixture(preds_files):
    paths, test_list = preds_files
    spatial, _ = read_preds(paths["spatial"])
    motion, _ = read_preds(paths["motion"])
    pairs = read_test_list(test_list)
    assert pairs[1] == ("HandstandPushups_g02_c03", class_index("HandstandPushups"))
    results = evaluate_two_stream(spatial, motion, pairs, weights=(1.0, 0.0))
    assert (results["spatial"].top1, results["spatial"].top5) == (3 / 6, 4 / 6)
    assert (results["motion"].top1, results["motion"].top5) == (3 / 6, 4 / 6)
    # Averaging rescues the videos where one stream is sure and the other is not.
    assert results["average"].top1 == 5 / 6 and results["average"].num_videos == 6
    assert results["weighted"] == results["spatial"]
    assert video_accuracy(spatial) == results["spatial"]  # labels read from the keys
    assert video_accuracy(spatial, test_list) == results["spatial"]
    table = format_accuracy_table(results)
    assert "spatial" in table and "50.00%" in table and "83.33%" in table
    assert f"{100 * PUBLISHED_TOP1['average']:.2f}%" in table


def test_fusion_methods():
    spatial = {"a": np.array([1.0, 0.0]), "b": np.array([0.0, 1.0])}
    motion = {"a": np.array([0.0, 3.0])}
    assert set(fuse_preds(spatial, motion)) == {"a"}
    np.testing.assert_allclose(fuse_preds(spatial, motion)["a"], [0.5, 1.5])
    np.testing.assert_allclose(
        fuse_preds(spatial, motion, method="weighted", weights=(3, 1))["a"], [0.75, 0.75])
    with pytest.raises(ValueError, match="weights"):
        fuse_preds(spatial, motion, method="weighted")
    with pytest.raises(ValueError, match="unknown fusion method 'sum'"):
        fuse_preds(spatial, motion, method="sum")


@pytest.mark.parametrize("method, weights", [("average", None), ("weighted", (1, 1.5)),
                                             ("max", None), ("product", None)])
def test_dataset_fusion_is_the_fusion_of_one_video(method, weights):
    rng = np.random.default_rng(3)
    spatial = {f"v{i}": rng.dirichlet(np.ones(5)) * 19 for i in range(4)}
    motion = {f"v{i}": rng.dirichlet(np.ones(5)) * 19 for i in range(4)}
    fused = fuse_preds(spatial, motion, method=method, weights=weights)
    for key in spatial:
        np.testing.assert_array_equal(
            fused[key], fuse_scores(spatial[key], motion[key], method=method, weights=weights))


def test_missing_videos(preds_files):
    paths, test_list = preds_files
    scores, _ = read_preds(paths["spatial"])
    del scores["YoYo_g07_c04"]
    with pytest.raises(PredsError, match="1 of the 6 test videos have no scores"):
        video_accuracy(scores, test_list)
    assert video_accuracy(scores, test_list, strict=False).num_videos == 5


def test_malicious_pickle_is_refused_without_running(tmp_path):
    marker = tmp_path / "code-ran"

    class Payload:
        def __reduce__(self):
            return os.system, (f"touch {marker}",)

    path = tmp_path / "evil.preds"
    path.write_bytes(pickle.dumps(({"ApplyEyeMakeup_g01_c01": Payload()}, 19), protocol=3))
    with pytest.raises(PredsError, match="posix.system|os.system|nt.system"):
        read_preds(path)
    assert not marker.exists()


@pytest.mark.parametrize("content, message", [
    ([1, 2, 3], "should hold the pair"),
    (({"YoYo_g01_c01": "text"}, 19), "1-D numeric"),
    (({"a": np.zeros(3), "b": np.zeros(4)}, 19), "different lengths"),
])
def test_wrong_layouts(content, message, tmp_path):
    path = tmp_path / "x.preds"
    path.write_bytes(pickle.dumps(content, protocol=2))
    with pytest.raises(PredsError, match=message):
        read_preds(path)


def test_not_a_pickle(tmp_path):
    path = tmp_path / "x.preds"
    path.write_bytes(b"<html>quota</html>")
    with pytest.raises(PredsError, match="not a readable"):
        read_preds(path)


def test_video_keys():
    assert video_key("v_HandStandPushups_g01_c01.avi") == "HandstandPushups_g01_c01"
    assert video_key("ApplyEyeMakeup_g08_c01") == "ApplyEyeMakeup_g08_c01"
    assert video_key("Archery/v_Archery_g03_c01.avi") == "Archery_g03_c01"
    with pytest.raises(ValueError, match="not a UCF101 video name"):
        video_key("clip.mp4")


def test_real_split1_test_list():
    from twostream_lab.data.paths import data_dir

    path = data_dir("ucf101", "testlist01.txt")
    if not path.is_file():
        pytest.skip(f"{path} is absent")
    pairs = read_test_list()
    assert len(pairs) == 3783 and len(dict(pairs)) == 3783
    assert {label for _, label in pairs} == set(range(101))
    assert pairs[0] == ("ApplyEyeMakeup_g01_c01", 0)
    assert any(key.startswith("HandstandPushups_g") for key, _ in pairs)
    assert all(1 <= int(key.rsplit("_", 2)[1][1:]) <= 7 for key, _ in pairs)  # groups 1-7
