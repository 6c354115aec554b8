"""A notebook handed in as released runs once per grading run (run.GradingRun.execute): only a
notebook of nothing but the lesson's own code is shared, its result is what the submission's own
run gives, and a run that did not end well, or anything a student wrote, is never shared."""
from __future__ import annotations

import nbformat
import pytest

from cnnlab.grading.execute import runs_only_the_lesson
from cnnlab.grading.pipeline import autograde
from cnnlab.grading.run import GradingRun
from cnnlab.grading.workers import LocalRunner
from cnnlab.nbtools import fill_answers, grade_id, instructor_answers, nbgrader_meta

from conftest import copy_course

A, NB = "02_kernels", "kernels"


def _release(course):
    return nbformat.read(course.root / "release" / A / f"{NB}.ipynb", as_version=4)


def test_only_a_notebook_of_the_lessons_own_code_counts_as_the_lesson(course):
    release = _release(course)
    assert runs_only_the_lesson(release, release)
    restored = nbformat.from_dict(release)  # a locked cell whose source nbgrader put back (hidden tests and all)
    test_cell = next(c for c in restored.cells if nbgrader_meta(c).get("grade") and nbgrader_meta(c).get("locked"))
    test_cell.source += "\nassert True  # the hidden part"
    assert runs_only_the_lesson(restored, release)
    answered = fill_answers(release, instructor_answers(course.read_source(A, NB)))
    assert not runs_only_the_lesson(answered, release)
    added = nbformat.from_dict(release)
    added.cells.append(nbformat.v4.new_code_cell("print('mine')"))
    assert not runs_only_the_lesson(added, release)
    plain = nbformat.from_dict(release)  # a code cell nbgrader does not restore, changed
    index = next(i for i, c in enumerate(plain.cells) if c.cell_type == "code" and not nbgrader_meta(c).get("locked"))
    plain.cells[index].source = "x = 1"
    assert not runs_only_the_lesson(plain, release)
    claimed = nbformat.from_dict(release)  # her own code, claiming to be a locked cell of another id
    claimed.cells[index].metadata["nbgrader"] = {"locked": True, "grade_id": "not_in_the_release", "grade": False,
                                                 "solution": False}
    claimed.cells[index].source = "x = 1"
    assert not runs_only_the_lesson(claimed, release)


class _Runner:
    """Hands back the results it is given, in order; counts runs and kernels forgone."""

    def __init__(self, *results):
        self.results, self.runs, self.forgone = list(results), 0, 0

    def execute(self, job, label):
        self.runs += 1
        result = self.results.pop(0)
        if isinstance(result, Exception):
            raise result
        return result

    def forgo(self, runs):
        self.forgone += runs


def _run(runner):
    return GradingRun("/nonexistent", "sqlite://", runner, owns_runner=False)


def test_a_lesson_only_job_runs_once_and_each_gets_its_own_copy_of_the_result():
    runner = _Runner({"status": "ok", "notebook": "{}", "probes": {"a": {"report": 1}}, "runs": 1})
    run = _run(runner)
    first, second = run.execute("job", "bo", lesson_run="key"), run.execute("job", "cy", lesson_run="key")
    assert runner.runs == 1 and runner.forgone == 1 and first == second
    second["probes"]["a"]["report"] = 99  # one student's result is not another's object
    assert first["probes"]["a"]["report"] == 1


def test_a_run_that_did_not_end_well_or_failed_or_was_not_the_lessons_is_shared_with_no_one():
    ok = {"status": "ok", "notebook": "{}", "probes": {}, "runs": 1}
    runner = _Runner({"status": "kernel_died", "notebook": "{}", "probes": {}, "runs": 2}, ok)
    run = _run(runner)
    run.execute("job", "bo", lesson_run="key")
    assert run.execute("job", "cy", lesson_run="key") == ok and runner.runs == 2 and runner.forgone == 0
    runner = _Runner(RuntimeError("the cluster is gone"), ok)
    run = _run(runner)
    with pytest.raises(RuntimeError):
        run.execute("job", "bo", lesson_run="key")
    assert run.execute("job", "cy", lesson_run="key") == ok and runner.runs == 2
    runner = _Runner(ok, ok, ok)
    run = _run(runner)
    run.execute("job", "bo"), run.execute("job", "cy"), run.execute("other job", "di", lesson_run="other key")
    assert runner.runs == 3  # not the lesson's, or not the same job: each runs its own


class _CountingRunner(LocalRunner):
    def __init__(self):
        super().__init__()
        self.labels = []

    def execute(self, job, label):
        self.labels.append(label)
        return super().execute(job, label)


def _outputs(root, student):
    nb = nbformat.read(root / "autograded" / student / A / f"{NB}.ipynb", as_version=4)
    return [(grade_id(c), c.execution_count, c.outputs) for c in nb.cells if c.cell_type == "code"]


@pytest.mark.xdist_group("figures")
def test_a_class_handing_in_the_release_runs_it_once_and_each_gets_what_her_own_run_gives(course, tmp_path):
    root = tmp_path / "class"
    copy = copy_course(course, root)
    release = _release(copy)
    added = nbformat.from_dict(release)
    added.cells.append(nbformat.v4.new_code_cell("print('my own cell')"))
    scrolled = nbformat.from_dict(release)  # as JupyterLab saves a notebook she only looked at
    for cell in scrolled.cells:
        cell.metadata["scrolled"] = True
    notebooks = {"bo": release, "cy": scrolled, "di": release, "ed": added,
                 "fay": fill_answers(release, instructor_answers(course.read_source(A, NB)))}
    for student, nb in notebooks.items():
        folder = root / "submitted" / student / A
        folder.mkdir(parents=True)
        nbformat.write(nb, str(folder / f"{NB}.ipynb"))
    runner = _CountingRunner()
    try:
        summary = autograde(copy, A, workers=2, progress=False, runner=runner)
    finally:
        runner.close()
    scores = {r.student: r.score for r in summary.results}
    assert scores["bo"] == scores["cy"] == scores["di"] == scores["ed"] == 0 < scores["fay"]
    ran = sorted(label.split("-")[0] for label in runner.labels if label.split("-")[0] in notebooks)
    assert ran.count("ed") == ran.count("fay") == 1, ran  # her own cell, her answers: their own kernels
    assert sum(ran.count(s) for s in ("bo", "cy", "di")) == 1, ran
    shared = _outputs(root, "bo")
    assert shared == _outputs(root, "cy") == _outputs(root, "di")
    assert any(outputs for _, _, outputs in shared)
    # bo graded again with her own kernel: the same notebook, outputs and counts
    with open(root / "nbgrader_config.py", "a") as f:
        f.write("\nc.SandboxedExecute.share_lesson_runs = False\n")
    runner = _CountingRunner()
    try:
        again = autograde(copy, A, students=["bo"], force=True, workers=1, progress=False, runner=runner)
    finally:
        runner.close()
    assert [r.score for r in again.results] == [scores["bo"]] and "bo-kernels" in runner.labels
    assert _outputs(root, "bo") == shared
