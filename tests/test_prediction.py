"""Prediction: built from the streams' rows alone, with the fused and video scores derived."""

from __future__ import annotations

import numpy as np
import pytest

from twostream_lab.fusion import fuse_scores
from twostream_lab.prediction import Prediction

CLASSES = ("walk", "run", "jump")


def _scores(rows: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).dirichlet(np.ones(len(CLASSES)), rows).astype(np.float32)


def _prediction(**changes) -> Prediction:
    fields = dict(spatial=_scores(5, 0), motion=_scores(3, 1), spatial_indices=[0, 1, 2, 3, 4],
                  motion_indices=[0, 2, 4], class_names=CLASSES, video_name="clip.mp4",
                  source="demo", num_frames=5)
    return Prediction(**{**fields, **changes})


@pytest.mark.parametrize(("fusion", "weights"), [("average", None), ("weighted", (1, 1.5)),
                                                 ("max", None), ("product", None)])
def test_fused_rows_pair_each_stack_with_the_rgb_frame_it_starts_at(fusion, weights):
    spatial, motion = _scores(5, 0), _scores(3, 1)
    # the spatial rows in another order: the pairing goes by frame number, not by row
    order = [3, 0, 4, 1, 2]
    p = _prediction(spatial=spatial[order], spatial_indices=order, motion=motion,
                    fusion=fusion, fusion_weights=weights)
    expected = fuse_scores(spatial[[0, 2, 4]], motion, method=fusion, weights=weights)
    np.testing.assert_array_equal(p.fused, expected)
    np.testing.assert_allclose(p.spatial_video, spatial.mean(0), rtol=1e-6)
    np.testing.assert_array_equal(p.motion_video, motion.mean(0))
    np.testing.assert_array_equal(
        p.fused_video, fuse_scores(p.spatial_video, p.motion_video, method=fusion,
                                   weights=weights))
    assert p.top_k(1, "fused", frame=2)[0][0] == CLASSES[int(np.argmax(expected[1]))]


def test_the_stored_rows_cannot_change_under_the_derived_scores():
    p = _prediction()
    with pytest.raises(ValueError, match="read-only"):
        p.spatial[0, 0] = 1.0


@pytest.mark.parametrize(("changes", "message"), [
    ({"motion_indices": [0, 2, 7]}, r"frames 7 have no spatial scores"),
    ({"motion": _scores(2, 1)}, r"motion must have one row of 3 class scores per "
                                r"motion_indices entry \(3\)"),
    ({"spatial": np.ones((5, 4), np.float32) / 4}, r"spatial must have one row of 3"),
    ({"spatial": np.zeros((0, 3)), "spatial_indices": []}, r"and at least one"),
    ({"spatial_indices": [0.5, 1, 2, 3, 4]}, r"spatial_indices must be a list of whole frame"),
    ({"fusion": "sum"}, r"unknown fusion method 'sum'"),
    ({"fusion_weights": (1, 2)}, r"weights are only used by method='weighted'"),
])
def test_inconsistent_scores_are_refused_when_built(changes, message):
    with pytest.raises(ValueError, match=message):
        _prediction(**changes)
