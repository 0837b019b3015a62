"""A random choice (of a video, say) that can be reproduced, or re-rolled, by its seed."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import Any, NamedTuple

import numpy as np

__all__ = ["SeededChoice", "check_seed", "new_seed", "seeded_choice"]


# --------------------------------------------------------------------------- a seeded choice


class SeededChoice(NamedTuple):
    """What :func:`seeded_choice` returns: unpack it as ``item, seed = seeded_choice(...)``."""

    item: Any
    seed: int

    def __str__(self) -> str:
        return (f"picked {self.item!r} with seed {self.seed} (seeded_choice(options, "
                f"seed={self.seed}) picks it again)")


def new_seed() -> int:
    """A new random seed for :func:`seeded_choice`, 0 .. 999999 (short enough to write down)."""
    return secrets.randbelow(1_000_000)


def check_seed(seed, *, optional: bool = False) -> int | None:
    """``seed`` as an ``int`` when it is a non-negative integer (or None, if ``optional``).

    Otherwise a ValueError that names the allowed values and what was got (``True`` is a mistake,
    not 1).

    Examples
    --------
    >>> check_seed(7), check_seed(None, optional=True)
    (7, None)
    >>> check_seed(-1)
    Traceback (most recent call last):
    ...
    ValueError: seed must be a non-negative integer, e.g. seed=7, got -1
    """
    if seed is None and optional:
        return None
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        allowed = "a non-negative integer, e.g. seed=7" + (", or None" if optional else "")
        raise ValueError(f"seed must be {allowed}, got {seed!r}")
    return int(seed)


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
    seed = new_seed() if drawn else check_seed(seed)
    item = candidates[int(np.random.default_rng(seed).integers(len(candidates)))]
    if drawn:
        print(f"seeded_choice: new seed {seed} picked {item!r}; pass seed={seed} to pick it "
              "again")
    return SeededChoice(item, seed)
