"""The pretrained weights: downloaded once (from Google Drive or a mirror), verified, cached.

The pretrained weights (mohammed-elkomy's two-stream Xception models, trained on UCF101
split 1 with TensorFlow 1.11) are two zips on Google Drive, one per stream, each holding
``<stream>.h5`` (the TF1 model with its optimizer state), ``<stream>.log`` and
``<stream>.preds`` (see :mod:`twostream_lab.evaluation.preds`). :func:`fetch_pretrained` downloads a
zip into a temporary folder of the cache, checks it (its size, or with a mirror its SHA-256,
and every member's CRC), extracts it, checks the ``.h5`` structure and only then moves the
files into ``cache_dir("pretrained")/<stream>`` with a ``complete.json`` stamp that records
where they came from and the SHA-256 of each file. A partial or damaged download is never
taken for a cached one, nothing of a failed attempt stays in the cache, and what a killed run
left behind is removed by a later one once it is an hour old.

HDF5 files carry no checksum, so every load from the cache compares each file with the SHA-256
of its stamp: a cached file altered or damaged since (a disk error, an edit) is downloaded
again, never loaded.

**Mirror.** An instructor can host the two zips for a whole class (any static web server, a
GitHub release, a shared Drive folder mounted in Colab) beside a ``SHA256SUMS`` file written by
``sha256sum spatial.zip motion.zip > SHA256SUMS``. With ``$TWOSTREAM_LAB_WEIGHTS_URL`` (or
``mirror=``) naming that URL or folder, Google Drive is not contacted at all, and each zip is
checked against ``SHA256SUMS``.

Google Drive sometimes answers with a web page instead of the file (download quota exceeded).
Then, or when offline, the error says how to download by hand and pass local paths::

    load_two_stream(("/content/drive/MyDrive/spatial.h5", "/content/drive/MyDrive/motion.h5"))
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from twostream_lab.checks import looks_like_html
from twostream_lab.weights.legacy import WeightsError, read_weights_info
from twostream_lab.data.paths import cache_dir, remove_stale_temporaries, temporary_folder
from twostream_lab.weights.download import (GDriveDownloader, PretrainedError, _copy_file,
                                            _http_download)
from twostream_lab.weights.mirror import (MIRROR_ENV, SUMS_NAME, _LOCAL_HINT, _by_hand_mirror,
                                          _mirror_url, _read_sums, weights_source)

__all__ = ["MIRROR_ENV", "PRETRAINED", "GDriveDownloader", "PretrainedArchive",
           "PretrainedError", "PretrainedFiles", "cached_pretrained",
           "cached_pretrained_files", "fetch_pretrained", "weights_source"]

#: Where a zip is downloaded from; ``{id}`` is the Google Drive file id. (Tests point this at
#: a server on 127.0.0.1.)
DOWNLOAD_URL = "https://drive.google.com/uc?id={id}"
#: The same file for a person with a browser.
MANUAL_URL = "https://drive.google.com/uc?id={id}"
#: Seconds to wait for the download server to accept a connection before calling it offline
#: (read by :func:`fetch_pretrained` at each call and passed to its downloaders).
CONNECT_TIMEOUT = 5.0
#: Seconds a download may go without receiving a byte before it is called stalled (likewise).
READ_TIMEOUT = 60.0
_STAMP = "complete.json"
_CHUNK = 1 << 20
#: Temporary names of earlier versions of this module in ``cache_dir("pretrained")`` (pooch's
#: ``tmp*`` files, gdown's work folders and ``.part`` files, extraction folders, zips), removed
#: like the ``paths.TEMP_PREFIX`` ones once they are an hour old. Only the lab writes there.
_STALE = ("tmp*", ".gdown-*", "*.part", ".spatial-*", ".motion-*", "*.zip")


@dataclass(frozen=True)
class PretrainedArchive:
    """One stream's zip on Google Drive and what its ``.h5`` must hold."""

    stream: str
    drive_id: str
    size: int  # bytes of the zip
    num_params: int  # numbers in the .h5's model weights
    input_channels: int

    @property
    def zip_name(self) -> str:
        return f"{self.stream}.zip"

    @property
    def members(self) -> tuple[str, str, str]:
        """The ``.h5`` (required), ``.log`` and ``.preds`` in the zip."""
        return f"{self.stream}.h5", f"{self.stream}.log", f"{self.stream}.preds"

    @property
    def manual_url(self) -> str:
        return MANUAL_URL.format(id=self.drive_id)


PRETRAINED: dict[str, PretrainedArchive] = {
    "spatial": PretrainedArchive("spatial", "1djGzpxAYFvNX-UaQ7ONqDHGgnzc8clBK", 234_458_427,
                                 21_068_435, 3),
    "motion": PretrainedArchive("motion", "1kvslNL8zmZYaHRmhgAM6-l_pNDDA0EKZ", 234_618_151,
                                21_073_365, 20),
}


@dataclass(frozen=True)
class PretrainedFiles:
    """The extracted, verified files of one stream in the cache."""

    stream: str
    folder: Path
    h5: Path
    log: Path | None
    preds: Path | None


def _archive(stream: str) -> PretrainedArchive:
    try:
        return PRETRAINED[stream]
    except KeyError:
        raise ValueError(f"stream must be one of {sorted(PRETRAINED)}; got {stream!r}") from None

def _by_hand(mirror: str | None = None) -> str:
    if mirror is not None:
        return _by_hand_mirror(mirror)
    spatial, motion = PRETRAINED["spatial"], PRETRAINED["motion"]
    return (
        f"If your instructor hosts the weights, set ${MIRROR_ENV} to their address (in a "
        f'notebook: os.environ["{MIRROR_ENV}"] = "..."). '
        f"To get the weights by hand, download the spatial zip ({spatial.manual_url}) and the "
        f"motion zip ({motion.manual_url}) in a browser (or add them to your own Google Drive "
        "and mount it in Colab: `from google.colab import drive; "
        "drive.mount('/content/drive')`), unzip them, and pass the two .h5 files: "
        + _LOCAL_HINT)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


# ---------------------------------------------------------------------------------------------
# download and verify


def _download(archive: PretrainedArchive, url: str, zip_path: Path, get, progress: bool,
              mirror: str | None) -> None:
    if progress:
        where = ("Google Drive" if mirror is None else f"the mirror {mirror}")
        size = f", {archive.size / 1e6:.0f} MB" if mirror is None else ""
        print(f"Downloading the pretrained {archive.stream} stream ({archive.zip_name}{size}) "
              f"from {where}", file=sys.stderr)
    try:
        get(url, str(zip_path), None)
    except (OSError, PretrainedError) as exc:
        raise PretrainedError(f"Could not download the pretrained {archive.stream} weights from "
                              f"{url}: {exc}.\n{_by_hand(mirror)}") from exc


def _check_zip(zip_path: Path, archive: PretrainedArchive, url: str, expected: str | None,
               mirror: str | None) -> str:
    """Check the downloaded zip (its size, or the mirror's SHA-256, and each member's CRC);
    return its SHA-256."""
    size = zip_path.stat().st_size
    with open(zip_path, "rb") as file:
        head = file.read(4096)
    if looks_like_html(head):
        why = ("Google Drive sends a page instead of the file when its download quota is used "
               "up or it wants a confirmation" if mirror is None else
               f"the mirror's server sent a page (an error, a login or a folder listing); open "
               f"{url} in a browser to see it")
        raise PretrainedError(f"The download of {archive.zip_name} is a web page ({size:,} "
                              f"bytes), not the zip: {why}.\n" + _by_hand(mirror))
    if expected is None and size != archive.size:
        raise PretrainedError(
            f"The download of {archive.zip_name} has {size:,} bytes instead of "
            f"{archive.size:,}: it is incomplete or another file. Run again to retry.\n"
            + _by_hand())
    digest = _sha256(zip_path)
    if expected is not None and digest != expected:
        raise PretrainedError(
            f"{url} ({size:,} bytes) has SHA-256 {digest}, but the mirror's {SUMS_NAME} lists "
            f"{expected}: the mirror's file differs from its {SUMS_NAME}. Whoever hosts the "
            f"mirror should re-upload {archive.zip_name} (an upload cut short, or another "
            f"file) or re-run `sha256sum spatial.zip motion.zip > {SUMS_NAME}` next to the "
            f"zips and upload that; if the mirror is right, the download was damaged on the "
            f"way: run again.\n" + _by_hand(mirror))
    try:
        with zipfile.ZipFile(zip_path) as zipped:
            damaged = zipped.testzip()
    except (zipfile.BadZipFile, OSError) as exc:
        raise PretrainedError(f"The download of {archive.zip_name} is not a valid zip ({exc}). "
                              "Run again to retry.\n" + _by_hand(mirror)) from exc
    if damaged is not None:
        raise PretrainedError(f"{damaged} in the download of {archive.zip_name} fails its CRC "
                              "check: the download is damaged. Run again to retry.\n"
                              + _by_hand(mirror))
    return digest


def _verify_h5(path: Path, archive: PretrainedArchive) -> None:
    try:
        info = read_weights_info(path)
    except (WeightsError, OSError) as exc:
        raise PretrainedError(f"{path.name} is not usable: {exc}") from exc
    if (info.input_channels, info.num_params) != (archive.input_channels, archive.num_params):
        raise PretrainedError(
            f"{path.name} holds a model with {info.input_channels} input channels and "
            f"{info.num_params:,} weights, but the pretrained {archive.stream} stream has "
            f"{archive.input_channels} and {archive.num_params:,}: it is another model")


def _extract(zip_path: Path, archive: PretrainedArchive, work: Path, root: Path,
             origin: dict) -> PretrainedFiles:
    """Extract the known members into ``work``, hashing them, verify the .h5, write the stamp
    (``origin`` plus each file's size and SHA-256), then move the folder into place."""
    staged = work / archive.stream
    staged.mkdir()
    files = {}
    with zipfile.ZipFile(zip_path) as zipped:
        members = {PurePosixPath(info.filename).name: info for info in zipped.infolist()
                   if not info.is_dir()}
        if archive.members[0] not in members:
            raise PretrainedError(
                f"{archive.zip_name} holds no {archive.members[0]} (it holds "
                f"{sorted(members)}): it is not the pretrained {archive.stream} zip.\n"
                + _by_hand(origin.get("mirror")))
        for name in archive.members:
            if name in members:  # only these names are written: no path from the zip
                digest, size = hashlib.sha256(), 0
                with zipped.open(members[name]) as src, open(staged / name, "wb") as dst:
                    while chunk := src.read(_CHUNK):
                        digest.update(chunk)
                        dst.write(chunk)
                        size += len(chunk)
                files[name] = {"size": size, "sha256": digest.hexdigest()}
    _verify_h5(staged / archive.members[0], archive)
    (staged / _STAMP).write_text(json.dumps({**origin, "files": files}, indent=1))
    final = root / archive.stream
    shutil.rmtree(final, ignore_errors=True)
    os.replace(staged, final)
    return _files(archive, final)


def _files(archive: PretrainedArchive, folder: Path) -> PretrainedFiles:
    h5, log, preds = (folder / name for name in archive.members)
    return PretrainedFiles(archive.stream, folder, h5, log if log.is_file() else None,
                           preds if preds.is_file() else None)


def _inspect_cache(archive: PretrainedArchive,
                   folder: Path) -> tuple[PretrainedFiles | None, str | None]:
    """``(files, None)`` if the cached copy is complete and every file still has the SHA-256
    it had when verified; ``(None, what is wrong)`` if a stamped copy was altered or damaged
    since; ``(None, None)`` if there is no (stamped) copy."""
    try:
        stamp = json.loads((folder / _STAMP).read_text())
        recorded = {name: (int(entry["size"]), str(entry["sha256"]))
                    for name, entry in stamp["files"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None, None  # none, or one stamped by an older version of the lab: download
    if archive.members[0] not in recorded or not set(recorded) <= set(archive.members):
        return None, None
    for name, (size, digest) in recorded.items():
        path = folder / name
        try:
            actual = path.stat().st_size
        except FileNotFoundError:
            return None, f"the cached {name} is missing from {folder}"
        if actual != size:
            return None, (f"the cached {path} has {actual:,} bytes instead of the {size:,} it "
                          "had when it was verified: it was altered or damaged")
        if _sha256(path) != digest:
            return None, (f"the cached {path} was altered or damaged after it was verified "
                          "(its SHA-256 differs from the one recorded at download)")
    try:
        _verify_h5(folder / archive.members[0], archive)
    except PretrainedError as exc:
        return None, f"the cached copy in {folder} is not the pretrained model: {exc}"
    return _files(archive, folder), None


def _fetch(archive: PretrainedArchive, mirror: str | None, work: Path, root: Path, downloader,
           progress: bool) -> PretrainedFiles:
    """Download ``archive`` into ``work``, check it and move its files into ``root``."""
    expected = None
    if mirror is None:
        url = DOWNLOAD_URL.format(id=archive.drive_id)
        get = downloader or GDriveDownloader(progress=progress, timeout=CONNECT_TIMEOUT,
                                             read_timeout=READ_TIMEOUT)
    else:
        local = mirror.startswith("file:")
        sums = _read_sums(mirror, work, downloader or (
            _copy_file if local else functools.partial(
                _http_download, progress=False, connect_timeout=CONNECT_TIMEOUT,
                read_timeout=READ_TIMEOUT)))
        expected = sums.get(archive.zip_name)
        if expected is None:
            raise PretrainedError(
                f"The mirror's {mirror}/{SUMS_NAME} lists no {archive.zip_name} (it lists "
                f"{sorted(sums) or 'nothing'}): re-run `sha256sum spatial.zip motion.zip > "
                f"{SUMS_NAME}` next to the zips and upload it.\n" + _by_hand(mirror))
        url = f"{mirror}/{archive.zip_name}"
        get = downloader or (
            _copy_file if local else functools.partial(
                _http_download, progress=progress, connect_timeout=CONNECT_TIMEOUT,
                read_timeout=READ_TIMEOUT))
    zip_path = work / archive.zip_name
    _download(archive, url, zip_path, get, progress, mirror)
    digest = _check_zip(zip_path, archive, url, expected, mirror)
    origin = {"stream": archive.stream, "source": "drive" if mirror is None else "mirror",
              "mirror": mirror, "url": url, "zip": archive.zip_name,
              "zip_size": zip_path.stat().st_size, "zip_sha256": digest}
    return _extract(zip_path, archive, work, root, origin)


def fetch_pretrained(stream: str, *, mirror: str | os.PathLike | None = None, downloader=None,
                     progress: bool = True) -> PretrainedFiles:
    """Return one stream's pretrained files, downloading and verifying them on first use.

    Parameters
    ----------
    stream : {"spatial", "motion"}
    mirror : str or path, optional
        Where an instructor hosts the zips for a class: a base URL (``https://...``,
        ``http://...``, ``file://...``) or a folder (e.g. a mounted shared Drive folder)
        holding ``spatial.zip``, ``motion.zip`` and ``SHA256SUMS`` (written by
        ``sha256sum spatial.zip motion.zip > SHA256SUMS``). Google Drive is then not contacted;
        each zip must match its line of ``SHA256SUMS``. By default ``$TWOSTREAM_LAB_WEIGHTS_URL``
        (unset or ``""``: Google Drive).
    downloader : callable, optional
        A pooch downloader ``(url, output_file, pooch)`` for every file fetched; by default
        :class:`GDriveDownloader` for Drive, an HTTP download with connect and read timeouts
        for a web mirror, a copy for a folder.
    progress : bool
        Show download progress.

    Returns
    -------
    PretrainedFiles
        ``.h5``, ``.log`` and ``.preds`` in ``cache_dir("pretrained", stream)``. A cached copy
        is returned, from whichever source, once each file matches the SHA-256 recorded when
        it was verified; a copy altered since is downloaded again.

    Raises
    ------
    PretrainedError
        Offline (within a few seconds), a server that stops sending (after ``READ_TIMEOUT``
        seconds), an HTTP error status, Google Drive's quota page, a wrong size, a mirror
        without ``SHA256SUMS`` or whose zip differs from it, a damaged zip, no ``.h5`` in it,
        an ``.h5`` of another model, or a damaged cached copy that cannot be downloaded again.
        The message says how to download by hand and pass local paths to
        :func:`load_two_stream`.

    Examples
    --------
    >>> files = fetch_pretrained("spatial")  # doctest: +SKIP
    >>> files.h5.name, files.preds.name  # doctest: +SKIP
    ('spatial.h5', 'spatial.preds')
    >>> fetch_pretrained("motion", mirror="/content/drive/MyDrive/weights")  # doctest: +SKIP
    """
    archive = _archive(stream)
    base = _mirror_url(mirror)
    root = cache_dir("pretrained")
    remove_stale_temporaries(root, _STALE)
    folder = root / archive.stream
    cached, damage = _inspect_cache(archive, folder)
    if cached is not None:
        return cached
    if damage is not None and progress:
        print(f"{damage[0].upper()}{damage[1:]}: downloading it again", file=sys.stderr)
    work = temporary_folder(root, archive.stream)
    try:
        return _fetch(archive, base, work, root, downloader, progress)
    except PretrainedError as exc:
        if damage is None:
            raise
        raise PretrainedError(
            f"The pretrained {archive.stream} weights in the cache are damaged: {damage}. "
            f"Downloading them again failed: {exc}\nThe damaged copy is never loaded. To clear "
            f"it, delete its folder (`rm -r '{folder}'`, or shutil.rmtree in Python), then run "
            "again with a network connection; a successful download also replaces it.") from exc
    finally:
        shutil.rmtree(work, ignore_errors=True)


def cached_pretrained() -> dict[str, PretrainedFiles | None]:
    """Which pretrained streams are in the cache, complete and verified (None: not cached).

    Examples
    --------
    >>> cached_pretrained()  # doctest: +SKIP
    {'spatial': PretrainedFiles(stream='spatial', ...), 'motion': None}
    """
    root = cache_dir("pretrained", create=False)
    return {stream: _inspect_cache(archive, root / stream)[0]
            for stream, archive in PRETRAINED.items()}


def cached_pretrained_files() -> list[Path]:
    """The verified pretrained files in the cache (``.h5``, ``.preds``, ``.log`` per stream).

    An empty list means nothing is downloaded yet (``twostream-lab doctor`` prints this).

    Examples
    --------
    >>> [p.name for p in cached_pretrained_files()]  # doctest: +SKIP
    ['spatial.h5', 'spatial.preds', 'spatial.log']
    """
    return [path for files in cached_pretrained().values() if files is not None
            for path in (files.h5, files.preds, files.log) if path is not None]
