"""Lesson figures drawn once per run (cnnlab/grading/figures.py): the image a
student's feedback shows is byte for byte what her own kernel would have drawn,
no student's code can change another's, and a student whose notebook breaks
such a cell keeps her own outputs."""
from __future__ import annotations

import copy
import json
import threading
import time

import nbformat
import pytest

from cnnlab.drawn_once import source_hash
from cnnlab.grading.figures import drawn_once_cells, swap_in
from cnnlab.grading.pipeline import autograde
from cnnlab.grading.plan import plan_steps
from cnnlab.grading.run import GradingRun
from cnnlab.grading.unrun_figures import fill_unrun, leave_unrun
from cnnlab.nbtools import fill_answers, grade_id, instructor_answers

from conftest import copy_course

A, NB = "02_kernels", "kernels"
#: an answer that also sabotages matplotlib for the rest of her notebook
SABOTAGE = "\nimport matplotlib.pyplot as _plt\n_plt.rcParams['figure.facecolor'] = 'red'\n"
#: an answer that needs the sliding figure's demo image, reached by a string (unrun_figures.py
#: must run that cell for her, or her function fails)
BY_NAME = ("\n_mine = cross_correlate2d\n\ndef cross_correlate2d(image, kernel):\n"
           "    assert globals()['demo_' + 'image'].shape == (5, 6), 'the lesson cell ran'\n"
           "    return _mine(image, kernel)\n")


def _release(course):
    return nbformat.read(course.root / "release" / A / f"{NB}.ipynb", as_version=4)


def test_only_figures_that_need_no_student_code_are_drawn_once(course):
    release = _release(course)
    ids = {grade_id(release.cells[i]) for i in drawn_once_cells(release)}
    assert {"conventions_figure", "sliding_figure", "feature_map_figure"} <= ids
    assert "hopper_figure" not in ids                 # drawn with the student's cross_correlate2d
    assert not any(grade_id(c) in ids for c in release.cells if c.metadata.get("nbgrader", {}).get("solution"))


def _cell(source, **meta):
    cell = nbformat.v4.new_code_cell(source)
    if meta:
        cell.metadata["nbgrader"] = {"grade": False, "solution": False, "locked": False, "grade_id": "x", **meta}
    return cell


def test_a_figure_drawn_from_anything_the_students_code_made_is_drawn_for_each_student(course):
    nb = nbformat.v4.new_notebook(cells=[
        _cell("import numpy as np\nimport matplotlib.pyplot as plt"),
        _cell("def f(x):\n    raise NotImplementedError()", solution=True),
        _cell("y = [f(v) for v in range(3)]", locked=True),                       # made with her f
        _cell("def g():\n    return f(2)", locked=True),                          # calls her f
        _cell("fig, ax = plt.subplots()\nax.plot(y)\nplt.show()", locked=True),   # 4: her y
        _cell("fig, ax = plt.subplots()\nax.plot([g()])\nplt.show()", locked=True),  # 5: her f, via g
        _cell("y = [1, 2]\nfig, ax = plt.subplots()\nax.plot(y)\nplt.show()", locked=True),  # 6: its own y
        _cell("for ax in plt.subplots(1, 2)[1]:\n    ax.plot([0, 1])\nplt.show()", locked=True),  # 7
        _cell("fig, ax = plt.subplots()\nax.plot([3])\nplt.show()"),           # 8: not locked
    ])
    assert drawn_once_cells(nb) == [6, 7]
    learning = nbformat.read(course.root / "release" / "05_learning_filters" / "learning_filters.ipynb", as_version=4)
    assert "xo_curves_figure" not in {grade_id(learning.cells[i]) for i in drawn_once_cells(learning)}  # her backward passes trained it


def _graded_class(course, root, draw_once: bool):
    copy = copy_course(course, root)
    if not draw_once:
        with open(root / "nbgrader_config.py", "a") as f:
            f.write("\nc.SandboxedExecute.draw_once = False\n")
    release, answers = _release(copy), instructor_answers(course.read_source(A, NB))
    notebooks = {"ada": fill_answers(release, answers),
                 "mal": fill_answers(release, {**answers, "cross_correlate2d_answer": answers["cross_correlate2d_answer"] + SABOTAGE}),
                 "eve": fill_answers(release, {**answers, "cross_correlate2d_answer": answers["cross_correlate2d_answer"] + BY_NAME})}
    for student, nb in notebooks.items():
        folder = root / "submitted" / student / A
        folder.mkdir(parents=True)
        nbformat.write(nb, str(folder / f"{NB}.ipynb"))
    summary = autograde(copy, A, workers=2, progress=False)
    assert not summary.failed, summary.failed
    scores = {r.student: r.score for r in summary.results}
    return scores, {s: nbformat.read(root / "autograded" / s / A / f"{NB}.ipynb", as_version=4) for s in notebooks}


def _counts(nb):
    return [c.execution_count for c in nb.cells if c.cell_type == "code"]


def _pngs(nb, ids):
    return {grade_id(c): [o["data"]["image/png"] for o in c.outputs if "image/png" in o.get("data", {})]
            for c in nb.cells if grade_id(c) in ids}


@pytest.mark.xdist_group("figures")
def test_drawn_once_figures_are_what_her_own_kernel_draws_and_nobody_elses(course, tmp_path):
    release = _release(course)
    ids = {grade_id(release.cells[i]) for i in drawn_once_cells(release)}
    once_scores, once = _graded_class(course, tmp_path / "once", draw_once=True)
    each_scores, each = _graded_class(course, tmp_path / "each", draw_once=False)
    # figures drawn once and cells left unrun (unrun_figures.py) change no score and no execution count
    assert once_scores == each_scores and once_scores["eve"] == once_scores["ada"] > 0
    assert all(_counts(once[s]) == _counts(each[s]) for s in once)
    assert _counts(once["ada"]) == list(range(1, len(_counts(once["ada"])) + 1))
    ada_once, ada_each = _pngs(once["ada"], ids), _pngs(each["ada"], ids)
    assert set(ada_once) == ids and all(len(v) == 1 for v in ada_once.values()), ada_once.keys()
    assert ada_once == ada_each                     # byte for byte what her own kernel draws
    # mal's answer turns every later figure red, in her own kernel: drawn each time, hers are red
    mal_once, mal_each = _pngs(once["mal"], ids), _pngs(each["mal"], ids)
    later = {i for i in ids if i != "conventions_figure" and i != "sliding_figure"}  # after her answer cell
    assert later and all(mal_each[i] != ada_each[i] for i in later)
    # drawn once, the figures come from the release notebook, never a student's kernel: hers are
    # the lesson's (her feedback does not show her red ones), and nothing of hers reached ada's
    assert mal_once == ada_each and ada_once == ada_each


class _CountingRunner:
    """A runner that runs nothing: it hands the job's notebook back and counts jobs and closes.
    A drawing of the lesson figures says it began (`drawing`) and ends only once `gate` is open,
    so a test decides what happens while it is under way, on a machine of any speed."""

    def __init__(self):
        self.jobs, self.closed, self._lock = [], 0, threading.Lock()
        self.drawing, self.gate = threading.Event(), threading.Event()
        self.gate.set()

    def expect(self, runs: int) -> None:
        pass

    def execute(self, job: str, label: str) -> dict:
        if label.startswith("lesson figures"):
            self.drawing.set()
            assert self.gate.wait(30), "the test never let the drawing end"
        time.sleep(0.2)  # long enough that a second drawing, if there were one, would overlap
        with self._lock:
            self.jobs.append(label)
        return {"notebook": json.loads(job)["notebook"], "probes": {}, "runs": 1, "status": "ok"}

    def close(self) -> None:
        self.closed += 1


def test_figures_drawn_ahead_are_drawn_once_for_the_class_and_its_canary(course):
    runner = _CountingRunner()
    settings = {"timeout": 30, "max_cell_output": 65536, "sandbox": True}
    klass = GradingRun(course.root, "sqlite://", runner)
    runner.gate.clear()
    klass.draw_ahead(A, [NB], {}, settings)  # in the background, as `cnnlab autograde` starts
    assert runner.drawing.wait(60)
    # the canary's run lends the class's runner and store; it does not wait for that drawing:
    # while it is under way, the drawn-once cells with no outputs (images off, no reference)
    canary = GradingRun(course.root, "sqlite://", runner, figures=klass.figures, owns_runner=False)
    to_come = canary.lesson_figures(A, NB, {}, settings)
    assert runner.jobs == []  # it came back while the drawing, held at the gate, had not ended
    runner.gate.set()
    release = _release(course)
    cells = drawn_once_cells(release)
    assert cells and to_come == {source_hash(release.cells[i].source): [] for i in cells}
    drawn = klass.lesson_figures(A, NB, {}, settings)  # the class's waits for the drawing
    assert canary.lesson_figures(A, NB, {}, settings) is drawn  # once drawn, the canary's gets them too
    canary.close()
    assert runner.closed == 0  # the class's kernels, started ahead, are not the canary's to kill
    klass.close()
    assert runner.jobs == [f"lesson figures-{NB}"] and runner.closed == 1


def test_a_canary_that_does_not_wait_still_runs_her_kernel_as_a_submissions(course):
    """The cells the canary gets without figures are the ones a submission's kernel runs with
    images off: the same plan and kernel settings, only no reference image pasted in after."""
    runner = _CountingRunner()
    settings = {"timeout": 30, "max_cell_output": 65536, "sandbox": True}
    canary = GradingRun(course.root, "sqlite://", runner, figures={}, owns_runner=False)  # a store, shared
    to_come = canary.lesson_figures(A, NB, {}, settings)
    assert to_come and runner.jobs == []  # it draws nothing itself (the class's run draws them)
    nb = copy.deepcopy(_release(course))
    _, unrun = leave_unrun(nb, plan_steps(nb, {}), to_come, {})
    assert unrun  # 02's figure-only cells are left unrun for the canary as for a student
    before = copy.deepcopy(nb)
    assert swap_in(nb, to_come) == 0 and nb == before  # nothing pasted in
    for index in unrun:
        nb.cells[index].execution_count = 1
    fill_unrun(nb, unrun, to_come)
    assert all(nb.cells[i].outputs == [] for i in unrun)


class _DrawingRunner(_CountingRunner):
    """The lesson's run draws a PNG in each drawn-once cell, unless told to fail at it; a student's
    run hands her notebook back, with the settings it was sent."""

    def __init__(self, draws: bool = True):
        super().__init__()
        self.draws, self.sent, self.finished_before = draws, [], {}

    def execute(self, job: str, label: str) -> dict:
        with self._lock:
            self.finished_before.setdefault(label, list(self.jobs))  # what had ended when this one began
        if not label.startswith("lesson figures"):
            self.gate.set()  # a student's run began: the drawing may end now
        result = super().execute(job, label)
        sent = json.loads(job)
        self.sent.append(sent["settings"])
        nb = nbformat.reads(result["notebook"], as_version=4)
        if label.startswith("lesson figures") and self.draws:
            for index in drawn_once_cells(nb):
                nb.cells[index].outputs = [nbformat.v4.new_output("display_data", data={"image/png": "iVBOR"})]
        for count, cell in enumerate((c for c in nb.cells if c.cell_type == "code"), 1):
            cell.execution_count = count  # every cell ran
        result["notebook"] = nbformat.writes(nb)
        return result


def _execute_one(course, tmp_path, runner) -> nbformat.NotebookNode:
    """The release handed in by one student, through SandboxedExecute, while the figures are drawn ahead."""
    from cnnlab.grading.execute import SandboxedExecute

    settings = SandboxedExecute().settings()
    run = GradingRun(course.root, "sqlite://", runner, verify=False)
    runner.gate.clear()  # the drawing ends only once her run has begun
    run.draw_ahead(A, [NB], {}, settings)
    assert runner.drawing.wait(60)
    resources = {"cnnlab": {"run": run}, "nbgrader": {"assignment": A, "notebook": NB, "student": "bo"},
                 "metadata": {"path": str(tmp_path)}}
    nb, _ = SandboxedExecute(share_lesson_runs=False).preprocess(copy.deepcopy(_release(course)), resources)
    run.close()
    return nb


def test_a_submission_runs_while_the_lesson_figures_are_drawn_and_gets_them_pasted_in(course, tmp_path):
    runner = _DrawingRunner()
    nb = _execute_one(course, tmp_path, runner)
    assert sorted(runner.jobs) == [f"bo-{NB}", f"lesson figures-{NB}"]  # hers ran once,
    assert runner.finished_before[f"bo-{NB}"] == []  # beside the drawing, not after it
    release = _release(course)
    expected = sorted(source_hash(release.cells[i].source) for i in drawn_once_cells(release))
    assert runner.sent[runner.jobs.index(f"bo-{NB}")]["drawn_once"] == expected  # planned with the cells to come
    figure_cells = [c for c in nb.cells if any("image/png" in o.get("data", {}) for o in c.get("outputs", []))]
    assert len(figure_cells) == len(expected)  # ... and given the drawn ones afterwards


def test_a_lesson_figure_that_could_not_be_drawn_is_drawn_by_her_own_kernel(course, tmp_path):
    runner = _DrawingRunner(draws=False)
    _execute_one(course, tmp_path, runner)
    assert runner.jobs.count(f"bo-{NB}") == 2  # planned without those figures, run again with her own
    assert runner.sent[-1]["drawn_once"] == []


_LAYOUT_PROBE = r'''
import json, sys
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from IPython.core.interactiveshell import InteractiveShell
from cnnlab.drawn_once import install_from, source_hash

CELL = "fig, ax = plt.subplots()\nax.set_ylabel('a long label ' * 3)\nfig.tight_layout()\nleft = fig.subplotpars.left\n"
shell = InteractiveShell.instance()
shell.run_cell("import matplotlib.pyplot as plt")
with open(sys.argv[1], "w") as f:
    json.dump([source_hash(CELL)], f)
install_from(sys.argv[1])
original = Figure.__dict__["tight_layout"]
shell.run_cell(CELL)
quiet = shell.user_ns["left"]
restored = Figure.__dict__["tight_layout"] is original
png = shell.display_formatter.formatters["image/png"].enabled
shell.run_cell(CELL + "# drawn for each student\n")
print(json.dumps({"quiet": quiet, "drawn": shell.user_ns["left"], "default": plt.rcParams["figure.subplot.left"],
                  "restored": restored, "png": png}))
'''


def test_a_drawn_once_cell_skips_the_layout_and_leaves_matplotlib_as_it_was(tmp_path):
    """Inside a drawn-once cell tight_layout does nothing (nobody renders the picture); after it,
    and in any other cell, matplotlib and the image formatters are as the student left them."""
    import subprocess
    import sys

    script = tmp_path / "probe.py"
    script.write_text(_LAYOUT_PROBE)
    proc = subprocess.run([sys.executable, str(script), str(tmp_path / "hashes.json")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    assert seen["quiet"] == seen["default"], "the drawn-once cell ran the layout"
    assert seen["drawn"] != seen["default"], "a cell drawn for each student lost its layout"
    assert seen["restored"] and seen["png"], seen


def test_lesson_figures_are_remembered_for_the_next_run_of_the_same_release(course, tmp_path, monkeypatch):
    """The next run on this machine of the same release, course files, settings and installed
    libraries takes the figures from a record instead of a kernel of its own; anything else
    that changes, or a record that cannot be read, means a new drawing."""
    from cnnlab.grading.records import figures_key, recall, record_path
    from cnnlab.grading.workers import LocalRunner

    class Counting(LocalRunner):
        def __init__(self):
            super().__init__(pool_size=0)
            self.jobs = []

        def execute(self, job, label):
            self.jobs.append(label)
            return super().execute(job, label)

    monkeypatch.setenv("CNNLAB_CACHE", str(tmp_path / "cache"))
    settings = {"timeout": 30, "max_cell_output": 65536, "sandbox": True}
    first, second = Counting(), Counting()
    drawn = GradingRun(course.root, "sqlite://", first).lesson_figures(A, NB, {}, settings)
    kept = GradingRun(course.root, "sqlite://", second).lesson_figures(A, NB, {}, settings)
    assert first.jobs == [f"lesson figures-{NB}"] and second.jobs == []
    assert drawn and kept == drawn
    png = next(iter(kept.values()))[0].data["image/png"]  # notebook nodes, as a drawing gives
    assert png == next(iter(drawn.values()))[0].data["image/png"]

    text = (course.root / "release" / A / f"{NB}.ipynb").read_text(encoding="utf-8")
    key = figures_key(text, {}, settings)
    assert recall("lesson-figures", key) is not None
    assert key != figures_key(text.replace("plt.", "plt .", 1), {}, settings)
    assert key != figures_key(text, {"data.npy": b"\0"}, settings)
    assert key != figures_key(text, {}, {**settings, "sandbox": False})
    record_path("lesson-figures", key).write_text("{not json", encoding="utf-8")
    third = Counting()
    assert GradingRun(course.root, "sqlite://", third).lesson_figures(A, NB, {}, settings) == drawn
    assert third.jobs == [f"lesson figures-{NB}"]
    # a record that holds more than a figure (it reaches every student's feedback) is not used
    forged = {h: [{"output_type": "display_data", "metadata": {},
                   "data": {"image/png": "iVBO", "text/html": "<script>steal()</script>"}}] for h in drawn}
    record_path("lesson-figures", key).write_text(json.dumps(forged), encoding="utf-8")
    fourth = Counting()
    assert GradingRun(course.root, "sqlite://", fourth).lesson_figures(A, NB, {}, settings) == drawn
    assert fourth.jobs == [f"lesson figures-{NB}"]
