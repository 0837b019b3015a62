"""Shared test fixtures.

Every test runs with its own empty cache folder, so no test reads another's cached flow or
weights. Tests that need the real sample clips ask for ``ucf101_videos`` / ``abseiling_video``;
these skip when ``$TWOSTREAM_LAB_DATA`` (CI points it at ``../shared/data``) does not hold them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

_SHARED_DATA = os.environ.get("TWOSTREAM_LAB_DATA")


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path_factory, monkeypatch) -> Path:
    cache = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("TWOSTREAM_LAB_CACHE", str(cache))
    # notebooks/conftest.py sets it for nbval's kernels; a library test chooses its own weights
    monkeypatch.delenv("TWOSTREAM_LAB_WEIGHTS", raising=False)
    return cache


@pytest.fixture
def empty_data(tmp_path, monkeypatch) -> Path:
    """A data folder with no sample videos (as on a fresh machine)."""
    monkeypatch.setenv("TWOSTREAM_LAB_DATA", str(tmp_path / "nothing"))
    return tmp_path / "nothing"


def _shared(*parts: str) -> Path:
    if not _SHARED_DATA:
        pytest.skip("TWOSTREAM_LAB_DATA is not set: the real sample clips are absent")
    path = Path(_SHARED_DATA).joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent")
    return path


@pytest.fixture(scope="session")
def ucf101_videos() -> list[Path]:
    """The real UCF101 clips (320x240), sorted by name."""
    return sorted(_shared("ucf101", "videos").glob("*.avi"))


@pytest.fixture(scope="session")
def ucf101_table() -> Path:
    """``videos.tsv``: file, bytes, class, label0, split01, width, height, fps, decoded_frames."""
    return _shared("ucf101", "videos.tsv")


@pytest.fixture(scope="session")
def abseiling_video() -> Path:
    return _shared("kinetics", "abseiling_k400.mp4")


@pytest.fixture(scope="session")
def legacy_fixtures() -> Path:
    """``../shared/fixtures/legacy_h5`` (TF1-saved .h5 files), skipped when absent."""
    root = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "legacy_h5"
    override = os.environ.get("TWOSTREAM_LAB_FIXTURES")
    if override:
        root = Path(override) / "legacy_h5"
    if not root.exists():
        pytest.skip(f"{root} is absent")
    return root


def _write_clip(path: Path, frames, fps: float = 25.0) -> Path:
    """Write RGB uint8 frames ``(T, H, W, 3)`` (T may be 0) as an MJPG .avi; return ``path``."""
    import cv2

    height, width = frames.shape[1:3]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (width, height))
    assert writer.isOpened(), f"OpenCV cannot write {path}"
    for frame in frames:
        writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    writer.release()
    return path


@pytest.fixture(scope="session")
def write_clip():
    """``write_clip(path, frames, fps=25.0) -> path``: the tests' one way to make a video file."""
    return _write_clip


@pytest.fixture(scope="session")
def make_scored_clip():
    """A factory: random frames, flow and per-frame scores of ``T`` frames, as (Video, Flow,
    Prediction), for testing the pictures without running any model."""
    import numpy as np

    from twostream_lab.flow import Flow
    from twostream_lab.predict import Prediction
    from twostream_lab.video import Video

    def make(T: int, class_names: tuple[str, ...]):
        rng = np.random.default_rng(0)
        C = len(class_names)
        frames = rng.integers(0, 256, (T, 24, 40, 3), dtype=np.uint8)
        u = rng.integers(0, 256, (T - 1, 24, 40), dtype=np.uint8)
        v = rng.integers(0, 256, (T - 1, 24, 40), dtype=np.uint8)
        spatial = rng.dirichlet(np.ones(C), T).astype(np.float32)
        motion = rng.dirichlet(np.ones(C), T - 10).astype(np.float32)
        prediction = Prediction(
            spatial=spatial, motion=motion,
            spatial_indices=np.arange(T), motion_indices=np.arange(T - 10),
            class_names=class_names, video_name="clip.mp4", source="demo", num_frames=T,
        )
        video = Video.from_frames(frames, name="clip.mp4")
        return video, Flow(u=u, v=v, method="test", bound=20.0), prediction

    return make
