"""Benchmark: does grading cost grow with the class? 20 submissions graded in a class of
20, then the same 20 in a class of 500.

    .venv/bin/python benchmarks/scale.py [--graded 20] [--class-size 500] [--assignment 02_kernels]

The large class is simulated: the 480 others are copied into the gradebook (student,
submission, every grade scored) as a graded class would leave them, without running
their notebooks; the 20 are graded by `cnnlab autograde` in both. Printed: seconds per
graded submission and the coordinator's peak memory (VmHWM of the `cnnlab` process)
in each, and their ratios (issue 21: within 15 %). The runs happen in this process
tree, one after the other; the canary is remembered from the first run. With
--rounds N, N pairs on fresh copies, the order of the two sizes alternating (one run
of each differs by 10 % from the next on this machine): the medians and their ratio.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import subprocess
import tempfile
import threading
import time
import warnings
from pathlib import Path

from nbgrader.api import Gradebook
from sqlalchemy.exc import SAWarning

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from autograde import BIN, grades, make_class  # noqa: E402  (the same simulated class)
from cnnlab.course import load_course  # noqa: E402


def add_graded_others(root: Path, assignment: str, first: int, count: int) -> None:
    """`count` more students, each with a graded submission in the gradebook."""
    with warnings.catch_warnings(), Gradebook("sqlite:///" + str(root / "gradebook.db"), "learn-cnns") as gb:
        # nbgrader's update_or_create_submission warns of its own autoflush on every new student
        warnings.simplefilter("ignore", SAWarning)
        for i in range(first, first + count):
            student = f"other{i:04d}"
            gb.update_or_create_student(student)
            submission = gb.update_or_create_submission(assignment, student)
            for nb in submission.notebooks:
                for grade in nb.grades:
                    grade.auto_score = grade.max_score if i % 2 else 0
                    grade.needs_manual_grade = False
            if i % 50 == 0:
                gb.db.commit()
        gb.db.commit()


def run_measured(cmd: list[str], cwd: Path) -> tuple[float, int]:
    """Wall seconds and the peak resident memory (kB) of the process `cmd` starts."""
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    peak = [0]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def watch():
        while proc.poll() is None:
            try:
                for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        peak[0] = max(peak[0], int(line.split()[1]))
            except OSError:
                pass
            time.sleep(0.1)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    out, _ = proc.communicate()
    elapsed = time.perf_counter() - start
    watcher.join()
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd[:3])} failed:\n{out[-2000:]}")
    return elapsed, peak[0]


def graded_class(course, tmp: Path, a: str, n: int, size: int) -> tuple[float, float]:
    """Seconds per graded submission and the coordinator's peak MiB: `n` graded in a class of `size`."""
    root = tmp / f"class{size}"
    root.mkdir()
    make_class(course, root, a, n)
    subprocess.run([str(BIN / "cnnlab"), "--course", str(root), "autograde", a, "--student", "nobody-yet"],
                   capture_output=True)  # registers the assignment; no such student, nothing graded
    add_graded_others(root, a, n, size - n)
    seconds, peak_kb = run_measured([str(BIN / "cnnlab"), "--course", str(root), "autograde", a], root)
    graded = grades(root, a)
    assert sum(s.startswith("student") for s in graded) == n and len(graded) == size, len(graded)
    return seconds / n, peak_kb / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--graded", type=int, default=20)
    parser.add_argument("--class-size", type=int, default=500)
    parser.add_argument("--assignment", default="02_kernels")
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    course, a, n = load_course(ROOT), args.assignment, args.graded
    sizes = (n, args.class_size)
    runs: dict[int, list[tuple[float, float]]] = {size: [] for size in sizes}
    print(f"{n} submissions of {a} graded, {os.cpu_count()} cores")
    print(f"{'round':>5}  {'class size':>10}  {'s/submission':>12}  {'coordinator peak MiB':>20}")
    for r in range(args.rounds):
        for size in (sizes if r % 2 == 0 else sizes[::-1]):  # neither size always goes first
            with tempfile.TemporaryDirectory(prefix="cnnlab-scale-") as tmp:
                per, mib = graded_class(course, Path(tmp), a, n, size)
            runs[size].append((per, mib))
            print(f"{r + 1:>5}  {size:>10}  {per:12.2f}  {mib:20.1f}", flush=True)
    (per_s, mem_s), (per_l, mem_l) = ((statistics.median(p for p, _ in runs[size]),
                                       statistics.median(m for _, m in runs[size])) for size in sizes)
    label = f"medians of {args.rounds} rounds" if args.rounds > 1 else "one run each"
    print(f"ratio {sizes[1]} / {sizes[0]} ({label}): time {per_l / per_s:.2f}x, peak memory {mem_l / mem_s:.2f}x "
          f"(goal: within 1.15x each)")


if __name__ == "__main__":
    main()
