"""Runs one notebook INSIDE the sandbox: `python -m cnnlab.grading.runner JOB_DIR`.

Everything this process writes is untrusted: the coordinator reads back only
the outputs, size-capped, and lays them onto its own sanitized notebook.
Execution is nbgrader's own Execute preprocessor (same timeout, interrupt and
error handling as `nbgrader autograde`), with the kernel on ZeroMQ's ipc
transport inside the job folder (TCP does not cross the network namespace),
a cap on the output a cell may produce, and kernel death turned into error
outputs on every cell that did not run, so no test is passed by not running.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat
from nbclient.exceptions import DeadKernelError
from nbgrader.preprocessors import Execute
from traitlets import Integer
from traitlets.config import Config

TRUNCATED = "\n[output truncated: this cell printed more than the grader keeps]\n"


class CappedExecute(Execute):
    """nbgrader's Execute, keeping at most `max_cell_output` bytes of output per cell."""

    max_cell_output = Integer(256 * 1024, help="Bytes of output kept per cell.").tag(config=True)

    def output(self, outs, msg, display_id, cell_index):
        used = self._output_used = getattr(self, "_output_used", {})
        size = len(json.dumps(msg.get("content", {}), default=str))
        used[cell_index] = used.get(cell_index, 0) + size
        if used[cell_index] > self.max_cell_output:
            if not getattr(self, "_noted", set()).__contains__(cell_index):
                self._noted = getattr(self, "_noted", set()) | {cell_index}
                outs.append(nbformat.v4.new_output("stream", name="stdout", text=TRUNCATED))
            return None
        return super().output(outs, msg, display_id, cell_index)

    def on_cell_executed(self, **kwargs):
        # a cell is finished only when its reply came back; the one running when the
        # kernel died has an execution count but no reply
        self.finished = getattr(self, "finished", set()) | {kwargs["cell_index"]}
        return super().on_cell_executed(**kwargs)


def mark_unrun(nb, finished: set[int], reason: str) -> int:
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


def main(job_dir: str) -> int:
    job = Path(job_dir)
    settings = json.loads((job / "job.json").read_text())
    nb = nbformat.read(job / "in.ipynb", as_version=4)
    for cell in nb.cells:  # a clean slate: nothing counts as run before this process runs it
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    cfg = Config()
    cfg.KernelManager.transport = "ipc"
    cfg.KernelManager.ip = str(job / "kernel")
    executor = CappedExecute(config=cfg, timeout=settings["timeout"],
                             max_cell_output=settings["max_cell_output"],
                             extra_arguments=["--IPKernelApp.log_level=ERROR"], record_timing=False)
    status = "ok"
    try:
        executor.preprocess(nb, {"metadata": {"path": str(job)}})
    except DeadKernelError:
        status = "kernel_died"
    except Exception as exc:  # anything else that stopped the run: record it, keep what ran
        status = f"runner_error: {type(exc).__name__}: {str(exc)[:200]}"
    if status != "ok":
        reason = ("the kernel died (os._exit, out of memory or a crash) before this cell ran"
                  if status == "kernel_died" else "the notebook stopped before this cell ran")
        mark_unrun(nb, getattr(executor, "finished", set()), reason)
    nbformat.write(nb, str(job / "out.ipynb"))
    (job / "status.json").write_text(json.dumps({"status": status}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
