"""Finding and reading submissions, and lenient accessors for cells, metadata and outputs.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import nbformat

from twostream_lab.instructor.constants import METADATA_KEY, QUESTIONS, ROLE_ANSWER

_SKIPPED_DIRS = {"__MACOSX"}
_TEXT_MIMES = ("text/plain", "text/markdown")


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


def _role_cells(
    nb: Mapping[str, Any], role: str, question: str | None = None
) -> list[Mapping[str, Any]]:
    return [
        c
        for c in _cells(nb)
        if _lab_metadata(c).get("role") == role
        and (question is None or _lab_metadata(c).get("question") == question)
    ]


def _template(cell: Mapping[str, Any]) -> str:
    """The template text a role cell's metadata records (``twostream_lab.template``, written by
    ``tools/build_notebooks.py``), '' when it records none."""
    return _text(_lab_metadata(cell).get("template")).strip()


def _own_texts(nb: Mapping[str, Any]) -> list[str]:
    """The notebook's own text: every markdown cell without a role (instructions, questions) and
    the template of every cell with one, so that a prompt left in an answer is not the student's."""
    texts = []
    for cell in _cells(nb):
        if _lab_metadata(cell).get("role"):
            texts.append(_template(cell))
        elif cell.get("cell_type") == "markdown":
            texts.append(_text(cell.get("source")))
    return [text for text in texts if text]


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
