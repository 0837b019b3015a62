"""The error of the video modules (:mod:`twostream_lab.video`, :mod:`twostream_lab.video_download`)
and how they write sizes. Imports nothing of the lab, so that both can use it.
"""

from __future__ import annotations

__all__ = ["VideoError"]

_GIB = 2**30


class VideoError(ValueError):
    """A video that cannot be read, with the file, the problem and the fix in its message."""


def _format_bytes(count: float) -> str:
    if count >= _GIB:
        return f"{count / _GIB:.1f} GiB"
    return f"{count / 2**20:.1f} MiB" if count >= 2**20 else f"{count / 1024:.1f} KiB"
