"""The flow cache: keys, checksummed entries written row by row, and the cache folder (whose
stale temporary files :func:`~twostream_lab.flow.compute_flow` removes).
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
import zipfile
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from twostream_lab.data.paths import atomic_file
from twostream_lab.flow.frames import _GreyFrames
from twostream_lab.flow.methods import FlowMethod, _implementation_version

_CACHE_FORMAT = 2  # bump when what is cached for the same key changes
# Temporary cache files of versions before paths.TEMP_PREFIX: ".<cache key>.npz-<random>.tmp".
_LEGACY_CACHE_TEMP = "." + "[0-9a-f]" * 40 + ".npz-*.tmp"

# Quantised flow frames: an (N, H, W) array or a sequence of N (H, W) rows.
_Rows = np.ndarray | Sequence[np.ndarray]


def _cache_key(grey: _GreyFrames, num_frames: int, spec: FlowMethod, bound: float) -> str:
    """The key of a clip's flow: its grey frames at the flow size (all that a flow method sees)
    and every setting that changes the result.

    Keying on the grey frames rather than on the colour ones lets clips that differ only in
    colour share one entry: the red and blue synthetic clips of a direction have identical grey
    frames (:mod:`twostream_lab.offline_lab.synthetic`), so their flow is computed once.
    """
    description = json.dumps({
        "format": _CACHE_FORMAT, "method": spec.name, "params": dict(spec.params),
        "implementation": _implementation_version(spec), "bound": bound,
        "shape": [num_frames, *grey.size],
    }, sort_keys=True)
    digest = hashlib.sha256(description.encode())
    for index in range(num_frames):  # frame by frame: the clip is never converted whole
        digest.update(np.ascontiguousarray(grey.frame(index)).data)
    return digest.hexdigest()[:40]


def _checksum(indices: np.ndarray, u: _Rows, v: _Rows, row_shape: tuple[int, int]) -> str:
    """SHA-256 of a cache entry; ``u`` and ``v`` are ``(N, H, W)`` arrays or sequences of ``N``
    ``(H, W)`` rows (the same digest either way)."""
    digest = hashlib.sha256()
    digest.update(str(indices.shape).encode())
    digest.update(np.ascontiguousarray(indices).data)
    for rows in (u, v):
        digest.update(str((len(rows), *row_shape)).encode())
        for row in rows:
            digest.update(np.ascontiguousarray(row).data)
    return digest.hexdigest()


def _load_entry(path: Path, num_flow: int, height: int, width: int):
    """``(indices, u, v)`` from a cache file, or ``None``; a damaged file is reported and removed."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            indices, u, v = data["indices"], data["u"], data["v"]
            stored = str(data["checksum"])
        if stored != _checksum(indices, u, v, (height, width)):
            raise ValueError("checksum mismatch")
        if (u.shape != v.shape or u.shape != (len(indices), height, width) or u.dtype != np.uint8
                or (len(indices) and (indices.min() < 0 or indices.max() >= num_flow))
                or np.any(np.diff(indices) <= 0)):
            raise ValueError("unexpected contents")
    except Exception as error:  # truncated zip, bad checksum, missing array, wrong shape
        warnings.warn(f"discarded the damaged flow cache file {path} ({type(error).__name__}: "
                      f"{error}); computing the flow again", RuntimeWarning, stacklevel=3)
        path.unlink(missing_ok=True)
        return None
    return indices, u, v


def _write_npz(file, arrays: Mapping[str, np.ndarray], rows: Mapping[str, _Rows],
               row_shape: tuple[int, int]) -> None:
    """Write a compressed ``.npz`` that ``np.load`` reads: ``arrays`` whole, and each of ``rows``
    (uint8 ``(H, W)`` rows) as one ``(N, H, W)`` array written row by row, never copied whole."""
    with zipfile.ZipFile(file, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        for name, array in arrays.items():
            with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, array, allow_pickle=False)
        for name, sequence in rows.items():
            header = {"descr": np.lib.format.dtype_to_descr(np.dtype(np.uint8)),
                      "fortran_order": False, "shape": (len(sequence), *row_shape)}
            with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
                np.lib.format.write_array_header_1_0(member, header)
                for row in sequence:
                    member.write(np.ascontiguousarray(row, np.uint8).data)


def _write_entry(path: Path, indices: np.ndarray, u: _Rows, v: _Rows,
                 row_shape: tuple[int, int]) -> None:
    """Write a cache file atomically (:func:`twostream_lab.data.paths.atomic_file`), row by row."""
    try:
        with atomic_file(path) as tmp, open(tmp, "wb") as file:
            checksum = np.array(_checksum(indices, u, v, row_shape))
            _write_npz(file, {"indices": indices, "checksum": checksum}, {"u": u, "v": v},
                       row_shape)
            file.flush()
            os.fsync(file.fileno())
    except OSError as error:
        warnings.warn(f"could not write the flow cache file {path} ({error}); the flow is "
                      "correct but will be computed again next time", RuntimeWarning, stacklevel=3)


def _store(path: Path, entry, todo: np.ndarray, u: np.ndarray, v: np.ndarray,
           start: int) -> None:
    """Write the entry's rows and the newly computed ``todo`` rows (of ``u``, ``v``) to ``path``."""
    old = entry[0] if entry is not None else np.zeros(0, np.int64)
    keep = np.flatnonzero(~np.isin(old, todo))
    indices = np.concatenate([old[keep], todo]).astype(np.int64)
    sources = [(entry[1], entry[2], int(k)) for k in keep]
    sources += [(u, v, int(j) - start) for j in todo]
    order = np.argsort(indices, kind="stable")
    _write_entry(path, indices[order], [sources[k][0][sources[k][2]] for k in order],
                 [sources[k][1][sources[k][2]] for k in order], u.shape[1:])


def _cache_folder(cache: bool | str | os.PathLike) -> Path | None:
    if cache is True:
        from twostream_lab.data.paths import cache_dir

        return cache_dir("flow")
    if cache is False or cache is None:
        return None
    folder = Path(cache).expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    return folder
