"""Moodle: the grade export or participants list (roster), "Download all
submissions" (files) and Grades > Import > CSV file (grades).

Checked against Moodle's own source (moodle/moodle):

* Grade export, plain text file (grade/export/txt): one column per user
  profile field ($CFG->grade_export_userprofilefields, by default First name,
  Last name, ID number, Institution, Department, Email address), "Suspended"
  when inactive enrolments are included, one column per grade item named
  "<Module>: <item> (Real)" (or another display type, "Course total (Real)"),
  feedback columns "(Feedback)" if asked for, and "Last downloaded from this
  course" (a Unix time). Comma, tab, semicolon or colon separated; '-' for no
  grade. Only the column names matter here; English column names are read.
* Download all submissions (mod/assign downloader / locallib): the prefix is
  the student's full name (fullname(): "First Last" with the default name
  display) with "_" turned into spaces, then "_" and the participant id, all
  through clean_filename(), which deletes control characters and
  & < > " ` | ' : \\ /  ("Siobhán O'Brien" -> "Siobhán OBrien"). With "Download
  submissions in folders" (the default since 3.1) every file lies in
  `{prefix}_assignsubmission_file_/` (Moodle 3.1-4.0) or
  `{prefix}_assignsubmission_file/` (4.1 and later, no trailing underscore),
  under the student's own subfolders if they made any; without folders each file is
  `{prefix}_assignsubmission_file_{filename}`. Online text is the same with
  `assignsubmission_onlinetext` and is not a submission file (None). The
  participant id is a per-assignment number (assign_user_mapping), not a user
  id, so a file is matched by full name; the shared matcher must compare it
  with the roster's names cleaned the same way (moodle_full_name below).
  With blind marking the name is "Participant" (match_file raises LmsError);
  team submissions carry the group's name and id, which no roster row has.
* Grades > Import > CSV file (grade/import): the TA picks "Map from" (a
  column) and "Map to" (userid, username, useridnumber, useremail), then maps
  each other column to a grade item, "new grade item" or "ignore"; '-' is no
  grade. The identifier column comes first (Moodle's docs: "Map from" starts
  on the first column) and is named like the "Map to" choice ("Email address",
  "ID number", "Username"): the paste-from-spreadsheet importer
  (grade/import/direct) pre-selects that pair by name; whether the CSV
  importer of every version does too is not verified.

Chosen here: a file in a student's own subfolder is given by its name alone
(the grader looks for notebooks at the top of a submission, as Canvas's flat
downloads give them).

Not verified and chosen here: grade columns are named by the assignment title
alone (the brief's choice; the paste-from-spreadsheet importer, and possibly
newer CSV importers, pre-map a column named "Assignment: <title> (Real)" to
the item with that name, so a TA whose Moodle items carry the course titles
could rename the columns that way); the participants download's columns
(First name, Last name, Email address, optionally Username / ID number, or a
single "Full name").
"""
from __future__ import annotations

import re
import unicodedata
import zlib
from datetime import datetime
from typing import TextIO

from ..sheets import StudentGrades, write_csv
from .base import AssignmentGrade, FileMatch, LmsError, LmsFormat, RosterRow, read_table, score_text

#: RosterRow.ids key -> the Moodle column that holds it (also the header written for it).
ID_COLUMNS = {"email": "Email address", "id_number": "ID number", "username": "Username"}
PARTICIPANT = "Participant"   # the name of every student when blind marking is on (English)

# clean_filename() = clean_param(PARAM_FILE): control characters and & < > " ` | ' : \ / are deleted.
UNSAFE = re.compile(r"[\x00-\x1f\x7f&<>\"`|':\\/]")
FOLDER = re.compile(r"^(?P<name>[^_/]+)_(?P<pid>\d+)_assignsubmission_(?P<plugin>[a-z]+)_?$")
FLAT = re.compile(r"^(?P<name>[^_/]+)_(?P<pid>\d+)_assignsubmission_"
                  r"(?P<plugin>file|onlinetext|[a-z]+?)_(?P<file>.+)$")
JUNK = {".DS_Store", "Thumbs.db", "desktop.ini"}


def moodle_full_name(first: str, last: str) -> str:
    """A full name as Moodle writes it in a download archive: "First Last",
    underscores as spaces, the characters clean_filename() deletes deleted."""
    name = f"{first.strip()} {last.strip()}".strip().replace("_", " ")
    return UNSAFE.sub("", unicodedata.normalize("NFC", name))


class Moodle(LmsFormat):
    name = "moodle"
    title = "Moodle"
    id_fields = ("email", "id_number", "username")

    # -- roster ---------------------------------------------------------------
    def parse_roster(self, text: str) -> list[RosterRow]:
        rows = read_table(text)
        header = set(rows[0]) if rows else set()
        named = {"First name", "Last name"} <= header or "Full name" in header
        if not rows or not named or not header & set(ID_COLUMNS.values()):
            raise LmsError("not a Moodle grade export or participants list: expected the columns First name, "
                           "Last name and Email address / ID number / Username (in English)")
        roster = []
        for row in rows:
            if "First name" in row or "Last name" in row:
                first, last = row.get("First name", ""), row.get("Last name", "")
            else:
                first, _, last = row.get("Full name", "").rpartition(" ")
                if not first:
                    first, last = last, ""
            ids = {key: row[column] for key, column in ID_COLUMNS.items() if row.get(column)}
            if not (first or last) and not ids:
                continue
            roster.append(RosterRow(first_name=first, last_name=last, email=ids.get("email", ""), ids=ids,
                                    section=row.get("Groups", "")))
        return roster

    # -- submissions ----------------------------------------------------------
    def match_file(self, relpath: str) -> FileMatch | None:
        parts = [p for p in relpath.replace("\\", "/").split("/") if p]
        if not parts or {"__MACOSX", "..", "."} & set(parts) or parts[-1] in JUNK or parts[-1].startswith("._"):
            return None
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            m = FLAT.match(part) if last else FOLDER.match(part)
            if m is None:
                continue
            if m["plugin"] != "file":
                return None          # online text, comments: not a submitted file
            filename = m["file"] if last else parts[-1]   # the student's subfolders are dropped
            name = unicodedata.normalize("NFC", m["name"]).strip()
            if name == PARTICIPANT:
                raise LmsError(f"{part}: a Moodle download with blind marking names no students; "
                               "reveal student identities before downloading")
            return FileMatch(who=("full_name", name), filename=filename)
        return None

    feedback_upload = "the assignment's Upload multiple feedback files in a zip (View all submissions)"

    def feedback_name(self, download_path: str, filename: str) -> str:
        """Moodle's feedback zip import (assignfeedback_file_zip_importer) reads the participant
        from a path part `fullname_participantid_plugintype_pluginname[_...]`: the folder of
        the student's download, then the feedback file in it."""
        parts = [p for p in download_path.replace("\\", "/").split("/") if p]
        for part in parts[:-1]:
            if FOLDER.match(part):
                return f"{part}/{filename}"
        m = FLAT.match(parts[-1]) if parts else None
        if m is None:
            raise LmsError(f"{download_path}: not a Moodle download file name")
        return f"{m['name']}_{m['pid']}_assignsubmission_file/{filename}"

    def download_name(self, row: RosterRow, filename: str, submitted_at: datetime, attempt: int = 0) -> str:
        """Moodle 4.1+'s name for `filename` (in folders, the default). Moodle
        downloads only the latest submission: no time or attempt in the name."""
        full_name = moodle_full_name(row.first_name, row.last_name)
        if not full_name:
            raise LmsError("a Moodle download names students by full name: this student has none")
        key = next((row.ids[k] for k in self.id_fields if row.ids.get(k)), full_name)
        participant = 100_000 + zlib.crc32(key.encode()) % 900_000
        return f"{full_name}_{participant}_assignsubmission_file/{filename}"

    # -- grades ---------------------------------------------------------------
    def write_grades(self, out: TextIO, students: list[StudentGrades], assignments: list[AssignmentGrade],
                     student_id_field: str) -> None:
        self.id_column(student_id_field, ID_COLUMNS)
        header = [ID_COLUMNS[student_id_field], "First name", "Last name"] + [a.title for a in assignments]
        rows = [[s.student_id, s.first_name, s.last_name]
                + [score_text(s.scores.get(a.name)) if s.scores.get(a.name) is not None else ""
                   for a in assignments]
                for s in students]
        write_csv(out, header, rows)


FORMAT = Moodle()
