"""How a graded cell's outputs become the status and message of `cnnlab grade`."""
from __future__ import annotations

import nbformat
from nbformat.v4 import new_code_cell, new_notebook, new_output

from cnnlab.items.status import cell_status, notebook_results


def _cell(*outputs):
    return new_code_cell("...", outputs=list(outputs))


def test_statuses_from_outputs():
    hint = new_output("stream", name="stdout", text="conv2d: 1 of 2 hidden checks passed\n  \u2713 a\n"
                                                    "  \u2717 stride 2: wrong values. Does the window move?\n")
    assert cell_status(_cell(hint), 1.5, 3) == ("failed", "stride 2: wrong values. Does the window move?")
    assert cell_status(_cell(), 3, 3) == ("passed", "")
    assert cell_status(None, 0, 3)[0] == "missing"
    timeout = [new_output("error", ename="KeyboardInterrupt", evalue="", traceback=[]),
               new_output("error", ename="CellTimeoutError", evalue="", traceback=[])]
    assert cell_status(_cell(*timeout), 0, 3)[0] == "timeout"
    err = new_output("error", ename="NameError", evalue="name 'conv2d' is not defined", traceback=["secret"])
    assert cell_status(_cell(err), 0, 1) == ("error", "NameError: name 'conv2d' is not defined")
    failed = new_output("error", ename="AssertionError", evalue="expected shape (3, 3)\nmore", traceback=[])
    assert cell_status(_cell(failed), 0, 1) == ("failed", "AssertionError: expected shape (3, 3)")
    stderr = new_output("stream", name="stderr", text="RuntimeWarning: overflow\n")
    assert cell_status(_cell(stderr), 0, 1) == ("failed", "wrote to stderr: RuntimeWarning: overflow")


def test_results_follow_notebook_order_and_keep_cells_missing_from_it():
    nb = new_notebook(cells=[_cell(), _cell()])
    for cell, gid in zip(nb.cells, ["b_hidden", "a_hidden"]):
        cell.metadata = {"nbgrader": {"grade_id": gid, "grade": True, "points": 1}}
    results = notebook_results(nbformat.from_dict(nb), {"a_hidden": (1, 1), "b_hidden": (1, 1), "c_hidden": (0, 2)})
    assert [(r.grade_id, r.status) for r in results] == [("b_hidden", "passed"), ("a_hidden", "passed"),
                                                         ("c_hidden", "missing")]


def test_a_verified_cell_takes_the_verifiers_status():
    report = new_output("stream", name="stdout", text="pool2d: 0 of 2 hidden checks passed\n"
                                                      "  \u2717 stride 2: did not finish in time (an infinite loop?).\n")
    cell = _cell(report)
    cell.metadata["cnnlab"] = {"verified": True, "status": "timeout"}
    assert cell_status(cell, 0, 5) == ("timeout", "stride 2: did not finish in time (an infinite loop?)")
    cell.metadata["cnnlab"]["status"] = "passed"
    assert cell_status(cell, 5, 5) == ("passed", "")
