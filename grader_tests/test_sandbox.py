"""The sandbox, proved by trying to break out of it. Each attack runs as a
notebook cell through the real execute step (bwrap, setpriv, prlimit, a
kernel over ipc) and must fail, with the host untouched."""
from __future__ import annotations

import json
import os
import site
import socket
import subprocess
import sys
import threading
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

import cnnlab.grading.sandbox as sandbox
from cnnlab.checks import FORBIDDEN_LIBRARIES
from cnnlab.grading.kernel import execute_notebook
from cnnlab.grading.sandbox import Limits, bwrap_argv, check_available, claim_uid, prepare_job_dir


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


def test_the_catalogue_of_correct_answers_in_the_package_is_hidden():
    """cnnlab/ is mounted (the probe and checks run from it), but its catalogue holds correct answers."""
    import cnnlab.catalogue
    from cnnlab.simulate import CATALOGUE, load_catalogue

    assert load_catalogue("02_kernels")[1], "the catalogue has alternatives to hide"
    cells, _ = _run(f"""
import glob, os
print("files", sorted(os.path.basename(p) for p in glob.glob({str(CATALOGUE)!r} + "/*")))
try:
    from cnnlab.simulate import load_catalogue
    print("alternatives", len(load_catalogue("02_kernels")[1]))
except Exception as exc:
    print("refused", type(exc).__name__)
""")
    out = _printed(cells[0])
    assert "files []" in out and ("alternatives 0" in out or "refused" in out), out
    assert os.path.dirname(cnnlab.catalogue.__file__) == str(CATALOGUE)


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


# --- issue 15: one memory cap for the whole sandbox, bounded /tmp and job folder, hidden libraries ---
def _sandboxed(tmp: str, uid: int, script: str, limits: Limits) -> list[str]:
    """The argv that runs a Python script in the sandbox of `uid`, with tmp/job as its job folder."""
    job = Path(tmp) / "job"
    prepare_job_dir(job, uid)
    return bwrap_argv(job, [sys.executable, "-u", "-c", script], limits, uid=uid)


FORKED_HOGS = """
import os, select, time
import numpy as np
r, w = os.pipe()
children = []
for _ in range(5):
    pid = os.fork()
    if pid == 0:
        try:
            hog = np.ones(2**30 // 8)   # 1 GiB, every page touched: within the per-process limit
            os.write(w, b"%d " % os.getpid())
            time.sleep(60)
        finally:
            os._exit(0)
    children.append(pid)
os.close(w)
held, dead, deadline = set(), set(), time.time() + 45
while len(held | dead) < 5 and time.time() < deadline:   # until each child holds its GiB or was killed
    if select.select([r], [], [], 0.2)[0]:
        held |= {int(p) for p in os.read(r, 4096).split()}
    dead |= {pid for pid in children if pid not in dead and os.waitpid(pid, os.WNOHANG)[0]}
time.sleep(0.5)  # a child that said it held its GiB may have been killed for the last one's: reap it
dead |= {pid for pid in children if pid not in dead and os.waitpid(pid, os.WNOHANG)[0]}
print("holding", len(held - dead), "killed", len(dead))
for pid in set(children) - dead:
    os.kill(pid, 9)
"""


def test_forked_children_together_cannot_exceed_the_sandbox_memory_cap():
    cells, _ = _run(FORKED_HOGS, "print('next cell runs')", timeout=60)
    out = _printed(cells[0])
    holding = int(out.split("holding ")[1].split()[0])
    assert holding < 5, out
    assert holding * 2**30 < Limits().sandbox_memory_bytes, out   # 2 at most
    assert "next cell runs" in _printed(cells[1])                   # the kernel (and the host) are fine


FILL = """
import errno
written, error = 0, None
try:
    for i in range({files}):                 # files of 64 MiB: the largest file allowed
        with open({where!r} + f"/fill{{i}}", "wb") as f:
            for _ in range(4):
                f.write(bytes(16 * 2**20))
                written += 16 * 2**20
except OSError as e:
    error = errno.errorcode.get(e.errno)
print("written", written, "error", error)
"""


def test_the_private_tmp_is_refused_beyond_its_size():
    cells, _ = _run(FILL.format(files=16, where="/tmp"))   # 1 GiB
    out = _printed(cells[0]).split()
    assert out[3] == "ENOSPC" and int(out[1]) <= Limits().tmp_bytes, out


def test_a_full_job_folder_costs_only_its_own_sandbox():
    limits = Limits()
    fill = FILL.format(files=32, where=".") + "import sys; sys.stdin.read()  # stays, its folder full\n"
    write = "open('one', 'wb').write(bytes(64 * 2**20)); print('wrote')"
    with sandbox.job_folder(limits) as a, sandbox.job_folder(limits) as b, \
            claim_uid() as uid_a, claim_uid() as uid_b:
        full = subprocess.Popen(_sandboxed(a, uid_a, fill, limits), stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True)
        filled = full.stdout.readline().split()
        other = subprocess.run(_sandboxed(b, uid_b, write, limits), capture_output=True, text=True, timeout=60)
        full.stdin.close()
        full.wait(timeout=30)
    assert filled[3] == "ENOSPC" and int(filled[1]) <= limits.job_bytes, filled   # 2 GiB were tried
    assert other.stdout.strip() == "wrote", other.stderr[-500:]                   # beside it, at the same time


def test_one_cgroup_per_sandbox_caps_it_and_is_gone_after_the_claim():
    limits = Limits()
    with sandbox.job_folder(limits) as tmp, claim_uid() as uid:
        dirs = sandbox.cgroup_dirs(uid)
        proc = subprocess.Popen(_sandboxed(tmp, uid, "import sys; print('in'); sys.stdin.read()", limits),
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert proc.stdout.readline().strip() == "in"
        memory = next(d for d in dirs if (d / "memory.max").exists() or (d / "memory.limit_in_bytes").exists())
        cap = (memory / "memory.max") if (memory / "memory.max").exists() else (memory / "memory.limit_in_bytes")
        assert int(cap.read_text()) == limits.sandbox_memory_bytes
        assert proc.pid in [int(p) for p in (memory / "cgroup.procs").read_text().split()]  # bwrap and all below
        proc.stdin.close()
        proc.wait(timeout=30)
    assert dirs and not any(d.exists() for d in dirs)


def test_libraries_stay_hidden_even_from_the_base_interpreters_site_packages():
    places = [p for p in site.getsitepackages([sys.base_prefix]) if Path(p).is_dir()]
    places += [str(p) for pattern in ("/usr/lib/python3*/dist-packages", "/usr/local/lib/python3*/*-packages")
               for p in sorted(Path("/").glob(pattern.lstrip("/")))]
    assert any("scipy" in os.listdir(p) for p in places), "the base Python has no scipy: nothing to test"
    cells, _ = _run(f"""
import importlib, sys
import numpy, matplotlib.pyplot, ipykernel      # what answers and the kernel need still imports
for place in {places!r}:
    sys.path.insert(0, place)
    for name in [m for m in sys.modules if m.split(".")[0] == "scipy"]:
        del sys.modules[name]
    importlib.invalidate_caches()
    for library, function in [("scipy.ndimage", "maximum_filter"), ("scipy.signal", "correlate2d")]:
        try:
            getattr(importlib.import_module(library), function)
            print("imported", library, "from", place)
        except (ImportError, AttributeError):
            print("hidden", library, "from", place)
    sys.path.remove(place)
""")
    out = _printed(cells[0])
    assert not [o for o in cells[0].outputs if o.output_type == "error"], cells[0].outputs
    assert "imported" not in out and out.count("hidden") == 2 * len(places), out


def test_forbidden_libraries_are_found_in_every_site_folder_as_folders_and_single_files(tmp_path):
    site_packages = tmp_path / "lib" / "python3.11" / "site-packages"
    dist_packages = tmp_path / "local" / "lib" / "python3" / "dist-packages"
    for folder in ("scipy/ndimage", "scipy/fft", "torch", "numpy"):
        (site_packages / folder).mkdir(parents=True)
    dist_packages.mkdir(parents=True)
    for name in ("cv2.cpython-311-x86_64-linux-gnu.so", "skimage.py", "cv2_helpers.py", "keras-3.0.dist-info"):
        (dist_packages / name).write_text("")
    assert set(sandbox.hidden_libraries((tmp_path,))) == {
        site_packages / "scipy" / "ndimage", site_packages / "torch",
        dist_packages / "cv2.cpython-311-x86_64-linux-gnu.so", dist_packages / "skimage.py"}
    assert set(sandbox.HIDDEN_PACKAGES) == {lib.replace(".", "/") for lib in FORBIDDEN_LIBRARIES}  # one list


def test_without_cgroups_or_mounts_the_sandbox_falls_back_and_says_so_once(monkeypatch, caplog):
    class NoMounts:
        def mount(self, *args):
            return -1

    monkeypatch.setattr(sandbox, "hierarchies", lambda: ())
    monkeypatch.setattr(sandbox, "_libc", lambda: NoMounts())
    monkeypatch.setattr(sandbox, "_warned", set())
    with caplog.at_level("WARNING", logger=sandbox.__name__):
        for _ in range(2):
            with sandbox.job_folder() as tmp, claim_uid() as uid:
                argv = bwrap_argv(Path(tmp), ["true"], uid=uid)
                assert os.path.isdir(tmp)
    assert Path(argv[0]).name == "bwrap" and f"--as={Limits().memory_bytes}" in argv   # per-process limits only
    # Only the sandbox's own records count: a kernel client garbage-collected mid-test by
    # another library (jupyter_client's "Could not destroy zmq context") is not our warning.
    ours = [r for r in caplog.records if r.name == sandbox.__name__]
    assert len(ours) == 2, caplog.text   # one for the cgroup, one for the job folders


def test_job_folders_of_killed_graders_are_swept_and_live_ones_kept(tmp_path):
    """A grader SIGKILLed mid-run (a test of resumability does it) left its job tmpfs mounted for good."""
    import signal
    import subprocess
    import sys

    from cnnlab.grading.sandbox import _job_mounts, sweep_job_folders

    hold = ("import sys, time\nfrom cnnlab.grading.sandbox import job_folder\n"
            "with job_folder() as tmp:\n    print(tmp, flush=True)\n    time.sleep(600)\n")
    killed = subprocess.Popen([sys.executable, "-c", hold], stdout=subprocess.PIPE, text=True)
    alive = subprocess.Popen([sys.executable, "-c", hold], stdout=subprocess.PIPE, text=True)
    try:
        dead_mount, live_mount = killed.stdout.readline().strip(), alive.stdout.readline().strip()
        assert {dead_mount, live_mount} <= set(_job_mounts())
        killed.send_signal(signal.SIGKILL)
        killed.wait(timeout=30)
        assert dead_mount in _job_mounts(), "the killed grader's mount should outlive it (the leak)"
        assert sweep_job_folders() >= 1
        assert dead_mount not in _job_mounts() and not os.path.exists(dead_mount)
        assert live_mount in _job_mounts(), "a running grader's job folder must be left alone"
    finally:
        alive.kill()
        alive.wait(timeout=30)
        sweep_job_folders()


def test_the_shared_font_list_is_read_only_and_used_without_a_rescan():
    """matplotlib's font list is built once and mounted into every sandbox (fontcache.py):
    a student can neither change nor replace what the next student's kernel reads."""
    from cnnlab.grading.fontcache import font_list

    shared = font_list()
    assert shared is not None and shared.is_file()
    before = shared.read_bytes()
    cells, _ = _run(f"""
import os
path = "/tmp/matplotlib/{shared.name}"
for attack in (lambda: open(path, "a").write("[]"), lambda: os.unlink(path),
               lambda: os.rename(path, path + ".old"), lambda: os.chmod(path, 0o666)):
    try:
        attack()
        print("attack worked")
    except OSError as e:
        print("refused", e.errno)
""", """
import logging, io, os
seen = io.StringIO()
logging.getLogger("matplotlib").addHandler(logging.StreamHandler(seen))
import matplotlib.font_manager as fm
print("fonts", len(fm.fontManager.ttflist), "log", repr(seen.getvalue()), sorted(os.listdir("/tmp/matplotlib")))
""")
    assert "attack worked" not in _printed(cells[0]) and _printed(cells[0]).count("refused") == 4
    out = _printed(cells[1])
    assert "log ''" in out and f"['{shared.name}']" in out and int(out.split("fonts ")[1].split()[0]) > 0, out
    assert shared.read_bytes() == before
