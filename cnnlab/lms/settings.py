"""The LMS settings of a course, from the `lms:` section of course.yml.

    lms:
      missing: zero            # a student who submitted nothing: zero | blank
      canvas:
        student_id: sis_login_id          # which roster identifier becomes the nbgrader student id
        assignments: {02_kernels: 40917}  # the LMS's id of each assignment (column), where it has one
      blackboard:
        student_id: username
        assignments: {02_kernels: 31415}

Every key is optional except where an LMS needs it (Blackboard column ids);
the student identifier defaults to the LMS's first `id_fields`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..course import Course
from . import get_format
from .base import LmsError


@dataclass(frozen=True)
class LmsSettings:
    lms: str
    student_id: str
    assignment_ids: dict[str, str] = field(default_factory=dict)
    missing: str = "zero"


def lms_settings(course: Course, lms: str) -> LmsSettings:
    fmt = get_format(lms)
    section = course.data.get("lms") or {}
    mine = section.get(lms) or {}
    student_id = str(mine.get("student_id") or fmt.id_fields[0])
    if student_id not in fmt.id_fields:
        raise LmsError(f"course.yml lms.{lms}.student_id is {student_id!r}; {fmt.title} exports "
                       f"{', '.join(fmt.id_fields)}")
    missing = str(section.get("missing", "zero"))
    if missing not in ("zero", "blank"):
        raise LmsError(f"course.yml lms.missing is {missing!r}; use zero or blank")
    ids = {str(k): str(v) for k, v in (mine.get("assignments") or {}).items()}
    unknown = sorted(set(ids) - {a.id for a in course.assignments})
    if unknown:
        raise LmsError(f"course.yml lms.{lms}.assignments names unknown assignments: {', '.join(unknown)}")
    return LmsSettings(lms, student_id, ids, missing)
