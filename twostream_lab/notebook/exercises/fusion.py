"""The fusion exercise: fuse two softmax vectors like :func:`twostream_lab.fusion.fuse_scores`."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from twostream_lab.fusion import check_fusion, fuse_scores
from twostream_lab.notebook.exercises._result import CheckResult, _call, _right, _short, _wrong

__all__ = ["check_fusion_rule"]


# --------------------------------------------------------------------------- fusion rules

def _fusion_cases() -> list[tuple[str, np.ndarray, np.ndarray]]:
    """The seeded test cases of :func:`check_fusion_rule`: (name, spatial, motion)."""
    rng = np.random.default_rng(2014)
    same = rng.dirichlet(np.ones(4))
    return [
        ("one video, 5 classes", rng.dirichlet(np.ones(5)), rng.dirichlet(np.ones(5))),
        ("8 frames x 5 classes, one row per frame",
         rng.dirichlet(np.ones(5), 8), rng.dirichlet(np.ones(5), 8)),
        ("101 classes (UCF101)", rng.dirichlet(np.ones(101)), rng.dirichlet(np.ones(101))),
        ("float32 scores, as the models give them", rng.dirichlet(np.ones(6)).astype(np.float32),
         rng.dirichlet(np.ones(6)).astype(np.float32)),
        ("a tie: both streams give the same scores", same, same.copy()),
        ("a tie between two classes", np.array([0.4, 0.4, 0.2]), np.array([0.3, 0.3, 0.4])),
        ("a zero: one stream rules a class out", np.array([0.7, 0.3, 0.0]),
         np.array([0.0, 0.5, 0.5])),
        ("zeros: the streams disagree completely", np.array([1.0, 0.0, 0.0]),
         np.array([0.0, 1.0, 0.0])),
    ]


def _fusion_variants(method: str, weights) -> dict[str, tuple[Callable, str]]:
    """Common wrong versions of each rule: name -> (function(s, m), explanation)."""
    if method == "average":
        return {
            "sum": (lambda s, m: s + m, "you added the scores (the tutorial's sum); the average "
                    "divides by 2, so that fused scores stay in 0..1 (the ranking is the same)."),
        }
    if method == "max":
        return {
            "min": (np.minimum, "you took the smaller score of the two; max fusion takes the "
                    "larger one, class by class (np.maximum)."),
            "sum": (lambda s, m: s + m, "you added the scores; max fusion takes the larger one, "
                    "class by class (np.maximum)."),
        }
    if method == "product":
        def normalised(x):
            return x / x.sum(axis=-1, keepdims=True)
        return {
            "no_square_root": (lambda s, m: normalised(s * m), "you renormalised s * m; "
                               "fuse_scores uses the geometric mean sqrt(s * m), renormalised."),
            "not_renormalised": (lambda s, m: np.sqrt(s * m), "sqrt(s * m) is right, but it must "
                                 "be renormalised to sum to 1 (divide by its sum per row)."),
            "plain_product": (lambda s, m: s * m, "the plain product s * m is not a probability "
                              "vector: take sqrt(s * m) and renormalise it to sum to 1."),
            "floored_product": (lambda s, m: normalised(np.sqrt(np.maximum(s * m, 1e-30))),
                                "you floored the product; fuse_scores floors each stream's "
                                "score at 1e-30 before multiplying, so a class that one stream "
                                "rules out still beats a class that both rule out."),
        }
    a, b = (float(w) for w in weights)
    return {
        "not_normalised": (lambda s, m: a * s + b * m, "the weights must be normalised: "
                           f"(a * s + b * m) / (a + b), here a + b = {a + b:g}."),
        "swapped_weights": (lambda s, m: (b * s + a * m) / (a + b), "the weights are swapped: "
                            f"a = {a:g} weighs the spatial stream, b = {b:g} the motion stream."),
    }


def check_fusion_rule(
    student_function: Callable[..., np.ndarray],
    *,
    method: str = "average",
    weights: Sequence[float] | None = None,
) -> CheckResult:
    """Check a student's late-fusion rule against :func:`twostream_lab.fusion.fuse_scores`.

    The rule is called as ``student_function(spatial, motion)``, or for ``method="weighted"``
    as ``student_function(spatial, motion, weights)``, on 8 seeded cases: random softmax vectors
    ``(C,)``, rows ``(N, C)`` (one per frame, the class axis last), 101 classes, float32 scores,
    ties, and zeros (which need care in the product rule: ``fuse_scores`` treats exact zeros as
    ``1e-30``). It must return the fused scores, the shape of the inputs. The first case that
    differs is reported, with the likely mistake.

    Parameters
    ----------
    student_function : callable
    method : {"average", "max", "product", "weighted"}
        The rule the student implements (:data:`twostream_lab.fusion.FUSION_METHODS`).
    weights : (spatial, motion), optional
        Only for ``"weighted"`` (required there), e.g. ``(1, 1.5)``.

    Returns
    -------
    CheckResult
        ``mistakes`` holds a name such as ``"sum"``, ``"no_square_root"`` or
        ``"not_normalised"`` when the rule matches a known wrong version, else
        ``"not_finite"`` (NaN, e.g. 0 / 0 in the product rule), ``"wrong_values"``,
        ``"wrong_shape"`` or ``"raised"``.

    Examples
    --------
    >>> check_fusion_rule(lambda s, m: s + m).mistakes
    ('sum',)
    >>> bool(check_fusion_rule(np.maximum, method="max"))
    True
    """
    check_fusion(method, weights)
    if not callable(student_function):
        raise ValueError(
            "student_function must be a function of (spatial, motion) that returns the fused "
            f"scores, e.g. check_fusion_rule(my_fusion); got {student_function!r}"
        )
    exercise = f"fusion rule {method!r}"
    extra = (tuple(weights),) if method == "weighted" else ()
    call = f"my_rule(spatial, motion{', weights' if extra else ''})"
    cases = _fusion_cases()
    for name, spatial, motion in cases:
        expected = fuse_scores(spatial, motion, method=method, weights=weights)
        got, error = _call(student_function, spatial.copy(), motion.copy(), *extra)
        where = [f"spatial = {_short(spatial)}", f"motion  = {_short(motion)}"]
        if error is not None:
            return _wrong(exercise, f"in case '{name}' your function ({call}) raised {error}.",
                          where, ("raised",))
        try:
            got = np.asarray(got, dtype=np.float64)
        except (TypeError, ValueError):
            return _wrong(exercise, f"in case '{name}' your function returned {got!r}, not an "
                          "array of scores.", where, ("wrong_shape",))
        if got.shape != expected.shape:
            return _wrong(exercise, (
                f"in case '{name}' your function returned shape {got.shape}; expected "
                f"{expected.shape}, one fused score per class (and per row): combine the two "
                "arrays element by element, without reducing over an axis."
            ), where, ("wrong_shape",))
        if np.allclose(got, expected, rtol=1e-5, atol=1e-7):
            continue
        where.append(f"expected (fuse_scores) {_short(expected)}")
        where.append(f"yours                  {_short(got)}")
        if not np.isfinite(got).all():
            floor = (" sqrt(s * m) is 0 for every class when each class has a zero in one "
                     "stream; fuse_scores floors each score at 1e-30 first "
                     "(np.maximum(s, 1e-30))." if method == "product" else "")
            return _wrong(exercise, f"in case '{name}' your rule gives NaN or infinity: a "
                          f"division by zero?{floor}", where, ("not_finite",))
        i = np.unravel_index(np.argmax(np.abs(got - expected)), got.shape)
        where.append(f"largest difference at {'class' if got.ndim == 1 else '(row, class)'} "
                     f"{i[0] if got.ndim == 1 else tuple(int(j) for j in i)}: expected "
                     f"{expected[i]:.4g}, got {got[i]:.4g}.")
        for mistake, (variant, why) in _fusion_variants(method, weights).items():
            with np.errstate(all="ignore"):
                wrong = variant(spatial.astype(np.float64), motion.astype(np.float64))
            if np.allclose(got, wrong, rtol=1e-5, atol=1e-7):
                return _wrong(exercise, f"wrong in case '{name}': {why}", where, (mistake,))
        return _wrong(exercise, f"wrong in case '{name}'.", where, ("wrong_values",))
    return _right(exercise, (
        f"your rule matches fuse_scores(..., method={method!r}"
        f"{f', weights={tuple(weights)!r}' if extra else ''}) in all {len(cases)} cases: "
        "random softmax vectors, one row per frame, 101 classes, float32, ties and zeros."
    ))
