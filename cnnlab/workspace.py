"""A throwaway copy of the course: its own folder and its own gradebook.

`cnnlab build` generates release/ and solutions/ in one, `cnnlab grade`
grades a single notebook in one, and the demo and the tests grade simulated
classes in one. Nothing of the real course is touched, and the copy grades
exactly as the course does: same nbgrader_config.py, same source/.
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
import threading
from pathlib import Path

import nbformat
from nbgrader.apps import NbGraderAPI
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.converters import GenerateSolution
from nbgrader.coursedir import CourseDirectory
from nbgrader.utils import capture_log, temp_attrs

from .course import Course, CourseError, load_nbgrader_config
from .nbtools import nbgrader_failure


def ensure_venv_on_path() -> None:
    """nbgrader shells out to `alembic` when it creates a gradebook: make the
    running interpreter's scripts folder (the venv's bin/) findable."""
    bindir = str(Path(sys.executable).parent)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")


def course_api(course: Course) -> NbGraderAPI:
    """nbgrader's API on the course itself (its gradebook, its folders)."""
    from .gradebook import locks_folder, prepare

    ensure_venv_on_path()
    cfg = course.nbgrader_config()
    cfg.Application.log_level = "WARNING"
    prepare(cfg.CourseDirectory.db_url, locks_folder(course.root), cfg.CourseDirectory.course_id)
    return NbGraderAPI(coursedir=CourseDirectory(config=cfg), config=cfg)


#: nbgrader's converters chdir into their course folder and back while they run; two at
#: once in one process (two autograde() runs registering their assignments) could leave
#: the process in a throwaway folder that is gone. A workspace runs one at a time.
_CONVERTING = threading.Lock()


def _name(preprocessor) -> str:
    """A preprocessor's class name, whether configured as a class or as its dotted path."""
    return preprocessor.rsplit(".", 1)[-1] if isinstance(preprocessor, str) else preprocessor.__name__


class Workspace:
    """`with Workspace(course) as ws:` a course copy under a temporary folder."""

    def __init__(self, course: Course, root: str | os.PathLike | None = None,
                 db_url: str | None = None):
        """root: where the copy lives (default: a temporary folder, removed on exit).
        db_url: a gradebook to use instead of the copy's own (registering an
        assignment in the real course writes only the gradebook that way)."""
        self.course = course
        self._tmp = None if root else tempfile.TemporaryDirectory(prefix="cnnlab-")
        self.root = Path(root or self._tmp.name)
        self.db_url = db_url or "sqlite:///" + str(self.root / "gradebook.db")
        #: the copy's folders, laid out as the course's are (course.py)
        self.layout = Course(root=self.root, data=course.data, db_url=self.db_url)
        self._api = None

    def __enter__(self) -> "Workspace":
        ensure_venv_on_path()
        self.root.mkdir(parents=True, exist_ok=True)
        for name in self.course.settings_files():
            if (self.course.root / name).is_file():  # a missing one is said by whoever reads it
                (self.root / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(self.course.root / name, self.root / name)
        return self

    def __exit__(self, *exc) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()

    # -- nbgrader plumbing -----------------------------------------------------
    @property
    def config(self):
        cfg = load_nbgrader_config(self.root, root=str(self.root), db_url=self.db_url)
        # Kernels on ipc sockets inside this copy: workspaces grading side by side (test
        # workers, a TA's `cnnlab grade` during a class run) cannot collide on TCP ports.
        cfg.KernelManager.transport = "ipc"
        cfg.KernelManager.ip = str(self.root / "kernel")
        return cfg

    @property
    def api(self) -> NbGraderAPI:
        if self._api is None:
            cfg = self.config
            cfg.Application.log_level = "WARNING"
            from .gradebook import locks_folder, prepare

            # made as every gradebook of ours is (the tables under a lock, without nbgrader's `alembic`
            # subprocess), not by nbgrader's first open
            prepare(self.db_url, locks_folder(self.root), cfg.CourseDirectory.course_id)
            self._api = NbGraderAPI(coursedir=CourseDirectory(config=cfg), config=cfg)
        return self._api

    @staticmethod
    def _check(result: dict, action: str) -> dict:
        if not result.get("success"):
            raise CourseError(f"{action} failed: {nbgrader_failure(result)}")
        return result

    # -- building ----------------------------------------------------------------
    def add_source(self, assignment_id: str) -> None:
        src = self.course.root / "source" / assignment_id
        if not src.is_dir():
            raise CourseError(f"source/{assignment_id} does not exist")
        dst = self.root / "source" / assignment_id
        if not dst.exists():
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))

    def generate_assignment(self, assignment_id: str) -> Path:
        """source/A → release/A, and A with its cells' checksums into the gradebook."""
        self.add_source(assignment_id)
        with _CONVERTING:
            self._check(self.api.generate_assignment(assignment_id, force=True),
                        f"generate_assignment {assignment_id}")
        return self.root / "release" / assignment_id

    def generate_solution(self, assignment_id: str, execute: bool = True) -> Path:
        """source/A → solutions/A; with execute=False, without the Execute step nbgrader_config.py
        ends with (for comparing sources and metadata, which is all the freshness check reads)."""
        self.add_source(assignment_id)
        api = self.api
        with temp_attrs(api.coursedir, assignment_id=assignment_id):
            app = GenerateSolution(coursedir=api.coursedir, parent=api)
            app.force = True
            if not execute:
                app.preprocessors = [p for p in app.preprocessors if _name(p) != "Execute"]
            with _CONVERTING:
                self._check(capture_log(app), f"generate_solution {assignment_id}")
        return self.root / "solutions" / assignment_id

    def release_notebook(self, assignment_id: str, notebook: str):
        path = self.root / "release" / assignment_id / f"{notebook}.ipynb"
        if not path.exists():
            self.generate_assignment(assignment_id)
        return nbformat.read(path, as_version=4)

    # -- grading -----------------------------------------------------------------
    def submit(self, student: str, assignment_id: str, notebooks: dict[str, object]) -> Path:
        """Place a submission: {file name without .ipynb: notebook or raw bytes}."""
        folder = self.layout.submitted(student, assignment_id)
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        for name, nb in notebooks.items():
            target = folder / f"{name}.ipynb"
            if isinstance(nb, (bytes, bytearray)):
                target.write_bytes(nb)
            else:
                nbformat.write(nb, str(target))
        return folder

    def autograde(self, assignment_id: str, student: str) -> dict:
        with _CONVERTING:
            return self.api.autograde(assignment_id, student, force=True, create=True)

    def grades(self, assignment_id: str, student: str) -> dict[str, dict[str, tuple[float, float]]]:
        """{notebook: {grade_id: (score, max_score)}} from the gradebook."""
        with Gradebook(self.db_url, self.api.coursedir.course_id) as gb:
            try:
                submission = gb.find_submission(assignment_id, student)
            except MissingEntry:
                return {}
            return {nb.name: {g.name: (float(g.score), float(g.max_score)) for g in nb.grades}
                    for nb in submission.notebooks}

    def autograded_notebook(self, assignment_id: str, student: str, notebook: str):
        path = self.layout.autograded(student, assignment_id) / f"{notebook}.ipynb"
        return nbformat.read(path, as_version=4) if path.exists() else None
