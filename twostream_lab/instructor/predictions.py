"""The activity's prediction texts and demo video in a notebook's outputs: titles, weights,
frames used.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from twostream_lab.instructor.constants import (
    DEMO_VIDEO_NAME,
    DEMO_WEIGHTS_REASON,
    PREDICTION_TITLE,
)
from twostream_lab.instructor.text import _listing, sanitize

_TITLE_FOR = re.compile(r"Prediction for ([\w.-]+\.\w+)")
_WEIGHTS_LINE = re.compile(r"weights:\s*(pretrained|demo|local)\b")
_MAX_FRAMES_LINE = re.compile(r"video: the first (\d+) of (\d+) frames")
_DAMAGED_LINE = re.compile(r"warning: only (\d+) of the (\d+) frames")
_ALL_FRAMES_LINE = re.compile(r"scoring: all frames \((\d+) RGB frames")


def _other_titles(outputs: Iterable[str]) -> str:
    names = sorted({m for text in outputs for m in _TITLE_FOR.findall(text)} - {DEMO_VIDEO_NAME})
    if not names:
        return ""
    return f" (found predictions for {_listing(names)}: run it on {DEMO_VIDEO_NAME})"


def _check_predictions(texts: list[str]) -> str:
    if any(PREDICTION_TITLE in text for text in texts):
        return ""
    return f"no text output contains {PREDICTION_TITLE!r}{_other_titles(texts)}"


def _check_video(htmls: list[str]) -> str:
    videos = [html for html in htmls if "<video" in html.lower()]
    if any(PREDICTION_TITLE in html for html in videos):
        return ""
    if videos:
        return f"a <video> is shown but not titled {PREDICTION_TITLE!r}{_other_titles(videos)}"
    return f"no HTML output with a <video> titled {PREDICTION_TITLE!r} (run the demo video cell)"


def _prediction_texts(texts: Iterable[str]) -> list[list[str]]:
    """The lines of every prediction text of the activity video, each from its title line to the
    next ``Prediction for`` line or the end of its output."""
    predictions: list[list[str]] = []
    for text in texts:
        current: list[str] | None = None
        for line in sanitize(text, multiline=True).splitlines():
            line = line.strip()
            if line.startswith("Prediction for "):
                current = [] if line.startswith(PREDICTION_TITLE) else None
                if current is not None:
                    predictions.append(current)
            elif current is not None:
                current.append(line)
    return predictions


def _weights_used(predictions: Sequence[Sequence[str]]) -> frozenset[str]:
    """The weights the predictions name in their ``weights:`` lines."""
    found = set()
    for lines in predictions:
        match = next(filter(None, map(_WEIGHTS_LINE.match, lines)), None)
        if match:
            found.add(match.group(1))
    return frozenset(found)


def _weights_kind(used: frozenset[str]) -> str:
    if not used:
        return "unknown"
    return next(iter(used)) if len(used) == 1 else "mixed"


def _check_weights(used: frozenset[str], allow_demo: bool) -> str:
    if "demo" not in used or allow_demo:
        return ""
    if used == {"demo"}:
        return DEMO_WEIGHTS_REASON
    return (
        f"the activity's predictions come from different weights ({', '.join(sorted(used))}), "
        'some from the demo models: re-run it once, from the top, with WEIGHTS = "pretrained" '
        "(see the notebook's weights cell), or pass --allow-demo to accept it"
    )


def _frames_used(lines: Sequence[str]) -> tuple[str, str]:
    """Return (frames column, note on a partial run) for one prediction text ('' if unknown)."""
    counts: list[int] = []
    total = None
    why: list[tuple[str, str]] = []  # (column tag, note)
    for line in lines:
        if match := _MAX_FRAMES_LINE.match(line):
            counts.append(int(match[1]))
            total = int(match[2])
            why.append(("max_frames", f"read with max_frames={match[1]}"))
        elif match := _DAMAGED_LINE.match(line):
            counts.append(int(match[1]))
            total = int(match[2])
            why.append(("damaged", "the video file is damaged: the rest could not be decoded"))
        elif match := _ALL_FRAMES_LINE.match(line):
            counts.append(int(match[1]))
    if not counts:
        return "", ""
    used = min(counts)
    total = used if total is None else total
    if not why:
        return f"{used}/{total}", ""
    tags, notes = zip(*why)
    return (
        f"{used}/{total} ({', '.join(tags)})",
        f"the prediction used {used} of the clip's {total} frames ({'; '.join(notes)})",
    )


def _frames(predictions: Sequence[Sequence[str]]) -> tuple[str, str]:
    """Return (frames column, partial-run note) over all the activity's prediction texts."""
    described = [_frames_used(lines) for lines in predictions]
    columns = dict.fromkeys(column for column, _ in described if column)
    notes = dict.fromkeys(note for _, note in described if note)
    return ", ".join(columns), "; ".join(notes)
