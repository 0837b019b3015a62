"""What the notebooks do differently in Google Colab: the Drive cache and Colab's uploader.

:func:`keep_cache_in_drive`
    Each Colab notebook runs on a fresh machine, so without it every notebook downloads the
    pretrained weights (470 MB) again. With it, the cache (weights, downloaded videos, flow)
    lives in the student's Google Drive and the weights come down once per student.
:func:`upload_video`
    ipywidgets' ``FileUpload`` drops files over about 1 MB in Colab
    (jupyter-widgets/ipywidgets#3452), and most videos are larger; Colab's own
    ``google.colab.files.upload()`` has no such limit.

Outside Colab neither is needed: the cache folder is already on the local disk, and the video
picker's upload button works. Recording from the webcam, which needs Colab's browser side too, is
in :mod:`twostream_lab.notebook.webcam`.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from twostream_lab.data.paths import (
    CACHE_ENV,
    DATA_ENV,
    atomic_file,
    cache_dir,
    data_dir,
    in_colab,
)

__all__ = ["DRIVE_CACHE_FOLDER", "in_colab", "keep_cache_in_drive", "save_upload",
           "upload_video"]

#: The folder in "My Drive" that :func:`keep_cache_in_drive` uses.
DRIVE_CACHE_FOLDER = "twostream-lab-cache"


def _require_colab(what: str) -> None:
    if not in_colab():
        raise RuntimeError(f"{what} needs Google Colab (google.colab is not loaded here); "
                           "outside Colab the cache is already on this machine's disk")


def keep_cache_in_drive(folder: str = DRIVE_CACHE_FOLDER, *,
                        mountpoint: str | os.PathLike | None = None) -> Path:
    """Mount the student's Google Drive and keep the lab's cache in ``My Drive/<folder>``.

    The sample videos stay where they are (the local data folder, which the setup cell already
    filled); only the cache moves: pretrained weights, downloaded videos and cached flow.

    Parameters
    ----------
    folder : str
        The folder inside "My Drive".
    mountpoint : path, optional
        Where Drive is mounted; default ``drive`` in the working folder (``/content/drive`` in
        Colab, where the working folder is ``/content``).

    Returns
    -------
    Path
        The new cache folder (also in ``$TWOSTREAM_LAB_CACHE`` from now on).

    Examples
    --------
    >>> keep_cache_in_drive()  # doctest: +SKIP
    Mounted at /content/drive
    cache folder: /content/drive/MyDrive/twostream-lab-cache ...
    """
    _require_colab("keep_cache_in_drive()")
    from google.colab import drive

    mount = Path(mountpoint) if mountpoint is not None else Path.cwd() / "drive"
    os.environ.setdefault(DATA_ENV, str(data_dir()))  # the samples stay on the local disk
    drive.mount(str(mount))
    cache = mount / "MyDrive" / folder
    cache.mkdir(parents=True, exist_ok=True)
    os.environ[CACHE_ENV] = str(cache)
    print(f"cache folder: {cache} (weights and flow stay in your Google Drive for the next "
          "notebooks; delete the folder there to free the space)")
    return cache


def save_upload(name: str, content: bytes, folder: str | os.PathLike | None = None) -> Path:
    """Write an uploaded file into ``folder`` (default ``<cache>/uploads``) under a safe name.

    Examples
    --------
    >>> import tempfile
    >>> save_upload("../my clip.mp4", b"...", tempfile.mkdtemp()).name
    'my_clip.mp4'
    """
    folder = Path(folder) if folder is not None else cache_dir("uploads")
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(name).name).lstrip("._") or "upload.mp4"
    path = folder / safe
    with atomic_file(path, suffix=path.suffix) as tmp:
        tmp.write_bytes(bytes(content))
    return path


def upload_video(folder: str | os.PathLike | None = None) -> Path:
    """Ask for a video file with Colab's uploader and save it; returns its path.

    Colab's ``files.upload()`` also writes the file into the working folder; that copy is
    removed, so only the one in ``folder`` (default ``<cache>/uploads``) remains.

    Examples
    --------
    >>> path = upload_video()  # doctest: +SKIP
    """
    _require_colab("upload_video()")
    from google.colab import files

    uploaded = files.upload()
    if not uploaded:
        raise ValueError("no file was uploaded: run the cell again and choose a video file")
    name, content = next(iter(uploaded.items()))
    path = save_upload(name, content, folder)
    for uploaded_name in uploaded:  # Colab's copies in the working folder (only one is used)
        stray = Path.cwd() / uploaded_name
        if stray.is_file() and stray.resolve() != path.resolve():
            stray.unlink()
    return path
