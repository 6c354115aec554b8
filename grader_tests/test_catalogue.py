"""The hidden tests, judged by what they do to simulated students, on the
judgement the gradebook records (the verifier's, grader_tests/judgement.py),
without a kernel:

- the instructor's answers get full marks, an untouched release notebook 0;
- every catalogued mistake loses marks on its own item and nowhere else;
- every correct alternative keeps full marks;
- for every variant the in-notebook checks (what plain nbgrader scores) and
  otter's own tests (the Gradescope version) agree with the verifier item by
  item (to the cent: nbgrader floors partial credit to hundredths, otter does not).

test_recorded_path.py shows that `cnnlab autograde` records exactly these
verified scores, and test_plain_nbgrader.py that plain nbgrader records the
in-notebook ones.
"""
from __future__ import annotations

import pytest

from cnnlab.items import item_of
from cnnlab.simulate import load_catalogue, verdict

from conftest import assignment_ids

GRADED_FUNCTIONS = ["cross_correlate2d", "conv2d", "zero_pad", "pool2d",
                    "conv_output_size", "conv_param_count", "dense_param_count"]


def _assignments():
    # one xdist group per assignment: a worker grades each simulated class once
    return [pytest.param(a, id=a, marks=pytest.mark.xdist_group(a)) for a in assignment_ids()]


def _variants(kind: str):
    params = []
    for a in assignment_ids():
        mistakes, alternatives = load_catalogue(a)
        for v in (mistakes if kind == "mistake" else alternatives):
            params.append(pytest.param(a, v, id=f"{a}:{v.item}:{v.name}", marks=pytest.mark.xdist_group(a)))
    return params


def _grades(scores: dict, which: str = "verified") -> dict[str, tuple[float, float]]:
    return {gid: (s, scores["max"][gid]) for gid, s in scores[which].items()}


def _agree(scores: dict) -> dict:
    """Where the in-notebook checks or otter's questions disagree with the verifier."""
    differ = {gid: (s, scores["in_notebook"][gid]) for gid, s in scores["verified"].items()
              if abs(s - scores["in_notebook"][gid]) > 0.01 + 1e-9}
    per_question: dict[str, float] = {}
    for gid, s in scores["verified"].items():
        per_question[item_of(gid)] = per_question.get(item_of(gid), 0.0) + s
    assert scores["otter"] and set(scores["otter"]) <= set(per_question), (scores["otter"], per_question)
    differ.update({f"otter:{q}": (round(s, 4), per_question[q]) for q, s in scores["otter"].items()
                   if abs(s - per_question[q]) > 0.01 + 1e-9})
    return differ


@pytest.mark.parametrize("assignment_id", _assignments())
def test_instructor_answers_get_full_marks(judge, assignment_id):
    scores = judge(assignment_id).scores()
    assert scores["verified"], "the notebook has no verified item"
    lost = {gid: sg for gid, sg in _grades(scores).items() if sg[0] < sg[1]}
    assert not lost, f"instructor answers lost marks: {lost}"
    assert not _agree(scores), f"verifier vs in-notebook check: {_agree(scores)}"


@pytest.mark.parametrize("assignment_id", _assignments())
def test_untouched_release_notebook_gets_zero(judge, assignment_id):
    scores = judge(assignment_id).scores(blank=True)
    assert sum(scores["max"].values()) > 0
    assert scores["otter"], "otter's tests were not run"
    for which in ("verified", "in_notebook", "otter"):
        earned = {gid: s for gid, s in scores[which].items() if s > 0}
        assert not earned, f"a blank notebook earned points ({which}): {earned}"


@pytest.mark.parametrize("assignment_id,variant", _variants("mistake"))
def test_mistake_loses_marks_on_its_own_item_only(judge, assignment_id, variant):
    scores = judge(assignment_id).scores({variant.cell_id: variant.code})
    assert verdict(_grades(scores), variant, mistake=True) == ""
    assert not _agree(scores), f"verifier vs in-notebook check: {_agree(scores)}"


@pytest.mark.parametrize("assignment_id,variant", _variants("alternative"))
def test_correct_alternative_keeps_full_marks(judge, assignment_id, variant):
    scores = judge(assignment_id).scores({variant.cell_id: variant.code})
    assert verdict(_grades(scores), variant, mistake=False) == ""
    assert not _agree(scores), f"verifier vs in-notebook check: {_agree(scores)}"


def test_catalogue_covers_every_graded_function(course):
    mistakes, alternatives = {}, {}
    for a in course.assignments:
        m, alt = load_catalogue(a.id)
        for v in m:
            mistakes.setdefault(v.item, set()).add(v.name)
        for v in alt:
            alternatives.setdefault(v.item, set()).add(v.name)
    for fn in GRADED_FUNCTIONS:
        assert len(mistakes.get(fn, ())) >= 4, f"{fn}: fewer than four catalogued mistakes"
        assert len(alternatives.get(fn, ())) >= 3, f"{fn}: fewer than three correct alternatives"


def test_every_graded_item_has_a_catalogued_mistake(course):
    """Each auto-graded item of the course is shown to catch at least one mistake."""
    from cnnlab.nbtools import nbgrader_meta

    caught = set()
    for a in course.assignments:
        caught |= {v.item for v in load_catalogue(a.id)[0]}
    for a in course.assignments:
        for nb in a.notebooks:
            items = {item_of(nbgrader_meta(c)["grade_id"]) for c in course.read_source(a.id, nb).cells
                     if nbgrader_meta(c).get("grade") and nbgrader_meta(c).get("points", 0) > 0}
            assert items - caught == set(), f"{a.id}: items with no catalogued mistake: {items - caught}"
