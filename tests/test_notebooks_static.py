"""Static checks on the committed notebooks (nbval runs them; these read them).

Each notebook: the "Open in Colab" badge of the repository URL in setup.cfg (the one place it is
written), what the student will learn, the setup cell first and the weights switch second, no
functions or classes re-implementing the library, executed top to bottom without errors, and
machine-dependent outputs only in cells tagged ``nbval-ignore-output``. The activity notebook
carries exactly what the instructor checker reads. The notebooks are what
``tools/build_notebooks.py`` builds from their text sources ``notebooks/*.md`` (sources, tags
and metadata), so the pair stays in sync.
"""

from __future__ import annotations

import ast
import configparser
import importlib.util
import json
import re
from pathlib import Path

import nbformat
import pytest

from twostream_lab.instructor import checker

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"
EXPECTED = [
    "01_introduction.ipynb",
    "02_setup.ipynb",
    "03_loading_the_models.ipynb",
    "04_dataset_and_flow.ipynb",
    "05_predictions_and_fusion.ipynb",
    "06_activity_abseiling.ipynb",
    "07_fusion_compared.ipynb",
    "08_offline_lab.ipynb",
]
ACTIVITY = "06_activity_abseiling.ipynb"
IGNORE = "nbval-ignore-output"
EXERCISE = "exercise"  # a code cell the student completes
# Text that must never appear in a compared (untagged) output: it differs between machines.
MACHINE_DEPENDENT = [
    re.compile(r"/(work|tmp|root|home|content|Users)/"),  # absolute paths
    re.compile(r"\d+(\.\d+)?\s*(it/s|s/it)"),  # progress bars
    re.compile(r"(CPU times|Wall time):"),  # %time
    re.compile(r"at 0x[0-9a-f]{6,}"),  # object addresses
    re.compile(r"\[[0-9;]*m"),  # ANSI colours (tracebacks, warnings)
]


def _repository_url() -> str:
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg", encoding="utf-8")
    return config["metadata"]["url"].rstrip("/")


def _read(name: str) -> nbformat.NotebookNode:
    return nbformat.read(NOTEBOOK_DIR / name, as_version=4)


def _code_cells(nb) -> list:
    return [cell for cell in nb.cells if cell.cell_type == "code"]


def _output_text(output) -> str:
    if output.get("output_type") == "stream":
        return output.get("text", "")
    data = output.get("data", {})
    return "\n".join(str(data.get(mime, "")) for mime in ("text/plain", "text/html", "text/markdown"))


def _python(source: str) -> str:
    """Cell source without IPython's ``!shell`` and ``%magic`` lines, ready for ast."""
    return "\n".join(
        line[: len(line) - len(line.lstrip())] + "pass" if line.strip().startswith(("!", "%"))
        else line
        for line in source.splitlines()
    )


def _builder():
    spec = importlib.util.spec_from_file_location("build_notebooks", ROOT / "tools" / "build_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_numbered_sequence_is_complete():
    assert sorted(p.name for p in NOTEBOOK_DIR.glob("*.ipynb")) == EXPECTED


@pytest.mark.parametrize("name", EXPECTED)
def test_badge_points_at_this_notebook_in_the_repository_of_setup_cfg(name):
    owner_repo = _repository_url().removeprefix("https://github.com/")
    first = _read(name).cells[0]
    assert first.cell_type == "markdown"
    badge = (
        "[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
        f"(https://colab.research.google.com/github/{owner_repo}/blob/main/notebooks/{name})"
    )
    assert first.source.startswith(badge)
    assert "**What you will learn**" in first.source
    links = re.findall(r"colab\.research\.google\.com/github/[^)\s]+", "\n".join(
        cell.source for cell in _read(name).cells))
    assert links == [badge.split("](https://")[-1].rstrip(")")]  # one badge, this notebook's


@pytest.mark.parametrize("name", EXPECTED)
def test_first_code_cells_set_up_colab_and_choose_the_weights(name):
    url = _repository_url()
    folder = url.rsplit("/", 1)[-1]
    setup, weights = _code_cells(_read(name))[:2]
    assert 'if "google.colab" in sys.modules:' in setup.source
    assert f"git clone -q {url}\n" in setup.source
    assert f"!bash {folder}/colab_setup.sh" in setup.source
    assert f'sys.path.insert(0, os.path.abspath("{folder}"))' in setup.source
    assert "/content" not in setup.source  # Colab's working folder, but not everyone's
    assert re.search(r"^KEEP_CACHE_IN_DRIVE = False", setup.source, flags=re.MULTILINE)
    assert "keep_cache_in_drive()" in setup.source
    assert setup.source.rstrip().endswith("%matplotlib inline")
    expected = "pretrained" if name.startswith("06") else "auto|demo"
    assert re.search(rf'^WEIGHTS = "({expected})"', weights.source, flags=re.MULTILINE)
    assert "choose_weights(WEIGHTS)" in weights.source or "load_two_stream(WEIGHTS)" in weights.source


@pytest.mark.parametrize("name", EXPECTED)
def test_code_cells_call_the_library_instead_of_reimplementing_it(name):
    for cell in _code_cells(_read(name)):
        tree = ast.parse(_python(cell.source))
        if EXERCISE in cell.metadata.get("tags", []):
            continue  # the student's own code, checked by twostream_lab.notebook.exercises
        defined = [
            type(node).__name__ for node in ast.walk(tree)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda))
        ]
        assert not defined, f"{name} cell {cell.id} defines {defined}: put it in the library"
        imported = {
            alias.name.split(".")[0]
            for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
        } | {
            node.module.split(".")[0]
            for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module
        }
        # video decoding, flow, resizing and the models go through twostream_lab
        assert not imported & {"cv2", "imageio", "imageio_ffmpeg", "keras", "tensorflow"}, (
            f"{name} cell {cell.id} imports {sorted(imported)}"
        )


@pytest.mark.parametrize("name", [n for n in EXPECTED if not n.startswith("06")])
def test_each_teaching_notebook_ends_with_exercises(name):
    nb = _read(name)
    headings = [i for i, c in enumerate(nb.cells)
                if c.cell_type == "markdown" and c.source.startswith("## Exercises")]
    assert headings, f"{name} has no '## Exercises' section"
    after = nb.cells[headings[-1]:]
    assert all(not c.source.startswith("## ") for c in after[1:]), "exercises come last"
    answers = [c for c in after if c.metadata.get(checker.METADATA_KEY, {}).get("role")
               == checker.ROLE_ANSWER]
    code = [c for c in after if EXERCISE in c.metadata.get("tags", [])]
    assert len(answers) + len(code) >= 2, f"{name} has fewer than two exercises"
    for cell in code:  # a code exercise comes with the library's self-check
        assert "print(check_" in cell.source, f"{name} cell {cell.id} has no self-check"


def test_the_notebooks_have_at_least_three_code_exercises_with_self_checks():
    code = [c for name in EXPECTED for c in _read(name).cells
            if EXERCISE in c.metadata.get("tags", [])]
    assert len(code) >= 3
    assert {"check_tutorial_cast", "check_flow_stack", "check_fusion_rule"} <= {
        word for c in code for word in re.findall(r"check_\w+", c.source)}


@pytest.mark.parametrize("name", EXPECTED)
def test_executed_top_to_bottom_without_errors_or_warnings(name):
    cells = _code_cells(_read(name))
    assert [cell.execution_count for cell in cells] == list(range(1, len(cells) + 1))
    for cell in cells:
        for output in cell.outputs:
            assert output.output_type != "error", f"{name} cell {cell.id}: {output.get('ename')}"
            if IGNORE not in cell.metadata.get("tags", []):
                assert output.get("name") != "stderr", (
                    f"{name} cell {cell.id} writes to stderr, which strict nbval compares: "
                    f"{output.get('text', '')[:200]!r}"
                )


@pytest.mark.parametrize("name", EXPECTED)
def test_only_machine_dependent_cells_are_tagged(name):
    for cell in _read(name).cells:
        tags = cell.metadata.get("tags", [])
        assert set(tags) <= {IGNORE, EXERCISE}, f"{name} cell {cell.id} has tags {tags}"
        if cell.cell_type != "code" or IGNORE in tags:
            continue
        for output in cell.outputs:
            text = _output_text(output)
            for pattern in MACHINE_DEPENDENT:
                assert not pattern.search(text), (
                    f"{name} cell {cell.id}: untagged output {pattern.search(text).group(0)!r} "
                    "depends on the machine; tag the cell nbval-ignore-output"
                )
            assert "application/vnd.jupyter.widget-view+json" not in output.get("data", {}), (
                f"{name} cell {cell.id} shows a widget without the {IGNORE} tag"
            )


@pytest.mark.parametrize("name", EXPECTED)
def test_every_output_says_which_weights_produced_it(name):
    """The weights switch prints its choice; the committed run used the demo models."""
    nb = _read(name)
    weights_cell = _code_cells(nb)[1]
    text = "".join(_output_text(o) for o in weights_cell.outputs)
    assert text.startswith("weights: demo (")
    assert "offline demo models" in text


def test_introduction_cites_the_papers():
    text = "\n".join(cell.source for cell in _read(EXPECTED[0]).cells if cell.cell_type == "markdown")
    for citation in ("Simonyan", "Zisserman", "Zach, Pock", "Feichtenhofer", "Wang et al.",
                     "Chollet", "Soomro"):
        assert citation in text


def test_activity_notebook_carries_the_checker_contract():
    nb = _read(ACTIVITY)
    assert nb.metadata[checker.METADATA_KEY] == {"notebook": checker.NOTEBOOK_ID}
    roles = [
        (i, cell.cell_type, cell.metadata.get(checker.METADATA_KEY), cell.source)
        for i, cell in enumerate(nb.cells) if checker.METADATA_KEY in cell.metadata
    ]
    assert roles[0][1:] == (
        "markdown", {"role": checker.ROLE_NAME, "template": checker.NAME_PLACEHOLDER},
        checker.NAME_PLACEHOLDER,
    )
    answers = roles[1:]
    assert [meta for _, _, meta, _ in answers] == [
        {"role": checker.ROLE_ANSWER, "question": q, "template": checker.ANSWER_PLACEHOLDER}
        for q in checker.QUESTIONS
    ]
    for index, cell_type, _, source in answers:
        assert cell_type == "markdown" and source == checker.ANSWER_PLACEHOLDER
        above = nb.cells[index - 1].source  # the question right above, in Spanish and English
        assert above.startswith("**Pregunta") and "/ Question" in above.split("\n")[0]
    text = "\n".join(cell.source for cell in nb.cells if cell.cell_type == "markdown")
    for instruction in ("individual work", "name", "Submit the executed `.ipynb`",
                        "text cell", checker.PREDICTION_TITLE, "Instrucciones",
                        "Entrega el `.ipynb` ejecutado"):
        assert instruction in text
    for question in ("2D or a 3D", "disadvantage", "CNN2D + RNN"):
        assert question in text


def test_committed_activity_notebook_fails_only_for_what_the_student_must_add(tmp_path):
    """As committed, the activity is executed in order without errors and is recognised as the
    activity; it lacks the student's name and answers, and (committed without the Kinetics clip,
    whose frames are not ours to publish) the abseiling prediction and video."""
    results = checker.check_submissions([NOTEBOOK_DIR / ACTIVITY])
    assert len(results) == 1
    failed = {check.name for check in results[0].failed}
    assert {"name", "answers"} <= failed <= {"name", "answers", "predictions", "video"}, (
        results[0].reasons
    )


def test_each_notebook_is_built_from_its_text_source():
    builder = _builder()
    assert [source.with_suffix(".ipynb").name for source in builder.sources()] == EXPECTED
    for source in builder.sources():
        built = builder.comparable(builder.build(source))
        committed = builder.comparable(_read(source.with_suffix(".ipynb").name))
        assert committed == built, (f"{source.with_suffix('.ipynb').name} differs from "
                                    f"{source.name}: run python tools/build_notebooks.py --execute")


def test_every_student_name_and_answer_cell_records_its_template():
    builder = _builder()
    for source in builder.sources():  # the committed notebooks, as students and the checker get them
        for cell in nbformat.read(source.with_suffix(".ipynb"), as_version=4).cells:
            lab = cell.metadata.get(checker.METADATA_KEY, {})
            if lab.get("role") in (checker.ROLE_NAME, checker.ROLE_ANSWER):
                assert lab.get("template") == cell.source, f"{source.name} cell {cell.id}"
            else:
                assert "template" not in lab, f"{source.name} cell {cell.id}"


def test_the_sync_check_finds_an_edited_source(tmp_path, monkeypatch):
    builder = _builder()
    source = builder.sources()[0]
    edited = tmp_path / source.name
    edited.write_text(source.read_text().replace("# 1. Introduction", "# 1. Introduction!"))
    (tmp_path / source.with_suffix(".ipynb").name).write_bytes(
        source.with_suffix(".ipynb").read_bytes())
    monkeypatch.setattr(builder, "NOTEBOOKS", tmp_path)
    assert builder.main(["--check"]) == 1
    assert builder.main(["--check", "02"]) == 0  # no such notebook there: nothing differs


@pytest.mark.parametrize("name", EXPECTED)
def test_notebook_files_stay_small(name):
    size = (NOTEBOOK_DIR / name).stat().st_size
    limit = 4_000_000 if name == ACTIVITY else 1_500_000  # the activity embeds its demo video
    assert size < limit, f"{name} is {size / 1e6:.1f} MB"
    json.loads((NOTEBOOK_DIR / name).read_text(encoding="utf-8"))
