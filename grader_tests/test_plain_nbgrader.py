"""Plain `nbgrader autograde` in this course folder (the README promises it works):
a small class per assignment, graded by nbgrader's own app and kernel, records the
in-notebook scores the catalogue's judgement computes (judgement.py), item by item.

The full catalogue is judged without a kernel (test_catalogue.py); this ties that
judgement to what nbgrader itself records.
"""
from __future__ import annotations

import pytest

from cnnlab.simulate import load_catalogue

from conftest import GradedClass, assignment_ids


def _few_mistakes(course, assignment_id, count: int = 1):
    """The first catalogued mistake of the first `count` items (the catalogue judges them all)."""
    firsts = {}
    for v in load_catalogue(assignment_id)[0]:
        firsts.setdefault(v.item, v)
    return list(firsts.values())[:count]


#: One notebook of conceptual items and one of graded functions: the catalogue ties the
#: in-notebook judgement to the verifier for all four, this ties it to nbgrader itself.
PLAIN = ("01_why_cnns", "02_kernels")


@pytest.mark.parametrize("assignment_id", [pytest.param(a, marks=pytest.mark.xdist_group(a))
                                           for a in assignment_ids() if a in PLAIN])
def test_plain_nbgrader_records_the_in_notebook_scores(course, judge, assignment_id):
    mistakes = _few_mistakes(course, assignment_id)
    graded = GradedClass(course, assignment_id, mistakes)
    judged = judge(assignment_id)
    expected = {"instructor": judged.scores(), "blank": judged.scores(blank=True)}
    for v in mistakes:
        expected[graded.student_of(v)] = judged.scores({v.cell_id: v.code})
    differ = {}
    for student, scores in expected.items():
        recorded = graded.grades[student]
        for gid, score in scores["in_notebook"].items():
            if scores["max"][gid] > 0 and abs(recorded[gid][0] - score) > 0.01 + 1e-9:
                differ[(student, gid)] = (recorded[gid][0], score)
    assert not differ, f"nbgrader recorded vs judged in-notebook: {differ}"
    instructor = graded.grades["instructor"]
    assert all(s == m for s, m in instructor.values()) and sum(m for _, m in instructor.values()) > 0
    assert sum(s for s, _ in graded.grades["blank"].values()) == 0
    for v in mistakes:
        own = [s < m for gid, (s, m) in graded.grades[graded.student_of(v)].items() if gid.startswith(v.item + "_")]
        assert any(own), f"{v.item}: the mistake {v.name!r} kept full marks under plain nbgrader"
