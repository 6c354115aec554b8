"""The hidden items as data: what each graded test cell checks, read from source/.

Every hidden block calls exactly one `cnnlab.checks.check_*` with its cases as
data. `hidden_items` runs each block from source/ in this (trusted) process
with those functions swapped for recorders, so the items, their cases, their
references and their points are known without running any student code.
The answer key (key.py) is built from these items, the probe plan
(grading/plan.py) sends their cases' inputs to the kernel, and otter's
version and the class report read their cases, units and hints from them.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

import numpy as np

from .. import checks
from ..nbtools import grade_id, nbgrader_meta

KINDS = {"check_function": "function", "check_choices": "choices", "check_order": "order",
         "check_number": "number", "check_value": "value", "check_trained": "trained"}


class ReplayError(Exception):
    """A hidden block that cannot be replayed on its own (it needs the student's kernel)."""


@dataclass
class HiddenItem:
    grade_id: str
    kind: str                       # function | choices | order | number | value | trained
    name: str                       # the student's object the block checks
    points: float                   # from the block's call; the gradebook's must agree
    args: tuple = ()                # the check_* call's other positional arguments
    kwargs: dict = field(default_factory=dict)

    # How each kind lays out its check_* arguments is known here, and only here.
    @property
    def cases(self) -> tuple:
        """The `checks.Case`s a function or value item is judged on (none for the other kinds)."""
        if self.kind == "function":
            return tuple(self.args[1])
        if self.kind == "value":
            return tuple(self.args[0])
        return ()

    @property
    def units(self) -> int:
        """How many equal shares the item's score is made of (see `checks.Unit`)."""
        if self.kind in ("function", "value"):
            return len(self.cases)
        if self.kind == "choices":
            return len({str(c).strip().upper() for c in self.args[0]})
        if self.kind == "order":
            return len(self.args[0])
        if self.kind == "trained":
            return len(self.kwargs["thresholds"])
        return 1  # number: right or wrong as a whole

    @property
    def runs_in_kernel(self) -> bool:
        """Whether the hidden block is sent to the student's kernel as the TA's evidence.
        A trained network's is not: its hidden test set must never enter the sandbox,
        so the verifier's judgement is the only one (checks.check_trained)."""
        return self.kind != "trained"

    def hints(self) -> dict[str, str]:
        """{case label: hint} the student reads when a case fails ('' : the item-wide hint)."""
        if self.cases:
            return {c.label: c.hint for c in self.cases}
        return {"": self.kwargs.get("hint", "")}


def split_hidden(source: str) -> tuple[str, str | None]:
    """A test cell's source as (what the student's release shows, its hidden
    block or None): the lines outside and inside the hidden-test markers."""
    outside, inside, found, hidden = [], [], False, False
    for line in source.splitlines():
        if "BEGIN HIDDEN TESTS" in line:
            hidden = found = True
        elif "END HIDDEN TESTS" in line:
            hidden = False
        else:
            (inside if hidden else outside).append(line)
    return "\n".join(outside), ("\n".join(inside) if found else None)


def hidden_block(source: str) -> str | None:
    return split_hidden(source)[1]


@contextlib.contextmanager
def _recording(calls: list):
    saved = {name: getattr(checks, name) for name in KINDS}

    def recorder(kind):
        def record(name, *args, **kwargs):
            calls.append((kind, name, args, kwargs))
            return 0.0
        return record

    try:
        for name, kind in KINDS.items():
            setattr(checks, name, recorder(kind))
        yield
    finally:
        for name, fn in saved.items():
            setattr(checks, name, fn)


def hidden_items(source_nb) -> dict[str, HiddenItem]:
    """{grade_id: HiddenItem} for every test cell with a hidden block."""
    items = {}
    for cell in source_nb.cells:
        block = hidden_block(cell.source) if nbgrader_meta(cell).get("grade") else None
        if block is None:
            continue
        calls: list = []
        with _recording(calls):
            try:
                exec(compile(block, f"<hidden {grade_id(cell)}>", "exec"), {"__name__": "__hidden__", "np": np})
            except Exception as exc:
                raise ReplayError(f"{grade_id(cell)}: the hidden block does not run on its own "
                                  f"({type(exc).__name__}: {exc})") from None
        if len(calls) != 1:
            raise ReplayError(f"{grade_id(cell)}: expected one check_* call, found {len(calls)}")
        kind, name, args, kwargs = calls[0]
        points = kwargs.pop("points", None)
        if points is None:
            points, args = args[-1], args[:-1]
        items[grade_id(cell)] = HiddenItem(grade_id(cell), kind, name, float(points), tuple(args), kwargs)
    return items
