"""Canvas's files: the gradebook export read as a roster, Download Submissions
names, and the gradebook import file byte for byte (grader_tests/lms/canvas/)."""
from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path

import pytest

from cnnlab.lms import get_format
from cnnlab.lms.base import AssignmentGrade, LmsError, RosterRow, decode_export
from cnnlab.sheets import StudentGrades

GOLDEN = Path(__file__).parent / "lms" / "canvas"
canvas = get_format("canvas")


def roster():
    return canvas.parse_roster(decode_export((GOLDEN / "roster_gradebook_export.csv").read_bytes()))


def by_user_id():
    return {row.ids["lms_user_id"]: row for row in roster()}


# -- roster -------------------------------------------------------------------
def test_attributes():
    assert (canvas.name, canvas.title) == ("canvas", "Canvas")
    assert canvas.id_fields == ("sis_login_id", "sis_user_id", "lms_user_id")


def test_roster_skips_points_possible_manual_posting_and_the_test_student():
    assert sorted(by_user_id()) == ["48213", "48377", "48390", "48401", "48415"]


def test_roster_reads_ids_section_and_email_from_an_email_login():
    ada = by_user_id()["48213"]
    assert (ada.first_name, ada.last_name, ada.full_name) == ("Ada", "Lovelace", "Ada Lovelace")
    assert ada.ids == {"lms_user_id": "48213", "sis_user_id": "A0001", "sis_login_id": "ada@uni.edu"}
    assert ada.email == "ada@uni.edu"
    assert ada.section == "CNN101 Section 01 and CNN101 Lab"


def test_a_login_that_is_not_an_email_gives_no_email():
    jan = by_user_id()["48390"]
    assert jan.ids["sis_login_id"] == "jkowalski" and jan.email == ""


def test_sortable_name_splits_at_the_first_comma():
    chidi = by_user_id()["48377"]
    assert (chidi.last_name, chidi.first_name) == ("Anagonye", "Jr., Chidi")


def test_quotes_and_accents_survive():
    rows = by_user_id()
    assert (rows["48390"].first_name, rows["48390"].last_name) == ('Jan "JJ"', "Kowalski")
    assert (rows["48401"].first_name, rows["48401"].last_name) == ("Thị Minh Khai", "Nguyễn")


def test_a_name_canvas_wrapped_as_a_formula_is_unwrapped():
    mallory = by_user_id()["48415"]
    assert (mallory.last_name, mallory.first_name) == ("=SUM(A1)", "Mallory")
    assert "sis_user_id" not in mallory.ids        # empty cells are not ids


def test_semicolon_export_and_first_last_columns():
    text = ("LastName;FirstName;ID;SIS User ID;SIS Login ID;Section;Why CNNs? (40916)\n"
            "    Points Possible;;;;;;10,00\n"
            "Lovelace;Ada;48213;A0001;ada@uni.edu;S1;9,50\n")
    [ada] = canvas.parse_roster(text)
    assert (ada.first_name, ada.last_name, ada.ids["sis_user_id"]) == ("Ada", "Lovelace", "A0001")


def test_not_a_canvas_export():
    with pytest.raises(LmsError):
        canvas.parse_roster("First name,Last name,Email address\nAda,Lovelace,ada@uni.edu\n")


# -- download archive ---------------------------------------------------------
@pytest.mark.parametrize("path, user, filename, attempt", [
    ("lovelaceada_48213_91820374_kernels.ipynb", "48213", "kernels.ipynb", 0),
    ("lovelaceada_late_48213_91820375_kernels.ipynb", "48213", "kernels.ipynb", 0),
    ("lovelaceada_LATE_48213_91820376_kernels-1.ipynb", "48213", "kernels-1.ipynb", 1),
    ("anagonyejrchidi_48377_91820377_kernels-2.ipynb", "48377", "kernels-2.ipynb", 2),
    ("nguyễnthịminhkhai_48401_91820378_kernels.ipynb", "48401", "kernels.ipynb", 0),
    ("kowalskijanjj_48390_91820379_my_kernels_v2 (final).ipynb", "48390", "my_kernels_v2 (final).ipynb", 0),
    ("submissions/suma1mallory_48415_91820380_README-3", "48415", "README-3", 3),
])
def test_match_file(path, user, filename, attempt):
    match = canvas.match_file(path)
    assert (match.who, match.filename, match.attempt) == (("lms_user_id", user), filename, attempt)


@pytest.mark.parametrize("path", [
    "index.html", "kernels.ipynb",
    "__MACOSX/lovelaceada_48213_91820374_kernels.ipynb", "._lovelaceada_48213_91820374_kernels.ipynb",
    "lovelace-ada_48213_91820374_kernels.ipynb", "lovelaceada_48213_kernels.ipynb", "",
])
def test_junk_is_not_a_submission(path):
    assert canvas.match_file(path) is None


def test_anonymous_downloads_are_refused():
    with pytest.raises(LmsError, match="anonymous"):
        canvas.match_file("anon_xK3p9_91820374_kernels.ipynb")


def test_download_name_round_trip():
    when = datetime(2025, 3, 1, 12, 0)
    for row in roster():
        for filename in ("kernels.ipynb", "kernels-1.ipynb", "my kernels_v2.ipynb", "README"):
            path = canvas.download_name(row, filename, when)
            match = canvas.match_file(path)
            assert match.who == ("lms_user_id", row.ids["lms_user_id"]), path
            assert match.filename == filename
            assert canvas.download_name(row, filename, when) == path      # stable


def test_an_attempt_is_a_canvas_re_upload_name():
    ada = by_user_id()["48213"]
    when = datetime(2025, 3, 1, 12, 0)
    first, second = (canvas.download_name(ada, "kernels.ipynb", when, n) for n in (0, 2))
    assert first != second and second.endswith("_kernels-2.ipynb")
    match = canvas.match_file(second)
    assert (match.who, match.filename, match.attempt) == (("lms_user_id", "48213"), "kernels-2.ipynb", 2)
    assert canvas.download_name(ada, "kernels-2.ipynb", when, 2).endswith("_kernels-2.ipynb")  # not -2-2
    assert canvas.match_file(canvas.download_name(ada, "README", when, 1)).filename == "README-1"


def test_download_name_looks_like_canvas():
    row = RosterRow(first_name="Thị Minh Khai", last_name="Nguyễn", ids={"lms_user_id": "48401"})
    path = canvas.download_name(row, "kernels.ipynb", datetime(2025, 3, 1))
    assert path.startswith("nguyễnthịminhkhai_48401_") and path.endswith("_kernels.ipynb")
    with pytest.raises(LmsError):
        canvas.download_name(RosterRow(first_name="No", last_name="Id"), "kernels.ipynb", datetime(2025, 3, 1))


# -- grade import -------------------------------------------------------------
ASSIGNMENTS = [
    AssignmentGrade("01_why_cnns", "Why CNNs?", 10, lms_id="40916"),
    AssignmentGrade("02_kernels", "Kernels, filters and feature maps", 12.5),
]
STUDENTS = [
    StudentGrades("ada@uni.edu", "Ada", "Lovelace", "ada@uni.edu", "48213",
                  {"01_why_cnns": 9.5, "02_kernels": 11.0}),
    StudentGrades("nguyen.tmk@uni.edu", "Thị Minh Khai", "Nguyễn", "nguyen.tmk@uni.edu", "48401",
                  {"01_why_cnns": None, "02_kernels": 7.456}),
    StudentGrades("jkowalski", 'Jan "JJ"', "Kowalski", "", "48390",
                  {"01_why_cnns": 10, "02_kernels": 0}),
    StudentGrades("mallory@evil.example", "Mallory", "=SUM(A1)", "mallory@evil.example", "48415",
                  {"01_why_cnns": 0.0}),
]


def written(field: str) -> bytes:
    out = io.StringIO(newline="")
    canvas.write_grades(out, STUDENTS, ASSIGNMENTS, field)
    return out.getvalue().encode("utf-8")


def test_write_grades_matches_the_golden_import_file():
    assert written("sis_login_id") == (GOLDEN / "grades_import.csv").read_bytes()


def test_write_grades_puts_the_student_id_in_the_configured_column():
    header, points, ada, *_ = written("sis_user_id").decode().splitlines()
    assert header.startswith("Student,ID,SIS User ID,SIS Login ID,Section,")
    assert ada == '"Lovelace, Ada",48213,ada@uni.edu,,,9.5,11'
    lines = written("lms_user_id").decode().splitlines()
    assert lines[2] == '"Lovelace, Ada",ada@uni.edu,,,,9.5,11'
    with pytest.raises(LmsError):
        written("email")


def test_the_import_file_reads_back_as_a_roster():
    back = {row.ids["lms_user_id"]: row for row in canvas.parse_roster(written("sis_login_id").decode())}
    assert back["48213"].ids["sis_login_id"] == "ada@uni.edu"
    assert (back["48401"].first_name, back["48401"].last_name) == ("Thị Minh Khai", "Nguyễn")
    assert back["48415"].last_name == "'=SUM(A1)"      # neutralised, not a formula


def test_text_entries_and_the_test_student_are_named_for_what_they_are():
    entry = canvas.match_file("lovelaceada_LATE_48213_text.html")
    assert entry.who == ("lms_user_id", "48213") and entry.late_mark
    assert entry.note == "a Canvas text entry, not a notebook"  # collect's reason; export leaves it blank
    assert canvas.match_file("lovelaceada_48213_link.html").note == "a Canvas URL entry, not a notebook"
    test = canvas.match_file("studenttest_48500_99112233_kernels.ipynb")
    assert test.note == "Canvas's Test Student (Student View), not a student of the class"
    assert canvas.match_file("lovelaceada_48213_99112233_kernels.ipynb").note == ""


def test_feedback_names_carry_the_downloads_ids_and_no_other_number():
    when = datetime(2025, 3, 1, 12, 0)
    for row in roster():
        download = canvas.download_name(row, "kernels.ipynb", when)
        ids = [p for p in download.split("_") if p.isdigit()][:2]
        for page in ("kernels-feedback.html", "week_2_kernels-feedback.html"):
            name = canvas.feedback_name(f"{download}", page)
            assert [p for p in name.split("_") if p.isdigit()] == ids, name  # what Canvas reads as the ids
        inside = canvas.feedback_name(f"{download}/my work/kernels.ipynb", "kernels-feedback.html")
        assert inside == canvas.feedback_name(download, "kernels-feedback.html")  # from the student's own zip
    with pytest.raises(LmsError, match="not a Canvas download"):
        canvas.feedback_name("kernels.ipynb", "kernels-feedback.html")
