"""`cnnlab autograde A`: grade every submission of a class.

This is still nbgrader's own autograde, one submission at a time, with what
a TA needs around it: the assignment is registered in the gradebook from
source/ when it is missing (so a fresh clone works), one failing submission
never stops the others, a progress bar, and a summary at the end.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.apps import NbGraderAPI
from nbgrader.coursedir import CourseDirectory
from tqdm import tqdm

from ..course import Course, CourseError
from ..workspace import Workspace, ensure_venv_on_path


@dataclass
class StudentResult:
    student: str
    ok: bool
    score: float = 0.0
    max_score: float = 0.0
    reason: str = ""


@dataclass
class AutogradeSummary:
    assignment: str
    registered: bool = False
    results: list[StudentResult] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[StudentResult]:
        return [r for r in self.results if not r.ok]

    def as_dict(self) -> dict:
        return {"assignment": self.assignment, "registered": self.registered,
                "skipped": self.skipped,
                "results": [r.__dict__ for r in self.results]}


def course_api(course: Course) -> NbGraderAPI:
    ensure_venv_on_path()
    cfg = course.nbgrader_config()
    cfg.Application.log_level = "WARNING"
    return NbGraderAPI(coursedir=CourseDirectory(config=cfg), config=cfg)


def is_registered(api: NbGraderAPI, assignment_id: str) -> bool:
    try:
        with Gradebook(api.coursedir.db_url, api.coursedir.course_id) as gb:
            return bool(gb.find_assignment(assignment_id).notebooks)
    except MissingEntry:
        return False


def register(course: Course, api: NbGraderAPI, assignment_id: str) -> None:
    """Put the assignment's cells (with checksums) into the course gradebook,
    generating into a throwaway folder so the committed release/ is untouched."""
    with Workspace(course, db_url=api.coursedir.db_url) as ws:
        ws.generate_assignment(assignment_id)


def _last_line(result: dict) -> str:
    text = (result.get("error") or result.get("log") or "").strip().splitlines()
    return text[-1] if text else "no reason given"


def submitted_students(course: Course, assignment_id: str) -> list[str]:
    folder = course.root / "submitted"
    return sorted(p.parent.name for p in folder.glob(f"*/{assignment_id}") if p.is_dir())


def autograde(course: Course, assignment_id: str, students: list[str] | None = None,
              force: bool = False, progress: bool = True) -> AutogradeSummary:
    course.assignment(assignment_id)
    api = course_api(course)
    summary = AutogradeSummary(assignment_id)
    if not is_registered(api, assignment_id):
        register(course, api, assignment_id)
        summary.registered = True
    everyone = submitted_students(course, assignment_id)
    if students:
        unknown = sorted(set(students) - set(everyone))
        if unknown:
            raise CourseError(f"no submission of {assignment_id} for: {', '.join(unknown)}")
        everyone = [s for s in everyone if s in students]
    for student in tqdm(everyone, desc=f"autograde {assignment_id}", unit="submission",
                        disable=not progress):
        done = Path(api.coursedir.format_path("autograded_directory", student, assignment_id))
        if done.exists() and not force:
            summary.skipped.append(student)
            continue
        result = api.autograde(assignment_id, student, force=True, create=True)
        if not result.get("success"):
            summary.results.append(StudentResult(student, False, reason=_last_line(result)))
            continue
        with Gradebook(api.coursedir.db_url, api.coursedir.course_id) as gb:
            sub = gb.find_submission(assignment_id, student)
            summary.results.append(StudentResult(student, True, float(sub.score), float(sub.max_score)))
    return summary
