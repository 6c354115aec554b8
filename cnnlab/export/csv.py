"""A correct generic CSV export, as an nbgrader ExportPlugin.

nbgrader's built-in CSV export writes rows without quoting, so a student
named "Smith, Jr." breaks the file. This one writes through the `csv`
module, in UTF-8, and neutralises cells a spreadsheet would execute.

    nbgrader export --exporter=cnnlab.export.CsvExportPlugin --to grades.csv
    cnnlab export --to grades.csv
"""
from __future__ import annotations

import os

from nbgrader.api import Gradebook
from nbgrader.plugins import ExportPlugin
from traitlets import Bool, Enum, Unicode

from ..sheets import gradebook_grades, write_csv
from .account import account, course_of, no_notebook, record_export


def grade_rows(gb: Gradebook, assignments: list[str], students: list[str] | None = None,
               missing: str = "zero", blank: dict[str, set[str]] | None = None):
    """One dict per (student, assignment): identity, score, max score, item scores.
    `missing`: what a student who submitted nothing gets, "zero" or "blank" (`blank`:
    who is left blank whatever `missing` says, see sheets.gradebook_grades)."""
    max_scores = {name: round(float(gb.find_assignment(name).max_score), 2) for name in assignments}
    for student in gradebook_grades(gb, assignments, students, missing, blank):
        for name in assignments:
            score = student.scores[name]
            yield {
                "student_id": student.student_id,
                "last_name": student.last_name,
                "first_name": student.first_name,
                "email": student.email,
                "lms_user_id": student.lms_user_id,
                "assignment": name,
                "score": "" if score is None else score,
                "max_score": max_scores[name],
                "submitted": name in student.items,
                **student.items.get(name, {}),
            }


class CsvExportPlugin(ExportPlugin):
    """One row per student and assignment, quoted, UTF-8, formula-safe."""

    missing = Enum(["zero", "blank"], default_value="zero",
                   help="Score written for a student who submitted nothing.").tag(config=True)
    include_email = Bool(True, help="Write the students' email column.").tag(config=True)
    include_items = Bool(False, help="Add a column per graded item (grade id) with its score.").tag(config=True)
    course_root = Unicode("", help="The course folder, for collect's record of who handed in no notebook "
                                   "(default: the exporting app's course root).").tag(config=True)

    def export(self, gradebook: Gradebook) -> None:
        if self.to == "":
            dest = "grades.csv"
        else:
            dest = self.to
        if os.path.dirname(dest):
            os.makedirs(os.path.dirname(dest), exist_ok=True)
        names = self.assignment or [a.name for a in gradebook.assignments]
        columns = ["student_id", "last_name", "first_name"] + (["email"] if self.include_email else []) \
            + ["lms_user_id", "assignment", "score", "max_score", "submitted"]
        if self.include_items:  # one column per graded item of the exported assignments, in notebook order
            columns += [c.name for name in names for nb in gradebook.find_assignment(name).notebooks
                        for c in sorted(nb.grade_cells, key=lambda c: c.name) if c.max_score]
        course = course_of(self)
        blank = no_notebook(course, names) if course else {}
        rows = list(grade_rows(gradebook, names, self.student or None, self.missing, blank))
        with open(dest, "w", newline="", encoding="utf-8") as f:
            write_csv(f, columns, ([row.get(c, "") for c in columns] for row in rows))
        if course:
            students = list(dict.fromkeys(row["student_id"] for row in rows))
            self.account = account(course, gradebook, names, students, self.missing)
            record_export(course, self.account, dest)
            self.log.info("%s", self.account.line(dest))
