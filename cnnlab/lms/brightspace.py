"""Brightspace (D2L): its grades export, its assignment download, its grade import.

Roster -- Grades › Enter Grades › Export (Key field "Both", user details
ticked), a UTF-8 CSV:

    OrgDefinedId,Username,Last Name,First Name,Email,
    Lab 1 Points Grade <Numeric MaxPoints:10 Weight:5 Category:Labs CategoryWeight:20>,...,
    End-of-Line Indicator

D2L writes "#" in front of every OrgDefinedId and Username value (so Excel
keeps leading zeros) and "#" in the End-of-Line Indicator column; the "#" is
not part of the data and is stripped. ids: "org_defined_id", "username". A
"Section Membership"/"Sections" column is read into RosterRow.section when
present (its exact header could not be verified).

Submissions -- Assignments › folder › select all › Download. The zip holds an
index.html (-> None) and, per submission, either (current Brightspace) a
folder with the student's files in it

    {id}-{id} - {First} {Last} - {Mon D, YYYY HMM AM/PM}/{original file name}

or (older Brightspace, and what download_name writes) one file per upload

    {id}-{id} - {First} {Last} - {Mon D, YYYY HMM AM/PM} - {original file name}

e.g. "39786-640693 - Aiden Rodriguez - Oct 10, 2025 1022 AM/Main.java";
older versions wrote the time with a colon ("4:17 PM"), which is accepted too.
Both shapes were verified in public tools that unpack these archives. For a
group submission a "{Group} - " chunk precedes the name; the student's name is
the chunk right before the date. Month names are English (D2L's en-US form);
other locales are not recognised. The name carries no id, so a file is matched
by ("full_name", "First Last"); the time has minute precision.

Grade import -- Grades › Import (verified in D2L's help and university KB):
  * the identifier column is OrgDefinedId or Username (first column); this
    writes the one the nbgrader student ids are;
  * a numeric item's column is "{item name} Points Grade": D2L matches items
    by name, so the course.yml title must be the grade item's name in D2L
    (else the import offers to create a new item). AssignmentGrade.lms_id is
    not used: the import has no place for an item id;
  * other fields (names, email) must not be imported, so none are written;
  * the last column is "End-of-Line Indicator" holding "#" in every row;
  * identifier values carry the same "#" prefix as D2L's own export: D2L's KB
    says the "#" marks are not part of the data and that exported files
    re-import as they are (the prefix keeps leading zeros through Excel).
A score of None (course.yml lms.missing: blank) is written as an empty cell
(an ungraded value, which D2L accepts; whether it clears a grade already
entered could not be verified). Output is UTF-8 CSV through sheets.write_csv.
"""
from __future__ import annotations

import re
import zlib
from datetime import datetime
from pathlib import PurePosixPath
from typing import TextIO

from ..sheets import StudentGrades, write_csv
from .base import AssignmentGrade, FileMatch, LmsError, LmsFormat, RosterRow, read_table, score_text

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_DATE = r"(?P<mon>[A-Z][a-z]{2,8}) (?P<day>\d{1,2}), (?P<year>\d{4}) (?P<hour>\d{1,2}):?(?P<minute>\d{2}) (?P<ampm>[AaPp][Mm])"
_HEAD = r"^(?P<ids>\d+(?:-\d+)*) - (?P<who>.+?) - " + _DATE
_FILE = re.compile(_HEAD + r" - (?P<filename>.+)$")   # flat: one file per upload
_FOLDER = re.compile(_HEAD + r"$")                     # folder per submission

_ID_COLUMNS = {"org_defined_id": "OrgDefinedId", "username": "Username"}


def _parse_date(m: re.Match) -> datetime | None:
    try:
        month = _MONTHS.index(m["mon"][:3]) + 1
        hour = int(m["hour"])
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if m["ampm"].upper() == "PM" else 0)
        return datetime(int(m["year"]), month, int(m["day"]), hour, int(m["minute"]))
    except ValueError:
        return None


def _format_date(when: datetime) -> str:
    hour = when.hour % 12 or 12
    return f"{_MONTHS[when.month - 1]} {when.day}, {when.year} {hour}{when.minute:02d} {'PM' if when.hour >= 12 else 'AM'}"


def _unhash(value: str) -> str:
    return value[1:] if value.startswith("#") else value


class BrightspaceFormat(LmsFormat):
    name = "brightspace"
    title = "Brightspace"
    id_fields = ("org_defined_id", "username")

    # -- roster ----------------------------------------------------------
    def parse_roster(self, text: str) -> list[RosterRow]:
        rows = []
        for rec in read_table(text):
            ids = {}
            for key, column in _ID_COLUMNS.items():
                value = _unhash(rec.get(column, "")).strip()
                if value:
                    ids[key] = value
            if not ids:
                continue
            section = rec.get("Section Membership") or rec.get("Sections") or ""
            rows.append(RosterRow(first_name=rec.get("First Name", ""), last_name=rec.get("Last Name", ""),
                                  email=rec.get("Email", ""), ids=ids, section=section))
        return rows

    # -- submissions -----------------------------------------------------
    def match_file(self, relpath: str) -> FileMatch | None:
        parts = PurePosixPath(relpath.replace("\\", "/")).parts
        if not parts or "__MACOSX" in parts or parts[-1].startswith("._") or parts[-1] in (".DS_Store", "Thumbs.db"):
            return None
        m = _FILE.match(parts[-1])
        if m:
            filename = m["filename"]
        else:
            # A file inside a submission folder: the nearest enclosing folder named like one.
            for i in range(len(parts) - 2, -1, -1):
                m = _FOLDER.match(parts[i])
                if m:
                    filename = "/".join(parts[i + 1:])
                    break
            else:
                return None  # index.html and anything else D2L did not name
        when = _parse_date(m)
        name = m["who"].rsplit(" - ", 1)[-1].strip()  # "{Group} - First Last" for group submissions
        if when is None or not name:
            return None
        return FileMatch(who=("full_name", name), filename=filename, submitted_at=when)

    def download_name(self, row: RosterRow, filename: str, submitted_at: datetime, attempt: int = 0) -> str:
        key = f"{row.full_name}|{submitted_at.isoformat()}|{attempt}".encode()
        ids = f"{100000 + zlib.crc32(key) % 900000}-{1000000 + zlib.adler32(key) % 9000000}"
        return f"{ids} - {row.full_name} - {_format_date(submitted_at)} - {filename}"

    # -- grades ----------------------------------------------------------
    def write_grades(self, out: TextIO, students: list[StudentGrades], assignments: list[AssignmentGrade],
                     student_id_field: str) -> None:
        if student_id_field not in _ID_COLUMNS:
            raise LmsError(
                f"Brightspace grade imports match students on OrgDefinedId or Username, but the student ids here are "
                f"{student_id_field!r}: import the Brightspace roster with id field 'org_defined_id' or 'username'")
        header = [_ID_COLUMNS[student_id_field], *(f"{a.title} Points Grade" for a in assignments),
                  "End-of-Line Indicator"]
        rows = [["#" + s.student_id, *(score_text(s.scores.get(a.name), missing="blank") for a in assignments), "#"]
                for s in students]
        write_csv(out, header, rows)


FORMAT = BrightspaceFormat()
