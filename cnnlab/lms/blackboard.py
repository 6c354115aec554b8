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
contain "_", so the name alone is ambiguous. The name is anchored on the first
"_<word>_<timestamp>"; what precedes it is read every way it splits at a "_":
the text after the last "_" (the rule public tools use) first, then each
longer tail ("Lab_2_eve_h" reads as "h", "eve_h", "2_eve_h"). The collector
gives the file to the one reading that is a roster username; when two
readings are (usernames "h" and "eve_h" in one class) the file is listed as
unmatched with both names, never given to either.
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

import re
from datetime import datetime
from pathlib import PurePosixPath
from typing import TextIO

from ..sheets import StudentGrades, write_csv
from .base import AssignmentGrade, FileMatch, LmsError, LmsFormat, RosterRow, read_table, score_text

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

    def __init__(self, assignment: str = "Assignment"):
        #: The assignment name `download_name` writes in front (tests, docs);
        #: reading names never needs it (see the module docstring).
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
        # Every tail after a "_", shortest first: "Lab_2_eve_h" -> "h", "eve_h", "2_eve_h".
        tails = [prefix[i + 1:] for i in range(len(prefix) - 1, 0, -1) if prefix[i] == "_" and prefix[i + 1:]]
        if not tails:
            return None  # no "{assignment}_" in front: not a Blackboard name
        return FileMatch(who=("username", tails[0]), filename=m["filename"], submitted_at=when,
                         other_readings=tuple(("username", t) for t in tails[1:]))

    def download_name(self, row: RosterRow, filename: str, submitted_at: datetime, attempt: int = 0) -> str:
        username = row.ids.get("username", "")
        if not username:
            raise LmsError(f"Blackboard names downloads by Username; {row.full_name or 'this student'} has none")
        return f"{self.assignment}_{username}_attempt_{submitted_at.strftime(_STAMP)}_{filename}"

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
        write_csv(out, header, rows, quote_all=True)  # Blackboard wants every value of an upload in quotes


FORMAT = BlackboardFormat()
