"""Display updates and the output cap in the execute step (issue 15), on one unsandboxed kernel.

nbclient lets an update_display_data rewrite outputs of any cell that showed
the same display_id, without counting its bytes. A student cell, a probe and
a hidden block run here as plan.py orders them; the hidden block tries to
rewrite the probe's report and the student cell's output, and the student
cell floods itself through updates of one display.
"""
from __future__ import annotations

import json

import nbformat
import pytest

from cnnlab.grading.kernel import TRUNCATED, CappedExecute, execute_notebook
from cnnlab.probe import MIME

CAP = 64 * 1024

STUDENT = """
from IPython.display import display, update_display
display({"text/plain": "mine"}, raw=True, display_id="mine")
bar = display({"text/plain": "0%"}, raw=True, display_id=True)
bar.update({"text/plain": "100%"}, raw=True)  # an update within its own cell is what a progress bar does
shown = display({"text/plain": "."}, raw=True, display_id=True)
for _ in range(63):  # one display shown 64 times: each update rewrites all 64
    shown.display({"text/plain": "."}, raw=True)
for _ in range(8):
    shown.update({"text/plain": "x" * 65536}, raw=True)
"""
PROBE = f"""
from IPython.display import display
display({{{MIME!r}: {{"item": "answer", "kind": "value", "found": True, "value": "wrong"}}}}, raw=True,
        display_id="probe")
"""
HIDDEN = f"""
from IPython.display import display, update_display
update_display({{{MIME!r}: {{"item": "answer", "kind": "value", "found": True, "value": "right"}}}}, raw=True,
               display_id="probe")
update_display({{"text/plain": "SECRET hidden source"}}, raw=True, display_id="mine")
display({{"text/plain": "SECRET shown again"}}, raw=True, display_id="mine")
"""


@pytest.fixture(scope="module")
def executed():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(STUDENT), nbformat.v4.new_code_cell("")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    steps = [{"kind": "cell", "cell": 0, "source": STUDENT, "grade_id": None},
             {"kind": "cell", "cell": 1, "source": "pass", "grade_id": None},
             {"kind": "probe", "cell": 1, "source": PROBE, "grade_id": "answer"},
             {"kind": "hidden", "cell": 1, "source": HIDDEN, "grade_id": "answer"}]
    result = execute_notebook(nbformat.writes(nb), {}, {"timeout": 30, "max_cell_output": CAP, "sandbox": False},
                              steps)
    assert result["status"] == "ok", result["status"]
    return result, nbformat.reads(result["notebook"], as_version=4).cells


def _texts(cell) -> list[str]:
    return [o.get("text") or o.get("data", {}).get("text/plain", "") for o in cell.outputs]


def test_the_probe_report_is_the_one_shown_when_the_probe_cell_ended(executed):
    result, _ = executed
    assert result["probes"]["answer"]["report"]["value"] == "wrong"


def test_a_later_cell_cannot_rewrite_a_finished_cells_output(executed):
    _, cells = executed
    texts = _texts(cells[0])
    assert texts[:2] == ["mine", "100%"]  # updates within the cell itself still apply
    assert not any("SECRET" in t for t in texts)
    assert "SECRET shown again" in _texts(cells[1])  # the hidden block's own output is its cell's


def test_display_updates_count_against_the_cap(executed):
    _, cells = executed
    assert len(json.dumps(cells[0].outputs)) <= CAP
    assert _texts(cells[0])[-1] == TRUNCATED and all(t == "." for t in _texts(cells[0])[2:-1])


def test_widget_messages_cannot_fill_the_graders_memory():
    """nbclient keeps every comm (widget) state a kernel sends, in the grader's process."""
    executor = CappedExecute(max_comm_bytes=4 * 1024**2)
    for i in range(64):  # 64 MiB of widget state, one new comm at a time
        msg = {"msg_type": "comm_msg", "header": {"msg_type": "comm_msg"},
               "content": {"comm_id": f"c{i}", "data": {"state": {"value": "x" * 1024**2}}}}
        executor.handle_comm_msg([], msg, 0)
    kept = len(json.dumps(executor.widget_state))
    assert 0 < kept <= 4 * 1024**2, kept


FIGURES = """
from IPython.display import display
for _ in range(5):  # five 600 KB figures: a lesson figure is 40-400 KB
    display({"image/png": "iVBORw0KGgo" + "A" * 600_000, "text/plain": "<Figure size 640x480 with 1 Axes>"}, raw=True)
display({"image/png": "iVBORw0KGgo", "text/plain": "x" * 70_000}, raw=True)  # text riding on an image counts as text
"""


def test_figures_have_a_cap_of_their_own_and_text_cannot_ride_on_it():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(FIGURES)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    steps = [{"kind": "cell", "cell": 0, "source": FIGURES, "grade_id": None}]
    result = execute_notebook(nbformat.writes(nb), {}, {"timeout": 30, "max_cell_output": CAP, "sandbox": False},
                              steps)
    (cell,) = nbformat.reads(result["notebook"], as_version=4).cells
    figures = [o for o in cell.outputs if o.get("output_type") == "display_data"]
    assert len(figures) == 3, len(figures)  # 2 MiB of figures per cell (CappedExecute.max_cell_figures)
    assert all(len(o["data"]["image/png"]) > 600_000 for o in figures)  # beyond the 64 KiB text cap each
    assert TRUNCATED in _texts(cell)  # said once, for the figures; the 70 KB "text" was not kept either
