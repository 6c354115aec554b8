"""`cnnlab status A`: where every student of the class stands, in one table.

One row per student (the gradebook's roster, and anyone with a submission):
submitted, late, graded (score) or broken, flagged, overridden by hand,
feedback (written, stale: older than the grading, or missing) and exported
(the score the last export wrote, and whether the gradebook has changed since).
Every column is read from where its command left it: submitted/, the autograde
log, the gradebook, feedback/ and the export record (export/account.py).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

from nbgrader.api import Gradebook, MissingEntry

from ..course import Course
from ..sheets import final_score
from .classdata import read_log
from .feedback import is_stale


@dataclass
class StudentStatus:
    student: str
    submitted: bool = False
    late: str = ""
    graded: str = ""          # "graded" | "broken" | "error" | "" (not yet)
    score: float | None = None
    flagged: bool = False
    overridden: bool = False
    feedback: str = "-"       # written | stale | missing | - (nothing to give feedback on)
    exported: str = "-"       # yes | changed since | no | - (no export yet)


def class_status(course: Course, assignment_id: str) -> list[StudentStatus]:
    course.assignment(assignment_id)
    last, _ = read_log(course, assignment_id)
    exported = course.exported(assignment_id)
    cfg = course.nbgrader_config().CourseDirectory
    rows: dict[str, StudentStatus] = {}
    with Gradebook(cfg.db_url, cfg.get("course_id", "")) as gb:
        roster = [s.id for s in gb.students]
        with_work = sorted(p.parent.name for p in course.submitted().glob(f"*/{assignment_id}") if p.is_dir())
        for student in sorted(set(roster) | set(with_work) | set(last)):
            row = rows[student] = StudentStatus(student, submitted=student in with_work)
            record = last.get(student, {})
            row.graded, row.late = record.get("status", ""), record.get("late", "")
            row.flagged = bool(record.get("flags") or record.get("repairs") or record.get("dropped_files"))
            try:
                sub = gb.find_submission(assignment_id, student)
            except MissingEntry:
                sub = None
            if sub is not None:
                row.score = round(final_score(sub), 2)
                row.overridden = any(g.manual_score is not None for nb in sub.notebooks for g in nb.grades)
                row.graded = row.graded or "graded"
            if row.graded in ("graded", "broken"):
                row.feedback = "stale" if is_stale(course, student, assignment_id) else "written"
                if row.feedback == "stale" and not any(course.feedback(student, assignment_id).glob("*.html")):
                    row.feedback = "missing"
            if exported:
                was = exported.get("scores", {}).get(student, "absent")
                row.exported = "no" if was == "absent" else "yes" if was == row.score else "changed since"
    return list(rows.values())


def as_dicts(rows: list[StudentStatus]) -> list[dict]:
    return [asdict(r) for r in rows]
