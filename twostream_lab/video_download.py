"""Downloading a video from an http(s) URL into ``cache_dir("videos")`` (:func:`download_video`).

A URL is downloaded once, within a deadline for the whole download (:func:`default_deadline`),
under a temporary name renamed when complete, and kept only if OpenCV can decode it as a video:
a web page (sniffed from its Content-Type and its first bytes) or any other file is deleted and
reported. :func:`twostream_lab.video.read_video` calls it for URLs.
"""

from __future__ import annotations

import hashlib
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from twostream_lab.checks import looks_like_html, positive_number
from twostream_lab.video_errors import VideoError, _format_bytes

__all__ = ["DEFAULT_DOWNLOAD_LIMIT", "DOWNLOAD_MIN_RATE", "default_deadline", "download_video"]

#: Largest download :func:`download_video` accepts by default (bytes).
DEFAULT_DOWNLOAD_LIMIT = 200 * 2**20
#: Slowest download rate (bytes/s) that the default deadline of :func:`download_video` allows.
DOWNLOAD_MIN_RATE = 100 * 1024
# Temporary downloads of versions before paths.TEMP_PREFIX: ".<url digest>-<name>-<random>.part".
_LEGACY_DOWNLOAD_TEMP = "." + "[0-9a-f]" * 16 + "-*.part"


def _is_url(source: str) -> bool:
    return re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", source) is not None


def _url_file_name(url: str) -> str:
    path = urllib.parse.unquote(urllib.parse.urlsplit(url).path)
    name = path.rstrip("/").rsplit("/", 1)[-1]
    name = re.sub(r"[^A-Za-z0-9._-]", "_", name)
    return name or "video"


def download_video(
    url: str,
    *,
    max_bytes: int = DEFAULT_DOWNLOAD_LIMIT,
    timeout: float = 60.0,
    deadline: float | None = None,
) -> Path:
    """Download an http(s) video into ``cache_dir("videos")`` and return its path.

    A URL that was downloaded before is not fetched again. The file is written under a temporary
    name and renamed when complete, so an interrupted download never looks finished; temporary
    files that killed runs left there more than an hour ago are removed first. Only a file that
    OpenCV can decode as a video is kept: a web page or any other file is deleted and reported.

    Parameters
    ----------
    url : str
        ``http://`` or ``https://`` address.
    max_bytes : int
        Refuse (and delete) a download larger than this.
    timeout : float
        Seconds to wait for the server on connecting and on each read.
    deadline : float, optional
        Seconds for the whole download, however the server trickles its bytes. By default
        :func:`default_deadline` of the size the server announces (of ``max_bytes`` when it
        announces none). It is checked after every read, so it can be overrun by at most
        ``timeout``.

    Raises
    ------
    VideoError
        Unsupported scheme, HTTP error, no connection, timeout, deadline passed, too large,
        incomplete, a web page, or a file that is not a video OpenCV can decode.

    Examples
    --------
    >>> download_video("ftp://example.org/clip.mp4")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    VideoError: ftp://example.org/clip.mp4: unsupported URL scheme 'ftp' ...
    """
    from twostream_lab.data.paths import atomic_file, cache_dir, remove_stale_temporaries

    scheme = urllib.parse.urlsplit(url).scheme.lower()
    if scheme not in ("http", "https"):
        raise VideoError(
            f"{url}: unsupported URL scheme {scheme!r}; read_video downloads http:// and https:// "
            "addresses only. Download the file yourself and pass its local path."
        )
    if deadline is not None:
        deadline = positive_number(deadline, "deadline", unit="seconds")
    folder = cache_dir("videos")
    remove_stale_temporaries(folder, (_LEGACY_DOWNLOAD_TEMP,))
    digest = hashlib.sha256(url.encode()).hexdigest()[:16]
    target = folder / f"{digest}-{_url_file_name(url)}"
    if target.is_file():
        if _decodes(target):
            return target
        target.unlink(missing_ok=True)  # not a video (cached by an older version): fetch again
    began = time.monotonic()
    request = urllib.request.Request(url, headers={"User-Agent": "twostream-lab"})
    try:
        with (
            urllib.request.urlopen(request, timeout=timeout) as response,
            atomic_file(target, suffix=f".part{target.suffix}") as tmp,
        ):
            content_type = (response.headers.get_content_type()
                            if "Content-Type" in response.headers else "no Content-Type")
            if content_type in ("text/html", "application/xhtml+xml"):
                raise _web_page(url, content_type)
            declared = response.headers.get("Content-Length")
            declared = int(declared) if declared and declared.isdigit() else None
            if declared is not None and declared > max_bytes:
                raise _too_large(url, _format_bytes(declared), max_bytes)
            allowed = deadline if deadline is not None else default_deadline(
                declared if declared is not None else max_bytes)
            received = 0
            with open(tmp, "wb") as file:
                while chunk := response.read1(1 << 20):
                    received += len(chunk)
                    if received > max_bytes:
                        raise _too_large(url, f"more than {_format_bytes(max_bytes)}", max_bytes)
                    file.write(chunk)
                    if time.monotonic() - began > allowed:
                        raise _past_deadline(url, allowed, received, declared,
                                             explicit=deadline is not None)
            if declared is not None and received != declared:
                raise VideoError(
                    f"{url}: the download stopped after {received} of {declared} bytes; try again"
                )
            _check_is_video(url, tmp, content_type, received)
    except urllib.error.HTTPError as error:
        raise VideoError(
            f"{url}: the server answered HTTP {error.code} ({error.reason}); check the address"
        ) from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise VideoError(
            f"{url}: could not download it ({reason}); check the address and the connection "
            f"(timeout {timeout:g} s), or download the file yourself and pass its path"
        ) from None
    return target


def default_deadline(size: int) -> float:
    """The default deadline of :func:`download_video` for ``size`` bytes, in seconds.

    One minute, or longer for a file that needs longer at :data:`DOWNLOAD_MIN_RATE` (100 KiB/s).

    Examples
    --------
    >>> default_deadline(5 * 2**20), default_deadline(200 * 2**20)
    (60.0, 2048.0)
    """
    return max(60.0, size / DOWNLOAD_MIN_RATE)


def _decodes(path: Path) -> bool:
    """Whether OpenCV opens ``path`` as a video and decodes its first frame."""
    import cv2

    capture = cv2.VideoCapture(str(path))
    try:
        return bool(capture.isOpened() and capture.read()[0])
    finally:
        capture.release()


def _check_is_video(url: str, path: Path, content_type: str, size: int) -> None:
    """Raise :class:`VideoError` unless the downloaded file ``path`` decodes as a video."""
    with open(path, "rb") as file:
        head = file.read(1024)
    if looks_like_html(head):
        raise _web_page(url, content_type)
    if not _decodes(path):
        raise VideoError(
            f"{url}: the download ({_format_bytes(size)}, {content_type}) is not a video OpenCV "
            "can decode, so it was not kept. Check that the address is the video file itself; "
            "or download the file, convert it to H.264 mp4 (ffmpeg -i IN -c:v libx264 OUT.mp4) "
            "and pass its path"
        )


def _web_page(url: str, content_type: str) -> VideoError:
    return VideoError(
        f"{url}: the server sent a web page, not a video ({content_type}), so nothing was kept: "
        "the address is probably a page that shows the video. Use the address of the video file "
        "itself (right-click the video and copy its address; it often ends in .mp4), or "
        "download the video and pass its path"
    )


def _past_deadline(url: str, allowed: float, received: int, declared: int | None, *,
                   explicit: bool) -> VideoError:
    got = _format_bytes(received) + ("" if declared is None else f" of {_format_bytes(declared)}")
    which = "the deadline=" if explicit else "the default deadline"
    return VideoError(
        f"{url}: the download did not finish within {which} of {allowed:g} s (only {got} "
        "arrived): the server is too slow. Try again later, pass a larger "
        "read_video(..., deadline=SECONDS), or download the file yourself and pass its path"
    )


def _too_large(url: str, size: str, max_bytes: int) -> VideoError:
    return VideoError(
        f"{url}: the download is {size}, over the limit of {_format_bytes(max_bytes)}; pass a "
        "larger read_video(..., download_limit=...) if you really want this file"
    )
