"""The canary: before a class is graded, the instructor's own answers are.

A sandbox that cannot import the probe, a worker whose cnnlab is another
version, a package installed where the sandbox cannot read it: each made every
submission, the instructor's answers included, "graded" with 0 points, and the
run exited 0. So before the first submission of a run, the instructor's
answers (source/'s solution cells in the release notebook, as a student hands
them in) are graded through the same sandbox, runner and verifier, in a
throwaway copy of the course with its own gradebook: nothing is recorded. Less
than full marks stops the run in one line, before anything is graded. On a
Dask cluster the canary runs before any job on each distinct place a worker
offers (workers on one host with one interpreter and package share one), and a
worker that joins mid-run is vetted the same way before it takes a job
(`DaskRunner.admit`): one that cannot sandbox or fails the canary is never sent
a submission, and the run's summary names it.

The canary runs beside the drawing of the lesson figures rather than after it:
its kernel runs as a submission's does (those cells' images off, the figure-only
ones unrun), only the reference images are not pasted into its notebook, which
is thrown away, and no score reads a figure (`GradingRun.lesson_figures`).

A canary that passed is remembered under a key of everything its outcome
depends on: the assignment's files (source/, release/), its course.yml entry
and nbgrader_config.py, the sandbox setting, and where notebooks run (host, interpreter,
venv, the cnnlab package's files and where they live, the editable-install
records that say which cnnlab the kernel imports). Where the course folder is
does not matter (the sandbox never sees it), so copies of one course share it.
The record lives in the user's cache folder (`CNNLAB_CACHE`, default
~/.cache/cnnlab/canary/).
"""
from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from pathlib import Path

import nbformat

from ..course import Course, CourseError, load_course
from ..nbtools import fill_answers, instructor_answers
from .records import environment, hash_files, record_path, remember

STUDENT = "instructor-canary"


class CanaryFailed(CourseError):
    """The instructor's answers do not get full marks where the class would be graded."""


def course_state(course: Course, assignment_id: str, sandbox: bool) -> str:
    """What of the course decides the canary's outcome: the assignment's files, its entry in
    course.yml (its notebooks) and nbgrader_config.py. LMS, late and override settings do not
    (the canary hands in no time and has no overrides), so changing them costs no canary."""
    entry = {k: v for k, v in next((a for a in course.data.get("assignments", []) if a.get("id") == assignment_id),
                                   {}).items() if k != "due"}  # the canary hands in no time
    digest = hashlib.sha256(f"{assignment_id}\0sandbox={sandbox}\0{json.dumps(entry, sort_keys=True, default=str)}"
                            .encode())
    digest.update((course.root / "nbgrader_config.py").read_bytes())
    for folder in ("source", "release"):
        hash_files(digest, course.root / folder / assignment_id)
    return digest.hexdigest()


def instructor_submission(course: Course, assignment_id: str) -> dict[str, object]:
    """{notebook: the release notebook with source/'s answers}: what the canary hands in."""
    out = {}
    for nb in course.assignment(assignment_id).notebooks:
        release = nbformat.read(course.release_notebook(assignment_id, nb), as_version=4)
        out[nb] = fill_answers(release, instructor_answers(course.read_source(assignment_id, nb)))
    return out


def _registered_copy(course: Course, ws, assignment_id: str) -> None:
    """The copy's gradebook with the assignment registered: a snapshot of the course's own SQLite
    gradebook (autograde registered it a moment ago; a second or two less than nbgrader's
    generate_assignment into a new one), or, for a server database, a registration of its own."""
    url = course.nbgrader_config().CourseDirectory.db_url
    path = Path(url[len("sqlite:///"):]) if url.startswith("sqlite:///") else None
    if path is None or not path.is_file():
        ws.generate_assignment(assignment_id)
        return
    source, copy = sqlite3.connect(f"file:{path}?mode=ro", uri=True), sqlite3.connect(ws.root / "gradebook.db")
    try:
        source.backup(copy)  # consistent even while another TA's run writes to it
    finally:
        source.close()
        copy.close()
    for folder in ("source", "release"):
        shutil.copytree(course.root / folder / assignment_id, ws.root / folder / assignment_id,
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints"))


def _grade_once(course: Course, assignment_id: str, make_grader, runner, where: str) -> None:
    from ..items.status import notebook_results
    from ..workspace import Workspace

    with Workspace(course) as ws:
        _registered_copy(course, ws, assignment_id)
        ws.submit(STUDENT, assignment_id, instructor_submission(course, assignment_id))
        # the copy's own gradebook, whatever CNNLAB_DB names: the canary records nothing of the course's
        grader = make_grader(load_course(ws.root, db_url=ws.db_url), runner)
        try:
            grader.expect(1)
            result = grader.grade(STUDENT)
            lost = []  # (item, what it said) for every autograded item short of its points
            for nb, grades in ws.grades(assignment_id, STUDENT).items():
                verified = grader.run.key(assignment_id, nb).items
                tests = notebook_results(ws.autograded_notebook(assignment_id, STUDENT, nb), grades)
                lost += [(t.grade_id, t.message) for t in tests if t.grade_id in verified and t.score < t.max_score]
        finally:
            grader.close()
    if result.status == "graded" and not lost:
        return
    why = result.reason or (f"{lost[0][0]}: {lost[0][1]}" if lost else "; ".join(result.problems)) or "no reason given"
    raise CanaryFailed(
        f"{assignment_id}: the instructor's own answers scored {result.score:g} of {result.max_score:g} "
        f"{where} ({why[:200]}); nothing was graded. Is the cnnlab package this course runs installed where "
        f"the sandbox can read it (`pip install -e .` in this course's folder)?")


def _place_key(state: str, env: str) -> str:
    return hashlib.sha256(f"{state}\0{env}".encode()).hexdigest()


def _canary_at(course: Course, assignment_id: str, make_grader, state: str, env: str, runner, where: str) -> bool:
    """The canary in one place unless a record says this state passed there; whether it ran."""
    key = _place_key(state, env)
    if record_path("canary", key).is_file():
        return False
    _grade_once(course, assignment_id, make_grader, runner, where)
    remember("canary", key, {"assignment": assignment_id, "where": where})
    return True


def _vetter(course: Course, assignment_id: str, sandbox: bool, runner, make_grader, state: str):
    """vet(addr) for a worker that joins mid-run: '' when it may grade, else why not."""
    from .workers import _first_line, worker_check

    def vet(addr: str) -> str:
        try:
            why = runner.client.run(worker_check, workers=[addr]).get(addr, "it left") if sandbox else ""
            if why:
                return f"it cannot sandbox: {why}"
            _canary_at(course, assignment_id, make_grader, state, runner.client.run(environment, workers=[addr])[addr],
                       runner.pinned(addr), f"on the Dask worker {addr}")
            return ""
        except CanaryFailed as exc:
            return str(exc)
        except Exception as exc:  # noqa: BLE001 - a worker we cannot check does not grade
            return f"it could not be checked: {_first_line(exc)}"
    return vet


def check(course: Course, assignment_id: str, sandbox: bool, runner, make_grader) -> int:
    """Grade the instructor's answers wherever this run's notebooks execute, unless
    a record says the same state passed; returns how many canaries ran.
    make_grader(course copy, runner): the run's kind of ClassGrader on the copy (pipeline.py
    passes it, so this module needs nothing of the pipeline's)."""
    from .workers import DaskRunner

    if isinstance(runner, DaskRunner):
        places = {addr: (f"on the Dask worker {addr}", runner.pinned(addr), env)
                  for addr, env in runner.client.run(environment).items()}
    else:
        places = {"": ("in the grading sandbox" if sandbox else "without a sandbox", runner, environment())}
    state = course_state(course, assignment_id, sandbox)
    ran = sum(_canary_at(course, assignment_id, make_grader, state, env, pinned, where)
              for where, pinned, env in places.values())
    if isinstance(runner, DaskRunner):  # from now on only these, and newcomers that pass the same checks
        runner.admit(places, _vetter(course, assignment_id, sandbox, runner, make_grader, state))
    return ran
