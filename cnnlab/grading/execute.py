"""The execute step: one notebook, run in the sandbox, from plain data to plain data.

`execute_notebook(nb_json, files, settings)` takes and returns JSON-able data
only, so it can run on any worker (a local thread now, a Dask worker later).
`SandboxedExecute` is the nbgrader preprocessor that puts it in place of
nbgrader's in-process Execute; it lays the returned *outputs* (never sources
or metadata) onto the trusted, sanitized notebook.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path

import nbformat
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Bool, Integer

from .sandbox import NOBODY, Limits, bwrap_argv, prepare_job_dir

#: Largest executed notebook read back from the sandbox (a flood is capped inside; this is the backstop).
MAX_RESULT_BYTES = 64 * 1024**2


class Coordinator:
    """Serialises the trusted steps (sanitize, score, every gradebook write) of
    concurrent autograde threads; only sandboxed execution runs in parallel."""

    def __init__(self):
        self._lock = threading.Lock()
        self._local = threading.local()

    @contextmanager
    def trusted(self):
        self._lock.acquire()
        self._local.holding = True
        try:
            yield
        finally:
            self._local.holding = False
            self._lock.release()

    @contextmanager
    def untrusted_wait(self):
        """Let other submissions' trusted steps run while this thread waits on a sandbox."""
        holding = getattr(self._local, "holding", False)
        if holding:
            self._local.holding = False
            self._lock.release()
        try:
            yield
        finally:
            if holding:
                self._lock.acquire()
                self._local.holding = True


COORDINATOR = Coordinator()


def _kill_group(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def execute_notebook(nb_json: str, files: dict[str, bytes], settings: dict) -> dict:
    """Run a notebook in a fresh sandbox. Returns {"status", "notebook" (JSON or None), "stderr"}.

    settings: timeout (per cell, s), max_cell_output (bytes), sandbox (bool),
    uid (the sandbox user), limits (dict of Limits fields).
    """
    limits = Limits(**settings.get("limits", {}))
    with tempfile.TemporaryDirectory(prefix="cnnlab-job-") as tmp:
        job = Path(tmp) / "job"
        job.mkdir()
        (job / "in.ipynb").write_text(nb_json, encoding="utf-8")
        (job / "job.json").write_text(json.dumps({"timeout": settings["timeout"],
                                                  "max_cell_output": settings["max_cell_output"]}))
        for name, data in files.items():  # course files the notebook needs (never student extras)
            target = job / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        command = [sys.executable, "-m", "cnnlab.grading.runner", str(job)]
        if settings.get("sandbox", True):
            uid = int(settings.get("uid", NOBODY))
            prepare_job_dir(job, uid)
            argv = bwrap_argv(job, command, limits, uid=uid)
        else:  # --unsafe-no-sandbox: the TA's explicit choice
            argv = command
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                start_new_session=True, cwd=job)
        try:
            _, err = proc.communicate(timeout=limits.wall_seconds)
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            proc.communicate()
            return {"status": "wall_timeout", "notebook": None, "stderr": ""}
        finally:
            if proc.poll() is None:
                _kill_group(proc)
        stderr = err.decode("utf-8", "replace")[-2000:]
        out = job / "out.ipynb"
        try:
            status = json.loads((job / "status.json").read_text())["status"]
        except (OSError, ValueError, KeyError, TypeError):
            status = "runner_died"
        if not out.is_file() or out.is_symlink() or out.stat().st_size > MAX_RESULT_BYTES:
            return {"status": status if status != "ok" else "no_result", "notebook": None, "stderr": stderr}
        return {"status": str(status)[:300], "notebook": out.read_text(encoding="utf-8", errors="replace"),
                "stderr": stderr}


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


def course_files(folder: Path) -> dict[str, bytes]:
    """The files nbgrader copied from source/A beside the notebook (data a lesson
    reads). The intake lets no student file through, so these are all trusted."""
    skip = {"timestamp.txt", ".cnnlab.json", "NOT_GRADED.txt"}
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.suffix != ".ipynb" and p.name not in skip}


class SandboxedExecute(NbGraderPreprocessor):
    """nbgrader's Execute step, run in the sandbox (see sandbox.py)."""

    timeout = Integer(30, help="Seconds a cell may run before it is interrupted.").tag(config=True)
    max_cell_output = Integer(256 * 1024, help="Bytes of output kept per cell.").tag(config=True)
    sandbox = Bool(True, help="Isolate student code with bubblewrap (False only with --unsafe-no-sandbox).").tag(config=True)
    uid = Integer(NOBODY, help="The unprivileged uid student code runs as.").tag(config=True)

    def preprocess(self, nb, resources):
        settings = {"timeout": self.timeout, "max_cell_output": self.max_cell_output, "sandbox": self.sandbox,
                    "uid": self.uid}
        files = course_files(Path(resources.get("metadata", {}).get("path") or "."))
        with COORDINATOR.untrusted_wait():
            result = execute_notebook(nbformat.writes(nb), files, settings)
        record = resources.setdefault("cnnlab_execution", {})
        record[resources.get("unique_key", "")] = {"status": result["status"], "stderr": result["stderr"]}
        lay_outputs(nb, result["notebook"], f"the notebook could not be run ({result['status']})")
        return nb, resources
