"""Self-checks for the code students write in the lab, and a re-rollable random pick.

Each ``check_*`` function compares the student's answer with what the lab's own code does and
returns a :class:`CheckResult`: true when right, and its text (``print(result)``, or the cell's
output in a notebook) says right or wrong and why: which channel or which case differs, what was
expected, and the likely mistake by name (``result.mistakes``).

:func:`check_flow_stack`
    Build the motion stream's 20-channel input from ``u`` and ``v`` in numpy
    (compared with :func:`twostream_lab.batching.prepare_stacks`).
:func:`check_tutorial_cast` and :func:`check_wrap_value`
    Write the tutorial's flow cast and find where it wraps around
    (compared with :func:`twostream_lab.flow.tutorial_cast` and
    :func:`twostream_lab.flow.quantize_flow`).
:func:`check_fusion_rule`
    Fuse two softmax vectors (compared with :func:`twostream_lab.fusion.fuse_scores`).
:func:`seeded_choice`
    A random choice (of a video, say) that can be reproduced, or re-rolled, by its seed.

Examples
--------
>>> def fuse(spatial, motion):
...     return (spatial + motion) / 2
>>> print(check_fusion_rule(fuse))  # doctest: +ELLIPSIS
RIGHT (fusion rule 'average'): your rule matches fuse_scores(..., method='average') in all 8 ...
"""

from __future__ import annotations

import html
import secrets
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from twostream_lab.batching import STACKED_FRAMES, prepare_stacks
from twostream_lab.flow import dequantize_flow, quantize_flow, tutorial_cast
from twostream_lab.fusion import fuse_scores

__all__ = [
    "CheckResult",
    "SeededChoice",
    "check_flow_stack",
    "check_tutorial_cast",
    "check_wrap_value",
    "check_fusion_rule",
    "seeded_choice",
]


@dataclass(frozen=True)
class CheckResult:
    """The verdict of a ``check_*`` function: right or wrong, and why.

    Attributes
    ----------
    exercise : str
        What was checked, e.g. ``"flow stack"``.
    passed : bool
        True when the answer is right (``bool(result)`` is the same).
    message : str
        One or more sentences: the verdict's reason.
    details : tuple of str
        Further lines: which channels or cases differ, expected and got values, hints.
    mistakes : tuple of str
        Names of the mistakes diagnosed (empty when right), e.g. ``("interleaved",)``.

    Examples
    --------
    >>> result = CheckResult("demo", False, "channel 1 differs.", mistakes=("interleaved",))
    >>> bool(result), str(result)
    (False, 'WRONG (demo): channel 1 differs.')
    """

    exercise: str
    passed: bool
    message: str
    details: tuple[str, ...] = ()
    mistakes: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        verdict = "RIGHT" if self.passed else "WRONG"
        return "\n".join([f"{verdict} ({self.exercise}): {self.message}",
                          *(f"  - {line}" for line in self.details)])

    def _repr_pretty_(self, printer, cycle: bool) -> None:  # IPython's text output
        printer.text(str(self))

    def _repr_html_(self) -> str:
        color = "#2e7d32" if self.passed else "#c62828"
        verdict = "&#10004; right" if self.passed else "&#10008; wrong"
        items = "".join(f"<li>{html.escape(line)}</li>" for line in self.details)
        return (
            f'<div style="border-left: 5px solid {color}; padding: 4px 10px; margin: 4px 0;">'
            f'<b style="color: {color};">{verdict}</b> ({html.escape(self.exercise)}): '
            f"{html.escape(self.message)}"
            + (f'<ul style="margin: 4px 0;">{items}</ul>' if items else "")
            + "</div>"
        )


def _right(exercise: str, message: str, details: Iterable[str] = ()) -> CheckResult:
    return CheckResult(exercise, True, message, tuple(details))


def _wrong(exercise: str, message: str, details: Iterable[str] = (),
           mistakes: Iterable[str] = ()) -> CheckResult:
    return CheckResult(exercise, False, message, tuple(details), tuple(mistakes))


def _short(values: np.ndarray, digits: int = 3) -> str:
    """A short text of an array's values, e.g. ``[0.25, 0.75]``."""
    flat = np.asarray(values, np.float64).reshape(-1)
    text = ", ".join(f"{x:.{digits}g}" for x in flat[:6])
    return f"[{text}{', ...' if flat.size > 6 else ''}]"


def _call(function: Callable, *args) -> tuple[Any, str | None]:
    """``function(*args)`` with numpy's cast warnings silenced; (result, error text)."""
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", RuntimeWarning)
            return function(*args), None
    except Exception as error:  # the student's code: report any failure, don't raise
        return None, f"{type(error).__name__}: {error}"


# --------------------------------------------------------------------------- the flow stack

_STACK = "flow stack"
_STACK_MISTAKES = {
    "batch_axis": "You returned a batch holding one stack, shape (1, H, W, {C}); return the "
                  "stack itself, shape (H, W, {C}) (take [0]).",
    "channels_first": "You stacked on axis 0, which gives ({C}, H, W); the model wants the "
                      "channels last, (H, W, {C}): np.stack(..., axis=-1), or np.moveaxis("
                      "stack, 0, -1).",
    "not_resized": "The stack has the flow's size {flow_size}, not the model's {size}; resize it "
                   "with cv2.resize(stack, (width, height), interpolation=cv2.INTER_CUBIC).",
    "interleaved": "The u and v frames are interleaved (u0, v0, u1, v1, ...); the motion "
                   "stream wants all {L} u frames first (channels 0-{L1}), then all {L} v "
                   "frames (channels {L}-{C1}).",
    "v_before_u": "The v frames come before the u frames; channels 0-{L1} must be "
                  "u[start..start+{L1}] and channels {L}-{C1} v[start..start+{L1}].",
    "off_by_one_start": "Your stack starts at flow frame {got_start}, one off from start = "
                        "{start}: channel 0 must be u[start] and the stack u[start:start+{L}] "
                        "(the end is excluded).",
    "forgot_divide_255": "The values go up to {top:.0f}: divide by 255 (as float32) so that they "
                         "lie in 0..1, as prepare_stacks does.",
    "wrong_dtype": "The values are right but the dtype is {dtype}; prepare_stacks gives float32 "
                   "(what the model takes): use stack.astype(np.float32) / 255.",
    "resized_channel_by_channel": "You resized channel by channel, which differs by one grey "
                                  "level on a few % of the pixels; resize the whole "
                                  "{C}-channel uint8 stack in one cv2.resize call.",
    "resized_after_dividing": "You resized float values (after dividing by 255); prepare_stacks "
                              "resizes the uint8 stack (whole levels) and divides by 255 after.",
    "wrong_channels": "Some channels hold the wrong flow frame (see below).",
    "wrong_values": "Your channels match no u or v flow frame near the stack.",
}


def _channel_label(component: str, frame: int, start: int) -> str:
    return f"{component}{frame - start} = {component}[{frame}]"


def _expected_order(start: int, L: int, pattern: str) -> list[tuple[str, int]]:
    """(component, flow frame) of each of the 2L channels, for the right order or a mistake."""
    if pattern == "interleaved":
        return [("u" if c % 2 == 0 else "v", start + c // 2) for c in range(2 * L)]
    if pattern == "v_before_u":
        return [("v", start + c) for c in range(L)] + [("u", start + c) for c in range(L)]
    return [("u", start + c) for c in range(L)] + [("v", start + c) for c in range(L)]


def _stack_pools(u, v, start: int, L: int, size: tuple[int, int], resized: bool):
    """Each flow frame near the stack the way the right code and the usual wrong codes prepare it.

    Returns ``[(mistake or None, {(component, frame): channel (h, w)})]``: first as
    :func:`prepare_stacks` makes it (a channel of a whole-stack resize does not depend on the
    other channels), then, when the stack is resized, resized alone and resized as floats.
    """
    import cv2

    first, last = max(0, start - 1), min(len(u) - L, start + 1)
    stacks = prepare_stacks(u, v, list(range(first, last + 1)), size=size, stacked_frames=L)
    exact: dict[tuple[str, int], np.ndarray] = {}
    for s, stack in zip(range(first, last + 1), stacks, strict=True):
        for c, key in enumerate(_expected_order(s, L, "u_then_v")):
            exact.setdefault(key, stack[..., c])
    pools = [(None, exact)]
    if resized:
        h, w = size
        alone, floats = {}, {}
        for component, frame in exact:
            image = (u if component == "u" else v)[frame]
            alone[component, frame] = (
                cv2.resize(image, (w, h), interpolation=cv2.INTER_CUBIC) / np.float32(255))
            floats[component, frame] = cv2.resize(
                image.astype(np.float32) / np.float32(255), (w, h), interpolation=cv2.INTER_CUBIC)
        pools += [("resized_channel_by_channel", alone), ("resized_after_dividing", floats)]
    return pools


def _identify(channel: np.ndarray, pools, preferred: tuple[str, int]):
    """(key, mistake) of the pooled channel equal to ``channel``, ``preferred`` tried first.

    Candidates are first compared on 256 spread-out pixels, and only those equal there on all.
    """
    probe = np.linspace(0, channel.size - 1, min(256, channel.size)).astype(np.int64)
    flat = channel.reshape(-1)
    for mistake, pool in pools:
        tolerance = 1e-6 if mistake != "resized_after_dividing" else 1e-5
        keys = [preferred] if preferred in pool else []
        keys += [k for k in pool if k != preferred]
        for key in keys:
            candidate = pool[key].reshape(-1)
            if (np.abs(flat[probe] - candidate[probe]).max() <= tolerance
                    and np.abs(flat - candidate).max() <= tolerance):
                return key, mistake
    return None, None


def check_flow_stack(
    student_stack,
    u: np.ndarray,
    v: np.ndarray,
    start: int,
    *,
    length: int = STACKED_FRAMES,
    size: Sequence[int] | None = None,
) -> CheckResult:
    """Check a motion-stream input stack built by hand against :func:`prepare_stacks`.

    The right stack for flow frames ``u, v`` and ``start`` has, on its last axis, the
    horizontal flow ``u[start], ..., u[start+L-1]`` (channels ``0 .. L-1``) and then the vertical
    flow ``v[start], ..., v[start+L-1]`` (channels ``L .. 2L-1``), divided by 255 as float32:
    shape ``(H, W, 2L)``. With ``size=(h, w)`` the uint8 stack is first resized as a whole with
    ``cv2.resize(stack, (w, h), interpolation=cv2.INTER_CUBIC)`` (shape ``(h, w, 2L)``).

    Mistakes diagnosed by name (``result.mistakes``): ``"interleaved"`` (u0, v0, u1, v1, ...),
    ``"v_before_u"``, ``"channels_first"`` (stacked on axis 0: ``(2L, H, W)``),
    ``"forgot_divide_255"``, ``"off_by_one_start"``, ``"batch_axis"`` (``(1, H, W, 2L)``),
    ``"wrong_dtype"``, ``"not_resized"``, ``"resized_channel_by_channel"``,
    ``"resized_after_dividing"``; otherwise ``"wrong_channels"`` (the channels that hold another
    flow frame are listed), ``"wrong_values"`` or ``"wrong_shape"``. Diagnosing which frame a
    channel holds needs frames that differ from each other, as real flow does.

    Parameters
    ----------
    student_stack : array_like
        The student's stack.
    u, v : uint8 arrays (F, H, W)
        Quantised flow frames (``Flow.u``, ``Flow.v``).
    start : int
        First flow frame of the stack.
    length : int
        ``L``, flow frames per stack (10: 20 channels).
    size : (height, width), optional
        The model's input size, e.g. ``(299, 299)``; by default the stack is not resized.

    Returns
    -------
    CheckResult

    Examples
    --------
    >>> u = np.random.default_rng(0).integers(0, 256, (12, 4, 6), dtype=np.uint8)
    >>> v = 255 - u
    >>> mine = np.stack([*u[1:11], *v[1:11]], axis=-1).astype(np.float32) / 255
    >>> bool(check_flow_stack(mine, u, v, 1))
    True
    >>> check_flow_stack(np.stack([*u[1:11], *v[1:11]]) / 255, u, v, 1).mistakes
    ('channels_first', 'wrong_dtype')
    """
    L = int(length)
    u = np.asarray(u)
    v = np.asarray(v)
    flow_size = tuple(int(d) for d in u.shape[1:]) if u.ndim == 3 else ()
    target = flow_size if size is None else tuple(int(d) for d in size)
    expected = prepare_stacks(u, v, [start], size=target, stacked_frames=L)[0]  # validates
    start = int(start)
    C = 2 * L
    words = {"C": C, "C1": C - 1, "L": L, "L1": L - 1, "start": start,
             "flow_size": flow_size, "size": target}

    try:
        got = np.asarray(student_stack)
    except Exception as error:
        return _wrong(_STACK, f"could not read your stack as a numpy array ({error}).",
                      mistakes=("wrong_shape",))
    if not (np.issubdtype(got.dtype, np.number) or got.dtype == bool):
        return _wrong(_STACK, f"expected a numeric array of shape {expected.shape}, got "
                      f"{got.dtype} values.", mistakes=("wrong_shape",))

    mistakes: list[str] = []
    if got.ndim == 4 and got.shape[0] == 1:
        mistakes.append("batch_axis")
        got = got[0]
    if got.ndim == 3 and got.shape[0] == C and got.shape[-1] != C:
        mistakes.append("channels_first")
        got = np.moveaxis(got, 0, -1)
    shape_ok = got.ndim == 3 and got.shape[-1] == C
    if shape_ok and got.shape[:2] != target:
        if size is not None and got.shape[:2] == flow_size:
            mistakes.append("not_resized")
        else:
            shape_ok = False
    if not shape_ok:
        hint = []
        if got.ndim == 3 and got.shape[:2] == target[::-1] and target[0] != target[1]:
            hint = ["height and width are swapped: cv2.resize takes (width, height)."]
        elif got.ndim == 4 and got.shape[-1] == 2:
            hint = ["a last axis of 2 pairs u and v per frame; the model wants the 2L frames "
                    "themselves as channels: u frames, then v frames."]
        return _wrong(
            _STACK,
            f"expected shape {expected.shape} (height, width, {C} channels), got "
            f"{np.asarray(student_stack).shape}.", hint, ("wrong_shape",),
        )
    reference = got.shape[:2]

    values = got.astype(np.float64)
    if not np.isfinite(values).all():
        return _wrong(_STACK, "your stack holds NaN or infinite values.",
                      mistakes=("wrong_values",))
    top = float(values.max())
    if top > 1.5:  # not divided by 255 (a float resize's overshoot stays well below 1.5)
        mistakes.append("forgot_divide_255")
        values = values / 255
    elif got.dtype != np.float32:
        mistakes.append("wrong_dtype")

    pools = _stack_pools(u, v, start, L, reference, resized=reference != flow_size)
    right_order = _expected_order(start, L, "u_then_v")
    found = [_identify(values[..., c], pools, right_order[c]) for c in range(C)]
    keys = [key for key, _ in found]
    for _, mistake in found:
        if mistake is not None and mistake not in mistakes:
            mistakes.append(mistake)

    details: list[str] = []
    if keys != right_order:
        shifted = {s: _expected_order(s, L, "u_then_v") for s in (start - 1, start + 1)}
        named = [name for name in ("interleaved", "v_before_u")
                 if keys == _expected_order(start, L, name)]
        got_start = next((s for s, order in shifted.items() if keys == order), None)
        if named:
            mistakes += named
        elif got_start is not None:
            mistakes.append("off_by_one_start")
            words["got_start"] = got_start
        elif all(key is None for key in keys):
            mistakes.append("wrong_values")
            wanted = np.stack([pools[0][1][key] for key in right_order], axis=-1)
            error = np.abs(values - wanted)
            y, x, c = np.unravel_index(np.argmax(error), error.shape)
            details.append(
                f"e.g. channel {c} at pixel (row {y}, column {x}): expected "
                f"{wanted[y, x, c]:.4f} ({_channel_label(*right_order[c], start)}), "
                f"got {values[y, x, c]:.4f}."
            )
        else:
            mistakes.append("wrong_channels")
        if "wrong_values" not in mistakes:
            for c, (key, want) in enumerate(zip(keys, right_order, strict=True)):
                if key != want and len(details) < 4:
                    yours = ("matches no u or v frame near the stack" if key is None
                             else f"is {key[0]}[{key[1]}]")
                    details.append(f"channel {c} should be {_channel_label(*want, start)}; "
                                   f"yours {yours}.")

    if not mistakes:
        return _right(
            _STACK,
            f"your stack is exactly what prepare_stacks builds: shape {expected.shape}, float32, "
            f"channels 0-{L - 1} = u[{start}..{start + L - 1}], channels {L}-{C - 1} = "
            f"v[{start}..{start + L - 1}], values in 0..1.",
        )
    words["top"] = top
    words["dtype"] = got.dtype
    message = " ".join(_STACK_MISTAKES[m].format(**words) for m in mistakes)
    return _wrong(_STACK, message, details, mistakes)


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
    fuse_scores(np.ones(1), np.ones(1), method=method, weights=weights)  # validates both
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


# --------------------------------------------------------------------------- a seeded choice


class SeededChoice(NamedTuple):
    """What :func:`seeded_choice` returns: unpack it as ``item, seed = seeded_choice(...)``."""

    item: Any
    seed: int

    def __str__(self) -> str:
        return (f"picked {self.item!r} with seed {self.seed} (seeded_choice(options, "
                f"seed={self.seed}) picks it again)")


def seeded_choice(options: Iterable[Any], *, seed: int | None = None) -> SeededChoice:
    """Pick one of ``options`` at random, reproducibly: the same seed always picks the same one.

    The tutorial picked a random video to look at; with a seed the pick can be repeated (by the
    student tomorrow, or by a classmate), and a new seed re-rolls it. ``seed=None`` draws a new
    seed and prints it, so that a pick one likes can be kept.

    Parameters
    ----------
    options : iterable
        The candidates, in a fixed order (a list or tuple; e.g. ``sorted(...)`` of file names,
        since folder listings come in any order).
    seed : int, optional
        A non-negative integer; by default a new one (0 .. 999999).

    Returns
    -------
    SeededChoice
        ``(item, seed)``.

    Examples
    --------
    >>> seeded_choice(["a.avi", "b.avi", "c.avi"], seed=7)
    SeededChoice(item='c.avi', seed=7)
    >>> item, seed = seeded_choice(range(10))  # doctest: +SKIP
    seeded_choice: new seed 481516 picked 3; pass seed=481516 to pick it again
    """
    if isinstance(options, (set, frozenset)):
        raise ValueError(
            "options must have a fixed order for the seed to pick the same item again, got a "
            "set; pass sorted(options)"
        )
    candidates = list(options)
    if not candidates:
        raise ValueError("options is empty; pass at least one item to choose from")
    drawn = seed is None
    if drawn:
        seed = secrets.randbelow(1_000_000)
    elif isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, e.g. seed=7, got {seed!r}")
    seed = int(seed)
    item = candidates[int(np.random.default_rng(seed).integers(len(candidates)))]
    if drawn:
        print(f"seeded_choice: new seed {seed} picked {item!r}; pass seed={seed} to pick it "
              "again")
    return SeededChoice(item, seed)
