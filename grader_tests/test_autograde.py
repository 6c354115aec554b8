"""A TA's round in a fresh clone: `cnnlab autograde` registers the assignment from
source/ and grades the class; plain nbgrader commands keep working beside it;
feedback shows no hidden test; the CSV export survives awkward names."""
from __future__ import annotations

import csv
import json
import subprocess

import nbformat
import pytest
from nbgrader.api import Gradebook

from cnnlab.nbtools import fill_answers, instructor_answers
from cnnlab.simulate import load_catalogue

from conftest import BIN, cnnlab_cmd, run_env

ASSIGNMENT, NOTEBOOK = "03_padding_pooling", "padding_pooling"


def _submit(course, student, nb_or_bytes):
    folder = course.root / "submitted" / student / ASSIGNMENT
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{NOTEBOOK}.ipynb"
    if isinstance(nb_or_bytes, bytes):
        target.write_bytes(nb_or_bytes)
    else:
        nbformat.write(nb_or_bytes, str(target))


def _grades(course):
    with Gradebook("sqlite:///" + str(course.root / "gradebook.db"), "learn-cnns") as gb:
        return {s.student.id: float(s.score) for s in gb.find_assignment(ASSIGNMENT).submissions}


def _class(course, catalogue_course):
    release = nbformat.read(course.root / "release" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", as_version=4)
    answers = instructor_answers(course.read_source(ASSIGNMENT, NOTEBOOK))
    mistake = load_catalogue(ASSIGNMENT)[0][0]
    _submit(course, "ada", fill_answers(release, answers))
    _submit(course, "bo", release)
    _submit(course, "cy", fill_answers(release, {**answers, mistake.cell_id: mistake.code}))
    _submit(course, "dee", b"{ not json")
    return mistake


def test_a_class_round_in_a_fresh_clone(course, course_copy, tmp_path):
    _class(course_copy, course)
    run = lambda *a: subprocess.run(cnnlab_cmd("--course", str(course_copy.root), *a),  # noqa: E731
                                    capture_output=True, text=True, env=run_env(), timeout=600)
    proc = run("autograde", ASSIGNMENT)
    # dee's file is not a notebook: 0 with the reason, and the others are graded anyway
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"registered {ASSIGNMENT}" in proc.stdout
    assert "dee" in proc.stdout and "is not a readable notebook" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr
    grades = _grades(course_copy)
    with Gradebook("sqlite:///" + str(course_copy.root / "gradebook.db"), "learn-cnns") as gb:
        max_score = float(gb.find_assignment(ASSIGNMENT).max_score)
    assert grades["ada"] == max_score > 0
    assert grades["bo"] == 0
    assert 0 < grades["cy"] < max_score
    assert grades["dee"] == 0
    assert "bo " in proc.stdout and "not attempted (the release notebook, unchanged)" in proc.stdout

    # feedback for everyone: dee, whose file is no notebook, gets a page saying so
    fb = run("feedback", ASSIGNMENT, "--json")
    assert fb.returncode == 0, fb.stderr
    written = json.loads(fb.stdout)
    assert (written["written"], written["not_graded_pages"], written["failed"]) == (4, 1, 0), written
    page = (course_copy.root / "feedback" / "dee" / ASSIGNMENT / "NOT_GRADED.html").read_text(encoding="utf-8")
    assert "could not be graded" in page and "is not a readable notebook" in page

    # a rerun skips what is graded; --force regrades with identical grades
    rerun = run("autograde", ASSIGNMENT, "--student", "ada", "--student", "bo", "--student", "cy")
    assert rerun.returncode == 0 and "0 graded (" in rerun.stdout and "3 unchanged (skipped" in rerun.stdout
    assert run("autograde", ASSIGNMENT, "--student", "cy", "--force").returncode == 0
    assert _grades(course_copy) == grades
    # feedback knows cy's is older than the regrade: only it is written again
    again = json.loads(run("feedback", ASSIGNMENT, "--json").stdout)
    assert (again["written"], again["up_to_date"]) == (1, 3) and again["students"][0]["student"] == "cy", again

    # plain nbgrader keeps working in the course folder, with the same grades
    nbg = lambda *a: subprocess.run([str(BIN / "nbgrader"), *a], cwd=course_copy.root,  # noqa: E731
                                    capture_output=True, text=True, env=run_env(), timeout=600)
    committed = (course_copy.root / "release" / ASSIGNMENT / f"{NOTEBOOK}.ipynb").read_text()
    assert nbg("generate_assignment", ASSIGNMENT, "--force").returncode == 0
    assert (course_copy.root / "release" / ASSIGNMENT / f"{NOTEBOOK}.ipynb").read_text() == committed
    assert nbg("autograde", ASSIGNMENT, "--student", "ada", "--force").returncode == 0
    assert _grades(course_copy) == grades
    assert nbg("generate_feedback", ASSIGNMENT).returncode == 0
    source = course_copy.read_source(ASSIGNMENT, NOTEBOOK)
    hidden = [ln.strip() for c in source.cells for ln in c.source.split("BEGIN HIDDEN TESTS")[-1].splitlines()
              if "BEGIN HIDDEN TESTS" in c.source and len(ln.strip()) >= 12 and "END HIDDEN" not in ln]
    assert hidden
    for student in ("ada", "bo", "cy"):
        html = (course_copy.root / "feedback" / student / ASSIGNMENT / f"{NOTEBOOK}.html").read_text()
        leaked = [ln for ln in hidden if ln in html]
        assert not leaked, f"{student}'s feedback shows hidden test lines: {leaked[:2]}"

    # the export survives names with commas, quotes, accents and a leading '='
    with Gradebook("sqlite:///" + str(course_copy.root / "gradebook.db"), "learn-cnns") as gb:
        gb.update_or_create_student("ada", first_name="Ada", last_name="Lovelace, Countess")
        gb.update_or_create_student("bo", first_name="Bō \"B\"", last_name="=1+1")
    out = tmp_path / "grades.csv"
    proc = run("export", "--to", str(out))
    assert proc.returncode == 0, proc.stderr
    rows = {r["student_id"]: r for r in csv.DictReader(out.open(encoding="utf-8", newline=""))}
    assert rows["ada"]["last_name"] == "Lovelace, Countess" and float(rows["ada"]["score"]) == max_score
    assert rows["bo"]["first_name"] == "Bō \"B\"" and rows["bo"]["last_name"] == "'=1+1"
    assert float(rows["cy"]["score"]) == grades["cy"]
    nbg_csv = tmp_path / "nbgrader.csv"
    assert nbg("export", "--exporter=cnnlab.export.CsvExportPlugin", f"--to={nbg_csv}").returncode == 0
    assert nbg_csv.read_text(encoding="utf-8") == out.read_text(encoding="utf-8")

    # --items: a column per graded item, and the items add up to the score
    items_csv = tmp_path / "items.csv"
    assert run("export", "--items", "--to", str(items_csv)).returncode == 0
    rows = list(csv.DictReader(items_csv.open(encoding="utf-8", newline="")))
    item_columns = [c for c in rows[0] if c.endswith("_hidden")]
    assert item_columns
    for row in rows:
        assert sum(float(row[c] or 0) for c in item_columns) == pytest.approx(float(row["score"]))

    # where everyone stands, in one table: a TA's hand score shows, and an export that is now out of date
    with Gradebook("sqlite:///" + str(course_copy.root / "gradebook.db"), "learn-cnns") as gb:
        next(g for nb in gb.find_submission(ASSIGNMENT, "cy").notebooks for g in nb.grades
             if g.max_score and g.auto_score).manual_score = 0
        gb.db.commit()
    status = run("status", ASSIGNMENT, "--json")
    assert status.returncode == 0, status.stderr
    rows = {r["student"]: r for r in json.loads(status.stdout)["students"]}
    assert set(rows) == {"ada", "bo", "cy", "dee"} and all(r["submitted"] for r in rows.values())
    assert rows["ada"]["graded"] == "graded" and rows["ada"]["score"] == max_score and rows["ada"]["exported"] == "yes"
    assert rows["dee"]["graded"] == "broken" and rows["dee"]["score"] == 0
    assert rows["cy"]["overridden"] and rows["cy"]["exported"] == "changed since"
    assert not rows["ada"]["overridden"] and rows["ada"]["feedback"] in ("written", "stale")
    from click.testing import CliRunner

    from cnnlab.cli import cli

    table = CliRunner().invoke(cli, ["--course", str(course_copy.root), "status", ASSIGNMENT])  # the human table
    assert table.exit_code == 0 and "1 overridden" in table.output, table.output
    assert "1 changed since the last export" in table.output, table.output
