"""The order in which a submission meets the kernel.

1. Every code cell, in notebook order, with the hidden blocks of test cells cut
   out: the student's code runs on its own, as in JupyterLab.
2. One probe cell per graded item (probe.py): the student's functions called
   on the hidden cases' inputs, their values read, all handed back as plain
   data. The inputs travel in the probe cell as data; no expected value does.
3. The hidden blocks, one cell each: the in-notebook checks, the TA's evidence
   (all but a trained network's, whose hidden test set must not enter the
   sandbox: the verifier alone judges it).

No hidden test source reaches the kernel before every probe has reported, so
nothing in a hidden block (a reference, an answer) can feed the data the
verifier scores. Outputs of step 1 were printed before the kernel saw any
hidden input; outputs of steps 2 and 3 never reach feedback as they are
(execute.py keeps the probe reports, verify.py writes the hidden cells' output).

If the kernel dies in step 1 at cell k, a second run (`salvage_steps`) replays
the cells before k and probes the items whose test cells come before k: what
came before a crash keeps its score, what came after it scores 0.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

import nbformat

from ..nbtools import grade_id
from ..plaindata import Opaque, decode, encode
from ..items.hidden import HiddenItem, ReplayError, hidden_block, split_hidden

@dataclass(frozen=True)
class Step:
    kind: str           # cell | probe | hidden
    cell: int           # the notebook cell it belongs to (a probe: its item's test cell)
    source: str
    grade_id: str | None = None


def visible_part(source: str) -> str:
    """A test cell as the student's release has it: the hidden block cut out."""
    return split_hidden(source)[0]


def probe_spec(item: HiddenItem) -> dict:
    spec = {"item": item.grade_id, "kind": item.kind, "name": item.name}
    if item.kind == "function":
        cases = item.cases
        spec["cases"] = [{"args": encode(tuple(c.args)), "kwargs": encode(dict(c.kwargs))} for c in cases]
        for c, sent in zip(cases, spec["cases"]):  # a case the probe cannot carry would be graded wrong
            if any(isinstance(v, Opaque) for v in (*decode(sent["args"]), *decode(sent["kwargs"]).values())):
                raise ReplayError(f"{item.grade_id}: case {c.label!r} has an argument that is not plain data")
    return spec


def probe_source(item: HiddenItem) -> str:
    spec = json.dumps(probe_spec(item), separators=(",", ":"))
    return f"__import__('cnnlab.probe').probe.run({spec!r})\n"


def plan_steps(nb, items: dict[str, HiddenItem]) -> list[Step]:
    """The three stages for a sanitized notebook and the items the gradebook grades."""
    cells, probes, hidden = [], [], []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        block = hidden_block(cell.source)
        if block is None:
            cells.append(Step("cell", index, cell.source))
            continue
        cells.append(Step("cell", index, visible_part(cell.source)))
        item = items.get(grade_id(cell))
        if item is None or item.runs_in_kernel:  # a trained network's test set stays out of the sandbox
            hidden.append(Step("hidden", index, block, grade_id(cell)))
        if item is not None:
            probes.append(Step("probe", index, probe_source(item), item.grade_id))
    return cells + probes + hidden


def salvage_steps(steps: list[Step], died: int) -> list[Step]:
    """What a second kernel runs after the first died at steps[died]."""
    lost = steps[died]
    if lost.kind == "cell":  # everything from the crash on is lost, as in a student's own kernel
        return [s for s in steps if s.cell < lost.cell]
    if lost.kind == "probe":  # the item whose probe killed the kernel scores 0; the others are probed
        return [s for i, s in enumerate(steps)
                if s.kind == "cell" or (s.grade_id != lost.grade_id and (s.kind == "hidden" or i > died))]
    return []  # a death among the in-notebook checks costs no score: every probe has reported


def run_notebook(nb, steps: list[Step]):
    """A notebook of fresh code cells, one per step (no student metadata reaches the executor)."""
    run = nbformat.v4.new_notebook(metadata=nb.get("metadata", {}))
    # made as new_code_cell makes them, less its validation of each (7 ms a submission): they are valid by making
    run.cells = [nbformat.from_dict({"id": f"step-{i}", "cell_type": "code", "metadata": {}, "execution_count": None,
                                     "source": s.source, "outputs": []}) for i, s in enumerate(steps)]
    return run
