"""Both streams ready to predict: the pretrained UCF101 models, your own .h5 files, or the demo.

The pretrained weights (mohammed-elkomy's two-stream Xception models, trained on UCF101
split 1 with TensorFlow 1.11) are two zips on Google Drive, one per stream, each holding
``<stream>.h5`` (the TF1 model with its optimizer state), ``<stream>.log`` and
``<stream>.preds`` (see :mod:`twostream_lab.evaluation`). :func:`fetch_pretrained` downloads a
zip with gdown (through pooch, so the file only appears under its final name once complete),
checks its size and every member's CRC, extracts it into a temporary folder, checks the
``.h5`` structure and only then moves the folder into ``cache_dir("pretrained")``. A partial or
damaged download is never taken for a cached one, and nothing of a failed attempt stays in the
cache.

Google Drive sometimes answers with a web page instead of the file (download quota exceeded).
Then, or when offline, the error says how to download by hand and pass local paths::

    load_two_stream(("/content/drive/MyDrive/spatial.h5", "/content/drive/MyDrive/motion.h5"))
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sys
import tempfile
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

import keras
import pooch

from .classes import UCF101_CLASSES
from .legacy import WeightsError, load_legacy_weights, read_weights_info
from .models import build_motion_model, build_spatial_model, stacked_frames_of
from .paths import cache_dir

__all__ = ["PRETRAINED", "GDriveDownloader", "PretrainedArchive", "PretrainedError",
           "PretrainedFiles", "TwoStream", "cached_pretrained", "cached_pretrained_files",
           "fetch_pretrained", "load_two_stream"]

#: Where a zip is downloaded from; ``{id}`` is the Google Drive file id. (Tests point this at
#: a server on 127.0.0.1.)
DOWNLOAD_URL = "https://drive.google.com/uc?id={id}"
#: The same file for a person with a browser.
MANUAL_URL = "https://drive.google.com/uc?id={id}"
#: Seconds to wait for the download server to accept a connection before calling it offline.
CONNECT_TIMEOUT = 5.0
SOURCES = ("pretrained", "demo", "local")
_STAMP = "complete.json"


class PretrainedError(RuntimeError):
    """The pretrained weights could not be downloaded, verified or found."""


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


def _by_hand() -> str:
    spatial, motion = PRETRAINED["spatial"], PRETRAINED["motion"]
    return (
        f"To get the weights by hand, download the spatial zip ({spatial.manual_url}) and the "
        f"motion zip ({motion.manual_url}) in a browser (or add them to your own Google Drive "
        "and mount it in Colab: `from google.colab import drive; "
        "drive.mount('/content/drive')`), unzip them, and pass the two .h5 files: "
        "load_two_stream(('/content/drive/MyDrive/spatial.h5', "
        "'/content/drive/MyDrive/motion.h5')). Without any download, load_two_stream('demo') "
        "gives the offline demo models.")


# ---------------------------------------------------------------------------------------------
# download


def _check_reachable(url: str, timeout: float) -> None:
    """Fail within ``timeout`` seconds if the server of ``url`` does not accept a connection
    (DNS included, which sockets alone cannot time out)."""
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
        reason = outcome.get("error") or f"no answer within {timeout:g} s"
        raise PretrainedError(f"cannot reach {address[0]} ({reason}): this machine seems to be "
                              "offline")


@dataclass
class GDriveDownloader:
    """A pooch downloader that fetches with gdown (Google Drive's confirmation pages and
    cookies handled), after a quick reachability check so that offline fails fast.

    Any callable ``downloader(url, output_file, pooch)`` that writes the file can replace it
    in :func:`fetch_pretrained`.
    """

    progress: bool = True
    timeout: float | None = None  # seconds to connect; None: CONNECT_TIMEOUT

    def __call__(self, url: str, output_file, pooch_obj=None, check_only: bool = False) -> None:
        _check_reachable(url, CONNECT_TIMEOUT if self.timeout is None else self.timeout)
        import gdown
        from gdown.exceptions import FileURLRetrievalError

        output = Path(output_file)
        work = Path(tempfile.mkdtemp(prefix=".gdown-", dir=output.parent))
        try:
            result = gdown.download(url, str(work / "download"), quiet=not self.progress)
            if result is None:
                raise PretrainedError(f"gdown could not download {url}")
            os.replace(work / "download", output)
        except FileURLRetrievalError as exc:
            raise PretrainedError(
                "Google Drive did not hand out the file: it shows a page instead when the "
                "file's download quota is used up ('Too many users have viewed or downloaded "
                f"this file recently'; try again in a few hours). gdown said: {exc}") from exc
        finally:
            shutil.rmtree(work, ignore_errors=True)


def _download(archive: PretrainedArchive, zip_path: Path, downloader, progress: bool) -> None:
    url = DOWNLOAD_URL.format(id=archive.drive_id)
    if progress:
        print(f"Downloading the pretrained {archive.stream} stream ({archive.zip_name}, "
              f"{archive.size / 1e6:.0f} MB) into {zip_path.parent}", file=sys.stderr)
    logger = pooch.get_logger()
    level = logger.level
    logger.setLevel("WARNING")  # pooch would log the SHA256 and the URL at INFO level
    try:
        pooch.retrieve(url, known_hash=None, fname=zip_path.name, path=zip_path.parent,
                       downloader=downloader or GDriveDownloader(progress=progress))
    except (OSError, PretrainedError) as exc:
        raise PretrainedError(f"Could not download the pretrained {archive.stream} weights from "
                              f"{url}: {exc}.\n{_by_hand()}") from exc
    finally:
        logger.setLevel(level)


def _looks_like_html(head: bytes) -> bool:
    text = head.lstrip().lower()
    return text.startswith((b"<!doctype html", b"<html", b"<head", b"<body")) or b"<html" in text


def _check_zip(zip_path: Path, archive: PretrainedArchive) -> None:
    size = zip_path.stat().st_size
    with open(zip_path, "rb") as file:
        head = file.read(4096)
    if _looks_like_html(head):
        raise PretrainedError(
            f"The download of {archive.zip_name} is a web page ({size:,} bytes), not the zip: "
            "Google Drive sends a page instead of the file when its download quota is used up "
            "or it wants a confirmation.\n" + _by_hand())
    if size != archive.size:
        raise PretrainedError(
            f"The download of {archive.zip_name} has {size:,} bytes instead of "
            f"{archive.size:,}: it is incomplete or another file. Run again to retry.\n"
            + _by_hand())
    try:
        with zipfile.ZipFile(zip_path) as zipped:
            damaged = zipped.testzip()
    except (zipfile.BadZipFile, OSError) as exc:
        raise PretrainedError(f"The download of {archive.zip_name} is not a valid zip ({exc}). "
                              "Run again to retry.\n" + _by_hand()) from exc
    if damaged is not None:
        raise PretrainedError(f"{damaged} in the download of {archive.zip_name} fails its CRC "
                              "check: the download is damaged. Run again to retry.\n"
                              + _by_hand())


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


def _extract(zip_path: Path, archive: PretrainedArchive, root: Path) -> PretrainedFiles:
    """Extract the known members into a temporary folder, verify, then move it into place."""
    work = Path(tempfile.mkdtemp(prefix=f".{archive.stream}-", dir=root))
    try:
        sizes = {}
        with zipfile.ZipFile(zip_path) as zipped:
            members = {PurePosixPath(info.filename).name: info for info in zipped.infolist()
                       if not info.is_dir()}
            if archive.members[0] not in members:
                raise PretrainedError(
                    f"{archive.zip_name} holds no {archive.members[0]} (it holds "
                    f"{sorted(members)}): it is not the pretrained {archive.stream} zip.\n"
                    + _by_hand())
            for name in archive.members:
                if name in members:  # only these names are written: no path from the zip
                    with zipped.open(members[name]) as src, open(work / name, "wb") as dst:
                        shutil.copyfileobj(src, dst, 1 << 20)
                    sizes[name] = members[name].file_size
        _verify_h5(work / archive.members[0], archive)
        (work / _STAMP).write_text(json.dumps({"zip": archive.zip_name, "zip_size": archive.size,
                                               "files": sizes}))
        final = root / archive.stream
        shutil.rmtree(final, ignore_errors=True)
        os.replace(work, final)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return _files(archive, final)


def _files(archive: PretrainedArchive, folder: Path) -> PretrainedFiles:
    h5, log, preds = (folder / name for name in archive.members)
    return PretrainedFiles(archive.stream, folder, h5, log if log.is_file() else None,
                           preds if preds.is_file() else None)


def _cached(archive: PretrainedArchive) -> PretrainedFiles | None:
    """The cached files if they are complete and the .h5 verifies, else None."""
    folder = cache_dir("pretrained", create=False) / archive.stream
    try:
        stamp = json.loads((folder / _STAMP).read_text())
        if stamp["zip_size"] != archive.size or archive.members[0] not in stamp["files"]:
            return None
        if any((folder / name).stat().st_size != size for name, size in stamp["files"].items()):
            return None
        _verify_h5(folder / archive.members[0], archive)
    except (OSError, ValueError, KeyError, TypeError, PretrainedError):
        return None
    return _files(archive, folder)


def fetch_pretrained(stream: str, *, downloader=None, progress: bool = True) -> PretrainedFiles:
    """Return one stream's pretrained files, downloading and verifying them on first use.

    Parameters
    ----------
    stream : {"spatial", "motion"}
    downloader : callable, optional
        A pooch downloader ``(url, output_file, pooch)``; by default :class:`GDriveDownloader`.
    progress : bool
        Show download progress.

    Returns
    -------
    PretrainedFiles
        ``.h5``, ``.log`` and ``.preds`` in ``cache_dir("pretrained", stream)``.

    Raises
    ------
    PretrainedError
        Offline (within a few seconds), Google Drive's quota page, a wrong size, a damaged zip,
        no ``.h5`` in it, or an ``.h5`` of another model. The message says how to download by
        hand and pass local paths to :func:`load_two_stream`.

    Examples
    --------
    >>> files = fetch_pretrained("spatial")  # doctest: +SKIP
    >>> files.h5.name, files.preds.name  # doctest: +SKIP
    ('spatial.h5', 'spatial.preds')
    """
    archive = _archive(stream)
    cached = _cached(archive)
    if cached is not None:
        return cached
    root = cache_dir("pretrained")
    shutil.rmtree(root / archive.stream, ignore_errors=True)  # an incomplete or damaged copy
    zip_path = root / archive.zip_name
    try:
        zip_path.unlink(missing_ok=True)  # a download is only kept until it is extracted
        _download(archive, zip_path, downloader, progress)
        _check_zip(zip_path, archive)
        return _extract(zip_path, archive, root)
    finally:
        zip_path.unlink(missing_ok=True)


def cached_pretrained() -> dict[str, PretrainedFiles | None]:
    """Which pretrained streams are in the cache, complete and verified (None: not cached).

    Examples
    --------
    >>> cached_pretrained()  # doctest: +SKIP
    {'spatial': PretrainedFiles(stream='spatial', ...), 'motion': None}
    """
    return {stream: _cached(archive) for stream, archive in PRETRAINED.items()}


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


# ---------------------------------------------------------------------------------------------
# both streams


@dataclass
class TwoStream:
    """The two streams and the names of their output classes.

    Attributes
    ----------
    spatial, motion : keras.Model
        Frame model (input ``(N, H, W, 3)``) and flow-stack model (input ``(N, H, W, 2L)``),
        both in [0, 1].
    class_names : tuple of str
        Name of each output index.
    source : {"pretrained", "demo", "local"}
    """

    spatial: keras.Model
    motion: keras.Model
    class_names: tuple[str, ...]
    source: str

    def __post_init__(self) -> None:
        self.class_names = tuple(self.class_names)
        if self.source not in SOURCES:
            raise ValueError(f"source must be one of {SOURCES}; got {self.source!r}")
        for stream, model in (("spatial", self.spatial), ("motion", self.motion)):
            outputs = model.output_shape[-1]
            if outputs != len(self.class_names):
                raise ValueError(f"the {stream} model has {outputs} outputs but "
                                 f"{len(self.class_names)} class names were given")

    @property
    def is_demo(self) -> bool:
        """True for the offline demo models (synthetic classes, not UCF101)."""
        return self.source == "demo"

    @property
    def stacked_frames(self) -> int:
        """Flow frames per motion input (input channels // 2)."""
        return stacked_frames_of(self.motion)

    def __repr__(self) -> str:
        def shape(model: keras.Model) -> str:
            return "x".join(str(d) for d in model.input_shape[1:])

        return (f"TwoStream(source={self.source!r}, {len(self.class_names)} classes, "
                f"spatial={self.spatial.name} {shape(self.spatial)}, "
                f"motion={self.motion.name} {shape(self.motion)})")


def _load_local(spatial_h5, motion_h5, class_names) -> TwoStream:
    spatial_info, motion_info = read_weights_info(spatial_h5), read_weights_info(motion_h5)
    channels = (spatial_info.input_channels, motion_info.input_channels)
    if channels[0] != 3 and channels[1] == 3:
        raise ValueError(f"{spatial_h5} is a motion model ({channels[0]} input channels) and "
                         f"{motion_h5} a spatial one: pass (spatial_h5, motion_h5)")
    if channels[0] != 3:
        raise ValueError(f"{spatial_h5} should be a spatial two-stream model (a data_norm layer "
                         f"over 3 RGB channels); it has {channels[0]} input channels")
    if channels[1] is None or channels[1] % 2:
        raise ValueError(f"{motion_h5} should be a motion two-stream model (a data_norm layer "
                         f"over 2L flow channels); it has {channels[1]} input channels")
    num_classes = spatial_info.num_classes
    if num_classes is None or motion_info.num_classes != num_classes:
        raise ValueError(f"the two files have {num_classes} and {motion_info.num_classes} "
                         "output classes; they must be the two streams of one model")
    if class_names is None:
        if num_classes != len(UCF101_CLASSES):
            raise ValueError(f"the models have {num_classes} classes, not UCF101's "
                             f"{len(UCF101_CLASSES)}: pass class_names")
        class_names = UCF101_CLASSES
    spatial = load_legacy_weights(build_spatial_model(num_classes=num_classes), spatial_h5)
    motion = load_legacy_weights(build_motion_model(channels[1] // 2, num_classes=num_classes),
                                 motion_h5)
    return TwoStream(spatial, motion, tuple(class_names), "local")


def load_two_stream(source="pretrained", *, class_names=None, downloader=None,
                    progress: bool = True) -> TwoStream:
    """Return both streams ready to predict, with their class names.

    Parameters
    ----------
    source : "pretrained", "demo" or (spatial_h5, motion_h5)
        ``"pretrained"``: the UCF101 models, downloaded into the cache on first use (about
        470 MB). ``"demo"``: the small offline models trained on synthetic clips. A pair of
        paths: your own weights files (TF1 / Keras ``.h5`` or ``.weights.h5``) of the two
        architectures; the number of stacked frames and of classes is read from the files.
    class_names : sequence of str, optional
        For a pair of paths whose models do not have UCF101's 101 classes.
    downloader, progress
        Passed to :func:`fetch_pretrained`.

    Examples
    --------
    >>> models = load_two_stream("pretrained")  # doctest: +SKIP
    >>> models.class_names[:2], models.stacked_frames  # doctest: +SKIP
    (('ApplyEyeMakeup', 'ApplyLipstick'), 10)
    """
    if isinstance(source, tuple | list) and len(source) == 2:
        return _load_local(source[0], source[1], class_names)
    if class_names is not None:
        raise ValueError("class_names is only for a (spatial_h5, motion_h5) pair: the "
                         f"{source!r} models come with their own")
    if isinstance(source, str) and source == "pretrained":
        spatial_files = fetch_pretrained("spatial", downloader=downloader, progress=progress)
        motion_files = fetch_pretrained("motion", downloader=downloader, progress=progress)
        spatial = load_legacy_weights(build_spatial_model(), spatial_files.h5)
        motion = load_legacy_weights(build_motion_model(), motion_files.h5)
        return TwoStream(spatial, motion, UCF101_CLASSES, "pretrained")
    if isinstance(source, str) and source == "demo":
        from .demo_models import load_demo_models
        from .synthetic import SYNTHETIC_CLASSES

        spatial, motion = load_demo_models()
        return TwoStream(spatial, motion, tuple(SYNTHETIC_CLASSES), "demo")
    raise ValueError(f"source must be 'pretrained', 'demo' or a (spatial_h5, motion_h5) pair; "
                     f"got {source!r}")
