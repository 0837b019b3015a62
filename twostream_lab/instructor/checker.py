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
    The student-name cell holds a name: after removing its template's label and prompt (see
    below) it is not empty.
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
    Each answer cell (one per :data:`QUESTIONS`) is a markdown cell whose text, without its
    template's label and prompt, is not empty and at least :data:`MIN_ANSWER_WORDS` words long
    (see :func:`word_count`). A code cell's output is not an answer.
``own-words``
    No answer is mostly the lab's own text: at most :data:`COPIED_FRACTION` of an answer's words
    may lie in runs of :data:`COPIED_RUN` or more words that also occur in the notebook's own
    text: its markdown cells without a role (the instructions and questions) and the templates
    of the cells with one (so a template prompt, even edited, is not the student's words).
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
    (case, whitespace, markdown emphasis, label and template removed), joined q1..q5, and
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
``{"twostream_lab": {"role": "student-name", "template": "**Student name:** _write your name
here_"}}`` for the name cell and ``{"twostream_lab": {"role": "answer", "question": "q1",
"template": "**Answer:** _write your answer here_"}}`` for the answer cells. ``template`` is the
cell's text as the notebook was built (``tools/build_notebooks.py`` records it from the cell's
source), in whatever language the notebook is written. Its notebook metadata is
``{"twostream_lab": {"notebook": NOTEBOOK_ID}}``. The cells are found by this metadata alone, and
a cell is still the template when nothing is left of its text after removing, whatever their
case, spacing and emphasis, the template's label (its leading bold part, e.g. ``**Nombre:**``)
and its prompt (the rest, ``_escribe tu nombre aquí_``), or the English
:data:`NAME_PLACEHOLDER` / :data:`ANSWER_PLACEHOLDER`, which are all a notebook built without
``template`` has. Any other leading bold label ending in a colon (``**Réponse :**``) is removed
too. Reasons name the template in the notebook's own language.

Everything the report prints or writes (:func:`format_report`, :func:`write_csv`,
:func:`write_html`) goes through :func:`sanitize` first, so a student's text cannot send escape
sequences to the instructor's terminal.

The implementation lives in the package's modules, imported one way (each only from those
before it): :mod:`~twostream_lab.instructor.constants`, :mod:`~twostream_lab.instructor.text`
(sanitising, word counts, normalisation), :mod:`~twostream_lab.instructor.notebook` (finding
and reading submissions), :mod:`~twostream_lab.instructor.predictions` (prediction texts,
weights, frames), :mod:`~twostream_lab.instructor.checks` (the checks,
:func:`check_submissions`) and :mod:`~twostream_lab.instructor.report` (terminal table, CSV,
HTML, :func:`run_check`). This module is the public one: it re-exports their public API.
"""

from __future__ import annotations

from twostream_lab.instructor.checks import (
    CheckResult,
    SubmissionResult,
    check_submissions,
    exit_code,
    similar_answers,
)
from twostream_lab.instructor.constants import (
    ANSWER_LABEL,
    ANSWER_PLACEHOLDER,
    ANSWER_PROMPT,
    CHECKS,
    COPIED_FRACTION,
    COPIED_RUN,
    DEMO_VIDEO_NAME,
    DEMO_WEIGHTS_REASON,
    METADATA_KEY,
    MIN_ANSWER_WORDS,
    MIN_COMPARED_WORDS,
    NAME_LABEL,
    NAME_PLACEHOLDER,
    NAME_PROMPT,
    NOTEBOOK_ID,
    PREDICTION_TITLE,
    QUESTIONS,
    ROLE_ANSWER,
    ROLE_NAME,
    SIMILARITY_THRESHOLD,
    WEIGHTS_KINDS,
)
from twostream_lab.instructor.notebook import find_submissions
from twostream_lab.instructor.report import (
    format_report,
    run_check,
    write_csv,
    write_html,
)
from twostream_lab.instructor.text import sanitize, word_count

__all__ = [
    "ANSWER_LABEL",
    "ANSWER_PLACEHOLDER",
    "ANSWER_PROMPT",
    "CHECKS",
    "COPIED_FRACTION",
    "COPIED_RUN",
    "DEMO_VIDEO_NAME",
    "DEMO_WEIGHTS_REASON",
    "METADATA_KEY",
    "MIN_ANSWER_WORDS",
    "MIN_COMPARED_WORDS",
    "NAME_LABEL",
    "NAME_PLACEHOLDER",
    "NAME_PROMPT",
    "NOTEBOOK_ID",
    "PREDICTION_TITLE",
    "QUESTIONS",
    "ROLE_ANSWER",
    "ROLE_NAME",
    "SIMILARITY_THRESHOLD",
    "WEIGHTS_KINDS",
    "CheckResult",
    "SubmissionResult",
    "check_submissions",
    "exit_code",
    "find_submissions",
    "format_report",
    "run_check",
    "sanitize",
    "similar_answers",
    "word_count",
    "write_csv",
    "write_html",
]
