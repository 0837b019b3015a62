"""Fusion of the two streams: known answers, weight validation, deterministic ties."""

from __future__ import annotations

import numpy as np
import pytest

from twostream_lab.fusion import TSN_WEIGHTS, fuse_scores, top_k_classes, top_k_indices

S = np.array([0.5, 0.25, 0.25])
M = np.array([0.125, 0.625, 0.25])


def test_average_is_the_mean_in_0_1():
    np.testing.assert_array_equal(fuse_scores(S, M), [0.3125, 0.4375, 0.25])
    # The tutorial's sum ranks the classes the same way but reaches 2.
    assert np.argmax(fuse_scores(S, M)) == np.argmax(S + M)
    assert fuse_scores(S, M).sum() == 1


def test_weighted_normalises_the_weights():
    np.testing.assert_array_equal(
        fuse_scores(S, M, method="weighted", weights=(1, 3)), [0.21875, 0.53125, 0.25]
    )
    np.testing.assert_allclose(
        fuse_scores(S, M, method="weighted", weights=TSN_WEIGHTS), 0.4 * S + 0.6 * M
    )
    np.testing.assert_array_equal(
        fuse_scores(S, M, method="weighted", weights=(2, 2)), fuse_scores(S, M)
    )
    np.testing.assert_array_equal(fuse_scores(S, M, method="weighted", weights=(0, 1)), M)


def test_max_takes_the_larger_score_per_class():
    np.testing.assert_array_equal(fuse_scores(S, M, method="max"), [0.5, 0.625, 0.25])


def test_product_is_the_renormalised_geometric_mean():
    out = fuse_scores(np.array([0.9, 0.1]), np.array([0.4, 0.6]), method="product")
    g = np.array([0.6, np.sqrt(0.06)])
    np.testing.assert_allclose(out, g / g.sum())
    np.testing.assert_allclose(
        fuse_scores(np.array([0.8, 0.2]), np.array([0.2, 0.8]), method="product"), [0.5, 0.5]
    )
    # A class one stream rules out (exact zero) stays near zero instead of giving NaN.
    out = fuse_scores(np.array([1.0, 0.0]), np.array([0.5, 0.5]), method="product")
    assert np.isfinite(out).all() and out[0] > 0.999999


@pytest.mark.parametrize("method", ["average", "weighted", "max", "product"])
def test_per_frame_rows_equal_per_video_calls(method):
    rng = np.random.default_rng(0)
    s = rng.dirichlet(np.ones(6), 4).astype(np.float32)
    m = rng.dirichlet(np.ones(6), 4).astype(np.float32)
    weights = TSN_WEIGHTS if method == "weighted" else None
    rows = fuse_scores(s, m, method=method, weights=weights)
    assert rows.shape == (4, 6) and rows.dtype == np.float32
    assert rows.min() >= 0 and rows.max() <= 1
    for i in range(4):
        np.testing.assert_allclose(
            rows[i], fuse_scores(s[i], m[i], method=method, weights=weights), rtol=1e-6
        )
    if method != "max":
        np.testing.assert_allclose(rows.sum(axis=1), 1, rtol=1e-5)


@pytest.mark.parametrize(
    "weights, message",
    [
        (None, "needs weights"),
        ((1, -1), "non-negative"),
        ((0, 0), "not both be zero"),
        ((1, 2, 3), "two numbers"),
        ((1, float("nan")), "finite"),
        ("ab", "two numbers"),
    ],
)
def test_weights_are_validated(weights, message):
    with pytest.raises(ValueError, match=message):
        fuse_scores(S, M, method="weighted", weights=weights)


def test_invalid_calls_name_the_problem():
    with pytest.raises(ValueError, match="only used by method='weighted'"):
        fuse_scores(S, M, weights=(1, 1.5))
    with pytest.raises(ValueError, match="unknown fusion method"):
        fuse_scores(S, M, method="sum")
    with pytest.raises(ValueError, match="same shape"):
        fuse_scores(S, M[:2])
    with pytest.raises(ValueError, match="non-negative"):
        fuse_scores(S, -M)


def test_ties_are_deterministic():
    tied = np.array([0.2, 0.3, 0.3, 0.2])
    assert top_k_indices(tied, 4).tolist() == [1, 2, 0, 3]
    fused = fuse_scores(np.array([0.5, 0.5]), np.array([0.5, 0.5]), method="product")
    assert fused.tolist() == [0.5, 0.5]
    assert top_k_classes(fused, ["b-class", "a-class"], k=2) == [("b-class", 0.5), ("a-class", 0.5)]
    assert top_k_classes(tied, list("abcd"), k=9)[0] == ("b", 0.3)  # k > C gives all C
    with pytest.raises(ValueError, match="class names"):
        top_k_classes(tied, ["a"], k=1)
