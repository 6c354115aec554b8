"""`cnnlab autograde`: a class, graded in parallel, sandboxed, resumable.

For each submission, in a worker thread:

    intake (trusted)          submitted/<s>/A → .cnnlab/intake/<s>/A, repaired (intake.py)
    nbgrader Autograde        sanitize from the gradebook (OverwriteCells & co, trusted)
      └ SandboxedExecute      the notebook runs in bubblewrap (untrusted, parallel; kernel.py)
      └ VerifyScores          the verifier's score in each test cell (trusted; verify.py)
      └ SaveAutoGrades & co   scores into the gradebook (trusted), RecordOutcome last
    publish (trusted)         .cnnlab/staging/<s>/A → autograded/<s>/A in one rename

Before the first submission, the canary (canary.py) grades the instructor's
answers the same way, in a throwaway copy: less than full marks stops the run.

Each ClassGrader owns one grading run (run.py): the runner notebooks execute
on, the coordinator lock, the answer keys, and the findings of each notebook,
which reach nbgrader's preprocessors through their resources and come back to
`ClassGrader._grade` as values. Every trusted step that touches shared state
holds the run's coordinator lock, so the gradebook has one writer at a time
in this run; intake and sandboxed execution overlap, in this process or on a
Dask cluster's workers (`--scheduler`, workers.py). Across
processes (several TAs, on a shared PostgreSQL gradebook), a submission is
graded under a lock of its own (gradebook.exclusive), and whoever gets it
second finds it done and skips it. A submission is done when its autograded
folder holds `.cnnlab.json` with the fingerprint of what was handed in: a
killed run leaves no such folder (staging is thrown away), and the rerun
grades what is missing or changed.
"""
from __future__ import annotations

import glob
import json
import os
import shutil
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat
from nbconvert.preprocessors import ClearMetadataPreprocessor
from nbconvert.writers import FilesWriter
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.converters import Autograde
from nbgrader.converters.base import BaseConverter
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import (AssignLatePenalties, ClearOutput, DeduplicateIds, IgnorePattern, LimitOutput,
                                    OverwriteCells, OverwriteKernelspec, SaveAutoGrades)
from nbgrader.utils import capture_log
from tqdm import tqdm

from .. import gradebook
from . import canary
from ..course import Course, CourseError, select_students
from ..nbtools import grade_id, nbgrader_failure
from ..sheets import final_score
from .execute import RecordOutcome, SandboxedExecute, course_files
from .intake import Intake, fingerprint, graded_cells_elsewhere, take_in
from .metadata import CheckCellMetadataCompiled
from .late import apply_due_date, describe, extension_of, late_policy
from .overrides import override_policy, settle_overrides
from .run import GradingRun
from .sandbox import check_available
from ..items.key import AnswerKeyError
from .verify import VerifyScores
from .workers import ClusterLost, DaskRunner, connect

MARKER = ".cnnlab.json"


@dataclass
class SubmissionResult:
    student: str
    status: str                 # graded | broken | skipped | error
    score: float = 0.0
    max_score: float = 0.0
    problems: list[str] = field(default_factory=list)
    repairs: list[str] = field(default_factory=list)
    dropped_files: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)     # what verification found (verify.py, tamper.py)
    timeouts: int = 0
    kernel_died: bool = False
    reason: str = ""
    seconds: float = 0.0
    #: a TA's manual scores met by a changed submission: "kept" or "cleared", per item (overrides.py)
    overrides: list[str] = field(default_factory=list)
    not_attempted: bool = False  # every answer cell as the release has it
    late: str = ""              # e.g. "late by 1 d 2 h (-20% of the score)" (late.py; '' when on time)
    late_seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status in ("graded", "broken", "skipped")


@dataclass
class AutogradeSummary:
    assignment: str
    registered: bool = False
    sandboxed: bool = True
    workers: int = 1
    scheduler: str = ""          # the Dask scheduler the notebooks ran on ('' = this machine)
    seconds: float = 0.0
    coordinator_seconds: float = 0.0   # of them, the trusted steps' (one at a time, whatever the workers)
    canaries: int = 0                  # instructor's-answers checks run before grading (canary.py; 0: remembered)
    workers_refused: dict[str, str] = field(default_factory=dict)  # Dask workers that joined and failed the checks
    results: list[SubmissionResult] = field(default_factory=list)
    log: str = ""

    @property
    def failed(self) -> list[SubmissionResult]:
        return [r for r in self.results if not r.ok]

    def counts(self) -> dict[str, int]:
        done = [r for r in self.results if r.status != "skipped"]
        return {
            "graded": sum(r.status == "graded" for r in done),
            "zero_broken": sum(r.status == "broken" for r in done),
            "with_problems": sum(bool(r.problems) for r in done),
            # repaired, handed in with files that were left out, or caught by the verifier: worth a TA's look
            "flagged": sum(bool(r.repairs or r.dropped_files or r.flags) for r in done),
            "verifier_disagreed": sum(any("the verifier" in f for f in r.flags) for r in done),
            "timeouts": sum(r.timeouts > 0 for r in done),
            "late": sum(r.late_seconds > 0 for r in done),
            "overrides_kept": sum(any(o.startswith("kept") for o in r.overrides) for r in done),
            "overrides_cleared": sum(any(o.startswith("cleared") for o in r.overrides) for r in done),
            "kernel_deaths": sum(r.kernel_died for r in done),
            "not_graded": sum(not r.ok for r in done),
            "skipped": len(self.results) - len(done),
        }

    def as_dict(self) -> dict:
        return {"assignment": self.assignment, "registered": self.registered, "sandboxed": self.sandboxed,
                "workers": self.workers, "scheduler": self.scheduler, "seconds": round(self.seconds, 2),
                "coordinator_seconds": round(self.coordinator_seconds, 2), "canaries": self.canaries,
                "workers_refused": self.workers_refused, "counts": self.counts(),
                "log": self.log, "results": [asdict(r) for r in self.results]}


def _read_marker(folder: Path) -> dict:
    try:
        return json.loads((folder / MARKER).read_text())
    except (OSError, ValueError):
        return {}


def _replace_dir(staged: Path, final: Path) -> None:
    """Put `staged` at `final` with renames only: a kill leaves either the old or the new."""
    final.parent.mkdir(parents=True, exist_ok=True)
    trash = final.parent / f".{final.name}.old-{os.getpid()}"
    if final.exists():
        os.replace(final, trash)
    os.replace(staged, final)
    shutil.rmtree(trash, ignore_errors=True)


class RunAutograde(Autograde):
    """nbgrader's Autograde as one grading run's converter: every notebook's
    resources carry the run (`resources["cnnlab"]["run"]`, run.py), which is how
    SandboxedExecute, VerifyScores and RecordOutcome reach its runner, lock,
    answer keys and findings.

    It also drops nbgrader's process-wide NBGRADER_EXECUTION toggle:
    nbgrader.utils.setenv (0.9.6) saves the previous value under the wrong key
    and deletes the variable on exit, which raises KeyError as soon as two runs
    overlap in threads. The variable only ever told student code it was being
    graded, and the sandbox clears the environment anyway.
    """

    def __init__(self, grading_run: GradingRun, **kwargs):
        super().__init__(**kwargs)
        self.grading_run = grading_run

    def init_single_notebook_resources(self, notebook_filename: str) -> dict:
        resources = super().init_single_notebook_resources(notebook_filename)
        resources["cnnlab"] = {"run": self.grading_run}
        return resources

    def start(self) -> None:
        """BaseConverter.start without its chdir into the course folder and back:
        every path here is absolute, and with several runs (or throwaway
        workspaces) in one process, another thread's chdir could leave this one
        in a folder that is gone."""
        self.init_notebooks()
        self.writer = FilesWriter(parent=self, config=self.config)
        self.exporter = self.exporter_class(parent=self, config=self.config)
        for pp in self.preprocessors:
            self.exporter.register_preprocessor(pp)
        self.convert_notebooks()

    def convert_single_notebook(self, notebook_filename: str) -> None:
        self._sanitizing = True
        self._init_preprocessors()
        BaseConverter.convert_single_notebook(self, notebook_filename)
        notebook_filename = os.path.join(self.writer.build_directory, os.path.basename(notebook_filename))
        self._sanitizing = False
        self._init_preprocessors()
        try:
            BaseConverter.convert_single_notebook(self, notebook_filename)
        finally:
            self._sanitizing = True


class ClassGrader:
    """Grades the submissions of one assignment of one course."""

    def __init__(self, course: Course, assignment_id: str, sandbox: bool = True, scheduler: str = "",
                 runner=None, figures: dict | None = None):
        """runner: where notebooks execute (default: a new one for `scheduler`, workers.connect,
        closed with this grader); the canary lends the class's, or one pinned to a Dask worker.
        figures: the class run's lesson figures, shared with the canary's (run.GradingRun), which
        does not wait for them: it runs while they are drawn."""
        self.course = course
        self.assignment = course.assignment(assignment_id)
        self.sandbox = sandbox
        self.scheduler = scheduler  # '' runs notebooks here; else a Dask scheduler's address
        self.root = course.root
        base = course.nbgrader_config()
        self.course_id = base.CourseDirectory.get("course_id", "")
        self.db_url = base.CourseDirectory.get("db_url") or f"sqlite:///{self.root / 'gradebook.db'}"
        self.timeout = int(base.Execute.get("timeout", 30))
        self.override_policy = override_policy(course)
        self.late_policy = late_policy(course)
        self.late_marks = set(course.collected(assignment_id).get("late_marks", []))
        #: this grader's run: its runner (a Dask client when `scheduler`), lock, keys, findings
        self.run = GradingRun(self.root, self.db_url, runner or connect(scheduler), figures=figures,
                              owns_runner=runner is None)
        self.release = {}
        for nb in self.assignment.notebooks:  # the template intake repairs submissions against
            path = course.release_notebook(assignment_id, nb)
            if not path.is_file():
                raise CourseError(f"release/{assignment_id}/{nb}.ipynb is missing: run `cnnlab build`")
            self.release[nb] = nbformat.read(path, as_version=4)
        #: the graded cells of every other assignment: a notebook handed in for the wrong one is named
        self.elsewhere = graded_cells_elsewhere(course, assignment_id)

    def _config(self):
        cfg = self.course.nbgrader_config()
        cfg.CourseDirectory.submitted_directory = f"{Course.WORK}/intake"
        cfg.CourseDirectory.autograded_directory = f"{Course.WORK}/staging"
        # nbgrader's two passes, with its CheckCellMetadata's schema compiled once (metadata.py)
        cfg.Autograde.sanitize_preprocessors = [ClearOutput, DeduplicateIds, OverwriteKernelspec, OverwriteCells,
                                                CheckCellMetadataCompiled]
        cfg.Autograde.autograde_preprocessors = [SandboxedExecute, IgnorePattern, ClearMetadataPreprocessor,
                                                 LimitOutput, VerifyScores, SaveAutoGrades,
                                                 AssignLatePenalties, CheckCellMetadataCompiled, RecordOutcome]
        # nbconvert validates the whole notebook after each of the 14 preprocessors of the two
        # passes; once after each pass catches the same invalid notebook (nbformat has repaired
        # cell ids on reading it): 13 ms of the coordinator's CPU per submission here
        cfg.Exporter.optimistic_validation = True
        cfg.SandboxedExecute.timeout = self.timeout
        cfg.SandboxedExecute.sandbox = self.sandbox
        cfg.Application.log_level = "WARNING"
        return cfg

    def expect(self, submissions: int) -> None:
        """`submissions` are about to be graded here: their sandboxed kernels start now, and no
        more than they need (pool.py), so the run's end wastes none."""
        if self.sandbox:
            self.run.runner.expect(submissions * len(self.assignment.notebooks))

    def draw_figures_ahead(self) -> None:
        """Start drawing the release's lesson figures (figures.py) while the run prepares (canary,
        first intakes), with the settings and course files a submission's execute step uses."""
        execute = SandboxedExecute(config=self._config())
        if execute.draw_once:
            files = course_files(self.root / "source" / self.assignment.id)
            self.run.draw_ahead(self.assignment.id, self.assignment.notebooks, files, execute.settings())

    def check_answer_keys(self) -> None:
        """Before any submission: the verifier can score every item the gradebook grades."""
        for nb in self.assignment.notebooks:
            try:
                self.run.key(self.assignment.id, nb)
            except AnswerKeyError as exc:
                raise CourseError(str(exc)) from None

    def _keep_evidence(self, student: str, evidence: dict) -> None:
        """What the notebook's own checks printed where the verifier disagreed: for
        TAs only, so outside autograded/ (feedback is made from there), under .cnnlab/evidence/."""
        path = self.course.evidence(self.assignment.id, student)
        if evidence:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(evidence, indent=1, ensure_ascii=False), encoding="utf-8")
        elif path.exists():
            path.unlink()

    def is_done(self, student: str) -> bool:
        final = self.course.autograded(student, self.assignment.id)
        marker = _read_marker(final)
        if not marker:
            return False
        return marker.get("fingerprint") == fingerprint(self.course.submitted(student, self.assignment.id))

    def _zero(self, student: str) -> None:
        """A submission with no gradable notebook: recorded with every grade 0."""
        with Gradebook(self.db_url, self.course_id) as gb:
            gb.update_or_create_student(student)
            sub = gb.update_or_create_submission(self.assignment.id, student)
            for nb in sub.notebooks:
                for grade in nb.grades:
                    grade.auto_score = 0
                    grade.needs_manual_grade = False
            gb.db.commit()

    def _set_extension(self, student: str) -> None:
        """The student's extension (course.yml late.extensions) where nbgrader reads it:
        on the submission, before nbgrader's autograde works out how late it is."""
        extension = extension_of(self.late_policy, self.assignment.id, student)
        with Gradebook(self.db_url, self.course_id) as gb:
            try:
                sub = gb.find_submission(self.assignment.id, student)
            except MissingEntry:
                if extension is None:
                    return
                gb.update_or_create_student(student)
                sub = gb.update_or_create_submission(self.assignment.id, student)
            sub.extension = extension
            gb.db.commit()

    def _settle(self, student: str, result: "SubmissionResult", intake_dir: Path, changed: bool) -> None:
        """After nbgrader has recorded the submission, in one gradebook session: the TA's
        overrides met by a changed submission (overrides.py), the lateness nbgrader worked out,
        nbgrader's own 'Flagged?' from our flags (so formgrader's triage filter finds them; a
        TA's own flag is never cleared), and the score as recorded."""
        with Gradebook(self.db_url, self.course_id) as gb:
            sub = gb.find_submission(self.assignment.id, student)
            if changed:  # a TA's manual score must not silently outlive the work it judged
                result.overrides = settle_overrides(sub, self.override_policy)
                result.flags += [f"override {o}" for o in result.overrides]
            self._note_lateness(student, sub, result, intake_dir)
            if result.flags:
                for nb in sub.notebooks:
                    nb.flagged = True
            gb.db.commit()
            result.score, result.max_score = final_score(sub), float(sub.max_score)

    def _note_lateness(self, student: str, sub, result: "SubmissionResult", intake_dir: Path) -> None:
        result.late_seconds = float(sub.total_seconds_late or 0)
        lost = sum(float(nb.late_submission_penalty or 0) for nb in sub.notebooks)
        if result.late_seconds:
            share = self.late_policy.penalty_share(result.late_seconds)
            result.late = describe(result.late_seconds, share) + (f": {lost:g} point(s) off" if lost else "")
        elif student in self.late_marks and not (intake_dir / "timestamp.txt").exists():
            result.late = "marked LATE by the LMS, time unknown"
            result.flags.append("late: the LMS marked this submission late but gave no time, so no penalty "
                                "was applied (course.yml late.canvas_mark_only: one_day charges one day)")

    def close(self) -> None:
        """The end of this grader's run (a Dask client is closed)."""
        self.run.close()

    def lock(self, name: str):
        """A lock of this course's gradebook, shared with every other process using it."""
        return gradebook.exclusive(self.db_url, f"{self.course_id}:{self.assignment.id}:{name}",
                                   gradebook.locks_folder(self.root))

    def grade(self, student: str, unless_done: bool = False) -> SubmissionResult:
        """Grade one submission; with `unless_done`, skip it when another run
        (another TA, a previous run) finished it meanwhile."""
        with self.lock(f"student:{student}"):  # outside the coordinator lock: waiting on another TA stalls no one here
            if unless_done and self.is_done(student):
                return SubmissionResult(student, "skipped")
            return self._grade(student)

    def _grade(self, student: str) -> SubmissionResult:
        started = time.monotonic()
        a = self.assignment.id
        intake_dir = self.course.work("intake", student, a)
        # intake reads and writes this student's folders only: outside the coordinator lock, so a
        # large or odd submission being read never holds up the others' trusted steps
        intake: Intake = take_in(self.course.submitted(student, a), intake_dir, student, a,
                                 self.assignment.notebooks, self.release, self.elsewhere)
        before = _read_marker(self.course.autograded(student, a)).get("fingerprint")
        changed = before is not None and before != intake.fingerprint  # a resubmission, not a --force rerun
        with self.run.coordinator.trusted():
            staged = self.course.work("staging", student, a)
            if staged.exists():
                shutil.rmtree(staged)
            result = SubmissionResult(student, "graded", problems=intake.problems, repairs=intake.repairs,
                                      dropped_files=intake.dropped_files, flags=list(intake.flags))
            evidence: dict = {}  # what the notebook's own checks printed where the verifier disagreed (TA only)
            if not any(intake_dir.glob("*.ipynb")):
                self._zero(student)
                staged.mkdir(parents=True)
                (staged / "NOT_GRADED.txt").write_text("\n".join(intake.problems) + "\n", encoding="utf-8")
                result.status = "broken"
            else:
                cfg = self._config()
                coursedir = CourseDirectory(config=cfg)
                # nbgrader globs its folders with the student id: `gx*` would grade other students
                coursedir.assignment_id, coursedir.student_id = a, glob.escape(student)
                self._set_extension(student)
                app = RunAutograde(self.run, coursedir=coursedir, config=cfg)
                app.force, app.create_student = True, True
                self.run.take_findings(student, a)  # a fresh start for this submission
                outcome = capture_log(app)  # releases the lock while the sandbox runs
                checked = self.run.take_findings(student, a)
                if getattr(self.run.runner, "lost", ""):  # nbgrader logged it; the run must stop
                    raise ClusterLost(self.run.runner.lost)
                result.flags += [f"{c.notebook}: {flag}" for c in checked for flag in c.flags]
                evidence = {f"{c.notebook}/{gid}": d for c in checked for gid, d in c.disagreements.items()}
                if not outcome.get("success"):
                    result.status, result.reason = "error", nbgrader_failure(outcome, "nbgrader failed")
                    result.seconds = time.monotonic() - started
                    return result
                result.timeouts = sum(c.timeouts for c in checked)  # cells (RecordOutcome) and probes (verifier)
                result.kernel_died = any(c.kernel_died for c in checked)
            self._settle(student, result, intake_dir, changed)
            result.not_attempted = result.status == "graded" and result.score == 0 and intake.not_attempted
            (staged / MARKER).write_text(json.dumps({"fingerprint": intake.fingerprint, "problems": result.problems,
                                                     "repairs": intake.repairs, "flags": result.flags}, indent=1))
            self._keep_evidence(student, evidence)
            _replace_dir(staged, self.course.autograded(student, a))
        result.seconds = time.monotonic() - started
        return result


def _registered_completely(gb, assignment_id: str, release: dict) -> bool:
    """True when the gradebook knows every graded cell of every release notebook
    (a registration killed half-way must be done again, not trusted)."""
    try:
        notebooks = {nb.name: nb for nb in gb.find_assignment(assignment_id).notebooks}
    except Exception:
        return False
    for name, release_nb in release.items():
        if name not in notebooks:
            return False
        known = {c.name for c in notebooks[name].source_cells}
        if not {grade_id(c) for c in release_nb.cells if grade_id(c)} <= known:
            return False
    return True


def _register_if_missing(grader: "ClassGrader") -> bool:
    from ..workspace import Workspace

    with grader.lock("register"):  # two TAs starting at once register it once
        with Gradebook(grader.db_url, grader.course_id) as gb:
            if _registered_completely(gb, grader.assignment.id, grader.release):
                return False
        with Workspace(grader.course, db_url=grader.db_url) as ws:  # a throwaway folder: release/ untouched
            ws.generate_assignment(grader.assignment.id)
    return True


def autograde(course: Course, assignment_id: str, students: list[str] | None = None, force: bool = False,
              workers: int | None = None, sandbox: bool = True, progress: bool = True,
              scheduler: str = "", runner=None) -> AutogradeSummary:
    """Grade a class. `scheduler`: a Dask scheduler's address whose workers run the
    notebooks (workers: submissions in flight, default twice the cluster's threads).
    runner: where notebooks run, lent by the caller, who closes it (head_start.py's, whose
    first kernels are already starting); default: one for `scheduler`, closed here."""
    from ..workspace import ensure_venv_on_path

    ensure_venv_on_path()
    grader = ClassGrader(course, assignment_id, sandbox=sandbox, scheduler=scheduler, runner=runner)
    try:
        gradebook.prepare(grader.db_url, gradebook.locks_folder(grader.root), grader.course_id)
        return _autograde(course, grader, students, force, workers, progress)
    finally:
        grader.close()


def _autograde(course: Course, grader: ClassGrader, students: list[str] | None, force: bool,
               workers: int | None, progress: bool) -> AutogradeSummary:
    assignment_id, sandbox = grader.assignment.id, grader.sandbox
    where = grader.run.runner
    if isinstance(where, DaskRunner):  # the workers run student code: each must sandbox
        workers = workers or max(2, 2 * where.slots(require_sandbox=sandbox))
    elif sandbox:
        check_available()
    workers = max(1, workers or os.cpu_count() or 1)
    summary = AutogradeSummary(assignment_id, sandboxed=sandbox, workers=workers, scheduler=grader.scheduler)
    started = time.monotonic()
    summary.registered = _register_if_missing(grader)
    with Gradebook(grader.db_url, grader.course_id) as gb:  # course.yml's due date, where nbgrader reads it
        apply_due_date(gb, assignment_id, grader.late_policy)
    grader.check_answer_keys()
    everyone = select_students(course.handed_in(assignment_id), students,
                               f"no submission of {assignment_id}")
    if not everyone:
        raise CourseError(f"no submissions in submitted/*/{assignment_id}: run cnnlab collect first")
    todo = []
    for student in everyone:
        try:
            done = not force and grader.is_done(student)
        except OSError:  # an unreadable file of one student: grading it says why, the class goes on
            done = False
        if done:
            summary.results.append(SubmissionResult(student, "skipped"))
        else:
            todo.append(student)
    if todo:  # the instructor's answers first, where the class will run: a broken sandbox grades no one
        grader.expect(len(todo))  # their kernels start while the canary runs
        if not isinstance(where, DaskRunner):  # (on a cluster, only once the canary has admitted its workers)
            grader.draw_figures_ahead()  # meanwhile, beside the canary (which does not wait for them)
        summary.canaries = canary.check(course, assignment_id, sandbox, grader.run.runner,
                                        lambda copy, runner: ClassGrader(copy, assignment_id, sandbox, runner=runner,
                                                                         figures=grader.run.figures))
    log_path = course.autograde_log(assignment_id)  # the class report reads it back (report/classdata.py)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    summary.log = str(log_path)
    busy = grader.run.coordinator.busy
    lost = _grade_all(grader, todo, workers, summary, log_path, assignment_id, progress, force)
    summary.results.sort(key=lambda r: r.student)
    if isinstance(where, DaskRunner):
        summary.workers_refused = where.refused()
    summary.seconds = time.monotonic() - started
    summary.coordinator_seconds = grader.run.coordinator.busy - busy
    todo_set = set(todo)
    ran = [r for r in summary.results if r.student in todo_set]
    done = sum(r.status in ("graded", "broken") for r in ran)
    with open(log_path, "a", encoding="utf-8") as log:  # the run as a whole, for the class report's times
        log.write(json.dumps({"event": "run", "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
                              "assignment": assignment_id, "seconds": round(summary.seconds, 2),
                              "workers": workers, "graded": done, "sandboxed": sandbox,
                              "scheduler": grader.scheduler, **({"stopped": lost} if lost else {})}) + "\n")
    if lost:  # what was scored is kept; the rerun skips it (is_done) and grades the rest
        rest = len(todo) - sum(r.ok for r in ran)
        raise ClusterLost(f"{lost}: {done} submission(s) graded in this run are kept, {rest} are not graded yet; "
                          "run the same command again to grade them")
    return summary


def _grade_all(grader: ClassGrader, todo: list[str], workers: int, summary: AutogradeSummary,
               log_path: Path, assignment_id: str, progress: bool, force: bool) -> str:
    """Grade `todo`; returns why the run stopped early ('' when it did not)."""
    lost = ""
    with open(log_path, "a", encoding="utf-8") as log, ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(grader.grade, s, not force): s for s in todo}
        bar = tqdm(total=len(todo), desc=f"autograde {assignment_id}", unit="submission", disable=not progress)
        for future in as_completed(futures):
            if future.cancelled():
                continue
            try:
                result = future.result()
            except ClusterLost as exc:  # the cluster is gone: nothing more can be graded now
                if not lost:
                    lost = str(exc)
                    for waiting in futures:
                        waiting.cancel()  # those not started yet; the running ones end on their own
                continue
            except Exception as exc:  # a bug of ours: this submission only
                result = SubmissionResult(futures[future], "error", reason=f"{type(exc).__name__}: {exc}"[:300])
            summary.results.append(result)
            log.write(json.dumps({"time": time.strftime("%Y-%m-%dT%H:%M:%S"), "assignment": assignment_id,
                                  **asdict(result)}) + "\n")
            log.flush()
            bar.update(1)
        bar.close()
    return lost
