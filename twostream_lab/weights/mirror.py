"""A mirror of the pretrained weights: its URL, its ``SHA256SUMS``, what ``doctor`` reports.

An instructor can host the two zips for a whole class (any static web server, a GitHub release,
a shared Drive folder mounted in Colab) beside a ``SHA256SUMS`` file written by
``sha256sum spatial.zip motion.zip > SHA256SUMS``; ``$TWOSTREAM_LAB_WEIGHTS_URL`` (or
``mirror=`` of :func:`~twostream_lab.weights.pretrained.fetch_pretrained`) names it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from twostream_lab.weights.download import PretrainedError, _local_path, _Missing

__all__ = ["MIRROR_ENV", "SUMS_NAME", "weights_source"]

#: The environment variable naming a mirror of the two zips (see :func:`fetch_pretrained`).
MIRROR_ENV = "TWOSTREAM_LAB_WEIGHTS_URL"
#: The checksum file a mirror holds beside the zips (the output of ``sha256sum``).
SUMS_NAME = "SHA256SUMS"
_SUM_LINE = re.compile(r"([0-9a-fA-F]{64}) [ *](.+)")
#: How to pass local files instead (the end of every "by hand" hint).
_LOCAL_HINT = ("load_two_stream(('/content/drive/MyDrive/spatial.h5', "
               "'/content/drive/MyDrive/motion.h5')). Without any download, "
               "load_two_stream('demo') gives the offline demo models.")


def _by_hand_mirror(mirror: str) -> str:
    """How to get the weights of ``mirror`` by hand."""
    return (f"To get the weights by hand, download {mirror}/spatial.zip, "
            f"{mirror}/motion.zip and {mirror}/{SUMS_NAME}, check them with "
            f"`sha256sum -c {SUMS_NAME}`, unzip them, and pass the two .h5 files: "
            f"{_LOCAL_HINT} Without the mirror (unset ${MIRROR_ENV}) they come from Google "
            "Drive.")


def _mirror_url(mirror: str | os.PathLike | None) -> str | None:
    """The mirror's base URL (http, https or file, no trailing slash), or None for Drive."""
    if mirror is None:
        mirror = os.environ.get(MIRROR_ENV, "")
    text = os.fspath(mirror).strip()
    if not text:
        return None
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if len(scheme) <= 1:  # no scheme, or a Windows drive letter: a folder on this machine
        return Path(text).expanduser().absolute().as_uri()
    if PurePosixPath(parts.path).name in (SUMS_NAME, "spatial.zip", "motion.zip"):
        raise ValueError(f"the mirror is the address of the folder holding spatial.zip, "
                         f"motion.zip and {SUMS_NAME}, not of one file; got {text!r}: drop "
                         f"the file name")
    if scheme in ("http", "https"):
        return text.rstrip("/")
    if scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise ValueError(f"a file:// mirror must be a folder on this machine "
                             f"(file:///path/to/folder); got {text!r}")
        return _local_path(text).as_uri()
    raise ValueError(f"the mirror ({MIRROR_ENV} or mirror=) must be an http://, https:// or "
                     f"file:// URL or a folder; got {text!r}")


def _parse_sums(text: str, url: str) -> dict[str, str]:
    """``{file name: sha256}`` of the lines ``<64 hex>  name`` / ``<64 hex> *name``."""
    sums = {}
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        match = _SUM_LINE.fullmatch(line)
        if match is None:
            raise PretrainedError(
                f"line {number} of {url} is {line[:80]!r}, not '<64 hex digits>  <file name>' "
                f"as sha256sum writes it (is it a web page?): re-create it next to the zips "
                f"with `sha256sum spatial.zip motion.zip > {SUMS_NAME}`")
        sums[PurePosixPath(match[2].replace("\\", "/")).name] = match[1].lower()
    return sums


def _read_sums(mirror: str, work: Path, get) -> dict[str, str]:
    url = f"{mirror}/{SUMS_NAME}"
    if mirror.startswith("file:") and not _local_path(mirror).is_dir():
        raise PretrainedError(
            f"The mirror folder {_local_path(mirror)} does not exist (in Colab: is the Drive "
            "mounted, `from google.colab import drive; drive.mount('/content/drive')`?).\n"
            + _by_hand_mirror(mirror))
    path = work / SUMS_NAME
    try:
        get(url, str(path), None)
    except _Missing as exc:
        raise PretrainedError(
            f"The mirror {mirror} has no {SUMS_NAME} ({exc}): a mirror holds spatial.zip, "
            f"motion.zip and {SUMS_NAME}, written next to the zips by "
            f"`sha256sum spatial.zip motion.zip > {SUMS_NAME}`.\n" + _by_hand_mirror(mirror)) from exc
    except (OSError, PretrainedError) as exc:
        raise PretrainedError(f"Could not read {SUMS_NAME} from the mirror {mirror}: {exc}.\n"
                              + _by_hand_mirror(mirror)) from exc
    try:
        return _parse_sums(path.read_text(encoding="utf-8", errors="replace"), url)
    except PretrainedError as exc:
        raise PretrainedError(f"The mirror's {SUMS_NAME} is not a checksum list: {exc}.\n"
                              + _by_hand_mirror(mirror)) from exc


def weights_source(mirror: str | os.PathLike | None = None) -> str:
    """Say where :func:`fetch_pretrained` would download from (``twostream-lab doctor``).

    Examples
    --------
    >>> weights_source("")
    'Google Drive ($TWOSTREAM_LAB_WEIGHTS_URL not set)'
    """
    try:
        base = _mirror_url(mirror)
    except ValueError as exc:
        return f"invalid: {exc}"
    return (f"Google Drive (${MIRROR_ENV} not set)" if base is None
            else f"the mirror {base} (Google Drive is not contacted)")
