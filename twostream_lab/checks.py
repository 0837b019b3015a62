"""The argument checks every stage shares: one wording for each kind of bad value.

Each check returns the value in the type the caller uses (``int``, ``float``, a ``(height,
width)`` pair) or raises a :class:`ValueError` that names the argument, what was expected and what
was got. ``bool`` is never a number here: ``True`` is a mistake, not 1. A whole number may be written as
a float (``8.0``), but not ``8.5``.

Examples
--------
>>> positive_int(8, "batch_size")
8
>>> positive_int(0, "batch_size")
Traceback (most recent call last):
...
ValueError: batch_size must be a positive whole number, got 0
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

__all__ = ["positive_int", "optional_positive_int", "positive_number", "size_pair",
           "looks_like_html"]


def _is_int(value) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, numbers.Integral):
        return True
    return isinstance(value, numbers.Real) and float(value).is_integer()


def positive_int(value, name: str, *, unit: str = "") -> int:
    """``value`` as an ``int`` when it is a whole number > 0; else a ValueError naming ``name``.

    ``unit`` completes the message: ``"pixels"`` gives "a positive whole number of pixels".
    """
    if _is_int(value) and value > 0:
        return int(value)
    what = f"a positive whole number{f' of {unit}' if unit else ''}"
    raise ValueError(f"{name} must be {what}, got {value!r}")


def optional_positive_int(value, name: str, *, unit: str = "") -> int | None:
    """:func:`positive_int`, with ``None`` allowed (and returned) for "no limit"."""
    if value is None:
        return None
    if _is_int(value) and value > 0:
        return int(value)
    what = f"a positive whole number{f' of {unit}' if unit else ''}"
    raise ValueError(f"{name} must be {what} or None, got {value!r}")


def positive_number(value, name: str, *, unit: str = "") -> float:
    """``value`` as a ``float`` when it is a finite real number > 0; else a ValueError."""
    if (isinstance(value, numbers.Real) and not isinstance(value, bool)
            and 0 < float(value) < float("inf")):
        return float(value)
    raise ValueError(f"{name} must be a positive number{f' of {unit}' if unit else ''}, "
                     f"got {value!r}")


def size_pair(size: Sequence[int], name: str = "size") -> tuple[int, int]:
    """A ``(height, width)`` of positive whole numbers, as a tuple of ``int``.

    Examples
    --------
    >>> size_pair([224, 224])
    (224, 224)
    """
    try:
        height, width = size
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a pair (height, width) of positive whole numbers, "
                         f"got {size!r}") from None
    if not (_is_int(height) and _is_int(width) and height > 0 and width > 0):
        raise ValueError(f"{name} must be a pair (height, width) of positive whole numbers, "
                         f"got {size!r}")
    return int(height), int(width)


def looks_like_html(head: bytes) -> bool:
    """Whether the first bytes of a download are a web page (an error, login or quota page).

    Examples
    --------
    >>> looks_like_html(b"  <!DOCTYPE html><html>"), looks_like_html(b"PK\\x03\\x04")
    (True, False)
    """
    text = head.lstrip().lower()
    return text.startswith((b"<!doctype html", b"<html", b"<head", b"<body")) or b"<html" in text
