"""Late work (cnnlab/grading/late.py): course.yml's due date, grace period,
penalty and extensions, applied through nbgrader's own late-penalty step,
with the times the LMS gives.

Reproduced first: Canvas's _LATE mark was parsed and dropped, every Canvas
submission was stamped 1970-01-01, and no due date existed anywhere, so no
late work ever cost anything or showed.
"""
from __future__ import annotations

import zipfile
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import nbformat
import pytest
import yaml
from nbgrader.api import Gradebook

from cnnlab.course import CourseError, load_course
from cnnlab.grading import autograde
from cnnlab.grading.canary import instructor_submission
from cnnlab.grading.late import LatePolicy, late_policy
from cnnlab.lms import get_format
from cnnlab.lms.base import decode_export
from cnnlab.lms.collect import collect_archive
from cnnlab.lms.roster import import_roster
from cnnlab.export.account import account
from cnnlab.report import gather
from cnnlab.sheets import final_score

from conftest import copy_course
from test_lms_roundtrip import roster_file

A, NB = "01_why_cnns", "why_cnns"
BERLIN = ZoneInfo("Europe/Berlin")
DUE = datetime(2026, 11, 20, 12, 0, tzinfo=BERLIN)


def test_the_penalty_rule():
    rule = LatePolicy(grace=timedelta(minutes=10), per_day=0.25, cap=0.5)
    assert rule.penalty_share(0) == rule.penalty_share(600) == 0          # on time, and within the grace
    assert rule.penalty_share(601) == rule.penalty_share(86400) == 0.25   # every started day counts
    assert rule.penalty_share(86401) == 0.5 and rule.penalty_share(9 * 86400) == 0.5  # capped
    assert LatePolicy(zero=True).penalty_share(1) == 1.0


def _course(course, root, late: dict):
    copy_course(course, root)
    data = yaml.safe_load((root / "course.yml").read_text(encoding="utf-8"))
    data["late"] = late
    next(a for a in data["assignments"] if a["id"] == A)["due"] = DUE.replace(tzinfo=None).isoformat(" ")
    (root / "course.yml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return load_course(root)


def test_a_bad_late_setting_is_one_line(course, tmp_path):
    with pytest.raises(CourseError, match="not a time zone"):
        late_policy(_course(course, tmp_path / "a", {"timezone": "Mars/Olympus"}))
    with pytest.raises(CourseError, match="like '15 min'"):
        late_policy(_course(course, tmp_path / "b", {"grace": "a while"}))


def _collect(copy, lms, handed_in):
    """Roster import, then an LMS download: {roster row index: (submitted at, late mark)}."""
    db = copy.nbgrader_config().CourseDirectory.db_url
    import_roster(copy, roster_file(lms), lms, db)
    fmt = get_format(lms)
    rows = fmt.parse_roster(decode_export(roster_file(lms).read_bytes()))
    nb = nbformat.writes(instructor_submission(copy, A)[NB])
    archive = copy.root / f"{lms}.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for i, (when, marked, *other) in handed_in.items():
            name = fmt.download_name(rows[i], f"{NB}.ipynb", when.astimezone(timezone.utc).replace(tzinfo=None))
            if marked:  # Canvas's own mark: {name}_LATE_{user id}_...
                prefix, rest = name.split("_", 1)
                name = f"{prefix}_LATE_{rest}"
            z.writestr(name, other[0] if other else nb)
    return collect_archive(copy, A, archive, lms), rows


def _grades(copy):
    with Gradebook(copy.nbgrader_config().CourseDirectory.db_url, "learn-cnns") as gb:
        return {s.student.id: (final_score(s), float(s.max_score), s.total_seconds_late)
                for s in gb.find_assignment(A).submissions}


def test_times_from_the_lms_grace_penalty_and_extensions(course, tmp_path):
    root = tmp_path / "course"
    copy = _course(course, root, {"timezone": "Europe/Berlin", "grace": "10 min",
                                  "penalty": {"per_day": 0.25, "cap": 0.5}, "extensions": "extensions.csv"})
    handed_in = {0: (DUE - timedelta(hours=1), False),          # on time
                 1: (DUE + timedelta(hours=3), False),          # late: one started day
                 2: (DUE + timedelta(hours=3), False),          # late, but has two more days
                 3: (DUE + timedelta(minutes=5), False)}        # within the grace period
    report, rows = _collect_with_extension(copy, handed_in, extended_row=2)
    ids = {i: rows[i].ids["username"] for i in handed_in}
    assert set(report.late) == {ids[1], ids[3]}, report.late
    assert report.late[ids[1]] == "late by 3 h 0 min (-25% of the score)"
    assert report.late[ids[3]] == "late by 5 min (within the grace period)"

    summary = autograde(copy, A, workers=2, progress=False)
    results = {r.student: r for r in summary.results}
    grades = _grades(copy)
    full = grades[ids[0]][1]
    assert grades[ids[0]][0] == grades[ids[2]][0] == grades[ids[3]][0] == full  # on time, extended, grace
    assert grades[ids[1]][0] == pytest.approx(full * 0.75) and grades[ids[1]][2] == 3 * 3600
    assert results[ids[1]].late.startswith("late by 3 h 0 min (-25% of the score)"), results[ids[1]].late
    assert results[ids[2]].late == "" and grades[ids[2]][2] == 0
    assert summary.counts()["late"] == 2  # ids[1], and ids[3] within the grace (late, no penalty)

    report = gather(copy, A)  # the class report, and the export's account, say it too
    assert set(report.late) == {ids[1], ids[3]} and report.summary()["late"] == 2
    with Gradebook(copy.nbgrader_config().CourseDirectory.db_url, "learn-cnns") as gb:
        said = account(copy, gb, [A], sorted(grades), "zero")
    assert said.late == 2 and said.graded == 4


def _collect_with_extension(copy, handed_in, extended_row):
    rows = get_format("blackboard").parse_roster(decode_export(roster_file("blackboard").read_bytes()))
    (copy.root / "extensions.csv").write_text(
        f"student_id,assignment,due\n{rows[extended_row].ids['username']},{A},+2 days\n", encoding="utf-8")
    return _collect(load_course(copy.root), "blackboard", handed_in)


def test_canvas_s_late_mark_is_kept_and_never_a_1970_time(course, tmp_path):
    root = tmp_path / "course"
    copy = _course(course, root, {"timezone": "Europe/Berlin", "penalty": {"per_day": 0.25, "cap": 0.5}})
    wrong = (root / "release" / "03_padding_pooling" / "padding_pooling.ipynb").read_text(encoding="utf-8")
    report, rows = _collect(copy, "canvas", {0: (DUE, False), 1: (DUE, True), 2: (DUE, False, wrong)})
    students = sorted(report.students)
    assert len(students) == 3
    (wrong_one,) = report.wrong_notebook  # collect warns while the TA can still ask for the right one
    assert report.wrong_notebook[wrong_one] == "03_padding_pooling"
    for student in students:  # Canvas names carry no time: no made-up one
        assert not (copy.submitted(student, A) / "timestamp.txt").exists()
    (marked,) = report.late
    assert report.late[marked] == "marked LATE by the LMS, time unknown: no penalty (flagged)"
    assert copy.collected(A)["late_marks"] == [marked]

    summary = autograde(copy, A, workers=2, progress=False)
    results = {r.student: r for r in summary.results}
    assert results[marked].late == "marked LATE by the LMS, time unknown"
    assert any(f.startswith("late: the LMS marked this submission late") for f in results[marked].flags)
    assert all(s == m for st, (s, m, _) in _grades(copy).items() if st != wrong_one)  # no charge without a time
    assert results[wrong_one].problems[0].startswith("handed in the notebook of 03_padding_pooling")

    # the course that charges one day for the mark: collect again, the file gets due + 1 day
    data = yaml.safe_load((root / "course.yml").read_text(encoding="utf-8"))
    data["late"]["canvas_mark_only"] = "one_day"
    (root / "course.yml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    copy = load_course(root)
    report, _ = _collect(copy, "canvas", {0: (DUE, False), 1: (DUE, True)})
    assert report.late[marked] == "marked LATE by the LMS, time unknown: charged one day"
    stamp = (copy.submitted(marked, A) / "timestamp.txt").read_text()
    assert datetime.fromisoformat(stamp) == DUE + timedelta(days=1)
