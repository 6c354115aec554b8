"""Shared fixtures: the course, copies of it, and the in-process judgement of
simulated students (judgement.py)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cnnlab.course import load_course
from cnnlab.otter import load_build
from cnnlab.simulate import submissions
from cnnlab.workspace import Workspace, ensure_venv_on_path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

ensure_venv_on_path()


@pytest.fixture(scope="session")
def course():
    return load_course(ROOT)


@pytest.fixture(scope="session", autouse=True)
def canary_records(tmp_path_factory):
    """The canary's records (cnnlab/grading/canary.py) of this test run, shared by its
    xdist workers: never the user's own cache, and each state's canary runs once per run."""
    base = tmp_path_factory.getbasetemp()
    folder = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "canary-records"
    os.environ["CNNLAB_CACHE"] = str(folder)
    yield folder


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
    """judgement.Judge of one assignment (with otter's tests of its build), remembering
    each variant's scores (the catalogue and recorded-path tests ask for the same variants)."""

    def __init__(self, course, assignment_id, built, tmp: Path):
        from judgement import Judge, OtterTests

        self.judge = Judge(course, assignment_id, OtterTests(built, tmp))
        self.memo: dict = {}

    def scores(self, answers: dict | None = None, blank: bool = False) -> dict:
        key = (blank, tuple(sorted((answers or {}).items())))
        if key not in self.memo:
            self.memo[key] = self.judge.scores(answers, blank=blank)
        return self.memo[key]


_judges: dict[str, CachedJudge] = {}


@pytest.fixture(scope="session")
def judge(course, otter_version, tmp_path_factory):
    """judge(assignment_id).scores(answers): a variant's verified, otter and in-notebook
    scores, without a kernel."""
    def get(assignment_id: str) -> CachedJudge:
        if assignment_id not in _judges:
            _judges[assignment_id] = CachedJudge(course, assignment_id, otter_version(assignment_id),
                                                 tmp_path_factory.mktemp(f"otter-tests-{assignment_id}"))
        return _judges[assignment_id]
    return get


#: `cnnlab otter A` builds, once per assignment and test worker
_built: dict = {}


def _offline() -> list[str]:
    """A prefix that runs a command with no network but loopback (root, util-linux, iproute2)."""
    if os.geteuid() == 0 and shutil.which("unshare") and shutil.which("ip"):
        return ["unshare", "--net", "sh", "-c", 'ip link set lo up && exec "$@"', "offline"]
    return []


@pytest.fixture(scope="session")
def otter_version(course, tmp_path_factory):
    """`cnnlab otter A` once per assignment and test worker, run offline
    (a network namespace with only loopback) where this machine allows it."""
    def get(assignment_id):
        if assignment_id not in _built:
            out = tmp_path_factory.mktemp(f"otter-{assignment_id}")
            proc = subprocess.run(_offline() + cnnlab_cmd("--course", str(ROOT), "otter", assignment_id,
                                                          "--out", str(out)),
                                  capture_output=True, text=True, env=run_env(), timeout=600)
            assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
            assert "the instructor's answers pass every test" in proc.stdout
            _built[assignment_id] = load_build(course, assignment_id, out)
        return _built[assignment_id]
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
