"""The worker side of the sandbox wall: one notebook's plan, run with its kernel in bubblewrap.

Only the kernel, where student code runs, is sandboxed: its manager
(kernel_manager.py) launches ipykernel inside bubblewrap (sandbox.py) and talks
to it over ZeroMQ's ipc transport through sockets in the job folder (TCP does
not cross the network namespace). The client side is nbgrader's own Execute preprocessor, so
timeouts, interrupts and error outputs are exactly `nbgrader autograde`'s, plus
a cap on each cell's output (display updates and widget messages included),
outputs that no later cell can change, and kernel death turned into error
outputs on every cell that did not finish, so no test passes by not running.

`execute_notebook(nb_json, files, settings, steps)` takes and returns JSON-able
data only, so it can run on any worker: a thread of the coordinator's process,
or a Dask worker (workers.py). Nothing here reads the course folder or the
gradebook; the coordinator side (execute.py) lays what comes back onto the
trusted notebook.
"""
from __future__ import annotations

import copy
import json
import os
import signal
import threading
from contextlib import contextmanager
from pathlib import Path

import nbformat
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat.v4 import output_from_msg
from nbgrader.preprocessors import Execute
from traitlets import Integer

from ..probe import MIME
from .plan import Step, plan_steps, run_notebook, salvage_steps
from .kernel_manager import kernel_arguments, new_kernel_manager
from .sandbox import Limits, claim_uid, job_folder, kill_uid, prepare_job_dir

TRUNCATED = "\n[output truncated: this cell printed more than the grader keeps]\n"


class StuckKernelError(DeadKernelError):
    """A cell ran out of time and its kernel did not stop when interrupted."""


#: bytes an output adds to its message's content ("output_type", a list's comma):
#: with them counted, a cell's outputs as JSON never outgrow what was counted for it
OUTPUT_KEYS = 40


def _size(msg: dict) -> int:
    return len(json.dumps(msg.get("content", {}), default=str)) + OUTPUT_KEYS


FIGURE_TYPES = ("image/png", "image/jpeg", "image/svg+xml")


def _is_figure(msg: dict) -> bool:
    """A display of a figure, counted against the figure caps: only its image and the
    short text/plain nbformat requires beside it ("<Figure size ...>")."""
    data = (msg.get("content") or {}).get("data")
    if not isinstance(data, dict) or not any(k in data for k in FIGURE_TYPES):
        return False
    return all(k in FIGURE_TYPES or (k == "text/plain" and len(str(v)) < 200) for k, v in data.items())


class CappedExecute(Execute):
    """nbgrader's Execute, keeping at most `max_cell_output` bytes of output per
    cell, and a copy of each cell's outputs as they were when it finished.

    nbclient lets a display update (update_display_data, or a display shown
    again under its display_id) rewrite every output with that id, in any
    cell, and counts none of its bytes. Here an update changes only outputs of
    the cell running now, and what it writes counts against that cell's cap:
    nothing a later cell does (a hook, a thread, a hidden block) changes what
    a finished cell printed or what a probe reported."""

    max_cell_output = Integer(256 * 1024, help="Bytes of output kept per cell.").tag(config=True)
    max_probe_output = Integer(16 * 1024**2, help="Bytes kept of a probe cell (plain data of every case).").tag(config=True)
    max_cell_figures = Integer(2 * 1024**2, help="Bytes of figures (image outputs) kept per cell: a lesson's "
                                                 "four-panel figure is about 300 KB.").tag(config=True)
    max_notebook_figures = Integer(16 * 1024**2, help="Bytes of figures kept in the whole notebook.").tag(config=True)
    wide_cells: set = set()  # indices of probe cells

    def _keep(self, outs, cell_index: int, size: int, figure: bool = False) -> bool:
        """Count `size` bytes written to a cell (a figure against the figure caps); past a
        cap nothing more of that kind is kept (and the cell says so once)."""
        used = self.__dict__.setdefault("_figures_used" if figure else "_output_used", {})
        used[cell_index] = used.get(cell_index, 0) + size
        if figure:
            within = used[cell_index] <= self.max_cell_figures and sum(used.values()) <= self.max_notebook_figures
        else:
            within = used[cell_index] <= (self.max_probe_output if cell_index in self.wide_cells
                                          else self.max_cell_output)
        if within:
            return True
        noted = self.__dict__.setdefault("_truncated", set())
        if cell_index not in noted:
            noted.add(cell_index)
            outs.append(nbformat.v4.new_output("stream", name="stdout", text=TRUNCATED))
        return False

    def output(self, outs, msg, display_id, cell_index):
        if not self._keep(outs, cell_index, _size(msg), _is_figure(msg)):
            return None
        return super().output(outs, msg, display_id, cell_index)

    max_comm_bytes = Integer(16 * 1024**2, help="Bytes of comm (widget) messages a run may send; nbclient keeps "
                                                "every widget state in the grader's memory, so past this they are "
                                                "dropped.").tag(config=True)

    def handle_comm_msg(self, outs, msg, cell_index):
        used = self.__dict__.get("_comm_used", 0) + _size(msg)
        self.__dict__["_comm_used"] = used
        if used > self.max_comm_bytes:  # a kernel could otherwise fill the grader's memory with widget state
            return None
        return super().handle_comm_msg(outs, msg, cell_index)

    def process_message(self, msg, cell, cell_index):
        self.__dict__["running"] = (cell_index, cell)  # the only cell a display update may change
        return super().process_message(msg, cell, cell_index)

    def _update_display_id(self, display_id, msg):
        """nbclient's, for the running cell's outputs only; an update replaces
        data, so its bytes count once per output it rewrites."""
        cell_index, cell = self.__dict__["running"]
        targets = self._display_id_map.get(display_id, {}).get(cell_index)
        if not targets or not self._keep(cell.outputs, cell_index, _size(msg) * len(targets), _is_figure(msg)):
            return
        try:
            out = output_from_msg({**msg, "header": {**msg["header"], "msg_type": "display_data"}})
        except (KeyError, ValueError):
            return
        for k in targets:
            if k < len(cell.outputs):
                cell.outputs[k]["data"], cell.outputs[k]["metadata"] = out["data"], out["metadata"]

    def preprocess_cell(self, cell, resources, index):
        """Run one cell; keep a copy of its outputs as they are now that its
        reply has come (and of no cell whose kernel died before replying)."""
        cell, resources = super().preprocess_cell(cell, resources, index)
        self.__dict__.setdefault("kept", {})[index] = copy.deepcopy(
            {"outputs": cell.get("outputs", []), "execution_count": cell.get("execution_count")})
        return cell, resources

    async def _async_handle_timeout(self, timeout, cell=None):
        self.__dict__["timed_out_now"] = True
        return await super()._async_handle_timeout(timeout, cell)

    async def _async_poll_for_reply(self, msg_id, cell, timeout, task_poll_output_msg, task_poll_kernel_alive):
        """After a timeout, nbclient interrupts the kernel and waits `iopub_timeout`
        for the cell to end. A kernel that ignores SIGINT (or is stuck in C code)
        would keep every later cell waiting until the wall clock: end it instead,
        and count this cell as the one the kernel died in."""
        self.__dict__["timed_out_now"] = False
        try:
            return await super()._async_poll_for_reply(msg_id, cell, timeout, task_poll_output_msg,
                                                       task_poll_kernel_alive)
        except CellTimeoutError:
            if not self.__dict__.get("timed_out_now"):
                raise
            stop = getattr(self.km, "stop_stuck_kernel", None)
            if stop is not None:
                stop()
            raise StuckKernelError("the cell ignored the interrupt") from None


def execute_notebook(nb_json: str, files: dict[str, bytes], settings: dict, steps: list[dict] | None = None,
                     pool=None) -> dict:
    """Run a notebook's plan (plan.py) with a fresh, sandboxed kernel.

    Takes and returns plain data, so it can run on any worker.
    settings: timeout (per cell, s), max_cell_output (bytes), sandbox (bool),
    limits (dict of Limits fields), drawn_once (source hashes of lesson cells whose
    figures are not rendered: drawn_once.py).
    steps: [{"kind", "cell", "source", "grade_id"}] from plan.plan_steps (default: the
    notebook's cells, hidden blocks last, no probes).
    Returns {"status", "notebook", "probes", "runs"}: the notebook with every
    cell's outputs (a hidden test cell gets its in-notebook check's output),
    and per probed item either {"report": ...} or {"lost": reason}.
    status: ok | kernel_died | wall_timeout | error: <reason> (of the first run)
    """
    sandboxed = settings.get("sandbox", True)
    if sandboxed and pool is not None and Limits(**settings.get("limits", {})) == pool.limits:
        return _execute(nb_json, files, settings, steps, None, pool)  # each run takes a kernel started ahead
    if sandboxed:
        with claim_uid() as uid:
            return _execute(nb_json, files, settings, steps, uid)
    return _execute(nb_json, files, settings, steps, None)


LOST_REASONS = {"kernel_died": "the kernel died (os._exit, out of memory or a crash) before this cell finished",
                "wall_timeout": "the notebook ran out of time as a whole",
                "stuck": "a cell ran out of time and ignored the interrupt, so its kernel was ended"}


def _execute(nb_json: str, files: dict[str, bytes], settings: dict, step_dicts: list[dict] | None,
             uid: int | None, pool=None) -> dict:
    nb = nbformat.reads(nb_json, as_version=4)
    steps = [Step(**s) for s in step_dicts] if step_dicts is not None else plan_steps(nb, {})
    status, outputs, finished = _run(nb, steps, files, settings, uid, pool)
    results = {i: outputs[i] for i in finished}          # step index -> outputs, of the steps that finished
    runs = 1
    first_lost = min((i for i in range(len(steps)) if i not in finished), default=None)
    if status != "ok" and first_lost is not None:
        second = salvage_steps(steps, first_lost)
        if second:
            runs = 2
            _, again, done = _run(nb, second, files, settings, uid, pool)
            where = [steps.index(s) for s in second]
            for j in done:
                if steps[where[j]].kind != "cell":   # the first run's outputs are what the student's cells did
                    results.setdefault(where[j], again[j])
    reason = LOST_REASONS.get(status, "the run stopped")
    for cell in nb.cells:  # a clean slate: nothing counts as run before this run ran it
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    probes = {}
    for i, step in enumerate(steps):
        done = i in results
        if step.kind == "probe":
            probes[step.grade_id] = _probe_report(results.get(i)) if done else {"lost": reason}
            continue
        cell = nb.cells[step.cell]
        if step.kind == "cell":  # the cell running when the kernel died keeps what it printed, and fails
            cell.outputs = outputs[i]["outputs"] + ([] if done else [_dead(reason)])
            cell.execution_count = outputs[i]["execution_count"]
        else:  # the in-notebook check of a test cell follows whatever its visible part printed
            cell.outputs = list(cell.outputs) + (results[i]["outputs"] if done else [_dead(reason)])
    return {"status": status, "notebook": nbformat.writes(nb), "probes": probes, "runs": runs}


def _dead(reason: str):
    return nbformat.v4.new_output("error", ename="DeadKernelError", evalue=reason,
                                  traceback=[f"DeadKernelError: {reason}"])


def _probe_report(result: dict) -> dict:
    """The probe's own display message, from the probe cell's outputs as they
    were when it finished; the last one counts (student code running inside
    the probe could display more, but only of data it has before any hidden
    block has run)."""
    reports = [o["data"][MIME] for o in result["outputs"]
               if o.get("output_type") == "display_data" and isinstance(o.get("data"), dict) and MIME in o["data"]]
    if not reports:
        return {"lost": "the probe did not report (did the notebook change how later cells run?)"}
    try:  # plain dicts and lists again (nbformat hands back NotebookNodes)
        report = json.loads(json.dumps(reports[-1]))
    except (TypeError, ValueError, RecursionError):
        return {"lost": "the probe's report was not plain JSON"}
    return {"report": report, "reports": len(reports)}


@contextmanager
def _kernel(limits: Limits, uid: int | None, pool):
    """(job folder, kernel manager) for one run: a pooled kernel, started ahead (pool.py),
    or a manager whose kernel nbclient starts now. Either way it serves this run only."""
    if pool is not None:
        warm = pool.take()
        try:
            yield warm.job, warm.km
        finally:
            warm.close()
        return
    with job_folder(limits) as tmp:  # a tmpfs of its own: a full job folder costs only this student
        job = Path(tmp) / "job"
        job.mkdir()
        yield job, new_kernel_manager(job, uid, limits)


def _run(nb, steps: list[Step], files: dict[str, bytes], settings: dict, uid: int | None, pool=None):
    """One kernel, the given steps in order. Returns (status, outputs per step, finished step indices)."""
    limits = Limits(**settings.get("limits", {}))
    run = run_notebook(nb, steps)
    with _kernel(limits, uid, pool) as (job, km):
        for name, data in files.items():  # course files the notebook reads (never student extras)
            target = job / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        (job / "runtime").mkdir(exist_ok=True)
        (job / "runtime" / "drawn_once.json").write_text(json.dumps(sorted(settings.get("drawn_once", []))))
        if km.has_kernel:  # started ahead: its folder was made its uid's before the files came
            prepare_job_dir(job, km.sandbox_uid)
        executor = CappedExecute(timeout=settings["timeout"], max_cell_output=settings["max_cell_output"],
                                 extra_arguments=kernel_arguments(job), record_timing=False,
                                 shutdown_kernel="immediate")
        executor.wide_cells = {i for i, s in enumerate(steps) if s.kind == "probe"}
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
            executor.preprocess(run, {"metadata": {"path": str(job)}}, km=km)
        except StuckKernelError:
            status = "stuck"
        except DeadKernelError:
            status = "wall_timeout" if expired.is_set() else "kernel_died"
        except Exception as exc:  # anything else that stopped the run: keep what ran
            status = f"error: {type(exc).__name__}: {str(exc)[:200]}"
        finally:  # nbclient has shut the kernel down; end whatever the student left running
            watchdog.cancel()
            if km.sandboxed:
                kill_uid(km.sandbox_uid)
    kept = executor.__dict__.get("kept", {})  # each step's outputs as it finished: later steps cannot change them
    outputs = [kept[i] if i in kept else {"outputs": c.get("outputs", []), "execution_count": c.get("execution_count")}
               for i, c in enumerate(run.cells)]  # the step the kernel died in (updates from no other step touch it)
    return status, outputs, set(kept)
