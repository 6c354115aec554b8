"""The hidden cases are declarative: every hidden block replays in the grader's
own process, without the student's kernel, and the instructor's answers pass
every replayed case (so the hidden references agree with the solutions)."""
from __future__ import annotations

import numpy as np
import pytest

from cnnlab import checks
from cnnlab.items.hidden import hidden_items
from cnnlab.items.key import given_code
from cnnlab.nbtools import grade_id, instructor_answers, nbgrader_meta

from conftest import assignment_ids


@pytest.mark.parametrize("assignment_id", assignment_ids())
def test_every_hidden_block_replays_outside_the_kernel(course, assignment_id):
    for nb_name in course.assignment(assignment_id).notebooks:
        source = course.read_source(assignment_id, nb_name)
        items = hidden_items(source)
        hidden_cells = {grade_id(c): nbgrader_meta(c) for c in source.cells if "BEGIN HIDDEN TESTS" in c.source}
        assert set(items) == set(hidden_cells) and items
        for gid, item in items.items():
            assert item.points == float(hidden_cells[gid]["points"]), gid
            assert gid.startswith(item.name) or item.kind != "function", gid


@pytest.mark.parametrize("assignment_id", assignment_ids())
def test_instructor_answers_pass_every_replayed_case(course, assignment_id):
    for nb_name in course.assignment(assignment_id).notebooks:
        source = course.read_source(assignment_id, nb_name)
        answers = instructor_answers(source)
        given_cells = given_code(source)
        for gid, item in hidden_items(source).items():
            if item.kind != "function":
                continue
            ns = {"np": np}
            for given in given_cells:  # 05's answers build on the forward passes its locked cell gives
                exec(given, ns)
            exec(answers[f"{item.name}_answer"], ns)  # otherwise a function answer stands on its own
            reference, cases = item.args[0], item.args[1]
            options = {k: v for k, v in item.kwargs.items() if k in checks.JUDGING_OPTIONS}
            outcomes = checks.run_cases(ns[item.name], reference, cases, **options)
            assert outcomes, gid
            failed = [f"{o.label}: {o.reason}" for o in outcomes if not o.passed]
            assert not failed, f"{gid}: {failed}"


@pytest.mark.parametrize("assignment_id", assignment_ids())
def test_catalogued_mistakes_fail_replayed_cases(course, assignment_id):
    from cnnlab.simulate import load_catalogue

    mistakes = [m for m in load_catalogue(assignment_id)[0] if "scipy" not in m.name]
    for nb_name in course.assignment(assignment_id).notebooks:
        for gid, item in hidden_items(course.read_source(assignment_id, nb_name)).items():
            if item.kind != "function":
                continue
            mine = [m for m in mistakes if m.item == item.name]
            assert mine, gid
            options = {k: v for k, v in item.kwargs.items() if k in checks.JUDGING_OPTIONS}
            for mistake in mine:
                ns = {"np": np}
                exec(mistake.code, ns)
                outcomes = checks.run_cases(ns[item.name], item.args[0], item.args[1], **options)
                assert not all(o.passed for o in outcomes), f"{gid}: {mistake.name} passes every case"


def test_each_kind_knows_its_cases_units_and_hints():
    """The one place a kind's argument layout is read (otter's units, the report's hints)."""
    import nbformat

    def item(call: str):
        cell = nbformat.v4.new_code_cell(f"### BEGIN HIDDEN TESTS\n{call}\n### END HIDDEN TESTS",
                                         metadata={"nbgrader": {"grade": True, "grade_id": "x_hidden", "points": 2}})
        return hidden_items(nbformat.v4.new_notebook(cells=[cell]))["x_hidden"]

    function = item("from cnnlab.checks import Case, check_function\n"
                    "check_function('f', abs, [Case('neg', (-1,), hint='abs'), Case('pos', (2,), hint='id')], 2)")
    assert function.units == 2 and [c.label for c in function.cases] == ["neg", "pos"]
    assert function.hints() == {"neg": "abs", "pos": "id"}
    choices = item("from cnnlab.checks import check_choices\ncheck_choices('x', ['a', 'B', 'b'], 2, hint='read')")
    assert (choices.units, choices.cases, choices.hints()) == (2, (), {"": "read"})
    order = item("from cnnlab.checks import check_order\ncheck_order('x', [3, 1, 2], points=2)")
    assert (order.units, order.hints()) == (3, {"": ""})
    number = item("from cnnlab.checks import check_number\ncheck_number('x', 4.0, 2, hint='count')")
    assert (number.units, number.hints()) == (1, {"": "count"})
