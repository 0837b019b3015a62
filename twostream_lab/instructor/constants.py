"""The checker's constants: metadata keys, cell roles, template texts, thresholds, check names.

Re-exported by :mod:`twostream_lab.instructor.checker`, whose docstring describes the checks.
"""

from __future__ import annotations

#: Key of the notebook and cell metadata the activity notebook carries.
METADATA_KEY = "twostream_lab"
#: ``metadata["twostream_lab"]["notebook"]`` of the activity notebook.
NOTEBOOK_ID = "activity-abseiling"
#: The questions, as in the answer cells' ``metadata["twostream_lab"]["question"]``.
QUESTIONS: tuple[str, ...] = ("q1", "q2", "q3", "q4", "q5")
#: Cell roles (``metadata["twostream_lab"]["role"]``).
ROLE_NAME = "student-name"
ROLE_ANSWER = "answer"

NAME_LABEL = "**Student name:**"
NAME_PROMPT = "_write your name here_"
#: Template text of the English student-name cell (a cell's ``template`` metadata comes first).
NAME_PLACEHOLDER = f"{NAME_LABEL} {NAME_PROMPT}"
ANSWER_LABEL = "**Answer:**"
ANSWER_PROMPT = "_write your answer here_"
#: Template text of the English answer cells (a cell's ``template`` metadata comes first).
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
