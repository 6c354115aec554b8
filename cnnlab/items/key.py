"""The answer key: what the verifier scores each graded item against.

Items and points come from the gradebook (the points nbgrader will record);
what each item asks comes from the hidden blocks of source/ (hidden.py); the
expected values of function items come from the instructor's solution cells
in source/, run here (it is the instructor's code, never a student's).
"""
from __future__ import annotations

import copy
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import nbformat
import numpy as np
from nbgrader.api import Gradebook

from ..nbtools import grade_id, instructor_answers, nbgrader_meta
from .hidden import HiddenItem, ReplayError, hidden_items


class AnswerKeyError(Exception):
    """source/ and the gradebook do not describe the same graded items."""


class CachedReference:
    """The instructor's function, computing each case's expected value once per
    process (every submission is judged on the same cases)."""

    def __init__(self, func: Callable):
        self.func, self.memo = func, {}

    def __call__(self, *args, **kwargs):
        key = pickle.dumps((args, sorted(kwargs.items())))  # a hash of trusted case data, never loaded
        if key not in self.memo:
            self.memo[key] = self.func(*args, **kwargs)
        return copy.deepcopy(self.memo[key])


#: Locked cells whose grade id starts with this hold code the answers may call (05 gives
#: 02's and 03's forward passes this way); the expected values are computed with them too.
GIVEN_PREFIX = "given_"


def locked_cells(source_nb) -> dict[str, str]:
    """{grade id: source} of the notebook's locked cells, in notebook order."""
    return {grade_id(c): c.source for c in source_nb.cells if nbgrader_meta(c).get("locked") and grade_id(c)}


def given_code(source_nb) -> list[str]:
    """The sources of the locked `given_*` cells, in order: what a solution may call, so what
    runs before it wherever a solution is run on its own (here, and the tests' replays)."""
    return [code for gid, code in locked_cells(source_nb).items() if gid.startswith(GIVEN_PREFIX)]


@dataclass
class KeyItem:
    item: HiddenItem
    points: float                      # the gradebook's
    reference: Callable | dict | None = None  # the instructor's solution (function items), or the
    #                                           course's own data and forward pass (a trained network)


@dataclass
class AnswerKey:
    assignment: str
    notebook: str
    items: dict[str, KeyItem]

    def function_names(self) -> list[str]:
        return [k.item.name for k in self.items.values() if k.item.kind == "function"]


def graded_items(db_url: str, assignment: str, notebook: str) -> dict[str, float]:
    """{grade_id: points} of the autograded test cells the gradebook knows."""
    with Gradebook(db_url) as gb:
        nb = gb.find_notebook(notebook, assignment)
        answers = {c.name for c in nb.solution_cells}
        return {c.name: float(c.max_score) for c in nb.grade_cells if c.name not in answers}


def load_key(course_root: str | Path, assignment: str, notebook: str, db_url: str) -> AnswerKey:
    """The answer key of one notebook: items and points from the gradebook, cases
    and references from source/ (a grading run keeps it for its submissions, run.py)."""
    path = Path(course_root) / "source" / assignment / f"{notebook}.ipynb"
    points = graded_items(db_url, assignment, notebook)
    if not path.is_file():
        raise AnswerKeyError(f"source/{assignment}/{notebook}.ipynb is missing: the verifier needs it")
    return _build_key(nbformat.read(path, as_version=4), assignment, notebook, points)


def _build_key(source_nb, assignment: str, notebook: str, points: dict[str, float]) -> AnswerKey:
    try:
        hidden = hidden_items(source_nb)
    except ReplayError as exc:
        raise AnswerKeyError(str(exc)) from None
    answers = instructor_answers(source_nb)
    locked = locked_cells(source_nb)
    given = given_code(source_nb)
    items = {}
    for gid, pts in points.items():
        if pts <= 0:
            continue
        if gid not in hidden:
            raise AnswerKeyError(f"{assignment}/{notebook}: the gradebook grades {gid} ({pts:g} points), which has "
                                 "no hidden check in source/ to verify it with: run `cnnlab build`")
        item, reference = hidden[gid], None
        if item.kind == "function":
            answer = answers.get(f"{item.name}_answer")
            if answer is None:
                raise AnswerKeyError(f"{gid}: source/ has no solution cell {item.name}_answer to compute "
                                     "expected values with")
            namespace = {"np": np, "__name__": "__solution__"}
            for code in given:  # the code a notebook gives its answers (05's forward passes)
                exec(compile(code, "<given>", "exec"), namespace)
            exec(compile(answer, f"<solution {item.name}>", "exec"), namespace)
            reference = CachedReference(namespace[item.name])
        elif item.kind == "trained":
            reference = _given_functions(item, locked)
        items[gid] = KeyItem(item, pts, reference)
    return AnswerKey(assignment, notebook, items)


def _given_functions(item: HiddenItem, locked: dict[str, str]) -> dict:
    """{name: function} of the data generator and forward pass a trained network is judged
    with, run from the locked cells of source/ its check names (never the student's copies)."""
    namespace = {"np": np, "__name__": "__given__"}
    for gid in item.kwargs.get("given", ()):
        if gid not in locked:
            raise AnswerKeyError(f"{item.grade_id}: source/ has no locked cell {gid} to take the network's "
                                 "data and forward pass from")
        exec(compile(locked[gid], f"<given {gid}>", "exec"), namespace)
    wanted = {item.kwargs["data"], item.kwargs["predict"]}
    if not wanted <= namespace.keys():
        raise AnswerKeyError(f"{item.grade_id}: the cells {list(item.kwargs.get('given', ()))} do not define "
                             f"{sorted(wanted - namespace.keys())}")
    return {name: namespace[name] for name in wanted}


def check_source(source_nb, assignment: str, notebook: str) -> AnswerKey:
    """The key source/ alone gives (points from its own metadata): `cnnlab build`
    refuses a course whose graded items the verifier could not score."""
    points = {grade_id(c): float(nbgrader_meta(c).get("points", 0)) for c in source_nb.cells
              if nbgrader_meta(c).get("grade") and not nbgrader_meta(c).get("solution")}
    key = _build_key(source_nb, assignment, notebook, points)
    for gid, k in key.items.items():  # nbgrader records the metadata's points, the check scales to its own
        if abs(k.item.points - k.points) > 1e-9:
            raise AnswerKeyError(f"{assignment}/{notebook}: {gid}'s hidden check awards {k.item.points:g} points "
                                 f"but its cell's nbgrader metadata says {k.points:g}: make them agree")
        _references_run(k, f"{assignment}/{notebook}: {gid}")
    return key


def _references_run(k: KeyItem, where: str) -> None:
    """Refuse a solution that raises on a case it must answer: every submission would be
    judged against an error (a reference calling a helper its cell does not define, say)."""
    if k.item.kind != "function":
        return
    for c in k.item.cases:
        if c.raises is None and c.check is None:
            try:
                k.reference(*copy.deepcopy(c.args), **copy.deepcopy(c.kwargs))
            except Exception as exc:
                raise AnswerKeyError(f"{where}: the solution in source/ raised {type(exc).__name__} on the case "
                                     f"{c.label!r} ({str(exc)[:120]}); the verifier computes expected values "
                                     "with it") from None
