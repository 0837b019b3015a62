"""The tutorial's flow cast exercises: write the cast, and find where it wraps around."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np

from twostream_lab.flow import dequantize_flow, quantize_flow, tutorial_cast
from twostream_lab.notebook.exercises._result import CheckResult, _call, _right, _wrong

__all__ = ["check_tutorial_cast", "check_wrap_value"]


# --------------------------------------------------------------------------- the tutorial's cast

_CAST = "tutorial cast"
#: Flow (px) from which the tutorial's cast wraps: 255 * (f + 20) / 40 reaches 256 (or -1).
_WRAP_FROM = 20 + 40 / 255


def _saturating_cast(flow: np.ndarray) -> np.ndarray:
    """The tutorial's formula with a saturating cast, as ARM CPUs do it (or with np.clip)."""
    scaled = np.float32(255) * (flow + np.float32(20)) / np.float32(40)
    return np.clip(np.trunc(scaled), 0, 255).astype(np.uint8)


def _this_machine_wraps() -> bool:
    """Whether numpy's float -> uint8 cast wraps here (x86-64) rather than saturating (ARM)."""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        return int(np.array([261.0], np.float32).astype(np.uint8)[0]) == 5


def check_tutorial_cast(student_function: Callable[[np.ndarray], np.ndarray]) -> CheckResult:
    """Check a student's version of the tutorial's flow cast against :func:`tutorial_cast`.

    The tutorial turned float flow ``f`` (pixels) into uint8 levels with
    ``(255 * (f + 20) / 40).astype(np.uint8)``: ``-20 px -> 0``, ``0 px -> 127``,
    ``+20 px -> 255``, and beyond +-20 px it wraps around. The function is called with float32
    flow from -25 to 25 px (1-D, and a ``(H, W, 2)`` array) and must return the same levels.
    On a CPU whose cast saturates instead of wrapping (ARM) the saturated levels also pass.

    Mistakes diagnosed by name: ``"not_uint8"``, ``"rounded"`` (rounding instead of the
    cast's truncation), ``"clipped"`` (that is the fix, :func:`quantize_flow`, not the
    tutorial's cast), ``"wrong_shape"``, ``"raised"``, ``"wrong_levels"``.

    Parameters
    ----------
    student_function : callable
        Takes a float32 array of flow in pixels, returns uint8 levels of the same shape.

    Returns
    -------
    CheckResult

    Examples
    --------
    >>> bool(check_tutorial_cast(lambda f: (255 * (f + 20) / 40).astype(np.uint8)))
    True
    >>> check_tutorial_cast(lambda f: np.rint(255 * (f + 20) / 40).astype(np.uint8)).mistakes
    ('rounded',)
    """
    if not callable(student_function):
        raise ValueError(
            "student_function must be a function that takes flow (float32 pixels) and returns "
            f"uint8 levels, e.g. check_tutorial_cast(my_cast); got {student_function!r}"
        )
    flows = np.round(np.linspace(-25, 25, 1001), 2).astype(np.float32)
    outputs = []
    for probe in (flows, flows[:1000].reshape(10, 50, 2)):
        got, error = _call(student_function, probe.copy())
        if error is not None:
            return _wrong(_CAST, f"your function raised {error} on a float32 array of shape "
                          f"{probe.shape}.", mistakes=("raised",))
        got = np.asarray(got)
        if got.shape != probe.shape:
            return _wrong(_CAST, f"for flow of shape {probe.shape} your function returned shape "
                          f"{got.shape}; it must keep the shape (one level per flow value).",
                          mistakes=("wrong_shape",))
        outputs.append(got)
    levels = outputs[0]
    if levels.dtype != np.uint8:
        return _wrong(_CAST, f"your function returns {levels.dtype}, not uint8: the tutorial "
                      "casts with .astype(np.uint8), and that cast is where the wrapping "
                      "happens.", mistakes=("not_uint8",))
    expected = tutorial_cast(flows)
    inside = np.abs(flows) <= 20
    saturated = _saturating_cast(flows)
    if np.array_equal(levels, expected):
        return _right(_CAST, _cast_summary())
    if np.array_equal(levels, saturated) and not _this_machine_wraps():
        return _right(_CAST, "your cast is the tutorial's formula. This CPU saturates "
                      "out-of-range casts (an ARM CPU: 21 px -> 255), so you cannot see the "
                      "wrap here; on x86-64, where the tutorial ran, 21 px becomes level 5.")
    scaled = np.float32(255) * (flows + np.float32(20)) / np.float32(40)
    mistakes, hints = [], []
    if np.array_equal(levels, saturated):
        mistakes.append("clipped")
        hints.append("beyond +-20 px your levels stop at 0 and 255: you clipped. That is the "
                     "fix (quantize_flow clips), but this exercise asks for the tutorial's cast "
                     "as it was, to see its bug: write it without np.clip.")
    elif np.array_equal(levels[inside], np.rint(scaled[inside]).astype(np.uint8)):
        mistakes.append("rounded")
        hints.append("you rounded; .astype(np.uint8) truncates toward zero instead (0 px is "
                     "127.5, which becomes level 127), so leave out np.round / np.rint.")
    else:
        mistakes.append("wrong_levels")
    bad = np.flatnonzero(levels != expected)
    examples = [f"f = {flows[i]:+.2f} px: expected level {expected[i]}, got {levels[i]}"
                for i in bad[:: max(1, len(bad) // 3)][:3]]
    return _wrong(_CAST, f"your levels differ from the tutorial's cast for {len(bad)} of "
                  f"{len(flows)} flow values ({int((~inside[bad]).sum())} of them beyond "
                  "+-20 px).", [*hints, *examples], mistakes)


def _cast_summary() -> str:
    ends = tutorial_cast(np.array([-20, 0, 20, 21], np.float32)).tolist()
    return (f"your cast matches the tutorial's: -20 px -> {ends[0]}, 0 px -> {ends[1]}, "
            f"+20 px -> {ends[2]}, but 21 px -> {ends[3]}. Now find the smallest flow where it "
            "wraps around and check it with check_wrap_value(...).")


def check_wrap_value(value: float) -> CheckResult:
    """Check the flow (in pixels) where the student says the tutorial's cast starts to wrap.

    ``(255 * (f + 20) / 40).astype(np.uint8)`` maps -20..20 px to 0..255; the cast keeps only
    the low 8 bits, so a flow whose ``255 * (f + 20) / 40`` reaches 256 becomes a small level
    (fast motion to the right reads as fast motion to the left), and one at -1 or below becomes
    a large one. The right answer is the smallest flow that wraps (either sign), to 0.01 px.
    A wrong answer is told what level it gives and how to reason, not the answer.

    Parameters
    ----------
    value : float
        Flow in pixels.

    Returns
    -------
    CheckResult
        ``mistakes`` is ``("no_wrap",)`` for a value that does not wrap, ``("not_the_start",)``
        for one that wraps but more than 0.01 px beyond where the wrapping starts,
        ``("level_not_flow",)`` for what looks like a level instead of a flow.

    Examples
    --------
    >>> bool(check_wrap_value(20.16)), check_wrap_value(20).mistakes
    (True, ('no_wrap',))
    """
    exercise = "where the cast wraps"
    array = np.asarray(value)
    if array.size != 1 or not (np.issubdtype(array.dtype, np.integer)
                               or np.issubdtype(array.dtype, np.floating)):
        raise ValueError(
            "value must be one number, a flow in pixels (e.g. check_wrap_value(20.5)), got "
            f"{value!r}"
        )
    f = float(array.reshape(()))
    if not np.isfinite(f):
        raise ValueError(f"value must be a finite number of pixels, got {value!r}")
    level = int(tutorial_cast(np.array([f], np.float32))[0])
    clipped = int(quantize_flow(np.array([f], np.float32))[0])
    raw = 255 * (f + 20) / 40
    reads_as = float(dequantize_flow(np.uint8(level)))
    wraps = level != int(_saturating_cast(np.array([f], np.float32))[0])
    formula = f"255 * ({f:g} + 20) / 40 = {raw:.4g}"
    if _WRAP_FROM - 1e-6 <= abs(f) <= _WRAP_FROM + 0.01:
        sign, top = ("+", 255) if f > 0 else ("-", 0)
        side = ("reaches 256, which does not fit in a uint8 (0..255); the cast keeps only the "
                "low 8 bits, so 256 -> 0, 257 -> 1, ..." if f > 0 else
                "reaches -1, below 0; the cast keeps only the low 8 bits, so -1 -> 255, "
                "-2 -> 254, ...")
        yours = (
            f"your {f:g} px: {formula} -> level {level}, which reads back as {reads_as:+.1f} px: "
            "the motion flips direction." if wraps else
            f"your {f:g} px is the threshold itself: 255 * (f + 20) / 40 = "
            f"{'256' if f > 0 else '-1'} exactly; in float32 it rounds to just inside (level "
            f"{level}) and the next float32 beyond it wraps."
        )
        return _right(exercise, (
            f"the cast wraps from {sign}{_WRAP_FROM:.4f} px on ({sign}(20 + 40/255)): there "
            f"255 * (f + 20) / 40 {side}"
        ), [
            yours,
            f"Between {sign}20 and {sign}{_WRAP_FROM:.3f} px the level is still {top} (the cast "
            f"truncates toward zero); any flow beyond {sign}20 px is outside the range the "
            "tutorial meant to use.",
            f"quantize_flow clips first instead: {f:g} px -> level {clipped}, i.e. "
            f"{float(dequantize_flow(np.uint8(clipped))):+.0f} px, the bound.",
        ])
    if abs(f) >= 100:
        return _wrong(exercise, (
            f"{f:g} px is far beyond the flow range; give the flow in pixels at which the "
            "cast starts to wrap, not a level."
        ), [f"{formula} -> level {level}."], ("level_not_flow",))
    if wraps:
        return _wrong(exercise, (
            f"{f:g} px does wrap ({formula} -> level {level}, which reads back as "
            f"{reads_as:+.1f} px), but the wrapping starts earlier: find the smallest flow "
            "that wraps."
        ), ["Hint: solve 255 * (f + 20) / 40 = 256 for f (or = -1 on the negative side)."],
            ("not_the_start",))
    why = ("inside -20..20 px every flow maps to a level in 0..255; nothing wraps."
           if abs(f) <= 20 else
           f"{formula} truncates to {level}, still a valid level: no wrap yet.")
    return _wrong(exercise, f"at {f:g} px the cast gives level {level}: {why}", [
        "Hint: a uint8 holds 0..255; find the smallest flow f for which 255 * (f + 20) / 40 is "
        "256 or more (try tutorial_cast on values just above 20 px).",
    ], ("no_wrap",))
