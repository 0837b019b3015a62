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
    The student-name cell holds a name: after removing the ``**Student name:**`` label it is not
    empty and not the template's ``_write your name here_``.
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
    Each answer cell (``q1``, ``q2``, ``q3``) is a markdown cell whose text, without the
    ``**Answer:**`` label, is not empty and not the template's ``_write your answer here_``.
    A code cell's output is not an answer.
``predictions``
    A text output (printed text, ``text/plain`` or ``text/markdown``) of a code cell contains
    :data:`PREDICTION_TITLE`, ``"Prediction for abseiling_k400.mp4"``.
``video``
    An HTML output of a code cell holds a ``<video`` element and :data:`PREDICTION_TITLE`.
``individual``
    The answers are not near-identical to another submission's: answer texts are normalised
    (case, whitespace, markdown emphasis, label and template removed), joined q1..q3, and
    compared word by word with :class:`difflib.SequenceMatcher`; a ratio of at least
    :data:`SIMILARITY_THRESHOLD` flags both submissions, each naming the other. Submissions with
    fewer than :data:`MIN_COMPARED_WORDS` words of answers are not compared.

In reasons, cells are numbered from 1 over all cells of the notebook, markdown cells included;
``[3]`` is an execution count. Every check is required unless named in ``optional``:
a submission passes when it passes all its required checks.

The activity notebook marks its special cells with cell metadata (see :data:`METADATA_KEY`):
``{"twostream_lab": {"role": "student-name"}}`` for the name cell, whose template text is
:data:`NAME_PLACEHOLDER`, and ``{"twostream_lab": {"role": "answer", "question": "q1"}}`` for
the answer cells, whose template text is :data:`ANSWER_PLACEHOLDER`. Its notebook metadata is
``{"twostream_lab": {"notebook": NOTEBOOK_ID}}``.
"""

from __future__ import annotations

import csv
import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

import nbformat

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

#: The checks, in report order (described in the module docstring).
CHECKS: tuple[str, ...] = (
    "readable", "notebook", "name", "executed", "errors", "answers", "predictions", "video",
    "individual",
)

_SKIPPED_DIRS = {"__MACOSX"}
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_EMPHASIS = re.compile(r"[*_`]+")
_TITLE_FOR = re.compile(r"Prediction for ([\w.-]+\.\w+)")
_TEXT_MIMES = ("text/plain", "text/markdown")
_SHOWN = 3  # how many examples a reason lists before "and N more"


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

    Examples
    --------
    >>> r = SubmissionResult(Path("a.ipynb"), (CheckResult("readable", False, "empty file"),))
    >>> r.ok, r.reasons
    (False, 'readable: empty file')
    """

    path: Path
    checks: tuple[CheckResult, ...]
    student: str = ""
    answers: Mapping[str, str] = field(default_factory=dict)
    similar_to: tuple[tuple[Path, float], ...] = ()

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
    text = " ".join(_ANSI.sub("", text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _listing(items: Sequence[str]) -> str:
    shown = ", ".join(items[:_SHOWN])
    return shown + (f" and {len(items) - _SHOWN} more" if len(items) > _SHOWN else "")


def _normalize(text: str) -> str:
    """Case-folded text without markdown emphasis, whitespace collapsed."""
    return " ".join(_EMPHASIS.sub(" ", text).casefold().split())


def _strip_label(text: str, label: str) -> str:
    words = re.escape(label.strip("*_ :"))
    return re.sub(rf"^\s*[*_]*\s*{words}\s*[*_]*\s*:\s*[*_]*", "", text, count=1, flags=re.I)


def _filled_in(text: str, label: str, prompt: str) -> str:
    """The text a student wrote in a template cell: label and template prompt removed."""
    body = _strip_label(text, label)
    if not _normalize(body).replace(_normalize(prompt), "").strip():
        return ""
    return body.replace(prompt, "").strip()


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
    roles = [_lab_metadata(c) for c in _cells(nb)]
    if not any(m.get("role") == ROLE_NAME for m in roles):
        problems.append("no student-name cell")
    found = {m.get("question") for m in roles if m.get("role") == ROLE_ANSWER}
    missing = [q for q in QUESTIONS if q not in found]
    if missing:
        problems.append(f"no answer cell for {', '.join(missing)}")
    if problems:
        return "not the activity notebook: " + "; ".join(problems)
    return ""


def _student_name(nb: Mapping[str, Any]) -> tuple[str, str]:
    """Return (name, reason it fails or '')."""
    cells = [c for c in _cells(nb) if _lab_metadata(c).get("role") == ROLE_NAME]
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


def _answers(nb: Mapping[str, Any]) -> tuple[dict[str, str], str]:
    """Return ({question: answer text}, reason it fails or '')."""
    answers: dict[str, str] = {}
    problems = []
    for question in QUESTIONS:
        cells = [
            c
            for c in _cells(nb)
            if _lab_metadata(c).get("role") == ROLE_ANSWER
            and _lab_metadata(c).get("question") == question
        ]
        texts = [
            _filled_in(_text(c.get("source")), ANSWER_LABEL, ANSWER_PROMPT)
            for c in cells
            if c.get("cell_type") == "markdown"
        ]
        answers[question] = "\n\n".join(t for t in texts if t)
        if not cells:
            problems.append(f"{question} answer cell missing")
        elif not answers[question]:
            if any(c.get("cell_type") != "markdown" for c in cells):
                problems.append(f"{question} answer cell is not a markdown (text) cell")
            else:
                problems.append(f"{question} not answered (empty or still the template)")
    return answers, "; ".join(problems)


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


def _inspect(path: Path, optional: frozenset[str]) -> SubmissionResult:
    def result(name: str, reason: str) -> CheckResult:
        return CheckResult(name, not reason, reason, name not in optional)

    try:
        nb = _read_notebook(path)
    except _Unreadable as why:
        return SubmissionResult(path, (result("readable", str(why)),))
    student, name_reason = _student_name(nb)
    answers, answers_reason = _answers(nb)
    texts, htmls = _output_texts(nb)
    checks = (
        result("readable", ""),
        result("notebook", _check_notebook(nb)),
        result("name", name_reason),
        result("executed", _check_executed(nb)),
        result("errors", _check_errors(nb)),
        result("answers", answers_reason),
        result("predictions", _check_predictions(texts)),
        result("video", _check_video(htmls)),
    )
    return SubmissionResult(path, checks, student=student, answers=answers)


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
            f"{results[o].path}" + (f" ({results[o].student})" if results[o].student else "")
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
    optional: Iterable[str] = (),
    threshold: float = SIMILARITY_THRESHOLD,
) -> list[SubmissionResult]:
    """Check executed activity notebooks; files are only ever read.

    Parameters
    ----------
    paths : path or iterable of paths
        Notebook files and/or folders (searched recursively for ``.ipynb``, see
        :func:`find_submissions`).
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
    >>> [(r.path.name, r.ok) for r in results]  # doctest: +SKIP
    [('alice.ipynb', True), ('bob.ipynb', False)]
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
    results = [_inspect(path, optional) for path in find_submissions(paths)]
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


def format_report(results: Sequence[SubmissionResult]) -> str:
    """Return the plain-text report: a table (one row per submission), reasons, similar pairs.

    ``ok`` passed, ``FAIL`` failed, ``warn`` failed an optional check, ``-`` not run.

    Examples
    --------
    >>> print(format_report([]))
    No submissions to check.
    """
    if not results:
        return "No submissions to check."
    rows = [
        [
            _fit(str(r.path), 40, keep_end=True),
            _fit(r.student or "-", 24),
            *(_cell_mark(r.check(name)) for name in CHECKS),
            "PASS" if r.ok else "FAIL",
        ]
        for r in results
    ]
    header = ["submission", "student", *CHECKS, "result"]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(cell.ljust(w) for cell, w in zip(cells, widths)).rstrip()

    lines = [line(header), line(["-" * w for w in widths]), *map(line, rows)]
    failing = [r for r in results if r.failed]
    if failing:
        lines += ["", "Problems"]
        for r in failing:
            lines.append(f"{r.path}" + (f" ({r.student})" if r.student else ""))
            lines += [
                f"  {c.name}{'' if c.required else ' (optional)'}: {c.reason}" for c in r.failed
            ]
    pairs = sorted(
        {
            tuple(sorted((str(r.path), str(other)))) + (ratio,)
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
    return "\n".join(lines)


def _csv_cell(text: str) -> str:
    # A student-written value starting like a formula must not run when the CSV is opened.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv_mark(check: CheckResult | None) -> str:
    if check is None:
        return ""
    if check.passed:
        return "pass"
    return "fail" if check.required else "fail (optional)"


def write_csv(results: Sequence[SubmissionResult], path: str | os.PathLike) -> Path:
    """Write the report as CSV: one row per submission, one column per check, then reasons.

    Columns: ``path``, ``student``, ``result`` (pass/fail), one per check in :data:`CHECKS`
    (``pass``, ``fail``, ``fail (optional)`` or empty when not run), ``reasons``.

    Examples
    --------
    >>> write_csv(check_submissions("submissions/"), "report.csv")  # doctest: +SKIP
    PosixPath('report.csv')
    """
    path = Path(path)
    submissions = {r.path.resolve() for r in results}
    if path.resolve() in submissions:
        raise ValueError(
            f"refusing to write the CSV report over a submission: {path}; choose another file name"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(["path", "student", "result", *CHECKS, "reasons"])
        for r in results:
            marks = [_csv_mark(r.check(name)) for name in CHECKS]
            writer.writerow(
                [
                    _csv_cell(str(r.path)),
                    _csv_cell(r.student),
                    "pass" if r.ok else "fail",
                    *marks,
                    _csv_cell(r.reasons),
                ]
            )
    return path


def run_check(
    paths: str | os.PathLike | Iterable[str | os.PathLike],
    csv_path: str | os.PathLike | None = None,
    *,
    optional: Iterable[str] = (),
    threshold: float = SIMILARITY_THRESHOLD,
) -> tuple[str, int]:
    """Do what ``twostream-lab check PATH... [--csv report.csv]`` does; return (text, exit code).

    Examples
    --------
    >>> text, code = run_check(["submissions/"], "report.csv")  # doctest: +SKIP
    """
    paths = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    results = check_submissions(paths, optional=optional, threshold=threshold)
    if results:
        text = format_report(results)
    else:
        text = "No .ipynb submissions found in: " + ", ".join(map(str, paths))
    if csv_path is not None:
        text += f"\nCSV report written to {write_csv(results, csv_path)}"
    return text, exit_code(results)
