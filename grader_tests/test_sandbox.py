"""The sandbox, proved by trying to break out of it. Each attack runs as a
notebook cell through the real execute step (bwrap, setpriv, prlimit, a
kernel over ipc) and must fail, with the host untouched."""
from __future__ import annotations

import json
import socket
import threading

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from cnnlab.grading.execute import execute_notebook
from cnnlab.grading.sandbox import check_available


@pytest.fixture(scope="module", autouse=True)
def sandbox_works():
    check_available()  # fails the module with the reason when bwrap cannot isolate here


def _run(*sources: str, timeout: int = 20, **settings) -> list:
    nb = new_notebook(cells=[new_code_cell(s) for s in sources])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    result = execute_notebook(nbformat.writes(nb), {}, {"timeout": timeout, "max_cell_output": 64 * 1024,
                                                       "sandbox": True, **settings})
    assert result["notebook"] is not None, result
    return nbformat.reads(result["notebook"], as_version=4).cells, result["status"]


def _printed(cell) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")


def test_student_code_sees_no_course_no_home_and_runs_as_nobody(course, tmp_path):
    secret = course.root / "source"
    cells, _ = _run(f"""
import os, pathlib
print("uid", os.getuid())
for p in [{str(secret)!r}, {str(course.root / 'nbgrader_config.py')!r}, "/etc/shadow", {str(tmp_path)!r}]:
    print(p, os.path.exists(p))
# the home folder holds only the (read-only) Python installation, when Python lives there
print("home", sorted(os.listdir(os.path.expanduser("~root"))) if os.path.isdir(os.path.expanduser("~root")) else [])
print("env", sorted(k for k in os.environ if "NBGRADER" in k or "TOKEN" in k))
""")
    out = _printed(cells[0])
    assert "uid 0" not in out and "uid 6" in out
    assert " True" not in out, out
    assert "env []" in out
    assert out.split("home ")[1].split("\n")[0] in ("[]", "['.pyenv']")


def test_writes_outside_the_job_folder_fail_and_the_host_is_untouched(course, tmp_path):
    target = tmp_path / "written-by-student"
    gradebook = tmp_path / "gradebook.db"
    gradebook.write_bytes(b"original")
    cells, _ = _run(f"""
import os
for p in [{str(target)!r}, {str(gradebook)!r}, {str(course.root / 'cnnlab' / 'checks.py')!r}, "/usr/evil", "/tmp/ok"]:
    try:
        with open(p, "w") as f:
            f.write("pwned")
        print("wrote", p)
    except OSError as e:
        print("refused", p, type(e).__name__)
""")
    out = _printed(cells[0])
    assert "wrote /tmp/ok" in out  # a private, throwaway /tmp
    assert out.count("refused") == 4, out
    assert not target.exists() and gradebook.read_bytes() == b"original"
    assert "pwned" not in (course.root / "cnnlab" / "checks.py").read_text()


def test_no_network_even_to_a_loopback_listener():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    accepted = []
    threading.Thread(target=lambda: accepted.append(server.accept()), daemon=True).start()
    cells, _ = _run(f"""
import socket
try:
    socket.create_connection(("127.0.0.1", {port}), timeout=3)
    print("connected")
except OSError as e:
    print("no network", type(e).__name__)
""")
    server.close()
    assert "no network" in _printed(cells[0]) and not accepted


def test_a_fork_bomb_is_stopped_by_the_process_limit():
    cells, status = _run("""
import os, time
children = 0
for _ in range(300):
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        time.sleep(5)
        os._exit(0)
    children += 1
print("children", children)
""", "print('still alive')")
    children = int(_printed(cells[0]).split()[-1])
    assert children < 100
    assert "still alive" in _printed(cells[1])


def test_allocating_far_beyond_the_memory_limit_fails_in_the_cell_only():
    cells, _ = _run("""
import numpy as np
try:
    big = np.ones(8 * 1024**3 // 8)   # 8 GiB, four times the limit
    print("allocated", big.nbytes)
except MemoryError:
    print("MemoryError")
""", "print('next cell runs')")
    assert "MemoryError" in _printed(cells[0])
    assert "next cell runs" in _printed(cells[1])


def test_kernel_death_zeroes_the_cells_it_prevented_and_keeps_earlier_ones():
    cells, status = _run("print('before')", "import os; os._exit(3)", "print('after')")
    assert status == "kernel_died"
    assert "before" in _printed(cells[0])
    for cell in cells[1:]:
        assert any(o.output_type == "error" and o.ename == "DeadKernelError" for o in cell.outputs)


def test_an_infinite_loop_times_out_and_the_next_cell_still_runs():
    cells, status = _run("while True: pass", "print('next')", timeout=3)
    assert any(o.output_type == "error" and o.ename == "CellTimeoutError" for o in cells[0].outputs)
    assert "next" in _printed(cells[1])


def test_an_output_flood_is_capped():
    cells, _ = _run("for i in range(200000): print('flood' * 20)", "print('next')")
    text = json.dumps(cells[0].outputs)
    assert len(text) < 300 * 1024 and "output truncated" in text
    assert "next" in _printed(cells[1])


def test_concurrent_sandboxes_never_share_a_uid():
    from cnnlab.grading.sandbox import claim_uid

    with claim_uid() as first, claim_uid() as second:
        assert first != second and min(first, second) >= 61000
