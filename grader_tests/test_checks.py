"""The checking helper the hidden cells call: scoring, hints, and what it never prints."""
from __future__ import annotations

import numpy as np
import pytest

from cnnlab import checks
from cnnlab.checks import Check, case, check_choices, check_function, check_number, check_order, \
    check_trained, check_value, forbidden_calls, random_array, run_cases


def _reference(image, kernel):
    kh, kw = kernel.shape
    out = np.zeros((image.shape[0] - kh + 1, image.shape[1] - kw + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(image[i:i + kh, j:j + kw] * kernel)
    return out


CASES = [
    case("non-square image, asymmetric kernel", random_array((5, 7), seed=1), random_array((2, 3), seed=2),
         hint="Check the order of the axes."),
    case("integer image, float kernel", random_array((4, 6), seed=3, integer=True), random_array((3, 2), seed=4),
         hint="Return floats."),
]


def test_random_array_is_reproducible_and_shaped():
    a, b = random_array((3, 4), seed=7), random_array((3, 4), seed=7)
    assert a.shape == (3, 4) and np.array_equal(a, b)
    assert not np.array_equal(a, random_array((3, 4), seed=8))
    ints = random_array((50,), seed=1, low=-2, high=2, integer=True)
    assert np.issubdtype(ints.dtype, np.integer) and ints.min() >= -2 and ints.max() <= 2


def test_correct_function_gets_all_points(capsys):
    score = check_function("f", _reference, CASES, points=3, namespace={"f": _reference})
    assert score == 3.0
    assert "2 of 2 hidden checks passed" in capsys.readouterr().out


def test_partial_credit_and_hint_for_the_failing_case(capsys):
    def flipped(image, kernel):  # true convolution: the classic mistake
        return _reference(image, kernel[::-1, ::-1])

    score = check_function("f", _reference, CASES, points=3, namespace={"f": flipped})
    out = capsys.readouterr().out
    assert score == 0.0  # both cases use asymmetric kernels
    assert "Check the order of the axes." in out and "wrong values" in out


def test_expected_values_never_printed(capsys):
    def off_by_one(image, kernel):
        return _reference(image, kernel) + 1.0

    check_function("f", _reference, CASES[:1], points=1, namespace={"f": off_by_one})
    out = capsys.readouterr().out
    expected = _reference(*CASES[0].args)
    for value in expected.ravel():
        assert f"{value:.2f}" not in out and repr(float(value)) not in out


def test_integer_output_fails_with_dtype_reason():
    def ints(image, kernel):
        return _reference(image, kernel).astype(int)

    outcomes = run_cases(ints, _reference, CASES[1:])
    assert not outcomes[0].passed and "dtype" in outcomes[0].reason


def test_mutating_the_input_fails_even_with_right_values():
    def mutating(image, kernel):
        result = _reference(image, kernel)
        image[...] = 0
        return result

    outcomes = run_cases(mutating, _reference, CASES[:1])
    assert not outcomes[0].passed and "changed its input" in outcomes[0].reason


def test_student_exceptions_are_reported_not_raised():
    def broken(image, kernel):
        raise NotImplementedError()

    outcomes = run_cases(broken, _reference, CASES)
    assert [o.passed for o in outcomes] == [False, False]
    assert outcomes[0].reason.startswith("raised NotImplementedError")


def test_expected_exception_cases():
    def size(n, k, stride=1):
        if stride < 1:
            raise ValueError("stride must be >= 1")
        return (n - k) // stride + 1

    def lenient(n, k, stride=1):
        return (n - k) // max(stride, 1) + 1

    cases = [case("stride 0", 7, 3, stride=0, raises=ValueError)]
    assert run_cases(size, size, cases, returns="int")[0].passed
    outcome = run_cases(lenient, size, cases, returns="int")[0]
    assert not outcome.passed and "instead of raising ValueError" in outcome.reason


def test_int_results_must_be_ints_not_floats_or_bools():
    cases = [case("7x7, 3x3", 7, 3)]
    ref = lambda n, k: n - k + 1  # noqa: E731
    assert run_cases(lambda n, k: float(n - k + 1), ref, cases, returns="int")[0].reason.startswith("returned float")
    assert not run_cases(lambda n, k: True, ref, cases, returns="int")[0].passed
    assert run_cases(lambda n, k: np.int64(n - k + 1), ref, cases, returns="int")[0].passed


def test_student_stderr_is_kept_out_of_the_cell(capfd):
    import sys

    def noisy(image, kernel):
        print("debugging", file=sys.stderr)
        return _reference(image, kernel)

    assert check_function("f", _reference, CASES, points=2, namespace={"f": noisy}) == 2.0
    assert capfd.readouterr().err == ""


def test_missing_function_scores_zero_with_a_hint(capsys):
    assert check_function("conv2d", _reference, CASES, points=2, namespace={}) == 0.0
    assert "no function named `conv2d`" in capsys.readouterr().out


scipy = pytest.importorskip("scipy.signal")


def test_library_convolution_is_detected_in_every_import_style():
    import scipy
    import scipy.signal
    from scipy.signal import correlate2d

    ns = {"scipy": scipy, "correlate2d": correlate2d, "np": np}
    variants = {
        "module attribute": "def f(i, k):\n    return scipy.signal.correlate2d(i, k, mode='valid')\n",
        "imported name": "def f(i, k):\n    return correlate2d(i, k, mode='valid')\n",
        "import inside": "def f(i, k):\n    import scipy.signal as s\n    return s.correlate2d(i, k, 'valid')\n",
        "through a helper": "def g(i, k):\n    return correlate2d(i, k, mode='valid')\n"
                            "def f(i, k):\n    return g(i, k)\n",
    }
    for label, src in variants.items():
        env = dict(ns)
        exec(src, env)
        assert forbidden_calls(env["f"]), label
    env = dict(ns)
    exec("def f(i, k):\n    return np.einsum('ij,ij->', i, k)\n", env)
    assert forbidden_calls(env["f"]) == []


def test_library_convolution_earns_no_credit(capsys):
    from scipy.signal import correlate2d

    env = {"correlate2d": correlate2d}
    exec("def f(i, k):\n    return correlate2d(i, k, mode='valid').astype(float)\n", env)
    assert check_function("f", _reference, CASES, points=3, namespace=env) == 0.0
    assert "library convolution" in capsys.readouterr().out


def test_choices_score_right_picks_minus_wrong_ones():
    right = {"A", "C", "E"}
    assert check_choices("q", right, 3, namespace={"q": {"a", "c", "e"}}) == 3.0
    assert check_choices("q", right, 3, namespace={"q": ["A", "C"]}) == 2.0
    assert check_choices("q", right, 3, namespace={"q": {"A", "C", "E", "B"}}) == 2.0
    assert check_choices("q", right, 3, namespace={"q": set("ABCDEF")}) == 0.0
    assert check_choices("q", right, 3, namespace={"q": 5}) == 0.0


def test_order_and_number_and_value():
    assert check_order("o", list("ABC"), 2, namespace={"o": ["a", "b", "c"]}) == 2.0
    assert check_order("o", list("ABC"), 3, namespace={"o": ["A", "C", "B"]}) == 1.0
    assert check_number("n", 760, 1, namespace={"n": 760.0}) == 1.0
    assert check_number("n", 760, 1, namespace={"n": 750}) == 0.0
    assert check_number("n", 1, 1, namespace={"n": True}) == 0.0
    vals = [Check("is 3x3", lambda k: np.shape(k) == (3, 3)), Check("sums to 0", lambda k: abs(np.sum(k)) < 1e-9)]
    assert check_value("k", vals, 2, namespace={"k": np.ones((3, 3))}) == 1.0


def test_scores_never_exceed_points_and_are_floored():
    assert checks._score([checks.Outcome("a", True)] * 2 + [checks.Outcome("b", False)], 1) == 0.66


def test_returning_the_input_or_a_view_never_passes():
    def pad0(x, pad):
        return x if pad == 0 else np.pad(x, pad)

    cases = [case("pad 0", random_array((3, 4), seed=1), 0), case("pad 1", random_array((3, 4), seed=2), 1)]
    outcomes = run_cases(pad0, lambda x, pad: np.pad(x, pad), cases, returns="same-dtype")
    assert [o.passed for o in outcomes] == [False, True]
    assert "returned its input" in outcomes[0].reason


def test_same_dtype_results_must_keep_the_input_dtype():
    x = random_array((3, 4), seed=5, low=0, high=9, integer=True).astype(np.uint8)
    cases = [case("uint8", x, 1)]
    keep = lambda x, pad: np.pad(x, pad)  # noqa: E731
    assert run_cases(keep, keep, cases, returns="same-dtype")[0].passed
    widened = run_cases(lambda x, pad: np.pad(x, pad).astype(float), keep, cases, returns="same-dtype")[0]
    assert not widened.passed and "keep the input's dtype" in widened.reason


# ---------------------------------------------------------------------------- 05's kinds of result
def _loss_and_grad(x):
    return float(np.sum(x ** 2)), 2 * x


LOSS_CASES = [case("a 2×3 array", random_array((2, 3), seed=5))]


def test_a_tuple_result_is_judged_part_by_part_and_names_the_wrong_part(capsys):
    options = dict(returns=("float", "array"), parts=("loss", "dx"))
    assert check_function("f", _loss_and_grad, LOSS_CASES, points=2, namespace={"f": _loss_and_grad},
                          **options) == 2.0
    capsys.readouterr()
    halved = lambda x: (float(np.sum(x ** 2)), x)  # noqa: E731 — the gradient without its factor 2
    assert check_function("f", _loss_and_grad, LOSS_CASES, points=2, namespace={"f": halved}, **options) == 0.0
    assert "dx: wrong values" in capsys.readouterr().out
    outcome = run_cases(lambda x: 2 * x, _loss_and_grad, LOSS_CASES, **options)[0]
    assert not outcome.passed and "expected a tuple (loss, dx)" in outcome.reason
    outcome = run_cases(lambda x: (1.0,), _loss_and_grad, LOSS_CASES, **options)[0]
    assert "returned 1 values, expected 2" in outcome.reason


@pytest.mark.parametrize("result, passes, reason", [
    (np.float64(3.0), True, ""), (3, True, ""), (np.array(3.0), True, ""),
    (True, False, "expected a number"), ("3.0", False, "expected a number"),
    (float("nan"), False, "not finite"), (float("inf"), False, "not finite"), (3.1, False, "not right"),
])
def test_a_float_result_must_be_a_finite_number_close_to_the_reference(result, passes, reason):
    outcome = run_cases(lambda x: result, lambda x: 3.0, LOSS_CASES, returns="float")[0]
    assert outcome.passed is passes and reason in outcome.reason


def test_input_tol_forgives_rounding_when_x_is_restored_but_not_a_real_change():
    def restores_with_rounding(x):  # x += h; x -= h leaves some last bits changed
        x += 0.1
        x -= 0.1
        return np.zeros_like(x)

    def forgets_to_restore(x):
        x[0, 0] += 1e-5
        return np.zeros_like(x)

    c = [case("x", random_array((20, 30), seed=0))]
    zeros = lambda x: np.zeros_like(x)  # noqa: E731
    strict = run_cases(restores_with_rounding, zeros, c)[0]
    assert not strict.passed and "changed its input" in strict.reason  # exactly: the rounding shows
    assert run_cases(restores_with_rounding, zeros, c, input_tol=(1e-12, 1e-15))[0].passed
    unrestored = run_cases(forgets_to_restore, zeros, c, input_tol=(1e-12, 1e-15))[0]
    assert not unrestored.passed and "changed its input" in unrestored.reason


# ---------------------------------------------------------------------------- check_trained
def _make_data(n, seed):
    rng = np.random.default_rng(seed)
    images = rng.normal(size=(n, 4))
    return images, (images[:, 0] > 0).astype(int)


def _predict(params, images):
    if not isinstance(params, dict) or not isinstance(params.get("w"), np.ndarray):
        raise ValueError("params must be a dict with an array 'w'")
    if params["w"].shape != (4,):
        raise ValueError(f"params['w'] must have shape (4,), not {params['w'].shape}")
    return (images @ params["w"] > 0).astype(int)


def _trained(params, **kw):
    namespace = {"p": params, "make_data": _make_data, "predict": _predict}
    return check_trained("p", 4, data="make_data", predict="predict", test_size=400, seed=11,
                         thresholds=(0.6, 0.8, 0.9, 0.99), namespace=namespace, **kw)


def test_trained_parameters_earn_a_share_per_threshold_reached(capsys):
    assert _trained({"w": np.array([1.0, 0, 0, 0])}) == 4.0
    out = capsys.readouterr().out
    assert "100.0% of 400 hidden test images" in out
    # a rotated weight vector: right about 3/4 of the time (the angle is 45°)
    assert _trained({"w": np.array([1.0, 1.0, 0, 0])}) == 1.0
    assert "at least 80%: not reached" in capsys.readouterr().out
    assert _trained({"w": np.array([-1.0, 0, 0, 0])}, hint="train again.") == 0.0
    assert "train again." in capsys.readouterr().out


@pytest.mark.parametrize("params, said", [
    ([1.0, 0, 0, 0], "params must be a dict"),
    ({"w": [1.0, 0, 0, 0]}, "params must be a dict with an array"),
    ({"w": np.ones(5)}, "must have shape (4,), not (5,)"),
])
def test_parameters_that_do_not_fit_earn_nothing_with_the_instructors_reason(params, said, capsys):
    assert _trained(params) == 0.0
    out = capsys.readouterr().out
    assert "p does not fit the network" in out and said in out and "Traceback" not in out


def test_a_forward_pass_that_breaks_on_the_parameters_gives_a_generic_reason(capsys):
    class Weird(dict):
        def get(self, key, default=None):
            return np.ones((2, 2))[key]  # IndexError inside the forward pass

    assert _trained(Weird()) == 0.0
    out = capsys.readouterr().out
    assert "could not be used by the forward pass (IndexError)" in out and "Traceback" not in out


def test_missing_parameters_or_a_missing_forward_pass_earn_nothing(capsys):
    assert check_trained("p", 4, data="make_data", predict="predict", test_size=10, seed=1,
                         thresholds=(0.5,), namespace={}) == 0.0
    assert check_trained("p", 4, data="make_data", predict="predict", test_size=10, seed=1,
                         thresholds=(0.5,), namespace={"p": {"w": np.ones(4)}}) == 0.0
    assert "run the notebook from the top" in capsys.readouterr().out
