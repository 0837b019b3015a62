"""The flow methods: :class:`FlowMethod`, the :data:`FLOW_METHODS` registry, :func:`has_optflow`
and :data:`OPTFLOW_FIX`, :func:`resolve_flow_method` (with the TensorFlow GPU check), the OpenCV
backends and the import of :mod:`twostream_lab.flow.tvl1_tf`.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from typing import Any, Callable, Mapping

import numpy as np

from twostream_lab.flow.types import FlowError

#: The command that gives a Python environment ``cv2.optflow`` (OpenCV's contrib modules).
#: Colab installs ``opencv-python``, ``opencv-python-headless`` and ``opencv-contrib-python``
#: over each other into the same ``cv2`` folder; whichever came last wins, and removing just one
#: of them deletes files the others need. So remove all of them, then install the contrib build.
OPTFLOW_FIX = (
    "pip uninstall -y opencv-python opencv-python-headless opencv-contrib-python "
    "opencv-contrib-python-headless && pip install opencv-contrib-python"
)


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
