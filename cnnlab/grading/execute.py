"""The execute step: one notebook, run with its kernel in the sandbox, from plain data to plain data.

Only the kernel, where student code runs, is sandboxed: `SandboxedKernelManager`
launches ipykernel inside bubblewrap (sandbox.py) and talks to it over ZeroMQ's
ipc transport through sockets in the job folder (TCP does not cross the
network namespace). The client side is nbgrader's own Execute preprocessor, so
timeouts, interrupts and error outputs are exactly `nbgrader autograde`'s, plus
a cap on each cell's output and kernel death turned into error outputs on
every cell that did not finish, so no test passes by not running.

`execute_notebook(nb_json, files, settings)` takes and returns JSON-able data
only, so it can run on any worker (a local thread now, a Dask worker later).
`SandboxedExecute` is the nbgrader preprocessor that puts it in place of
nbgrader's Execute; it lays the returned *outputs* (never sources or
metadata) onto the trusted, sanitized notebook.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path

import nbformat
from jupyter_client.manager import AsyncKernelManager
from nbclient.exceptions import DeadKernelError
from nbgrader.preprocessors import Execute, NbGraderPreprocessor
from traitlets import Bool, Instance, Integer
from traitlets.config import Config

from .sandbox import FIRST_UID, Limits, bwrap_argv, claim_uid, kill_uid, prepare_job_dir

TRUNCATED = "\n[output truncated: this cell printed more than the grader keeps]\n"


class SandboxedKernelManager(AsyncKernelManager):
    """Launches the kernel inside bubblewrap as an unprivileged uid; interrupts
    it with a message on the control channel (bwrap starts the kernel in its own
    session, so a signal to the launcher's process group would not reach it)."""

    job_dir = Instance(Path, allow_none=True)
    sandbox_uid = Integer(FIRST_UID)
    limits = Instance(Limits, args=())
    sandboxed = Bool(True)

    async def _async_pre_start_kernel(self, **kw):
        kernel_cmd, kw = await super()._async_pre_start_kernel(**kw)
        if not self.sandboxed:
            return kernel_cmd, kw
        prepare_job_dir(self.job_dir, self.sandbox_uid)  # the connection file is readable in there
        kw.pop("cwd", None)
        kw["stdout"] = kw["stderr"] = subprocess.DEVNULL  # the kernel's own chatter is not feedback
        return bwrap_argv(self.job_dir, kernel_cmd, self.limits, uid=self.sandbox_uid), kw

    async def interrupt_kernel(self):  # AsyncKernelManager binds this name, not _async_interrupt_kernel
        if self.sandboxed and self.has_kernel:
            msg = self.session.msg("interrupt_request", content={})
            self._connect_control_socket()
            self.session.send(self._control_socket, msg)
            return
        await super()._async_interrupt_kernel()


class CappedExecute(Execute):
    """nbgrader's Execute, keeping at most `max_cell_output` bytes of output per
    cell, and remembering which cells finished (got a reply)."""

    max_cell_output = Integer(256 * 1024, help="Bytes of output kept per cell.").tag(config=True)

    def output(self, outs, msg, display_id, cell_index):
        used = self.__dict__.setdefault("_output_used", {})
        used[cell_index] = used.get(cell_index, 0) + len(json.dumps(msg.get("content", {}), default=str))
        if used[cell_index] > self.max_cell_output:
            noted = self.__dict__.setdefault("_truncated", set())
            if cell_index not in noted:
                noted.add(cell_index)
                outs.append(nbformat.v4.new_output("stream", name="stdout", text=TRUNCATED))
            return None
        return super().output(outs, msg, display_id, cell_index)

    def on_cell_executed(self, **kwargs):
        # the cell running when the kernel died has an execution count but no reply
        self.__dict__.setdefault("finished", set()).add(kwargs["cell_index"])
        return super().on_cell_executed(**kwargs)


def mark_unfinished(nb, finished: set[int], reason: str) -> int:
    """Give every code cell that did not finish an error output; returns how many.
    The cell running when the kernel died keeps what it printed, plus the error
    that makes it score 0."""
    count = 0
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and index not in finished:
            cell.setdefault("outputs", []).append(nbformat.v4.new_output(
                "error", ename="DeadKernelError", evalue=reason, traceback=[f"DeadKernelError: {reason}"]))
            count += 1
    return count


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


def execute_notebook(nb_json: str, files: dict[str, bytes], settings: dict) -> dict:
    """Run a notebook with a fresh, sandboxed kernel. Returns {"status", "notebook"}.

    settings: timeout (per cell, s), max_cell_output (bytes), sandbox (bool),
    limits (dict of Limits fields).
    status: ok | kernel_died | wall_timeout | error: <reason>
    """
    if settings.get("sandbox", True):
        with claim_uid() as uid:
            return _execute(nb_json, files, settings, uid)
    return _execute(nb_json, files, settings, None)


def _execute(nb_json: str, files: dict[str, bytes], settings: dict, uid: int | None) -> dict:
    limits = Limits(**settings.get("limits", {}))
    nb = nbformat.reads(nb_json, as_version=4)
    for cell in nb.cells:  # a clean slate: nothing counts as run before this run ran it
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    with tempfile.TemporaryDirectory(prefix="cnnlab-job-") as tmp:
        job = Path(tmp) / "job"
        job.mkdir()
        for name, data in files.items():  # course files the notebook reads (never student extras)
            target = job / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        cfg = Config()
        cfg.KernelManager.transport = "ipc"
        cfg.KernelManager.ip = str(job / "kernel")
        km = SandboxedKernelManager(config=cfg, kernel_name="python3", job_dir=job,
                                    sandbox_uid=uid or FIRST_UID, limits=limits, sandboxed=uid is not None)
        km.connection_file = str(job / "kernel.json")
        executor = CappedExecute(timeout=settings["timeout"], max_cell_output=settings["max_cell_output"],
                                 extra_arguments=["--IPKernelApp.log_level=ERROR"], record_timing=False,
                                 shutdown_kernel="immediate")
        expired = threading.Event()

        def wall_clock_kill():
            expired.set()
            if km.sandboxed:
                kill_uid(km.sandbox_uid)
            process = getattr(km.provisioner, "process", None) if km.provisioner else None
            if process is not None:
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    process.kill()

        watchdog = threading.Timer(limits.wall_seconds, wall_clock_kill)
        watchdog.daemon = True
        watchdog.start()
        status = "ok"
        try:
            executor.preprocess(nb, {"metadata": {"path": str(job)}}, km=km)
        except DeadKernelError:
            status = "wall_timeout" if expired.is_set() else "kernel_died"
        except Exception as exc:  # anything else that stopped the run: keep what ran
            status = f"error: {type(exc).__name__}: {str(exc)[:200]}"
        finally:  # nbclient has shut the kernel down; end whatever the student left running
            watchdog.cancel()
            if km.sandboxed:
                kill_uid(km.sandbox_uid)
        if status != "ok":
            reason = {"kernel_died": "the kernel died (os._exit, out of memory or a crash) before this cell finished",
                      "wall_timeout": "the notebook ran out of time as a whole"}.get(status, "the run stopped")
            mark_unfinished(nb, executor.__dict__.get("finished", set()), reason)
        return {"status": status, "notebook": nbformat.writes(nb)}


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

    def preprocess(self, nb, resources):
        settings = {"timeout": self.timeout, "max_cell_output": self.max_cell_output, "sandbox": self.sandbox}
        files = course_files(Path(resources.get("metadata", {}).get("path") or "."))
        with COORDINATOR.untrusted_wait():
            result = execute_notebook(nbformat.writes(nb), files, settings)
        lay_outputs(nb, result["notebook"], f"the notebook could not be run ({result['status']})")
        return nb, resources
