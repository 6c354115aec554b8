"""What an export wrote, in one line, and the exports that must not be written.

An LMS import overwrites what the LMS holds. Three files did harm with exit 0:
an all-zero column for an assignment nobody was graded on yet, a Canvas column
without the assignment's id (Canvas creates a new assignment from it), and a
0 for each student who handed in a text entry or an HTML page instead of a
notebook, over the grade a TA had entered by hand. `refusal` names the first
two before anything is written (the TA can insist); collect's record keeps
the third blank (sheets.gradebook_grades). `account` says what the file holds.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone

from nbgrader.api import Gradebook, MissingEntry

from ..course import Course, CourseError, load_course
from ..sheets import final_score


def course_of(plugin) -> Course | None:
    """The course an export plugin works for: its `course_root`, else its nbgrader app's
    course folder, else the one holding the current folder (None: there is none)."""
    root = plugin.course_root or getattr(getattr(plugin.parent, "coursedir", None), "root", None)
    try:
        return load_course(root or None)
    except CourseError:
        return None


def graded_count(gb: Gradebook, assignment: str) -> int:
    return len(gb.find_assignment(assignment).submissions)


def refusal(gb: Gradebook, assignments: list[str], missing_ids: list[str], allow_ungraded: bool,
            allow_new_column: bool, lms_title: str) -> str:
    """Why this export must not be written ('' when it may)."""
    if not assignments:
        return "the gradebook has no assignment yet (run cnnlab autograde first)"
    if not allow_ungraded:
        nobody = [a for a in assignments if graded_count(gb, a) == 0]
        if nobody:
            return (f"{', '.join(nobody)}: no submission is graded yet, so every student would be written 0 "
                    f"(run cnnlab autograde first, or pass --allow-ungraded)")
    if missing_ids and not allow_new_column:
        return (f"{', '.join(missing_ids)}: no {lms_title} assignment id in course.yml (lms: ... assignments:), "
                f"so the import would create a new assignment instead of filling the existing one "
                f"(add the id, or pass --allow-new-column)")
    return ""


def no_notebook(course: Course, assignments: list[str]) -> dict[str, set[str]]:
    """{assignment: students} who handed in files but no notebook, as collect recorded them."""
    return {a: set(course.collected(a).get("no_notebook", {})) for a in assignments}


@dataclass
class ExportAccount:
    students: int = 0
    assignments: int = 0
    graded: int = 0
    zero_broken: int = 0      # graded 0 because no notebook in it could be read
    zero_scored: int = 0      # graded, and every item scored 0 (often: not attempted)
    missing: int = 0          # no submission
    missing_written: str = "0"
    no_notebook: int = 0      # of the missing: handed in something else, written blank
    late: int = 0
    overridden: int = 0       # a TA's manual score on at least one item
    #: {assignment: {student: the score written, None when missing}}: the export record (record_export)
    scores: dict[str, dict[str, float | None]] = field(default_factory=dict, repr=False)

    def line(self, dest: str) -> str:
        return (f"{dest}: {self.students} student(s) x {self.assignments} assignment(s): {self.graded} graded "
                f"({self.zero_broken} 0 as unreadable, {self.zero_scored} scored 0), {self.missing} missing "
                f"(written {self.missing_written}; {self.no_notebook} handed in no notebook: blank), "
                f"{self.late} late, {self.overridden} overridden by hand")


def account(course: Course, gb: Gradebook, assignments: list[str], students: list[str], missing: str) -> ExportAccount:
    """The pairs (student, assignment) an export holds, counted by what happened to them."""
    blank = no_notebook(course, assignments)
    out = ExportAccount(students=len(students), assignments=len(assignments),
                        missing_written="0" if missing == "zero" else "blank")
    for a in assignments:
        scores = out.scores[a] = {}
        for student in students:
            try:
                sub = gb.find_submission(a, student)
            except MissingEntry:
                scores[student] = None
                out.missing += 1
                out.no_notebook += student in blank[a]
                continue
            scores[student] = round(final_score(sub), 2)
            out.graded += 1
            if float(sub.score) == 0:
                unreadable = (course.autograded(student, a) / "NOT_GRADED.txt").is_file()
                out.zero_broken += unreadable
                out.zero_scored += not unreadable
            out.late += bool(sub.total_seconds_late and sub.total_seconds_late > 0)
            out.overridden += any(g.manual_score is not None for nb in sub.notebooks for g in nb.grades)
    return out


def record_export(course: Course, account: ExportAccount, dest: str) -> None:
    """What this export wrote, per assignment, for `cnnlab status` to compare with the gradebook later."""
    for a, scores in account.scores.items():
        path = course.export_record(a)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"to": str(dest), "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                                    "scores": scores}, indent=1), encoding="utf-8")
