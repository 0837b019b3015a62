"""The checker's reports: the terminal table (:func:`format_report`), CSV, HTML, and
:func:`run_check`, what ``twostream-lab check`` does.
"""

from __future__ import annotations

import csv
import html
import os
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

from twostream_lab.data.paths import atomic_file
from twostream_lab.instructor.checks import (
    CheckResult,
    SubmissionResult,
    check_submissions,
    exit_code,
)
from twostream_lab.instructor.constants import (
    CHECKS,
    NOTEBOOK_ID,
    QUESTIONS,
    SIMILARITY_THRESHOLD,
)
from twostream_lab.instructor.text import _path_text, sanitize


#: How a check's outcome is written: (not run, passed, failed, optional and failed).
_TABLE_MARKS = ("-", "ok", "FAIL", "warn")
_CSV_MARKS = ("", "pass", "fail", "fail (optional)")


def _mark(check: CheckResult | None, marks: tuple[str, str, str, str] = _TABLE_MARKS) -> str:
    not_run, passed, failed, optional = marks
    if check is None:
        return not_run
    if check.passed:
        return passed
    return failed if check.required else optional


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
            *(_mark(r.check(name)) for name in CHECKS),
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
                    *(_mark(r.check(name), _CSV_MARKS) for name in CHECKS),
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
        marks = [_mark(r.check(name)) for name in CHECKS]
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
