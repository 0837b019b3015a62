"""The instructor checker on crafted submissions (made with nbformat, no kernel unless stated)."""

from __future__ import annotations

import csv
import importlib.util
import os
import re
import stat
from pathlib import Path

import nbformat
import numpy as np
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from twostream_lab.instructor.checker import (
    ANSWER_PLACEHOLDER,
    CHECKS,
    DEMO_VIDEO_NAME,
    DEMO_WEIGHTS_REASON,
    METADATA_KEY,
    MIN_ANSWER_WORDS,
    NAME_PLACEHOLDER,
    NOTEBOOK_ID,
    PREDICTION_TITLE,
    QUESTIONS,
    WEIGHTS_KINDS,
    check_submissions,
    exit_code,
    find_submissions,
    format_report,
    run_check,
    sanitize,
    similar_answers,
    word_count,
    write_csv,
    write_html,
)
from twostream_lab.predict import Prediction

VIDEO_HTML = (
    '<figure><video controls width="640" src="data:video/mp4;base64,AAAAIGZ0eXA="></video>'
    f"<figcaption>{PREDICTION_TITLE}</figcaption></figure>"
)
WORDS = (
    "optical flow stacks carry the motion while single frames carry the scene appearance and "
    "the fused scores combine both streams so ropes harness and cliff faces matter"
).split()


def answers_for(seed: int) -> dict[str, str]:
    """Three answers per seed, long enough; every seed gives clearly different texts."""
    texts = {}
    for k, q in enumerate(QUESTIONS):
        start = (seed * 7 + k * 5) % len(WORDS)
        words = (WORDS[start:] + WORDS[:start]) * 2
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
    assert QUESTIONS == ("q1", "q2", "q3", "q4", "q5")
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
    assert failed_only(result, "name") == (
        "the student name is not filled in (still '**Student name:** _write your name here_' or "
        "empty)"
    )
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
    assert failed_only(result, "answers") == (
        f"q2 not answered (empty or still {ANSWER_PLACEHOLDER!r})"
    )
    assert result.answers["q2"] == ""


def test_answer_after_the_template_prompt_counts(tmp_path):
    nb = make_notebook()
    text = "Because the flow stream sees how the rope and the climber move, which a frame cannot."
    cell_with_role(nb, "answer", "q1").source = ANSWER_PLACEHOLDER + "\n" + text
    result = check_one(nb, tmp_path)
    assert result.ok, result.reasons
    assert result.answers["q1"] == text


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
    write_html(results, tmp_path / "report.html")
    assert len(results) == 4
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns, p.stat().st_mode) for p in paths} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [*(p.name for p in paths), "report.csv", "report.html"]
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
    assert lines[0].split() == ["submission", "student", "weights", "frames", *CHECKS, "result"]
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
    assert list(rows[0]) == [
        "path", "student", "result", "weights", "frames", *CHECKS, "reasons", *QUESTIONS
    ]
    ada, eve, zed = rows
    assert Path(ada["path"]).name == "ada.ipynb" and ada["student"] == "Ada Lovelace"
    assert ada["result"] == "pass" and ada["reasons"] == ""
    assert all(ada[c] == "pass" for c in CHECKS)
    assert eve["result"] == "fail" and eve["executed"] == "fail" and eve["answers"] == "fail"
    assert eve["name"] == "pass" and eve["student"] == "'=HYPERLINK(\"http://x\")"  # no formula
    assert eve["reasons"].startswith("executed: not executed: cell 3;")
    assert f" | answers: q1 not answered (empty or still {ANSWER_PLACEHOLDER!r})" in eve["reasons"]
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


# --- which weights, how many frames -----------------------------------------------------------


def summary(source: str = "pretrained", frames: int = 250, extra: str = "") -> str:
    """What ``print(prediction)`` shows for the activity video (``Prediction.summary()``), with
    ``extra`` lines after its scoring line, where the summary names a shorter run."""
    spatial = np.tile(np.float32([0.2, 0.5, 0.3]), (frames, 1))
    motion = spatial[: frames - 10]
    prediction = Prediction(
        spatial=spatial, motion=motion, spatial_indices=np.arange(frames),
        motion_indices=np.arange(frames - 10), class_names=("Abseiling", "RopeClimbing", "Rowing"),
        video_name="abseiling_k400.mp4", source=source, num_frames=frames,
    )
    lines = prediction.summary().splitlines()
    scoring = next(i for i, line in enumerate(lines) if line.startswith("scoring:"))
    return "\n".join([*lines[: scoring + 1], *extra.splitlines(), *lines[scoring + 1:]]) + "\n"


def with_prediction(nb, *texts: str):
    """``nb`` with its prediction cell printing ``texts`` (one stream output each)."""
    code_cells(nb)[1].outputs = [new_output("stream", name="stdout", text=t) for t in texts]
    return nb


@pytest.mark.parametrize(
    ("source", "line"),
    [
        ("pretrained", "weights: pretrained two-stream Xception models"),
        ("local", "weights: local .h5 files"),
    ],
)
def test_weights_column_names_the_weights_of_the_prediction(tmp_path, source, line):
    text = summary(source)
    assert line in text.splitlines()[1]  # the line predict.py prints, as documented
    result = check_one(with_prediction(make_notebook(), text), tmp_path)
    assert result.ok, result.reasons
    assert result.weights == source and result.check("no-demo").passed


def test_demo_models_fail_unless_allowed(tmp_path):
    text = summary("demo")
    assert text.splitlines()[1].startswith("weights: demo.")
    path = save(with_prediction(make_notebook(), text), tmp_path / "demo.ipynb")
    (result,) = check_submissions(path)
    assert result.weights == "demo"
    assert failed_only(result, "no-demo") == DEMO_WEIGHTS_REASON
    assert DEMO_WEIGHTS_REASON == (
        "the activity was run with the demo models, not the pretrained UCF101 models: re-run it "
        'with WEIGHTS = "pretrained" (see the notebook\'s weights cell), or pass --allow-demo to '
        "accept it"
    )
    (allowed,) = check_submissions(path, allow_demo=True)
    assert allowed.ok and allowed.weights == "demo"
    row = next(line for line in format_report([allowed]).splitlines() if "demo.ipynb" in line)
    assert row.split()[3] == "demo"


def test_only_the_activity_prediction_names_the_weights(tmp_path):
    nb = with_prediction(
        make_notebook(),
        summary("pretrained"),
        "Prediction for my_cat.mp4\nweights: demo. These predictions come from the demo models\n",
    )
    code_cells(nb)[0].outputs = [  # what load_models and frame_explorer print
        new_output("stream", name="stdout", text='weights: demo (chosen with WEIGHTS = "demo")\n'),
        new_output("stream", name="stdout", text=f"Frame explorer: frame 0 of {DEMO_VIDEO_NAME}, "
                                                 "weights: demo. Show another.\n"),
    ]
    result = check_one(nb, tmp_path)
    assert result.ok, result.reasons
    assert result.weights == "pretrained"


def test_predictions_from_different_weights_are_mixed(tmp_path):
    mixed_demo = with_prediction(make_notebook(), summary("pretrained"), summary("demo"))
    result = check_one(mixed_demo, tmp_path, "a.ipynb")
    assert result.weights == "mixed"
    reason = failed_only(result, "no-demo")
    assert reason.startswith("the activity's predictions come from different weights "
                             "(demo, pretrained), some from the demo models")
    assert reason.endswith("or pass --allow-demo to accept it")
    (allowed,) = check_submissions(tmp_path / "a.ipynb", allow_demo=True)
    assert allowed.ok
    no_demo = with_prediction(make_notebook(), summary("pretrained"), summary("local"))
    result = check_one(no_demo, tmp_path, "b.ipynb")
    assert result.ok and result.weights == "mixed"


def test_weights_unknown_without_a_prediction_naming_them(tmp_path):
    assert check_one(make_notebook(), tmp_path, "a.ipynb").weights == "unknown"  # no weights line
    nb = make_notebook()
    code_cells(nb)[1].outputs = []
    result = check_one(nb, tmp_path, "b.ipynb")
    assert result.weights == "unknown" and result.check("no-demo").passed
    assert {r.weights for r in check_submissions(tmp_path)} <= set(WEIGHTS_KINDS)


@pytest.mark.parametrize(
    ("frames", "extra", "column", "note"),
    [
        (250, "", "250/250", ""),
        (60, "video: the first 60 of 250 frames (max_frames=60)", "60/250 (max_frames)",
         "the prediction used 60 of the clip's 250 frames (read with max_frames=60)"),
        (55, "warning: only 55 of the 250 frames the file declares could be decoded (damaged)",
         "55/250 (damaged)", "the prediction used 55 of the clip's 250 frames (the video file is "
         "damaged: the rest could not be decoded)"),
    ],
)
def test_frames_used_are_reported_not_failed(tmp_path, frames, extra, column, note):
    path = save(with_prediction(make_notebook(), summary("pretrained", frames, extra)),
                tmp_path / "sub.ipynb")
    (result,) = check_submissions(path)
    assert result.ok, result.reasons
    assert (result.frames, result.frames_note) == (column, note)
    report = format_report([result])
    assert column in next(line for line in report.splitlines() if "sub.ipynb" in line)
    assert ("Notes (not failures)" in report) == bool(note)
    if note:
        assert f"  {path} (Ada Lovelace): {note}" in report.splitlines()
    with write_csv([result], tmp_path / "r.csv").open(newline="", encoding="utf-8") as stream:
        (row,) = csv.DictReader(stream)
    assert (row["weights"], row["frames"]) == ("pretrained", column)


def test_frames_unknown_without_a_scoring_line(tmp_path):
    result = check_one(make_notebook(), tmp_path)
    assert (result.frames, result.frames_note) == ("", "")
    row = next(line for line in format_report([result]).splitlines() if "sub.ipynb" in line)
    assert row.split()[3:5] == ["unknown", "-"]


# --- answers: length, own words, any language ---------------------------------------------


def test_word_count_in_any_language():
    assert word_count("**Answer:** the motion stream, *not* the spatial one.") == 8
    assert word_count("2D") == 1 and word_count(" _ ** ") == 0
    assert word_count("双流模型是二维的") == 4  # two characters a word where words have no spaces
    assert word_count("L'image seule ne suffit pas.") == 6


@pytest.mark.parametrize(
    ("text", "words"), [("2D", 1), ("**Answer:** It is 2D.", 3), ("Answer: 3D, because time.", 3)]
)
def test_short_answers_fail_with_their_length(tmp_path, text, words):
    nb = make_notebook()
    cell_with_role(nb, "answer", "q2").source = text
    result = check_one(nb, tmp_path)
    plural = "" if words == 1 else "s"
    assert failed_only(result, "answers") == (
        f"q2 too short ({words} word{plural}; an answer needs at least {MIN_ANSWER_WORDS})"
    )
    assert result.answer_notes == {"q2": result.check("answers").reason[3:]}


def test_answer_copied_from_the_notebook_text_is_not_in_own_words(tmp_path):
    lab_text = ("Both streams are ordinary **2D** CNNs: their convolutions slide over height and "
                "width only. Time enters the motion stream through the channels.")
    copied = ("Both streams are ordinary 2D CNNs, their convolutions slide over height and width "
              "only, so time enters through the channels.")
    own = ("The model is 2D: its convolutions slide over height and width of each frame, and time "
           "only enters the motion stream as ten stacked flow frames.")
    nb = make_notebook()
    nb.cells.insert(1, new_markdown_cell(lab_text))
    cell_with_role(nb, "answer", "q1").source = f"**Answer:** {copied}"
    cell_with_role(nb, "answer", "q3").source = f"**Answer:** {lab_text}"
    result = check_one(nb, tmp_path, "copied.ipynb")
    reason = failed_only(result, "own-words")
    snippet = '"Both streams are ordinary 2D CNNs: their convolutions sli..."'
    assert reason == (
        f"q1 copied from the notebook's own text (70% of its words, from {snippet}): answer in "
        f"your own words; q3 copied from the notebook's own text (100% of its words, from "
        f"{snippet}): answer in your own words"
    )
    assert set(result.answer_notes) == {"q1", "q3"}
    cell_with_role(nb, "answer", "q1").source = f"**Answer:** {own}"
    cell_with_role(nb, "answer", "q3").source = f"**Answer:** {answers_for(0)['q3']}"
    assert check_one(nb, tmp_path, "own.ipynb").ok  # a few of the lab's words are fine


def test_translated_notebook_is_read_by_its_cell_metadata(tmp_path):
    french = ("Le flux optique montre le mouvement de la corde et du grimpeur, ce qu'une seule "
              "image ne montre pas du tout.")
    chinese = ("双流模型是二维模型：卷积只在图像的高度和宽度上滑动，"
               "时间通过十帧光流堆叠的通道进入运动流。")
    german = ("Im Gegensatz zu CNN2D + RNN braucht das Zwei-Strom-Modell keine rekurrente Schicht "
              "und lässt sich auf jedem Bild einzeln trainieren.")
    spanish = ("El stream espacial eligió clases con cuerdas y paredes, y el de movimiento "
               "clases con subidas lentas, porque cada uno ve una parte distinta del vídeo.")
    portuguese = ("A confiança de 0,4 não quer dizer certeza: o softmax obriga a repartir a "
                  "probabilidade entre as 101 classes, mesmo quando nenhuma é a certa.")
    nb = make_notebook()
    for cell in nb.cells:
        if cell.cell_type == "markdown" and METADATA_KEY not in cell.metadata:
            cell.source = "### Question : pourquoi le mouvement aide-t-il ?"
    cell_with_role(nb, "student-name").source = "**Nom de l'étudiant :** Marie Curie"
    cell_with_role(nb, "answer", "q1").source = f"**Réponse :** {french}"
    cell_with_role(nb, "answer", "q2").source = f"**回答：** {chinese}"
    cell_with_role(nb, "answer", "q3").source = f"**Antwort**: {german}"
    cell_with_role(nb, "answer", "q4").source = f"**Respuesta:** {spanish}"
    cell_with_role(nb, "answer", "q5").source = f"**Resposta:** {portuguese}"
    result = check_one(nb, tmp_path, "filled.ipynb")
    assert result.ok, result.reasons
    assert result.student == "Marie Curie"
    assert result.answers == {"q1": french, "q2": chinese, "q3": german, "q4": spanish,
                              "q5": portuguese}
    cell_with_role(nb, "student-name").source = "**Nom de l'étudiant :**  "
    cell_with_role(nb, "answer", "q1").source = ANSWER_PLACEHOLDER
    cell_with_role(nb, "answer", "q2").source = "**回答：**"
    cell_with_role(nb, "answer", "q3").source = "**Antwort:** _write your answer here_"
    cell_with_role(nb, "answer", "q4").source = ANSWER_PLACEHOLDER
    cell_with_role(nb, "answer", "q5").source = ""
    result = check_one(nb, tmp_path, "template.ipynb")
    assert [c.name for c in result.failed] == ["name", "answers"]
    assert result.check("answers").reason == (
        f"q1, q2, q3, q4, q5 not answered (empty or still {ANSWER_PLACEHOLDER!r})"
    )
    cell_with_role(nb, "answer", "q1").source = "**Réponse :** _écrivez votre réponse ici_"
    reason = check_one(nb, tmp_path, "translated.ipynb").check("answers").reason
    assert reason.startswith("q1 too short (4 words;")  # a translated prompt is no answer either


# --- templates recorded in the cell metadata: a notebook in any language ------------------

NOMBRE = "**Nombre:** _escribe tu nombre aquí_"
RESPUESTA = "**Respuesta:** _escribe tu respuesta aquí_"
SPANISH = {
    "q1": "Es un modelo 2D: sus convoluciones solo recorren el alto y el ancho de cada imagen, y "
          "el tiempo entra como diez fotogramas de flujo apilados en los canales.",
    "q2": "Una desventaja es el coste del flujo óptico: calcularlo tardó casi un minuto, mucho "
          "más que las dos redes juntas sobre el mismo vídeo corto.",
    "q3": "Frente a CNN2D + RNN no necesita aprender la dinámica con una red recurrente, porque "
          "el flujo ya le da el movimiento entre fotogramas vecinos.",
    "q4": "El stream espacial eligió escalada en roca y el de movimiento trepar por cuerda, cada "
          "uno guiado por la pared y por el descenso lento que ve.",
    "q5": "No, esa confianza no es certeza: el softmax reparte toda la probabilidad entre las "
          "clases conocidas, y haría falta una clase de rechazo o un umbral.",
}


def in_spanish(nb, template_name: str = NOMBRE, template_answer: str = RESPUESTA):
    """``nb`` translated as an instructor would: the name and answer cells hold the Spanish
    templates, and so does their ``template`` metadata."""
    for cell in nb.cells:
        lab = cell.metadata.get(METADATA_KEY, {})
        if lab.get("role"):
            cell.source = template_name if lab["role"] == "student-name" else template_answer
            lab["template"] = cell.source
    return nb


def test_spanish_templates_left_untouched_fail_name_and_answers(tmp_path):
    result = check_one(in_spanish(make_notebook()), tmp_path)
    assert [c.name for c in result.failed] == ["name", "answers"], result.reasons
    assert result.check("name").reason == (
        "the student name is not filled in (still '**Nombre:** _escribe tu nombre aquí_' or empty)"
    )
    assert result.check("answers").reason == (
        "q1, q2, q3, q4, q5 not answered (empty or still '**Respuesta:** _escribe tu respuesta "
        "aquí_')"
    )
    assert result.student == "" and set(result.answers.values()) == {""}


@pytest.mark.parametrize(
    "text",
    ["**nombre**: *Escribe tu  nombre AQUÍ*", "Nombre: escribe tu nombre aquí", "**Nombre:**  \n",
     "_escribe tu nombre aquí_", NAME_PLACEHOLDER, ""],
)
def test_spanish_name_template_in_any_style_is_not_a_name(tmp_path, text):
    nb = in_spanish(make_notebook())
    for q in QUESTIONS:
        cell_with_role(nb, "answer", q).source = f"**Respuesta:** {SPANISH[q]}"
    cell_with_role(nb, "student-name").source = text
    result = check_one(nb, tmp_path)
    assert failed_only(result, "name").startswith("the student name is not filled in (still '**N")
    assert result.student == ""


@pytest.mark.parametrize(
    ("name", "expected"),
    [("**Nombre:** Ana Pérez", "Ana Pérez"), ("Nombre: **Ana Pérez**", "Ana Pérez"),
     ("**Nombre:** _escribe tu nombre aquí_ Ana Pérez", "Ana Pérez"),
     ("Ana Pérez", "Ana Pérez"), ("**Name:** Ana Pérez", "Ana Pérez")],
)
def test_spanish_notebook_filled_in_passes_with_the_name_after_the_label(tmp_path, name, expected):
    nb = in_spanish(make_notebook())
    cell_with_role(nb, "student-name").source = name
    for q in QUESTIONS:
        cell_with_role(nb, "answer", q).source = f"**Respuesta:** {SPANISH[q]}"
    cell_with_role(nb, "answer", "q5").source = f"{RESPUESTA}\n\n{SPANISH['q5']}"
    assert all(word_count(text) >= MIN_ANSWER_WORDS for text in SPANISH.values())
    result = check_one(nb, tmp_path)
    assert result.ok, result.reasons
    assert result.student == expected
    assert result.answers == SPANISH


@pytest.mark.parametrize(("text", "name"), [
    ("**Name:** Nathaniel Namestone", "Nathaniel Namestone"),
    ("**Name:** Name Nameson _name_", "Name Nameson"),
])
def test_a_one_word_prompt_is_removed_as_a_whole_word_only(text, name):
    from twostream_lab.instructor.text import _filled_in

    assert _filled_in(text, ["**Name:** _name_"]) == name
    assert _filled_in("**Name:** _name_", ["**Name:** _name_"]) == ""


def test_a_long_translated_prompt_is_neither_an_answer_nor_the_students_words(tmp_path):
    template = ("**Respuesta:** _escribe aquí tu respuesta con tus propias palabras, en dos o "
                "tres frases completas, citando los números de tu ejecución_")
    assert word_count(template) > MIN_ANSWER_WORDS
    nb = in_spanish(make_notebook(), template_answer=template)
    cell_with_role(nb, "student-name").source = "**Nombre:** Ana Pérez"
    for q in ("q2", "q3", "q4", "q5"):
        cell_with_role(nb, "answer", q).source = f"**Respuesta:** {SPANISH[q]}"
    result = check_one(nb, tmp_path, "template.ipynb")
    assert failed_only(result, "answers").startswith("q1 not answered (empty or still '**Resp")
    edited = template.replace("tu respuesta", "mi respuesta")  # no longer the prompt verbatim
    cell_with_role(nb, "answer", "q1").source = edited
    result = check_one(nb, tmp_path, "edited.ipynb")
    assert failed_only(result, "own-words").startswith("q1 copied from the notebook's own text")


def _builder():
    root = Path(__file__).resolve().parents[1]
    spec = importlib.util.spec_from_file_location("build_notebooks",
                                                  root / "tools" / "build_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_build_tool_records_the_template_of_exactly_the_role_cells():
    builder = _builder()
    nb = builder.build(builder.NOTEBOOKS / "06_activity_abseiling.md")
    recorded = [(cell.metadata[METADATA_KEY].get("role"), cell.metadata[METADATA_KEY]["template"])
                for cell in nb.cells if "template" in cell.metadata.get(METADATA_KEY, {})]
    assert recorded == [("student-name", NAME_PLACEHOLDER)] + [("answer", ANSWER_PLACEHOLDER)] * 5
    for cell in nb.cells:
        if "template" in cell.metadata.get(METADATA_KEY, {}):
            assert cell.metadata[METADATA_KEY]["template"] == cell.source


ACTIVITY_MD = """---
jupytext:
  notebook_metadata_filter: twostream_lab
  text_representation:
    format_name: myst
twostream_lab:
  notebook: activity-abseiling
---

# Actividad

+++ {"twostream_lab": {"role": "student-name", "template": "**Student name:** _stale_"}}

**Nombre:** _escribe tu nombre aquí_

```{code-cell}
print("Prediction for abseiling_k400.mp4")
```
QUESTIONS_MD
"""


def test_a_notebook_built_from_a_translated_source_is_checked_in_its_language(tmp_path):
    questions = "".join(
        f'\n+++\n\n**Pregunta {q}.** ¿Por qué?\n\n+++ {{"twostream_lab": {{"role": "answer", '
        f'"question": "{q}"}}}}\n\n{RESPUESTA}\n' for q in QUESTIONS)
    source = tmp_path / "06_actividad.md"
    source.write_text(ACTIVITY_MD.replace("QUESTIONS_MD", questions), encoding="utf-8")
    nb = _builder().build(source)
    templates = {cell.metadata[METADATA_KEY].get("question", "name"):
                 cell.metadata[METADATA_KEY]["template"]
                 for cell in nb.cells if "template" in cell.metadata.get(METADATA_KEY, {})}
    assert templates == {"name": NOMBRE, **{q: RESPUESTA for q in QUESTIONS}}  # stale one replaced
    result = check_one(nb, tmp_path, "untouched.ipynb")
    assert NOMBRE in result.check("name").reason and RESPUESTA in result.check("answers").reason
    cell_with_role(nb, "student-name").source = "**Nombre:** Ana Pérez"
    for q in QUESTIONS:
        cell_with_role(nb, "answer", q).source = f"**Respuesta:** {SPANISH[q]}"
    result = check_one(nb, tmp_path, "filled.ipynb")
    assert result.check("name").passed and result.check("answers").passed, result.reasons
    assert (result.student, result.answers) == ("Ana Pérez", SPANISH)


def test_english_templates_in_the_metadata_check_as_without_them(tmp_path):
    nb = make_notebook()
    for cell in nb.cells:
        lab = cell.metadata.get(METADATA_KEY, {})
        if lab.get("role"):
            name = lab["role"] == "student-name"
            lab["template"] = NAME_PLACEHOLDER if name else ANSWER_PLACEHOLDER
    result = check_one(nb, tmp_path, "filled.ipynb")
    assert result.ok and result.student == "Ada Lovelace" and result.answers == answers_for(0)
    cell_with_role(nb, "student-name").source = NAME_PLACEHOLDER
    cell_with_role(nb, "answer", "q3").source = "Answer: *Write your answer here*"
    result = check_one(nb, tmp_path, "template.ipynb")
    assert result.reasons == (
        f"name: the student name is not filled in (still {NAME_PLACEHOLDER!r} or empty) | "
        f"answers: q3 not answered (empty or still {ANSWER_PLACEHOLDER!r})"
    )


# --- what the report prints and writes: no control characters, answers in CSV and HTML ---------

CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")


def test_sanitize_removes_escape_sequences_and_escapes_other_controls():
    assert sanitize("Eve\x1b]0;pwned\x07 Mallory") == "Eve Mallory"  # OSC: window title
    assert sanitize("\x1b[2J\x1b[31mred\x1b[0m\x9b2Jx") == "redx"  # CSI, 7- and 8-bit
    assert sanitize("bell\x07 nul\x00 del\x7f nel\x85 dcs\x90") == (
        "bell\\x07 nul\\x00 del\\x7f nel\\x85 dcs\\x90"
    )
    assert sanitize("a\tb\r\nc\rd\ne") == "a b c d e"
    assert sanitize("a\tb\r\nc\rd\ne", multiline=True) == "a b\nc\nd\ne"
    assert sanitize("abc\u202egpj.exe") == "abc\\u202egpj.exe"  # reversed text
    assert sanitize("eve\x1b[2J.ipynb", escape_all=True) == "eve\\x1b[2J.ipynb"
    assert sanitize("Zoë, 小明") == "Zoë, 小明"


def test_no_control_character_reaches_the_report_csv_or_html(tmp_path, capsys):
    folder = tmp_path / "class"
    save(make_notebook("Ada Lovelace", answers_for(2)), folder / "ada.ipynb")
    answers = dict(answers_for(2))
    answers["q1"] += " see\x9b31m red\x85 and a\ttab\x07"
    eve = make_notebook("Eve\x1b]0;pwned\x07 Mallory\x9b2J", answers)
    code_cells(eve)[0].outputs.append(
        new_output("error", ename="ValueError\x1b[5m", evalue="\x1b]0;pwned\x07boom\x1b[2J",
                   traceback=["\x1b[31mValueError\x1b[0m"])
    )
    eve.metadata[METADATA_KEY]["notebook"] = "x\x1b[2Jy"
    save(eve, folder / "eve\x1b[2J.ipynb")
    text, code = run_check([folder], tmp_path / "r.csv", html_path=tmp_path / "r.html")
    csv_text = (tmp_path / "r.csv").read_text(encoding="utf-8")
    html_text = (tmp_path / "r.html").read_text(encoding="utf-8")
    for where, written in [("report", text), ("csv", csv_text), ("html", html_text)]:
        found = CONTROL.findall(written.replace("\n", ""))
        assert not found, f"{where}: {found!r}"
        assert "pwned" not in written
    assert code == 1
    assert "eve\\x1b[2J.ipynb" in text and "Eve Mallory" in text  # the file stays recognisable
    assert "ValueError: boom" in text and "notebook metadata says 'x\\x1b[2Jy'" in text
    assert "near-identical to" in text and "~" in text  # paths in reasons and pairs, sanitised
    with (tmp_path / "r.csv").open(newline="", encoding="utf-8") as stream:
        rows = {Path(row["path"]).name: row for row in csv.DictReader(stream)}
    assert rows["eve\\x1b[2J.ipynb"]["q1"].endswith(" see red\\x85 and a tab\\x07")
    from twostream_lab.cli import main

    main(["check", str(folder)])
    printed = capsys.readouterr().out
    assert not CONTROL.findall(printed.replace("\n", "")) and "pwned" not in printed


def test_csv_carries_every_answer_multiline_and_safe(tmp_path):
    answers = dict(answers_for(5))
    answers["q2"] = answers["q2"] + "\n\nA second paragraph, after a blank line."
    answers["q3"] = "=HYPERLINK(\"http://x\") " + answers["q3"]
    save(make_notebook("Ann", answers), tmp_path / "ann.ipynb")
    path = write_csv(check_submissions(tmp_path), tmp_path / "out" / "r.csv")
    with path.open(newline="", encoding="utf-8") as stream:
        (row,) = csv.DictReader(stream)
    assert row["q1"] == answers["q1"]
    assert row["q2"] == answers["q2"] and "\n\n" in row["q2"]
    assert row["q3"] == "'" + answers["q3"]  # never a formula
    assert "\r" not in path.read_text(encoding="utf-8")


def test_csv_is_written_atomically(tmp_path, monkeypatch):
    folder = _class(tmp_path)
    report = tmp_path / "r.csv"
    report.write_text("the previous report\n")
    calls = []

    def failing_mark(check, marks=None):
        calls.append(check)
        if len(calls) > len(CHECKS):  # fail on the second row
            raise RuntimeError("disk full")
        return "pass"

    monkeypatch.setattr("twostream_lab.instructor.report._mark", failing_mark)
    with pytest.raises(RuntimeError, match="disk full"):
        write_csv(check_submissions(folder), report)
    assert report.read_text() == "the previous report\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["class", "r.csv"]


def test_html_shows_the_answers_question_by_question(tmp_path):
    folder = tmp_path / "class"
    save(make_notebook("Ada Lovelace", answers_for(0)), folder / "ada.ipynb")
    bob = dict(answers_for(1))
    bob["q1"] = "<script>alert('x')</script> & " + bob["q1"]
    bob["q2"] = "2D"
    save(make_notebook("Bob <b>", bob), folder / "bob.ipynb")
    (folder / "zed.ipynb").write_text("not json")
    text, code = run_check([folder], html_path=tmp_path / "answers.html")
    assert text.endswith(f"HTML report written to {tmp_path / 'answers.html'}")
    page = (tmp_path / "answers.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "<script" not in page and "http" not in page.replace("http://x", "")  # self-contained
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; " in page
    assert "Bob &lt;b&gt;" in page
    summary_table = page[page.index("<table>"):page.index("</table>")]
    for name in ("ada.ipynb", "bob.ipynb", "zed.ipynb", *CHECKS, "weights", "frames"):
        assert name in summary_table
    sections = [page.index(f'<section id="{q}">') for q in QUESTIONS]
    assert sections == sorted(sections) and sections[0] > page.index("</table>")
    for k, q in enumerate(QUESTIONS):
        section = page[sections[k]:sections[k + 1] if k + 1 < len(sections) else None]
        assert f"### {q}: why does motion help?" in section  # the question, then every answer
        assert section.index("why does motion help") < section.index("Ada Lovelace")
        assert section.index("Ada Lovelace") < section.index("Bob &lt;b&gt;")
        assert answers_for(0)[q] in section and "zed.ipynb" not in section
    q2 = page[sections[1]:sections[2]]
    assert "too short (1 word; an answer needs at least 15)" in q2
    with pytest.raises(ValueError, match="refusing to write the HTML report over a submission"):
        write_html(check_submissions(folder), folder / "ada.ipynb")
    with pytest.raises(ValueError, match="the CSV and the HTML report would be the same file"):
        run_check([folder], tmp_path / "r.out", html_path=tmp_path / "r.out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["answers.html", "class"]


def test_cli_check_allow_demo_and_html(tmp_path, capsys):
    from twostream_lab.cli import main

    save(with_prediction(make_notebook(), summary("demo")), tmp_path / "subs" / "demo.ipynb")
    assert main(["check", str(tmp_path / "subs")]) == 1
    assert DEMO_WEIGHTS_REASON in capsys.readouterr().out
    html_path = tmp_path / "r.html"
    assert main(["check", str(tmp_path / "subs"), "--allow-demo", "--html", str(html_path)]) == 0
    assert f"HTML report written to {html_path}" in capsys.readouterr().out
    assert "demo.ipynb" in html_path.read_text(encoding="utf-8")


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
