"""Benchmark: `cnnlab autograde --scheduler` on a Dask cluster of one worker,
then of two, with the gradebook in PostgreSQL; and the same class graded
locally (SQLite, local workers) as the baseline every grade is checked against.

    .venv/bin/python benchmarks/cluster.py [--students 16] [--assignment 02_kernels]

Real servers on loopback, started here and stopped at the end (grader_tests/
servers.py): `initdb`/`pg_ctl`, `dask scheduler`, `dask worker --nthreads 1`.
All runs happen in this process tree, one after the other, on identical copies
of one simulated class. Prints submissions per minute for each run and the
two-worker/one-worker ratio. On one machine the workers share its cores with
the coordinator; across machines each worker brings its own.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from nbgrader.api import Gradebook

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks"), str(ROOT / "grader_tests")]

from autograde import make_class  # noqa: E402
from cnnlab.course import load_course  # noqa: E402
from servers import DaskCluster, Postgres  # noqa: E402

BIN = Path(sys.executable).parent


def grades(db_url: str, assignment: str) -> dict:
    with Gradebook(db_url, "learn-cnns") as gb:
        return {s.student.id: {g.name: float(g.score) for nb in s.notebooks for g in nb.grades}
                for s in gb.find_assignment(assignment).submissions}


def autograde(root: Path, assignment: str, *args: str) -> tuple[float, float]:
    """Seconds of the whole command, and of them the coordinator's own (trusted steps)."""
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    started = time.perf_counter()
    done = subprocess.run([str(BIN / "cnnlab"), "--course", str(root), "autograde", assignment, "--json", *args],
                          capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - started
    if done.returncode:
        sys.exit(f"autograde failed: {done.stderr.strip()[-800:]}")
    return seconds, json.loads(done.stdout)["coordinator_seconds"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=16)
    parser.add_argument("--assignment", default="02_kernels")
    args = parser.parse_args()
    course = load_course(ROOT)
    n, a = args.students, args.assignment
    with tempfile.TemporaryDirectory(prefix="cnnlab-bench-") as tmp, Postgres() as pg:
        roots = {}
        for run in ("local", "one", "two"):
            roots[run] = Path(tmp) / run
            roots[run].mkdir()
            make_class(course, roots[run], a, n)
        print(f"{n} submissions of {a}, {os.cpu_count()} cores; each run on its own copy of the class")
        seconds, busy = {}, {}
        seconds["local"], busy["local"] = autograde(roots["local"], a)
        reference = grades(f"sqlite:///{roots['local'] / 'gradebook.db'}", a)
        for run, workers in (("one", 1), ("two", 2)):
            db = pg.create_database(f"bench_{run}")
            with DaskCluster(workers=workers) as cluster:
                seconds[run], busy[run] = autograde(roots[run], a, "--db", db, "--scheduler", cluster.address)
            if grades(db, a) != reference:
                sys.exit(f"the grades of the {run}-worker cluster run differ from the local run's")
        for run, label in (("local", "local (SQLite, 2 local workers)"), ("one", "Dask, 1 worker (PostgreSQL)"),
                           ("two", "Dask, 2 workers (PostgreSQL)")):
            print(f"  {label:<34} {seconds[run]:6.1f} s  {60 * n / seconds[run]:5.1f} submissions/min  "
                  f"(coordinator busy {busy[run]:.1f} s, {busy[run] / n:.2f} s per submission)")
        print(f"two workers / one worker: {seconds['one'] / seconds['two']:.2f}x the throughput; "
              "grades identical to the local run in both")
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
