"""Both streams ready to predict, and which weights they are: pretrained, demo, or your files.

:func:`choose_weights` resolves a notebook's ``WEIGHTS`` switch ("auto", "pretrained", "demo" or
a pair of .h5 paths) without loading anything, and says why; :func:`load_two_stream` loads what
it chose into a :class:`TwoStream`, the one object every later stage takes. This is the only
place where a weights choice is parsed. Choosing imports no TensorFlow (a notebook that only
shows its choice starts seconds faster); loading imports it with the architectures.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from twostream_lab.data.classes import UCF101_CLASSES
from twostream_lab.data.paths import in_colab
from twostream_lab.weights.legacy import load_legacy_weights, read_weights_info
from twostream_lab.weights.pretrained import MIRROR_ENV, PretrainedError, cached_pretrained, fetch_pretrained

if TYPE_CHECKING:
    import keras

__all__ = ["SOURCES", "WEIGHTS_ENV", "TwoStream", "WeightsChoice", "choose_weights",
           "load_two_stream"]

SOURCES = ("pretrained", "demo", "local")
#: Overrides every notebook's ``WEIGHTS`` switch ("auto", "pretrained" or "demo"): how an
#: instructor or CI runs all notebooks one way. The notebooks' output says that it did.
WEIGHTS_ENV = "TWOSTREAM_LAB_WEIGHTS"


@dataclass(frozen=True)
class WeightsChoice:
    """Which weights a notebook uses (``source``, as :func:`load_two_stream` takes it) and why."""

    source: str | tuple[str, str]
    reason: str
    auto: bool = False

    @property
    def is_demo(self) -> bool:
        """True for the offline demo models (synthetic classes, not UCF101)."""
        return self.source == "demo"

    def __str__(self) -> str:
        name = self.source if isinstance(self.source, str) else "local .h5 files"
        text = f"weights: {name} ({self.reason})"
        if self.is_demo:
            text += (
                ".\nEvery prediction in this notebook comes from the offline demo models: tiny "
                "networks trained on synthetic clips, not the UCF101 models."
            )
        return text


def choose_weights(weights: str | tuple[str, str] = "auto") -> WeightsChoice:
    """Resolve a notebook's ``WEIGHTS`` switch without loading anything.

    Parameters
    ----------
    weights : "auto", "pretrained", "demo" or (spatial_h5, motion_h5)
        ``"auto"`` takes ``"pretrained"`` when both streams are in the cache or when running in
        Colab (where Google Drive can be reached; a 470 MB download on first use), else
        ``"demo"``. ``$TWOSTREAM_LAB_WEIGHTS`` ("auto", "pretrained" or "demo") overrides a
        named choice, and the reason says so; a pair of files is never overridden.

    Examples
    --------
    >>> choose_weights("demo").is_demo
    True
    """
    named = _resolve_weights(weights)  # a mistyped switch fails even when overridden
    override = os.environ.get(WEIGHTS_ENV, "").strip()
    if override and isinstance(weights, str):  # files named explicitly are never replaced
        if override not in ("auto", "pretrained", "demo"):
            raise ValueError(f'{WEIGHTS_ENV} must be "auto", "pretrained" or "demo"; '
                             f"got {override!r}")
        chosen = _resolve_weights(override)
        switch = f'"{weights}"'
        why = f"set by {WEIGHTS_ENV}={override}, which overrides this notebook's WEIGHTS = {switch}"
        if chosen.auto:
            why += f"; {chosen.reason}"
        return WeightsChoice(chosen.source, why, auto=chosen.auto)
    return named


def _resolve_weights(weights: str | tuple[str, str]) -> WeightsChoice:
    if isinstance(weights, str) and weights == "auto":
        if all(files is not None for files in cached_pretrained().values()):
            return WeightsChoice("pretrained", "auto: the pretrained weights are in the cache",
                                 auto=True)
        if in_colab():
            where = (f"from the mirror in {MIRROR_ENV}" if os.environ.get(MIRROR_ENV)
                     else "from Google Drive")
            return WeightsChoice(
                "pretrained",
                f"auto: in Colab; downloaded {where} on first use, 2 zips of 235 MB",
                auto=True,
            )
        return WeightsChoice(
            "demo",
            'auto: the pretrained weights are not in the cache and this is not Colab; set '
            'WEIGHTS = "pretrained" to download them (470 MB)',
            auto=True,
        )
    if isinstance(weights, str) and weights in ("pretrained", "demo"):
        return WeightsChoice(weights, f'chosen with WEIGHTS = "{weights}"')
    if isinstance(weights, tuple | list) and len(weights) == 2:
        return WeightsChoice((str(weights[0]), str(weights[1])), "your own .h5 files")
    raise ValueError(
        f'weights must be "auto", "pretrained", "demo" or a (spatial_h5, motion_h5) pair '
        f"(in a notebook, WEIGHTS = ...); got {weights!r}"
    )


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
    choice : WeightsChoice, optional
        Which weights were asked for and why these were loaded (``print(models.choice)``).
    """

    spatial: keras.Model
    motion: keras.Model
    class_names: tuple[str, ...]
    source: str
    choice: WeightsChoice | None = None

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
        from twostream_lab.models.xception import stacked_frames_of

        return stacked_frames_of(self.motion)

    def __repr__(self) -> str:
        def shape(model: keras.Model) -> str:
            return "x".join(str(d) for d in model.input_shape[1:])

        return (f"TwoStream(source={self.source!r}, {len(self.class_names)} classes, "
                f"spatial={self.spatial.name} {shape(self.spatial)}, "
                f"motion={self.motion.name} {shape(self.motion)})")


def _load_local(spatial_h5, motion_h5, class_names) -> TwoStream:
    from twostream_lab.models.xception import build_motion_model, build_spatial_model

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


def load_two_stream(source="pretrained", *, class_names=None,
                    mirror: str | os.PathLike | None = None, downloader=None,
                    progress: bool = True) -> TwoStream:
    """Return both streams ready to predict, with their class names and why they were chosen.

    Parameters
    ----------
    source : "auto", "pretrained", "demo", (spatial_h5, motion_h5) or WeightsChoice
        ``"pretrained"``: the UCF101 models, downloaded into the cache on first use (about
        470 MB). ``"demo"``: the small offline models trained on synthetic clips. A pair of
        paths: your own weights files (TF1 / Keras ``.h5`` or ``.weights.h5``) of the two
        architectures; the number of stacked frames and of classes is read from the files.
        ``"auto"`` (a notebook's ``WEIGHTS`` switch): as :func:`choose_weights` decides, and
        the demo models when the pretrained download fails (the reason is in ``.choice``).
        ``$TWOSTREAM_LAB_WEIGHTS`` overrides ``source`` (see :func:`choose_weights`).
    class_names : sequence of str, optional
        For a pair of paths whose models do not have UCF101's 101 classes.
    mirror, downloader, progress
        Passed to :func:`~twostream_lab.weights.pretrained.fetch_pretrained`: ``mirror`` (by
        default ``$TWOSTREAM_LAB_WEIGHTS_URL``) is a URL or folder where an instructor hosts
        ``spatial.zip``, ``motion.zip`` and ``SHA256SUMS``; Google Drive is then not contacted.

    Raises
    ------
    PretrainedError
        An explicit ``"pretrained"`` whose weights cannot be had: the message says how to get
        them (a mirror, by hand) and how to choose the demo models on purpose.

    Examples
    --------
    >>> models = load_two_stream("demo")
    >>> models.source, len(models.class_names), models.stacked_frames
    ('demo', 8, 10)
    >>> models = load_two_stream(mirror="https://example.org/weights/")  # doctest: +SKIP
    """
    choice = source if isinstance(source, WeightsChoice) else choose_weights(source)
    if class_names is not None and isinstance(choice.source, str):
        raise ValueError("class_names is only for a (spatial_h5, motion_h5) pair: the "
                         f"{choice.source!r} models come with their own")
    if not isinstance(choice.source, str):
        models = _load_local(choice.source[0], choice.source[1], class_names)
    elif choice.source == "pretrained":
        try:
            models = _load_pretrained(mirror, downloader, progress)
        except PretrainedError as error:
            if not choice.auto:
                raise
            choice = WeightsChoice(
                "demo", f"auto: the pretrained weights could not be downloaded: {error}",
                auto=True)
            models = _load_demo()
    else:
        models = _load_demo()
    models.choice = choice
    return models


def _load_pretrained(mirror, downloader, progress: bool) -> TwoStream:
    from twostream_lab.models.xception import build_motion_model, build_spatial_model

    spatial_files = fetch_pretrained("spatial", mirror=mirror, downloader=downloader,
                                     progress=progress)
    motion_files = fetch_pretrained("motion", mirror=mirror, downloader=downloader,
                                    progress=progress)
    spatial = load_legacy_weights(build_spatial_model(), spatial_files.h5)
    motion = load_legacy_weights(build_motion_model(), motion_files.h5)
    return TwoStream(spatial, motion, UCF101_CLASSES, "pretrained")


def _load_demo() -> TwoStream:
    from twostream_lab.models.demo import demo_class_names, load_demo_models

    spatial, motion = load_demo_models()
    return TwoStream(spatial, motion, demo_class_names(), "demo")
