"""Progress bars that a notebook saved without widget state still shows finished.

``tqdm.auto`` gives an ipywidgets bar in a notebook; the notebook file keeps only the text that
was captured when the widget was first shown, so a notebook downloaded from Colab shows
``0%| | 0/16`` forever. :func:`progress_bar` shows the bar's text in one display output instead and
updates it in place, so the saved notebook holds the last state (``100%| ... | 16/16``). Outside
a Jupyter kernel it is the usual text bar on stderr.

Examples
--------
>>> [step for step in progress_bar(range(3), desc="steps", unit="step", enabled=False)]
[0, 1, 2]
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import Any

from tqdm.std import tqdm

__all__ = ["progress_bar", "DownloadBar"]


class _Discard:
    """A text file that keeps nothing: tqdm's own writes (the line end of ``close``) go here."""

    encoding = "utf-8"  # tqdm draws the bar with block characters only for a UTF-8 file

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


class _KernelBar(tqdm):
    """A text bar drawn in one IPython display output, replaced in place at each refresh.

    tqdm calls :meth:`display` only when a refresh is due (``mininterval``, ``miniters``), and at
    ``close`` with the final state (``leave=True``) or an empty text (``leave=False``).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._handle = None  # tqdm's __init__ already calls display()
        super().__init__(*args, **{**kwargs, "file": _Discard()})

    def display(self, msg: str | None = None, pos: int | None = None) -> bool:
        from IPython.display import DisplayHandle

        bundle = {"text/plain": str(self) if msg is None else msg}
        if self._handle is None:
            self._handle = DisplayHandle()
            self._handle.display(bundle, raw=True)
        else:
            self._handle.update(bundle, raw=True)
        return True


def _in_kernel() -> bool:
    # Only a process that has imported IPython can be a kernel: scripts do not pay for the import.
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return getattr(shell, "kernel", None) is not None


def progress_bar(iterable: Iterable | None = None, *, total: int | None = None, desc: str,
                 unit: str, enabled: bool = True, **tqdm_kwargs: Any) -> tqdm:
    """A ``tqdm`` bar: a display output updated in place in a Jupyter kernel, stderr elsewhere.

    Parameters
    ----------
    iterable : iterable, optional
        Wrap it: iterating the bar yields its items and counts them (``total`` defaults to its
        ``len``).
    total : int, optional
        The number of steps, when the caller counts them with ``bar.update(n)``.
    desc, unit : str
        The bar's label and the name of one step (``"frame"`` gives ``frame/s``).
    enabled : bool
        ``False``: a disabled bar that shows nothing (the callers' ``progress=False``). It decides
        alone: tqdm's ``TQDM_DISABLE`` environment variable is not consulted.
    **tqdm_kwargs
        Passed on to :class:`tqdm.std.tqdm` (``leave``, ``mininterval``, ...). In a kernel
        ``file`` is replaced: the bar goes to the notebook, nothing to stderr.

    Returns
    -------
    tqdm.std.tqdm
        Use it as a context manager, call ``update(n)``, or iterate it when ``iterable`` is given.

    Examples
    --------
    >>> with progress_bar(total=16, desc="spatial stream", unit="frame") as bar:  # doctest: +SKIP
    ...     for batch in batches:
    ...         bar.update(len(batch))
    spatial stream: 100%|██████████| 16/16 [00:01<00:00, 12.3frame/s]
    """
    kind = _KernelBar if enabled and _in_kernel() else tqdm
    return kind(iterable, total=total, desc=desc, unit=unit, disable=not enabled, **tqdm_kwargs)


class DownloadBar:
    """A byte counter for pooch's ``HTTPDownloader(progressbar=...)``, drawn by :func:`progress_bar`.

    pooch sets ``total`` from the response's length, calls ``update``, then ``reset``,
    ``update(total)`` and ``close``; it tests the object for truth first, which a tqdm bar without
    a total refuses, so this one is always true.

    Examples
    --------
    >>> bar = DownloadBar("spatial.zip", enabled=False)
    >>> bar.total = 2048; bar.update(2048); bar.close()
    >>> bool(bar)
    True
    """

    def __init__(self, desc: str, *, enabled: bool = True) -> None:
        self._bar = progress_bar(total=0, desc=desc, unit="B", unit_scale=True,
                                 unit_divisor=1024, enabled=enabled)

    def __bool__(self) -> bool:
        return True

    @property
    def total(self) -> int:
        return self._bar.total

    @total.setter
    def total(self, value: int) -> None:
        self._bar.total = value

    def update(self, n: int) -> None:
        self._bar.update(n)

    def reset(self) -> None:
        self._bar.reset()

    def close(self) -> None:
        self._bar.close()
