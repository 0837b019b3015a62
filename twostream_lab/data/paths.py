"""Where twostream-lab keeps downloaded and computed files.

Two folders, each overridable by one environment variable:

* the cache (pretrained weights, downloaded videos, cached optical flow):
  ``$TWOSTREAM_LAB_CACHE``, else the platform's user cache folder
  (``~/.cache/twostream-lab`` on Linux);
* the data folder with sample videos: ``$TWOSTREAM_LAB_DATA``, else ``<cache>/data``.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_UMASK = os.umask(0o022)
os.umask(_UMASK)

#: Every temporary file or folder the lab creates starts with this, so that the ones a killed
#: run left behind can be recognised, and only those are removed.
TEMP_PREFIX = ".tslab-tmp-"
#: A temporary file this much older (seconds) than now belongs to no running write.
STALE_AFTER = 3600.0

CACHE_ENV = "TWOSTREAM_LAB_CACHE"
DATA_ENV = "TWOSTREAM_LAB_DATA"


def in_colab() -> bool:
    """Whether this runs in Google Colab (its ``google.colab`` module is loaded at start-up)."""
    return "google.colab" in sys.modules


def cache_dir(*parts: str, create: bool = True) -> Path:
    """Return the cache folder (or a sub-folder of it), creating it unless ``create=False``.

    Examples
    --------
    >>> cache_dir("flow", create=False).name
    'flow'
    """
    override = os.environ.get(CACHE_ENV)
    if override:
        root = Path(override).expanduser()
    else:
        import pooch

        root = Path(pooch.os_cache("twostream-lab"))
    path = root.joinpath(*parts)
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path


def data_dir(*parts: str) -> Path:
    """Return the sample-data folder (or a path inside it); it is never created here.

    Examples
    --------
    >>> data_dir("ucf101").name
    'ucf101'
    """
    override = os.environ.get(DATA_ENV)
    root = Path(override).expanduser() if override else cache_dir("data", create=False)
    return root.joinpath(*parts)


@contextmanager
def atomic_file(path: str | os.PathLike, *, suffix: str = ".tmp") -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it into place only if the block succeeds.

    A killed or failed write therefore never leaves a half-written ``path`` that a later run
    would read as valid, and an existing ``path`` stays untouched until the new one is complete.
    The finished file gets the usual permissions (``0o666`` less the umask).

    Examples
    --------
    >>> import os, tempfile
    >>> target = os.path.join(tempfile.mkdtemp(), "result.txt")
    >>> with atomic_file(target) as tmp:
    ...     _ = tmp.write_text("done")
    >>> open(target).read()
    'done'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f"{TEMP_PREFIX}{path.name}-",
                                suffix=suffix)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def temporary_folder(parent: str | os.PathLike, label: str) -> Path:
    """Create an empty temporary folder in ``parent`` named as the lab's own (see
    :func:`remove_stale_temporaries`); the caller removes or renames it."""
    return Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{label}-", dir=parent))


def remove_stale_temporaries(folder: str | os.PathLike, patterns: tuple[str, ...] = (), *,
                             max_age: float = STALE_AFTER) -> list[Path]:
    """Remove what killed runs left in ``folder``: entries named ``TEMP_PREFIX*`` (and
    ``patterns``, globs of other temporary names that only the lab writes in this folder) that
    were last modified more than ``max_age`` seconds ago. A younger one may belong to a write
    still running and is kept. Returns what was removed.

    Examples
    --------
    >>> import tempfile
    >>> remove_stale_temporaries(tempfile.mkdtemp())
    []
    """
    folder = Path(folder)
    if not folder.is_dir():
        return []
    now = time.time()
    removed = []
    for pattern in (f"{TEMP_PREFIX}*", *patterns):
        for path in folder.glob(pattern):
            try:
                if now - path.lstat().st_mtime <= max_age:
                    continue
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path)
                else:
                    path.unlink()
            except FileNotFoundError:
                continue  # another process cleaned it first
            removed.append(path)
    return removed
