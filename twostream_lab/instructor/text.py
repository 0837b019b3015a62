"""Text helpers of the checker: :func:`sanitize`, :func:`word_count` and the normalisation
used to compare answers and strip template labels.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from pathlib import Path

# Escape sequences a terminal acts on: CSI (7- and 8-bit), terminated OSC/DCS/SOS/PM/APC strings,
# and the other two-character ESC sequences.
_ESCAPE_SEQUENCE = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)"
    r"|\x1b[ -/]*[0-~]"
)
# C0 and C1 controls, DEL, and the bidirectional overrides that reorder what a terminal shows.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_EMPHASIS = re.compile(r"[*_`]+")
# A translated template's label: bold, ending in a colon (inside or after the bold).
_BOLD_LABEL = re.compile(
    r"^\s*(\*\*|__)[^*_\n]{1,60}?(?:[:\uff1a]\s*\1|\1\s*[:\uff1a])[ \t]*"
)
# Scripts written without spaces between words: each character is a token, two make a word.
_UNSPACED = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_UNSPACED_CHAR = re.compile(f"[{_UNSPACED}]")
_TOKEN = re.compile(rf"[{_UNSPACED}]|[^\W_{_UNSPACED}]+")
_SHOWN = 3  # how many examples a reason lists before "and N more"


def sanitize(text: str, *, multiline: bool = False, escape_all: bool = False) -> str:
    r"""Return ``text`` safe to print on a terminal or to write into a report.

    Well-formed escape sequences (colours, cursor moves, window titles) are removed; every other
    C0 or C1 control character, DEL, and the bidirectional overrides are escaped as ``\x1b``,
    ``\x9b``, ``\u202e``. A tab becomes a space; line breaks (``\r\n``, ``\r``, ``\n``) become
    ``\n`` when ``multiline``, else a space. With ``escape_all`` the escape sequences are escaped
    instead of removed, for file names, which must stay recognisable.

    Examples
    --------
    >>> sanitize("Eve\x1b]0;pwned\x07 \x1b[31mred\x1b[0m\x9b")
    'Eve red\\x9b'
    >>> sanitize("a\x1b[2J.ipynb", escape_all=True)
    'a\\x1b[2J.ipynb'
    >>> sanitize("one\r\ntwo\tthree", multiline=True)
    'one\ntwo three'
    """
    if not escape_all:
        text = _ESCAPE_SEQUENCE.sub("", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    if not multiline:
        text = text.replace("\n", " ")
    return _CONTROL.sub(lambda match: ascii(match.group())[1:-1], text)


def _path_text(path: Path | str) -> str:
    return sanitize(str(path), escape_all=True)


def word_count(text: str) -> int:
    """Return the number of words in ``text``, for any language.

    Words are runs of letters and digits; in scripts written without spaces (Chinese, Japanese),
    every two characters count as one word. Markdown markup and punctuation are not words.

    Examples
    --------
    >>> word_count("**Answer:** the motion stream, *not* the spatial one.")
    8
    >>> word_count("双流模型是二维的")
    4
    """
    tokens = _TOKEN.findall(text)
    unspaced = sum(1 for token in tokens if _UNSPACED_CHAR.fullmatch(token))
    return len(tokens) - unspaced + math.ceil(unspaced / 2)


def _one_line(text: str, limit: int = 80) -> str:
    text = " ".join(sanitize(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _listing(items: Sequence[str]) -> str:
    shown = ", ".join(items[:_SHOWN])
    return shown + (f" and {len(items) - _SHOWN} more" if len(items) > _SHOWN else "")


def _normalize(text: str) -> str:
    """Case-folded text without markdown emphasis, whitespace collapsed."""
    return " ".join(_EMPHASIS.sub(" ", text).casefold().split())


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.casefold())


def _strip_label(text: str, label: str) -> str:
    """``text`` without its leading label: ``label`` in any markdown style or, as a translated
    template has it, any bold label ending in a colon (``**Réponse :**``)."""
    words = re.escape(label.strip("*_ :"))
    english = re.compile(rf"^\s*[*_]*\s*{words}\s*[*_]*\s*:\s*[*_]*", re.I)
    if english.match(text):
        return english.sub("", text, count=1)
    return _BOLD_LABEL.sub("", text, count=1)


def _filled_in(text: str, label: str, prompt: str) -> str:
    """The text a student wrote in a template cell: label and template prompt removed."""
    words = r"\s+".join(map(re.escape, prompt.strip("*_ ").split()))
    body = re.sub(rf"[*_]*{words}[*_]*", "", _strip_label(text, label), flags=re.I).strip()
    return body if _normalize(body) else ""
