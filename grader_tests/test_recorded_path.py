"""The recorded path, end to end: what `cnnlab autograde` writes to the gradebook
is what the catalogue's judgement (judgement.py) says, item by item.

Per assignment, one class through the real command (sandboxed, verifier on,
two workers): the instructor's answers, an untouched notebook, and for every
graded item its first catalogued mistake and its first correct alternative,
several items' variants to a student (cells of their own, so each student's
judgement is that of one notebook; that each mistake costs its own item only is
test_catalogue.py's, which holds every variant to its judgement without a
kernel). This shows that judgement is the one the gradebook records.
"""
from __future__ import annotations

import json
import subprocess

import nbformat
import pytest
from nbgrader.api import Gradebook

from cnnlab.nbtools import fill_answers
from cnnlab.simulate import load_catalogue

from conftest import assignment_ids, cnnlab_cmd, copy_course, run_env


#: graded items' variants handed in by one simulated student
PER_STUDENT = 100  # every item's variant on one student (each still a cell of its own)


def _class(course, assignment_id):
    """{student: answers (None: the untouched notebook)}: instructor, blank, and one mistake and
    one alternative per graded item, PER_STUDENT items' variants to a student."""
    mistakes, alternatives = load_catalogue(assignment_id)
    students: dict[str, dict | None] = {"instructor": {}, "blank": None}
    for kind, variants in (("mistake", mistakes), ("alternative", alternatives)):
        firsts = {}
        for v in variants:
            if all(v.cell_id != w.cell_id for w in firsts.values()):
                firsts.setdefault(v.item, v)
        items = sorted(firsts)
        for k in range(0, len(items), PER_STUDENT):
            group = items[k:k + PER_STUDENT]
            students[f"{kind}-{'-'.join(group)}"] = {firsts[i].cell_id: firsts[i].code for i in group}
    return students


@pytest.mark.parametrize("assignment_id", [pytest.param(a, marks=pytest.mark.xdist_group(a))
                                           for a in assignment_ids()])
def test_autograde_records_the_judged_scores_item_by_item(course, judge, tmp_path, assignment_id):
    root = tmp_path / "course"
    copy = copy_course(course, root)
    judged = judge(assignment_id)
    notebook = copy.assignment(assignment_id).notebooks[0]
    release = nbformat.read(root / "release" / assignment_id / f"{notebook}.ipynb", as_version=4)
    students = _class(course, assignment_id)
    for student, answers in students.items():
        folder = root / "submitted" / student / assignment_id
        folder.mkdir(parents=True)
        nb = release if answers is None else fill_answers(release, {**judged.judge.answers, **answers})
        nbformat.write(nb, str(folder / f"{notebook}.ipynb"))
    proc = subprocess.run(cnnlab_cmd("--course", str(root), "autograde", assignment_id, "--workers", "2", "--json"),
                          capture_output=True, text=True, env=run_env(), timeout=900)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    summary = json.loads(proc.stdout)
    assert summary["sandboxed"] and summary["counts"]["graded"] == len(students), summary["counts"]
    assert summary["counts"]["verifier_disagreed"] == 0, [r["flags"] for r in summary["results"] if r["flags"]]
    untouched = {r["student"] for r in summary["results"] if r["not_attempted"]}
    assert untouched == {"blank"}, untouched  # its line says "not attempted", nobody else's
    differ = {}
    with Gradebook("sqlite:///" + str(root / "gradebook.db"), "learn-cnns") as gb:
        for student, answers in students.items():
            recorded = {g.name: float(g.score) for g in gb.find_submission_notebook(notebook, assignment_id, student).grades}
            expected = judged.scores(blank=True) if answers is None else judged.scores(answers)
            for gid, score in expected["verified"].items():
                if abs(recorded[gid] - score) > 1e-6:
                    differ[(student, gid)] = (recorded[gid], score)
    assert not differ, f"recorded vs judged: {differ}"
    assert len(students) >= 4
    covered = {item for s in students if s.startswith("mistake-") for item in s.split("-")[1:]}
    assert covered == {v.item for v in load_catalogue(assignment_id)[0]}  # every graded item's mistake
