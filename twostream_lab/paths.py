"""Where twostream-lab keeps downloaded and computed files.

Two folders, each overridable by one environment variable:

* the cache (pretrained weights, downloaded videos, cached optical flow):
  ``$TWOSTREAM_LAB_CACHE``, else the platform's user cache folder
  (``~/.cache/twostream-lab`` on Linux);
* the data folder with sample videos: ``$TWOSTREAM_LAB_DATA``, else ``<cache>/data``.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_UMASK = os.umask(0o022)
os.umask(_UMASK)

CACHE_ENV = "TWOSTREAM_LAB_CACHE"
DATA_ENV = "TWOSTREAM_LAB_DATA"


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
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-", suffix=suffix)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
