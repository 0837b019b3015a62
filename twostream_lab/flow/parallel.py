"""Running a flow method over frame pairs: in this process, in worker processes
(:func:`choose_workers`, :func:`_worker_loop`) or batched in TensorFlow.
"""

from __future__ import annotations

import math
import os
import threading
from pathlib import Path

import numpy as np

from twostream_lab.flow.frames import _GreyFrames
from twostream_lab.flow.methods import (
    _TVL1_TF_KEYWORDS,
    FLOW_METHODS,
    FlowMethod,
    _import_tvl1_tf,
    _opencv_flow_function,
    resolve_flow_method,
)
from twostream_lab.flow.types import FlowError

_CHUNK_BYTES = 32 * 2**20  # float32 flow per chunk a worker process computes (and returns)


def available_cores() -> int:
    """The CPU cores this process may run on (its affinity, where the system tells it).

    Examples
    --------
    >>> available_cores() >= 1
    True
    """
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def choose_workers(method: str, num_pairs: int, height: int = 240, width: int = 320) -> int:
    """The number of processes ``compute_flow(workers=None)`` uses (1 = this process only).

    The rule, from measurements of OpenCV's TV-L1 on 320x240 UCF101 pairs (see the README):
    OpenCV's own threads speed one process up 1.6x on 2 cores and 2.8x on 4, as much as worker
    processes do there, so up to 4 cores (e.g. Colab) the flow runs in this process. On 16 cores
    threads reach only 5.8x while 8 processes of 2 threads each reach 10.5x, so on more than 4
    cores jobs longer than about 20 s use ``cores // 2`` processes. TensorFlow's TV-L1 always
    runs in this process.

    Examples
    --------
    >>> choose_workers("dis", 249)
    1
    """
    spec = FLOW_METHODS[resolve_flow_method(method)]
    cores = available_cores()
    if spec.algorithm == "tensorflow-tvl1" or cores <= 4:
        return 1
    seconds = num_pairs * spec.seconds_per_pair * height * width / (320 * 240)
    if seconds < 20:
        return 1
    return max(1, min(cores // 2, num_pairs // 2))


def _flow_chunk(method: str, grey: np.ndarray) -> np.ndarray:
    """Flow of the consecutive pairs of ``grey`` ``(k + 1, H, W)``: float32 ``(k, H, W, 2)``."""
    calc = _opencv_flow_function(FLOW_METHODS[method])
    out = np.empty((len(grey) - 1, *grey.shape[1:], 2), np.float32)
    for i in range(len(grey) - 1):
        out[i] = calc(grey[i], grey[i + 1])
    return out


def _runs(indices: np.ndarray, size: int) -> list[np.ndarray]:
    """Split sorted indices into runs of consecutive values, each at most ``size`` long."""
    breaks = np.flatnonzero(np.diff(indices) != 1) + 1
    chunks = []
    for run in np.split(indices, breaks):
        chunks.extend(run[i:i + size] for i in range(0, len(run), size))
    return chunks


def _serial(spec: FlowMethod, grey: _GreyFrames, todo: np.ndarray):
    calc = _opencv_flow_function(spec)
    for j in todo:
        yield [(int(j), calc(grey.frame(j), grey.frame(j + 1)))]


def _worker_loop() -> None:
    """Body of a flow worker process: read pickled ``(method, grey)`` chunks, write flows.

    Started by :func:`_parallel` as ``python -c ... THREADS`` with pipes, so that no user code
    (a notebook, or a script without an ``if __name__ == "__main__"`` guard) runs again in it.
    """
    import pickle
    import sys

    import cv2

    cv2.setNumThreads(int(sys.argv[1]))
    results = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # stray prints (e.g. from a library) go to stderr, not into the results
    chunks = sys.stdin.buffer
    while True:
        try:
            method, grey = pickle.load(chunks)
        except EOFError:
            return
        pickle.dump(_flow_chunk(method, grey), results, protocol=pickle.HIGHEST_PROTOCOL)
        results.flush()


def _parallel(spec: FlowMethod, grey: _GreyFrames, todo: np.ndarray, workers: int):
    """Yield ``[(j, flow), ...]`` per chunk of pairs, computed by ``workers`` processes.

    A chunk's float32 flow is at most ``_CHUNK_BYTES`` (one pair if a pair is larger), and at most
    two chunks per worker are under way or waiting here, so memory does not grow with the video.
    """
    import pickle
    import queue
    import subprocess
    import sys

    threads = max(1, available_cores() // workers)
    pair_bytes = grey.size[0] * grey.size[1] * 2 * 4
    size = max(1, min(16, math.ceil(len(todo) / (4 * workers)), _CHUNK_BYTES // pair_bytes))
    jobs: queue.SimpleQueue = queue.SimpleQueue()
    for chunk in _runs(todo, size):
        jobs.put(chunk)
    count = min(workers, jobs.qsize())
    slots = threading.Semaphore(2 * count)  # chunks sent but not yet taken by the caller
    stop = threading.Event()
    env = dict(os.environ)
    package_root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    code = f"from {__name__} import _worker_loop; _worker_loop()"
    processes = [subprocess.Popen([sys.executable, "-c", code, str(threads)], env=env,
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE)
                 for _ in range(count)]
    results: queue.SimpleQueue = queue.SimpleQueue()

    def feed(process: subprocess.Popen) -> None:  # one thread per worker process
        try:
            while True:
                while not slots.acquire(timeout=0.1):
                    if stop.is_set():
                        return
                try:
                    chunk = jobs.get_nowait()
                except queue.Empty:
                    break
                pickle.dump((spec.name, grey.frames(range(chunk[0], chunk[-1] + 2))),
                            process.stdin, protocol=pickle.HIGHEST_PROTOCOL)
                process.stdin.flush()
                results.put((chunk, pickle.load(process.stdout)))
            results.put(None)
        except BaseException as error:  # the worker died: report it to the main thread
            results.put(error)

    feeders = [threading.Thread(target=feed, args=(p,), daemon=True) for p in processes]
    for feeder in feeders:
        feeder.start()
    finished = False
    try:
        running = count
        while running:
            item = results.get()
            if item is None:
                running -= 1
            elif isinstance(item, BaseException):
                raise FlowError(
                    f"a flow worker process stopped ({type(item).__name__}: {item}); see the "
                    "messages above, or pass workers=1 to compute in this process"
                ) from item
            else:
                chunk, flows = item
                yield list(zip(chunk.tolist(), flows))
                slots.release()
        finished = True
    finally:
        stop.set()
        for process in processes:
            if not finished:
                process.kill()
            for stream in (process.stdin, process.stdout):
                try:
                    stream.close()
                except OSError:
                    pass
            process.wait()
        for feeder in feeders:
            feeder.join(timeout=5)


def _tensorflow(spec: FlowMethod, grey: _GreyFrames, todo: np.ndarray):
    module = _import_tvl1_tf()
    keywords = {_TVL1_TF_KEYWORDS.get(k, k): v for k, v in spec.params.items()}
    batch = int(getattr(module, "default_batch_size", lambda: 16)())
    for i in range(0, len(todo), batch):
        chunk = todo[i:i + batch]
        flows = module.tvl1_flow_tf(grey.frames(chunk), grey.frames(chunk + 1), batch_size=batch,
                                    **keywords)
        yield list(zip(chunk.tolist(), flows))
