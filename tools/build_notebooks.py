"""Build the student notebooks from their text sources, and execute them.

    python tools/build_notebooks.py                 # notebooks/*.md -> notebooks/*.ipynb (no outputs)
    python tools/build_notebooks.py --execute       # build, then execute each in a fresh kernel
    python tools/build_notebooks.py --execute 06    # only the notebooks whose name starts with 06
    python tools/build_notebooks.py --check         # exit 1 if an .ipynb differs from its .md or
                                                    # was built but not executed

The source of every notebook is ``notebooks/NN_name.md``, MyST markdown read by jupytext: an
instructor edits the text there (any editor, or Jupyter with jupytext, which opens the pair) and
previews it as markdown. Code cells are ```` ```{code-cell} ipython3 ```` blocks; a cell's tags
go on a ``:tags: [nbval-ignore-output]`` line, and a markdown cell's metadata (the checker's
roles) on the ``+++ {"twostream_lab": {...}}`` line above it. The built ``.ipynb`` gets ids
``nbNN-01``, ``nbNN-02``, ... so that rebuilding changes nothing that did not change, and every
student-name and answer cell gets its own text as ``twostream_lab.template``: the instructor
checker reads a cell left as written here as not filled in, in whatever language it is written
(translate the text in the ``.md``; the template follows).

Execution follows what CI does: a fresh ``TWOSTREAM_LAB_CACHE`` per notebook,
``TF_CPP_MIN_LOG_LEVEL=2``, ``TWOSTREAM_LAB_WEIGHTS=demo`` (the committed outputs are the offline
mode's), the kernel's own inline matplotlib backend (``MPLBACKEND`` is removed), widgets off (the
committed outputs show the plain fallback, which GitHub can display) and no
``TWOSTREAM_LAB_DATA``: the sample clips belong to their authors, so no frame of them goes into
the repository, and the notebooks that use a real clip when one is present commit the
synthetic stand-in. Executing keeps a cell's source and
metadata exactly as built. The time of each notebook is printed.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import jupytext
import nbformat

from twostream_lab.instructor.constants import METADATA_KEY, ROLE_ANSWER, ROLE_NAME

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
#: Notebook metadata every built notebook gets (jupytext keeps the rest from the front matter).
METADATA = {
    "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
    "colab": {"provenance": []},
}


def sources() -> list[Path]:
    """The text sources, in the order of the sequence."""
    return sorted(NOTEBOOKS.glob("[0-9][0-9]_*.md"))


def build(source: Path) -> nbformat.NotebookNode:
    """The notebook of ``source`` with deterministic cell ids, no outputs, and the template of
    each student-name and answer cell recorded (see :func:`record_templates`)."""
    nb = jupytext.read(source, fmt="md:myst")
    nb.metadata.pop("jupytext", None)
    nb.metadata.update(METADATA)
    stem = source.name.split("_", 1)[0]
    for number, cell in enumerate(nb.cells, start=1):
        cell["id"] = f"nb{stem}-{number:02d}"
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    record_templates(nb)
    nbformat.validate(nb)
    return nb


def record_templates(nb: nbformat.NotebookNode) -> None:
    """Set ``metadata.twostream_lab.template`` of every student-name and answer cell to its
    source, replacing any template already there (one copied back by a jupytext pairing may be
    stale). Stripped like the sources :func:`comparable` compares."""
    for cell in nb.cells:
        lab = cell.metadata.get(METADATA_KEY)
        if isinstance(lab, dict) and lab.get("role") in (ROLE_NAME, ROLE_ANSWER):
            lab["template"] = cell.source.strip()


def comparable(nb: nbformat.NotebookNode) -> list[tuple]:
    """What a text source decides about a notebook: the lab's notebook metadata, then each
    cell's id, type, source and metadata."""
    return [("notebook", nb.metadata.get("twostream_lab"))] + [
        (cell.get("id"), cell.cell_type, cell.source.strip(), dict(cell.metadata))
        for cell in nb.cells]


def execute(path: Path) -> float:
    """Execute ``path`` in place in a fresh kernel with a fresh cache; returns the seconds taken."""
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory(prefix="twostream-lab-cache-") as cache:
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "TWOSTREAM_LAB_CACHE": cache,
               "TWOSTREAM_LAB_WIDGETS": "0", "TWOSTREAM_LAB_WEIGHTS": "demo"}
        env.pop("MPLBACKEND", None)
        env.pop("TWOSTREAM_LAB_DATA", None)  # no frame of the sample clips goes into the repository
        saved = dict(os.environ)
        os.environ.clear()
        os.environ.update(env)  # the kernel inherits this process's environment
        try:
            client = NotebookClient(nb, timeout=900, kernel_name="python3", record_timing=False,
                                    resources={"metadata": {"path": str(NOTEBOOKS)}})
            started = time.perf_counter()
            client.execute()
            seconds = time.perf_counter() - started
        finally:
            os.environ.clear()
            os.environ.update(saved)
    nbformat.write(nb, path)
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("only", nargs="*", help="name prefixes, e.g. 01 06 (default: all)")
    parser.add_argument("--execute", action="store_true", help="execute after building")
    parser.add_argument("--check", action="store_true",
                        help="only compare each .ipynb with its .md; exit 1 if one differs")
    args = parser.parse_args(argv)
    chosen = [s for s in sources() if not args.only or s.name.startswith(tuple(args.only))]
    differing = []
    for source in chosen:
        path = source.with_suffix(".ipynb")
        built = build(source)
        if args.check:
            committed = nbformat.read(path, as_version=4) if path.is_file() else None
            if committed is None or comparable(committed) != comparable(built) or any(
                    cell.cell_type == "code" and cell.execution_count is None
                    for cell in committed.cells):
                differing.append(path.name)  # out of date, or built but never executed
            continue
        nbformat.write(built, path)
        if args.execute:
            print(f"{path.name}: executed in {execute(path):.0f} s", flush=True)
        else:
            print(f"{path.name}: built", flush=True)
    if differing:
        print("out of date (run python tools/build_notebooks.py --execute): "
              + ", ".join(differing), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
