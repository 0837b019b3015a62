"""Text helpers of the checker: :func:`sanitize`, :func:`word_count` and the normalisation
used to compare answers and to take a template's label and prompt out of a student's text.
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
# A template's label: its leading bold part, with the colon that may follow it.
_TEMPLATE_LABEL = re.compile(r"^\s*(\*\*|__)(?:(?!\1)[^\n])+\1(?:[ \t]*[:\uff1a])?")
_COLON = re.compile("[:\uff1a]")
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


def _template_parts(template: str) -> tuple[str, str]:
    """Split a template cell's text into its label (the leading bold part, '' when none) and
    its prompt (the rest).

    Examples
    --------
    >>> _template_parts("**Nombre:** _escribe tu nombre aquí_")
    ('**Nombre:**', '_escribe tu nombre aquí_')
    >>> _template_parts("_write your answer here_")
    ('', '_write your answer here_')
    """
    match = _TEMPLATE_LABEL.match(template)
    label = match.group() if match else ""
    return label.strip(), template[len(label):].strip()


def _label_pattern(label: str) -> re.Pattern[str]:
    """``label`` at the start of a text, in any markdown style, its colon (if it has one) kept
    in place."""
    words = re.escape(label.strip("*_ :\uff1a"))
    if _COLON.search(label):
        return re.compile(rf"^\s*[*_]*\s*{words}\s*[*_]*\s*[:\uff1a]\s*[*_]*", re.IGNORECASE)
    # Without a colon the label must end where a word ends ("**Nombre** Ana", not "Nombres").
    return re.compile(rf"^\s*[*_]*\s*{words}(?![^\W_])\s*[*_]*", re.IGNORECASE)


def _strip_label(text: str, labels: Sequence[str]) -> str:
    """``text`` without its leading label: the first of ``labels`` it starts with, in any
    markdown style, else any bold label ending in a colon (``**Réponse :**``)."""
    for label in filter(None, labels):
        pattern = _label_pattern(label)
        if pattern.match(text):
            return pattern.sub("", text, count=1)
    return _BOLD_LABEL.sub("", text, count=1)


#: A prompt of this many words is removed wherever it stands, emphasised or not; a shorter one
#: could be a word of the student's own text ("Name" in a name).
_PLAIN_PROMPT_WORDS = 3


def _without_prompt(text: str, prompt: str) -> str:
    """``text`` without ``prompt``, as whole words, whatever its case, spacing and emphasis: a
    prompt of fewer than three words only where it is still emphasised or is all there is."""
    words = _EMPHASIS.sub(" ", prompt).split()
    if not words:
        return text
    pattern = r"[\s*_`]+".join(map(re.escape, words))
    if len(words) >= _PLAIN_PROMPT_WORDS or re.fullmatch(rf"[\s*_`]*{pattern}[\s*_`]*", text,
                                                         flags=re.IGNORECASE):
        marks = "[*_`]*"
    else:  # a short prompt ("_name_") is removed only where it is still emphasised
        marks = "[*_`]+"
    # whole words only: the prompt "_name_" must not cut "Namestone"
    return re.sub(rf"(?<!\w){marks}{pattern}{marks}(?!\w)", "", text, flags=re.IGNORECASE)


def _filled_in(text: str, templates: Sequence[str]) -> str:
    """The text a student wrote in a template cell ('' when nothing): the label of the first of
    ``templates`` it starts with removed (see :func:`_strip_label`), then every template's prompt.

    Examples
    --------
    >>> templates = ["**Nombre:** _escribe tu nombre aquí_", "**Student name:** _write your name_"]
    >>> _filled_in("**Nombre:** _Escribe tu nombre AQUÍ_", templates)
    ''
    >>> _filled_in("**Nombre:** Ana Pérez", templates)
    'Ana Pérez'
    """
    parts = [_template_parts(template) for template in templates]
    body = _strip_label(text, [label for label, _ in parts])
    for _, prompt in parts:
        body = _without_prompt(body, prompt)
    body = body.strip()
    return body if _normalize(body) else ""
