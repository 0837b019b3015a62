"""The instructor checker on crafted submissions (made with nbformat, no kernel unless stated)."""

from __future__ import annotations

import csv
import os
import stat
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from twostream_lab.checker import (
    ANSWER_PLACEHOLDER,
    CHECKS,
    METADATA_KEY,
    NAME_PLACEHOLDER,
    NOTEBOOK_ID,
    PREDICTION_TITLE,
    QUESTIONS,
    check_submissions,
    exit_code,
    find_submissions,
    format_report,
    run_check,
    similar_answers,
    write_csv,
)

VIDEO_HTML = (
    '<figure><video controls width="640" src="data:video/mp4;base64,AAAAIGZ0eXA="></video>'
    f"<figcaption>{PREDICTION_TITLE}</figcaption></figure>"
)
WORDS = (
    "optical flow stacks carry the motion while single frames carry the scene appearance and "
    "the fused scores combine both streams so ropes harness and cliff faces matter"
).split()


def answers_for(seed: int) -> dict[str, str]:
    """Three distinct answers per seed: every seed gives clearly different texts."""
    texts = {}
    for k, q in enumerate(QUESTIONS):
        words = WORDS[(seed * 7 + k * 5) % len(WORDS):] + WORDS[: (seed * 7 + k * 5) % len(WORDS)]
        texts[q] = f"Student {seed} on {q}: " + " ".join(words[:: (seed + k) % 3 + 1])
    return texts


def make_notebook(name: str = "Ada Lovelace", answers: dict[str, str] | None = None):
    """A complete, correctly executed activity submission."""
    answers = answers_for(0) if answers is None else answers
    lab = METADATA_KEY
    cells = [
        new_markdown_cell("# Activity: abseiling"),
        new_markdown_cell(f"**Student name:** {name}", metadata={lab: {"role": "student-name"}}),
        new_code_cell("import twostream_lab", execution_count=1),
        new_code_cell(
            "prediction = predict_video(video, models)\nprint_top5(prediction)",
            execution_count=2,
            outputs=[
                new_output(
                    "stream",
                    name="stdout",
                    text=f"{PREDICTION_TITLE} (fused)\n 1. RopeClimbing  0.61\n 2. Rowing  0.20\n",
                )
            ],
        ),
        new_code_cell(
            "show_video(path)",
            execution_count=3,
            outputs=[
                new_output(
                    "display_data",
                    data={"text/html": VIDEO_HTML, "text/plain": "<IPython.display.HTML object>"},
                )
            ],
        ),
        new_code_cell("", execution_count=None),  # blank cells are never run
        new_markdown_cell("## Questions"),
    ]
    for q in QUESTIONS:
        cells.append(new_markdown_cell(f"### {q}: why does motion help?"))
        cells.append(
            new_markdown_cell(
                f"**Answer:** {answers[q]}", metadata={lab: {"role": "answer", "question": q}}
            )
        )
    return new_notebook(cells=cells, metadata={lab: {"notebook": NOTEBOOK_ID}})


def code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]


def cell_with_role(nb, role, question=None):
    return next(
        c
        for c in nb.cells
        if c.metadata.get(METADATA_KEY, {}).get("role") == role
        and (question is None or c.metadata[METADATA_KEY].get("question") == question)
    )


def save(nb, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


def check_one(nb, tmp_path: Path, name: str = "sub.ipynb"):
    (result,) = check_submissions(save(nb, tmp_path / name))
    return result


def failed_only(result, check: str) -> str:
    """Assert that ``check`` is the only failing check and return its reason."""
    assert [c.name for c in result.failed] == [check], result.reasons
    assert not result.ok
    return result.check(check).reason


# --- a complete submission ------------------------------------------------------------------


def test_complete_submission_passes_every_check(tmp_path):
    result = check_one(make_notebook(), tmp_path)
    assert result.ok, result.reasons
    assert [c.name for c in result.checks] == list(CHECKS)
    assert all(c.passed and c.required and c.reason == "" for c in result.checks)
    assert result.student == "Ada Lovelace"
    assert result.answers == answers_for(0)
    assert result.similar_to == ()
    assert exit_code([result]) == 0
    with pytest.raises(ValueError, match="unknown check 'video2'; expected one of readable"):
        result.check("video2")


def test_template_strings_are_the_documented_ones():
    assert NOTEBOOK_ID == "activity-abseiling"
    assert NAME_PLACEHOLDER == "**Student name:** _write your name here_"
    assert ANSWER_PLACEHOLDER == "**Answer:** _write your answer here_"
    assert QUESTIONS == ("q1", "q2", "q3")
    assert PREDICTION_TITLE == "Prediction for abseiling_k400.mp4"


# --- one failure each -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        NAME_PLACEHOLDER,
        "**Student name:**",
        "**Student name:**   \n",
        "**Student name:** write your name here",
        "**Student name**: _Write your name here_",
    ],
)
def test_name_not_filled_in(tmp_path, text):
    nb = make_notebook()
    cell_with_role(nb, "student-name").source = text
    result = check_one(nb, tmp_path)
    assert "student name is not filled in" in failed_only(result, "name")
    assert result.student == ""


def test_name_written_after_the_label_in_any_style(tmp_path):
    nb = make_notebook()
    cell_with_role(nb, "student-name").source = "Student name: **Grace Hopper**"
    result = check_one(nb, tmp_path)
    assert result.ok and result.student == "Grace Hopper"


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        ((1, None, 3), "not executed: cell 4"),
        ((None, None, None), "not executed: cell 3, cell 4, cell 5"),
        ((1, 3, 2), "run out of order: cell 5 [2] after cell 4 [3]"),
        ((1, 2, 5), "re-runs or extra runs, counts jump [2] to [5] before cell 5"),
        ((4, 5, 6), "counts start at [4], not [1]"),
        ((2, 3, 4), "counts start at [2], not [1]"),
    ],
)
def test_execution_order_problems(tmp_path, counts, expected):
    nb = make_notebook()
    for cell, count in zip(code_cells(nb), counts):
        cell.execution_count = count
    reason = failed_only(check_one(nb, tmp_path), "executed")
    assert expected in reason
    assert reason.endswith("restart the kernel and run all cells")


def test_blank_code_cells_are_ignored_whatever_their_count(tmp_path):
    nb = make_notebook()
    nb.cells.insert(3, new_code_cell("   \n", execution_count=1))  # a kernel repeats the count
    assert check_one(nb, tmp_path).ok


def test_no_code_cells_fails_executed(tmp_path):
    nb = make_notebook()
    nb.cells = [c for c in nb.cells if c.cell_type != "code"]
    result = check_one(nb, tmp_path)
    assert result.check("executed").reason == "the notebook has no code cells"


def test_error_output_is_reported_with_the_cell(tmp_path):
    nb = make_notebook()
    code_cells(nb)[0].outputs.append(
        new_output(
            "error", ename="NameError", evalue="name 'x' is not defined", traceback=["\x1b[31m..."]
        )
    )
    reason = failed_only(check_one(nb, tmp_path), "errors")
    assert reason == "error output in cell 3 (NameError: name 'x' is not defined)"


@pytest.mark.parametrize(
    "text",
    [ANSWER_PLACEHOLDER, "**Answer:**", "**Answer:** ", "", "Answer: *write your answer here*"],
)
def test_answer_left_as_template_or_empty(tmp_path, text):
    nb = make_notebook()
    cell_with_role(nb, "answer", "q2").source = text
    result = check_one(nb, tmp_path)
    assert failed_only(result, "answers") == "q2 not answered (empty or still the template)"
    assert result.answers["q2"] == ""


def test_answer_after_the_template_prompt_counts(tmp_path):
    nb = make_notebook()
    cell_with_role(nb, "answer", "q1").source = ANSWER_PLACEHOLDER + "\nBecause flow sees motion."
    result = check_one(nb, tmp_path)
    assert result.ok
    assert result.answers["q1"] == "Because flow sees motion."


def test_answer_in_a_code_cell_is_not_an_answer(tmp_path):
    nb = make_notebook()
    cell = cell_with_role(nb, "answer", "q3")
    index = nb.cells.index(cell)
    nb.cells[index] = new_code_cell(
        "print('my answer')", metadata=cell.metadata, execution_count=None
    )
    result = check_one(nb, tmp_path)
    assert result.check("answers").reason == "q3 answer cell is not a markdown (text) cell"


def test_missing_answer_cell_fails_answers_and_notebook(tmp_path):
    nb = make_notebook()
    nb.cells.remove(cell_with_role(nb, "answer", "q3"))
    result = check_one(nb, tmp_path)
    assert [c.name for c in result.failed] == ["notebook", "answers"]
    assert result.check("answers").reason == "q3 answer cell missing"
    assert "no answer cell for q3" in result.check("notebook").reason


def test_missing_prediction_output(tmp_path):
    nb = make_notebook()
    code_cells(nb)[1].outputs = []
    reason = failed_only(check_one(nb, tmp_path), "predictions")
    assert reason == f"no text output contains {PREDICTION_TITLE!r}"


def test_prediction_for_another_video(tmp_path):
    nb = make_notebook()
    code_cells(nb)[1].outputs[0].text = "Prediction for my_cat.mp4 (fused)\n 1. Punch 0.5\n"
    reason = failed_only(check_one(nb, tmp_path), "predictions")
    assert "found predictions for my_cat.mp4" in reason


def test_video_html_alone_is_not_the_prediction_output(tmp_path):
    nb = make_notebook()
    code_cells(nb)[1].outputs = []  # the video's caption has the title, but is not the top-5
    assert failed_only(check_one(nb, tmp_path), "predictions")


def test_missing_demo_video(tmp_path):
    nb = make_notebook()
    code_cells(nb)[2].outputs = []
    reason = failed_only(check_one(nb, tmp_path), "video")
    assert reason.startswith("no HTML output with a <video> titled")


def test_demo_video_with_another_title(tmp_path):
    nb = make_notebook()
    code_cells(nb)[2].outputs[0].data["text/html"] = VIDEO_HTML.replace(
        "abseiling_k400.mp4", "v_Punch_g01_c01.avi"
    )
    reason = failed_only(check_one(nb, tmp_path), "video")
    assert reason.startswith("a <video> is shown but not titled")
    assert "v_Punch_g01_c01.avi" in reason


def test_title_without_a_video_element(tmp_path):
    nb = make_notebook()
    code_cells(nb)[2].outputs[0].data["text/html"] = f"<h3>{PREDICTION_TITLE}</h3><img src='x.png'>"
    assert failed_only(check_one(nb, tmp_path), "video")


@pytest.mark.parametrize(
    ("metadata", "expected"),
    [
        ({METADATA_KEY: {"notebook": "flow-basics"}}, "notebook metadata says 'flow-basics'"),
        ({}, "no 'twostream_lab.notebook' notebook metadata"),
    ],
)
def test_another_notebook_renamed(tmp_path, metadata, expected):
    nb = make_notebook()
    nb.metadata = metadata
    reason = failed_only(check_one(nb, tmp_path, "activity.ipynb"), "notebook")
    assert reason.startswith("not the activity notebook") and expected in reason


def test_unrelated_notebook_fails_identity_answers_and_name(tmp_path):
    nb = new_notebook(cells=[new_code_cell("1 + 1", execution_count=1)])
    result = check_one(nb, tmp_path)
    reason = result.check("notebook").reason
    assert "no student-name cell" in reason and "no answer cell for q1, q2, q3" in reason
    assert {"name", "answers", "predictions", "video"} <= {c.name for c in result.failed}


# --- unreadable files, folders, determinism -------------------------------------------------


def test_corrupt_and_non_notebook_files_get_a_row_and_the_run_goes_on(tmp_path):
    good = save(make_notebook(), tmp_path / "subs" / "b_good.ipynb")
    text = nbformat.writes(make_notebook())
    (tmp_path / "subs" / "a_corrupt.ipynb").write_text(text[: len(text) // 2])
    (tmp_path / "subs" / "c_essay.ipynb").write_text("My essay about abseiling.")
    (tmp_path / "subs" / "d_list.ipynb").write_text("[1, 2, 3]")
    (tmp_path / "subs" / "e_binary.ipynb").write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff\xfe")
    (tmp_path / "subs" / "f_empty.ipynb").write_bytes(b"")
    (tmp_path / "subs" / "g_nocells.ipynb").write_text('{"nbformat": 4, "metadata": {}}')
    (tmp_path / "subs" / "h_deep.ipynb").write_text("[" * 100_000)
    results = check_submissions([tmp_path / "subs", tmp_path / "missing.ipynb"])
    reasons = {r.path.name: r.reasons for r in results}
    assert reasons["b_good.ipynb"] == ""
    assert reasons["a_corrupt.ipynb"].startswith("readable: not a Jupyter notebook: invalid JSON")
    assert reasons["c_essay.ipynb"].startswith("readable: not a Jupyter notebook: invalid JSON")
    not_nb = "readable: not a Jupyter notebook"
    assert reasons["d_list.ipynb"] == f"{not_nb}: JSON without an 'nbformat' key"
    assert reasons["e_binary.ipynb"] == f"{not_nb} (binary data, not JSON text)"
    assert reasons["f_empty.ipynb"] == "readable: empty file, not a Jupyter notebook"
    assert reasons["g_nocells.ipynb"] == (
        "readable: not a readable Jupyter notebook: no list of 'cells'"
    )
    assert reasons["h_deep.ipynb"] == f"{not_nb}: JSON nested too deeply"
    assert reasons["missing.ipynb"] == "readable: file not found"
    for r in results:
        if r.path != good:
            assert not r.ok and [c.name for c in r.checks] == ["readable"]
            assert r.check("executed") is None
    assert exit_code(results) == 1


def test_a_non_notebook_file_named_explicitly_is_reported(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("not a notebook")
    (result,) = check_submissions([notes])
    assert result.reasons.startswith("readable: not a Jupyter notebook")


def test_malformed_but_v4_shaped_notebook_is_still_checked(tmp_path):
    # Cells that nbformat cannot load; the checker reads what is there, leniently.
    path = tmp_path / "odd.ipynb"
    path.write_text('{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [42, "x"]}')
    (result,) = check_submissions(path)
    assert result.check("readable").passed
    assert result.check("executed").reason == "the notebook has no code cells"


def test_old_nbformat_3_notebook_is_converted_and_checked(tmp_path):
    path = tmp_path / "v3.ipynb"
    path.write_text(
        '{"nbformat": 3, "nbformat_minor": 0, "metadata": {"name": ""}, "worksheets": [{"cells": '
        '[{"cell_type": "code", "input": "1+1", "language": "python", "prompt_number": 1, '
        '"outputs": [], "metadata": {}}], "metadata": {}}]}'
    )
    (result,) = check_submissions(path)
    assert result.check("readable").passed and result.check("executed").passed
    assert not result.check("notebook").passed


def test_find_submissions_recursive_sorted_deduplicated(tmp_path):
    for rel in ["b.ipynb", "a/z.ipynb", "a/deeper/y.IPYNB", ".ipynb_checkpoints/b-checkpoint.ipynb",
                "a/._z.ipynb", "__MACOSX/a/z.ipynb", ".hidden/x.ipynb", "a/readme.md"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("{}")
    found = find_submissions([tmp_path, tmp_path / "b.ipynb", str(tmp_path / "a")])
    assert [p.relative_to(tmp_path).as_posix() for p in found] == [
        "a/deeper/y.IPYNB", "a/z.ipynb", "b.ipynb"
    ]
    assert find_submissions(tmp_path / "a" / "readme.md") == [tmp_path / "a" / "readme.md"]


def test_results_are_sorted_and_deterministic(tmp_path):
    for k, name in enumerate(["carol", "alice", "bob"]):
        save(make_notebook(name.title(), answers_for(k)), tmp_path / f"{name}.ipynb")
    first = check_submissions([tmp_path / "carol.ipynb", tmp_path])
    assert [r.path.name for r in first] == ["alice.ipynb", "bob.ipynb", "carol.ipynb"]
    assert all(r.ok for r in first), [r.reasons for r in first]
    assert check_submissions([tmp_path]) == check_submissions([tmp_path])


def test_submissions_are_never_modified(tmp_path):
    paths = [
        save(make_notebook(f"S{k}", answers_for(k % 2)), tmp_path / f"s{k}.ipynb") for k in range(3)
    ]
    broken = tmp_path / "broken.ipynb"
    broken.write_text('{"cells": [')
    paths.append(broken)
    for path in paths:
        os.utime(path, ns=(1_000_000_000_000_000_000, 1_000_000_000_000_000_000))
        path.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)  # read-only files still check
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns, p.stat().st_mode) for p in paths}
    results = check_submissions(tmp_path)
    format_report(results)
    write_csv(results, tmp_path / "report.csv")
    assert len(results) == 4
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns, p.stat().st_mode) for p in paths} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [*(p.name for p in paths), "report.csv"]
    )


# --- near-identical answers -------------------------------------------------------------------


def test_same_answers_are_flagged_as_a_pair(tmp_path):
    shared = answers_for(3)
    copied = {q: "  " + text.upper().replace(" ", "\n  ") + " " for q, text in shared.items()}
    save(make_notebook("Ann", shared), tmp_path / "ann.ipynb")
    save(make_notebook("Ben", copied), tmp_path / "ben.ipynb")
    save(make_notebook("Cid", answers_for(4)), tmp_path / "cid.ipynb")
    ann, ben, cid = check_submissions(tmp_path)
    assert failed_only(ann, "individual") == f"answers near-identical to {ben.path} (Ben) 100%"
    assert failed_only(ben, "individual") == f"answers near-identical to {ann.path} (Ann) 100%"
    assert ann.similar_to == ((ben.path, 1.0),) and ben.similar_to == ((ann.path, 1.0),)
    assert cid.ok and cid.similar_to == ()
    report = format_report([ann, ben, cid])
    assert f"{ann.path}  ~  {ben.path}  100%" in report


def test_long_answers_with_small_edits_are_flagged(tmp_path):
    long = {q: " ".join(WORDS * 4) + f" for {q}" for q in QUESTIONS}  # > 200 characters each
    edited = {
        q: text.replace("ropes", "cords", 1).replace("scene", "background", 1)
        for q, text in long.items()
    }
    save(make_notebook("Ann", long), tmp_path / "ann.ipynb")
    save(make_notebook("Ben", edited), tmp_path / "ben.ipynb")
    ann, ben = check_submissions(tmp_path)
    assert not ann.check("individual").passed and not ben.check("individual").passed
    assert 0.9 <= ann.similar_to[0][1] < 1.0


def test_template_answers_are_not_compared(tmp_path):
    for name in ("ann", "ben"):
        template = {q: "_write your answer here_" for q in QUESTIONS}
        save(make_notebook(name, template), tmp_path / f"{name}.ipynb")
    for result in check_submissions(tmp_path):
        assert result.check("individual").passed
        assert [c.name for c in result.failed] == ["answers"]


def test_similar_answers_threshold_and_minimum_length():
    a = "the motion stream sees the rope moving down the cliff face"
    b = "the motion stream sees the rope moving along the cliff face"
    assert similar_answers([a, b]) == [(0, 1, pytest.approx(10 / 11))]
    assert similar_answers([a, b], threshold=0.95) == []
    assert similar_answers(["Yes. No.", "yes. no."]) == []
    assert similar_answers(["Yes. No.", "yes. no."], min_words=1) == [(0, 1, 1.0)]
    with pytest.raises(ValueError, match="threshold must be in"):
        similar_answers([a, b], threshold=0)


def test_optional_checks_are_reported_but_do_not_fail(tmp_path):
    save(make_notebook("Ann", answers_for(1)), tmp_path / "ann.ipynb")
    save(make_notebook("Ben", answers_for(1)), tmp_path / "ben.ipynb")
    results = check_submissions(tmp_path, optional=["individual"])
    assert all(r.ok for r in results) and exit_code(results) == 0
    for r in results:
        assert not r.check("individual").passed and not r.check("individual").required
    assert "warn" in format_report(results) and "individual (optional):" in format_report(results)
    with pytest.raises(ValueError, match="unknown check.*'nmae'"):
        check_submissions(tmp_path, optional=["nmae"])
    with pytest.raises(ValueError, match="'readable' cannot be optional"):
        check_submissions(tmp_path, optional=["readable"])


# --- report, CSV, exit status -----------------------------------------------------------------


def _class(tmp_path: Path) -> Path:
    folder = tmp_path / "class"
    save(make_notebook("Ada Lovelace", answers_for(0)), folder / "ada.ipynb")
    bad = make_notebook("=HYPERLINK(\"http://x\")", answers_for(1))
    cell_with_role(bad, "answer", "q1").source = ANSWER_PLACEHOLDER
    code_cells(bad)[0].execution_count = None
    save(bad, folder / "eve.ipynb")
    (folder / "zed.ipynb").write_text("not json")
    return folder


def test_format_report_table_and_problems(tmp_path):
    results = check_submissions(_class(tmp_path))
    lines = format_report(results).splitlines()
    assert lines[0].split() == ["submission", "student", *CHECKS, "result"]
    ada = next(line for line in lines if "ada.ipynb" in line)
    assert ada.split()[-len(CHECKS) - 1:] == ["ok"] * len(CHECKS) + ["PASS"]
    zed = next(line for line in lines if "zed.ipynb" in line)
    assert zed.split()[-len(CHECKS) - 1:] == ["FAIL"] + ["-"] * (len(CHECKS) - 1) + ["FAIL"]
    text = "\n".join(lines)
    assert "Problems" in text and "  answers: q1 not answered" in text
    assert "  readable: not a Jupyter notebook: invalid JSON" in text
    assert lines[-1] == "3 submissions checked: 1 passed, 2 failed."


def test_csv_one_row_per_submission_one_column_per_check(tmp_path):
    results = check_submissions(_class(tmp_path))
    path = write_csv(results, tmp_path / "out" / "report.csv")
    with path.open(newline="", encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream))
    assert list(rows[0]) == ["path", "student", "result", *CHECKS, "reasons"]
    ada, eve, zed = rows
    assert Path(ada["path"]).name == "ada.ipynb" and ada["student"] == "Ada Lovelace"
    assert ada["result"] == "pass" and ada["reasons"] == ""
    assert all(ada[c] == "pass" for c in CHECKS)
    assert eve["result"] == "fail" and eve["executed"] == "fail" and eve["answers"] == "fail"
    assert eve["name"] == "pass" and eve["student"] == "'=HYPERLINK(\"http://x\")"  # no formula
    assert eve["reasons"].startswith("executed: not executed: cell 3;")
    assert " | answers: q1 not answered (empty or still the template)" in eve["reasons"]
    assert zed["readable"] == "fail" and all(zed[c] == "" for c in list(CHECKS)[1:])
    assert zed["reasons"].startswith("readable: not a Jupyter notebook: invalid JSON")


def test_run_check_report_csv_and_exit_codes(tmp_path):
    folder = _class(tmp_path)
    text, code = run_check([str(folder)], tmp_path / "r.csv")
    assert code == 1 and "3 submissions checked" in text
    assert text.endswith(f"CSV report written to {tmp_path / 'r.csv'}")
    assert len((tmp_path / "r.csv").read_text().splitlines()) == 4
    text, code = run_check(folder / "ada.ipynb")
    assert code == 0 and "1 passed, 0 failed" in text
    (tmp_path / "empty").mkdir()
    text, code = run_check([tmp_path / "empty"])
    assert code == 2 and text == f"No .ipynb submissions found in: {tmp_path / 'empty'}"


def test_csv_never_overwrites_a_submission(tmp_path):
    folder = _class(tmp_path)
    before = (folder / "ada.ipynb").read_bytes()
    with pytest.raises(ValueError, match="refusing to write the CSV report over a submission"):
        run_check([folder], folder / "ada.ipynb")
    assert (folder / "ada.ipynb").read_bytes() == before


# --- a real kernel: "Restart & Run All" gives exactly what the checker expects -------------


def test_notebook_executed_by_a_real_kernel_passes(tmp_path):
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    nb = make_notebook()
    for cell in code_cells(nb):
        cell.outputs, cell.execution_count = [], None
    code_cells(nb)[0].source = "x = 1"
    code_cells(nb)[1].source = f"print({PREDICTION_TITLE!r} + ' (fused)')"
    code_cells(nb)[2].source = f"from IPython.display import HTML\nHTML({VIDEO_HTML!r})"
    nb.cells.insert(4, new_code_cell("  "))
    path = save(nb, tmp_path / "template.ipynb")
    unexecuted = check_one(nb, tmp_path, "template.ipynb")
    assert {c.name for c in unexecuted.failed} == {"executed", "predictions", "video"}
    nbclient.NotebookClient(nb, timeout=60, kernel_name="python3").execute()
    save(nb, path)
    (result,) = check_submissions(path)
    assert result.ok, result.reasons
