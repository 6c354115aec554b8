"""`cnnlab feedback`: nbgrader's generate_feedback, one student at a time.

What a student's feedback holds is decided by the GenerateFeedback
preprocessors of nbgrader_config.py (GetGrades, RedactHiddenTests,
FeedbackSummary), so plain `nbgrader generate_feedback` writes the same
files; this adds a progress bar, a line per failure and a summary.
"""
from __future__ import annotations

import glob
from tqdm import tqdm

from ..course import Course, select_students
from ..nbtools import nbgrader_failure
from ..workspace import course_api


def graded_students(course: Course, assignment_id: str) -> list[str]:
    folder = course.autograded()
    return sorted(p.parent.name for p in folder.glob(f"*/{assignment_id}") if any(p.glob("*.ipynb")))


def write_feedback(course: Course, assignment_id: str, students: list[str] | None = None,
                   progress: bool = True) -> dict:
    course.assignment(assignment_id)  # an unknown id fails in one line, with the known ones
    everyone = select_students(graded_students(course, assignment_id), students,
                               f"no autograded submission of {assignment_id}")
    api = course_api(course)
    done = []
    for student in tqdm(everyone, desc=f"feedback {assignment_id}", unit="student", disable=not progress):
        # nbgrader globs its folders with the student id: escaped, `gx*` is that student alone
        result = api.generate_feedback(assignment_id, glob.escape(student))
        files = sorted(str(p.relative_to(course.root))
                       for p in course.feedback(student, assignment_id).glob("*.html"))
        error = ""
        if not result.get("success") or not files:
            error = nbgrader_failure(result, "no feedback file") if not result.get("success") else "no feedback file"
        done.append({"student": student, "ok": not error, "files": files, "error": error})
    return {"assignment": assignment_id, "folder": str(course.feedback()),
            "written": sum(d["ok"] for d in done), "failed": sum(not d["ok"] for d in done), "students": done}
