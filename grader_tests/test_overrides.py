"""A TA's manual score and a resubmission (cnnlab/grading/overrides.py).

Reproduced first: a TA set an item to 1 of 2 in formgrader, the student
resubmitted a right answer, autograde gave 2 of 2, and nbgrader's manual score
kept winning with nothing said. Now a changed submission reports every such
override, kept (the default) or cleared (course.yml grading.overrides:
clear); `--force` over unchanged work leaves it alone, as before.
"""
from __future__ import annotations

import nbformat
import yaml
from nbgrader.api import Gradebook

from cnnlab.course import load_course
from cnnlab.grading import autograde
from cnnlab.nbtools import fill_answers, instructor_answers

from conftest import copy_course

A, NB, ITEM = "01_why_cnns", "why_cnns", "motivations_hidden"


def _hand_in(root, answers, note=""):
    release = nbformat.read(root / "release" / A / f"{NB}.ipynb", as_version=4)
    nb = fill_answers(release, answers)
    nb.cells.append(nbformat.v4.new_markdown_cell(note))  # a resubmission is a different file
    folder = root / "submitted" / "ada" / A
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(folder / f"{NB}.ipynb"))


def _grade(root):
    with Gradebook("sqlite:///" + str(root / "gradebook.db"), "learn-cnns") as gb:
        sub = gb.find_submission(A, "ada")
        grade = next(g for nb in sub.notebooks for g in nb.grades if g.name == ITEM)
        return float(sub.score), grade.manual_score, float(grade.auto_score), float(grade.max_score)


def _override(root, score):
    with Gradebook("sqlite:///" + str(root / "gradebook.db"), "learn-cnns") as gb:
        sub = gb.find_submission(A, "ada")
        next(g for nb in sub.notebooks for g in nb.grades if g.name == ITEM).manual_score = score
        gb.db.commit()


def _run(root, force=False):
    summary = autograde(load_course(root), A, force=force, workers=1, progress=False)
    (result,) = summary.results
    return summary, result


def test_a_resubmission_meets_the_ta_s_override_loudly_and_by_the_course_s_rule(course, tmp_path):
    root = tmp_path / "course"
    copy_course(course, root)
    right = instructor_answers(course.read_source(A, NB))
    _hand_in(root, {**right, "motivations_answer": 'motivations = {"B", "C", "D", "E"}'})
    _run(root)
    _override(root, 1.0)  # the TA, in formgrader (of 2 points)

    _hand_in(root, right, "fixed")  # the student resubmits the right answer
    summary, result = _run(root)
    total, manual, auto, top = _grade(root)
    assert auto == top and manual == 1.0 and total == result.score < result.max_score  # kept, as nbgrader does
    assert result.overrides == [f"kept: {NB}/{ITEM} 1 by hand over {top:g} from autograde of the new submission "
                                "(course.yml grading.overrides: clear drops it)"]
    assert any(f.startswith("override kept:") for f in result.flags)
    assert summary.counts()["overrides_kept"] == 1

    data = yaml.safe_load((root / "course.yml").read_text(encoding="utf-8"))
    data["grading"] = {"overrides": "clear"}
    (root / "course.yml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    _run(root, force=True)  # unchanged work: the override still judges what is there
    assert _grade(root)[1] == 1.0

    _hand_in(root, right, "fixed again")
    summary, result = _run(root)
    total, manual, auto, top = _grade(root)
    assert manual is None and total == result.score == result.max_score
    assert result.overrides and result.overrides[0].startswith(f"cleared: {NB}/{ITEM} 1 by hand")
    assert summary.counts()["overrides_cleared"] == 1
