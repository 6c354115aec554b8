"""Multiple-answer items reward knowing, not ticking: the rule the notebooks state holds for every item.

The rule (checks.check_choices): each right letter earns an equal share, each wrong letter takes
one share away, never below 0. The notebooks say that ticking everything earns nothing; that is
true only when an item has at least as many wrong statements as right ones, so each item is
scored here, by the grader's own function, on the strategies a student who wants marks without
knowing would try.
"""
from __future__ import annotations

import contextlib
import io
import re

import pytest

from cnnlab.checks import check_choices
from cnnlab.items.hidden import hidden_items
from cnnlab.nbtools import grade_id

from conftest import assignment_ids

OPTION = re.compile(r"^- \*\*([A-Z])\.\*\*", re.M)


def _choice_items(course, assignment_id):
    """(name, options, right letters, points) for each multiple-answer item: the options are the
    '- **X.**' bullets of the last markdown cell before the item's answer cell that has any."""
    a = course.assignment(assignment_id)
    for nb in a.notebooks:
        source = course.read_source(assignment_id, nb)
        for gid, item in hidden_items(source).items():
            if item.kind != "choices":
                continue
            cells = source.cells
            at = next(i for i, c in enumerate(cells) if grade_id(c) == f"{item.name}_answer")
            options = next(OPTION.findall(c.source) for c in reversed(cells[:at])
                           if c.cell_type == "markdown" and OPTION.search(c.source))
            yield item.name, options, {str(x).upper() for x in item.args[0]}, item.points


def _score(name, right, points, chosen) -> float:
    with contextlib.redirect_stdout(io.StringIO()):
        return check_choices(name, right, points=points, namespace={name: set(chosen)})


@pytest.mark.parametrize("assignment_id", assignment_ids())
def test_ticking_everything_earns_less_than_one_right_letter(course, assignment_id):
    items = list(_choice_items(course, assignment_id))
    for name, options, right, points in items:
        wrong = [o for o in options if o not in right]
        assert right <= set(options), f"{name}: the key names letters the question does not offer"
        assert len(wrong) >= len(right), \
            f"{name}: {len(right)} right and only {len(wrong)} wrong statements: ticking everything would earn marks"
        one_right = _score(name, right, points, {sorted(right)[0]})
        assert _score(name, right, points, options) == 0, f"{name}: ticking every letter earns marks"
        for spared in wrong:   # everything but one wrong letter
            rest = set(options) - {spared}
            assert _score(name, right, points, rest) <= one_right, \
                f"{name}: ticking all but {spared} beats one right letter"
        assert _score(name, right, points, right) == points


def test_every_notebook_with_choice_items_is_checked(course):
    found = {a: [n for n, *_ in _choice_items(course, a)] for a in assignment_ids()}
    assert sum(len(v) for v in found.values()) >= 6, found
