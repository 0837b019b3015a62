"""The result of a self-check, and the helpers the checks share."""

from __future__ import annotations

import html
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["CheckResult"]


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
