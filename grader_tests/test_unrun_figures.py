"""Lesson figure cells a submission's kernel does not run (cnnlab/grading/unrun_figures.py):
only cells that draw and nothing else, only when nothing of the student's plan reads what
they bind, never when a step could reach a name by a string, and the cell shows the lesson's
figures afterwards unless the run never got to it. That the figures and execution counts
are what her own kernel makes is checked in test_figures.py, by grading with and without."""
from __future__ import annotations

from types import SimpleNamespace

import nbformat
import pytest

from cnnlab.grading.plan import Step, plan_steps
from cnnlab.grading.unrun_figures import (UNRUN, _binds, data_part, figure_only, fill_unrun, instead, leave_unrun,
                                          unrun)
from cnnlab.drawn_once import source_hash
from cnnlab.nbtools import fill_answers, grade_id, instructor_answers

A, NB = "02_kernels", "kernels"
DRAWS = "fig, ax = plt.subplots()\nax.plot([1, 2])\nplt.show()"


def _cells(nb) -> dict[str, int]:
    return {grade_id(c): i for i, c in enumerate(nb.cells) if grade_id(c)}


def test_02s_lesson_figures_only_draw_and_the_photo_through_her_function_does_not(course):
    nb = course.read_source(A, NB)
    at = _cells(nb)
    for gid in ("conventions_figure", "sliding_figure", "feature_map_figure", "bars_figure"):
        assert figure_only(nb.cells[at[gid]].source), gid
    assert not figure_only(nb.cells[at["hopper_figure"]].source)  # reads her cross_correlate2d


@pytest.mark.parametrize("source", [
    "plt.rcParams['figure.dpi'] = 50\n" + DRAWS,          # changes how every later figure looks
    "np.random.seed(0)\n" + DRAWS,                          # changes what later random numbers are
    "print('hi')\n" + DRAWS,                                # shows more than figures
    "import os\n" + DRAWS,
    "import numpy as np\n" + DRAWS,                         # rebinds a module later cells read
    "np.zeros = None\n" + DRAWS,                            # writes into numpy
    "def f():\n    global g\n    g = 1\n" + DRAWS,
    DRAWS.replace("plt.show()", "fig.savefig('a.png')\nplt.show()"),
    DRAWS.replace("plt.show()", "eval('1')\nplt.show()"),
    DRAWS.replace("[1, 2]", "data"),                      # reads a name of the notebook
    "fig, ax = plt.subplots()\nax.plot([1, 2])",            # leaves its figure open for a later cell
    DRAWS + "\nfig",                                        # shows a value, not only its figures
    "%matplotlib inline\n" + DRAWS,                         # not Python: cannot be read
])
def test_a_cell_that_does_more_than_draw_is_not_figure_only(source):
    assert not figure_only(source)


def test_a_cell_drawing_with_its_own_helpers_and_imports_from_matplotlib_is_figure_only():
    assert figure_only("from matplotlib.patches import Rectangle\n"
                       "def box(ax, x, size=2):\n    ax.add_patch(Rectangle((x, 0), size, size))\n    ax.title = 'b'\n"
                       "fig, axes = plt.subplots(1, 2)\nfor k, ax in enumerate(axes):\n    box(ax, k)\nplt.show()")


def _plan(course, **answers):
    """The plan of a class member's 02 notebook (instructor answers, some replaced) and the
    indices of its figure-only drawn-once cells."""
    source = course.read_source(A, NB)
    nb = fill_answers(source, {**instructor_answers(source), **answers})
    at = _cells(nb)
    figures = {at[g]: nb.cells[at[g]].source for g in ("conventions_figure", "sliding_figure", "feature_map_figure", "bars_figure")}
    return nb, plan_steps(nb, {}), figures, at


def test_a_lesson_figure_is_left_unrun_only_when_nothing_reads_what_it_binds(course):
    nb, steps, figures, at = _plan(course)
    left = unrun(steps, figures, {})
    assert at["conventions_figure"] in left and at["sliding_figure"] in left
    assert at["feature_map_figure"] not in left  # it binds fmap, which Exercise 3 reads
    # her function reads the lesson's demo image, as a global, whenever it is called: that cell runs
    nb, steps, figures, at = _plan(course, cross_correlate2d_answer=(
        "def cross_correlate2d(image, kernel):\n    assert demo_image.shape == (5, 6)\n"
        "    H, W = image.shape\n    kh, kw = kernel.shape\n"
        "    return np.array([[np.sum(image[i:i + kh, j:j + kw] * kernel) for j in range(W - kw + 1)]"
        " for i in range(H - kh + 1)], dtype=float)\n"))
    left = unrun(steps, figures, {})
    assert at["sliding_figure"] not in left and at["conventions_figure"] in left


@pytest.mark.parametrize("reach", [
    "globals()['demo_' + 'image']",
    "__import__('__main__').demo_image",
    "sys.modules['__main__']",
    "pickle.loads(blob)",                                    # unpickling imports __main__ by name
    "(lambda: 0).__globals__",
    "vars()",
    "dir()",
    "gc.get_referrers(np)",
])
def test_a_step_that_can_reach_names_by_a_string_leaves_every_cell_to_run(course, reach):
    nb, steps, figures, at = _plan(course, weights_shape_answer=f"weights_shape = (5, 5, 3, 10)\n_ = lambda: {reach}\n")
    assert unrun(steps, figures, {}) == set()


def test_a_magic_or_a_probe_of_an_unknown_item_leaves_every_cell_to_run_and_a_probe_reads_its_item():
    figures = {0: "picture = 1\n" + DRAWS}
    assert unrun([Step("cell", 1, "%who\n")], figures, {}) == set()
    assert unrun([Step("probe", 1, "probe()", "g")], figures, {}) == set()
    assert unrun([Step("probe", 1, "probe()", "g")], figures, {"g": SimpleNamespace(name="picture")}) == set()
    assert unrun([Step("probe", 1, "probe()", "g")], figures, {"g": SimpleNamespace(name="other")}) == {0}
    assert unrun([Step("hidden", 1, "assert picture == 1")], figures, {}) == set()  # a hidden block reads it


def test_a_cell_left_unrun_runs_none_and_gets_the_lesson_figures_unless_the_run_stopped_before_it():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(DRAWS), nbformat.v4.new_code_cell("x = 1"),
                                         nbformat.v4.new_code_cell(DRAWS + "\n# again")])
    figure = nbformat.v4.new_output("display_data", data={"image/png": "iVBOR", "text/plain": "<Figure>"})
    figures = {source_hash(DRAWS): [figure], source_hash(nb.cells[2].source): [figure]}
    steps = plan_steps(nb, {})
    planned, left = leave_unrun(nb, steps, figures, {})
    assert left == {0, 2} and [s.source for s in planned] == [UNRUN, "x = 1", UNRUN]
    assert [(s.kind, s.cell) for s in planned] == [(s.kind, s.cell) for s in steps]  # one step each: counts stay
    assert leave_unrun(nb, steps, {}, {}) == (steps, set())  # no lesson figures, nothing left out
    # as the kernel hands it back: cell 0 ran (None shows nothing), the kernel died at cell 1
    nb.cells[0].execution_count, nb.cells[1].execution_count = 1, 2
    nb.cells[1].outputs = [nbformat.v4.new_output("error", ename="DeadKernelError", evalue="", traceback=[])]
    fill_unrun(nb, left, figures)
    assert nb.cells[0].outputs == [figure] and nb.cells[2].outputs == []  # never reached: shows no figure


DATA = "data = np.arange(6.0).reshape(2, 3)\nscaled = data * 2\n"
DRAWING = ("fig, axes = plt.subplots(1, 2)\nfor ax, (arr, title) in zip(axes, [(data, 'data'), (scaled, 'x2')]):\n"
           "    ax.imshow(arr, cmap='gray')\n    ax.set_title(f'{title} {arr.shape}')\n"
           "    ax.set_xticks(range(0, arr.shape[1], 2))\nplt.show()")


def test_02s_feature_map_and_bars_cells_run_their_data_part_which_binds_what_the_whole_cell_does(course):
    import matplotlib
    import numpy as np

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    nb, steps, figures, at = _plan(course)
    runs = instead(steps, figures, {})
    assert runs[at["conventions_figure"]] == UNRUN and runs[at["sliding_figure"]] == UNRUN
    for gid, names in (("feature_map_figure", {"fmap", "letter_f", "edge_kernel"}), ("bars_figure", {"bar_map"})):
        part = runs[at[gid]]
        assert "plt" not in part and names <= set(_binds(part))
        whole, cut = {"np": np, "plt": plt}, {"np": np, "plt": plt}
        exec(nb.cells[at[gid]].source, whole)
        exec(part, cut)
        for name in set(cut) - {"np", "plt", "__builtins__"}:  # the same values the whole cell leaves
            assert np.array_equal(whole[name], cut[name]), (gid, name)
        assert {"fig", "axes"} <= set(whole) - set(cut)
    plt.close("all")


@pytest.mark.parametrize("drawing", [
    DRAWING.replace("ax.imshow(arr", "arr[0] = 9\n    ax.imshow(arr"),            # writes into the data
    DRAWING.replace("plt.show()", "scaled += 1\nplt.show()"),                     # in place: the array changes
    DRAWING.replace("ax.imshow(arr", "arr.sort()\n    ax.imshow(arr"),            # a method that writes
    DRAWING.replace("ax.imshow(arr", "np.copyto(arr, 0)\n    ax.imshow(arr"),
    DRAWING.replace("ax.imshow(arr,", "ax.imshow(np.abs(arr, out=arr),"),
    DRAWING.replace("zip(axes", "sorted([], key=data.fill) or zip(axes"),         # a method reached, not called
    DRAWING.replace("zip(axes", "list(map(np.ndarray.sort, [data])) and zip(axes"),
    DRAWING.replace("ax.imshow(arr, cmap='gray')", "ax.imshow(arr, cmap='gray').set_data(arr)"),
    DRAWING.replace("ax.imshow(arr", "helper(arr)\n    ax.imshow(arr"),          # a function of unknown doing
    DRAWING.replace("fig, axes", "fig = plt.figure()\nfig.axes_hook = data\nfig, axes"),
])
def test_a_drawing_that_could_change_its_data_leaves_the_cell_to_run_whole(drawing):
    source = DATA + drawing
    assert figure_only(source) or "helper" in drawing or "np.copyto" in drawing
    assert data_part(source) is None


def test_a_data_part_is_cut_only_where_it_shows_nothing_and_nothing_reads_what_the_drawing_binds():
    assert data_part(DATA + DRAWING) == DATA.strip()
    assert data_part("scaled = np.ones(3)\nscaled.shape\n" + DRAWING.replace("data", "scaled")) is None  # shows a value
    assert data_part(DRAWING.replace("data", "np.ones((2, 3))").replace("scaled", "np.ones(2)")) is None  # draws at once
    figures = {0: DATA + DRAWING}
    assert instead([Step("cell", 1, "print(scaled)")], figures, {}) == {0: DATA.strip()}
    assert instead([Step("cell", 1, "print(scaled)")], figures, {}, cut=False) == {}
    assert instead([Step("cell", 1, "axes[0].set_title('mine')")], figures, {}) == {}  # reads what the drawing made
    assert instead([Step("cell", 1, "print(ax)")], figures, {}) == {}
    assert instead([Step("cell", 1, "x = 1")], figures, {}) == {0: UNRUN}


def test_a_cut_cell_keeps_what_its_data_part_printed_before_the_lesson_figures():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(DATA + DRAWING)])
    figure = nbformat.v4.new_output("display_data", data={"image/png": "iVBOR", "text/plain": "<Figure>"})
    warning = nbformat.v4.new_output("stream", name="stderr", text="RuntimeWarning: divide by zero\n")
    nb.cells[0].execution_count, nb.cells[0].outputs = 1, [warning]
    fill_unrun(nb, {0}, {source_hash(nb.cells[0].source): [figure]})
    assert nb.cells[0].outputs == [warning, figure]
