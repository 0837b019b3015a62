"""Quiet TensorFlow start-up: the first ``import tensorflow`` runs with stderr filtered.

TensorFlow's C++ start-up lines ("oneDNN custom operations are on", timestamps) go to stderr,
clutter every notebook and break nbval's output comparison, so ``TF_CPP_MIN_LOG_LEVEL`` defaults
to 2 here (users can still set their own level).

TensorFlow 2.21 logs through absl while its libraries load, before it applies that level: where
oneDNN is on (by default on CPUs with AVX-512 VNNI or newer) ``import tensorflow`` prints, twice,
"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR" and
"I0000 ... port.cc:153] oneDNN custom operations are on ...". So the first ``import tensorflow``
after this package's runs with file descriptor 2 captured, and what it wrote goes back to stderr
without the log lines that TF_CPP_MIN_LOG_LEVEL hides; everything else (Python warnings, errors)
is kept. oneDNN itself is left as it is: turning it off would change the numbers.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.machinery
import os
import re
import sys
from collections.abc import Iterator

_ABSL_BANNER = (
    b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR"
)
_TF_LOG_LINE = re.compile(  # absl "I0000 00:00:1796128823.35  42 port.cc:153] ", TF "2026-... I "
    rb"(?:(?P<absl>[IWEF])\d{4} \d\d:\d\d:\d+\.\d+ +\d+ "
    rb"|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: (?P<tf>[IWEF]) )\S+:\d+\] "
)


def _tf_log_level() -> int:
    """``TF_CPP_MIN_LOG_LEVEL`` as TensorFlow reads it (0 when unset or not a number)."""
    value = os.environ.get("TF_CPP_MIN_LOG_LEVEL", "").strip()
    return int(value) if value.isdigit() else 0


def _hidden_by_level(line: bytes, level: int) -> bool:
    """Whether TensorFlow's log ``level`` (2: no INFO or WARNING) hides this line of stderr."""
    if line.rstrip(b"\r\n") == _ABSL_BANNER:
        return True
    match = _TF_LOG_LINE.match(line)
    return match is not None and b"IWEF".index(match["absl"] or match["tf"]) < level


@contextlib.contextmanager
def _tensorflow_startup_filtered() -> Iterator[None]:
    """Capture file descriptor 2 for the block; then write it back without the hidden log lines."""
    import tempfile

    level = _tf_log_level()
    try:
        saved = os.dup(2) if level >= 2 else None
    except OSError:  # no stderr at all: nothing to filter
        saved = None
    if saved is None:
        yield
        return
    with tempfile.TemporaryFile() as captured:
        if sys.stderr is not None:
            sys.stderr.flush()
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            if sys.stderr is not None:
                sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            kept = b"".join(line for line in captured if not _hidden_by_level(line, level))
            while kept:
                kept = kept[os.write(2, kept):]


class _FilteredLoader:
    """Runs TensorFlow's own loader inside :func:`_tensorflow_startup_filtered`."""

    def __init__(self, loader) -> None:
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module) -> None:
        module.__loader__ = module.__spec__.loader = self.loader  # TensorFlow sees its own loader
        if _TENSORFLOW_FINDER in sys.meta_path:
            sys.meta_path.remove(_TENSORFLOW_FINDER)  # only the first import
        with _tensorflow_startup_filtered():
            self.loader.exec_module(module)


class _TensorFlowFinder:
    """Finds ``tensorflow`` only: its usual spec, executed by :class:`_FilteredLoader`."""

    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow":
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or not hasattr(spec.loader, "exec_module"):
            return None  # not found on sys.path: the other finders decide
        spec.loader = _FilteredLoader(spec.loader)
        return spec


_TENSORFLOW_FINDER = _TensorFlowFinder()


def install() -> None:
    """Filter the first ``import tensorflow`` from now on (nothing if it is already imported)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if "tensorflow" not in sys.modules and _TENSORFLOW_FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _TENSORFLOW_FINDER)
