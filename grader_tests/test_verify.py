"""The verifier scores from plain data exactly as the in-notebook check does
for honest code, and gives nothing for data it cannot trust or read."""
from __future__ import annotations

import contextlib
import copy
import io
import json

import numpy as np
import pytest

from cnnlab import checks, probe
from cnnlab.grading.plan import plan_steps, probe_spec, run_notebook, salvage_steps, visible_part
from cnnlab.items.hidden import hidden_block
from cnnlab.grading.verify import judge
from cnnlab.items.key import AnswerKeyError, _build_key, check_source, given_code
from cnnlab.nbtools import grade_id, instructor_answers, nbgrader_meta
from cnnlab.plaindata import encode
from cnnlab.simulate import load_catalogue

from conftest import assignment_ids


def _key(course, assignment_id):
    nb_name = course.assignment(assignment_id).notebooks[0]
    return check_source(course.read_source(assignment_id, nb_name), assignment_id, nb_name)


def _function(code: str, name: str, given: tuple[str, ...] = ()):
    ns = {"np": np}
    for cell in given:  # 05's answers build on the forward passes its locked cell gives
        exec(cell, ns)
    exec(code, ns)
    return ns[name]


def _given(course, assignment_id) -> tuple[str, ...]:
    return tuple(given_code(course.read_source(assignment_id, course.assignment(assignment_id).notebooks[0])))


def _probe_report(key_item, func) -> dict:
    """What the probe inside the kernel would display, made here in-process."""
    spec = json.loads(json.dumps(probe_spec(key_item.item)))
    report = {"item": key_item.item.grade_id, "kind": "function", **probe.probe_function(func, spec["cases"])}
    return {"report": json.loads(json.dumps(report))}


def _in_kernel(key_item, func) -> tuple[float, str]:
    item = key_item.item
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        score = checks.check_function(item.name, item.args[0], item.args[1], key_item.points,
                                      namespace={item.name: func}, **item.kwargs)
    return score, out.getvalue()


@pytest.mark.parametrize("assignment_id", assignment_ids())
def test_verifier_and_in_notebook_check_agree_on_every_catalogued_function(course, assignment_id):
    key = _key(course, assignment_id)
    mistakes, alternatives = load_catalogue(assignment_id)
    answers = instructor_answers(course.read_source(assignment_id, course.assignment(assignment_id).notebooks[0]))
    functions = {k.item.name: k for k in key.items.values() if k.item.kind == "function"}
    given = _given(course, assignment_id)
    tried = 0
    for variant in [*mistakes, *alternatives]:
        if variant.item not in functions or "scipy" in variant.name:
            continue
        key_item = functions[variant.item]
        func = _function(variant.code, variant.item, given)
        expected_score, expected_text = _in_kernel(key_item, func)
        verdict = judge(key_item, _probe_report(key_item, func), forbidden=[])
        assert (verdict.score, verdict.report) == (expected_score, expected_text), variant.name
        tried += 1
    for name, key_item in functions.items():
        verdict = judge(key_item, _probe_report(key_item, _function(answers[f"{name}_answer"], name, given)), [])
        assert verdict.score == key_item.points and not verdict.problem
    assert tried >= 4 or not functions


def test_lost_missing_and_unreadable_reports_score_zero_with_a_reason(course):
    key = _key(course, "03_padding_pooling")
    item = key.items["pool2d_hidden"]
    lost = judge(item, {"lost": "the kernel died"}, [])
    assert lost.score == 0 and "the kernel died" in lost.report and lost.problem
    missing = judge(item, {"report": {"item": "pool2d_hidden", "kind": "function", "found": False}}, [])
    assert missing.score == 0 and "no function named `pool2d`" in missing.report and not missing.problem
    for bad in [{"item": "zero_pad_hidden", "kind": "function", "found": True, "calls": []},
                {"item": "pool2d_hidden", "kind": "function", "found": True, "calls": "all passed"},
                {"item": "pool2d_hidden", "kind": "function", "found": True,
                 "calls": [{"returned": {"t": "ndarray", "v": "AAAA"}}]},
                "not even a mapping"]:
        verdict = judge(item, {"report": bad}, [])
        assert verdict.score == 0 and verdict.problem, bad


def test_forbidden_libraries_found_in_the_source_zero_the_item(course):
    key = _key(course, "02_kernels")
    item = key.items["cross_correlate2d_hidden"]
    answers = instructor_answers(course.read_source("02_kernels", "kernels"))
    honest = _probe_report(item, _function(answers["cross_correlate2d_answer"], "cross_correlate2d"))
    verdict = judge(item, honest, forbidden=["scipy.signal.correlate2d"])
    assert verdict.score == 0 and "scipy.signal.correlate2d" in verdict.report
    assert verdict.forbidden == ("scipy.signal.correlate2d",)  # VerifyScores flags it to the TA too


@pytest.mark.parametrize("answer,full", [("the key", True), ("the key and a wrong letter", False),
                                         ("one letter as a string", False)])
def test_choices_are_judged_from_the_value_the_probe_read(course, answer, full):
    from cnnlab.plaindata import encode

    key = _key(course, "03_padding_pooling")
    item = key.items["pooling_purpose_hidden"]
    right = set(item.item.args[0])
    wrong = sorted(set("ABCDEFGH") - right)[0]
    value = {"the key": right, "the key and a wrong letter": right | {wrong},
             "one letter as a string": sorted(right)[0]}[answer]
    report = {"item": "pooling_purpose_hidden", "kind": "choices", "found": True, "value": encode(value)}
    assert (judge(item, {"report": report}, []).score == item.points) is full


def test_a_point_without_a_hidden_check_is_refused(course):
    source = course.read_source("03_padding_pooling", "padding_pooling")
    with pytest.raises(AnswerKeyError, match="zero_pad_visible"):
        _build_key(source, "03_padding_pooling", "padding_pooling", {"zero_pad_visible": 1.0})


def test_a_hidden_check_and_its_metadata_that_disagree_on_points_are_refused(course):
    """nbgrader records the metadata's points while the check scales to its own: the build refuses."""
    source = copy.deepcopy(course.read_source("03_padding_pooling", "padding_pooling"))
    cell = next(c for c in source.cells if nbgrader_meta(c).get("grade_id") == "pool_shape_hidden")
    cell.metadata["nbgrader"]["points"] = 1
    with pytest.raises(AnswerKeyError, match="pool_shape_hidden's hidden check awards 2 points but its cell's "
                                             "nbgrader metadata says 1"):
        check_source(source, "03_padding_pooling", "padding_pooling")


@pytest.mark.parametrize("assignment_id", assignment_ids())
def test_nothing_hidden_reaches_the_kernel_before_every_probe_has_run(course, assignment_id):
    for nb_name in course.assignment(assignment_id).notebooks:
        source = course.read_source(assignment_id, nb_name)
        key = check_source(source, assignment_id, nb_name)
        steps = plan_steps(source, {gid: k.item for gid, k in key.items.items()})
        kinds = [s.kind for s in steps]
        assert kinds == sorted(kinds, key=["cell", "probe", "hidden"].index)  # cells, then probes, then checks
        assert {s.grade_id for s in steps if s.kind == "probe"} == set(key.items)
        visible = {ln.strip() for c in source.cells for ln in visible_part(c.source).splitlines()}
        hidden_lines = {ln.strip() for c in source.cells for ln in (hidden_block(c.source) or "").splitlines()
                        if len(ln.strip()) > 12} - visible
        for step in steps:
            if step.kind != "hidden":
                assert not [ln for ln in hidden_lines if ln in step.source], (step.kind, step.cell)
        for gid, k in key.items.items():  # probes carry inputs, never an expected value
            if k.item.kind == "function":
                spec = json.dumps(probe_spec(k.item))
                assert "reference" not in spec and "expected" not in spec


def test_the_kernel_runs_a_valid_notebook_of_the_steps_and_nothing_of_the_students_cells(course):
    import nbformat

    source = course.read_source("02_kernels", "kernels")
    key = check_source(source, "02_kernels", "kernels")
    steps = plan_steps(source, {gid: k.item for gid, k in key.items.items()})
    run = run_notebook(source, steps)
    nbformat.validate(run)  # its cells are made without validating each: they must be valid all the same
    assert [c.source for c in run.cells] == [s.source for s in steps]
    assert all(c.metadata == {} and c.outputs == [] and c.execution_count is None for c in run.cells)
    assert len({c.id for c in run.cells}) == len(run.cells)


def test_a_crash_costs_what_came_after_it(course):
    source = course.read_source("03_padding_pooling", "padding_pooling")
    key = check_source(source, "03_padding_pooling", "padding_pooling")
    steps = plan_steps(source, {gid: k.item for gid, k in key.items.items()})
    pool_cell = next(s.cell for s in steps if s.grade_id == "pool2d_hidden")
    crash = next(i for i, s in enumerate(steps) if s.kind == "cell" and s.cell == pool_cell - 2)
    again = salvage_steps(steps, crash)
    assert all(s.cell < steps[crash].cell for s in again)
    assert "zero_pad_hidden" in {s.grade_id for s in again if s.kind == "probe"}
    assert "pool2d_hidden" not in {s.grade_id for s in again}
    probe_of_zero_pad = next(i for i, s in enumerate(steps) if s.kind == "probe" and s.grade_id == "zero_pad_hidden")
    again = salvage_steps(steps, probe_of_zero_pad)
    assert "zero_pad_hidden" not in {s.grade_id for s in again}
    assert {"pool2d_hidden"} <= {s.grade_id for s in again if s.kind == "probe"}
    assert salvage_steps(steps, len(steps) - 1) == []  # the in-notebook checks come last: nothing to redo


def test_visible_part_cuts_exactly_the_hidden_block():
    source = "# header\n### BEGIN HIDDEN TESTS\nsecret = 1\n### END HIDDEN TESTS\nprint('after')"
    assert visible_part(source) == "# header\nprint('after')"


def test_build_refuses_a_course_the_verifier_cannot_score(course_copy):
    import nbformat

    from cnnlab.build import build
    from cnnlab.course import CourseError
    from cnnlab.nbtools import cells_by_id, nbgrader_meta

    path = course_copy.source_notebook("03_padding_pooling", "padding_pooling")
    nb = nbformat.read(path, as_version=4)
    nbgrader_meta(cells_by_id(nb)["zero_pad_visible"])["points"] = 1
    nbformat.write(nb, str(path))
    with pytest.raises(CourseError, match="zero_pad_visible"):
        build(course_copy, ["03_padding_pooling"], check=True)
    assert grade_id  # the helper is the one the plan uses


def test_text_made_by_student_code_cannot_carry_a_hidden_input_out(course):
    key = _key(course, "03_padding_pooling")
    item = key.items["pool2d_hidden"]

    def leaky(x, size=2, stride=None, mode="max"):
        raise ValueError(f"{np.asarray(x).tolist()} {float(np.asarray(x).flat[0])}")

    def named(x, size=2, stride=None, mode="max"):
        return type(str(np.asarray(x).flat[0]), (), {})()

    for func in (leaky, named):
        verdict = judge(item, _probe_report(item, func), [])
        first_input = str(item.item.args[1][0].args[0].flat[0])
        assert first_input not in verdict.report and "[[" not in verdict.report, verdict.report
    assert checks.student_text("index 5 is out of bounds for axis 0 with size 5") == \
        "index 5 is out of bounds for axis 0 with size 5"


# ---------------------------------------------------------------------------- a trained network (05)
A05 = "05_learning_filters"


def _trained_item(course):
    key = _key(course, A05)
    return next(k for k in key.items.values() if k.item.kind == "trained")


def test_a_trained_networks_test_set_never_enters_the_kernel(course):
    source = course.read_source(A05, course.assignment(A05).notebooks[0])
    key = _key(course, A05)
    trained = _trained_item(course).item
    steps = plan_steps(source, {gid: k.item for gid, k in key.items.items()})
    secret_seed = str(trained.kwargs["seed"])
    assert trained.grade_id in {s.grade_id for s in steps if s.kind == "probe"}  # its parameters are read...
    for step in steps:  # ...but neither its check nor the seed of its test set is ever sent
        assert secret_seed not in step.source and "check_trained" not in step.source, (step.kind, step.cell)
    assert trained.grade_id not in {s.grade_id for s in steps if s.kind == "hidden"}


def _report(item, value):
    return {"report": {"item": item.grade_id, "kind": "trained", "found": True, "value": encode(value)}}


def test_the_network_is_judged_with_the_courses_forward_pass_on_its_parameters_only(course):
    k = _trained_item(course)
    init = k.reference  # the course's own functions, from source/'s locked cells
    source = course.read_source(A05, course.assignment(A05).notebooks[0])
    ns = {"np": np, "__name__": "__test__"}
    for gid in k.item.kwargs["given"]:
        exec(next(c.source for c in source.cells if grade_id(c) == gid), ns)
    assert set(init) == {k.item.kwargs["data"], k.item.kwargs["predict"]}
    untrained = judge(k, _report(k.item, ns["xo_initial_params"](seed=0)), [])
    assert untrained.score == 0 and "hidden test images classified right" in untrained.report
    for seed in (1, 2, 3):  # random parameters earn nothing either
        rng = np.random.default_rng(seed)
        params = {key: rng.normal(0, 1, shape) for key, shape in ns["XO_SHAPES"].items()}
        assert judge(k, _report(k.item, params), []).score == 0, seed


@pytest.mark.parametrize("params, said", [
    ("lists", "must be a NumPy array of numbers, not list"),
    ("nan", "holds inf or nan"),
    ("shape", "must have shape"),
    ("missing", "has no 'dense_b'"),
    ("object", "must be a dict, not Opaque"),
    ("strings", "must be a NumPy array of numbers"),
])
def test_parameters_that_are_not_the_networks_arrays_earn_nothing_in_one_line(course, params, said):
    k = _trained_item(course)
    shapes = {"weights": (3, 3, 1, 4), "bias": (4,), "dense_w": (196, 2), "dense_b": (2,)}
    good = {key: np.zeros(shape) for key, shape in shapes.items()}

    class Forged:  # a student's object that claims to be whatever it is compared with
        def __eq__(self, other):
            return True

        def __getitem__(self, key):
            return good[key]

    value = {"lists": {key: v.tolist() for key, v in good.items()},
             "nan": {**good, "dense_w": np.full((196, 2), np.nan)},
             "shape": {**good, "dense_w": np.zeros((195, 2))},
             "missing": {key: v for key, v in good.items() if key != "dense_b"},
             "object": Forged(),
             "strings": {**good, "bias": np.array(["1.0"] * 4)}}[params]
    verdict = judge(k, _report(k.item, value), [])
    assert verdict.score == 0 and said in verdict.report, verdict.report
    assert "Traceback" not in verdict.report and len(verdict.report.splitlines()) <= 3


def test_a_solution_that_raises_on_a_case_is_refused_before_any_submission_is_judged(course):
    from cnnlab.nbtools import cells_by_id

    source = copy.deepcopy(course.read_source(A05, course.assignment(A05).notebooks[0]))
    check_source(source, A05, "learning_filters")  # the course as it is: every solution answers its cases
    cells_by_id(source)["kernel_gradient_answer"].source = (
        "def kernel_gradient(image, kernel, target):\n    ### BEGIN SOLUTION\n"
        "    return correlate_with_residual(image, kernel, target)  # defined nowhere\n    ### END SOLUTION\n")
    with pytest.raises(AnswerKeyError, match="kernel_gradient_hidden: the solution in source/ raised NameError "
                                             "on the case"):
        check_source(source, A05, "learning_filters")
