"""The canary (cnnlab/grading/canary.py): a sandbox that cannot import the probe
once graded a whole class 0, the instructor's answers included, and exited 0.

Reproduced as it happened: the grader runs a copy of the cnnlab package that
lives elsewhere (PYTHONPATH), so the sandbox mounts that copy while the
sandboxed kernel's interpreter imports the installed one, which it cannot
read. The run must stop in one line before anything is recorded; in a sound
setting the canary runs once and is then remembered for the same state.
"""
from __future__ import annotations

import os
import shutil
import subprocess

import nbformat
from nbgrader.api import Gradebook

from cnnlab.course import load_course
from cnnlab.grading import autograde
from cnnlab.grading.canary import check, instructor_submission
from cnnlab.grading.workers import LocalRunner

from conftest import ROOT, cnnlab_cmd, copy_course, run_env

A = "01_why_cnns"


def test_a_sandbox_that_cannot_import_the_probe_stops_the_run_before_anything_is_recorded(course, tmp_path):
    root = tmp_path / "course"
    copy = copy_course(course, root)
    for nb_name, nb in instructor_submission(copy, A).items():
        folder = root / "submitted" / "ada" / A
        folder.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, str(folder / f"{nb_name}.ipynb"))
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(ROOT / "cnnlab", elsewhere / "cnnlab", ignore=shutil.ignore_patterns("__pycache__"))
    cache = {"CNNLAB_CACHE": str(tmp_path / "cache")}

    broken = subprocess.run(cnnlab_cmd("--course", str(root), "autograde", A),
                            env={**run_env(), **cache, "PYTHONPATH": str(elsewhere)},
                            capture_output=True, text=True, timeout=600)
    assert broken.returncode == 2, broken.stdout + broken.stderr
    assert "Traceback" not in broken.stderr and len(broken.stderr.strip().splitlines()) == 1, broken.stderr
    assert "instructor's own answers scored 0 of" in broken.stderr and "nothing was graded" in broken.stderr
    assert not (root / "autograded").exists()
    with Gradebook("sqlite:///" + str(root / "gradebook.db"), "learn-cnns") as gb:
        assert gb.find_assignment(A).submissions == []

    # the sound setting (this process's own cnnlab): its own canary, then the class
    def no_grading(*_):
        raise AssertionError("the canary ran again")

    os.environ["CNNLAB_CACHE"], saved = cache["CNNLAB_CACHE"], os.environ.get("CNNLAB_CACHE", "")
    try:
        first = autograde(load_course(root), A, workers=1, progress=False)
        assert first.canaries == 1 and first.counts()["graded"] == 1
        assert [r.score for r in first.results] == [first.results[0].max_score]
        # the same state passed: remembered, and nothing is graded to know it
        assert check(load_course(root), A, True, LocalRunner(), no_grading) == 0
    finally:
        os.environ["CNNLAB_CACHE"] = saved
