"""The shared argument checks: what passes (and as what), and the one message for what does not."""

from __future__ import annotations

import numpy as np
import pytest

from twostream_lab.checks import (looks_like_html, optional_positive_int, positive_int,
                                  positive_number, size_pair)


@pytest.mark.parametrize("value", [1, 8, np.int32(8), np.int64(3), 8.0, np.float32(2.0)])
def test_whole_numbers_pass_as_int(value):
    result = positive_int(value, "batch_size")
    assert result == value and type(result) is int


@pytest.mark.parametrize("value", [0, -1, 2.5, True, False, "8", None, float("inf"),
                                   float("nan"), [8]])
def test_anything_else_is_one_clear_error(value):
    with pytest.raises(ValueError) as error:
        positive_int(value, "batch_size")
    assert str(error.value) == f"batch_size must be a positive whole number, got {value!r}"


def test_units_and_none():
    with pytest.raises(ValueError, match="short_side must be a positive whole number of pixels, "
                                         "got 0"):
        positive_int(0, "short_side", unit="pixels")
    assert optional_positive_int(None, "max_frames") is None
    assert optional_positive_int(np.int16(4), "max_frames") == 4
    with pytest.raises(ValueError, match="max_frames must be a positive whole number or None, "
                                         "got -3"):
        optional_positive_int(-3, "max_frames")


@pytest.mark.parametrize("value", [0, -0.5, True, float("inf"), float("nan"), "1"])
def test_positive_numbers(value):
    assert positive_number(0.25, "fps") == 0.25 and type(positive_number(2, "fps")) is float
    with pytest.raises(ValueError, match="fps must be a positive number, got"):
        positive_number(value, "fps")


@pytest.mark.parametrize("size", [(0, 4), (4,), (4, 4, 3), "ab", 5, (2.5, 4), (True, 4)])
def test_size_pairs(size):
    assert size_pair([299, np.int64(224)]) == (299, 224)
    with pytest.raises(ValueError, match=r"size must be a pair \(height, width\) of positive "
                                         "whole numbers"):
        size_pair(size)


@pytest.mark.parametrize(("head", "html"), [
    (b"<!DOCTYPE html><html><title>Google Drive - Quota exceeded</title>", True),
    (b"\n  <html lang='en'>", True), (b"<HEAD><title>x</title>", True),
    (b"PK\x03\x04 a zip", False), (b"\x1aE\xdf\xa3 webm", False), (b"", False),
])
def test_web_pages_are_recognised_by_their_first_bytes(head, html):
    assert looks_like_html(head) is html
