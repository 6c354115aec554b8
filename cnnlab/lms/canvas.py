"""Canvas: the gradebook export (roster), "Download Submissions" (files) and
the gradebook import (grades).

Checked against Canvas's own source (instructure/canvas-lms):

* Gradebook export (lib/gradebook_exporter.rb): header `Student, ID, SIS User ID,
  SIS Login ID, [Integration ID], [Root Account], Section, <custom columns>,
  <Title (assignment id)>..., <totals>`; an optional row of "Manual Posting"
  cells, then a row whose Student cell is "    Points Possible"; students
  ordered by sortable name ("Last, First"), the test student ("Student, Test",
  a StudentViewEnrollment) last. A name starting with "=" is exported as
  `="<name>"` so that spreadsheets do not run it. A course setting exports
  `LastName, FirstName` instead of `Student`; both are read.
* Gradebook import (lib/gradebook_importer.rb): the header must start with
  `Student`/`ID`, `SIS User ID` and `SIS Login ID` are recognised after it and
  `Section` must end the student columns. A student is found by ID (Canvas user
  id), then by SIS User ID, then SIS Login ID, then by name. A column
  `Title (id)` updates that assignment; a column without an id updates the
  assignment with exactly that title, and if there is none Canvas offers to
  CREATE a new assignment (the TA should set lms.canvas.assignments in
  course.yml to be sure). A row whose first cell contains "Points Possible" is
  read as the assignments' points, not a student. Comma or semicolon.
* Download Submissions (lib/content_zipper.rb): each uploaded file is
  `{name}[_LATE]_{user id}_{attachment id}_{display name}` where name is the
  sortable name, lowercased, with `_<digits>_` collapsed and every non-word
  character removed (Unicode letters stay: "nguyễnthị"). Older Canvas
  lowercased the whole prefix (`_late_`), current Canvas writes `_LATE_`: both
  are read. The third number is the attachment (file) id, often called the
  "submission id". A student's re-upload of a file with the same name gets
  `-1`, `-2` ... before the extension in its display name. Text and URL
  entries are `{prefix}_text.html` / `{prefix}_link.html`: matched to the student with a note
  (collect lists them as a text or URL entry, and export leaves them blank, never 0).
  With anonymous grading the prefix is `anon_{anonymous id}` and no user id
  is given: match_file raises LmsError (turn anonymity off to download).

Not verifiable from the source and chosen here: the name split (a sortable
name is split at its FIRST comma, which is how Canvas's own User.name_parts
reads "Surname, Given": "Anagonye, Jr., Chidi" -> last "Anagonye", first
"Jr., Chidi"); an SIS Login ID containing "@" and a dot is taken as the
email too (the export has no email column).
"""
from __future__ import annotations

import re
import unicodedata
import zlib
from datetime import datetime
from pathlib import PurePosixPath
from typing import TextIO

from ..sheets import StudentGrades, write_csv
from .base import AssignmentGrade, FileMatch, LmsError, LmsFormat, RosterRow, read_table, score_text

#: RosterRow.ids key -> the Canvas column that holds it.
ID_COLUMNS = {"lms_user_id": "ID", "sis_user_id": "SIS User ID", "sis_login_id": "SIS Login ID"}
STUDENT_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
POINTS_POSSIBLE = "Points Possible"
TEST_STUDENT_NAMES = {"student, test", "test student"}
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

# {name}[_late]_{user id}_{attachment id}_{file}; the name has only word characters.
SUBMISSION_FILE = re.compile(r"^(?P<name>\w+?)(?P<late>_late)?_(?P<user>\d+)_(?P<file_id>\d+)_(?P<file>.+)$",
                             re.IGNORECASE)
# an online text or URL entry: {name}[_late]_{user id}_text.html / _link.html
ENTRY_FILE = re.compile(r"^(?P<name>\w+?)(?P<late>_late)?_(?P<user>\d+)_(?P<kind>text|link)\.html$", re.IGNORECASE)
#: the download-name prefix of Canvas's Test Student (Student View): not a student of the class
TEST_STUDENT_PREFIXES = {"studenttest", "teststudent"}
ANONYMOUS_FILE = re.compile(r"^(?:late_)?anon_[0-9a-z]+_\d+_.+$", re.IGNORECASE)
RESUBMITTED = re.compile(r"-(\d+)$")
ATTACHMENT_UNSAFE = re.compile(r'[\x00/\\:*?"<>|]+')


def split_sortable_name(name: str) -> tuple[str, str]:
    """(first, last) of a Canvas sortable name "Last, First": split at the first comma."""
    if "," not in name:
        return name.strip(), ""
    last, first = name.split(",", 1)
    return first.strip(), last.strip()


def sortable_name(first: str, last: str) -> str:
    """The "Last, First" Canvas shows and matches on."""
    return ", ".join(part for part in (last.strip(), first.strip()) if part)


def download_prefix(first: str, last: str) -> str:
    """The name part of a Download Submissions file name (content_zipper.rb)."""
    name = re.sub(r"_(\d+)_", r"\1", sortable_name(first, last).lower())
    return re.sub(r"\W", "", unicodedata.normalize("NFC", name))


def resubmission(filename: str) -> int:
    """N of a re-uploaded file Canvas renamed "kernels-N.ipynb", else 0."""
    stem = filename.rsplit(".", 1)[0] if "." in filename[1:] else filename
    found = RESUBMITTED.search(stem)
    return int(found[1]) if found else 0


def unwrap_formula(cell: str) -> str:
    """Canvas exports a name starting with "=" as ="<name>"; give the name back."""
    if cell.startswith('="') and cell.endswith('"') and len(cell) >= 3:
        return cell[2:-1]
    return cell


class Canvas(LmsFormat):
    name = "canvas"
    title = "Canvas"
    id_fields = ("sis_login_id", "sis_user_id", "lms_user_id")
    needs_column_id = True  # a header "Title" without "(id)" imports as a new assignment

    # -- roster ---------------------------------------------------------------
    def parse_roster(self, text: str) -> list[RosterRow]:
        rows = read_table(text)
        header = set(rows[0]) if rows else set()
        if not rows or "ID" not in header or not ({"Student"} <= header or {"LastName", "FirstName"} <= header):
            raise LmsError("not a Canvas gradebook export: expected the columns Student, ID, SIS User ID, "
                           "SIS Login ID, Section (Grades > Export > Export Entire Gradebook)")
        roster = []
        for row in rows:
            if "Student" in row:
                student = unwrap_formula(row.get("Student", ""))
                first, last = split_sortable_name(student)
            else:
                first, last = unwrap_formula(row.get("FirstName", "")), unwrap_formula(row.get("LastName", ""))
                student = sortable_name(first, last)
            if POINTS_POSSIBLE.lower() in student.lower():
                continue
            if not student and not row.get("ID"):
                continue       # the "Manual Posting" row, or a blank line
            if student.lower() in TEST_STUDENT_NAMES:
                continue
            ids = {key: row[column] for key, column in ID_COLUMNS.items() if row.get(column)}
            login = ids.get("sis_login_id", "")
            roster.append(RosterRow(first_name=first, last_name=last,
                                    email=login if EMAIL.match(login) else "",
                                    ids=ids, section=row.get("Section", "")))
        return roster

    # -- submissions ----------------------------------------------------------
    def match_file(self, relpath: str) -> FileMatch | None:
        parts = [p for p in relpath.replace("\\", "/").split("/") if p]
        if not parts or "__MACOSX" in parts or parts[-1].startswith("."):
            return None
        base = parts[-1]
        entry = ENTRY_FILE.match(base)
        if entry is not None:  # the student typed or linked an answer: no file, so no notebook
            what = "a Canvas text entry" if entry["kind"].lower() == "text" else "a Canvas URL entry"
            return FileMatch(who=("lms_user_id", entry["user"]), filename=base, late_mark=bool(entry["late"]),
                             note=f"{what}, not a notebook")
        m = SUBMISSION_FILE.match(base)
        if m is None:
            if ANONYMOUS_FILE.match(base):
                raise LmsError(f"{base}: a Canvas download of an anonymously graded assignment names no "
                               "students; download it after turning anonymous grading off")
            return None
        note = ("Canvas's Test Student (Student View), not a student of the class"
                if m["name"].lower() in TEST_STUDENT_PREFIXES else "")
        return FileMatch(who=("lms_user_id", m["user"]), filename=m["file"], attempt=resubmission(m["file"]),
                         late_mark=bool(m["late"]), note=note)

    feedback_upload = "the assignment's Re-Upload Submissions (Gradebook, the assignment's menu)"

    def feedback_name(self, download_path: str, filename: str) -> str:
        """Canvas's Re-Upload Submissions (Assignment#infer_comment_context_from_filename) splits a
        name at "_" and takes its first two all-digit parts as the user id and the id of a file of
        that user's submission, and attaches the file as a comment there: the download's
        `{name}[_LATE]_{user id}_{file id}_` prefix, then a name with no all-digit part."""
        # the file itself, or the archive it was in (a student's zip, unpacked by collect)
        m = next((m for part in PurePosixPath(download_path).parts if (m := SUBMISSION_FILE.match(part))), None)
        if m is None:
            raise LmsError(f"{download_path}: not a Canvas download file name")
        safe = ATTACHMENT_UNSAFE.sub("-", filename)
        if any(part.isdigit() for part in safe.split("_")):  # Canvas would read it as an id
            safe = safe.replace("_", "-")
        return f"{m['name']}{'_LATE' if m['late'] else ''}_{m['user']}_{m['file_id']}_{safe}"

    def download_name(self, row: RosterRow, filename: str, submitted_at: datetime, attempt: int = 0) -> str:
        """Canvas's name for `filename`. Canvas names carry no time; attempt N > 0
        is the student's N-th re-upload of that file, which Canvas renames
        "kernels-N.ipynb" (so match_file gives back that name and attempt N).
        Lateness is not known here: names are written on time."""
        user_id = row.ids.get("lms_user_id", "")
        if not user_id.isdigit():
            raise LmsError(f"{row.full_name or 'a student'} has no Canvas user ID (the ID column)")
        filename = ATTACHMENT_UNSAFE.sub("_", filename)
        if attempt > 0 and resubmission(filename) != attempt:
            stem, dot, ext = filename.rpartition(".") if "." in filename[1:] else (filename, "", "")
            filename = f"{stem}-{attempt}{dot}{ext}"
        file_id = 100_000_000 + zlib.crc32(f"{user_id}/{filename}".encode()) % 900_000_000
        return f"{download_prefix(row.first_name, row.last_name)}_{user_id}_{file_id}_{filename}"

    # -- grades ---------------------------------------------------------------
    def write_grades(self, out: TextIO, students: list[StudentGrades], assignments: list[AssignmentGrade],
                     student_id_field: str) -> None:
        self.id_column(student_id_field, ID_COLUMNS)
        header = STUDENT_COLUMNS + [f"{a.title} ({a.lms_id})" if a.lms_id else a.title for a in assignments]
        rows: list[list] = [[POINTS_POSSIBLE, "", "", "", ""] + [score_text(a.max_score) for a in assignments]]
        for s in students:
            ids = {"lms_user_id": s.lms_user_id, "sis_user_id": "", "sis_login_id": ""}
            ids[student_id_field] = s.student_id
            scores = [score_text(s.scores.get(a.name)) if s.scores.get(a.name) is not None else ""
                      for a in assignments]
            rows.append([sortable_name(s.first_name, s.last_name), ids["lms_user_id"], ids["sis_user_id"],
                         ids["sis_login_id"], ""] + scores)
        write_csv(out, header, rows)


FORMAT = Canvas()
