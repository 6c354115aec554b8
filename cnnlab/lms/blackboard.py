"""Blackboard Learn (Original Grade Center): its roster export, its submission
download, its grade upload.

Roster -- Grade Center › Work Offline › Download (Full Grade Center). The
".xls" it offers is tab-separated UTF-16 text with a BOM (decode_export reads
it); a ".csv" download is comma-separated UTF-8. Every field is quoted:

    "Last Name"  "First Name"  "Username"  "Student ID"  "Last Access"  "Availability"
    "Quiz 1 [Total Pts: 10 Score] |123456"  ...

ids: "username" (Username, what uploads match on) and "student_id" (Student
ID, the institution's number, often empty). An "Email" column is read when a
download has one; the standard download has none.

Submissions -- Grade Center › column menu › Assignment File Download. The zip
is flat; per attempt it holds the files the student uploaded and a receipt:

    {Assignment Name}_{username}_attempt_{YYYY-MM-DD-HH-MM-SS}_{original file name}
    {Assignment Name}_{username}_attempt_{YYYY-MM-DD-HH-MM-SS}.txt   (receipt, not a submission)

Verified against public tools that unpack these archives (timestamp format
%Y-%m-%d-%H-%M-%S, receipt ".txt" holding "Name: First Last (username)").
Public code also shows a localised word in place of "attempt" (Dutch
"poging"), so any single word of letters is accepted there.

Where the username starts: both the assignment name and the username may
contain "_", so the name alone is ambiguous. The rule: the name is anchored on
the first "_<word>_<timestamp>"; of what precedes it, the username is
  * what follows "{assignment}_" when this format was built with the
    assignment's Blackboard name (BlackboardFormat(assignment="Lab_2")) --
    every file of one download shares that prefix, so this is exact;
  * otherwise the text after the last "_" (the rule public tools use). A
    username that itself contains "_" then comes back as its last part, which
    matches no roster row, so the file is reported unmatched, never given to
    another student.
Blackboard may also shorten or clean an odd original file name; the grader
matches renamed notebooks, so the name is taken as it stands.

Grade upload -- Work Offline › Upload. Verified in Blackboard's help:
  * students are matched on Username only (the Student ID is not used);
  * a column is matched on the Column ID after "|" in its header; a header
    without one creates a new *text* column worth 0 points, outside the
    totals -- so every assignment needs its column id (course.yml
    lms: blackboard: assignments: {<assignment id>: <column id>});
  * comma-delimited files must have every value in quotes (tab-delimited ones
    need none), so this file quotes every field;
  * First/Last Name columns are not processed on upload; they are written so a
    TA can read the file (Blackboard's own download has them too).
The "[Total Pts: N]" part of a header is informational (Blackboard reads the
id); it is written as Blackboard's own help example spells it. A score of
None (course.yml lms.missing: blank) is written as an empty cell, which public
tools report Blackboard leaves as it was. Output is UTF-8 CSV. Like every cell,
a Username starting with = + - @ gets the formula-guard apostrophe and would
then not match; Blackboard usernames are not seen to start so.
"""
from __future__ import annotations

import csv
import re
from datetime import datetime
from pathlib import PurePosixPath
from typing import TextIO

from .base import (AssignmentGrade, FileMatch, LmsError, LmsFormat, RosterRow, StudentGrades, read_table,
                   safe_cell, score_text)

# {prefix}_{word}_{timestamp} then "_{file}" or ".txt" (the receipt). The
# prefix is non-greedy: the first "_attempt_<timestamp>" is Blackboard's, a
# later one would be part of the student's own file name.
_NAME = re.compile(
    r"^(?P<prefix>.+?)_(?P<word>[^\W\d_]+)_(?P<stamp>\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2})"
    r"(?:(?P<receipt>\.txt)|_(?P<filename>.+))$"
)
_STAMP = "%Y-%m-%d-%H-%M-%S"
# The number after "|" in a Grade Center download header. An id in the REST
# API's form ("_31415_1") is refused rather than converted: that its number is
# the same one could not be verified, and a wrong column id makes Blackboard
# write into another column.
_COLUMN_ID = re.compile(r"^\|?\s*(\d+)$")


class BlackboardFormat(LmsFormat):
    name = "blackboard"
    title = "Blackboard Learn"
    id_fields = ("username", "student_id")

    def __init__(self, assignment: str = ""):
        #: The assignment's name in Blackboard, when known: it makes usernames
        #: with "_" unambiguous in download names (see the module docstring).
        self.assignment = assignment

    # -- roster ----------------------------------------------------------
    def parse_roster(self, text: str) -> list[RosterRow]:
        rows = []
        for rec in read_table(text):
            username = rec.get("Username") or rec.get("User Name") or ""
            if not username:
                continue  # a blank line, or a row Blackboard adds without a user
            ids = {"username": username}
            if rec.get("Student ID"):
                ids["student_id"] = rec["Student ID"]
            rows.append(RosterRow(first_name=rec.get("First Name", ""), last_name=rec.get("Last Name", ""),
                                  email=rec.get("Email", ""), ids=ids))
        return rows

    # -- submissions -----------------------------------------------------
    def match_file(self, relpath: str) -> FileMatch | None:
        parts = PurePosixPath(relpath.replace("\\", "/")).parts
        if not parts or "__MACOSX" in parts or parts[-1].startswith("._"):
            return None
        m = _NAME.match(parts[-1])
        if not m or m["receipt"]:
            return None
        try:
            when = datetime.strptime(m["stamp"], _STAMP)
        except ValueError:
            return None
        prefix = m["prefix"]
        if self.assignment and prefix.startswith(self.assignment + "_"):
            username = prefix[len(self.assignment) + 1:]
        elif "_" in prefix:
            username = prefix.rsplit("_", 1)[1]
        else:
            return None  # no "{assignment}_" in front: not a Blackboard name
        if not username:
            return None
        return FileMatch(who=("username", username), filename=m["filename"], submitted_at=when)

    def download_name(self, row: RosterRow, filename: str, submitted_at: datetime, attempt: int = 0) -> str:
        username = row.ids.get("username", "")
        if not username:
            raise LmsError(f"Blackboard names downloads by Username; {row.full_name or 'this student'} has none")
        return f"{self.assignment or 'Assignment'}_{username}_attempt_{submitted_at.strftime(_STAMP)}_{filename}"

    # -- grades ----------------------------------------------------------
    def write_grades(self, out: TextIO, students: list[StudentGrades], assignments: list[AssignmentGrade],
                     student_id_field: str) -> None:
        if student_id_field != "username":
            raise LmsError(
                f"Blackboard grade uploads match students on Username only, but the student ids here are "
                f"{student_id_field!r}: import the Blackboard roster with Username as the student id (id field 'username')")
        columns = []
        for a in assignments:
            m = _COLUMN_ID.match((a.lms_id or "").strip())
            if not m:
                what = f"{a.lms_id!r} is not a Grade Center column id" if a.lms_id else "it has no Grade Center column id"
                if re.fullmatch(r"_\d+_\d+", (a.lms_id or "").strip()):
                    what += " (that is the REST API's form; the upload wants the plain number)"
                raise LmsError(
                    f"Blackboard cannot take grades for {a.name!r} ({a.title}): {what}; set it in course.yml under "
                    f"lms: blackboard: assignments: {{{a.name}: <column id>}} (the number after '|' in the column's "
                    f"header in a Grade Center download) -- without it Blackboard would create a 0-point text column")
            columns.append(f"{a.title} [Total Pts: {a.max_score:g}] |{m[1]}")
        header = ["Last Name", "First Name", "Username", *columns]
        rows = [[s.last_name, s.first_name, s.student_id,
                 *(score_text(s.scores.get(a.name), missing="blank") for a in assignments)] for s in students]
        # Blackboard wants every value of a comma-delimited upload in quotes,
        # which base.write_csv (minimal quoting) does not do; same csv module,
        # same formula-safe cells, QUOTE_ALL.
        writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
        writer.writerow([safe_cell(h) for h in header])
        for row in rows:
            writer.writerow([safe_cell(v) for v in row])


FORMAT = BlackboardFormat()
