"""What every LMS shares: settings from course.yml, roster import into the
gradebook (idempotent, conflicts reported), and finding a student by what an
LMS file name says."""
from __future__ import annotations

import pytest
import yaml
from nbgrader.api import Gradebook

from cnnlab.lms import roster as roster_module
from cnnlab.lms.base import LmsError, LmsFormat, RosterRow, read_table
from cnnlab.sheets import safe_cell
from cnnlab.lms.collect import StudentFinder
from cnnlab.lms.settings import lms_settings


class FakeLms(LmsFormat):
    name, title, id_fields = "canvas", "Fake", ("sis_login_id", "lms_user_id")

    def __init__(self, rows):
        self.rows = rows

    def parse_roster(self, text):
        return self.rows


def _row(first, last, login, user):
    return RosterRow(first, last, "", {"sis_login_id": login, "lms_user_id": user})


def _import(course_copy, monkeypatch, rows, tmp_path):
    monkeypatch.setattr(roster_module, "get_format", lambda name: FakeLms(rows))
    path = tmp_path / "roster.csv"
    path.write_text("ignored")
    db = f"sqlite:///{course_copy.root / 'gradebook.db'}"
    return roster_module.import_roster(course_copy, path, "canvas", db), db


def test_import_creates_then_changes_nothing_then_updates(course_copy, monkeypatch, tmp_path):
    rows = [_row("Ada", "Lovelace", "ada", "101"), _row("Chidi", "Anagonye, Jr.", "chidi", "102")]
    first, db = _import(course_copy, monkeypatch, rows, tmp_path)
    assert sorted(first.created) == ["ada", "chidi"] and not first.conflicts
    again, _ = _import(course_copy, monkeypatch, rows, tmp_path)
    assert sorted(again.unchanged) == ["ada", "chidi"] and not again.created and not again.updated
    renamed, _ = _import(course_copy, monkeypatch, [_row("Ada", "King", "ada", "101")], tmp_path)
    assert renamed.updated == ["ada"]
    with Gradebook(db) as gb:
        ada = gb.find_student("ada")
        assert (ada.last_name, ada.lms_user_id) == ("King", "101")


def test_conflicts_are_reported_and_left_alone(course_copy, monkeypatch, tmp_path):
    _import(course_copy, monkeypatch, [_row("Ada", "Lovelace", "ada", "101")], tmp_path)
    report, db = _import(course_copy, monkeypatch, [
        _row("Ada", "Lovelace", "ada", "555"),        # the LMS user id of an existing student changed
        _row("Other", "Person", "other", "101"),      # an LMS user already imported under another id
        _row("Twin", "One", "twin", "201"), _row("Twin", "Two", "twin", "202"),  # one id, two people
        _row("No", "Login", "", "301"),
    ], tmp_path)
    assert len(report.conflicts) == 4 and not report.created and not report.updated, report
    with Gradebook(db) as gb:
        assert gb.find_student("ada").lms_user_id == "101"
        assert {s.id for s in gb.students} == {"ada"}


def test_settings_are_checked(course_copy):
    data = yaml.safe_load((course_copy.root / "course.yml").read_text())
    assert lms_settings(course_copy, "canvas").student_id == "sis_login_id"
    data["lms"]["canvas"]["student_id"] = "shoe_size"
    course_copy.data.update(data)
    with pytest.raises(LmsError, match="shoe_size"):
        lms_settings(course_copy, "canvas")
    data["lms"]["canvas"] = {"assignments": {"99_nope": 1}}
    with pytest.raises(LmsError, match="99_nope"):
        lms_settings(course_copy, "canvas")


def test_students_are_found_by_lms_id_identifier_or_name(course_copy):
    db = f"sqlite:///{course_copy.root / 'gradebook.db'}"
    with Gradebook(db) as gb:
        gb.add_student("bao", first_name="Bảo", last_name="Nguyễn", lms_user_id="77")
        gb.add_student("sam1", first_name="Sam", last_name="Lee")
        gb.add_student("sam2", first_name="Sam", last_name="Lee")
    finder = StudentFinder.of_gradebook(db, "sis_login_id")
    assert finder.find(("lms_user_id", "77")) == ("bao", "")
    assert finder.find(("sis_login_id", "bao")) == ("bao", "")
    assert finder.find(("full_name", "bao  NGUYEN")) == ("bao", "")
    assert finder.find(("full_name", "Sam Lee"))[0] is None and "2 students" in finder.find(("full_name", "Sam Lee"))[1]
    assert finder.find(("lms_user_id", "404"))[0] is None


def test_tables_and_cells():
    assert read_table("a;b\n1;2\n") == [{"a": "1", "b": "2"}]
    assert read_table("a\tb\n1\t2\n") == [{"a": "1", "b": "2"}]
    assert [safe_cell(v) for v in ["=1+1", "+x", "-x", "@x", "Ann", -3.5]] == ["'=1+1", "'+x", "'-x", "'@x", "Ann", -3.5]
