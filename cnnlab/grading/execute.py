"""The coordinator side of the sandbox wall: nbgrader's Execute step, with the notebook run elsewhere.

`SandboxedExecute` is the nbgrader preprocessor that takes the place of
nbgrader's Execute: it plans the notebook (plan.py), sends it as plain data to
the run's runner (workers.py: this process, or a Dask worker, where kernel.py
runs it in the sandbox) and lays the returned *outputs* (never sources or
metadata) onto the trusted, sanitized notebook. `RecordOutcome`, the last
preprocessor, notes each notebook's timeouts and kernel deaths in the run.
Both find the grading run (run.py: its runner, lock, answer keys, findings)
in `resources["cnnlab"]["run"]`, where the converter puts it per notebook.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from pathlib import Path

import nbformat
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Bool, Integer

from ..nbtools import nbgrader_meta
from .figures import swap_in
from .unrun_figures import fill_unrun, leave_unrun
from .plan import plan_steps
from ..items.status import TIMEOUT_NAMES
from .run import run_of
from .workers import encode_job


def lay_outputs(trusted_nb, executed_json: str | None, reason: str) -> None:
    """Copy outputs and execution counts of the executed notebook onto the
    trusted one, cell by cell. Where the result is missing or does not match
    the trusted cells, every code cell gets an error output (it scores 0)."""
    executed = None
    if executed_json is not None:
        try:
            executed = nbformat.reads(executed_json, as_version=4)
        except Exception:
            executed = None
    if executed is None or len(executed.cells) != len(trusted_nb.cells):
        for cell in trusted_nb.cells:
            if cell.cell_type == "code":
                cell.outputs = [nbformat.v4.new_output("error", ename="GradingError", evalue=reason,
                                                       traceback=[f"GradingError: {reason}"])]
        return
    for mine, theirs in zip(trusted_nb.cells, executed.cells):
        if mine.cell_type != "code":
            continue
        outputs = theirs.get("outputs", []) if theirs.get("cell_type") == "code" else []
        mine.outputs = [o for o in outputs if isinstance(o, dict) and "output_type" in o]
        count = theirs.get("execution_count")
        mine.execution_count = count if isinstance(count, int) else None


def runs_only_the_lesson(nb, release) -> bool:
    """Whether a sanitized notebook would run nothing but the lesson's own code: cell for cell
    the release's, each code cell as the release has it, or a locked cell of the same grade id
    (whose source nbgrader's OverwriteCells has just put back from the gradebook: the lesson's
    tests, hidden parts and all). An answer cell left as released, no cell added, none removed."""
    if len(nb.cells) != len(release.cells):
        return False
    for mine, theirs in zip(nb.cells, release.cells):
        if mine.cell_type != theirs.cell_type:
            return False
        if mine.cell_type != "code" or mine.source == theirs.source:
            continue
        meta, released = nbgrader_meta(mine), nbgrader_meta(theirs)
        if not (meta.get("locked") and released.get("grade_id") and meta.get("grade_id") == released["grade_id"]):
            return False
    return True


def lesson_run_key(nb, files: dict[str, bytes], settings: dict, figures: dict, steps) -> str:
    """What a lesson-only notebook's run depends on: its metadata (the kernel's), its cells' types
    (where the outputs go), the course files, the settings and the plan (every source the kernel
    runs). Not her cells' own metadata (a cell she scrolled, say), which no kernel sees."""
    digest = hashlib.sha256(json.dumps({"metadata": nb.metadata, "cells": [c.cell_type for c in nb.cells],
                                        "settings": settings, "drawn_once": sorted(figures),
                                        "steps": [asdict(s) for s in steps]}, sort_keys=True).encode())
    for name in sorted(files):
        digest.update(f"\0{name}\0{len(files[name])}\0".encode() + files[name])
    return digest.hexdigest()


def course_files(folder: Path) -> dict[str, bytes]:
    """The files nbgrader copied from source/A beside the notebook (data a lesson
    reads). The intake lets no student file through, so these are all trusted."""
    skip = {"timestamp.txt", "submission_secret.txt", ".cnnlab.json", "NOT_GRADED.txt"}
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.suffix != ".ipynb" and p.name not in skip}


class SandboxedExecute(NbGraderPreprocessor):
    """nbgrader's Execute step, run in the sandbox (kernel.py) in the order of
    plan.py, with the probes the verifier (verify.py) scores from."""

    timeout = Integer(30, help="Seconds a cell may run before it is interrupted.").tag(config=True)
    max_cell_output = Integer(256 * 1024, help="Bytes of output kept per cell.").tag(config=True)
    sandbox = Bool(True, help="Isolate student code with bubblewrap (False only with --unsafe-no-sandbox).").tag(config=True)
    draw_once = Bool(True, help="Draw lesson figures that need no student code once per run, from the release "
                                "notebook, instead of in every submission's kernel (figures.py).").tag(config=True)
    share_lesson_runs = Bool(True, help="Run a notebook that holds nothing but the lesson's own code (handed in "
                                        "as released) once per run, and give every identical one its result "
                                        "(run.GradingRun.execute).").tag(config=True)
    leave_unrun = Bool(True, help="Of those cells, do not run in a submission's kernel the ones that only draw and "
                                  "bind nothing her notebook or the hidden tests read (unrun_figures.py).").tag(config=True)

    def settings(self) -> dict:
        """What kernel.execute_notebook is told of these traits."""
        return {"timeout": self.timeout, "max_cell_output": self.max_cell_output, "sandbox": self.sandbox}

    def preprocess(self, nb, resources):
        run = run_of(resources)
        if run is None:
            raise RuntimeError("SandboxedExecute runs inside a grading run (cnnlab autograde), not on its own")
        info = resources["nbgrader"]
        settings = self.settings()
        files = course_files(Path(resources.get("metadata", {}).get("path") or "."))
        key = run.key(info["assignment"], info["notebook"]) if run.verify else None
        items = {gid: k.item for gid, k in key.items.items()} if key else {}
        steps = plan_steps(nb, items)
        label = f"{info.get('student', '')}-{info.get('notebook', '')}"
        lesson = (info["assignment"], info["notebook"], files, settings)
        # while the lesson's run still draws them, the cells with no figures yet: her kernel runs
        # meanwhile (those cells' images off), and the figures are waited for only to paste them in
        with run.coordinator.untrusted_wait():  # a run with no drawing ahead (a cluster's) draws them now
            figures = run.lesson_figures(*lesson, wait=False) if self.draw_once else {}
        result, unrun = self._run(nb, run, lesson, steps, figures, items, label)
        if figures and not any(figures.values()) and run.draws_figures:  # the drawing was under way
            with run.coordinator.untrusted_wait():
                drawn = run.lesson_figures(*lesson)
            if not set(figures) <= set(drawn):  # a cell the lesson's run could not draw: hers draws it
                result, unrun = self._run(nb, run, lesson, steps, drawn, items, label)
            figures = drawn
        lay_outputs(nb, result["notebook"], f"the notebook could not be run ({result['status']})")
        swap_in(nb, figures)
        fill_unrun(nb, unrun, figures)
        if key is not None:
            resources["cnnlab"].update(key=key, probes=result["probes"], runs=result["runs"])
        return nb, resources

    def _run(self, nb, run, lesson: tuple, steps, figures, items, label) -> tuple[dict, set[int]]:
        """One run of her notebook's plan with the lesson figures `figures` (drawn once, or to come):
        the runner's result and the cells left unrun or cut to their data part.
        lesson: (assignment, notebook, course files, kernel settings)."""
        assignment, notebook, files, settings = lesson
        # planned under the coordinator's lock with the other trusted steps (its parses are
        # serialised anyway, in any thread: cnnlab/syntax.py)
        steps, unrun = leave_unrun(nb, steps, figures, items) if self.leave_unrun else (steps, set())
        with run.coordinator.untrusted_wait():  # here, or on a Dask worker (workers.py)
            job = encode_job(nbformat.writes(nb), files, {**settings, "drawn_once": sorted(figures)},
                             [asdict(s) for s in steps])
            lesson_only = self.share_lesson_runs and runs_only_the_lesson(nb, run.release(assignment, notebook))
            result = run.execute(job, label, lesson_run_key(nb, files, settings, figures, steps) if lesson_only else "")
        return result, unrun


class RecordOutcome(NbGraderPreprocessor):
    """The last step: the cells of the graded notebook that ran out of time or
    whose kernel died, noted in the run's findings for this notebook (the
    verifier notes its own: probes that timed out, second runs)."""

    def preprocess(self, nb, resources):
        run = run_of(resources)
        if run is None:
            return nb, resources
        info = resources["nbgrader"]
        found = run.findings(info["student"], info["assignment"], info["notebook"])
        for cell in nb.cells:
            names = {o.get("ename") for o in cell.get("outputs", []) if o.get("output_type") == "error"}
            found.timeouts += bool(names & TIMEOUT_NAMES)
            found.kernel_died = found.kernel_died or "DeadKernelError" in names
        return nb, resources
