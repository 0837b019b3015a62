"""The entry point :func:`compute_flow`: checks, the cache, the pairs to compute, quantisation."""

from __future__ import annotations

import os
from typing import Iterable, Sequence

import numpy as np

from twostream_lab.checks import optional_positive_int
from twostream_lab.data.paths import remove_stale_temporaries
from twostream_lab.flow.cache import (
    _LEGACY_CACHE_TEMP,
    _cache_folder,
    _cache_key,
    _load_entry,
    _store,
)
from twostream_lab.flow.frames import _as_clip, _GreyFrames, _requested
from twostream_lab.flow.methods import FLOW_METHODS, _require_optflow, resolve_flow_method
from twostream_lab.flow.parallel import _parallel, _serial, _tensorflow, choose_workers
from twostream_lab.flow.types import Flow, _check_bound, quantize_flow
from twostream_lab.video import Video, short_side_size


def compute_flow(
    frames: Video | np.ndarray | Sequence[np.ndarray],
    *,
    method: str = "tvl1",
    bound: float = 20,
    workers: int | None = None,
    cache: bool | str | os.PathLike = True,
    progress: bool = True,
    frame_range: tuple[int, int] | range | None = None,
    pairs: Iterable[int] | None = None,
    short_side: int | None = None,
    return_raw: bool = False,
) -> Flow:
    """Optical flow between consecutive frames, quantised to uint8 ``u`` and ``v``.

    Parameters
    ----------
    frames : Video, or uint8 array (T, H, W, 3) RGB or (T, H, W) grey, or a list of frames
        The clip; at least 2 frames.
    method : str
        A key of :data:`FLOW_METHODS`: ``"tvl1"`` (OpenCV defaults, as the tutorial and the
        training data), ``"tvl1-fast"``, ``"dis"``, ``"farneback"``, ``"tvl1-tf"`` or
        ``"auto"`` (``"tvl1-tf"`` with a GPU, else ``"tvl1"``; ``Flow.method`` says which).
    bound : float
        Quantisation bound in pixels (:func:`quantize_flow`).
    workers : int, optional
        ``1``: this process (OpenCV uses its own threads); ``N > 1``: N worker processes over
        chunks of frame pairs, each with ``cores // N`` OpenCV threads; ``None``: chosen by
        :func:`choose_workers`. The result is byte-identical whatever the choice. The worker
        processes run only this module's code (no ``if __name__ == "__main__":`` guard is
        needed in scripts). ``"tvl1-tf"`` always runs in this process.
    cache : bool or path
        Reuse and store results in ``cache_dir("flow")`` (or the folder given), keyed by the
        grey frames that the method sees (so clips that differ only in colour share an entry)
        and every parameter that changes the result. Damaged entries are detected (checksum),
        removed and recomputed. Temporary files that killed runs left in the folder more than
        an hour ago are removed.
    progress : bool
        Show a progress bar (:func:`twostream_lab.progress.progress_bar`) over the pairs that
        are computed.
    frame_range : (first, stop), optional
        Only video frames ``first..stop-1``: flow frames ``first..stop-2``, returned with
        ``Flow.start == first``. E.g. ``(0, 11)`` gives the 10 flow frames of the first stack.
    pairs : iterable of int, optional
        Only these flow frame indices (e.g. :func:`stack_pairs` of sampled stacks). The result
        spans ``min(pairs)..max(pairs)`` (``Flow.start == min(pairs)``); rows outside ``pairs``
        hold level 128 and ``Flow.computed`` marks the computed ones.
    short_side : int, optional
        Resize frames to this short side first (256 for flow like the training data's). The
        flow then has the resized frame size, in pixels of the resized frames.
    return_raw : bool
        Also keep the float32 flow in pixels as ``Flow.raw`` (not cached: it is computed). It
        takes 8 bytes per pixel per flow frame, 4x ``u`` and ``v`` together: 2.3 GiB for 300
        frames of 1920x1080, so ask for it on short clips or a ``frame_range``.

    Returns
    -------
    Flow

    Raises
    ------
    FlowError
        The method cannot run here (no ``cv2.optflow`` for TV-L1; no TensorFlow for tvl1-tf).

    Examples
    --------
    >>> clip = np.random.default_rng(0).integers(0, 256, (3, 32, 40, 3), dtype=np.uint8)
    >>> flow = compute_flow(clip, method="dis", cache=False, progress=False)
    >>> flow.u.shape, flow.u.dtype, flow.method
    ((2, 32, 40), dtype('uint8'), 'dis')
    """
    clip, name = _as_clip(frames)
    num_flow = len(clip) - 1
    if num_flow < 1:
        raise ValueError(f"{name}: optical flow needs at least 2 frames, got {len(clip)}")
    bound = _check_bound(bound)
    workers = optional_positive_int(workers, "workers")
    chosen = resolve_flow_method(method)
    spec = FLOW_METHODS[chosen]
    if spec.algorithm == "opencv-tvl1":
        _require_optflow(chosen)
    start, stop, wanted = _requested(frame_range, pairs, num_flow)
    height, width = short_side_size(*clip.shape[1:3], short_side)

    rows = stop - start
    grey = _GreyFrames(clip, (height, width))
    folder = _cache_folder(cache)
    entry = None
    if folder is not None:
        remove_stale_temporaries(folder, (_LEGACY_CACHE_TEMP,))
        path = folder / f"{_cache_key(grey, len(clip), spec, bound)}.npz"
        entry = _load_entry(path, num_flow, height, width)
    if entry is not None and not return_raw and len(wanted) == rows:
        first, last = np.searchsorted(entry[0], [start, stop])
        if last - first == rows:  # every row is cached: the entry's arrays are the result
            u, v = entry[1][first:last], entry[2][first:last]
            if rows < len(entry[0]):  # do not keep the rest of the entry alive
                u, v = u.copy(), v.copy()
            return Flow(u=u, v=v, method=chosen, bound=bound, start=start)

    u = np.full((rows, height, width), 128, np.uint8)
    v = np.full((rows, height, width), 128, np.uint8)
    done = np.zeros(rows, bool)
    raw = np.full((rows, height, width, 2), np.nan, np.float32) if return_raw else None
    if entry is not None and not return_raw:
        for position in np.flatnonzero(np.isin(entry[0], wanted)):  # row by row: no copies
            row = int(entry[0][position]) - start
            u[row], v[row] = entry[1][position], entry[2][position]
            done[row] = True

    todo = wanted[~done[wanted - start]]
    if len(todo):
        processes = 1  # the processes computing it: 1 is this one
        if spec.algorithm == "tensorflow-tvl1":  # always in this process, whatever `workers` says
            results = _tensorflow(spec, grey, todo)
        else:
            n_workers = choose_workers(chosen, len(todo), height, width) if workers is None \
                else int(workers)
            if n_workers > 1 and len(todo) > 1:
                processes = min(n_workers, len(todo))
                results = _parallel(spec, grey, todo, n_workers)
            else:
                results = _serial(spec, grey, todo)
        from twostream_lab.progress import progress_bar

        label = chosen if method == chosen else f"{method}: {chosen}"
        if processes > 1:
            label += f", {processes} processes"
        with progress_bar(total=len(todo), desc=f"Optical flow ({label})", unit="pair",
                          enabled=progress) as bar:
            for batch in results:
                for j, flow in batch:  # quantised pair by pair, as it arrives
                    row = j - start
                    u[row] = quantize_flow(flow[..., 0], bound=bound)
                    v[row] = quantize_flow(flow[..., 1], bound=bound)
                    done[row] = True
                    if raw is not None:
                        raw[row] = flow
                bar.update(len(batch))
        if folder is not None:
            _store(path, entry, todo, u, v, start)

    computed = None if done.all() else done
    return Flow(u=u, v=v, method=chosen, bound=bound, start=start, computed=computed, raw=raw)
