"""Moodle's files: the grade export (or participants list) read as a roster,
"Download all submissions" names, and the CSV grade import file byte for byte
(grader_tests/lms/moodle/)."""
from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path

import pytest

from cnnlab.lms import get_format
from cnnlab.lms.base import AssignmentGrade, LmsError, RosterRow, decode_export
from cnnlab.sheets import StudentGrades
from cnnlab.lms.moodle import moodle_full_name

GOLDEN = Path(__file__).parent / "lms" / "moodle"
moodle = get_format("moodle")


def roster():
    return moodle.parse_roster(decode_export((GOLDEN / "roster_grades_export.csv").read_bytes()))


def by_email():
    return {row.email: row for row in roster()}


# -- roster -------------------------------------------------------------------
def test_attributes():
    assert (moodle.name, moodle.title) == ("moodle", "Moodle")
    assert moodle.id_fields == ("email", "id_number", "username")


def test_roster_reads_names_and_ids():
    rows = by_email()
    assert len(rows) == 6
    ada = rows["ada@uni.edu"]
    assert (ada.first_name, ada.last_name, ada.full_name) == ("Ada", "Lovelace", "Ada Lovelace")
    assert ada.ids == {"email": "ada@uni.edu", "id_number": "A0001"}


def test_commas_quotes_accents_and_formulas_in_names_are_kept():
    rows = by_email()
    assert rows["canagonye@uni.edu"].last_name == "Anagonye, Jr."
    assert rows["jkowalski@uni.edu"].first_name == 'Jan "JJ"'
    nguyen = rows["nguyen.tmk@uni.edu"]
    assert (nguyen.first_name, nguyen.last_name) == ("Thị Minh Khai", "Nguyễn")
    assert rows["siobhan.obrien@uni.edu"].last_name == "O'Brien"
    mallory = rows["mallory@evil.example"]
    assert mallory.first_name == "=SUM(A1)" and mallory.ids == {"email": "mallory@evil.example"}


def test_participants_download_with_username_tab_separated():
    text = ("First name\tLast name\tUsername\tEmail address\tRoles\tGroups\n"
            "Ada\tLovelace\talovelace\tada@uni.edu\tStudent\tLab A\n"
            "\t\t\t\t\t\n")
    [ada] = moodle.parse_roster(text)
    assert ada.ids == {"email": "ada@uni.edu", "username": "alovelace"} and ada.section == "Lab A"


def test_not_a_moodle_export():
    with pytest.raises(LmsError):
        moodle.parse_roster("Student,ID,SIS User ID,SIS Login ID,Section\n\"Lovelace, Ada\",1,A1,ada,S\n")


# -- download archive ---------------------------------------------------------
@pytest.mark.parametrize("path, name, filename", [
    # folders, Moodle 4.1+ and Moodle 3.1-4.0
    ("Ada Lovelace_1523471_assignsubmission_file/kernels.ipynb", "Ada Lovelace", "kernels.ipynb"),
    ("Ada Lovelace_1523471_assignsubmission_file_/kernels.ipynb", "Ada Lovelace", "kernels.ipynb"),
    ("Chidi Anagonye, Jr._1523472_assignsubmission_file_/kernels (1).ipynb", "Chidi Anagonye, Jr.",
     "kernels (1).ipynb"),
    ("Thị Minh Khai Nguyễn_1523473_assignsubmission_file/hw2/kernels.ipynb", "Thị Minh Khai Nguyễn",
     "kernels.ipynb"),   # a subfolder of the student's own: the notebook is what counts
    ("Siobhán OBrien_1523474_assignsubmission_file/kernels.ipynb", "Siobhán OBrien", "kernels.ipynb"),
    ("Jan JJ Kowalski_1523475_assignsubmission_file/kernels.ipynb", "Jan JJ Kowalski", "kernels.ipynb"),
    # flat (no folders), and an extracted archive inside a folder of its own
    ("Ada Lovelace_1523471_assignsubmission_file_kernels.ipynb", "Ada Lovelace", "kernels.ipynb"),
    ("Ada Lovelace_1523471_assignsubmission_file_my_kernels_v2.ipynb", "Ada Lovelace", "my_kernels_v2.ipynb"),
    ("CNN101-Kernels-42/Ada Lovelace_1523471_assignsubmission_file/kernels.ipynb", "Ada Lovelace",
     "kernels.ipynb"),
])
def test_match_file(path, name, filename):
    match = moodle.match_file(path)
    assert (match.who, match.filename, match.attempt) == (("full_name", name), filename, 0)


@pytest.mark.parametrize("path", [
    "Ada Lovelace_1523471_assignsubmission_onlinetext/onlinetext.html",
    "Ada Lovelace_1523471_assignsubmission_onlinetext_/onlinetext.html",
    "Ada Lovelace_1523471_assignsubmission_onlinetext_onlinetext.html",
    "Ada Lovelace_1523471_assignsubmission_file/.DS_Store",
    "__MACOSX/Ada Lovelace_1523471_assignsubmission_file/._kernels.ipynb",
    "Ada Lovelace_1523471_assignsubmission_file/../kernels.ipynb",
    "Ada Lovelace_1523471_assignsubmission_file_",
    "index.html", "kernels.ipynb", "Ada Lovelace/kernels.ipynb", "",
])
def test_junk_is_not_a_submission(path):
    assert moodle.match_file(path) is None


def test_blind_marking_downloads_are_refused():
    with pytest.raises(LmsError, match="blind"):
        moodle.match_file("Participant_1523471_assignsubmission_file/kernels.ipynb")


def test_moodle_cleans_names_like_clean_filename():
    assert moodle_full_name("Siobhán", "O'Brien") == "Siobhán OBrien"
    assert moodle_full_name('Jan "JJ"', "Kowalski") == "Jan JJ Kowalski"
    assert moodle_full_name("Ada_Mary", "Lovelace") == "Ada Mary Lovelace"


def test_download_name_round_trip():
    when = datetime(2025, 3, 1, 12, 0)
    for row in roster():
        for filename in ("kernels.ipynb", "kernels-1.ipynb", "my kernels_v2.ipynb"):
            path = moodle.download_name(row, filename, when)
            match = moodle.match_file(path)
            assert match.who == ("full_name", moodle_full_name(row.first_name, row.last_name)), path
            assert match.filename == filename
            assert moodle.download_name(row, filename, when) == path      # stable
    ada = RosterRow(first_name="Ada", last_name="Lovelace", ids={"email": "ada@uni.edu"})
    path = moodle.download_name(ada, "kernels.ipynb", when)
    assert path.startswith("Ada Lovelace_") and path.endswith("_assignsubmission_file/kernels.ipynb")
    assert moodle.match_file(path).who == ("full_name", "Ada Lovelace")


# -- grade import -------------------------------------------------------------
ASSIGNMENTS = [
    AssignmentGrade("01_why_cnns", "Why CNNs?", 10),
    AssignmentGrade("02_kernels", "Kernels, filters and feature maps", 12.5, lms_id="ignored-by-moodle"),
]
STUDENTS = [
    StudentGrades("ada@uni.edu", "Ada", "Lovelace", "ada@uni.edu", "",
                  {"01_why_cnns": 9.5, "02_kernels": 11.0}),
    StudentGrades("nguyen.tmk@uni.edu", "Thị Minh Khai", "Nguyễn", "nguyen.tmk@uni.edu", "",
                  {"01_why_cnns": None, "02_kernels": 7.456}),
    StudentGrades("canagonye@uni.edu", "Chidi", "Anagonye, Jr.", "canagonye@uni.edu", "",
                  {"01_why_cnns": 10, "02_kernels": 0}),
    StudentGrades("mallory@evil.example", "=SUM(A1)", "Mallory", "mallory@evil.example", "",
                  {"01_why_cnns": 0.0}),
]


def written(field: str) -> bytes:
    out = io.StringIO(newline="")
    moodle.write_grades(out, STUDENTS, ASSIGNMENTS, field)
    return out.getvalue().encode("utf-8")


def test_write_grades_matches_the_golden_import_file():
    assert written("email") == (GOLDEN / "grades_import.csv").read_bytes()


def test_identifier_column_is_named_for_the_student_id_field():
    assert written("id_number").decode().startswith("ID number,First name,Last name,Why CNNs?,")
    assert written("username").decode().startswith("Username,First name,Last name,Why CNNs?,")
    with pytest.raises(LmsError):
        written("lms_user_id")


def test_the_import_file_reads_back_as_a_roster():
    back = {row.email: row for row in moodle.parse_roster(written("email").decode())}
    assert back["mallory@evil.example"].first_name == "'=SUM(A1)"      # neutralised, not a formula
    assert back["canagonye@uni.edu"].last_name == "Anagonye, Jr."
