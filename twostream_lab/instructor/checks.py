"""The checks on one submission, near-identical answers across submissions, and
:func:`check_submissions` (see :mod:`twostream_lab.instructor.checker`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

from twostream_lab.instructor.constants import (
    ANSWER_PLACEHOLDER,
    CHECKS,
    COPIED_FRACTION,
    COPIED_RUN,
    METADATA_KEY,
    MIN_ANSWER_WORDS,
    MIN_COMPARED_WORDS,
    NAME_PLACEHOLDER,
    NOTEBOOK_ID,
    QUESTIONS,
    ROLE_ANSWER,
    ROLE_NAME,
    SIMILARITY_THRESHOLD,
)
from twostream_lab.instructor.notebook import (
    _cells,
    _lab_metadata,
    _output_texts,
    _outputs,
    _own_texts,
    _question_texts,
    _read_notebook,
    _role_cells,
    _template,
    _text,
    _Unreadable,
    find_submissions,
)
from twostream_lab.instructor.predictions import (
    _check_predictions,
    _check_video,
    _check_weights,
    _frames,
    _prediction_texts,
    _weights_kind,
    _weights_used,
)
from twostream_lab.instructor.text import (
    _EMPHASIS,
    _filled_in,
    _listing,
    _normalize,
    _one_line,
    _path_text,
    _tokens,
    word_count,
)


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
        Question -> answer text, label and template prompt removed ('' when missing, empty or
        still the template).
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


def _templates(cells: Sequence[Mapping[str, Any]], placeholder: str) -> list[str]:
    """The templates to take out of these role cells' text: those their metadata records (in
    the notebook's own language), then the English ``placeholder``, which is all a notebook
    built before templates were recorded has."""
    return list(dict.fromkeys([*filter(None, map(_template, cells)), placeholder]))


def _student_name(nb: Mapping[str, Any]) -> tuple[str, str]:
    """Return (name, reason it fails or '')."""
    cells = _role_cells(nb, ROLE_NAME)
    if not cells:
        return "", "no student-name cell"
    templates = _templates(cells, NAME_PLACEHOLDER)
    names = [_filled_in(_text(c.get("source")), templates) for c in cells]
    name = " ".join(_one_line(_EMPHASIS.sub(" ", n)) for n in names if n)
    if name:
        return name, ""
    return "", f"the student name is not filled in (still {_one_line(templates[0])!r} or empty)"


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
        templates = _templates(cells, ANSWER_PLACEHOLDER)
        texts = [
            _filled_in(_text(c.get("source")), templates)
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
                problems[question] = (
                    f"not answered (empty or still {_one_line(templates[0])!r})"
                )
        elif words < MIN_ANSWER_WORDS:
            problems[question] = (
                f"too short ({words} word{'' if words == 1 else 's'}; "
                f"an answer needs at least {MIN_ANSWER_WORDS})"
            )
    return answers, problems


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
    """``"q1, q3 <problem>; q2 <other problem>"``: questions with the same problem named once."""
    questions: dict[str, list[str]] = {}
    for question, problem in problems.items():
        questions.setdefault(problem, []).append(question)
    return "; ".join(f"{', '.join(named)} {problem}" for problem, named in questions.items())


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
