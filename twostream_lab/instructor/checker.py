"""Check a class's executed activity notebooks in one go (instructor tooling).

:func:`check_submissions` reads each submitted ``.ipynb`` (never writing to it) and runs these
checks, in this order (the names are the report's and the CSV's columns, see :data:`CHECKS`):

``readable``
    The file exists and is a Jupyter notebook (UTF-8 JSON with ``nbformat`` and ``cells``).
    When it fails, the other checks are not run. Schema problems are not failures: the checks
    read only the fields they need, so a slightly malformed notebook is still checked.
``notebook``
    It is the activity notebook, not another one renamed: the notebook metadata
    ``twostream_lab.notebook`` is :data:`NOTEBOOK_ID`, and the student-name cell and one answer
    cell for each of :data:`QUESTIONS` are present (found by their cell metadata, see below).
``name``
    The student-name cell holds a name: after removing its label it is not empty and not the
    template's ``_write your name here_``.
``executed``
    Every code cell ran once, top to bottom, in one fresh kernel session ("Restart & Run All"):
    the execution counts of the code cells, in notebook order, are exactly 1, 2, ..., n. Blank
    code cells are ignored (Jupyter does not run them, and a kernel sent one does not advance its
    counter). The reason says what went wrong: cells never run (no count), cells run out of order
    (a count not greater than the one above it), counts not starting at 1 (the kernel was not
    restarted) and jumps in the counts (a cell re-run, or a cell run and deleted).
``errors``
    No output of type ``error`` (an exception, ``KeyboardInterrupt`` included).
``answers``
    Each answer cell (``q1``, ``q2``, ``q3``) is a markdown cell whose text, without its label,
    is not empty, not the template's ``_write your answer here_``, and at least
    :data:`MIN_ANSWER_WORDS` words long (see :func:`word_count`). A code cell's output is not an
    answer.
``own-words``
    No answer is mostly the lab's own text: at most :data:`COPIED_FRACTION` of an answer's words
    may lie in runs of :data:`COPIED_RUN` or more words that also occur in the notebook's own
    markdown cells (the instructions and questions, i.e. the markdown cells without a role).
``predictions``
    A text output (printed text, ``text/plain`` or ``text/markdown``) of a code cell contains
    :data:`PREDICTION_TITLE`, ``"Prediction for abseiling_k400.mp4"``.
``no-demo``
    The prediction was not made with the demo models. The weights are read from the prediction
    text (its line ``weights: pretrained ...``, ``weights: demo. ...`` or ``weights: local ...``)
    and reported in the ``weights`` column (see :data:`WEIGHTS_KINDS`): ``pretrained``,
    ``demo``, ``local``, ``mixed`` (predictions from different weights) or ``unknown`` (no
    prediction text naming them). A run with the demo models, alone or among others, fails
    unless ``allow_demo`` (``--allow-demo``).
``video``
    An HTML output of a code cell holds a ``<video`` element and :data:`PREDICTION_TITLE`.
``individual``
    The answers are not near-identical to another submission's: answer texts are normalised
    (case, whitespace, markdown emphasis, label and template removed), joined q1..q3, and
    compared word by word with :class:`difflib.SequenceMatcher`; a ratio of at least
    :data:`SIMILARITY_THRESHOLD` flags both submissions, each naming the other. Submissions with
    fewer than :data:`MIN_COMPARED_WORDS` words of answers are not compared.

Besides the checks, the report's ``frames`` column says how much of the clip the prediction used
(informational, never a failure): ``250/250`` for the whole clip, ``60/250 (max_frames)`` when
the student read only its first frames, ``55/250 (damaged)`` when the file could not be decoded
to its end; a partial run is also listed under "Notes".

In reasons, cells are numbered from 1 over all cells of the notebook, markdown cells included;
``[3]`` is an execution count. Every check is required unless named in ``optional``:
a submission passes when it passes all its required checks.

The activity notebook marks its special cells with cell metadata (see :data:`METADATA_KEY`):
``{"twostream_lab": {"role": "student-name"}}`` for the name cell, whose template text is
:data:`NAME_PLACEHOLDER`, and ``{"twostream_lab": {"role": "answer", "question": "q1"}}`` for
the answer cells, whose template text is :data:`ANSWER_PLACEHOLDER`. Its notebook metadata is
``{"twostream_lab": {"notebook": NOTEBOOK_ID}}``. The cells are found by this metadata alone, so
a translated notebook is checked as well: a leading bold label ending in a colon
(``**Réponse :**``) is removed like the English one.

Everything the report prints or writes (:func:`format_report`, :func:`write_csv`,
:func:`write_html`) goes through :func:`sanitize` first, so a student's text cannot send escape
sequences to the instructor's terminal.
"""

from __future__ import annotations

import csv
import html
import json
import math
import os
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

import nbformat

from twostream_lab.data.paths import atomic_file

#: Key of the notebook and cell metadata the activity notebook carries.
METADATA_KEY = "twostream_lab"
#: ``metadata["twostream_lab"]["notebook"]`` of the activity notebook.
NOTEBOOK_ID = "activity-abseiling"
#: The questions, as in the answer cells' ``metadata["twostream_lab"]["question"]``.
QUESTIONS: tuple[str, ...] = ("q1", "q2", "q3")
#: Cell roles (``metadata["twostream_lab"]["role"]``).
ROLE_NAME = "student-name"
ROLE_ANSWER = "answer"

NAME_LABEL = "**Student name:**"
NAME_PROMPT = "_write your name here_"
#: Template text of the student-name cell.
NAME_PLACEHOLDER = f"{NAME_LABEL} {NAME_PROMPT}"
ANSWER_LABEL = "**Answer:**"
ANSWER_PROMPT = "_write your answer here_"
#: Template text of every answer cell.
ANSWER_PLACEHOLDER = f"{ANSWER_LABEL} {ANSWER_PROMPT}"

#: The video the activity runs on, and the title its prediction and demo video carry.
DEMO_VIDEO_NAME = "abseiling_k400.mp4"
PREDICTION_TITLE = f"Prediction for {DEMO_VIDEO_NAME}"

#: Similarity ratio from which two submissions' answers count as near-identical.
SIMILARITY_THRESHOLD = 0.9
#: Submissions with fewer words of answers than this are not compared.
MIN_COMPARED_WORDS = 5
#: Fewest words an answer must have (see :func:`word_count`).
MIN_ANSWER_WORDS = 15
#: Shortest run of words, shared with the notebook's own text, that counts as copied.
COPIED_RUN = 5
#: Largest fraction of an answer's words that may be copied from the notebook's own text.
COPIED_FRACTION = 0.6

#: The checks, in report order (described in the module docstring).
CHECKS: tuple[str, ...] = (
    "readable", "notebook", "name", "executed", "errors", "answers", "own-words", "predictions",
    "no-demo", "video", "individual",
)
#: Values of the ``weights`` column.
WEIGHTS_KINDS: tuple[str, ...] = ("pretrained", "demo", "local", "mixed", "unknown")
#: Why the ``no-demo`` check fails an activity run with the demo models.
DEMO_WEIGHTS_REASON = (
    "the activity was run with the demo models, not the pretrained UCF101 models: re-run it with "
    'WEIGHTS = "pretrained" (see the notebook\'s weights cell), or pass --allow-demo to accept it'
)

_SKIPPED_DIRS = {"__MACOSX"}
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
_TITLE_FOR = re.compile(r"Prediction for ([\w.-]+\.\w+)")
_WEIGHTS_LINE = re.compile(r"weights:\s*(pretrained|demo|local)\b")
_MAX_FRAMES_LINE = re.compile(r"video: the first (\d+) of (\d+) frames")
_DAMAGED_LINE = re.compile(r"warning: only (\d+) of the (\d+) frames")
_ALL_FRAMES_LINE = re.compile(r"scoring: all frames \((\d+) RGB frames")
_TEXT_MIMES = ("text/plain", "text/markdown")
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


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check on one submission.

    Attributes
    ----------
    name : str
        One of :data:`CHECKS`.
    passed : bool
    reason : str
        Why it failed ('' when it passed).
    required : bool
        Whether failing it fails the submission.
    """

    name: str
    passed: bool
    reason: str = ""
    required: bool = True


@dataclass(frozen=True)
class SubmissionResult:
    """Everything :func:`check_submissions` found about one submitted file.

    Attributes
    ----------
    path : Path
        The file, as found from the paths given.
    checks : tuple of CheckResult
        In :data:`CHECKS` order; only ``readable`` when the file could not be read.
    student : str
        The name written in the student-name cell ('' when missing or still the template).
    answers : dict
        Question -> answer text, label removed ('' when missing, empty or still the template).
    similar_to : tuple of (Path, float)
        Other submissions whose answers are near-identical, with the similarity ratio.
    weights : str
        Which weights made the activity's prediction, one of :data:`WEIGHTS_KINDS`.
    frames : str
        Frames the prediction used of the clip's, e.g. ``"250/250"``, ``"60/250 (max_frames)"``
        or ``"55/250 (damaged)"`` ('' when the prediction text does not say).
    frames_note : str
        A sentence on a partial run ('' when the whole clip was used or nothing is known).
    questions : dict
        Question -> the text of the markdown cell above its answer cell (the question asked).
    answer_notes : dict
        Question -> what is wrong with that answer ('' or absent when nothing), for the HTML page.

    Examples
    --------
    >>> r = SubmissionResult(Path("a.ipynb"), (CheckResult("readable", False, "empty file"),))
    >>> r.ok, r.reasons, r.weights
    (False, 'readable: empty file', 'unknown')
    """

    path: Path
    checks: tuple[CheckResult, ...]
    student: str = ""
    answers: Mapping[str, str] = field(default_factory=dict)
    similar_to: tuple[tuple[Path, float], ...] = ()
    weights: str = "unknown"
    frames: str = ""
    frames_note: str = ""
    questions: Mapping[str, str] = field(default_factory=dict)
    answer_notes: Mapping[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when every required check passed."""
        return all(c.passed for c in self.checks if c.required)

    @property
    def failed(self) -> tuple[CheckResult, ...]:
        """The checks that failed, required or not."""
        return tuple(c for c in self.checks if not c.passed)

    @property
    def reasons(self) -> str:
        """The failed checks as ``"name: reason | name: reason"`` ('' when all passed)."""
        return " | ".join(f"{c.name}: {c.reason}" for c in self.failed)

    def check(self, name: str) -> CheckResult | None:
        """Return the result of check ``name``, or None when it was not run."""
        if name not in CHECKS:
            raise ValueError(f"unknown check {name!r}; expected one of {', '.join(CHECKS)}")
        return next((c for c in self.checks if c.name == name), None)


# --------------------------------------------------------------------------------------------
# Finding and reading submissions


def find_submissions(paths: str | os.PathLike | Iterable[str | os.PathLike]) -> list[Path]:
    """Return the notebooks to check: files as given, folders searched recursively for .ipynb.

    Inside folders, hidden files and folders (``.ipynb_checkpoints``, ``._x.ipynb``, ``.git``)
    and ``__MACOSX`` are skipped. Paths that do not exist are kept, so that the checker reports
    them. The list is sorted and holds each file once.

    Examples
    --------
    >>> find_submissions([])
    []
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    found: dict[Path, Path] = {}
    for given in map(Path, paths):
        candidates = _walk_notebooks(given) if given.is_dir() else [given]
        for path in candidates:
            found.setdefault(path.resolve(), path)
    return sorted(found.values(), key=str)


def _walk_notebooks(root: Path) -> list[Path]:
    notebooks = []
    for folder, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith(".") and d not in _SKIPPED_DIRS]
        notebooks.extend(
            Path(folder, name)
            for name in filenames
            if not name.startswith(".") and name.lower().endswith(".ipynb")
        )
    return notebooks


class _Unreadable(Exception):
    """The file is not a notebook we can check; the message says why."""


def _read_notebook(path: Path) -> Mapping[str, Any]:
    """Read ``path`` without ever writing to it and return the notebook as nbformat 4."""
    if not path.exists():
        raise _Unreadable("file not found")
    if not path.is_file():
        raise _Unreadable("not a file")
    try:
        data = path.read_bytes()
    except OSError as error:
        raise _Unreadable(f"cannot be read ({error.strerror or error})") from None
    if not data.strip():
        raise _Unreadable("empty file, not a Jupyter notebook")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _Unreadable("not a Jupyter notebook (binary data, not JSON text)") from None
    try:
        raw = json.loads(text)
    except ValueError as error:
        raise _Unreadable(f"not a Jupyter notebook: invalid JSON ({error})") from None
    except RecursionError:
        raise _Unreadable("not a Jupyter notebook: JSON nested too deeply") from None
    if not isinstance(raw, dict) or "nbformat" not in raw:
        raise _Unreadable("not a Jupyter notebook: JSON without an 'nbformat' key")
    try:
        return nbformat.convert(nbformat.reader.reads(text), 4)
    except Exception:
        # Malformed but v4-shaped: check what is there (all accessors below are defensive).
        if raw.get("nbformat") == 4 and isinstance(raw.get("cells"), list):
            return raw
        if raw.get("nbformat") == 4:
            raise _Unreadable("not a readable Jupyter notebook: no list of 'cells'") from None
        raise _Unreadable(
            f"unsupported notebook format {raw.get('nbformat')!r} (expected nbformat 4)"
        ) from None


# --------------------------------------------------------------------------------------------
# Small defensive accessors (a notebook read leniently may hold anything)


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "".join(part for part in value if isinstance(part, str))
    return ""


def _dict(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _cells(nb: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    cells = nb.get("cells")
    return [_dict(c) for c in cells] if isinstance(cells, list) else []


def _lab_metadata(node: Mapping[str, Any]) -> Mapping[str, Any]:
    return _dict(_dict(node.get("metadata")).get(METADATA_KEY))


def _outputs(cell: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    outputs = cell.get("outputs") if cell.get("cell_type") == "code" else None
    return [_dict(o) for o in outputs] if isinstance(outputs, list) else []


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


def _role_cells(
    nb: Mapping[str, Any], role: str, question: str | None = None
) -> list[Mapping[str, Any]]:
    return [
        c
        for c in _cells(nb)
        if _lab_metadata(c).get("role") == role
        and (question is None or _lab_metadata(c).get("question") == question)
    ]


# --------------------------------------------------------------------------------------------
# The checks on one notebook


def _check_notebook(nb: Mapping[str, Any]) -> str:
    problems = []
    notebook_id = _lab_metadata(nb).get("notebook")
    if notebook_id is None:
        problems.append(
            f"no '{METADATA_KEY}.notebook' notebook metadata (expected {NOTEBOOK_ID!r})"
        )
    elif notebook_id != NOTEBOOK_ID:
        problems.append(f"notebook metadata says {notebook_id!r}, expected {NOTEBOOK_ID!r}")
    if not _role_cells(nb, ROLE_NAME):
        problems.append("no student-name cell")
    missing = [q for q in QUESTIONS if not _role_cells(nb, ROLE_ANSWER, q)]
    if missing:
        problems.append(f"no answer cell for {', '.join(missing)}")
    if problems:
        return "not the activity notebook: " + "; ".join(problems)
    return ""


def _student_name(nb: Mapping[str, Any]) -> tuple[str, str]:
    """Return (name, reason it fails or '')."""
    cells = _role_cells(nb, ROLE_NAME)
    if not cells:
        return "", "no student-name cell"
    names = [_filled_in(_text(c.get("source")), NAME_LABEL, NAME_PROMPT) for c in cells]
    name = " ".join(_one_line(_EMPHASIS.sub(" ", n)) for n in names if n)
    if name:
        return name, ""
    return "", f"the student name is not filled in (still {NAME_PLACEHOLDER!r} or empty)"


def _check_executed(nb: Mapping[str, Any]) -> str:
    runs: list[tuple[int, int | None]] = []  # (cell number, execution count)
    for number, cell in enumerate(_cells(nb), start=1):
        if cell.get("cell_type") == "code" and _text(cell.get("source")).strip():
            count = cell.get("execution_count")
            runs.append((number, count if isinstance(count, int) else None))
    if not runs:
        return "the notebook has no code cells"
    problems = []
    not_run = [f"cell {n}" for n, count in runs if count is None]
    if not_run:
        problems.append(f"not executed: {_listing(not_run)}")
    ran = [(n, count) for n, count in runs if count is not None]
    pairs = list(zip(ran, ran[1:]))
    backwards = [
        f"cell {n2} [{c2}] after cell {n1} [{c1}]" for (n1, c1), (n2, c2) in pairs if c2 <= c1
    ]
    if backwards:
        problems.append(f"run out of order: {_listing(backwards)}")
    if ran and ran[0][1] != 1:
        problems.append(
            f"counts start at [{ran[0][1]}], not [1] (the kernel was not restarted before the run)"
        )
    jumps = [f"[{c1}] to [{c2}] before cell {n2}" for (n1, c1), (n2, c2) in pairs if c2 > c1 + 1]
    if jumps:
        problems.append(f"re-runs or extra runs, counts jump {_listing(jumps)}")
    if problems:
        return "; ".join(problems) + "; fix: restart the kernel and run all cells"
    return ""


def _check_errors(nb: Mapping[str, Any]) -> str:
    errors = []
    for number, cell in enumerate(_cells(nb), start=1):
        for output in _outputs(cell):
            if output.get("output_type") == "error":
                message = f"{_text(output.get('ename')) or 'error'}: {_text(output.get('evalue'))}"
                errors.append(f"cell {number} ({_one_line(message, 60)})")
    return f"error output in {_listing(errors)}" if errors else ""


def _answers(nb: Mapping[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """Return ({question: answer text}, {question: what is wrong with it}) for every question."""
    answers: dict[str, str] = {}
    problems: dict[str, str] = {}
    for question in QUESTIONS:
        cells = _role_cells(nb, ROLE_ANSWER, question)
        texts = [
            _filled_in(_text(c.get("source")), ANSWER_LABEL, ANSWER_PROMPT)
            for c in cells
            if c.get("cell_type") == "markdown"
        ]
        answers[question] = "\n\n".join(t for t in texts if t)
        words = word_count(answers[question])
        if not cells:
            problems[question] = "answer cell missing"
        elif not answers[question]:
            if any(c.get("cell_type") != "markdown" for c in cells):
                problems[question] = "answer cell is not a markdown (text) cell"
            else:
                problems[question] = "not answered (empty or still the template)"
        elif words < MIN_ANSWER_WORDS:
            problems[question] = (
                f"too short ({words} word{'' if words == 1 else 's'}; "
                f"an answer needs at least {MIN_ANSWER_WORDS})"
            )
    return answers, problems


def _own_texts(nb: Mapping[str, Any]) -> list[str]:
    """The notebook's own markdown: every markdown cell without a role (instructions, questions)."""
    return [
        _text(c.get("source"))
        for c in _cells(nb)
        if c.get("cell_type") == "markdown" and not _lab_metadata(c).get("role")
    ]


def _runs_of(tokens: Sequence[str]) -> set[tuple[str, ...]]:
    return {tuple(tokens[i:i + COPIED_RUN]) for i in range(len(tokens) - COPIED_RUN + 1)}


def _copied(answer: str, sources: Sequence[str]) -> tuple[float, str]:
    """Return (fraction of the answer's words copied from ``sources``, the source most copied)."""
    words = _tokens(answer)
    source_runs = [_runs_of(_tokens(source)) for source in sources]
    shared = set().union(*source_runs) & _runs_of(words)
    if not shared:
        return 0.0, ""
    covered = [False] * len(words)
    for i in range(len(words) - COPIED_RUN + 1):
        if tuple(words[i:i + COPIED_RUN]) in shared:
            covered[i:i + COPIED_RUN] = [True] * COPIED_RUN
    best = max(range(len(sources)), key=lambda k: len(source_runs[k] & shared))
    return sum(covered) / len(words), sources[best]


def _check_own_words(answers: Mapping[str, str], sources: Sequence[str]) -> dict[str, str]:
    """Return {question: why its answer is not in the student's own words} for copied answers."""
    problems = {}
    for question, answer in answers.items():
        fraction, source = _copied(answer, sources)
        if fraction > COPIED_FRACTION:
            snippet = _one_line(_EMPHASIS.sub("", source), 60)
            problems[question] = (
                f"copied from the notebook's own text ({fraction:.0%} of its words, from "
                f'"{snippet}"): answer in your own words'
            )
    return problems


def _problems_reason(problems: Mapping[str, str]) -> str:
    return "; ".join(f"{question} {problem}" for question, problem in problems.items())


def _question_texts(nb: Mapping[str, Any]) -> dict[str, str]:
    """Question -> text of the nearest markdown cell without a role above its answer cell."""
    cells = _cells(nb)
    questions: dict[str, str] = {}
    for k, cell in enumerate(cells):
        meta = _lab_metadata(cell)
        question = meta.get("question")
        if meta.get("role") != ROLE_ANSWER or question not in QUESTIONS or question in questions:
            continue
        above = next(
            (c for c in reversed(cells[:k])
             if c.get("cell_type") == "markdown" and not _lab_metadata(c).get("role")),
            {},
        )
        questions[question] = _text(above.get("source")).strip()
    return questions


def _output_texts(nb: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """Return (text outputs, HTML outputs) of all code cells."""
    texts, htmls = [], []
    for cell in _cells(nb):
        for output in _outputs(cell):
            if output.get("output_type") == "stream":
                texts.append(_text(output.get("text")))
            data = _dict(output.get("data"))
            texts.extend(_text(data.get(mime)) for mime in _TEXT_MIMES if mime in data)
            if "text/html" in data:
                htmls.append(_text(data.get("text/html")))
    return texts, htmls


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


def _inspect(path: Path, optional: frozenset[str], allow_demo: bool) -> SubmissionResult:
    def result(name: str, reason: str) -> CheckResult:
        return CheckResult(name, not reason, reason, name not in optional)

    try:
        nb = _read_notebook(path)
    except _Unreadable as why:
        return SubmissionResult(path, (result("readable", str(why)),))
    student, name_reason = _student_name(nb)
    answers, answer_problems = _answers(nb)
    copied = _check_own_words(answers, _own_texts(nb))
    texts, htmls = _output_texts(nb)
    predictions = _prediction_texts(texts)
    used = _weights_used(predictions)
    frames, frames_note = _frames(predictions)
    checks = (
        result("readable", ""),
        result("notebook", _check_notebook(nb)),
        result("name", name_reason),
        result("executed", _check_executed(nb)),
        result("errors", _check_errors(nb)),
        result("answers", _problems_reason(answer_problems)),
        result("own-words", _problems_reason(copied)),
        result("predictions", _check_predictions(texts)),
        result("no-demo", _check_weights(used, allow_demo)),
        result("video", _check_video(htmls)),
    )
    notes = {q: "; ".join(filter(None, (answer_problems.get(q), copied.get(q)))) for q in QUESTIONS}
    return SubmissionResult(
        path,
        checks,
        student=student,
        answers=answers,
        weights=_weights_kind(used),
        frames=frames,
        frames_note=frames_note,
        questions=_question_texts(nb),
        answer_notes={q: note for q, note in notes.items() if note},
    )


# --------------------------------------------------------------------------------------------
# Near-identical answers across submissions


def similar_answers(
    texts: Sequence[str],
    *,
    threshold: float = SIMILARITY_THRESHOLD,
    min_words: int = MIN_COMPARED_WORDS,
) -> list[tuple[int, int, float]]:
    """Return the pairs of near-identical texts as ``(i, j, ratio)`` with ``i < j``.

    Texts are compared word by word after normalising case, whitespace and markdown emphasis,
    with :class:`difflib.SequenceMatcher` (no automatic junk). Texts with fewer than
    ``min_words`` words are never paired.

    Examples
    --------
    >>> a = "Motion helps when the appearance is ambiguous, like abseiling vs climbing."
    >>> b = "motion helps when the  appearance is ambiguous, like ABSEILING vs climbing."
    >>> similar_answers([a, b, "Something else entirely, written by another student."])
    [(0, 1, 1.0)]
    """
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"threshold must be in (0, 1], got {threshold}")
    words = [_normalize(text).split() for text in texts]
    pairs = []
    for i, a in enumerate(words):
        if len(a) < min_words:
            continue
        for j in range(i + 1, len(words)):
            b = words[j]
            if len(b) < min_words:
                continue
            matcher = SequenceMatcher(None, a, b, autojunk=False)
            if matcher.real_quick_ratio() < threshold or matcher.quick_ratio() < threshold:
                continue
            ratio = matcher.ratio()
            if ratio >= threshold:
                pairs.append((i, j, ratio))
    return pairs


def _with_individual(
    results: list[SubmissionResult], threshold: float, optional: frozenset[str]
) -> list[SubmissionResult]:
    readable = [k for k, r in enumerate(results) if r.check("readable").passed]
    texts = ["\n".join(results[k].answers.get(q, "") for q in QUESTIONS) for k in readable]
    similar: dict[int, list[tuple[int, float]]] = {k: [] for k in readable}
    for i, j, ratio in similar_answers(texts, threshold=threshold):
        similar[readable[i]].append((readable[j], ratio))
        similar[readable[j]].append((readable[i], ratio))
    updated = list(results)
    for k, others in similar.items():
        others.sort(key=lambda pair: (-pair[1], str(results[pair[0]].path)))
        described = [
            _path_text(results[o].path)
            + (f" ({results[o].student})" if results[o].student else "")
            + f" {ratio:.0%}"
            for o, ratio in others
        ]
        reason = f"answers near-identical to {_listing(described)}" if others else ""
        check = CheckResult("individual", not reason, reason, "individual" not in optional)
        updated[k] = replace(
            results[k],
            checks=results[k].checks + (check,),
            similar_to=tuple((results[o].path, ratio) for o, ratio in others),
        )
    return updated


# --------------------------------------------------------------------------------------------
# Public entry points


def check_submissions(
    paths: str | os.PathLike | Iterable[str | os.PathLike],
    *,
    allow_demo: bool = False,
    optional: Iterable[str] = (),
    threshold: float = SIMILARITY_THRESHOLD,
) -> list[SubmissionResult]:
    """Check executed activity notebooks; files are only ever read.

    Parameters
    ----------
    paths : path or iterable of paths
        Notebook files and/or folders (searched recursively for ``.ipynb``, see
        :func:`find_submissions`).
    allow_demo : bool
        Accept an activity run with the demo models (the ``no-demo`` check then passes; the
        ``weights`` column still says ``demo``).
    optional : iterable of str
        Checks that are still run and reported but do not fail a submission, e.g.
        ``("individual",)`` for pair work. ``"readable"`` is always required.
    threshold : float
        Similarity ratio from which answers count as near-identical.

    Returns
    -------
    list of SubmissionResult
        One per file, sorted by path; unreadable and non-notebook files included.

    Examples
    --------
    >>> results = check_submissions("submissions/")  # doctest: +SKIP
    >>> [(r.path.name, r.ok, r.weights) for r in results]  # doctest: +SKIP
    [('alice.ipynb', True, 'pretrained'), ('bob.ipynb', False, 'demo')]
    """
    optional = frozenset(optional)
    unknown = sorted(optional - set(CHECKS))
    if unknown:
        raise ValueError(
            f"unknown check(s) {', '.join(map(repr, unknown))} in optional; "
            f"expected some of: {', '.join(CHECKS)}"
        )
    if "readable" in optional:
        raise ValueError("'readable' cannot be optional: no other check runs on an unreadable file")
    results = [_inspect(path, optional, allow_demo) for path in find_submissions(paths)]
    return _with_individual(results, threshold, optional)


def exit_code(results: Sequence[SubmissionResult]) -> int:
    """Return the command's exit status: 0 all passed, 1 some failed, 2 nothing was checked.

    Examples
    --------
    >>> exit_code([])
    2
    """
    if not results:
        return 2
    return 0 if all(r.ok for r in results) else 1


def _cell_mark(check: CheckResult | None) -> str:
    if check is None:
        return "-"
    if check.passed:
        return "ok"
    return "FAIL" if check.required else "warn"


def _fit(text: str, width: int, *, keep_end: bool = False) -> str:
    if len(text) <= width:
        return text
    return "..." + text[-(width - 3):] if keep_end else text[: width - 3] + "..."


def _who(result: SubmissionResult) -> str:
    """The submission's file and, when known, its student, sanitised for printing."""
    student = sanitize(result.student)
    return _path_text(result.path) + (f" ({student})" if student else "")


def format_report(results: Sequence[SubmissionResult]) -> str:
    """Return the plain-text report: a table (one row per submission), reasons, notes on partial
    runs, similar pairs.

    ``ok`` passed, ``FAIL`` failed, ``warn`` failed an optional check, ``-`` not run. Every line
    is passed through :func:`sanitize`.

    Examples
    --------
    >>> print(format_report([]))
    No submissions to check.
    """
    if not results:
        return "No submissions to check."
    rows = [
        [
            _fit(_path_text(r.path), 40, keep_end=True),
            _fit(sanitize(r.student) or "-", 24),
            r.weights,
            sanitize(r.frames) or "-",
            *(_cell_mark(r.check(name)) for name in CHECKS),
            "PASS" if r.ok else "FAIL",
        ]
        for r in results
    ]
    header = ["submission", "student", "weights", "frames", *CHECKS, "result"]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(cell.ljust(w) for cell, w in zip(cells, widths)).rstrip()

    lines = [line(header), line(["-" * w for w in widths]), *map(line, rows)]
    failing = [r for r in results if r.failed]
    if failing:
        lines += ["", "Problems"]
        for r in failing:
            lines.append(_who(r))
            lines += [
                f"  {c.name}{'' if c.required else ' (optional)'}: {c.reason}" for c in r.failed
            ]
    partial = [r for r in results if r.frames_note]
    if partial:
        lines += ["", "Notes (not failures)"]
        lines += [f"  {_who(r)}: {r.frames_note}" for r in partial]
    pairs = sorted(
        {
            tuple(sorted((_path_text(r.path), _path_text(other)))) + (ratio,)
            for r in results
            for other, ratio in r.similar_to
        }
    )
    if pairs:
        lines += ["", "Near-identical answers (pairs, similarity)"]
        lines += [f"  {a}  ~  {b}  {ratio:.0%}" for a, b, ratio in pairs]
    passed = sum(r.ok for r in results)
    failed = len(results) - passed
    lines += ["", f"{len(results)} submissions checked: {passed} passed, {failed} failed."]
    return "\n".join(map(sanitize, lines))


def _report_path(path: str | os.PathLike, results: Sequence[SubmissionResult], kind: str) -> Path:
    """``path`` as a Path, refused when it is one of the submissions."""
    path = Path(path)
    if path.resolve() in {r.path.resolve() for r in results}:
        raise ValueError(
            f"refusing to write the {kind} report over a submission: {_path_text(path)}; "
            "choose another file name"
        )
    return path


def _csv_cell(text: str, *, multiline: bool = False) -> str:
    text = sanitize(text, multiline=multiline)
    # A student-written value starting like a formula must not run when the CSV is opened.
    return "'" + text if text.lstrip()[:1] in ("=", "+", "-", "@") else text


def _csv_mark(check: CheckResult | None) -> str:
    if check is None:
        return ""
    if check.passed:
        return "pass"
    return "fail" if check.required else "fail (optional)"


def write_csv(results: Sequence[SubmissionResult], path: str | os.PathLike) -> Path:
    """Write the report as CSV: one row per submission, one column per check, then the answers.

    Columns: ``path``, ``student``, ``result`` (pass/fail), ``weights`` (see
    :data:`WEIGHTS_KINDS`), ``frames``, one per check in :data:`CHECKS` (``pass``, ``fail``,
    ``fail (optional)`` or empty when not run), ``reasons``, then one per question in
    :data:`QUESTIONS` with the answer's text (line breaks kept). Every value is passed through
    :func:`sanitize`, and one starting like a spreadsheet formula gets a leading ``'``. The file
    is written atomically (:func:`twostream_lab.data.paths.atomic_file`).

    Examples
    --------
    >>> write_csv(check_submissions("submissions/"), "report.csv")  # doctest: +SKIP
    PosixPath('report.csv')
    """
    path = _report_path(path, results, "CSV")
    with atomic_file(path) as tmp, tmp.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream, lineterminator="\n")  # no control character but line feeds
        writer.writerow(["path", "student", "result", "weights", "frames", *CHECKS, "reasons",
                         *QUESTIONS])
        for r in results:
            writer.writerow(
                [
                    _csv_cell(_path_text(r.path)),
                    _csv_cell(r.student),
                    "pass" if r.ok else "fail",
                    r.weights,
                    _csv_cell(r.frames),
                    *(_csv_mark(r.check(name)) for name in CHECKS),
                    _csv_cell(r.reasons),
                    *(_csv_cell(r.answers.get(q, ""), multiline=True) for q in QUESTIONS),
                ]
            )
    return path


_HTML_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; line-height: 1.4; color: #222; }
table { border-collapse: collapse; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.2em 0.5em; text-align: left; vertical-align: top; }
td.ok { background: #e6f4e6; } td.FAIL { background: #fbe3e3; } td.warn { background: #fff6d6; }
.question { font-style: italic; white-space: pre-wrap; }
.answer { border-left: 4px solid #ccc; margin: 1em 0; padding: 0.2em 1em; }
.answer.flagged { border-left-color: #c33; }
.text { white-space: pre-wrap; }
.note { color: #a00; }
"""


def _h(text: str, *, multiline: bool = False) -> str:
    """``text`` sanitised and escaped for HTML."""
    return html.escape(sanitize(text, multiline=multiline))


def _html_page(results: Sequence[SubmissionResult]) -> str:
    passed = sum(r.ok for r in results)
    title = f"Activity {NOTEBOOK_ID}: {len(results)} submissions"
    header = ["submission", "student", "weights", "frames", *CHECKS, "result", "problems"]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        f'<head><meta charset="utf-8"><title>{_h(title)}</title>',
        f"<style>{_HTML_STYLE}</style></head>",
        "<body>",
        f"<h1>{_h(title)}</h1>",
        f"<p>{len(results)} submissions checked: {passed} passed, {len(results) - passed} failed."
        "</p>",
        "<h2>Summary</h2>",
        "<table><thead><tr>" + "".join(f"<th>{_h(h)}</th>" for h in header) + "</tr></thead>",
        "<tbody>",
    ]
    for r in results:
        marks = [_cell_mark(r.check(name)) for name in CHECKS]
        cells = [
            f"<td><code>{_h(_path_text(r.path))}</code></td>",
            f"<td>{_h(r.student) or '-'}</td>",
            f"<td>{_h(r.weights)}</td>",
            f"<td>{_h(r.frames) or '-'}</td>",
            *(f'<td class="{mark}">{mark}</td>' for mark in marks),
            f'<td class="{"ok" if r.ok else "FAIL"}">{"PASS" if r.ok else "FAIL"}</td>',
            f"<td>{_h(r.reasons)}</td>",
        ]
        parts.append("<tr>" + "".join(cells) + "</tr>")
    parts += ["</tbody></table>", "<h2>Answers</h2>"]
    readable = [r for r in results if r.check("readable").passed]
    for question in QUESTIONS:
        asked = Counter(r.questions[question] for r in readable if r.questions.get(question))
        text = asked.most_common(1)[0][0] if asked else ""
        parts += [f'<section id="{question}">', f"<h3>{question}</h3>"]
        if text:
            parts.append(f'<p class="question">{_h(text, multiline=True)}</p>')
        for r in readable:
            note = r.answer_notes.get(question, "")
            answer = r.answers.get(question, "")
            parts += [
                f'<div class="answer{" flagged" if note else ""}">',
                f"<p><strong>{_h(r.student) or '(no name)'}</strong> "
                f"<code>{_h(_path_text(r.path))}</code></p>",
                f'<div class="text">{_h(answer, multiline=True) or "<em>(no answer)</em>"}</div>',
            ]
            if note:
                parts.append(f'<p class="note">{_h(note)}</p>')
            parts.append("</div>")
        parts.append("</section>")
    parts += ["</body>", "</html>", ""]
    return "\n".join(parts)


def write_html(results: Sequence[SubmissionResult], path: str | os.PathLike) -> Path:
    """Write a self-contained HTML page: the summary table, then the class's answers question by
    question (the question, then every readable submission's answer, with what is wrong with it).

    Every text from a submission is passed through :func:`sanitize`, then :func:`html.escape`;
    the page has no script and loads nothing. The file is written atomically
    (:func:`twostream_lab.data.paths.atomic_file`).

    Examples
    --------
    >>> write_html(check_submissions("submissions/"), "answers.html")  # doctest: +SKIP
    PosixPath('answers.html')
    """
    path = _report_path(path, results, "HTML")
    with atomic_file(path) as tmp:
        tmp.write_text(_html_page(results), encoding="utf-8")
    return path


def run_check(
    paths: str | os.PathLike | Iterable[str | os.PathLike],
    csv_path: str | os.PathLike | None = None,
    *,
    html_path: str | os.PathLike | None = None,
    allow_demo: bool = False,
    optional: Iterable[str] = (),
    threshold: float = SIMILARITY_THRESHOLD,
) -> tuple[str, int]:
    """Do what ``twostream-lab check PATH... [--csv report.csv] [--html report.html]
    [--allow-demo]`` does; return (text, exit code).

    Examples
    --------
    >>> text, code = run_check(["subs/"], "report.csv", html_path="report.html")  # doctest: +SKIP
    """
    paths = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    if csv_path is not None and html_path is not None:
        if Path(csv_path).resolve() == Path(html_path).resolve():
            raise ValueError(
                f"the CSV and the HTML report would be the same file: {_path_text(csv_path)}"
            )
    results = check_submissions(paths, allow_demo=allow_demo, optional=optional,
                                threshold=threshold)
    if results:
        lines = [format_report(results)]
    else:
        lines = ["No .ipynb submissions found in: " + ", ".join(map(_path_text, paths))]
    if csv_path is not None:
        lines.append(f"CSV report written to {_path_text(write_csv(results, csv_path))}")
    if html_path is not None:
        lines.append(f"HTML report written to {_path_text(write_html(results, html_path))}")
    return "\n".join(lines), exit_code(results)
