"""How long a whole run (flow, both streams, the demo video) will take, measured before it starts.

A student on a CPU runtime should know before the long cell whether it takes one minute or ten.
:func:`estimate_run_time` measures the two slow steps on this machine, with these models and
this video: one batch of each stream and two frame pairs of optical flow, then scales them to
the whole video.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

__all__ = ["RENDER_SECONDS_PER_FRAME", "RunTimeEstimate", "estimate_run_time"]

#: The demo video's cost per frame on a 2-core CPU (``benchmarks/bench_render.py``: 21 frames/s).
RENDER_SECONDS_PER_FRAME = 1 / 21


@dataclass(frozen=True)
class RunTimeEstimate:
    """The expected seconds of each step of a run; ``str()`` is the line a notebook prints."""

    flow_pairs: int
    seconds_per_pair: float
    frames: int
    seconds_per_frame: float
    stacks: int
    seconds_per_stack: float
    rendered_frames: int

    @property
    def flow_seconds(self) -> float:
        return self.flow_pairs * self.seconds_per_pair

    @property
    def spatial_seconds(self) -> float:
        return self.frames * self.seconds_per_frame

    @property
    def motion_seconds(self) -> float:
        return self.stacks * self.seconds_per_stack

    @property
    def render_seconds(self) -> float:
        return self.rendered_frames * RENDER_SECONDS_PER_FRAME

    @property
    def total_seconds(self) -> float:
        return self.flow_seconds + self.spatial_seconds + self.motion_seconds + self.render_seconds

    def __str__(self) -> str:
        total = self.total_seconds
        when = f"{total / 60:.1f} min" if total >= 90 else f"{total:.0f} s"
        return (f"expected time on this machine: about {when} (flow: {self.flow_pairs} frame "
                f"pairs x {self.seconds_per_pair:.2f} s = {self.flow_seconds:.0f} s; spatial "
                f"stream: {self.frames} frames x {self.seconds_per_frame:.3f} s = "
                f"{self.spatial_seconds:.0f} s; motion stream: {self.stacks} stacks x "
                f"{self.seconds_per_stack:.3f} s = {self.motion_seconds:.0f} s; demo video: "
                f"{self.rendered_frames} frames, about {self.render_seconds:.0f} s)")


def _seconds_per_input(model, batch_size: int) -> float:
    from twostream_lab.predict import model_input_size

    batch = np.zeros((batch_size, *model_input_size(model)), np.float32)
    model.predict_on_batch(batch)  # the first call also builds the computation
    started = time.perf_counter()
    model.predict_on_batch(batch)
    return (time.perf_counter() - started) / batch_size


def estimate_run_time(video, models, *, flow_method: str = "tvl1", sampling: str | int = "all",
                      batch_size: int = 8) -> RunTimeEstimate:
    """Measure one batch per stream and two frame pairs of flow, and scale to the whole video.

    Parameters
    ----------
    video : Video
        The video that will be predicted (its size sets the flow's cost).
    models : TwoStream
        The two streams that will predict it.
    flow_method : str
        The flow method that will be used (:data:`twostream_lab.flow.FLOW_METHODS`).
    sampling : "all" or int
        As for :func:`twostream_lab.predict.predict_video`.
    batch_size : int
        As for :func:`twostream_lab.predict.predict_video`.

    Returns
    -------
    RunTimeEstimate
        Its ``str()`` is one line with the total and each step. The measurement itself takes
        a few seconds (two flow pairs and four model batches).

    Examples
    --------
    >>> print(estimate_run_time(video, models))  # doctest: +SKIP
    expected time on this machine: about 5.4 min (flow: 249 frame pairs x 0.97 s = 241 s; ...)
    """
    from twostream_lab.flow import compute_flow

    length = models.stacked_frames
    stacks = max(video.num_frames - length, 0)
    if sampling == "all":
        frames, scored, pairs = video.num_frames, stacks, video.num_frames - 1
    else:
        frames = scored = min(int(sampling), stacks)
        pairs = min(video.num_frames - 1, scored * length)
    sample = video.frames[: min(3, video.num_frames)]
    started = time.perf_counter()
    compute_flow(sample, method=flow_method, cache=False, progress=False)
    per_pair = (time.perf_counter() - started) / max(len(sample) - 1, 1)
    return RunTimeEstimate(
        flow_pairs=pairs, seconds_per_pair=per_pair,
        frames=frames, seconds_per_frame=_seconds_per_input(models.spatial, batch_size),
        stacks=scored, seconds_per_stack=_seconds_per_input(models.motion, batch_size),
        rendered_frames=scored,
    )
