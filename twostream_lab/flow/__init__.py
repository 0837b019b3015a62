"""Optical flow between consecutive frames, quantised to uint8 for the motion stream.

Flow frame ``j`` is the motion from video frame ``j`` to frame ``j + 1``: a clip of ``T`` frames
has ``T - 1`` flow frames, each split into a horizontal component ``u`` (positive to the right)
and a vertical one ``v`` (positive downwards), in pixels.

What the methods see (the tutorial's input, exactly): each RGB frame converted to grey with
``cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)``, which equals the tutorial's ``COLOR_BGR2GRAY`` on
OpenCV's BGR frames. The tutorial then divides by 255 and passes float32; OpenCV's TV-L1
multiplies float input by 255 again (it works on the 0..255 scale), so uint8 grey gives the same
flow bit for bit (checked in the tests). The uint8 frames are passed here: 4x less memory.

Quantisation (:func:`quantize_flow`) clips to ``[-bound, bound]`` (bound 20, as the training
flow) and maps that to ``0..255``, rounding half to even like OpenCV's ``saturate_cast``: zero
flow is level 127.5, which rounds to **128** (256 levels have no middle one: flow in
[0, 0.157] px is level 128, in [-0.157, 0) level 127). :func:`tutorial_cast` reproduces the tutorial's
``(255 * (f + 20) / 40).astype(np.uint8)``, which neither clips nor rounds: flow beyond +-20 px
wraps around (21 px becomes level 5, nearly -20 px).

Speed (measured, see ``benchmarks/bench_flow.py`` and the README): OpenCV's TV-L1 takes about
1-2.5 s per 320x240 pair on one core and already uses every core through OpenCV's threads, which
scale well up to 4 cores. ``workers=None`` therefore runs in this process on machines with up to
4 cores, and uses worker processes (each with 2 OpenCV threads) on bigger machines, where they
were 1.8x faster than threads alone on 16 cores. Results are byte-identical either way.

Memory: :func:`compute_flow` holds the clip's frames (given), its result (``u`` and ``v``, 2 bytes
per pixel per flow frame) and a bounded working set on top: frames are turned grey a pair (or a
worker's chunk, at most 32 MiB of flow) at a time, each pair's float32 flow is quantised as soon as
it arrives, and cache entries are read into the result and written from it row by row. No float32
array of the whole video's flow exists, unless asked for with ``return_raw=True``.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
import math
import os
import threading
import warnings
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np

from twostream_lab.data.paths import atomic_file, remove_stale_temporaries
from twostream_lab.video import Video, short_side_size

__all__ = [
    "FLOW_METHODS",
    "OPTFLOW_FIX",
    "Flow",
    "FlowError",
    "FlowMethod",
    "choose_workers",
    "compute_flow",
    "dequantize_flow",
    "flow_command",
    "grey_frames",
    "has_optflow",
    "load_flow",
    "quantize_flow",
    "resolve_flow_method",
    "save_flow",
    "stack_pairs",
    "tutorial_cast",
]

#: The command that gives a Python environment ``cv2.optflow`` (OpenCV's contrib modules).
#: Colab installs ``opencv-python``, ``opencv-python-headless`` and ``opencv-contrib-python``
#: over each other into the same ``cv2`` folder; whichever came last wins, and removing just one
#: of them deletes files the others need. So remove all of them, then install the contrib build.
OPTFLOW_FIX = (
    "pip uninstall -y opencv-python opencv-python-headless opencv-contrib-python "
    "opencv-contrib-python-headless && pip install opencv-contrib-python"
)

_FLOW_FORMAT = "twostream-lab-flow/1"  # save_flow files
_CACHE_FORMAT = 1  # bump when what is cached for the same key changes
# Temporary cache files of versions before paths.TEMP_PREFIX: ".<cache key>.npz-<random>.tmp".
_LEGACY_CACHE_TEMP = "." + "[0-9a-f]" * 40 + ".npz-*.tmp"
_CHUNK_BYTES = 32 * 2**20  # float32 flow per chunk a worker process computes (and returns)

# Quantised flow frames: an (N, H, W) array or a sequence of N (H, W) rows.
_Rows = np.ndarray | Sequence[np.ndarray]


class FlowError(RuntimeError):
    """Flow cannot be computed in this environment (e.g. ``cv2.optflow`` is missing)."""


@dataclass(frozen=True)
class FlowMethod:
    """One entry of :data:`FLOW_METHODS`.

    Attributes
    ----------
    name : str
        The name passed as ``method=``.
    algorithm : str
        ``"opencv-tvl1"``, ``"opencv-dis"``, ``"opencv-farneback"``, ``"tensorflow-tvl1"`` or
        ``"auto"`` (a choice between other methods).
    params : Mapping
        Every parameter that the algorithm uses (all of them are part of the cache key).
    description : str
        One line for people.
    seconds_per_pair : float
        Measured time for one 320x240 pair on one CPU core (used by ``workers=None``).
    """

    name: str
    algorithm: str
    params: Mapping[str, Any]
    description: str
    seconds_per_pair: float


#: OpenCV's ``DualTVL1OpticalFlow`` defaults: the tutorial's and the training flow's settings.
_TVL1 = {
    "tau": 0.25, "lambda": 0.15, "theta": 0.3, "scales": 5, "scale_step": 0.8, "warps": 5,
    "epsilon": 0.01, "inner_iterations": 30, "outer_iterations": 10, "gamma": 0.0,
    "median_filtering": 5,
}
_TVL1_SETTERS = {
    "tau": "setTau", "lambda": "setLambda", "theta": "setTheta", "scales": "setScalesNumber",
    "scale_step": "setScaleStep", "warps": "setWarpingsNumber", "epsilon": "setEpsilon",
    "inner_iterations": "setInnerIterations", "outer_iterations": "setOuterIterations",
    "gamma": "setGamma", "median_filtering": "setMedianFiltering",
}
_TVL1_TF_KEYWORDS = {"lambda": "lambda_", "scales": "nscales"}  # other names are the same

FLOW_METHODS: Mapping[str, FlowMethod] = MappingProxyType({
    "tvl1": FlowMethod(
        "tvl1", "opencv-tvl1", MappingProxyType(dict(_TVL1)),
        "OpenCV's TV-L1 (cv2.optflow.DualTVL1OpticalFlow) with its defaults: the tutorial's and "
        "the training data's flow. The slow, faithful one.",
        2.0,
    ),
    "tvl1-fast": FlowMethod(
        "tvl1-fast", "opencv-tvl1", MappingProxyType({**_TVL1, "epsilon": 0.02}),
        "TV-L1 that stops iterating earlier (epsilon 0.02 instead of 0.01): measured 2.5-3.4x "
        "faster, 0.23-0.29 px mean difference from tvl1 on UCF101, 93-95% of levels within +-2.",
        0.7,
    ),
    "dis": FlowMethod(
        "dis", "opencv-dis", MappingProxyType({"preset": "fast"}),
        "OpenCV's DIS flow, preset 'fast' (of the three presets the smallest mean difference "
        "from TV-L1, and 5x faster than 'medium'): milliseconds per pair, 0.6-1 px from tvl1.",
        0.003,
    ),
    "farneback": FlowMethod(
        "farneback", "opencv-farneback",
        MappingProxyType({"pyr_scale": 0.5, "levels": 3, "winsize": 15, "iterations": 3,
                          "poly_n": 5, "poly_sigma": 1.2, "flags": 0}),
        "OpenCV's Farneback flow (the classic OpenCV sample settings): tens of milliseconds per "
        "pair, about 0.9 px from tvl1.",
        0.02,
    ),
    "tvl1-tf": FlowMethod(
        "tvl1-tf", "tensorflow-tvl1", MappingProxyType(dict(_TVL1)),
        "TV-L1 with OpenCV's algorithm and defaults written in TensorFlow "
        "(twostream_lab.flow.tvl1_tf), batched over frame pairs; bit-identical to tvl1 on the CPU "
        "(measured on the UCF101 samples), about 2/3 of OpenCV's speed there, meant for a GPU.",
        2.4,
    ),
    "auto": FlowMethod(
        "auto", "auto", MappingProxyType({"gpu": "tvl1-tf", "otherwise": "tvl1"}),
        "tvl1-tf when TensorFlow sees a GPU, else tvl1; Flow.method records the choice.",
        0.0,
    ),
})

_DIS_PRESETS = {"ultrafast": "DISOPTICAL_FLOW_PRESET_ULTRAFAST",
                "fast": "DISOPTICAL_FLOW_PRESET_FAST", "medium": "DISOPTICAL_FLOW_PRESET_MEDIUM"}


@dataclass(frozen=True, eq=False)
class Flow:
    """Quantised optical flow of a clip.

    Attributes
    ----------
    u, v : ndarray of uint8, shape (N, H, W)
        Horizontal and vertical flow, quantised by :func:`quantize_flow` with ``bound``.
    method : str
        The method that computed it (for ``"auto"``, the method it chose).
    bound : float
        Flow of ``+-bound`` pixels maps to levels 255 and 0.
    start : int
        Row ``j`` of ``u``/``v`` is flow frame ``start + j`` of the video (from video frame
        ``start + j`` to ``start + j + 1``).
    computed : ndarray of bool, shape (N,), optional
        With ``compute_flow(..., pairs=...)``: which rows were computed; the others hold level
        128 (no motion). ``None`` when every row was computed.
    raw : ndarray of float32, shape (N, H, W, 2), optional
        The flow in pixels before quantisation (``compute_flow(..., return_raw=True)``);
        NaN in rows that were not computed.

    Examples
    --------
    >>> flow = Flow(np.full((2, 4, 5), 128, np.uint8), np.full((2, 4, 5), 128, np.uint8),
    ...             method="tvl1", bound=20)
    >>> flow.num_frames, flow.stop
    (2, 2)
    """

    u: np.ndarray
    v: np.ndarray
    method: str
    bound: float
    start: int = 0
    computed: np.ndarray | None = None
    raw: np.ndarray | None = None

    def __post_init__(self) -> None:
        for label, array in (("u", self.u), ("v", self.v)):
            if not isinstance(array, np.ndarray) or array.dtype != np.uint8 or array.ndim != 3:
                raise ValueError(f"Flow.{label} must be a uint8 array (N, H, W), got "
                                 f"{getattr(array, 'dtype', type(array).__name__)} "
                                 f"{getattr(array, 'shape', '')}")
        if self.u.shape != self.v.shape:
            raise ValueError(f"Flow.u and Flow.v differ in shape: {self.u.shape} vs {self.v.shape}")
        if self.computed is not None and self.computed.shape != (len(self.u),):
            raise ValueError(f"Flow.computed must have shape ({len(self.u)},), "
                             f"got {self.computed.shape}")

    @property
    def num_frames(self) -> int:
        """Number of flow frames held (rows of ``u`` and ``v``)."""
        return int(self.u.shape[0])

    @property
    def height(self) -> int:
        """Flow frame height in pixels."""
        return int(self.u.shape[1])

    @property
    def width(self) -> int:
        """Flow frame width in pixels."""
        return int(self.u.shape[2])

    @property
    def stop(self) -> int:
        """One past the last flow frame index held (``start + num_frames``)."""
        return self.start + self.num_frames

    def __repr__(self) -> str:
        done = "" if self.computed is None else f", computed={int(self.computed.sum())}"
        return (f"Flow(method={self.method!r}, bound={self.bound:g}, start={self.start}, "
                f"num_frames={self.num_frames}{done}, size={self.width}x{self.height})")


# --------------------------------------------------------------------------- quantisation


def _check_bound(bound: float) -> float:
    if isinstance(bound, bool) or not isinstance(bound, (int, float, np.number)) \
            or not math.isfinite(bound) or bound <= 0:
        raise ValueError(f"bound must be a positive number of pixels, got {bound!r}")
    return float(bound)


def quantize_flow(flow_xy: np.ndarray, *, bound: float = 20) -> np.ndarray:
    """Clip flow to ``[-bound, bound]`` pixels and map it to uint8 levels ``0..255``.

    ``level = rint(clip(f, -bound, bound) * 127.5 / bound + 127.5)`` in float32, where ``rint``
    rounds halves to even (as OpenCV's ``saturate_cast`` does): ``-bound -> 0``,
    ``0 -> 127.5 -> 128``, ``+bound -> 255``, and anything beyond the bound saturates. NaN (no
    estimate) is treated as zero flow.

    Parameters
    ----------
    flow_xy : array_like
        Flow in pixels, any shape (e.g. ``(H, W, 2)`` or one component ``(H, W)``).
    bound : float
        Clipping bound in pixels (20 for the pretrained models' training flow).

    Returns
    -------
    ndarray of uint8, the shape of ``flow_xy``

    Examples
    --------
    >>> quantize_flow(np.array([-30.0, -20.0, 0.0, 20.0, 30.0]))
    array([  0,   0, 128, 255, 255], dtype=uint8)
    """
    bound = _check_bound(bound)
    flow = np.asarray(flow_xy, dtype=np.float32)
    scaled = np.clip(flow, -bound, bound) * np.float32(127.5 / bound) + np.float32(127.5)
    if np.isnan(scaled).any():
        scaled = np.nan_to_num(scaled, nan=127.5)
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)


def dequantize_flow(levels: np.ndarray, *, bound: float = 20) -> np.ndarray:
    """Map uint8 levels back to pixels (float32): ``0 -> -bound``, ``255 -> +bound``.

    Level 128 maps to ``+bound / 255`` (+0.08 px for bound 20): one level is ``2 * bound / 255``
    pixels, so quantisation is exact to half of that.

    Examples
    --------
    >>> dequantize_flow(np.array([0, 255], np.uint8))
    array([-20.,  20.], dtype=float32)
    """
    bound = _check_bound(bound)
    return (np.asarray(levels, np.float32) * np.float32(2 * bound / 255) - np.float32(bound))


def tutorial_cast(flow_xy: np.ndarray, bound: float = 20) -> np.ndarray:
    """The tutorial's ``(255 * (f + 20) / 40).astype(np.uint8)``, which wraps instead of clipping.

    The cast truncates toward zero and keeps the low 8 bits, so 20.2 px becomes level 0 and
    -20.7 px level 252: fast motion turns into its opposite. That is what numpy's cast gives on
    x86-64 (where the tutorial ran); it is written out here so that it is the same on every
    machine (ARM CPUs saturate instead). Use it only to show the problem; use
    :func:`quantize_flow` for real work. Inside the bound it truncates where
    :func:`quantize_flow` rounds, e.g. zero flow is level 127 instead of 128.

    Examples
    --------
    >>> tutorial_cast(np.array([-20.0, 0.0, 19.9, 20.2, 21.0], np.float32))
    array([  0, 127, 254,   0,   5], dtype=uint8)
    """
    flow = np.asarray(flow_xy, dtype=np.float32)
    scaled = np.float32(255) * (flow + np.float32(bound)) / np.float32(2 * bound)
    return (np.trunc(scaled).astype(np.int64) % 256).astype(np.uint8)


# --------------------------------------------------------------------------- methods


def has_optflow() -> bool:
    """Whether ``cv2.optflow`` (OpenCV contrib, needed by TV-L1) is importable.

    Examples
    --------
    >>> has_optflow() in (True, False)
    True
    """
    try:
        import cv2
    except ImportError:
        return False
    return hasattr(getattr(cv2, "optflow", None), "DualTVL1OpticalFlow_create")


def _require_optflow(method: str) -> None:
    if not has_optflow():
        raise FlowError(
            f"flow method {method!r} needs cv2.optflow (OpenCV's contrib modules), but this "
            "OpenCV lacks them: another OpenCV package (opencv-python or "
            "opencv-python-headless) was installed over opencv-contrib-python. Fix it with\n"
            f"    {OPTFLOW_FIX}\n"
            "(in a notebook: put ! before pip, then restart the session), or pass "
            "method='dis' or 'farneback', which plain OpenCV has."
        )


def _check_method(method: str) -> FlowMethod:
    try:
        return FLOW_METHODS[method]
    except (KeyError, TypeError):
        raise ValueError(
            f"unknown flow method {method!r}; choose one of {', '.join(FLOW_METHODS)}"
        ) from None


@lru_cache(maxsize=1)
def _tensorflow_gpu_available() -> bool:
    """Whether TensorFlow is installed and sees a GPU (imports TensorFlow if installed)."""
    if importlib.util.find_spec("tensorflow") is None:
        return False
    try:
        import tensorflow as tf

        return bool(tf.config.list_physical_devices("GPU"))
    except Exception:  # a broken TensorFlow install: the OpenCV method still works
        return False


def _tvl1_tf_available() -> bool:
    return importlib.util.find_spec(f"{__package__}.tvl1_tf") is not None


def resolve_flow_method(method: str = "auto") -> str:
    """Return the method that ``method`` stands for: itself, or for ``"auto"`` the one it picks.

    ``"auto"`` picks ``"tvl1-tf"`` when TensorFlow sees a GPU (and ``twostream_lab.flow.tvl1_tf`` is
    present), else ``"tvl1"``. Checking for a GPU imports TensorFlow.

    Examples
    --------
    >>> resolve_flow_method("dis")
    'dis'
    """
    spec = _check_method(method)
    if spec.algorithm != "auto":
        return spec.name
    use_gpu = _tvl1_tf_available() and _tensorflow_gpu_available()
    return spec.params["gpu"] if use_gpu else spec.params["otherwise"]


def _implementation_version(spec: FlowMethod) -> str:
    """Version of the code that computes ``spec`` (part of the cache key)."""
    if spec.algorithm == "tensorflow-tvl1":
        module = _import_tvl1_tf()
        import tensorflow as tf

        return f"tvl1_tf {getattr(module, '__version__', '')} tensorflow {tf.__version__}"
    import cv2

    return f"opencv {cv2.__version__}"


def _import_tvl1_tf():
    try:
        return importlib.import_module(f"{__package__}.tvl1_tf")
    except ImportError as error:
        raise FlowError(
            f"flow method 'tvl1-tf' needs twostream_lab.flow.tvl1_tf and TensorFlow, which could not "
            f"be imported ({error}). Install TensorFlow (pip install 'twostream-lab[cpu]', or "
            "use Colab, which has it), or pass method='tvl1'."
        ) from error


def _opencv_flow_function(spec: FlowMethod) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """A function ``(prev_grey, next_grey) -> float32 (H, W, 2)`` for an OpenCV method.

    It makes a new OpenCV object for every pair, so that a pair's flow depends on its two
    frames only: OpenCV's DIS keeps state between ``calc`` calls (reusing one object changed
    the flow of later pairs by up to one quantisation level), which would make the result
    depend on which pairs were computed before, in which process. TV-L1 keeps none (a reused
    object, as in the tutorial, gives the same flow bit for bit). Creating one takes microseconds.
    """
    import cv2

    params = spec.params
    if spec.algorithm == "opencv-tvl1":
        _require_optflow(spec.name)
        setters = [(_TVL1_SETTERS[key], value) for key, value in params.items()]

        def tvl1(prev: np.ndarray, nxt: np.ndarray) -> np.ndarray:
            algorithm = cv2.optflow.DualTVL1OpticalFlow_create()
            for setter, value in setters:
                getattr(algorithm, setter)(value)
            return algorithm.calc(prev, nxt, None)

        return tvl1
    if spec.algorithm == "opencv-dis":
        preset = getattr(cv2, _DIS_PRESETS[params["preset"]])
        return lambda prev, nxt: cv2.DISOpticalFlow_create(preset).calc(prev, nxt, None)
    if spec.algorithm == "opencv-farneback":
        p = params
        return lambda prev, nxt: cv2.calcOpticalFlowFarneback(
            prev, nxt, None, p["pyr_scale"], p["levels"], p["winsize"], p["iterations"],
            p["poly_n"], p["poly_sigma"], p["flags"])
    raise ValueError(f"{spec.name!r} is not an OpenCV flow method")


# --------------------------------------------------------------------------- workers


def _available_cores() -> int:
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
    cores = _available_cores()
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

    threads = max(1, _available_cores() // workers)
    pair_bytes = grey.size[0] * grey.size[1] * 2 * 4
    size = max(1, min(16, math.ceil(len(todo) / (4 * workers)), _CHUNK_BYTES // pair_bytes))
    jobs: queue.SimpleQueue = queue.SimpleQueue()
    for chunk in _runs(todo, size):
        jobs.put(chunk)
    count = min(workers, jobs.qsize())
    slots = threading.Semaphore(2 * count)  # chunks sent but not yet taken by the caller
    stop = threading.Event()
    env = dict(os.environ)
    package_root = str(Path(__file__).resolve().parents[1])
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


# --------------------------------------------------------------------------- frames


def _as_clip(frames: Video | np.ndarray | Sequence[np.ndarray]) -> tuple[np.ndarray, str]:
    if isinstance(frames, Video):
        return frames.frames, frames.name
    clip = frames if isinstance(frames, np.ndarray) else np.stack([np.asarray(f) for f in frames])
    if clip.dtype != np.uint8 or not (clip.ndim == 4 and clip.shape[-1] == 3 or clip.ndim == 3):
        raise ValueError(
            "frames must be a Video, RGB uint8 frames (T, H, W, 3) or grey uint8 frames "
            f"(T, H, W); got {clip.dtype} {clip.shape}"
        )
    return clip, "clip"


class _GreyFrames:
    """A clip's frames in grey at the flow size, converted when asked for, never all at once."""

    def __init__(self, clip: np.ndarray, size: tuple[int, int]) -> None:
        self.clip = clip
        self.size = size
        self._last: tuple[int, np.ndarray] | None = None

    def frame(self, index: int) -> np.ndarray:
        """Frame ``index``. The last one asked for is kept, so that consecutive pairs convert
        each frame once."""
        if self._last is None or self._last[0] != index:
            self._last = (int(index), _grey_frame(self.clip[index], self.size))
        return self._last[1]

    def frames(self, indices: Iterable[int]) -> np.ndarray:
        """Frames ``indices`` as one array ``(N, H, W)``; safe to call from several threads."""
        indices = list(indices)
        out = np.empty((len(indices), *self.size), np.uint8)
        for k, index in enumerate(indices):
            out[k] = _grey_frame(self.clip[index], self.size)
        return out


def _grey_frame(frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    import cv2

    if frame.shape[:2] != size:  # resize the colour frame, then grey, as the training flow
        shrink = size[0] < frame.shape[0]
        frame = cv2.resize(frame, size[::-1],
                           interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
    return cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY) if frame.ndim == 3 else frame


def grey_frames(frames: Video | np.ndarray, *, short_side: int | None = None) -> np.ndarray:
    """The grey uint8 frames ``(T, H, W)`` that the flow methods see.

    RGB frames are converted with ``cv2.COLOR_RGB2GRAY`` (0.299 R + 0.587 G + 0.114 B), after
    resizing to ``short_side`` if given.

    Examples
    --------
    >>> grey_frames(np.full((2, 4, 6, 3), 200, np.uint8))[0, 0, 0]
    np.uint8(200)
    """
    clip, _ = _as_clip(frames)
    size = short_side_size(*clip.shape[1:3], short_side)
    return np.stack([_grey_frame(frame, size) for frame in clip])


def stack_pairs(starts: Iterable[int], stacked_frames: int = 10) -> np.ndarray:
    """The flow frame indices that motion stacks starting at ``starts`` need (sorted, unique).

    Pass the result as ``compute_flow(..., pairs=...)`` to compute only those.

    Examples
    --------
    >>> stack_pairs([0, 3, 20], stacked_frames=4).tolist()
    [0, 1, 2, 3, 4, 5, 6, 20, 21, 22, 23]
    """
    starts = np.asarray(list(starts), dtype=np.int64)
    if starts.size == 0:
        return np.zeros(0, np.int64)
    return np.unique((starts[:, None] + np.arange(stacked_frames)).ravel())


def _requested(frame_range, pairs, num_flow: int) -> tuple[int, int, np.ndarray]:
    """``(start, stop, wanted)``: the rows to return and the flow frame indices to compute."""
    if frame_range is not None and pairs is not None:
        raise ValueError("pass frame_range or pairs, not both")
    if pairs is not None:
        wanted = np.unique(np.asarray(list(pairs) if not isinstance(pairs, np.ndarray) else pairs,
                                      dtype=np.int64).ravel())
        if wanted.size == 0:
            raise ValueError("pairs is empty: name at least one flow frame index")
        if wanted[0] < 0 or wanted[-1] >= num_flow:
            raise ValueError(f"pairs must be flow frame indices in 0..{num_flow - 1} "
                             f"(the clip has {num_flow + 1} frames), got {wanted[0]}..{wanted[-1]}")
        return int(wanted[0]), int(wanted[-1]) + 1, wanted
    if frame_range is None:
        return 0, num_flow, np.arange(num_flow)
    if isinstance(frame_range, range) and frame_range.step == 1:
        frame_range = (frame_range.start, frame_range.stop)
    if not (isinstance(frame_range, (tuple, list)) and len(frame_range) == 2
            and all(isinstance(x, (int, np.integer)) for x in frame_range)):
        raise ValueError(
            f"frame_range must be (first, stop): video frames first..stop-1, got {frame_range!r}; "
            "for a set of flow frames use pairs=[...]"
        )
    first, stop = int(frame_range[0]), int(frame_range[1])
    if not (0 <= first and first + 2 <= stop <= num_flow + 1):
        raise ValueError(
            f"frame_range={tuple(frame_range)!r} must name at least 2 of the clip's "
            f"{num_flow + 1} video frames: 0 <= first, first + 2 <= stop <= {num_flow + 1}"
        )
    return first, stop - 1, np.arange(first, stop - 1)


# --------------------------------------------------------------------------- cache


def _cache_key(clip: np.ndarray, spec: FlowMethod, bound: float, short_side: int | None) -> str:
    description = json.dumps({
        "format": _CACHE_FORMAT, "method": spec.name, "params": dict(spec.params),
        "implementation": _implementation_version(spec), "bound": bound,
        "short_side": short_side, "shape": list(clip.shape), "dtype": str(clip.dtype),
    }, sort_keys=True)
    digest = hashlib.sha256(description.encode())
    digest.update(np.ascontiguousarray(clip).data)
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


# --------------------------------------------------------------------------- compute


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
        frames' content and every parameter that changes the result. Damaged entries are
        detected (checksum), removed and recomputed. Temporary files that killed runs left in
        the folder more than an hour ago are removed.
    progress : bool
        Show a ``tqdm`` progress bar (notebook-aware) over the pairs that are computed.
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
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, (int, np.integer))
                                or workers < 1):
        raise ValueError(f"workers must be None or a positive whole number, got {workers!r}")
    chosen = resolve_flow_method(method)
    spec = FLOW_METHODS[chosen]
    if spec.algorithm == "opencv-tvl1":
        _require_optflow(chosen)
    start, stop, wanted = _requested(frame_range, pairs, num_flow)
    height, width = short_side_size(*clip.shape[1:3], short_side)

    rows = stop - start
    folder = _cache_folder(cache)
    entry = None
    if folder is not None:
        remove_stale_temporaries(folder, (_LEGACY_CACHE_TEMP,))
        path = folder / f"{_cache_key(clip, spec, bound, short_side)}.npz"
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
        n_workers = choose_workers(chosen, len(todo), height, width) if workers is None \
            else int(workers)
        if spec.algorithm == "tensorflow-tvl1":
            n_workers = 1
        grey = _GreyFrames(clip, (height, width))
        if spec.algorithm == "tensorflow-tvl1":
            results = _tensorflow(spec, grey, todo)
        elif n_workers > 1 and len(todo) > 1:
            results = _parallel(spec, grey, todo, n_workers)
        else:
            results = _serial(spec, grey, todo)
        from tqdm.auto import tqdm

        label = chosen if method == chosen else f"{method}: {chosen}"
        if n_workers > 1 and spec.algorithm != "tensorflow-tvl1":
            label += f", {min(n_workers, len(todo))} processes"
        with tqdm(total=len(todo), desc=f"Optical flow ({label})", unit="pair",
                  disable=not progress) as bar:
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


# --------------------------------------------------------------------------- files and CLI


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


