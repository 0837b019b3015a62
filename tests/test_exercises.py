"""Self-checks of the lab's exercises: right answers pass, each usual mistake is named."""

from __future__ import annotations

import warnings

import cv2
import numpy as np
import pytest

from twostream_lab.batching import prepare_stacks
from twostream_lab.notebook.exercises import (
    CheckResult,
    SeededChoice,
    check_flow_stack,
    check_fusion_rule,
    check_tutorial_cast,
    check_wrap_value,
    seeded_choice,
)
from twostream_lab.fusion import FUSION_METHODS, TSN_WEIGHTS

L = 10
START = 2


@pytest.fixture(scope="module")
def flow():
    """14 random flow frames of 12x16: every frame differs, so each channel can be identified."""
    rng = np.random.default_rng(7)
    u = rng.integers(0, 256, (14, 12, 16), dtype=np.uint8)
    v = rng.integers(0, 256, (14, 12, 16), dtype=np.uint8)
    return u, v


def channels(u, v, start=START):
    """The 2L uint8 frames of the right stack, in order (u frames, then v frames)."""
    return [*u[start : start + L], *v[start : start + L]]


def right_stack(u, v, start=START):
    return np.stack(channels(u, v, start), axis=-1).astype(np.float32) / 255


# --------------------------------------------------------------------------- check_flow_stack


def test_a_right_stack_passes_and_says_why(flow):
    u, v = flow
    result = check_flow_stack(right_stack(u, v), u, v, START)
    assert isinstance(result, CheckResult)
    assert result and result.passed and result.mistakes == ()
    np.testing.assert_array_equal(right_stack(u, v), prepare_stacks(u, v, [START], (12, 16))[0])
    text = str(result)
    assert text.startswith("RIGHT (flow stack)")
    assert "u[2..11]" in text and "v[2..11]" in text


def test_a_right_resized_stack_passes(flow):
    u, v = flow
    stack = np.stack(channels(u, v), axis=-1)
    resized = cv2.resize(stack, (10, 8), interpolation=cv2.INTER_CUBIC).astype(np.float32) / 255
    assert check_flow_stack(resized, u, v, START, size=(8, 10))


def _interleaved(u, v):
    frames = [f for i in range(L) for f in (u[START + i], v[START + i])]
    return np.stack(frames, axis=-1).astype(np.float32) / 255


def _v_before_u(u, v):
    frames = [*v[START : START + L], *u[START : START + L]]
    return np.stack(frames, axis=-1).astype(np.float32) / 255


@pytest.mark.parametrize(
    "build, mistake",
    [
        (_interleaved, "interleaved"),
        (_v_before_u, "v_before_u"),
        (lambda u, v: np.stack(channels(u, v), axis=0).astype(np.float32) / 255, "channels_first"),
        (lambda u, v: np.stack(channels(u, v), axis=-1).astype(np.float32), "forgot_divide_255"),
        (lambda u, v: np.stack(channels(u, v), axis=-1), "forgot_divide_255"),  # uint8
        (lambda u, v: right_stack(u, v, START + 1), "off_by_one_start"),
        (lambda u, v: right_stack(u, v, START - 1), "off_by_one_start"),
        (lambda u, v: np.stack(channels(u, v), axis=-1) / 255, "wrong_dtype"),  # float64
        (lambda u, v: right_stack(u, v)[None], "batch_axis"),
    ],
    ids=["interleaved", "v_before_u", "channels_first", "forgot_255", "forgot_255_uint8",
         "start_plus_1", "start_minus_1", "float64", "batch"],
)
def test_each_mistake_is_diagnosed_by_name(flow, build, mistake):
    u, v = flow
    result = check_flow_stack(build(u, v), u, v, START)
    assert not result and mistake in result.mistakes, str(result)
    assert str(result).startswith("WRONG (flow stack)")


def test_the_diagnosis_says_which_channel_holds_what(flow):
    u, v = flow
    result = check_flow_stack(_interleaved(u, v), u, v, START)
    assert result.mistakes == ("interleaved",)
    assert "u0, v0, u1, v1" in result.message
    assert "channel 1 should be u1 = u[3]; yours is v[2]." in result.details


def test_the_usual_mistakes_are_found_together(flow):
    u, v = flow
    combo = np.stack([f for i in range(L) for f in (u[START + i], v[START + i])], axis=0)
    result = check_flow_stack(combo, u, v, START)  # axis 0, no / 255, interleaved
    assert result.mistakes == ("channels_first", "forgot_divide_255", "interleaved")


def test_off_by_one_names_the_start_it_found(flow):
    u, v = flow
    result = check_flow_stack(right_stack(u, v, START + 1), u, v, START)
    assert "starts at flow frame 3, one off from start = 2" in result.message


def test_swapped_channels_are_listed(flow):
    u, v = flow
    stack = right_stack(u, v)
    stack[..., [3, 4]] = stack[..., [4, 3]]
    result = check_flow_stack(stack, u, v, START)
    assert result.mistakes == ("wrong_channels",)
    assert result.details == ("channel 3 should be u3 = u[5]; yours is u[6].",
                              "channel 4 should be u4 = u[6]; yours is u[5].")


def test_resize_mistakes(flow):
    u, v = flow
    size = (8, 10)
    per_channel = np.stack(
        [cv2.resize(f, (10, 8), interpolation=cv2.INTER_CUBIC) for f in channels(u, v)], axis=-1
    ).astype(np.float32) / 255
    floats = cv2.resize(right_stack(u, v), (10, 8), interpolation=cv2.INTER_CUBIC)
    assert check_flow_stack(right_stack(u, v), u, v, START, size=size).mistakes == (
        "not_resized",)
    assert check_flow_stack(per_channel, u, v, START, size=size).mistakes == (
        "resized_channel_by_channel",)
    assert check_flow_stack(floats, u, v, START, size=size).mistakes == (
        "resized_after_dividing",)
    swapped = check_flow_stack(np.zeros((10, 8, 20), np.float32), u, v, START, size=size)
    assert swapped.mistakes == ("wrong_shape",) and "(width, height)" in swapped.details[0]


def test_wrong_shapes_and_values(flow):
    u, v = flow
    result = check_flow_stack(np.zeros((12, 16, 2)), u, v, START)
    assert result.mistakes == ("wrong_shape",) and "expected shape (12, 16, 20)" in result.message
    noise = np.random.default_rng(1).random((12, 16, 20)).astype(np.float32)
    result = check_flow_stack(noise, u, v, START)
    assert result.mistakes == ("wrong_values",) and "expected" in result.details[0]
    assert check_flow_stack("not a stack", u, v, START).mistakes == ("wrong_shape",)


def test_bad_inputs_of_the_check_itself_raise(flow):
    u, v = flow
    with pytest.raises(ValueError, match="out of range"):
        check_flow_stack(right_stack(u, v), u, v, 5)  # 14 frames: starts 0..4
    with pytest.raises(ValueError, match="uint8"):
        check_flow_stack(right_stack(u, v), u.astype(np.float32), v, START)


def test_results_print_nicely():
    result = CheckResult("demo", False, "channel <1> differs.", ("expected u1",), ("x",))
    html = result._repr_html_()
    assert "wrong" in html and "&lt;1&gt;" in html and "<li>expected u1</li>" in html
    assert str(result) == "WRONG (demo): channel <1> differs.\n  - expected u1"

    class Printer:
        text_written = ""

        def text(self, text):
            self.text_written += text

    printer = Printer()
    result._repr_pretty_(printer, False)
    assert printer.text_written == str(result)


# --------------------------------------------------------------------------- the tutorial's cast


def _this_machine_wraps() -> bool:
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return int(np.array([261.0], np.float32).astype(np.uint8)[0]) == 5


def test_the_tutorial_cast_passes():
    result = check_tutorial_cast(lambda f: (255 * (f + 20) / 40).astype(np.uint8))
    assert result, str(result)
    assert "21 px -> 5" in result.message and "check_wrap_value" in result.message


@pytest.mark.parametrize(
    "function, mistake",
    [
        (lambda f: np.rint(255 * (f + 20) / 40).astype(np.uint8), "rounded"),
        (lambda f: 255 * (f + 20) / 40, "not_uint8"),
        (lambda f: (256 * (f + 20) / 40).astype(np.uint8), "wrong_levels"),
        (lambda f: f.reshape(-1).astype(np.uint8), "wrong_shape"),
        (lambda f: 1 / 0, "raised"),
    ],
    ids=["rounded", "float", "wrong_scale", "flattened", "raises"],
)
def test_wrong_casts_are_diagnosed(function, mistake):
    result = check_tutorial_cast(function)
    assert not result and result.mistakes == (mistake,), str(result)


def test_clipping_is_the_fix_not_the_tutorial_cast():
    result = check_tutorial_cast(lambda f: np.clip(255 * (f + 20) / 40, 0, 255).astype(np.uint8))
    if _this_machine_wraps():
        assert not result and result.mistakes == ("clipped",)
        assert "quantize_flow" in result.details[0]
    else:  # an ARM CPU: the tutorial's own cast saturates like this
        assert result


def test_check_tutorial_cast_needs_a_function():
    with pytest.raises(ValueError, match="function"):
        check_tutorial_cast(np.zeros(3))


@pytest.mark.parametrize("value", [20.157, 20.16, 20 + 40 / 255, -20.157, np.float32(20.157),
                                   np.array([20.16])])
def test_the_wrap_value_found_by_the_right_reasoning_passes(value):
    result = check_wrap_value(value)
    assert result, str(result)
    text = str(result)
    assert "20.1569" in text and "40/255" in text  # the exact threshold
    assert "quantize_flow clips" in text


def test_the_wrap_explanation_follows_the_sign():
    positive, negative = str(check_wrap_value(20.16)), str(check_wrap_value(-20.16))
    assert "reaches 256" in positive and "256 -> 0" in positive
    assert "reaches -1" in negative and "-1 -> 255" in negative


@pytest.mark.parametrize(
    "value, mistake, words",
    [
        (20, "no_wrap", "level 255"),
        (20.15, "no_wrap", "no wrap yet"),
        (10, "no_wrap", "nothing wraps"),
        (21, "not_the_start", "level 5"),
        (256, "level_not_flow", "not a level"),
    ],
)
def test_a_wrong_wrap_value_fails_with_an_explanation(value, mistake, words):
    result = check_wrap_value(value)
    assert not result and result.mistakes == (mistake,)
    assert words in str(result)
    assert "20.1569" not in str(result)  # a hint, not the answer


@pytest.mark.parametrize("value", ["20", None, [20.1, 20.2], float("nan"), True])
def test_check_wrap_value_wants_one_number(value):
    with pytest.raises(ValueError, match="pixels"):
        check_wrap_value(value)


# --------------------------------------------------------------------------- fusion rules


def _geometric(s, m):
    g = np.sqrt(np.maximum(s, 1e-30) * np.maximum(m, 1e-30))
    return g / g.sum(axis=-1, keepdims=True)


RIGHT_RULES = {
    "average": lambda s, m: (s + m) / 2,
    "max": np.maximum,
    "product": _geometric,
    "weighted": lambda s, m, w: (w[0] * s + w[1] * m) / (w[0] + w[1]),
}


@pytest.mark.parametrize("method", FUSION_METHODS)
def test_right_fusion_rules_pass(method):
    weights = TSN_WEIGHTS if method == "weighted" else None
    result = check_fusion_rule(RIGHT_RULES[method], method=method, weights=weights)
    assert result, str(result)
    assert "all 8 cases" in result.message


@pytest.mark.parametrize(
    "function, method, mistake, case",
    [
        (lambda s, m: s + m, "average", "sum", "one video"),
        (np.minimum, "max", "min", "one video"),
        (lambda s, m: np.max([s, m]), "max", "wrong_shape", "one video"),
        (lambda s, m: np.sqrt(s * m) / np.sqrt(s * m).sum(-1, keepdims=True), "product",
         "not_finite", "zeros: the streams disagree completely"),
        (lambda s, m: (s * m) / (s * m).sum(-1, keepdims=True), "product", "no_square_root",
         "one video"),
        (lambda s, m: np.sqrt(s * m), "product", "not_renormalised", "one video"),
        (lambda s, m: s * m, "average", "wrong_values", "one video"),
        (lambda s, m: (s + m) / 2 if s.ndim == 1 else s, "average", "wrong_values",
         "8 frames x 5 classes"),
        (lambda s, m: None, "average", "wrong_shape", "one video"),
    ],
    ids=["sum", "min", "reduced", "nan_on_zeros", "no_sqrt", "not_renormalised", "product",
         "rows", "none"],
)
def test_wrong_fusion_rules_say_which_case_differs(function, method, mistake, case):
    result = check_fusion_rule(function, method=method)
    assert not result and result.mistakes == (mistake,), str(result)
    assert f"case '{case}" in result.message
    assert result.details[0].startswith("spatial = [")


def test_weighted_rule_mistakes():
    a, b = TSN_WEIGHTS
    unnormalised = check_fusion_rule(lambda s, m, w: w[0] * s + w[1] * m, method="weighted",
                                     weights=(a, b))
    assert unnormalised.mistakes == ("not_normalised",) and "a + b = 2.5" in unnormalised.message
    swapped = check_fusion_rule(lambda s, m, w: (w[1] * s + w[0] * m) / (w[0] + w[1]),
                                method="weighted", weights=(a, b))
    assert swapped.mistakes == ("swapped_weights",)
    two_arguments = check_fusion_rule(lambda s, m: (s + m) / 2, method="weighted", weights=(a, b))
    assert two_arguments.mistakes == ("raised",) and "weights" in two_arguments.message


def test_the_rule_cannot_spoil_the_reference():
    def in_place(s, m):
        s += m
        s /= 2
        return s

    assert check_fusion_rule(in_place)  # it gets copies


def test_check_fusion_rule_validates_its_arguments():
    with pytest.raises(ValueError, match="unknown fusion method"):
        check_fusion_rule(np.maximum, method="mean")
    with pytest.raises(ValueError, match="needs weights"):
        check_fusion_rule(np.maximum, method="weighted")
    with pytest.raises(ValueError, match="only used by method='weighted'"):
        check_fusion_rule(np.maximum, weights=(1, 2))
    with pytest.raises(ValueError, match="function"):
        check_fusion_rule("average")


# --------------------------------------------------------------------------- seeded_choice


def test_a_seeded_choice_is_reproducible_and_a_new_seed_rerolls():
    videos = [f"video_{i}.avi" for i in range(10)]
    first = seeded_choice(videos, seed=42)
    assert isinstance(first, SeededChoice) and first.seed == 42 and first.item in videos
    assert all(seeded_choice(videos, seed=42) == first for _ in range(3))
    item, seed = first
    assert (item, seed) == (first.item, 42)
    picks = {seeded_choice(videos, seed=s).item for s in range(20)}
    assert len(picks) > 1, "different seeds must re-roll"
    assert "seed=42" in str(first)


def test_without_a_seed_a_new_one_is_drawn_and_reported(capsys):
    videos = list("abcdefghij")
    item, seed = seeded_choice(videos)
    printed = capsys.readouterr().out
    assert f"new seed {seed}" in printed and f"seed={seed}" in printed and repr(item) in printed
    assert 0 <= seed < 1_000_000
    assert seeded_choice(videos, seed=seed).item == item
    seeded_choice(videos, seed=seed)
    assert capsys.readouterr().out == "", "a given seed prints nothing"


def test_seeded_choice_takes_any_ordered_iterable():
    assert seeded_choice(range(5), seed=3) == seeded_choice([0, 1, 2, 3, 4], seed=3)
    assert seeded_choice(["only"], seed=9).item == "only"


@pytest.mark.parametrize(
    "options, seed, match",
    [({"a", "b"}, 1, "sorted"), ([], 1, "empty"), (["a"], -1, "non-negative"),
     (["a"], 1.5, "non-negative"), (["a"], True, "non-negative")],
)
def test_seeded_choice_errors(options, seed, match):
    with pytest.raises(ValueError, match=match):
        seeded_choice(options, seed=seed)


def test_check_flow_stack_on_a_real_clip(ucf101_videos):
    from twostream_lab.flow import compute_flow
    from twostream_lab.video import read_video

    video = read_video(ucf101_videos[0], max_frames=13)
    flow = compute_flow(video, method="dis", cache=False, progress=False)
    u, v = flow.u, flow.v
    stack = np.stack(channels(u, v), axis=-1)
    right = cv2.resize(stack, (299, 299), interpolation=cv2.INTER_CUBIC).astype(np.float32) / 255
    assert check_flow_stack(right, u, v, START, size=(299, 299))
    wrong = check_flow_stack(np.moveaxis(right, -1, 0), u, v, START, size=(299, 299))
    assert wrong.mistakes == ("channels_first",)
