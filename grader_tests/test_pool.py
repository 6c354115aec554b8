"""Kernels started ahead of need (cnnlab/grading/pool.py): each serves one run, and
nothing one student's code leaves behind reaches the next student's kernel."""
from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

from cnnlab.grading.workers import LocalRunner, encode_job

SETTINGS = {"timeout": 20, "max_cell_output": 64 * 1024, "sandbox": True}

LEAVE_TRACES = """
import builtins, os, subprocess, sys, threading, time
import numpy
was_loaded = "matplotlib.pyplot" in sys.modules
numpy.pi = 3                                     # a patched module
builtins.TRACE = "left by the first student"
open("/tmp/left.txt", "w").write("x")
open("left.txt", "w").write("x")
subprocess.Popen(["sleep", "301.5"], start_new_session=True)   # a process that outlives the kernel
threading.Thread(target=time.sleep, args=(300,), daemon=False).start()
print(json.dumps({"pid": os.getpid(), "uid": os.getuid(), "preloaded": was_loaded}))
"""

LOOK_FOR_TRACES = """
import builtins, os, sys
import numpy
procs = [p for p in os.listdir("/proc") if p.isdigit()]
names = [open(f"/proc/{p}/comm").read().strip() for p in procs]
print(json.dumps({"pid": os.getpid(), "uid": os.getuid(), "pi": numpy.pi, "trace": hasattr(builtins, "TRACE"),
                  "tmp": os.path.exists("/tmp/left.txt"), "job": os.path.exists("left.txt"),
                  "sleep": "sleep" in names}))
"""


def _job(source: str) -> str:
    nb = new_notebook(cells=[new_code_cell("import json"), new_code_cell(source)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return encode_job(nbformat.writes(nb), {}, SETTINGS, [{"kind": "cell", "cell": i, "source": c.source}
                                                          for i, c in enumerate(nb.cells)])


def _printed(result: dict) -> dict:
    cell = nbformat.reads(result["notebook"], as_version=4).cells[1]
    text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
    assert text, cell.outputs
    return json.loads(text)


def _leftover_sleeps() -> int:
    """Host processes running the first student's `sleep 301.5`."""
    count = 0
    for pid in [p for p in os.listdir("/proc") if p.isdigit()]:
        try:
            count += Path("/proc", pid, "cmdline").read_bytes() == b"sleep\x00301.5\x00"
        except OSError:
            continue
    return count


def test_a_pooled_kernel_serves_one_student_and_leaves_nothing_to_the_next():
    runner = LocalRunner(pool_size=2)
    try:
        first = _printed(runner.execute(_job(LEAVE_TRACES), "first"))
        assert first["preloaded"]                                   # it came from the pool, started ahead
        assert _leftover_sleeps() == 0                              # what she left running ended with her run
        for _ in range(3):                                          # the next ones, through the same pool
            second = _printed(runner.execute(_job(LOOK_FOR_TRACES), "second"))
            assert second["pi"] != 3 and not second["trace"]       # a fresh interpreter
            assert not second["tmp"] and not second["job"] and not second["sleep"], second
        waiting = [f.result() for f in list(runner._pool._ready)]
    finally:
        runner.close()
    assert waiting and all(k.km.provisioner.process.wait(timeout=10) is not None for k in waiting)  # closing ends them
    assert not any(Path(k.job).exists() for k in waiting)                   # and removes their folders
