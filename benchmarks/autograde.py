"""Benchmark: `cnnlab autograde` (sandboxed, parallel) against plain serial
`nbgrader autograde` on identical copies of one simulated class.

    .venv/bin/python benchmarks/autograde.py [--students 16] [--assignment 02_kernels] [--rounds 1]
                                             [--kinds correct,wrong,blank]

Both runs happen in this process tree, one after the other, on the same
machine; the script checks that both give identical grades and prints the
time of each and their ratio (with --rounds N, N such pairs and the median,
lowest and highest ratio). A round whose run did the once-per-install work
(the canary's check of a course state new here, the lesson figures' drawing:
both remembered after, records.py; the sandboxes' font list, which `make` builds)
says so, and the lowest ratio of those rounds is printed apart. Where the time goes is printed too (kernel start,
sandbox start), measured on the spot.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cnnlab.course import load_course  # noqa: E402
from cnnlab.grading.fontcache import cache_root as font_cache_root  # noqa: E402
from cnnlab.grading.records import record_folder  # noqa: E402
from cnnlab.nbtools import fill_answers, instructor_answers  # noqa: E402
from cnnlab.simulate import load_catalogue  # noqa: E402

BIN = Path(sys.executable).parent


KINDS = ("correct", "wrong", "blank")


def make_class(course, root: Path, assignment: str, n: int, kinds: tuple[str, ...] = KINDS) -> None:
    """n submissions, their kinds in turn: correct (the instructor's answers), wrong (one of the
    catalogue's mistakes), blank (the release notebook, handed in unchanged)."""
    a = course.assignment(assignment)
    mistakes, _ = load_catalogue(assignment)
    for name in ("nbgrader_config.py", "course.yml"):
        shutil.copy2(course.root / name, root / name)
    for folder in ("source", "release"):
        shutil.copytree(course.root / folder, root / folder)
    for nb_name in a.notebooks:
        release = nbformat.read(course.root / "release" / assignment / f"{nb_name}.ipynb", as_version=4)
        answers = instructor_answers(course.read_source(assignment, nb_name))
        for i in range(n):
            kind = kinds[i % len(kinds)]
            if kind == "correct":
                nb = fill_answers(release, answers)
            elif kind == "wrong":
                m = mistakes[i % len(mistakes)]
                nb = fill_answers(release, {**answers, m.cell_id: m.code})
            else:
                nb = release
            folder = root / "submitted" / f"student{i:03d}" / assignment
            folder.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, str(folder / f"{nb_name}.ipynb"))


def grades(root: Path, assignment: str) -> dict:
    with Gradebook("sqlite:///" + str(root / "gradebook.db"), "learn-cnns") as gb:
        return {s.student.id: {g.name: float(g.score) for nb in s.notebooks for g in nb.grades}
                for s in gb.find_assignment(assignment).submissions}


def timed(cmd: list[str], cwd: Path) -> float:
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd[:3])} failed:\n{proc.stdout[-1500:]}\n{proc.stderr[-1500:]}")
    return elapsed


def costs() -> dict[str, float]:
    """Start-up costs measured here: a bare kernel, and a kernel inside the sandbox."""
    from cnnlab.grading.kernel import execute_notebook

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    out = {}
    for label, sandbox in (("kernel start and one cell, no sandbox", False), ("kernel start and one cell, sandboxed", True)):
        start = time.perf_counter()
        for _ in range(3):
            execute_notebook(nbformat.writes(nb), {}, {"timeout": 30, "max_cell_output": 65536, "sandbox": sandbox})
        out[label] = (time.perf_counter() - start) / 3
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=16)
    parser.add_argument("--assignment", default="02_kernels")
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--rounds", type=int, default=1,
                        help="pairs of runs, each pair on fresh copies of the class, nbgrader then cnnlab: "
                             "the machine's speed drifts, so one pair's ratio varies by about 10 %%")
    parser.add_argument("--kinds", default=",".join(KINDS),
                        help="the submissions' kinds, in turn (default: a third each); blank ones are graded "
                             "from one run of the release (GradingRun.execute), so --kinds correct,wrong "
                             "measures the rest alone")
    args = parser.parse_args()
    args.kinds = tuple(k.strip() for k in args.kinds.split(",") if k.strip())
    if not args.kinds or set(args.kinds) - set(KINDS):
        parser.error(f"--kinds: a comma-separated list of {', '.join(KINDS)}")
    course = load_course(ROOT)
    n = args.students
    print(f"class: {n} submissions of {args.assignment} ({', '.join(args.kinds)}), {os.cpu_count()} cores")
    ratios, all_same, first = [], True, []
    for round_ in range(1, max(1, args.rounds) + 1):
        t_nbgrader, t_cnnlab, same, paid = one_round(course, args)
        ratios.append(t_nbgrader / t_cnnlab)
        if paid:
            first.append(ratios[-1])
        all_same = all_same and same
        label = f"round {round_}: " if args.rounds > 1 else ""
        print(f"{label}nbgrader autograde (serial, unsandboxed): {t_nbgrader:7.1f} s  ({t_nbgrader / n:.2f} s/submission)")
        print(f"{label}cnnlab autograde ({args.workers} workers, sandboxed, verified):  {t_cnnlab:7.1f} s  "
              f"({t_cnnlab / n:.2f} s/submission)")
        print(f"{label}speed-up: {ratios[-1]:.2f}x   grades identical: {same}"
              + (f"   (paid once per course state and install: {', '.join(paid)})" if paid else ""))
    if len(ratios) > 1:
        print(f"speed-up over {len(ratios)} rounds: median {statistics.median(ratios):.2f}x, "
              f"lowest {min(ratios):.2f}x, highest {max(ratios):.2f}x"
              + (f"; {len(first)} of them a first run (canary, figures or font list), lowest {min(first):.2f}x" if first else ""))
    for label, seconds in costs().items():
        print(f"start-up cost, {label}: {seconds:.2f} s")
    if not all_same:
        sys.exit("grades differ")


def one_round(course, args) -> tuple[float, float, bool, list[str]]:
    """nbgrader's serial autograde, then ours, on two fresh copies of one simulated class; and what
    of the once-per-install work ours did (the canary, the lesson figures' drawing)."""
    with tempfile.TemporaryDirectory(prefix="cnnlab-bench-") as tmp:
        ours, theirs = Path(tmp) / "cnnlab", Path(tmp) / "nbgrader"
        for root in (ours, theirs):
            root.mkdir()
            make_class(course, root, args.assignment, args.students, args.kinds)
        # both gradebooks get the assignment the same way before the clock starts
        for root in (ours, theirs):
            timed([str(BIN / "nbgrader"), "generate_assignment", args.assignment, "--force",
                   "--CourseDirectory.release_directory=" + str(Path(tmp) / f"rel-{root.name}")], root)
        t_nbgrader = timed([str(BIN / "nbgrader"), "autograde", args.assignment], theirs)
        before = first_runs()
        t_cnnlab = timed([str(BIN / "cnnlab"), "autograde", args.assignment, "--workers", str(args.workers)], ours)
        paid = sorted(kind for kind, n in first_runs().items() if n > before[kind])
        return t_nbgrader, t_cnnlab, grades(ours, args.assignment) == grades(theirs, args.assignment), paid


def first_runs() -> dict[str, int]:
    """How many canary passes and lesson-figure drawings are remembered (records.py), and font lists
    built (fontcache.py; `make` builds this venv's): a run that adds one paid, once for this course
    state and install, what the runs after it do not."""
    found = {kind: len(list(record_folder(kind).glob("*.json"))) for kind in ("canary", "lesson-figures")}
    return {**found, "font list": len(list(font_cache_root().glob("*/fontlist-v*.json")))}


if __name__ == "__main__":
    main()
