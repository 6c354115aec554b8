"""Brightspace (D2L): the grades export reads, assignment download names map
to students, and the import file is exactly what D2L takes."""
from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path

import pytest

from cnnlab.lms import get_format
from cnnlab.lms.base import AssignmentGrade, FileMatch, LmsError, RosterRow, decode_export
from cnnlab.sheets import StudentGrades
from cnnlab.lms.brightspace import FORMAT

GOLDEN = Path(__file__).parent / "lms" / "brightspace"


def test_the_format_is_registered():
    assert get_format("brightspace") is FORMAT
    assert FORMAT.id_fields == ("org_defined_id", "username")


# -- roster -------------------------------------------------------------------
def test_parse_grades_export():
    rows = FORMAT.parse_roster(decode_export((GOLDEN / "roster_grades_export.csv").read_bytes()))
    assert rows == [
        RosterRow("Ada", "Lovelace", "ada.lovelace@uni.example",
                  {"org_defined_id": "00246813", "username": "ada.lovelace"}),
        RosterRow("Thị Minh", "Nguyễn", "nguyen.tm@uni.example", {"org_defined_id": "00246814", "username": "nguyen.tm"}),
        RosterRow('Conan "Coco"', "O'Brien, Jr.", "c.obrien@uni.example",
                  {"org_defined_id": "00246815", "username": "cobrien-2"}),
        RosterRow("Eve", "=SUM(A1:A2)", "eve@uni.example", {"org_defined_id": "00246816", "username": "eve_h"}),
    ]


def test_parse_export_keyed_by_username_only_with_bom_and_sections():
    text = decode_export("Username,Last Name,First Name,Section Membership,End-of-Line Indicator\r\n"
                         "#ada.lovelace,Lovelace,Ada,Section 01,#\r\n"
                         ",,,,#\r\n".encode("utf-8-sig"))
    assert FORMAT.parse_roster(text) == [
        RosterRow("Ada", "Lovelace", "", {"username": "ada.lovelace"}, section="Section 01"),
    ]


# -- submissions ----------------------------------------------------------------
@pytest.mark.parametrize("name, expected", [
    ("120045-2557369 - Ada Lovelace - Nov 5, 2026 1214 PM - kernels.ipynb",
     FileMatch(("full_name", "Ada Lovelace"), "kernels.ipynb", datetime(2026, 11, 5, 12, 14))),
    ("120046-2557369 - Thị Minh Nguyễn - Nov 5, 2026 926 AM - kernels.ipynb",
     FileMatch(("full_name", "Thị Minh Nguyễn"), "kernels.ipynb", datetime(2026, 11, 5, 9, 26))),
    # two attempts of one student
    ("120047-2557369 - Conan O'Brien, Jr. - Nov 4, 2026 1159 PM - kernels.ipynb",
     FileMatch(("full_name", "Conan O'Brien, Jr."), "kernels.ipynb", datetime(2026, 11, 4, 23, 59))),
    ("120091-2557369 - Conan O'Brien, Jr. - Nov 6, 2026 1205 AM - kernels - final.ipynb",
     FileMatch(("full_name", "Conan O'Brien, Jr."), "kernels - final.ipynb", datetime(2026, 11, 6, 0, 5))),
    ("120048-2557369 - Mary-Ann Smith - Dec 31, 2026 1200 AM - kernels-1.ipynb",
     FileMatch(("full_name", "Mary-Ann Smith"), "kernels-1.ipynb", datetime(2026, 12, 31, 0, 0))),
    # current Brightspace: a folder per submission, inside the assignment's folder
    ("Lab 2 - Kernels/39786-640693 - Aiden Rodriguez - Oct 10, 2025 1022 AM/kernels.ipynb",
     FileMatch(("full_name", "Aiden Rodriguez"), "kernels.ipynb", datetime(2025, 10, 10, 10, 22))),
    ("39786-640693 - Aiden Rodriguez - Oct 10, 2025 1022 AM/data/img.png",
     FileMatch(("full_name", "Aiden Rodriguez"), "data/img.png", datetime(2025, 10, 10, 10, 22))),
    # older Brightspace wrote the time with a colon
    ("397063-2557369 - John Doe - Sep 29, 2015 4:17 PM/notes.txt",
     FileMatch(("full_name", "John Doe"), "notes.txt", datetime(2015, 9, 29, 16, 17))),
    # a group submission: the name is the chunk before the date
    ("397063-2557369 - Group 4 - Ada Lovelace - Sep 24, 2026 926 PM/kernels.ipynb",
     FileMatch(("full_name", "Ada Lovelace"), "kernels.ipynb", datetime(2026, 9, 24, 21, 26))),
])
def test_match_file(name, expected):
    assert FORMAT.match_file(name) == expected


@pytest.mark.parametrize("name", [
    "index.html",
    "Lab 2 - Kernels/index.html",
    "__MACOSX/Lab 2 - Kernels/39786-640693 - Aiden Rodriguez - Oct 10, 2025 1022 AM/._kernels.ipynb",
    "39786-640693 - Aiden Rodriguez - Oct 10, 2025 1022 AM/.DS_Store",
    "kernels.ipynb",
    "Ada Lovelace - Nov 5, 2026 1214 PM - kernels.ipynb",                  # no submission id
    "120045-2557369 - Ada Lovelace - Feb 30, 2026 1214 PM - kernels.ipynb",  # no such date
    "120045-2557369 - Ada Lovelace - Nov 5, 2026 1314 PM - kernels.ipynb",   # no such hour
    "120045-2557369 - Ada Lovelace - Xyz 5, 2026 1214 PM - kernels.ipynb",
])
def test_junk_is_not_a_submission(name):
    assert FORMAT.match_file(name) is None


ROSTER = [
    RosterRow("Ada", "Lovelace", ids={"org_defined_id": "00246813"}),
    RosterRow("Thị Minh", "Nguyễn", ids={"org_defined_id": "00246814"}),
    RosterRow('Conan "Coco"', "O'Brien, Jr.", ids={"org_defined_id": "00246815"}),
    RosterRow("Eve", "=SUM(A1:A2)", ids={"org_defined_id": "00246816"}),
    RosterRow("Mary-Ann", "Smith", ids={"org_defined_id": "00246817"}),
]


@pytest.mark.parametrize("when", [datetime(2026, 11, 5, 12, 14, 59), datetime(2026, 1, 9, 0, 7), datetime(2026, 7, 31, 23, 59)])
@pytest.mark.parametrize("filename", ["kernels.ipynb", "kernels-1.ipynb", "kernels - final (2).ipynb"])
def test_download_name_round_trip(when, filename):
    for attempt, row in enumerate(ROSTER):
        path = FORMAT.download_name(row, filename, when, attempt)
        # D2L names carry the time to the minute
        assert FORMAT.match_file(path) == FileMatch(("full_name", row.full_name), filename, when.replace(second=0))
        assert FORMAT.match_file(f"Lab 2/{path}") == FORMAT.match_file(path)


def test_download_name_looks_like_d2l():
    path = FORMAT.download_name(ROSTER[0], "kernels.ipynb", datetime(2026, 11, 5, 12, 14))
    assert path.endswith(" - Ada Lovelace - Nov 5, 2026 1214 PM - kernels.ipynb")
    assert path.split(" - ")[0].replace("-", "").isdigit()


# -- grades ---------------------------------------------------------------------
ASSIGNMENTS = [
    AssignmentGrade("01_quiz", "Quiz 1", 10, "8812"),  # an lms_id has no place in a D2L import
    AssignmentGrade("02_kernels", "Kernels, filters and feature maps", 20),
    AssignmentGrade("99_bonus", "=1+1 Bonus", 2.5),
]
STUDENTS = [
    StudentGrades("00246813", "Ada", "Lovelace", "", "", {"01_quiz": 10.0, "02_kernels": 17.5, "99_bonus": 2.5}),
    StudentGrades("00246814", "Thị Minh", "Nguyễn", "", "", {"01_quiz": 8.333333, "02_kernels": None, "99_bonus": None}),
    StudentGrades("00246815", 'Conan "Coco"', "O'Brien, Jr.", "", "", {"01_quiz": 0.0, "02_kernels": 20.0, "99_bonus": 1}),
    StudentGrades("00246816", "Eve", "=SUM(A1:A2)", "", "", {"01_quiz": None, "02_kernels": 9.0, "99_bonus": 0.0}),
]


def write(students=STUDENTS, assignments=ASSIGNMENTS, field="org_defined_id") -> bytes:
    out = io.StringIO(newline="")
    FORMAT.write_grades(out, students, assignments, field)
    return out.getvalue().encode("utf-8")


def test_write_grades_matches_the_golden_import_byte_for_byte():
    assert write() == (GOLDEN / "grades_import.csv").read_bytes()


def test_write_grades_by_username():
    students = [StudentGrades("=eve", "Eve", "H", "", "", {"01_quiz": 3.0})]
    assert write(students, ASSIGNMENTS[:1], "username") == (
        b"Username,Quiz 1 Points Grade,End-of-Line Indicator\r\n"
        b"#=eve,3,#\r\n")  # the "#" D2L puts in front keeps it text


@pytest.mark.parametrize("field", ["email", "student_id", ""])
def test_imports_need_orgdefinedid_or_username(field):
    with pytest.raises(LmsError) as err:
        write(field=field)
    assert "OrgDefinedId or Username" in str(err.value) and "\n" not in str(err.value)
