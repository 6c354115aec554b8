"""`cnnlab grade NOTEBOOK`: one submitted notebook, graded in isolation.

A throwaway copy of the course registers the assignment from source/ and
grades the notebook through the same pipeline as `cnnlab autograde`
(intake, sandboxed execution, nbgrader's scoring); nothing of the course
(gradebook, submitted/, autograded/) is touched.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from ..course import Course, CourseError, load_course
from ..workspace import Workspace
from .intake import _stem_key, read_notebook
from .pipeline import ClassGrader
from ..items.status import notebook_results
from .sandbox import check_available

STUDENT = "student"


class GradeError(CourseError):
    """The notebook cannot be graded at all (exit status 2, one line)."""


def _check_submission(path: Path) -> None:
    """Exit status 2 material: a file that cannot be graded at all (the same
    judgement intake makes for a class, where it scores 0 instead)."""
    if not path.is_file():
        raise GradeError(f"{path}: no such file")
    try:
        _, problem = read_notebook(path)
    except OSError as exc:
        raise GradeError(f"{path}: cannot be read ({exc.strerror})") from None
    if problem:
        raise GradeError(f"{path.parent}/{problem}")


def _assignment_of(course: Course, path: Path, assignment_id: str | None):
    if assignment_id is not None:
        return course.assignment(assignment_id)
    key = _stem_key(path.stem)
    for a in course.assignments:
        if path.stem in a.notebooks or key in {n.lower() for n in a.notebooks}:
            return a
    raise CourseError(f"no assignment has a notebook named {path.stem!r}; pass --assignment")


def grade_notebook(course: Course, path: str | Path, assignment_id: str | None = None,
                   sandbox: bool = True) -> dict:
    """Grade one notebook file; returns the JSON-ready result of the contract."""
    path = Path(path)
    _check_submission(path)
    assignment = _assignment_of(course, path, assignment_id)
    if sandbox:
        check_available()
    with Workspace(course) as ws:
        ws.generate_assignment(assignment.id)
        folder = ws.layout.submitted(STUDENT, assignment.id)
        folder.mkdir(parents=True)
        shutil.copyfile(path, folder / path.name)
        # the copy's own gradebook, whatever CNNLAB_DB names: nothing of the course's is touched
        grader = ClassGrader(load_course(ws.root, db_url=ws.db_url), assignment.id, sandbox=sandbox)
        try:
            grader.expect(1)  # its kernel starts while the answer keys load
            grader.check_answer_keys()
            result = grader.grade(STUDENT)
        finally:
            grader.close()
        if result.status == "error":
            raise GradeError(f"{path.name}: could not be graded ({result.reason})")
        graded = [n for n in assignment.notebooks if (ws.layout.autograded(STUDENT, assignment.id) / f"{n}.ipynb").exists()]
        if not graded:
            raise GradeError(f"{path.name}: assignment {assignment.id} has no notebook it could be graded as "
                             f"(it has: {', '.join(assignment.notebooks)})")
        notebook = graded[0]
        grades = ws.grades(assignment.id, STUDENT).get(notebook, {})
        tests = notebook_results(ws.autograded_notebook(assignment.id, STUDENT, notebook), grades)
    return {
        "assignment": assignment.id,
        "notebook": notebook,
        "score": round(sum(t.score for t in tests), 2),
        "max_score": round(sum(t.max_score for t in tests), 2),
        "tests": [t.as_dict() for t in tests],
    }
