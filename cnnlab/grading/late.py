"""Late work: the course's policy, applied through nbgrader's own late-penalty step.

course.yml says when each assignment is due and what lateness costs:

    late:
      timezone: Europe/Berlin        # due dates and extensions are in this zone
      grace: 15 min                  # up to this after the due date counts as on time
      penalty: {per_day: 0.1, cap: 0.5}   # share of the score per started day late, at most cap
      # penalty: zero                # any late work scores 0
      extensions: extensions.csv     # student_id,assignment,due  (a date, or +N days)
      canvas_mark_only: flag         # a file Canvas marked LATE, time unknown: flag | one_day
    assignments:
      - id: 02_kernels
        due: 2026-10-14 23:59

nbgrader computes how late a submission is from its timestamp.txt (written
by collect from the LMS's time) and the gradebook's due date plus the
student's extension, both of which `cnnlab autograde` writes from course.yml
before grading (`apply_due_date`, `extension_of`). Its AssignLatePenalties step
then asks the configured plugin for the penalty: `CoursePenalty`, set in
nbgrader_config.py, so plain `nbgrader autograde` applies the same rule once
the due date is in the gradebook.
"""
from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from nbgrader.plugins import LateSubmissionPlugin

from ..course import Course, CourseError, load_course

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|seconds?|m|min|minutes?|h|hours?|d|days?)\s*$", re.I)
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text, what: str) -> timedelta:
    if text in (None, "", 0):
        return timedelta(0)
    m = _DURATION.match(str(text))
    if not m:
        raise CourseError(f"course.yml {what} is {text!r}; write it like '15 min', '2 h' or '1 day'")
    return timedelta(seconds=float(m[1]) * _UNIT[m[2][0].lower()])


@dataclass
class LatePolicy:
    zone: ZoneInfo | timezone = timezone.utc
    grace: timedelta = timedelta(0)
    per_day: float = 0.0            # share of the score lost per started day late
    cap: float = 1.0                # at most this share
    zero: bool = False              # any late work scores 0
    canvas_mark_only: str = "flag"  # flag | one_day
    due: dict[str, datetime] = field(default_factory=dict)                   # assignment -> due (aware)
    extensions: dict[tuple[str, str], datetime] = field(default_factory=dict)  # (student, assignment) -> due

    def penalty_share(self, seconds_late: float) -> float:
        """The share of the score late work loses (0 within the grace period)."""
        if seconds_late <= self.grace.total_seconds():
            return 0.0
        if self.zero:
            return 1.0
        return min(self.cap, self.per_day * math.ceil(seconds_late / 86400))

    def due_of(self, assignment: str, student: str | None = None) -> datetime | None:
        return self.extensions.get((student, assignment)) or self.due.get(assignment)


def _local(text, zone, what: str) -> datetime:
    try:
        when = text if isinstance(text, datetime) else datetime.fromisoformat(str(text).strip())
    except ValueError:
        raise CourseError(f"{what} is {text!r}; write it like 2026-10-14 23:59") from None
    return when if when.tzinfo else when.replace(tzinfo=zone)


def late_policy(course: Course) -> LatePolicy:
    section = course.data.get("late") or {}
    try:
        zone = ZoneInfo(str(section.get("timezone", "UTC")))
    except (ZoneInfoNotFoundError, ValueError):
        raise CourseError(f"course.yml late.timezone {section.get('timezone')!r} is not a time zone "
                          "(e.g. Europe/Berlin, America/New_York)") from None
    policy = LatePolicy(zone=zone, grace=parse_duration(section.get("grace"), "late.grace"))
    penalty = section.get("penalty", "none")
    if penalty == "zero":
        policy.zero = True
    elif isinstance(penalty, dict):
        try:
            policy.per_day = float(penalty.get("per_day", 0))
            policy.cap = float(penalty.get("cap", 1))
        except (TypeError, ValueError):
            raise CourseError("course.yml late.penalty: per_day and cap are shares, e.g. 0.1 and 0.5") from None
        if not (0 <= policy.per_day <= 1 and 0 <= policy.cap <= 1):
            raise CourseError("course.yml late.penalty: per_day and cap are shares between 0 and 1")
    elif penalty not in ("none", None):
        raise CourseError(f"course.yml late.penalty is {penalty!r}; use zero, none or {{per_day: 0.1, cap: 0.5}}")
    policy.canvas_mark_only = str(section.get("canvas_mark_only", "flag"))
    if policy.canvas_mark_only not in ("flag", "one_day"):
        raise CourseError("course.yml late.canvas_mark_only is flag or one_day")
    for a in course.data.get("assignments", []):
        if a.get("due"):
            policy.due[a["id"]] = _local(a["due"], zone, f"course.yml assignment {a['id']} due")
    if section.get("extensions"):
        policy.extensions = _read_extensions(course, str(section["extensions"]), policy)
    return policy


def _read_extensions(course: Course, name: str, policy: LatePolicy) -> dict[tuple[str, str], datetime]:
    path = course.root / name
    try:
        rows = list(csv.DictReader(path.read_text(encoding="utf-8-sig").splitlines()))
    except OSError as exc:
        raise CourseError(f"course.yml late.extensions: {name} cannot be read ({exc.strerror})") from None
    out = {}
    for i, row in enumerate(rows, start=2):
        student, assignment, due = (row.get(k, "").strip() for k in ("student_id", "assignment", "due"))
        where = f"{name} line {i}"
        if not (student and assignment and due):
            raise CourseError(f"{where}: needs student_id, assignment and due")
        if due.startswith("+"):
            base = policy.due.get(assignment)
            if base is None:
                raise CourseError(f"{where}: {due} days after what? {assignment} has no due date in course.yml")
            out[student, assignment] = base + parse_duration(due[1:], where)
        else:
            out[student, assignment] = _local(due, policy.zone, where)
    return out


def as_utc(when: datetime) -> datetime:
    """nbgrader's gradebook keeps naive UTC times."""
    return when.astimezone(timezone.utc).replace(tzinfo=None)


def apply_due_date(gb, assignment: str, policy: LatePolicy) -> None:
    due = policy.due.get(assignment)
    gb.update_or_create_assignment(assignment, duedate=as_utc(due) if due else None)


def extension_of(policy: LatePolicy, assignment: str, student: str) -> timedelta | None:
    """The student's extension as nbgrader stores it (added to the assignment's due date)."""
    own, due = policy.extensions.get((student, assignment)), policy.due.get(assignment)
    if own is None or due is None:
        return None
    return own - due


def describe(seconds_late: float, share: float) -> str:
    days, rest = divmod(int(seconds_late), 86400)
    hours, rest = divmod(rest, 3600)
    late = f"{days} d {hours} h" if days else f"{hours} h {rest // 60} min" if hours else f"{rest // 60} min"
    return f"late by {late}" + (f" (-{share:.0%} of the score)" if share else " (within the grace period)" if
                                seconds_late else "")


class CoursePenalty(LateSubmissionPlugin):
    """nbgrader's late-penalty plugin with the rule of course.yml `late:` (see the
    module docstring): a share of the notebook's score per started day late, capped,
    or all of it (`penalty: zero`), nothing within the grace period."""

    def late_submission_penalty(self, student_id: str, score: float, total_seconds_late: float):
        root = self.config.CourseDirectory.get("root") or None
        share = late_policy(load_course(root)).penalty_share(total_seconds_late)
        return score * share if share else None
