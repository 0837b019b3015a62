"""The flow-stack exercise: build the motion stream's 20-channel input from ``u`` and ``v``."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from twostream_lab.batching import STACKED_FRAMES, prepare_stacks
from twostream_lab.notebook.exercises._result import CheckResult, _right, _wrong

__all__ = ["check_flow_stack"]


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
