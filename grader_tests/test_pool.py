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


class _FakeKernel:
    """Stands in for a sandboxed kernel: counts how many were started and closed."""

    started: list["_FakeKernel"] = []

    def __init__(self, limits, preload):
        self.closed = False
        _FakeKernel.started.append(self)

    def close(self) -> None:
        self.closed = True


def test_a_pool_told_how_many_runs_come_starts_that_many_and_none_for_nobody(monkeypatch):
    import cnnlab.grading.pool as pool_module

    monkeypatch.setattr(pool_module, "WarmKernel", _FakeKernel)
    _FakeKernel.started = []
    pool = pool_module.KernelPool(size=2)
    try:
        pool.expect(3)                       # a class of three: their kernels start at once, two ahead
        pool._starter.submit(lambda: None).result()
        assert len(pool._ready) == 2
        taken = [pool.take() for _ in range(3)]
        assert len(_FakeKernel.started) == 3 and not pool._ready   # the last take started nothing more
        extra = pool.take()                  # a take nobody announced (a salvage run) is served all the same
        assert extra not in taken and len(_FakeKernel.started) == 4 and not pool._ready
        pool.expect(1)                       # a later phase says what it needs; again no more than that
        pool.take()
        assert len(_FakeKernel.started) == 5 and not pool._ready
    finally:
        pool.close()
    untold = pool_module.KernelPool(size=2)  # told nothing: it keeps `size` ahead, as before
    try:
        untold.take()
        assert len(untold._ready) == 2
    finally:
        untold.close()
    assert all(k.closed for k in _FakeKernel.started[6:])  # closing ends those started ahead


def test_a_run_of_expected_size_leaves_no_sandboxed_kernel_started_for_nobody():
    runner = LocalRunner(pool_size=2)
    try:
        runner.expect(2)
        for _ in range(2):
            assert "pi" in _printed(runner.execute(_job(LOOK_FOR_TRACES), "student"))
        assert not runner._pool._ready       # no third kernel was started at the end of the run
    finally:
        runner.close()


def test_kernels_started_ahead_count_toward_what_the_run_then_expects(monkeypatch):
    import cnnlab.grading.pool as pool_module

    monkeypatch.setattr(pool_module, "WarmKernel", _FakeKernel)
    _FakeKernel.started = []
    pool = pool_module.KernelPool(size=2)
    try:
        pool.start_ahead(5)                  # before the run knows: no more than the pool's size
        pool._starter.submit(lambda: None).result()
        assert len(_FakeKernel.started) == 2
        pool.expect(3)                       # the run's three submissions: one more, not three more
        for _ in range(3):
            pool.take()
        assert len(_FakeKernel.started) == 3 and not pool._ready
    finally:
        pool.close()
    idle = pool_module.KernelPool(size=2)    # a rerun with nothing to grade: started, never taken
    idle.start_ahead(1)
    idle.close()
    assert len(_FakeKernel.started) == 4 and _FakeKernel.started[3].closed  # the pool ended it


def test_the_cli_starts_a_local_runs_first_kernels_before_the_grader_imports(tmp_path):
    from cnnlab.course import load_course
    from cnnlab.grading.head_start import head_start

    root = Path(__file__).resolve().parents[1]
    for name in ("nbgrader_config.py", "course.yml"):
        (tmp_path / name).write_bytes((root / name).read_bytes())
    for student in ("ada", "bob", "cy"):
        (tmp_path / "submitted" / student / "02_kernels").mkdir(parents=True)
    course = load_course(tmp_path)
    for students, ahead in ((None, 2), (["cy"], 1), (["nobody"], 0)):
        runner = head_start(course, "02_kernels", students)
        try:
            assert len(runner._pool._ready if runner._pool else []) == ahead
        finally:
            runner.close()


PYPLOT_AS_LOADED = """
import sys, matplotlib.artist, matplotlib.lines, matplotlib.text
from cnnlab.preload import LEAN_DOC
line = matplotlib.lines.Line2D([0], [0])
line.set(color="red", linewidth=3)                       # set() takes the same keywords
try:
    line.set(not_a_property=1)
    refused = False
except AttributeError:
    refused = True
class Later(matplotlib.text.Text):                       # a class defined after the preload
    pass
print(json.dumps({"loaded": "matplotlib.pyplot" in sys.modules, "lean": matplotlib.lines.Line2D.set.__doc__ == LEAN_DOC,
                  "width": line.get_linewidth(), "refused": refused,
                  "later": "Supported properties are" in Later.set.__doc__,
                  "kwdoc": "linewidth" in matplotlib.artist.kwdoc(matplotlib.lines.Line2D)}))
"""


def test_a_pooled_kernel_loads_pyplot_without_its_property_docs_and_puts_matplotlib_back():
    runner = LocalRunner(pool_size=1)
    try:
        seen = _printed(runner.execute(_job(PYPLOT_AS_LOADED), "student"))
    finally:
        runner.close()
    assert seen == {"loaded": True, "lean": True, "width": 3.0, "refused": True, "later": True, "kwdoc": True}


def test_a_grading_kernel_starts_without_its_debugger_and_the_student_can_still_import_debugpy():
    runner = LocalRunner(pool_size=1)
    source = ("import sys, ipykernel.debugger\nimport debugpy\n"
              "print(json.dumps({'debugger': ipykernel.debugger._is_debugpy_available, 'imported': debugpy.__name__,"
              " 'launcher': sys.argv[0].endswith('cnnlab/kernel_launcher.py')}))")
    try:
        seen = _printed(runner.execute(_job(source), "student"))
    finally:
        runner.close()
    assert seen == {"debugger": False, "imported": "debugpy", "launcher": True}
