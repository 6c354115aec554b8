"""Every broken submission is graded for what it is, and the class goes on.

One class of deliberately broken submissions is autograded once, through the
real `cnnlab autograde` (intake, nbgrader, sandbox), and each test checks one
student. Cell timeout is lowered to 5 s in this copy of the course.
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess

import nbformat
import pytest
from nbgrader.api import Gradebook

from cnnlab.nbtools import cells_by_id, fill_answers, instructor_answers, nbgrader_meta
from cnnlab.simulate import load_catalogue

from conftest import cnnlab_cmd, course_with_timeout, run_env

#: one worker builds this module's fixtures once (pytest-xdist --dist loadgroup)
pytestmark = pytest.mark.xdist_group("broken")

A, NB = "04_dimensions", "dimensions"
MISTAKE = "missing +1"  # a conv_output_size mistake the hidden tests catch


def _tree_hash(folder):
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            h.update(os.fsencode(p.relative_to(folder)) + p.read_bytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def graded(tmp_path_factory, course):
    root = tmp_path_factory.mktemp("broken") / "course"
    copy = course_with_timeout(course, root)
    release = nbformat.read(root / "release" / A / f"{NB}.ipynb", as_version=4)
    answers = instructor_answers(copy.read_source(A, NB))
    mistake = next(v for v in load_catalogue(A)[0] if v.name == MISTAKE)
    right = fill_answers(release, answers)
    wrong = fill_answers(release, {**answers, mistake.cell_id: mistake.code})

    def with_cells(nb, change):
        nb = nbformat.from_dict(nb)
        change(nb)
        return nb

    def duplicate(nb):
        cells = cells_by_id(nb)
        nb.cells.insert(1, nbformat.from_dict(cells["conv_output_size_hidden"]))
        nb.cells.append(nbformat.from_dict(cells["conv_output_size_answer"]))

    def flip_flags(nb):
        meta = nbgrader_meta(cells_by_id(nb)["conv_output_size_hidden"])
        meta.update(grade=False, solution=True, points=100)

    def to_markdown(nb):
        for i, c in enumerate(nb.cells):
            if nbgrader_meta(c).get("grade_id") == "conv_output_size_hidden":
                md = nbformat.v4.new_markdown_cell(c.source)
                md.metadata = c.metadata
                nb.cells[i] = md

    def delete_hidden(nb):
        nb.cells = [c for c in nb.cells if nbgrader_meta(c).get("grade_id") != "conv_output_size_hidden"]

    def blank_hidden(nb):
        cells_by_id(nb)["conv_output_size_hidden"].source = ""

    def list_metadata(nb):
        cells = cells_by_id(nb)
        cells["conv_output_size_answer"].metadata["nbgrader"] = ["solution"]
        meta = nbgrader_meta(cells["dense_param_count_hidden"])
        meta["grade_id"] = [meta["grade_id"]]

    def answer(code):
        return fill_answers(release, {**answers, "conv_output_size_answer": code})

    class_ = {
        "right": right,
        "invalid_json": b'{"cells": [',
        "empty": b"",
        "binary": b"\x89PNG\r\n\x1a\n" + bytes(range(256)),
        "renamed": ("dimensions (1)", right),
        "duplicated": with_cells(right, duplicate),
        "flipped_flags": with_cells(right, flip_flags),
        "cell_type": with_cells(right, to_markdown),
        "deleted_test": with_cells(wrong, delete_hidden),
        "blanked_test": with_cells(wrong, blank_hidden),
        "os_exit": fill_answers(release, {**answers, "layer_params_answer": "import os\nos._exit(1)"}),
        "out_of_memory": answer("import numpy as np\n_big = np.ones(2**33)"),
        "infinite_loop": answer("while True:\n    pass"),
        "flood": answer("for _ in range(2 * 10**5):\n    print('x' * 100)\n" + answers["conv_output_size_answer"]),
        "numpy_shadow": right,
        "missing": None,
        # the second red team (issue 15): shapes nbgrader's own code assumes, names, links, sizes
        "list_metadata": with_cells(right, list_metadata),
        "gxa": right,
        "gx*": release,  # a glob in a student id must not regrade gxa
        "odd_name": right,
        "too_many_cells": with_cells(right, lambda nb: nb.cells.extend(
            nbformat.v4.new_code_cell("pass") for _ in range(1500))),
        "source_copy": copy.read_source(A, NB),
        # issue 17: 03's notebook uploaded for this assignment (collected, then "repaired" into a 0)
        "wrong_assignment": ("padding_pooling", nbformat.read(root / "release" / "03_padding_pooling" /
                                                             "padding_pooling.ipynb", as_version=4)),
    }
    for student, nb in class_.items():
        folder = root / "submitted" / student / A
        folder.mkdir(parents=True)
        name = NB
        if isinstance(nb, tuple):
            name, nb = nb
        if nb is None:
            (folder / "notes.txt").write_text("I forgot the notebook")
        elif isinstance(nb, bytes):
            (folder / f"{name}.ipynb").write_bytes(nb)
        else:
            nbformat.write(nb, str(folder / f"{name}.ipynb"))
    (root / "submitted" / "numpy_shadow" / A / "numpy.py").write_text("raise SystemExit('shadowed numpy')\n")
    (root / "submitted" / "odd_name" / A / os.fsdecode(b"notes-\xff\xfe.txt")).write_text("not UTF-8\n")
    for student, target in {"linked_notebook": root / "source" / A / f"{NB}.ipynb",
                            "linked_folder": root / "submitted" / "right" / A}.items():
        (root / "submitted" / student).mkdir()
        link = root / "submitted" / student / A
        if target.is_file():
            link.mkdir()
            link = link / f"{NB}.ipynb"
        os.symlink(target, link)
    before = _tree_hash(root / "submitted")
    proc = subprocess.run(cnnlab_cmd("--course", str(root), "autograde", A, "--json"), capture_output=True,
                          text=True, env=run_env(), timeout=900)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    summary = json.loads(proc.stdout)
    with Gradebook("sqlite:///" + str(root / "gradebook.db"), "learn-cnns") as gb:
        assignment = gb.find_assignment(A)
        scores = {s.student.id: (float(s.score), float(s.max_score)) for s in assignment.submissions}
        flagged = {s.student.id: all(nb.flagged for nb in s.notebooks) for s in assignment.submissions}
        failed_tests = {s.student.id: any(nb.failed_tests for nb in s.notebooks) for s in assignment.submissions}
        items = {s: {g.name: float(g.score) for g in gb.find_submission_notebook(NB, A, s).grades}
                 for s in scores if s != "missing"}
    return {"root": root, "summary": summary, "scores": scores, "items": items, "flagged": flagged,
            "failed_tests": failed_tests,
            "results": {r["student"]: r for r in summary["results"]},
            "submitted_unchanged": before == _tree_hash(root / "submitted"),
            "max": float(sum(nbgrader_meta(c).get("points", 0) for c in release.cells if nbgrader_meta(c).get("grade"))),
            "points": {gid: float(nbgrader_meta(c).get("points", 0)) for gid, c in cells_by_id(release).items()}}


def _full(graded, student):
    score, max_score = graded["scores"][student]
    return score == max_score == graded["max"]


def test_every_student_is_recorded_and_nothing_stops_the_class(graded):
    assert set(graded["scores"]) == set(graded["results"]) and len(graded["scores"]) == 25
    assert all(r["status"] in ("graded", "broken") for r in graded["results"].values())
    assert _full(graded, "right")


def test_submitted_is_never_modified(graded):
    assert graded["submitted_unchanged"]


@pytest.mark.parametrize("student,reason", [("invalid_json", "not a readable notebook"),
                                            ("empty", "is empty"), ("binary", "binary data"),
                                            ("missing", "was not handed in")])
def test_unreadable_or_missing_notebooks_score_zero_with_the_reason(graded, student, reason):
    assert graded["scores"][student][0] == 0
    result = graded["results"][student]
    assert result["status"] == "broken" and any(reason in p for p in result["problems"])


@pytest.mark.parametrize("student", ["renamed", "duplicated", "flipped_flags", "cell_type", "numpy_shadow"])
def test_repaired_submissions_are_graded_as_the_student_meant(graded, student):
    assert _full(graded, student), graded["scores"][student]
    assert graded["scores"][student][1] == graded["max"]  # edited points did not count


def test_stray_modules_never_reach_the_kernel(graded):
    assert graded["results"]["numpy_shadow"]["dropped_files"] == ["numpy.py"]


@pytest.mark.parametrize("student", ["deleted_test", "blanked_test"])
def test_deleted_or_blanked_test_cells_are_put_back_and_run(graded, student):
    items = graded["items"][student]
    assert items["conv_output_size_hidden"] < graded["points"]["conv_output_size_hidden"], "the hidden tests did not run"
    assert graded["scores"][student][0] < graded["max"]


def test_kernel_death_keeps_earlier_results_and_zeroes_the_rest(graded):
    result, items = graded["results"]["os_exit"], graded["items"]["os_exit"]
    assert result["kernel_died"] and result["status"] == "graded"
    full = graded["points"]
    assert items["conv_output_size_hidden"] == full["conv_output_size_hidden"] > 0  # before the crash
    assert items["dense_param_count_hidden"] == full["dense_param_count_hidden"] > 0
    assert items["layer_params_hidden"] == 0 and items["alexnet_conv1_hidden"] == 0  # prevented by it


def test_out_of_memory_costs_only_what_it_breaks(graded):
    items = graded["items"]["out_of_memory"]
    assert items["conv_output_size_hidden"] == 0
    full = graded["points"]
    assert items["dense_param_count_hidden"] == full["dense_param_count_hidden"] > 0
    assert items["alexnet_conv1_hidden"] == full["alexnet_conv1_hidden"] > 0


def test_an_infinite_loop_times_out_and_the_rest_still_runs(graded):
    result, items = graded["results"]["infinite_loop"], graded["items"]["infinite_loop"]
    assert result["timeouts"] >= 1
    full = graded["points"]
    assert items["dense_param_count_hidden"] == full["dense_param_count_hidden"] > 0
    assert items["layer_params_hidden"] == full["layer_params_hidden"] > 0


def test_an_output_flood_is_capped_and_graded(graded):
    nb = nbformat.read(graded["root"] / "autograded" / "flood" / A / f"{NB}.ipynb", as_version=4)
    assert len(nbformat.writes(nb)) < 5 * 1024**2
    assert _full(graded, "flood")


def test_malformed_nbgrader_metadata_is_normalised_and_graded(graded):
    """A grade id or nbgrader metadata given as a list once crashed intake (no grade, no zero)."""
    result, items = graded["results"]["list_metadata"], graded["items"]["list_metadata"]
    assert result["status"] == "graded", result
    assert any("nbgrader metadata was malformed" in r for r in result["repairs"]), result["repairs"]
    full = graded["points"]  # the student's answers still run (as plain cells): full marks on those items
    assert items["conv_output_size_hidden"] == full["conv_output_size_hidden"] > 0
    assert items["dense_param_count_hidden"] == full["dense_param_count_hidden"] > 0


def test_a_glob_in_a_student_id_grades_that_student_alone(graded):
    assert _full(graded, "gxa") and graded["scores"]["gx*"][0] == 0
    log = graded["root"] / ".cnnlab" / "logs" / f"autograde-{A}.jsonl"
    graded_lines = [json.loads(ln)["student"] for ln in log.read_text().splitlines() if '"event"' not in ln]
    assert graded_lines.count("gxa") == graded_lines.count("gx*") == 1
    autograded = graded["root"] / "autograded"
    assert sorted(p.name for p in (autograded / "gx*" / A).glob("*.ipynb")) == [f"{NB}.ipynb"]


def test_a_file_name_that_is_not_utf8_costs_nothing(graded):
    result = graded["results"]["odd_name"]
    assert _full(graded, "odd_name") and result["dropped_files"] == ["notes-\ufffd\ufffd.txt"], result


@pytest.mark.parametrize("student", ["linked_notebook", "linked_folder"])
def test_links_are_never_followed_out_of_the_students_folder(graded, student):
    """A link to source/ (the solutions) or to another student's folder grades 0, with a reason and a flag."""
    result = graded["results"][student]
    assert graded["scores"][student][0] == 0 and result["status"] == "broken", result
    assert any("links are never followed" in p for p in result["problems"])
    assert any("link" in f for f in result["flags"]), result["flags"]


def test_the_instructors_source_notebook_handed_in_scores_zero_and_is_flagged(graded):
    result = graded["results"]["source_copy"]
    assert graded["scores"]["source_copy"][0] == 0 and any("hidden tests" in f for f in result["flags"]), result


def test_a_notebook_past_the_size_caps_is_refused_quickly(graded):
    result = graded["results"]["too_many_cells"]
    assert graded["scores"]["too_many_cells"][0] == 0 and any("cells; at most" in p for p in result["problems"])
    assert result["seconds"] < 30, result


def test_the_notebook_of_another_assignment_is_named_not_repaired(graded):
    result = graded["results"]["wrong_assignment"]
    assert result["status"] == "broken" and graded["scores"]["wrong_assignment"][0] == 0
    assert result["problems"] == ["handed in the notebook of 03_padding_pooling (padding_pooling.ipynb), "
                                  f"not {NB}.ipynb of {A}"], result
    assert result["repairs"] == [] and result["flags"] == result["problems"]


def test_the_student_who_handed_in_another_assignment_is_told_so_in_their_feedback(graded):
    from cnnlab.course import load_course
    from cnnlab.report.feedback import write_feedback

    done = write_feedback(load_course(graded["root"]), A, ["wrong_assignment"], progress=False)
    assert (done["written"], done["not_graded_pages"], done["failed"]) == (1, 1, 0), done
    folder = graded["root"] / "feedback" / "wrong_assignment" / A
    assert [p.name for p in folder.glob("*.html")] == ["NOT_GRADED.html"]  # no page of a 0 that looks graded
    page = (folder / "NOT_GRADED.html").read_text(encoding="utf-8")
    assert "could not be graded" in page and "handed in the notebook of 03_padding_pooling" in page
    assert f"<code>{NB}.ipynb</code>" in page  # and which notebook to hand in instead


def test_formgrader_s_triage_columns_show_our_findings(graded):
    """'Flagged?' and 'Tests Failed?' in formgrader come from nbgrader's own fields."""
    assert graded["flagged"]["wrong_assignment"] and graded["flagged"]["source_copy"]
    assert not graded["flagged"]["right"]
    assert graded["failed_tests"]["wrong_assignment"] and not graded["failed_tests"]["right"]
