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
import importlib
import inspect
import json
import os
import re
import shutil
import socket
import sys
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit
from urllib.request import url2pathname

import pooch
import requests
import urllib3
from requests.adapters import HTTPAdapter

from twostream_lab.weights.legacy import WeightsError, read_weights_info
from twostream_lab.data.paths import cache_dir, remove_stale_temporaries, temporary_folder

__all__ = ["MIRROR_ENV", "PRETRAINED", "GDriveDownloader", "PretrainedArchive",
           "PretrainedError", "PretrainedFiles", "cached_pretrained",
           "cached_pretrained_files", "fetch_pretrained", "weights_source"]

#: Where a zip is downloaded from; ``{id}`` is the Google Drive file id. (Tests point this at
#: a server on 127.0.0.1.)
DOWNLOAD_URL = "https://drive.google.com/uc?id={id}"
#: The same file for a person with a browser.
MANUAL_URL = "https://drive.google.com/uc?id={id}"
#: Seconds to wait for the download server to accept a connection before calling it offline.
CONNECT_TIMEOUT = 5.0
#: Seconds a download may go without receiving a byte before it is called stalled.
READ_TIMEOUT = 60.0
#: The environment variable naming a mirror of the two zips (see :func:`fetch_pretrained`).
MIRROR_ENV = "TWOSTREAM_LAB_WEIGHTS_URL"
#: The checksum file a mirror holds beside the zips (the output of ``sha256sum``).
SUMS_NAME = "SHA256SUMS"
_STAMP = "complete.json"
_CHUNK = 1 << 20
#: Temporary names of earlier versions of this module in ``cache_dir("pretrained")`` (pooch's
#: ``tmp*`` files, gdown's work folders and ``.part`` files, extraction folders, zips), removed
#: like the ``paths.TEMP_PREFIX`` ones once they are an hour old. Only the lab writes there.
_STALE = ("tmp*", ".gdown-*", "*.part", ".spatial-*", ".motion-*", "*.zip")
_SUM_LINE = re.compile(r"([0-9a-fA-F]{64}) [ *](.+)")
_GDOWN_LOCK = threading.Lock()


class PretrainedError(RuntimeError):
    """The pretrained weights could not be downloaded, verified or found."""


class _Missing(PretrainedError):
    """The server or folder has no such file (HTTP 404 or 410, or no file in the folder)."""


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
    local = ("load_two_stream(('/content/drive/MyDrive/spatial.h5', "
             "'/content/drive/MyDrive/motion.h5')). Without any download, "
             "load_two_stream('demo') gives the offline demo models.")
    if mirror is not None:
        return (f"To get the weights by hand, download {mirror}/spatial.zip, "
                f"{mirror}/motion.zip and {mirror}/{SUMS_NAME}, check them with "
                f"`sha256sum -c {SUMS_NAME}`, unzip them, and pass the two .h5 files: "
                f"{local} Without the mirror (unset ${MIRROR_ENV}) they come from Google "
                "Drive.")
    spatial, motion = PRETRAINED["spatial"], PRETRAINED["motion"]
    return (
        f"If your instructor hosts the weights, set ${MIRROR_ENV} to their address (in a "
        f'notebook: os.environ["{MIRROR_ENV}"] = "..."). '
        f"To get the weights by hand, download the spatial zip ({spatial.manual_url}) and the "
        f"motion zip ({motion.manual_url}) in a browser (or add them to your own Google Drive "
        "and mount it in Colab: `from google.colab import drive; "
        "drive.mount('/content/drive')`), unzip them, and pass the two .h5 files: " + local)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


# ---------------------------------------------------------------------------------------------
# network


def _check_reachable(url: str, timeout: float,
                     what: str = "this machine seems to be offline") -> None:
    """Fail within ``timeout`` seconds if the server of ``url`` does not accept a connection
    (DNS included, which sockets alone cannot time out); ``what`` says what that means."""
    parts = urlsplit(url)
    address = (parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80))
    outcome: dict[str, object] = {}

    def connect() -> None:
        try:
            socket.create_connection(address, timeout=timeout).close()
            outcome["ok"] = True
        except OSError as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=connect, daemon=True)
    thread.start()
    thread.join(timeout)
    if not outcome.get("ok"):
        error = outcome.get("error")
        # the socket's own timeout and the join's end together: both mean no answer
        reason = (f"no answer within {timeout:g} s" if error is None
                  or isinstance(error, TimeoutError) else error)
        raise PretrainedError(f"cannot reach {address[0]} ({reason}): {what}")


def _stalled(error: BaseException) -> bool:
    """Whether a requests error is a read timeout (before or during the body)."""
    pending, seen = [error], set()
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, requests.ReadTimeout | urllib3.exceptions.ReadTimeoutError):
            return True
        pending += [e for e in (current.__cause__, current.__context__, *current.args)
                    if isinstance(e, BaseException)]
    return False


@contextmanager
def _network_errors(url: str, read_timeout: float, refused_hint: str = "") -> Iterator[None]:
    """Turn requests' errors into messages: an HTTP error status says so (``refused_hint`` is
    added for 403 and 429), and a server that stopped sending says for how long."""
    try:
        yield
    except requests.HTTPError as exc:
        response = exc.response
        code = getattr(response, "status_code", None)
        reason = f" {response.reason}" if getattr(response, "reason", "") else ""
        message = (f"the server answered HTTP {code}{reason} for "
                   f"{getattr(response, 'url', None) or url}")
        if code in (403, 429) and refused_hint:
            message += f". {refused_hint}"
        raise (_Missing if code in (404, 410) else PretrainedError)(message) from exc
    except requests.RequestException as exc:
        if not _stalled(exc):
            raise
        raise PretrainedError(
            f"the server stopped sending data for {read_timeout:g} s while sending {url}: the "
            "connection stalled. Run again to retry; on a network that is only slow, raise "
            "twostream_lab.weights.pretrained.READ_TIMEOUT") from exc


class _DefaultTimeoutAdapter(HTTPAdapter):
    """Gives each request of its session a ``(connect, read)`` timeout unless it has one."""

    def __init__(self, timeout: tuple[float, float]):
        super().__init__()
        self.default_timeout = timeout

    def send(self, request, **kwargs):
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.default_timeout
        return super().send(request, **kwargs)


def _raise_for_status(response: requests.Response, *args, **kwargs) -> None:
    response.raise_for_status()


@contextmanager
def _gdown_sessions(timeout: tuple[float, float]) -> Iterator[None]:
    """While active, the requests sessions gdown makes get ``timeout`` as their default
    ``(connect, read)`` timeout and raise on an HTTP error status.

    gdown 5 never passes a timeout (a server that stops sending hangs it forever) and saves an
    error page as the file; gdown 6 takes ``timeout=`` and checks the final status, but reads an
    error page from Drive as a missing confirmation. Both make their session in
    ``gdown.download._get_session``, wrapped here (one download at a time in this process, so
    that the wrapper is removed as it was put).
    """
    module = importlib.import_module("gdown.download")
    original = getattr(module, "_get_session", None)
    if original is None:  # a gdown without it: its own timeout= (see GDriveDownloader) only
        yield
        return

    @functools.wraps(original)
    def get_session(*args, **kwargs):
        made = original(*args, **kwargs)
        session = made[0] if isinstance(made, tuple) else made
        adapter = _DefaultTimeoutAdapter(timeout)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        session.hooks["response"].append(_raise_for_status)
        return made

    with _GDOWN_LOCK:
        module._get_session = get_session
        try:
            yield
        finally:
            module._get_session = original


@dataclass
class GDriveDownloader:
    """A pooch downloader that fetches with gdown (Google Drive's confirmation pages and
    cookies handled), after a quick reachability check so that offline fails fast.

    gdown's HTTP requests get a ``(connect, read)`` timeout, so a server that stops sending
    fails after ``read_timeout`` seconds instead of hanging, and an HTTP error status is
    reported as such instead of being saved as the file. Any callable
    ``downloader(url, output_file, pooch)`` that writes the file can replace it in
    :func:`fetch_pretrained`.
    """

    progress: bool = True
    timeout: float | None = None  # seconds to connect; None: CONNECT_TIMEOUT
    read_timeout: float | None = None  # seconds without data; None: READ_TIMEOUT

    def __call__(self, url: str, output_file, pooch_obj=None, check_only: bool = False) -> None:
        connect = CONNECT_TIMEOUT if self.timeout is None else self.timeout
        read = READ_TIMEOUT if self.read_timeout is None else self.read_timeout
        _check_reachable(url, connect)
        import gdown
        from gdown import exceptions

        # gdown 6 has DownloadError (an incomplete body, ...) above FileURLRetrievalError
        download_error = getattr(exceptions, "DownloadError", exceptions.FileURLRetrievalError)
        options = ({"timeout": (connect, read)}
                   if "timeout" in inspect.signature(gdown.download).parameters else {})
        output = Path(output_file)
        work = temporary_folder(output.parent, "gdown")
        try:
            with _gdown_sessions((connect, read)), _network_errors(
                    url, read, refused_hint="Google Drive refuses a file whose download quota "
                    "is used up, or too many requests from one address; try again in a few "
                    "hours"):
                result = gdown.download(url, str(work / "download"), quiet=not self.progress,
                                        **options)
            if result is None:
                raise PretrainedError(f"gdown could not download {url}")
            os.replace(work / "download", output)
        except exceptions.FileURLRetrievalError as exc:
            raise PretrainedError(
                "Google Drive did not hand out the file: it shows a page instead when the "
                "file's download quota is used up ('Too many users have viewed or downloaded "
                f"this file recently'; try again in a few hours). gdown said: {exc}") from exc
        except download_error as exc:
            raise PretrainedError(f"gdown could not download {url}: {exc}") from exc
        finally:
            shutil.rmtree(work, ignore_errors=True)


def _http_download(url: str, output_file, pooch_obj=None, *, progress: bool = True) -> None:
    """Download over plain HTTP(S) (a mirror) with pooch, with connect and read timeouts."""
    _check_reachable(url, CONNECT_TIMEOUT,
                     "this machine is offline, or the mirror's server is down")
    downloader = pooch.HTTPDownloader(progressbar=progress, chunk_size=_CHUNK,
                                      timeout=(CONNECT_TIMEOUT, READ_TIMEOUT))
    with _network_errors(url, READ_TIMEOUT):
        downloader(url, output_file, pooch_obj)


def _copy_file(url: str, output_file, pooch_obj=None) -> None:
    """Copy a ``file://`` URL (a mirror folder on this machine, e.g. a mounted Drive)."""
    source = _local_path(url)
    try:
        shutil.copyfile(source, output_file)
    except FileNotFoundError as exc:
        raise _Missing(f"there is no file {source}") from exc


# ---------------------------------------------------------------------------------------------
# mirror


def _local_path(url: str) -> Path:
    return Path(url2pathname(urlsplit(url).path))


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
            + _by_hand(mirror))
    path = work / SUMS_NAME
    try:
        get(url, str(path), None)
    except _Missing as exc:
        raise PretrainedError(
            f"The mirror {mirror} has no {SUMS_NAME} ({exc}): a mirror holds spatial.zip, "
            f"motion.zip and {SUMS_NAME}, written next to the zips by "
            f"`sha256sum spatial.zip motion.zip > {SUMS_NAME}`.\n" + _by_hand(mirror)) from exc
    except (OSError, PretrainedError) as exc:
        raise PretrainedError(f"Could not read {SUMS_NAME} from the mirror {mirror}: {exc}.\n"
                              + _by_hand(mirror)) from exc
    try:
        return _parse_sums(path.read_text(encoding="utf-8", errors="replace"), url)
    except PretrainedError as exc:
        raise PretrainedError(f"The mirror's {SUMS_NAME} is not a checksum list: {exc}.\n"
                              + _by_hand(mirror)) from exc


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


def _looks_like_html(head: bytes) -> bool:
    text = head.lstrip().lower()
    return text.startswith((b"<!doctype html", b"<html", b"<head", b"<body")) or b"<html" in text


def _check_zip(zip_path: Path, archive: PretrainedArchive, url: str, expected: str | None,
               mirror: str | None) -> str:
    """Check the downloaded zip (its size, or the mirror's SHA-256, and each member's CRC);
    return its SHA-256."""
    size = zip_path.stat().st_size
    with open(zip_path, "rb") as file:
        head = file.read(4096)
    if _looks_like_html(head):
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
        get = downloader or GDriveDownloader(progress=progress)
    else:
        local = mirror.startswith("file:")
        sums = _read_sums(mirror, work, downloader or (
            _copy_file if local else functools.partial(_http_download, progress=False)))
        expected = sums.get(archive.zip_name)
        if expected is None:
            raise PretrainedError(
                f"The mirror's {mirror}/{SUMS_NAME} lists no {archive.zip_name} (it lists "
                f"{sorted(sums) or 'nothing'}): re-run `sha256sum spatial.zip motion.zip > "
                f"{SUMS_NAME}` next to the zips and upload it.\n" + _by_hand(mirror))
        url = f"{mirror}/{archive.zip_name}"
        get = downloader or (
            _copy_file if local else functools.partial(_http_download, progress=progress))
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
