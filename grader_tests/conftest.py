"""Shared fixtures: the course, copies of it, and the in-process judgement of
simulated students (judgement.py)."""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from cnnlab.course import load_course
from cnnlab.simulate import submissions
from cnnlab.workspace import Workspace, ensure_venv_on_path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

ensure_venv_on_path()


@pytest.fixture(scope="session")
def course():
    return load_course(ROOT)


def assignment_ids():
    return [a.id for a in load_course(ROOT).assignments]


class GradedClass:
    """A simulated class of one assignment, graded by plain `nbgrader autograde`
    (one app and one unsandboxed kernel per notebook): the instructor, a blank
    notebook, and one student per given variant."""

    def __init__(self, course, assignment_id, variants):
        self.assignment_id = assignment_id
        self.variants = list(variants)
        self.grades: dict[str, dict[str, tuple[float, float]]] = {}
        with Workspace(course) as ws:
            ws.generate_assignment(assignment_id)
            for student, notebooks in submissions(course, ws, assignment_id, self.variants).items():
                if not notebooks:
                    continue
                ws.submit(student, assignment_id, notebooks)
                ws.autograde(assignment_id, student)
                per_nb = ws.grades(assignment_id, student)
                self.grades[student] = {gid: sg for nb in per_nb.values() for gid, sg in nb.items()}

    def student_of(self, variant) -> str:
        return f"variant{self.variants.index(variant):02d}"


class CachedJudge:
    """judgement.Judge of one assignment, remembering each variant's scores (the
    catalogue, otter and recorded-path tests ask for the same variants)."""

    def __init__(self, course, assignment_id):
        from judgement import Judge

        self.judge = Judge(course, assignment_id)
        self.memo: dict = {}

    def scores(self, answers: dict | None = None, blank: bool = False) -> dict:
        key = (blank, tuple(sorted((answers or {}).items())))
        if key not in self.memo:
            self.memo[key] = self.judge.scores(answers, blank=blank)
        return self.memo[key]


_judges: dict[str, CachedJudge] = {}


@pytest.fixture(scope="session")
def judge(course):
    """judge(assignment_id).scores(answers): a variant's verified and in-notebook scores, without a kernel."""
    def get(assignment_id: str) -> CachedJudge:
        if assignment_id not in _judges:
            _judges[assignment_id] = CachedJudge(course, assignment_id)
        return _judges[assignment_id]
    return get


def copy_course(course, root: Path, files=("nbgrader_config.py", "course.yml"),
                folders=("source", "release")):
    """A fresh clone's worth of the course in `root`: by default config, course.yml,
    source/ and release/ (what a TA's clone has before anything is graded)."""
    root.mkdir(parents=True)
    for name in files:
        shutil.copy2(course.root / name, root / name)
    for folder in folders:
        shutil.copytree(course.root / folder, root / folder)
    return load_course(root)


@pytest.fixture
def course_copy(tmp_path, course):
    return copy_course(course, tmp_path / "course")


def course_with_timeout(course, root: Path, seconds: int = 5):
    """A copy of the course whose cells time out after `seconds` (classes with infinite loops)."""
    copy = copy_course(course, root)
    with open(root / "nbgrader_config.py", "a") as f:
        f.write(f"\nc.Execute.timeout = {seconds}\n")
    return copy


def cnnlab_cmd(*args: str) -> list[str]:
    return [str(BIN / "cnnlab"), *args]


def run_env() -> dict:
    env = dict(os.environ)
    env["PATH"] = str(BIN) + os.pathsep + env.get("PATH", "")
    return env
