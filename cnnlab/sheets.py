"""Grades as rows, and the one CSV writer every export uses.

The generic export (export/csv.py) and every LMS format (lms/) read the
gradebook the same way (`gradebook_grades`) and write through the same
formula-safe writer (`write_csv`), so a student named "=HYPERLINK(...)" or
"Smith, Jr." is handled once, for every file a TA uploads.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:  # importing nbgrader starts its server extensions: not for every command's start
    from nbgrader.api import Gradebook


@dataclass
class StudentGrades:
    """One student of the gradebook with a score per assignment (None: submitted nothing)."""

    student_id: str
    first_name: str
    last_name: str
    email: str
    lms_user_id: str
    scores: dict[str, float | None]
    items: dict[str, dict[str, float]] = field(default_factory=dict)  # assignment -> {grade_id: score}


def gradebook_grades(gb: Gradebook, assignments: list[str], students: list[str] | None = None,
                     missing: str = "zero", blank: dict[str, set[str]] | None = None) -> list[StudentGrades]:
    """Every student of the gradebook (or the ones asked for), in the gradebook's
    order, with a score per assignment: the gradebook's, or 0 / None (blank) for
    no submission, and the score of each graded item of each submission.
    `blank`: {assignment: students} left blank without a submission whatever `missing`
    says (they handed in something that is not a notebook: collect's record)."""
    from nbgrader.api import MissingEntry

    rows = []
    for student in gb.students:
        if students and student.id not in students:
            continue
        scores, items = {}, {}
        for name in assignments:
            try:
                sub = gb.find_submission(name, student.id)
            except MissingEntry:
                keep_blank = student.id in (blank or {}).get(name, ())
                scores[name] = 0.0 if missing == "zero" and not keep_blank else None
                continue
            scores[name] = round(final_score(sub), 2)
            items[name] = {g.name: round(float(g.score), 2) for nb in sub.notebooks for g in nb.grades
                           if g.max_score}
        rows.append(StudentGrades(student.id, student.first_name or "", student.last_name or "",
                                  student.email or "", student.lms_user_id or "", scores, items))
    return rows


def final_score(submission) -> float:
    """A submission's grade as nbgrader's own export counts it: its score less the late
    penalty (nbgrader keeps both; `score` alone is the score before lateness)."""
    return max(0.0, float(submission.score) - float(submission.late_submission_penalty or 0))


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """A value a spreadsheet shows as text: cells starting with = + - @ (or a
    tab or carriage return) are formulas to Excel and LibreOffice (CSV
    injection), so they get a leading apostrophe. Numbers are left alone."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def write_csv(out: TextIO, header: list[str], rows, *, quote_all: bool = False) -> None:
    """UTF-8 CSV through the csv module, every cell formula-safe: quoted where
    needed, or every value quoted (`quote_all`, which Blackboard's importer wants)."""
    writer = csv.writer(out, quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow([safe_cell(h) for h in header])
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
