"""Late fusion of the two streams' softmax scores, and ranking classes by score.

Every function works on one vector of class scores ``(C,)`` (a video) or on rows ``(N, C)``
(one row per frame); the class axis is the last one. All fused scores lie in 0..1:

``"average"`` (the default)
    ``(spatial + motion) / 2``. The tutorial plotted the *sum* of the two softmax vectors on a
    0..1 axis, which cut tall bars off; the mean ranks the classes identically and sums to 1.
``"weighted"``
    ``(a * spatial + b * motion) / (a + b)`` for ``weights=(a, b)``: two non-negative numbers, not
    both zero. TSN (Wang et al. 2016) weights the streams ``(1, 1.5)``.
``"max"``
    The larger of the two scores, class by class (not renormalised: each value is the more
    confident stream's probability for that class).
``"product"``
    The geometric mean ``sqrt(spatial * motion)`` class by class, renormalised to sum to 1 (it
    rewards classes both streams agree on). Exact zeros are treated as ``1e-30``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["FUSION_METHODS", "TSN_WEIGHTS", "check_fusion", "fuse_scores", "top_k_indices",
           "top_k_classes"]

#: The fusion methods :func:`fuse_scores` accepts.
FUSION_METHODS = ("average", "weighted", "max", "product")

#: Spatial : motion weights of Temporal Segment Networks (Wang et al. 2016).
TSN_WEIGHTS = (1.0, 1.5)

_FLOOR = 1e-30


def _check_weights(weights) -> tuple[float, float]:
    try:
        a, b = (float(w) for w in weights)
    except (TypeError, ValueError):
        raise ValueError(
            "weights must be two numbers (spatial, motion), e.g. weights=(1, 1.5) as in TSN; "
            f"got {weights!r}"
        ) from None
    if not (np.isfinite(a) and np.isfinite(b)) or a < 0 or b < 0:
        raise ValueError(
            f"weights must be finite and non-negative, got {weights!r}; e.g. weights=(1, 1.5)"
        )
    if a + b == 0:
        raise ValueError("weights must not both be zero; e.g. weights=(1, 1.5)")
    return a / (a + b), b / (a + b)


def check_fusion(method: str = "average",
                 weights: Sequence[float] | None = None) -> tuple[float, float] | None:
    """Check fusion settings before any work; return the normalised weights (``"weighted"`` only).

    Raises the ValueError :func:`fuse_scores` would raise for ``method`` and ``weights``.

    Examples
    --------
    >>> check_fusion("weighted", (1, 3))
    (0.25, 0.75)
    >>> check_fusion("max") is None
    True
    """
    if method not in FUSION_METHODS:
        raise ValueError(f"unknown fusion method {method!r}; choose one of {FUSION_METHODS}")
    if weights is not None and method != "weighted":
        raise ValueError(
            f"weights are only used by method='weighted', got method={method!r} with "
            f"weights={weights!r}; pass method='weighted'"
        )
    if method != "weighted":
        return None
    if weights is None:
        raise ValueError(
            "method='weighted' needs weights=(spatial, motion), e.g. weights=(1, 1.5) (TSN)"
        )
    return _check_weights(weights)


def fuse_scores(
    spatial: np.ndarray,
    motion: np.ndarray,
    *,
    method: str = "average",
    weights: Sequence[float] | None = None,
) -> np.ndarray:
    """Fuse the spatial and motion streams' softmax scores into one score per class.

    Parameters
    ----------
    spatial, motion : arrays (C,) or (N, C)
        Non-negative class scores of the same shape (softmax outputs).
    method : {"average", "weighted", "max", "product"}
        See the module docstring.
    weights : (spatial, motion), optional
        Only for ``method="weighted"`` (required there); normalised to sum to 1.

    Returns
    -------
    array of the inputs' shape, float32 for float32 inputs (float64 otherwise), in 0..1.

    Examples
    --------
    >>> s = np.array([0.5, 0.5]); m = np.array([0.25, 0.75])
    >>> fuse_scores(s, m).tolist()
    [0.375, 0.625]
    >>> fuse_scores(s, m, method="weighted", weights=(1, 3)).tolist()
    [0.3125, 0.6875]
    >>> fuse_scores(s, m, method="max").tolist()
    [0.5, 0.75]
    """
    normalised = check_fusion(method, weights)
    s = np.asarray(spatial)
    m = np.asarray(motion)
    if s.shape != m.shape or s.ndim not in (1, 2) or s.shape[-1] < 1:
        raise ValueError(
            "spatial and motion must have the same shape, (C,) for a video or (N, C) for N "
            f"frames, got {s.shape} and {m.shape}; pair frame i with the stack starting at i"
        )
    dtype = np.result_type(s.dtype, m.dtype, np.float32)
    s64 = s.astype(np.float64)
    m64 = m.astype(np.float64)
    if not (np.isfinite(s64).all() and np.isfinite(m64).all()):
        raise ValueError("scores must be finite; got NaN or infinity")
    if (s64 < 0).any() or (m64 < 0).any():
        raise ValueError("scores must be non-negative softmax outputs; got negative values")

    if method == "average":
        out = (s64 + m64) / 2
    elif method == "weighted":
        a, b = normalised
        out = a * s64 + b * m64
    elif method == "max":
        out = np.maximum(s64, m64)
    else:  # product: geometric mean, renormalised (computed in the log domain)
        logs = 0.5 * (np.log(np.maximum(s64, _FLOOR)) + np.log(np.maximum(m64, _FLOOR)))
        out = np.exp(logs - logs.max(axis=-1, keepdims=True))
        out /= out.sum(axis=-1, keepdims=True)
    return out.astype(dtype)


def top_k_indices(scores: np.ndarray, k: int = 5) -> np.ndarray:
    """Indices of the ``k`` highest scores, best first; ties go to the lower class index.

    Examples
    --------
    >>> top_k_indices(np.array([0.2, 0.4, 0.4, 0.0]), k=3).tolist()
    [1, 2, 0]
    """
    scores = np.asarray(scores)
    if scores.ndim != 1:
        raise ValueError(f"scores must be one vector (C,), got shape {scores.shape}")
    if isinstance(k, bool) or int(k) != k or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    return np.argsort(-scores, kind="stable")[: int(k)]


def top_k_classes(
    scores: np.ndarray, class_names: Sequence[str], k: int = 5
) -> list[tuple[str, float]]:
    """The ``k`` best ``(class name, score)`` pairs, best first (ties: lower index first).

    Examples
    --------
    >>> top_k_classes(np.array([0.1, 0.7, 0.2]), ["a", "b", "c"], k=2)
    [('b', 0.7), ('c', 0.2)]
    """
    scores = np.asarray(scores)
    if len(class_names) != scores.shape[-1]:
        raise ValueError(
            f"got {len(class_names)} class names for {scores.shape[-1]} scores; "
            "pass the class names that belong to the models"
        )
    return [(class_names[i], float(scores[i])) for i in top_k_indices(scores, k)]
