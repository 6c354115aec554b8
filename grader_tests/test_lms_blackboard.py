"""Blackboard Learn: the Grade Center download reads, Assignment File Download
names map to students, and the upload file is exactly what Blackboard takes."""
from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path

import pytest

from cnnlab.lms import get_format
from cnnlab.lms.base import AssignmentGrade, FileMatch, LmsError, RosterRow, decode_export
from cnnlab.sheets import StudentGrades
from cnnlab.lms.blackboard import FORMAT, BlackboardFormat
from cnnlab.lms.collect import StudentFinder

GOLDEN = Path(__file__).parent / "lms" / "blackboard"


def test_the_format_is_registered():
    assert get_format("blackboard") is FORMAT
    assert FORMAT.id_fields == ("username", "student_id")


# -- roster -------------------------------------------------------------------
def test_grade_center_download_is_utf16_tab_separated():
    data = (GOLDEN / "roster_gradecenter.xls").read_bytes()
    assert data.startswith(b"\xff\xfe")
    assert "\t" in decode_export(data).splitlines()[0]


def test_parse_grade_center_download():
    rows = FORMAT.parse_roster(decode_export((GOLDEN / "roster_gradecenter.xls").read_bytes()))
    assert rows == [
        RosterRow(first_name="Ada", last_name="Lovelace", ids={"username": "ada.lovelace", "student_id": "20231001"}),
        RosterRow(first_name="Thị Minh", last_name="Nguyễn", ids={"username": "nguyen.tm", "student_id": "20231002"}),
        RosterRow(first_name='Conan "Coco"', last_name="O'Brien, Jr.", ids={"username": "cobrien-2"}),
        RosterRow(first_name="Eve", last_name="=SUM(A1:A2)", ids={"username": "eve_h", "student_id": "20231004"}),
    ]
    assert all(r.email == "" for r in rows)  # the standard download has no Email column


def test_parse_comma_csv_download_with_email_column():
    text = ('"Last Name","First Name","Username","Student ID","Email","Last Access","Availability",'
            '"Quiz 1 [Total Pts: 10 Score] |1000003"\r\n'
            '"Lovelace","Ada","ada.lovelace","20231001","ada@uni.example","","Yes","10.00"\r\n'
            '"","","","","","","",""\r\n')
    assert FORMAT.parse_roster(text) == [
        RosterRow(first_name="Ada", last_name="Lovelace", email="ada@uni.example",
                  ids={"username": "ada.lovelace", "student_id": "20231001"}),
    ]


# -- submissions ----------------------------------------------------------------
@pytest.mark.parametrize("name, expected", [
    ("Lab 2 Kernels_ada.lovelace_attempt_2026-10-14-09-12-33_kernels.ipynb",
     FileMatch(("username", "ada.lovelace"), "kernels.ipynb", datetime(2026, 10, 14, 9, 12, 33))),
    # two attempts of one student: both map to her, the time tells them apart
    ("Lab 2 Kernels_cobrien-2_attempt_2026-10-12-17-03-51_kernels.ipynb",
     FileMatch(("username", "cobrien-2"), "kernels.ipynb", datetime(2026, 10, 12, 17, 3, 51))),
    ("Lab 2 Kernels_cobrien-2_attempt_2026-10-13-08-00-02_kernels-1.ipynb",
     FileMatch(("username", "cobrien-2"), "kernels-1.ipynb", datetime(2026, 10, 13, 8, 0, 2))),
    # underscores in the assignment name: after the last "_" first, then each longer tail
    ("02_kernels_nguyen.tm_attempt_2026-10-13-22-40-05_my_kernels.ipynb",
     FileMatch(("username", "nguyen.tm"), "my_kernels.ipynb", datetime(2026, 10, 13, 22, 40, 5),
               other_readings=(("username", "kernels_nguyen.tm"),))),
    # an e-mail as username, in a folder the TA extracted into
    ("gradebook_CS101_Lab2/Lab 2_ada@uni.example_attempt_2026-10-14-09-12-33_kernels.ipynb",
     FileMatch(("username", "ada@uni.example"), "kernels.ipynb", datetime(2026, 10, 14, 9, 12, 33))),
    # the student's own file name containing "_attempt_<time>" stays whole
    ("Lab 2_ada.lovelace_attempt_2026-10-14-09-12-33_old_attempt_2026-01-01-00-00-00_x.ipynb",
     FileMatch(("username", "ada.lovelace"), "old_attempt_2026-01-01-00-00-00_x.ipynb",
               datetime(2026, 10, 14, 9, 12, 33))),
    # a student's own .txt is a submission, the receipt is not
    ("Lab 2_ada.lovelace_attempt_2026-10-14-09-12-33_notes.txt",
     FileMatch(("username", "ada.lovelace"), "notes.txt", datetime(2026, 10, 14, 9, 12, 33))),
    # Blackboard localises the word "attempt" (Dutch: "poging")
    ("Opdracht 2_j.devries_poging_2026-10-14-09-12-33_kernels.ipynb",
     FileMatch(("username", "j.devries"), "kernels.ipynb", datetime(2026, 10, 14, 9, 12, 33))),
])
def test_match_file(name, expected):
    assert FORMAT.match_file(name) == expected


@pytest.mark.parametrize("name", [
    "Lab 2 Kernels_ada.lovelace_attempt_2026-10-14-09-12-33.txt",   # the receipt
    "index.html",
    ".DS_Store",
    "__MACOSX/Lab 2_ada.lovelace_attempt_2026-10-14-09-12-33_kernels.ipynb",
    "._Lab 2_ada.lovelace_attempt_2026-10-14-09-12-33_kernels.ipynb",
    "kernels.ipynb",
    "ada.lovelace_attempt_2026-10-14-09-12-33_kernels.ipynb",         # no assignment name in front
    "Lab 2_ada.lovelace_attempt_2026-13-40-09-12-33_kernels.ipynb",    # no such date
    "Lab 2_ada.lovelace_attempt_2026-10-14_kernels.ipynb",             # not Blackboard's timestamp
])
def test_junk_is_not_a_submission(name):
    assert FORMAT.match_file(name) is None


def _finder(rows):
    return StudentFinder([(r.ids["username"], r.first_name, r.last_name, "") for r in rows], "username")


def test_a_username_with_underscores_is_found_by_the_roster():
    match = FORMAT.match_file("Lab_2 Kernels_eve_h_attempt_2026-10-14-09-12-33_kernels.ipynb")
    assert match.readings == (("username", "h"), ("username", "eve_h"), ("username", "2 Kernels_eve_h"))
    assert _finder([RosterRow("Eve", "H", ids={"username": "eve_h"})]).find_match(match) == ("eve_h", "")
    student, why = _finder([RosterRow("Ann", "B", ids={"username": "ann"})]).find_match(match)
    assert student is None and "'h'" in why


def test_a_name_two_usernames_fit_goes_to_neither():
    match = FORMAT.match_file("Lab 2_eve_h_attempt_2026-10-14-09-12-33_kernels.ipynb")
    rows = [RosterRow("Eve", "H", ids={"username": "eve_h"}), RosterRow("Hal", "K", ids={"username": "h"})]
    student, why = _finder(rows).find_match(match)
    assert student is None and "fits 2 students (eve_h, h)" in why


ROSTER = [
    RosterRow("Ada", "Lovelace", ids={"username": "ada.lovelace", "student_id": "20231001"}),
    RosterRow("Thị Minh", "Nguyễn", ids={"username": "nguyen.tm"}),
    RosterRow('Conan "Coco"', "O'Brien, Jr.", ids={"username": "cobrien-2"}),
    RosterRow("Eve", "=SUM(A1:A2)", ids={"username": "eve.h-2"}),
]


@pytest.mark.parametrize("fmt, rows", [
    (FORMAT, ROSTER),
    (BlackboardFormat(assignment="02_kernels: Kernels, filters"), ROSTER + [RosterRow("Eve", "H", ids={"username": "eve_h"})]),
])
@pytest.mark.parametrize("filename", ["kernels.ipynb", "kernels-1.ipynb", "my kernels (final).ipynb", "notes.txt"])
def test_download_name_round_trip(fmt, rows, filename):
    when = datetime(2026, 11, 5, 12, 14, 9)
    for row in rows:
        path = fmt.download_name(row, filename, when, attempt=2)
        match = fmt.match_file(path)
        assert (match.filename, match.submitted_at) == (filename, when)
        assert _finder(rows).find_match(match) == (row.ids["username"], "")


def test_download_name_needs_a_username():
    with pytest.raises(LmsError, match="Username"):
        FORMAT.download_name(RosterRow("Ada", "Lovelace", ids={"student_id": "1"}), "k.ipynb", datetime(2026, 1, 1))


# -- grades ---------------------------------------------------------------------
ASSIGNMENTS = [
    AssignmentGrade("01_quiz", "Quiz 1", 10, "1000003"),
    AssignmentGrade("02_kernels", "Kernels, filters and feature maps", 20, "1000004"),
    AssignmentGrade("99_bonus", "Bonus", 2.5, "|1000007"),  # pasted with the "|" of the header
]
STUDENTS = [
    StudentGrades("ada.lovelace", "Ada", "Lovelace", "", "", {"01_quiz": 10.0, "02_kernels": 17.5, "99_bonus": 2.5}),
    StudentGrades("nguyen.tm", "Thị Minh", "Nguyễn", "", "", {"01_quiz": 8.333333, "02_kernels": None, "99_bonus": None}),
    StudentGrades("cobrien-2", 'Conan "Coco"', "O'Brien, Jr.", "", "", {"01_quiz": 0.0, "02_kernels": 20.0, "99_bonus": 1}),
    StudentGrades("eve_h", "Eve", "=SUM(A1:A2)", "", "", {"01_quiz": None, "02_kernels": 9.0, "99_bonus": 0.0}),
]


def write(students=STUDENTS, assignments=ASSIGNMENTS, field="username") -> bytes:
    out = io.StringIO(newline="")
    FORMAT.write_grades(out, students, assignments, field)
    return out.getvalue().encode("utf-8")


def test_write_grades_matches_the_golden_upload_byte_for_byte():
    assert write() == (GOLDEN / "grades_upload.csv").read_bytes()


def test_an_assignment_without_column_id_is_refused():
    assignments = [ASSIGNMENTS[0], AssignmentGrade("02_kernels", "Kernels", 20)]
    with pytest.raises(LmsError) as err:
        write(assignments=assignments)
    message = str(err.value)
    assert "\n" not in message
    assert "'02_kernels'" in message and "lms: blackboard: assignments:" in message and "course.yml" in message


def test_a_column_id_that_is_not_a_number_is_refused():
    with pytest.raises(LmsError, match="'Kernels' is not a Grade Center column id"):
        write(assignments=[AssignmentGrade("02_kernels", "Kernels", 20, "Kernels")])


def test_a_rest_api_column_id_is_refused_not_guessed():
    # course.yml examples may show "_31415_1"; a wrong id would write into another column
    with pytest.raises(LmsError, match="REST API's form"):
        write(assignments=[AssignmentGrade("02_kernels", "Kernels", 20, "_31415_1")])


@pytest.mark.parametrize("field", ["student_id", "email"])
def test_uploads_need_username_ids(field):
    with pytest.raises(LmsError) as err:
        write(field=field)
    assert "Username" in str(err.value) and "\n" not in str(err.value)
