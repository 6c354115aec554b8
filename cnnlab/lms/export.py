"""Grades out: one nbgrader ExportPlugin per LMS, writing that LMS's import file.

    cnnlab export --format canvas --to canvas.csv [--assignment 02_kernels]
    nbgrader export --exporter=cnnlab.lms.export.CanvasExportPlugin --to canvas.csv

The plugin reads the gradebook (students, scores, per-item grades) and the
course's LMS settings (course.yml `lms:`: the student identifier, each
assignment's LMS id, zero or blank for missing work), and hands plain rows to
the LMS's `write_grades`, which knows the column rules of its importer.
"""
from __future__ import annotations

import os

from nbgrader.api import Gradebook
from nbgrader.plugins import ExportPlugin
from traitlets import Bool, Enum, Unicode

from ..course import load_course
from ..export.account import account, no_notebook, record_export, refusal
from ..sheets import gradebook_grades
from . import get_format
from .base import AssignmentGrade, LmsError
from .settings import lms_settings


class LmsExportPlugin(ExportPlugin):
    """Writes the grade import file of the LMS named by `lms`."""

    lms = Unicode("", help="canvas | moodle | blackboard | brightspace").tag(config=True)
    course_root = Unicode("", help="The course folder (default: the exporting app's course root).").tag(config=True)
    missing = Enum(["zero", "blank", ""], default_value="",
                   help="A student who submitted nothing: zero or blank (default: course.yml lms.missing). "
                        "One who handed in files but no notebook (collect's record) is blank either way.").tag(config=True)
    allow_ungraded = Bool(False, help="Write an assignment no submission of which is graded yet (every "
                                      "student 0 or blank). Refused by default.").tag(config=True)
    allow_new_column = Bool(False, help="Write an assignment without its LMS assignment id where the LMS "
                                        "would create a new assignment from it (Canvas). Refused by default.").tag(config=True)

    def export(self, gradebook: Gradebook) -> None:
        parent_root = getattr(getattr(self.parent, "coursedir", None), "root", None)
        course = load_course(self.course_root or parent_root)  # an LMS export needs course.yml's lms: settings
        fmt, settings = get_format(self.lms), lms_settings(course, self.lms)
        names = list(self.assignment) or [a.name for a in gradebook.assignments]
        known = {a.name for a in gradebook.assignments}
        unknown = sorted(set(names) - known)
        if unknown:
            raise LmsError(f"not in the gradebook: {', '.join(unknown)}")
        titles = {a.id: a.title for a in course.assignments}
        order = {a.id: i for i, a in enumerate(course.assignments)}
        names.sort(key=lambda n: order.get(n, len(order)))
        assignments = [AssignmentGrade(n, titles.get(n, n), round(float(gradebook.find_assignment(n).max_score), 2),
                                       settings.assignment_ids.get(n, "")) for n in names]
        missing_ids = [a.name for a in assignments if not a.lms_id] if fmt.needs_column_id else []
        why = refusal(gradebook, names, missing_ids, self.allow_ungraded, self.allow_new_column, fmt.title)
        if why:
            raise LmsError(f"nothing exported: {why}")
        missing = self.missing or settings.missing
        students = sorted(gradebook_grades(gradebook, names, list(self.student) or None, missing,
                                           blank=no_notebook(course, names)), key=lambda s: s.student_id)
        dest = self.to or f"{self.lms}-grades.csv"
        if os.path.dirname(dest):
            os.makedirs(os.path.dirname(dest), exist_ok=True)
        tmp = dest + ".part"
        try:
            with open(tmp, "w", newline="", encoding="utf-8") as out:
                fmt.write_grades(out, students, assignments, settings.student_id)
        except BaseException:
            os.remove(tmp)
            raise
        os.replace(tmp, dest)  # a failed export never leaves half a file for the TA to upload
        self.account = account(course, gradebook, names, [s.student_id for s in students], missing)
        record_export(course, self.account, dest)
        self.log.info("%s (for %s)", self.account.line(dest), fmt.title)


class CanvasExportPlugin(LmsExportPlugin):
    lms = Unicode("canvas").tag(config=True)


class MoodleExportPlugin(LmsExportPlugin):
    lms = Unicode("moodle").tag(config=True)


class BlackboardExportPlugin(LmsExportPlugin):
    lms = Unicode("blackboard").tag(config=True)


class BrightspaceExportPlugin(LmsExportPlugin):
    lms = Unicode("brightspace").tag(config=True)


EXPORTERS = {"canvas": CanvasExportPlugin, "moodle": MoodleExportPlugin, "blackboard": BlackboardExportPlugin,
             "brightspace": BrightspaceExportPlugin}
