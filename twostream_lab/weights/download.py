"""The download transports of the pretrained weights: Google Drive (gdown), HTTP, a local copy.

Each is a pooch downloader ``(url, output_file, pooch)``: a quick reachability check so that
offline fails within seconds, a ``(connect, read)`` timeout so that a server that stops sending
fails instead of hanging, and requests' errors turned into a :class:`PretrainedError` that says
what happened. :mod:`twostream_lab.weights.pretrained` uses them (and passes its own
``CONNECT_TIMEOUT`` and ``READ_TIMEOUT``); :mod:`twostream_lab.weights.mirror` reads mirrors.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import os
import shutil
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

import pooch
import requests
import urllib3
from requests.adapters import HTTPAdapter

from twostream_lab.data.paths import temporary_folder
from twostream_lab.progress import DownloadBar

__all__ = ["CONNECT_TIMEOUT", "READ_TIMEOUT", "GDriveDownloader", "PretrainedError"]

#: Seconds to wait for the download server to accept a connection before calling it offline.
#: (The default of the downloaders; :func:`~twostream_lab.weights.pretrained.fetch_pretrained`
#: passes ``twostream_lab.weights.pretrained.CONNECT_TIMEOUT``.)
CONNECT_TIMEOUT = 5.0
#: Seconds a download may go without receiving a byte before it is called stalled (likewise
#: ``twostream_lab.weights.pretrained.READ_TIMEOUT`` for ``fetch_pretrained``).
READ_TIMEOUT = 60.0
_CHUNK = 1 << 20
_GDOWN_LOCK = threading.Lock()


class PretrainedError(RuntimeError):
    """The pretrained weights could not be downloaded, verified or found."""


class _Missing(PretrainedError):
    """The server or folder has no such file (HTTP 404 or 410, or no file in the folder)."""


def _local_path(url: str) -> Path:
    return Path(url2pathname(urlsplit(url).path))


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


def _http_download(url: str, output_file, pooch_obj=None, *, progress: bool = True,
                   connect_timeout: float | None = None,
                   read_timeout: float | None = None) -> None:
    """Download over plain HTTP(S) (a mirror) with pooch, with connect and read timeouts
    (None: :data:`CONNECT_TIMEOUT`, :data:`READ_TIMEOUT`)."""
    connect = CONNECT_TIMEOUT if connect_timeout is None else connect_timeout
    read = READ_TIMEOUT if read_timeout is None else read_timeout
    _check_reachable(url, connect,
                     "this machine is offline, or the mirror's server is down")
    # our bar, not pooch's tqdm.auto widget: a saved notebook then keeps the finished bar
    downloader = pooch.HTTPDownloader(progressbar=DownloadBar("download") if progress else False,
                                      chunk_size=_CHUNK,
                                      timeout=(connect, read))
    with _network_errors(url, read):
        downloader(url, output_file, pooch_obj)


def _copy_file(url: str, output_file, pooch_obj=None) -> None:
    """Copy a ``file://`` URL (a mirror folder on this machine, e.g. a mounted Drive)."""
    source = _local_path(url)
    try:
        shutil.copyfile(source, output_file)
    except FileNotFoundError as exc:
        raise _Missing(f"there is no file {source}") from exc
