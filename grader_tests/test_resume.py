"""Killed with SIGKILL at any point, `cnnlab autograde` finishes the rest on the
next run, with no duplicate or half-written result; --force regrades to the
same grades."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import nbformat
from nbgrader.api import Gradebook

from cnnlab.nbtools import fill_answers, instructor_answers
from cnnlab.simulate import load_catalogue

from conftest import cnnlab_cmd, run_env

A, NB = "04_dimensions", "dimensions"


def _grades(root):
    with Gradebook("sqlite:///" + str(root / "gradebook.db"), "learn-cnns") as gb:
        try:
            subs = gb.find_assignment(A).submissions
        except Exception:
            return {}
        return {s.student.id: {g.name: float(g.score) for nb in s.notebooks for g in nb.grades} for s in subs}


def _start(root, *args):
    return subprocess.Popen(cnnlab_cmd("--course", str(root), "autograde", A, "--json", *args),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=run_env(), start_new_session=True)


def _kill(proc):
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def test_killed_runs_resume_without_duplicates(course, course_copy):
    root = course_copy.root
    release = nbformat.read(root / "release" / A / f"{NB}.ipynb", as_version=4)
    answers = instructor_answers(course_copy.read_source(A, NB))
    mistakes = load_catalogue(A)[0]
    students = {"s0": answers, "s1": {**answers, mistakes[0].cell_id: mistakes[0].code}, "s2": None,
                "s3": {**answers, mistakes[5].cell_id: mistakes[5].code}, "s4": answers,
                "s5": {**answers, mistakes[9].cell_id: mistakes[9].code}}
    for sid, chosen in students.items():
        folder = root / "submitted" / sid / A
        folder.mkdir(parents=True)
        nbformat.write(release if chosen is None else fill_answers(release, chosen), str(folder / f"{NB}.ipynb"))

    # 1. killed very early (registration, intake or the first sandbox)
    proc = _start(root, "--workers", "1")
    time.sleep(1.5)
    _kill(proc)
    # 2. killed after the first submissions are published
    proc = _start(root, "--workers", "1")
    deadline = time.monotonic() + 300
    while not list((root / "autograded").glob(f"*/{A}/.cnnlab.json")) and time.monotonic() < deadline:
        time.sleep(0.2)
    _kill(proc)
    done_before = {p.parent.parent.name for p in (root / "autograded").glob(f"*/{A}/.cnnlab.json")}
    assert done_before and len(done_before) < len(students)

    # 3. the rerun finishes the rest and skips what was published
    proc = subprocess.run(cnnlab_cmd("--course", str(root), "autograde", A, "--json"), capture_output=True,
                          text=True, env=run_env(), timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    summary = json.loads(proc.stdout)
    statuses = {r["student"]: r["status"] for r in summary["results"]}
    assert {s for s, st in statuses.items() if st == "skipped"} == done_before
    assert set(statuses) == set(students) and "error" not in statuses.values()
    graded = _grades(root)
    assert set(graded) == set(students)  # one submission each: no duplicates
    for sid in students:
        folder = root / "autograded" / sid / A
        assert (folder / ".cnnlab.json").is_file() and (folder / f"{NB}.ipynb").is_file()
    assert not list((root / "autograded").glob("*/.*.old-*")), "a half-replaced folder was left behind"

    # 4. --force regrades everything to identical grades
    proc = subprocess.run(cnnlab_cmd("--course", str(root), "autograde", A, "--force", "--json"),
                          capture_output=True, text=True, env=run_env(), timeout=600)
    assert proc.returncode == 0
    assert _grades(root) == graded
    full = sum(graded["s0"].values())
    assert sum(graded["s4"].values()) == full > 0 and sum(graded["s2"].values()) == 0
    assert all(sum(graded[s].values()) < full for s in ("s1", "s3", "s5"))

    # 5. a changed submission is regraded without --force; the others are skipped
    nbformat.write(fill_answers(release, answers), str(root / "submitted" / "s1" / A / f"{NB}.ipynb"))
    proc = subprocess.run(cnnlab_cmd("--course", str(root), "autograde", A, "--json"), capture_output=True,
                          text=True, env=run_env(), timeout=600)
    statuses = {r["student"]: r["status"] for r in json.loads(proc.stdout)["results"]}
    assert statuses.pop("s1") == "graded" and set(statuses.values()) == {"skipped"}
    assert sum(_grades(root)["s1"].values()) == full
