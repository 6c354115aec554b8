"""What every LMS format provides, and the data that passes between them.

A format (canvas.py, moodle.py, blackboard.py, brightspace.py) knows only its
LMS's files: how its roster export reads (`parse_roster`), how its download
archive names a submission (`match_file`, and `download_name` for tests and
docs), and how its grade import must look (`write_grades`). Everything that
touches nbgrader (students in the gradebook, zip_collect, export plugins) is
shared, in roster.py, collect.py and export.py, so each format stays a page
of rules about one LMS.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar, TextIO

from ..sheets import StudentGrades


class LmsError(Exception):
    """A file or a setting an LMS format cannot work with (one line, for the TA)."""


@dataclass
class RosterRow:
    """One student as an LMS roster or gradebook export lists them. Fields an
    LMS does not export stay empty; `ids` holds every identifier it does export
    (e.g. {"lms_user_id": "48213", "sis_login_id": "ada@uni.edu"})."""

    first_name: str = ""
    last_name: str = ""
    email: str = ""
    ids: dict[str, str] = field(default_factory=dict)
    section: str = ""

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


@dataclass(frozen=True)
class FileMatch:
    """What an LMS download archive's file name says about one file.

    who       -- how the LMS identifies the student in the name: a key of
                 RosterRow.ids (e.g. "lms_user_id", "username") or "full_name",
                 and its value
    filename  -- the file as the student uploaded it (e.g. "kernels.ipynb";
                 "kernels-1.ipynb" stays as it is: the grader matches renamed notebooks)
    submitted_at -- when, if the name says so (the latest submission wins)
    attempt   -- an attempt number, if the name says so (used when there is no time)
    late_mark -- the LMS says the file was late, but not when (Canvas)
    other_readings -- further (kind, value) readings of a name the LMS makes
                 ambiguous (Blackboard: a username may hold "_"); the file is
                 whoever's the one reading that names a roster student is
    """

    who: tuple[str, str]
    filename: str
    submitted_at: datetime | None = None
    attempt: int = 0
    other_readings: tuple[tuple[str, str], ...] = ()
    late_mark: bool = False   # the LMS marked the file late (Canvas's _LATE) without saying when
    note: str = ""            # what the LMS says the file is, when it is no ordinary upload

    @property
    def readings(self) -> tuple[tuple[str, str], ...]:
        return (self.who, *self.other_readings)


@dataclass(frozen=True)
class AssignmentGrade:
    """An assignment as the export writes it."""

    name: str            # nbgrader assignment id, e.g. "02_kernels"
    title: str           # course.yml title, e.g. "Kernels, filters and feature maps"
    max_score: float
    lms_id: str = ""     # the LMS's id of the matching assignment/column, when configured


class LmsFormat:
    """The rules of one LMS. Subclasses set the class attributes and implement
    the four methods; see canvas.py for a complete one."""

    name: ClassVar[str]              # canvas | moodle | blackboard | brightspace
    title: ClassVar[str]             # "Canvas", for messages and the README
    #: Keys of RosterRow.ids this LMS exports, the first being the default nbgrader student id.
    id_fields: ClassVar[tuple[str, ...]]
    #: The setting a TA must give for each assignment (course.yml lms.<name>.assignments), if any.

    #: Whether the import matches a grade column by the assignment's LMS id in its header, and
    #: makes a new assignment from a header without one (export refuses that unless told).
    needs_column_id: ClassVar[bool] = False

    def id_column(self, student_id_field: str, columns: dict[str, str]) -> str:
        """The column of `columns` ({ids key: header}) that holds the student ids, or a one-line LmsError."""
        if student_id_field not in columns:
            raise LmsError(f"{self.title} student ids must be one of {', '.join(columns)}, "
                           f"not {student_id_field!r}")
        return columns[student_id_field]

    def parse_roster(self, text: str) -> list[RosterRow]:
        """The students of a roster or gradebook export (text already decoded)."""
        raise NotImplementedError

    def match_file(self, relpath: str) -> FileMatch | None:
        """What the path of a file inside the extracted download archive says, or
        None for a file that is not a submission (an index.html, a receipt)."""
        raise NotImplementedError

    def download_name(self, row: RosterRow, filename: str, submitted_at: datetime, attempt: int = 0) -> str:
        """The path the LMS gives `filename` in its download archive (tests build archives with it)."""
        raise NotImplementedError

    #: Whether the LMS takes feedback files back in bulk, as an upload named like its download.
    feedback_upload: ClassVar[str] = ""  # where the TA uploads it, for messages; "" = no such upload

    def feedback_name(self, download_path: str, filename: str) -> str:
        """The path, inside the bulk feedback upload, that attaches `filename` to the student
        whose download file was `download_path` (relative to the unpacked download)."""
        raise LmsError(f"{self.title} has no bulk upload of feedback files: give students theirs from "
                       "feedback/ (or the hub's Assignments tab)")

    def write_grades(self, out: TextIO, students: list[StudentGrades], assignments: list[AssignmentGrade],
                     student_id_field: str) -> None:
        """The grade import file for this LMS. `student_id_field` says which
        identifier the nbgrader student ids are (a key of RosterRow.ids)."""
        raise NotImplementedError


# ----------------------------------------------------------------------------
# Helpers every format uses
# ----------------------------------------------------------------------------
def score_text(score: float | None, missing: str = "zero") -> str:
    """A score as LMS importers read it: '7.5', '0'; '' for blank."""
    if score is None:
        return "0" if missing == "zero" else ""
    return f"{round(float(score), 2):g}"


def decode_export(data: bytes) -> str:
    """An LMS export's text: UTF-8 (with or without BOM) or UTF-16 (Blackboard's
    '.xls' downloads are tab-separated UTF-16)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252")


def read_table(text: str) -> list[dict[str, str]]:
    """Rows of a CSV or tab-separated export as dicts (the delimiter is sniffed)."""
    sample = text[:4096]
    delimiter = "\t" if sample.count("\t") > sample.count(",") and sample.count("\t") > sample.count(";") else \
        ";" if sample.count(";") > sample.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    return [{(k or "").strip(): (v or "").strip() for k, v in row.items()} for row in reader]
