"""Roster in: an LMS's roster or gradebook export → nbgrader students.

Each row becomes a student whose nbgrader id is the identifier the course
chose (lms_settings: e.g. Canvas SIS Login ID), with names, email and
`lms_user_id` (the LMS's own user id where it exports one, else that
identifier). Importing again changes nothing; a row that would change an
existing student's LMS user id, or two rows with one id, is reported as a
conflict and left alone, never guessed.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry

from ..course import Course
from . import get_format
from .base import LmsError, RosterRow, decode_export
from .settings import lms_settings


@dataclass
class RosterReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)


def lms_user_id_of(row: RosterRow, student_id_field: str) -> str:
    return row.ids.get("lms_user_id") or row.ids.get(student_id_field, "")


def import_roster(course: Course, path: str | Path, lms: str, db_url: str) -> RosterReport:
    fmt, settings = get_format(lms), lms_settings(course, lms)
    try:
        rows = fmt.parse_roster(decode_export(Path(path).read_bytes()))
    except OSError as exc:
        raise LmsError(f"{path}: cannot be read ({exc.strerror})") from None
    if not rows:
        raise LmsError(f"{path}: no students found in this {fmt.title} export")
    report = RosterReport()
    seen: dict[str, str] = {}
    wanted: list[tuple[str, RosterRow]] = []
    for number, row in enumerate(rows, start=1):
        sid = row.ids.get(settings.student_id, "").strip()
        who = row.full_name or f"row {number}"
        if not sid:
            report.conflicts.append(f"{who}: no {settings.student_id} in the export (not imported)")
            continue
        if sid in seen:
            report.conflicts.append(f"{who}: {settings.student_id} {sid} is also {seen[sid]}'s (neither imported)")
            wanted = [(s, r) for s, r in wanted if s != sid]
            continue
        seen[sid] = who
        wanted.append((sid, row))
    with Gradebook(db_url) as gb:
        by_lms_id = {s.lms_user_id: s.id for s in gb.students if s.lms_user_id}
        for sid, row in wanted:
            lms_id = lms_user_id_of(row, settings.student_id)
            try:
                student = gb.find_student(sid)
            except MissingEntry:
                student = None
            other = by_lms_id.get(lms_id)
            if other and other != sid:
                report.conflicts.append(f"{row.full_name}: LMS user {lms_id} is already student {other} "
                                        f"(not imported as {sid})")
                continue
            if student is not None and student.lms_user_id and lms_id and student.lms_user_id != lms_id:
                report.conflicts.append(f"{sid}: the gradebook has LMS user {student.lms_user_id}, the export "
                                        f"{lms_id} (left as it is)")
                continue
            fields = {"first_name": row.first_name or None, "last_name": row.last_name or None,
                      "email": row.email or None, "lms_user_id": lms_id or None}
            if student is None:
                gb.add_student(sid, **fields)
                report.created.append(sid)
            elif all(getattr(student, k) == v for k, v in fields.items() if v is not None):
                report.unchanged.append(sid)
            else:
                gb.update_or_create_student(sid, **{k: v for k, v in fields.items() if v is not None})
                report.updated.append(sid)
    return report
