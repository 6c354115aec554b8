"""`cnnlab grade NOTEBOOK`: one submitted notebook, graded in isolation.

A throwaway copy of the course registers the assignment from source/ and
autogrades the notebook with exactly the tests `autograde` uses; nothing of
the course (gradebook, submitted/, autograded/) is touched.
"""
from __future__ import annotations

from pathlib import Path

import nbformat

from ..course import Course, CourseError
from ..workspace import Workspace
from .results import notebook_results

STUDENT = "student"


class GradeError(CourseError):
    """The notebook cannot be graded at all (exit status 2, one line)."""


def _read_submission(path: Path) -> bytes:
    if not path.is_file():
        raise GradeError(f"{path}: no such file")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise GradeError(f"{path}: cannot be read ({exc.strerror})") from None
    try:
        nbformat.reads(raw.decode("utf-8"), as_version=4)
    except Exception as exc:  # invalid JSON, binary data, not nbformat
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise GradeError(f"{path}: not a Jupyter notebook ({reason[:120]})") from None
    return raw


def grade_notebook(course: Course, path: str | Path, assignment_id: str | None = None) -> dict:
    """Grade one notebook file; returns the JSON-ready result of the contract."""
    path = Path(path)
    raw = _read_submission(path)
    if assignment_id is None:
        assignment = course.assignment_for_notebook(path.stem)
        notebook = path.stem
    else:
        assignment = course.assignment(assignment_id)
        # a notebook saved under another name is graded as the assignment's only notebook
        notebook = path.stem if path.stem in assignment.notebooks or len(assignment.notebooks) != 1 \
            else assignment.notebooks[0]
        if notebook not in assignment.notebooks:
            raise GradeError(f"{path.name}: assignment {assignment.id} has no notebook of that name "
                             f"(it has: {', '.join(assignment.notebooks)})")
    with Workspace(course) as ws:
        ws.generate_assignment(assignment.id)
        ws.submit(STUDENT, assignment.id, {notebook: raw})
        result = ws.autograde(assignment.id, STUDENT)
        grades = ws.grades(assignment.id, STUDENT).get(notebook)
        if not result.get("success") or grades is None:
            log = (result.get("error") or result.get("log") or "").strip().splitlines()
            raise GradeError(f"{path.name}: nbgrader could not grade it ({log[-1] if log else 'no reason given'})")
        tests = notebook_results(ws.autograded_notebook(assignment.id, STUDENT, notebook), grades)
    return {
        "assignment": assignment.id,
        "notebook": notebook,
        "score": round(sum(t.score for t in tests), 2),
        "max_score": round(sum(t.max_score for t in tests), 2),
        "tests": [t.as_dict() for t in tests],
    }
