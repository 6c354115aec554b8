"""source/ → otter's own layout: write the master notebook, run `otter assign`.

`otter assign` runs offline here: the master notebook and what the
autograder needs (requirements.txt, the `cnnlab.checks` runtime) are staged
in a scratch folder, otter writes `student/` and `autograder/` (with the zip
Gradescope takes), and, because the config says `run_tests: true`, grades
the instructor's answers with the tests it just wrote before it finishes.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import nbformat

from ..course import Course, CourseError
from .master import RUNTIME_FILES, MasterError, Question, master_notebook

#: The course's Python (pyproject requires 3.11) and what the notebooks import.
PYTHON_VERSION = "3.11"
REQUIREMENTS = ("numpy", "matplotlib", "pillow")


@dataclass
class OtterBuild:
    assignment: str
    notebook: str
    out: Path
    questions: list[Question]

    @property
    def student_notebook(self) -> Path:
        return self.out / "student" / f"{self.notebook}.ipynb"

    @property
    def autograder_notebook(self) -> Path:
        return self.out / "autograder" / f"{self.notebook}.ipynb"

    @property
    def autograder_zip(self) -> Path:
        zips = sorted((self.out / "autograder").glob("*.zip"))
        if not zips:
            raise CourseError(f"otter assign wrote no autograder zip in {self.out / 'autograder'}")
        return zips[-1]

    @property
    def points(self) -> float:
        return sum(q.points for q in self.questions)


def pinned_requirements() -> str:
    """The autograder's requirements, pinned to what this course is tested with."""
    from importlib.metadata import version

    return "".join(f"{name}=={version(name)}\n" for name in REQUIREMENTS)


def _runtime_root() -> Path:
    import cnnlab

    return Path(cnnlab.__file__).resolve().parent.parent


def stage(course: Course, assignment_id: str, folder: Path) -> tuple[str, list[Question], Path]:
    """Write the master notebook and its support files into `folder`."""
    assignment = course.assignment(assignment_id)
    if len(assignment.notebooks) != 1:
        raise CourseError(f"{assignment_id}: otter takes one notebook per assignment, "
                          f"this one has {len(assignment.notebooks)}")
    notebook = assignment.notebooks[0]
    try:
        master, questions = master_notebook(course.read_source(assignment_id, notebook), assignment_id,
                                            PYTHON_VERSION)
    except MasterError as exc:
        raise CourseError(str(exc)) from None
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{notebook}.ipynb"
    nbformat.write(master, str(path))
    (folder / "requirements.txt").write_text(pinned_requirements(), encoding="utf-8")
    for rel in RUNTIME_FILES:
        target = folder / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(_runtime_root() / rel, target)
    return notebook, questions, path


def build_otter(course: Course, assignment_id: str, out: Path) -> OtterBuild:
    """Run `otter assign` for one assignment; `out` ends up holding otter's
    `student/` and `autograder/` folders (replaced if they were there)."""
    out = Path(out).resolve()
    with tempfile.TemporaryDirectory(prefix="cnnlab-otter-") as tmp:
        notebook, questions, master = stage(course, assignment_id, Path(tmp) / "master")
        result = Path(tmp) / "dist"
        proc = subprocess.run([sys.executable, "-m", "otter", "assign", "-v", str(master), str(result)],
                              cwd=master.parent, capture_output=True, text=True)
        if proc.returncode != 0 or not (result / "autograder").is_dir():
            lines = [ln for ln in (proc.stderr + proc.stdout).strip().splitlines() if ln.strip()]
            raise CourseError(f"otter assign failed for {assignment_id}: "
                              f"{lines[-1] if lines else 'no output'}")
        for name in ("student", "autograder"):
            if (out / name).exists():
                shutil.rmtree(out / name)
        out.mkdir(parents=True, exist_ok=True)
        for name in ("student", "autograder"):
            shutil.copytree(result / name, out / name)
    return OtterBuild(assignment_id, notebook, out, questions)


@dataclass
class OtterFailure:
    assignment: str
    reason: str


def build_otter_versions(course: Course, assignment_ids: list[str], workers: int | None = None,
                         on_done=None) -> list["OtterBuild | OtterFailure"]:
    """`build_otter` for several assignments at once, each into `default_dist`, in the order
    given. Each runs `otter assign` in a process of its own (so threads suffice); one that
    fails is an OtterFailure with its one-line reason, and the others are built anyway.
    `on_done(result)` is called as each finishes (a progress bar)."""
    import os
    from concurrent.futures import ThreadPoolExecutor

    def one(a: str):
        try:
            result = build_otter(course, a, default_dist(course, a))
        except CourseError as exc:
            result = OtterFailure(a, str(exc))
        except Exception as exc:  # noqa: BLE001 - a bug of ours or otter's: this assignment only
            result = OtterFailure(a, f"{type(exc).__name__}: {exc}"[:300])
        if on_done is not None:
            on_done(result)
        return result

    with ThreadPoolExecutor(max_workers=max(1, workers or os.cpu_count() or 1)) as pool:
        return list(pool.map(one, assignment_ids))


def default_dist(course: Course, assignment_id: str) -> Path:
    """Where `cnnlab build` and `cnnlab otter` put an assignment's otter version (git-ignored:
    otter's zip carries timestamps, so it is rebuilt rather than committed)."""
    return course.root / "dist" / "otter" / assignment_id


def load_build(course: Course, assignment_id: str, out: Path) -> OtterBuild:
    """An otter version built earlier, checked against what source/ asks today."""
    import zipfile

    notebook = course.assignment(assignment_id).notebooks[0]
    try:
        _, questions = master_notebook(course.read_source(assignment_id, notebook), assignment_id,
                                       PYTHON_VERSION)
    except MasterError as exc:
        raise CourseError(str(exc)) from None
    build = OtterBuild(assignment_id, notebook, Path(out).resolve(), questions)
    if not (build.out / "autograder").is_dir():
        raise CourseError(f"no otter version of {assignment_id} in {out}: run `cnnlab otter {assignment_id}`")
    with zipfile.ZipFile(build.autograder_zip) as zf:
        tests = {Path(n).stem for n in zf.namelist() if n.startswith("tests/") and n.endswith(".py")}
    if tests != {q.name for q in questions}:
        raise CourseError(f"{out} is older than source/{assignment_id}: run `cnnlab otter {assignment_id}` again")
    return build
