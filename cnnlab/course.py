"""The course as data: course.yml (questions, videos, assignments) and the
nbgrader configuration in nbgrader_config.py.

Everything else asks this module where things are, so that a course folder
can be moved or copied (the tests and `cnnlab grade` work on copies).
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import yaml
from traitlets.config import Config
from traitlets.config.loader import PyFileConfigLoader

if TYPE_CHECKING:  # nbformat costs 0.4 s to import: only the commands that read a notebook pay it
    import nbformat


class CourseError(Exception):
    """A problem with the course folder, reported to the user in one line."""


@dataclass
class Assignment:
    id: str
    title: str
    notebooks: list[str]
    videos: list[str] = field(default_factory=list)
    #: Assignments that must be due before this one is released (05 gives away 02's and 03's
    #: forward passes in a locked cell, so it comes out only after their answers are in).
    release_after: list[str] = field(default_factory=list)


@dataclass
class Course:
    root: Path
    data: dict
    #: A gradebook other than nbgrader_config.py's (`cnnlab --db URL`), e.g. a shared
    #: PostgreSQL database; every command and nbgrader itself then use it.
    db_url: str | None = None

    @property
    def assignments(self) -> list[Assignment]:
        return [Assignment(a["id"], a["title"], list(a["notebooks"]), list(a.get("videos", [])),
                           list(a.get("release_after", [])))
                for a in self.data.get("assignments", [])]

    def assignment(self, assignment_id: str) -> Assignment:
        for a in self.assignments:
            if a.id == assignment_id:
                return a
        known = ", ".join(a.id for a in self.assignments)
        raise CourseError(f"unknown assignment {assignment_id!r} (this course has: {known})")

    @property
    def questions(self) -> list[dict]:
        return list(self.data.get("questions", []))

    @property
    def videos(self) -> dict:
        return dict(self.data.get("videos", {}))

    def video_link(self, video_id: str) -> str:
        """A video of course.yml as a Markdown link: '[by: title](url)'."""
        v = self.videos[video_id]
        return f"[{v['by']}: {v['title']}]({v['url']})"

    # -- the course folder's layout, spelled here once ---------------------------------
    #: the grader's own folder in the course: intake copies, staging, logs, evidence, locks
    WORK = ".cnnlab"

    def submitted(self, student: str | None = None, assignment_id: str | None = None) -> Path:
        """submitted/, or submitted/<student>/<assignment>/ (what was handed in; never modified)."""
        return _below(self.root / "submitted", student, assignment_id)

    def handed_in(self, assignment_id: str) -> list[str]:
        """The students with a folder submitted/STUDENT/ASSIGNMENT, sorted."""
        return sorted(p.parent.name for p in self.submitted().glob(f"*/{assignment_id}") if p.is_dir())

    def autograded(self, student: str | None = None, assignment_id: str | None = None) -> Path:
        """autograded/, or one student's graded assignment (feedback is made from here)."""
        return _below(self.root / "autograded", student, assignment_id)

    def feedback(self, student: str | None = None, assignment_id: str | None = None) -> Path:
        return _below(self.root / "feedback", student, assignment_id)

    def work(self, *parts: str) -> Path:
        return self.root.joinpath(self.WORK, *parts)

    def autograde_log(self, assignment_id: str) -> Path:
        """Every decision of `cnnlab autograde` on one assignment, one JSON line each (the report reads it)."""
        return self.work("logs", f"autograde-{assignment_id}.jsonl")

    def settings_files(self) -> list[str]:
        """The files that configure the course (relative names): a copy of the course needs them all."""
        extra = (self.data.get("late") or {}).get("extensions")
        return ["nbgrader_config.py", "course.yml"] + ([str(extra)] if extra else [])

    def collect_record(self, assignment_id: str) -> Path:
        """What `cnnlab collect` found of an assignment that the gradebook cannot hold
        (who handed in no notebook, whom the LMS marked late; lms/collect.py writes it)."""
        return self.work("collect", f"{assignment_id}.json")

    def collected(self, assignment_id: str) -> dict:
        """The collect record of an assignment ({} before any collect)."""
        return _read_record(self.collect_record(assignment_id))

    def export_record(self, assignment_id: str) -> Path:
        """The scores the last export wrote for an assignment (`cnnlab status` compares them)."""
        return self.work("exports", f"{assignment_id}.json")

    def exported(self, assignment_id: str) -> dict:
        """The export record of an assignment ({} before any export)."""
        return _read_record(self.export_record(assignment_id))

    def evidence(self, assignment_id: str, student: str) -> Path:
        """What a notebook's own checks printed where the verifier disagreed: for TAs only."""
        return self.work("evidence", assignment_id, f"{student}.json")

    def release_notebook(self, assignment_id: str, notebook: str) -> Path:
        return self.root / "release" / assignment_id / f"{notebook}.ipynb"

    def source_notebook(self, assignment_id: str, notebook: str) -> Path:
        return self.root / "source" / assignment_id / f"{notebook}.ipynb"

    def read_source(self, assignment_id: str, notebook: str) -> nbformat.NotebookNode:
        import nbformat

        return nbformat.read(self.source_notebook(assignment_id, notebook), as_version=4)

    def nbgrader_config(self, **overrides) -> Config:
        if self.db_url and "db_url" not in overrides:
            overrides["db_url"] = self.db_url
        return load_nbgrader_config(self.root, **overrides)


def _read_record(path: Path) -> dict:
    """A JSON record one command leaves for another; {} when there is none (or it is cut short)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _below(folder: Path, student: str | None, assignment_id: str | None) -> Path:
    return folder if student is None else folder / student if assignment_id is None else folder / student / assignment_id


def find_root(start: str | os.PathLike | None = None) -> Path:
    """The course folder: the nearest folder holding course.yml and nbgrader_config.py."""
    here = Path(start or os.getcwd()).resolve()
    for folder in [here, *here.parents]:
        if (folder / "course.yml").is_file() and (folder / "nbgrader_config.py").is_file():
            return folder
    raise CourseError(f"no course folder (course.yml + nbgrader_config.py) at or above {here}")


def load_course(root: str | os.PathLike | None = None, db_url: str | None = None) -> Course:
    root = find_root(root)
    with open(root / "course.yml", encoding="utf-8") as f:
        data = yaml.safe_load(f)
    return Course(root=root, data=data, db_url=db_url or None)


def load_nbgrader_config(folder: str | os.PathLike, **overrides) -> Config:
    """nbgrader_config.py of `folder`, with `CourseDirectory` overrides such as
    root= and db_url= applied on top (that is how copies of the course work)."""
    loader = PyFileConfigLoader("nbgrader_config.py", path=str(folder))
    cfg = loader.load_config()
    for key, value in overrides.items():
        cfg.CourseDirectory[key] = value
    return cfg


def select_students(everyone: list[str], wanted: list[str] | None, missing: str) -> list[str]:
    """`everyone`, or only the `wanted` of them; a wanted student who is not
    there is an error (`missing`: what they lack, e.g. 'no submission of 02_kernels')."""
    if not wanted:
        return everyone
    unknown = sorted(set(wanted) - set(everyone))
    if unknown:
        raise CourseError(f"{missing} for: {', '.join(unknown)}")
    return [s for s in everyone if s in wanted]
