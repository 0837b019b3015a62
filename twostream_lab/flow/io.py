"""Flow files: :func:`save_flow` and :func:`load_flow` (what ``twostream-lab flow ... --out`` writes)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from twostream_lab.data.paths import atomic_file
from twostream_lab.flow.types import Flow

_FLOW_FORMAT = "twostream-lab-flow/1"  # save_flow files


def save_flow(path: str | os.PathLike, flow: Flow) -> Path:
    """Write ``flow`` (u, v, method, bound, start, computed; not ``raw``) to a ``.npz`` file.

    Examples
    --------
    >>> save_flow("flow.npz", flow)  # doctest: +SKIP
    PosixPath('flow.npz')
    """
    path = Path(path).expanduser()
    if path.suffix != ".npz":
        path = path.with_name(path.name + ".npz")  # what np.savez would do silently
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {"format": np.array(_FLOW_FORMAT), "u": flow.u, "v": flow.v,
              "method": np.array(flow.method), "bound": np.array(flow.bound),
              "start": np.array(flow.start)}
    if flow.computed is not None:
        arrays["computed"] = flow.computed
    with atomic_file(path) as tmp, open(tmp, "wb") as file:
        np.savez_compressed(file, **arrays)
    return path


def load_flow(path: str | os.PathLike) -> Flow:
    """Read a file written by :func:`save_flow` (or ``twostream-lab flow ... --out``).

    Examples
    --------
    >>> load_flow("flow.npz").u.dtype  # doctest: +SKIP
    dtype('uint8')
    """
    path = Path(path).expanduser()
    try:
        with np.load(path, allow_pickle=False) as data:
            if "format" not in data or str(data["format"]) != _FLOW_FORMAT:
                raise ValueError("not a twostream-lab flow file")
            return Flow(u=data["u"], v=data["v"], method=str(data["method"]),
                        bound=float(data["bound"]), start=int(data["start"]),
                        computed=data["computed"] if "computed" in data else None)
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no such flow file; check the path") from None
    except Exception as error:
        raise ValueError(f"{path}: cannot read it as a twostream-lab flow file ({error}); write "
                         "one with save_flow or `twostream-lab flow VIDEO --out FILE.npz`") from None
