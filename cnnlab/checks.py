"""The checking helper that every hidden test cell of the course calls.

A hidden test cell is declarative: it names the student's object, gives a
reference written inside the hidden block, and lists the cases as data
(`case(...)` / `Check(...)`). This module runs them and prints a report the
student can act on. The cell's last expression is the score this module
returns; nbgrader reads a numeric `execute_result` as partial credit.

Why it never raises and never writes to stderr: a traceback out of a hidden
cell would print the hidden source to the student's feedback, and any stderr
output makes nbgrader give the whole cell 0. Failures are reported as hint
lines on stdout and reflected in the returned score instead. Expected values
are never printed: the hints say what to look at, not what the answer is.

The same cases are judged outside the student's kernel too: they are plain
inputs plus a reference, the probe (probe.py) hands back what the student's
function did with them, and the verifier (grading/verify.py) scores that with
`report_function` and the other checks here.
"""
from __future__ import annotations

import contextlib
import copy
import io
import math
import re
import types
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from .plaindata import type_name

__all__ = [
    "FORBIDDEN_LIBRARIES",
    "Case",
    "Check",
    "whole_number",
    "whole_shape",
    "Call",
    "Outcome",
    "case",
    "random_array",
    "check_function",
    "check_choices",
    "check_order",
    "check_number",
    "check_value",
    "check_trained",
    "forbidden_calls",
    "call_case",
    "judge_case",
    "report_function",
    "run_cases",
    "Unit",
    "hidden_unit",
]

#: Library convolution or pooling: using any of these earns no credit (spec).
FORBIDDEN_LIBRARIES = (
    "scipy.signal",
    "scipy.ndimage",
    "torch",
    "tensorflow",
    "keras",
    "cv2",
    "skimage",
)

PASS, FAIL = "\u2713", "\u2717"  # ✓ ✗


# ----------------------------------------------------------------------------
# Inputs
# ----------------------------------------------------------------------------
def random_array(shape, seed: int, low: float = -3.0, high: float = 3.0, integer: bool = False):
    """A reproducible test input: same shape and seed, same numbers, everywhere.

    Integers (``integer=True``) are drawn from ``[low, high]`` inclusive; floats
    are rounded to two decimals so that a student printing them sees tidy
    numbers and a float kernel on integer inputs still has a float result.
    """
    rng = np.random.default_rng(seed)
    if integer:
        return rng.integers(int(low), int(high) + 1, size=shape)
    return np.round(rng.uniform(low, high, size=shape), 2)


@dataclass
class Case:
    """One call of the student's function with grader-chosen arguments.

    label  -- what is tried, in words the student understands ("stride 2").
    hint   -- what to look at when the case fails (never the expected value).
    raises -- an exception type the call must raise instead of returning.
    check  -- optional predicate on the result, replacing the comparison with
              the reference (for open-ended tasks such as "design a kernel").
    """

    label: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    hint: str = ""
    raises: type | None = None
    check: Callable[[Any], bool] | None = None


def case(label: str, *args, hint: str = "", raises: type | None = None,
         check: Callable[[Any], bool] | None = None, **kwargs) -> Case:
    """Shorthand: ``case("stride 2", x, w, stride=2, hint="...")``."""
    return Case(label=label, args=args, kwargs=kwargs, hint=hint, raises=raises, check=check)


@dataclass
class Check:
    """A property of a student's value: ``Check(label, predicate, hint)``."""

    label: str
    predicate: Callable[[Any], bool]
    hint: str = ""


def whole_number(x) -> int | None:
    """x as an int when it is a whole number (an int, a NumPy integer, or a float with no
    fraction), else None. A bool is not a count: True is not 1 here. Value items' checks
    compare answers through this, so 760, np.int64(760) and 760.0 are one answer."""
    if isinstance(x, bool) or not isinstance(x, (int, np.integer, float, np.floating)):
        return None
    return int(x) if float(x).is_integer() else None


def whole_shape(s) -> tuple:
    """A shape as a tuple of whole_number()s; a bare number is a 1-D shape, (n,)."""
    if whole_number(s) is not None:
        return (whole_number(s),)
    return tuple(whole_number(d) for d in s)


@dataclass
class Outcome:
    """The plain result of one case: what was tried, whether it passed, why not."""

    label: str
    passed: bool
    reason: str = ""


@dataclass
class Unit:
    """One equal share of an item's points, passed or not.

    nbgrader reads a hidden cell's score as a number; otter scores test cases
    that pass or fail. So every check also describes its score as units of
    equal weight (a function item: one per case; properties: one per check;
    choices: one per right answer, the first `hits - wrong` passing; an order:
    one per position; a number: one). `units_passed / len(units) * points` is
    the score before the floor to hundredths.
    """

    label: str
    passed: bool
    message: str = ""


#: Where the checks report their units while `hidden_unit` runs a block (else None).
_SINK: list | None = None
#: The student's globals while `hidden_unit` runs a block (else the kernel's user namespace).
_NAMESPACE: dict | None = None


def _emit(units: list[Unit] | None, message: str = "") -> None:
    """Record one check's units; None means every unit failed for `message`
    (no such function or variable, a library convolution, a wrong type)."""
    if _SINK is not None:
        _SINK.append((units, message))


# ----------------------------------------------------------------------------
# Finding the student's objects and the library rule
# ----------------------------------------------------------------------------
def _student_namespace() -> dict:
    if _NAMESPACE is not None:  # hidden_unit: otter hands the student's globals over explicitly
        return _NAMESPACE
    try:  # inside a Jupyter kernel the student's names live in the user namespace
        from IPython import get_ipython

        shell = get_ipython()
        if shell is not None:
            return shell.user_ns
    except Exception:  # pragma: no cover - IPython is always there in a kernel
        pass
    import __main__

    return vars(__main__)


_MISSING = object()


def _lookup(name: str, namespace: dict | None):
    ns = _student_namespace() if namespace is None else namespace
    return ns.get(name, _MISSING)


def is_forbidden_module(modname: str | None) -> bool:
    """The one rule of what counts as a forbidden library (also tamper.py's static reading)."""
    if not modname:
        return False
    return any(modname == lib or modname.startswith(lib + ".") for lib in FORBIDDEN_LIBRARIES)


def _describe_forbidden(obj) -> str | None:
    if isinstance(obj, types.ModuleType):
        return obj.__name__ if is_forbidden_module(obj.__name__) else None
    modname = getattr(obj, "__module__", None)
    if isinstance(modname, str) and is_forbidden_module(modname):
        return f"{modname}.{getattr(obj, '__name__', '?')}"
    return None


def _code_objects(code: types.CodeType) -> Iterable[types.CodeType]:
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _code_objects(const)


def forbidden_calls(func: Callable, _seen: set | None = None) -> list[str]:
    """Names of library convolution/pooling code that `func` can reach.

    Looks at the names the function's code uses (its own imports, the globals
    it reads and attributes of the modules it reads), and follows the
    student's own helper functions. A static look, so it also catches calls on
    branches a test input never takes.
    """
    seen = set() if _seen is None else _seen
    code = getattr(func, "__code__", None)
    if code is None or id(code) in seen:
        return []
    seen.add(id(code))
    found: list[str] = []
    globals_ = getattr(func, "__globals__", {})
    names: set[str] = set()
    for c in _code_objects(code):
        names.update(c.co_names)
    for name in sorted(names):
        if is_forbidden_module(name):  # `import scipy.signal` inside the function
            found.append(name)
            continue
        obj = globals_.get(name, _MISSING)
        if obj is _MISSING:
            continue
        hit = _describe_forbidden(obj)
        if hit:
            found.append(hit)
        elif isinstance(obj, types.ModuleType):  # `scipy.signal.correlate2d` via `import scipy`
            for attr in names:
                with warnings.catch_warnings():  # e.g. numpy's FutureWarning for np.str
                    warnings.simplefilter("ignore")
                    sub = getattr(obj, attr, None)
                if sub is not None:
                    hit = _describe_forbidden(sub)
                    if hit:
                        found.append(hit)
        elif isinstance(obj, types.FunctionType) and obj is not func:
            found.extend(forbidden_calls(obj, seen))
    return sorted(set(found))


# ----------------------------------------------------------------------------
# Running cases
# ----------------------------------------------------------------------------
def _same_value(a, b) -> bool:
    """Exact equality for plain data, element-wise closeness for arrays."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        return a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True)
    return type(a) is type(b) and a == b


def _quietly(call: Callable[[], Any]):
    """Run student code with its prints and warnings kept out of the cell's
    stderr (stderr would zero the whole cell in nbgrader)."""
    out, err = io.StringIO(), io.StringIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            return call()


_DECIMALS = re.compile(r"[-+]?\d*\.\d+(?:[eE][-+]?\d+)?")
_BRACKETS = re.compile(r"\[[^\]]*\]")


def student_text(text: str, limit: int = 100) -> str:
    """Text a student's code made (an exception message), as feedback may show it:
    no array contents and no decimal numbers, which could carry a hidden input
    out to the student; at most `limit` characters."""
    text = _DECIMALS.sub("\u2026", _BRACKETS.sub("[\u2026]", str(text)))
    return text if len(text) <= limit else text[:limit - 1] + "\u2026"


def _shape_shown(shape) -> str:
    small = len(shape) <= 4 and all(0 <= n <= 4096 for n in shape)
    return str(shape) if small else "an unusual shape"


def _compare(result, expected, returns, rtol: float, atol: float, parts: Sequence[str] = ()) -> str:
    """'' when `result` matches `expected`, else what is wrong (no values).

    returns -- "array", "same-dtype", "int", "float" (a real number: a Python or
               NumPy float, or a 0-d array), or a tuple of these for a function
               that returns a tuple (05's backward passes), whose `parts` name
               each element in the report ("dweights: wrong values in ...").
    """
    if isinstance(returns, (tuple, list)):
        names = list(parts) + [f"element {i + 1}" for i in range(len(parts), len(returns))]
        if not isinstance(result, (tuple, list)):
            return f"returned {type_name(result)}, expected a tuple ({', '.join(names)})"
        if len(result) != len(returns):
            return f"returned {len(result)} values, expected {len(returns)} ({', '.join(names)})"
        for name, got, want, kind in zip(names, result, expected, returns):
            problem = _compare(got, want, kind, rtol, atol)
            if problem:
                return f"{name}: {problem}"
        return ""
    if returns == "float":
        if isinstance(result, np.ndarray) and result.shape == ():
            result = result[()]
        if isinstance(result, (bool, np.bool_)) or not isinstance(result, (float, np.floating, int, np.integer)):
            return f"returned {type_name(result)}, expected a number (a float)"
        if not np.isfinite(float(result)):
            return "returned a value that is not finite (inf or nan): is something overflowing?"
        return "" if math.isclose(float(result), float(expected), rel_tol=rtol, abs_tol=atol) \
            else "the value is not right"
    if returns == "int":
        if isinstance(result, bool) or not isinstance(result, (int, np.integer)):
            return f"returned {type_name(result)}, expected a whole number (int)"
        if int(result) == int(expected):
            return ""
        shown = int(result) if abs(int(result)) < 10**6 else "a whole number"
        return f"returned {shown}, which is not right"
    if not isinstance(result, np.ndarray):
        return f"returned {type_name(result)}, expected a NumPy array"
    if result.shape != np.shape(expected):
        return f"output has shape {_shape_shown(result.shape)}, which is not the right shape"
    if returns == "same-dtype":
        if result.dtype != np.asarray(expected).dtype:
            return f"output dtype is {result.dtype}; keep the input's dtype (e.g. dtype=x.dtype)"
    elif not np.issubdtype(result.dtype, np.floating):
        return f"output dtype is {result.dtype}; return a floating-point array (e.g. astype(float))"
    if not np.allclose(result, expected, rtol=rtol, atol=atol):
        wrong = int(np.sum(~np.isclose(result, expected, rtol=rtol, atol=atol)))
        return f"wrong values in {wrong} of {result.size} entries"
    return ""


#: How much of a student's exception message is recorded (feedback shows less, see student_text).
MESSAGE_CHARS = 2000


@dataclass
class Call:
    """What one call of the student's function did, as plain data: the same
    record whether it was made here in the kernel or by the probe and decoded
    by the trusted verifier, so both judge it with the same code."""

    returned: Any = None
    raised: tuple = ()            # the exception's class name and its bases' names; () if it returned
    message: str = ""
    after: tuple = ()             # the arguments after the call (a function must not change them)
    after_kwargs: dict = field(default_factory=dict)
    shares_input: bool = False    # the result is an input, or a view of one
    timed_out: bool = False


def call_case(func: Callable, c: Case) -> tuple[tuple, Call]:
    """Call `func` on a fresh copy of the case's arguments. Returns the
    pristine arguments and what the call did; never raises on the student's
    behalf (KeyboardInterrupt, the cell's timeout, is let through)."""
    pristine = copy.deepcopy((c.args, c.kwargs))
    args, kwargs = copy.deepcopy(pristine)
    try:
        result = _quietly(lambda: func(*args, **kwargs))
    except Exception as exc:  # the student's error, reported in one line
        names = tuple(k.__name__ for k in type(exc).__mro__ if k not in (object, BaseException))
        return pristine, Call(raised=names, message=str(exc)[:MESSAGE_CHARS], after=tuple(args),
                              after_kwargs=dict(kwargs))
    inputs = list(args) + list(kwargs.values())
    shares = isinstance(result, np.ndarray) and any(
        isinstance(a, np.ndarray) and np.shares_memory(result, a) for a in inputs)
    return pristine, Call(returned=result, after=tuple(args), after_kwargs=dict(kwargs), shares_input=shares)


def _unchanged(after, before, input_tol: tuple | None) -> bool:
    if input_tol is not None and isinstance(after, np.ndarray) and isinstance(before, np.ndarray):
        return (after.shape == before.shape and after.dtype == before.dtype
                and np.allclose(after, before, rtol=input_tol[0], atol=input_tol[1]))
    return _same_value(after, before)


def judge_case(c: Case, pristine: tuple, call: Call, reference: Callable | None, *,
               returns="array", rtol: float = 1e-6, atol: float = 1e-8, parts: Sequence[str] = (),
               input_tol: tuple | None = None) -> Outcome:
    """Whether one call did what the case asks. Pure: no student code runs here
    (a predicate or the reference are the instructor's, the values are data).

    input_tol -- (rtol, atol) within which an array argument must be as it was
                 (None: exactly): numerical_gradient may perturb x and put it back,
                 which restores each element only up to rounding."""
    if call.timed_out:
        return Outcome(c.label, False, "did not finish in time (an infinite loop?)")
    if call.raised:
        if c.raises is not None and c.raises.__name__ in call.raised:
            return Outcome(c.label, True)
        expected = f" (expected {c.raises.__name__})" if c.raises else ""
        said = f": {student_text(call.message)}" if call.message else ""
        return Outcome(c.label, False, f"raised {call.raised[0]}{said}{expected}")
    before = list(pristine[0]) + list(pristine[1].values())
    after = list(call.after) + [call.after_kwargs.get(k, _MISSING) for k in pristine[1]]
    if len(after) != len(before) or not all(_unchanged(a, b, input_tol) for a, b in zip(after, before)):
        return Outcome(c.label, False, "changed its input array; work on a copy")
    if call.shares_input:
        return Outcome(c.label, False, "returned its input (or a view of it); return a new array")
    if c.raises is not None:
        return Outcome(c.label, False, f"returned instead of raising {c.raises.__name__}")
    result = call.returned
    if c.check is not None:
        try:
            ok = bool(_quietly(lambda: c.check(copy.deepcopy(result))))
            problem = "" if ok else "does not have the property asked for"
        except Exception as exc:
            problem = f"could not be checked ({type(exc).__name__})"
    else:
        ref_args, ref_kwargs = copy.deepcopy(pristine)
        expected = reference(*ref_args, **ref_kwargs)
        try:
            problem = _compare(result, expected, returns, rtol, atol, parts)
        except Exception as exc:  # a result the comparison cannot handle is simply wrong
            problem = f"returned {type_name(result)}, which could not be compared ({type(exc).__name__})"
    return Outcome(c.label, not problem, problem)


def run_cases(func: Callable, reference: Callable | None, cases: Sequence[Case], **options) -> list[Outcome]:
    """Call `func` on every case; compare with `reference` (or the case's own
    check); `options` as for `judge_case`. Returns plain outcomes; never raises
    on the student's behalf."""
    return [judge_case(c, *call_case(func, c), reference, **options) for c in cases]


def _score(outcomes: Sequence[Outcome], points: float) -> float:
    if not outcomes:
        return 0.0
    passed = sum(o.passed for o in outcomes)
    # floor to hundredths so that rounding never awards more than earned
    return math.floor(points * passed / len(outcomes) * 100 + 1e-9) / 100


def _report(name: str, outcomes: Sequence[Outcome], hints: dict[str, str], score: float,
            points: float, what: str = "hidden checks", headline: str = "") -> float:
    """Record the units, print the report; `headline` replaces "k of n <what> passed"."""
    passed = sum(o.passed for o in outcomes)
    _emit([Unit(o.label, o.passed, "" if o.passed else
                f"{o.label}: {o.reason}." + (f" {hints[o.label]}" if hints.get(o.label) else ""))
           for o in outcomes])
    headline = headline or f"{passed} of {len(outcomes)} {what} passed"
    print(f"{name}: {headline} \u2192 {score:g} of {points:g} points")
    for o in outcomes:
        if o.passed:
            print(f"  {PASS} {o.label}")
        else:
            hint = hints.get(o.label, "")
            print(f"  {FAIL} {o.label}: {o.reason}." + (f" {hint}" if hint else ""))
    return score


def _missing(name: str, points: float, what: str = "function") -> float:
    message = f"no {what} named `{name}` was found: run the cell that defines it, and keep its name."
    _emit(None, message)
    print(f"{name}: 0 of {points:g} points")
    print(f"  {FAIL} {message}")
    return 0.0


def _nothing(name: str, points: float, message: str) -> float:
    """0 points for a reason that fails every unit at once (a wrong type, a library call)."""
    _emit(None, message)
    print(f"{name}: 0 of {points:g} points")
    print(f"  {FAIL} {message}")
    return 0.0


def check_function(name: str, reference: Callable, cases: Sequence[Case], points: float, *,
                   returns="array", rtol: float = 1e-6, atol: float = 1e-8, parts: Sequence[str] = (),
                   input_tol: tuple | None = None, forbid_libraries: bool = True,
                   namespace: dict | None = None) -> float:
    """Grade the student's function `name` on `cases`; returns the points earned.

    returns -- "array": a float ndarray compared element-wise with the reference
               "same-dtype": an ndarray with the reference's dtype (zero_pad keeps it)
               "int": a whole number (sizes, counts)
               "float": a real number (a loss)
               a tuple of these: a tuple of that many results, named by `parts`
    input_tol -- see `judge_case` (numerical_gradient)
    A result that is one of the inputs, or a view of one, never passes: the
    caller changing it would change their own image.
    Each case is worth the same share of `points`.
    """
    func = _lookup(name, namespace)
    if func is _MISSING or not callable(func):
        return report_function(name, cases, None, [], reference, points)
    used = forbidden_calls(func) if forbid_libraries else []
    calls = [] if used else [call_case(func, c) for c in cases]
    return report_function(name, cases, calls, used, reference, points, returns=returns, rtol=rtol, atol=atol,
                           parts=parts, input_tol=input_tol)


#: The check_function options that say how a result is judged (the verifier passes the same ones).
JUDGING_OPTIONS = ("returns", "rtol", "atol", "parts", "input_tol")


def report_function(name: str, cases: Sequence[Case], calls: Sequence[tuple[tuple, Call]] | None,
                    forbidden: Sequence[str], reference: Callable | None, points: float, **options) -> float:
    """Judge recorded calls, print the student's report, return the score.

    The one place a function item is scored: `check_function` in the kernel
    calls it with calls it just made, the trusted verifier with the calls the
    probe reported (`calls=None`: no function of that name was found).
    """
    if calls is None:
        return _missing(name, points)
    if forbidden:
        return _nothing(name, points, f"uses {', '.join(forbidden)}: a library convolution or pooling earns no "
                        "credit here. Write it with NumPy (np.einsum and stride tricks are fine).")
    outcomes = [judge_case(c, pristine, call, reference, **options) for c, (pristine, call) in zip(cases, calls)]
    outcomes += [Outcome(c.label, False, "was not run") for c in cases[len(outcomes):]]
    score = _score(outcomes, points)
    return _report(name, outcomes, {c.label: c.hint for c in cases}, score, points)


def check_value(name: str, checks: Sequence[Check], points: float, *,
                namespace: dict | None = None) -> float:
    """Grade a student's value (a kernel they designed, a table they filled)
    by properties; each check is worth the same share of `points`."""
    value = _lookup(name, namespace)
    if value is _MISSING:
        return _missing(name, points, what="variable")
    outcomes = []
    for chk in checks:
        try:
            ok = bool(_quietly(lambda: chk.predicate(copy.deepcopy(value))))
            outcomes.append(Outcome(chk.label, ok, "" if ok else "not yet"))
        except Exception as exc:
            outcomes.append(Outcome(chk.label, False, f"could not be checked ({type(exc).__name__})"))
    score = _score(outcomes, points)
    return _report(name, outcomes, {c.label: c.hint for c in checks}, score, points, what="checks")


def _normalise_choice(x) -> str:
    return str(x).strip().upper()


def check_choices(name: str, correct: Iterable, points: float, *, hint: str = "",
                  namespace: dict | None = None) -> float:
    """Multiple answer: the student's value is a set (or list) of letters.

    Each correct letter earns an equal share; each wrong letter takes one
    share away (never below 0), so ticking everything earns nothing.
    """
    value = _lookup(name, namespace)
    if value is _MISSING:
        return _missing(name, points, what="variable")
    if isinstance(value, str):
        value = [value]
    try:
        chosen = {_normalise_choice(v) for v in value}
    except TypeError:
        return _nothing(name, points, "give your answer as a set of letters, like {'A', 'C'}.")
    right = {_normalise_choice(v) for v in correct}
    hits, wrong = len(chosen & right), len(chosen - right)
    share = points / len(right)
    score = math.floor(max(0.0, (hits - wrong) * share) * 100 + 1e-9) / 100
    print(f"{name}: {score:g} of {points:g} points")
    if chosen == right:
        print(f"  {PASS} all the right choices and no wrong ones")
        feedback = ""
    else:
        feedback = (f"{hits} of your {len(chosen)} choices are right; {len(right)} are expected."
                    + (f" {hint}" if hint else ""))
        print(f"  {FAIL} {feedback}")
    earned = max(0, hits - wrong)  # each wrong letter cancels a right one
    _emit([Unit(f"right choice {i + 1} of {len(right)}", i < earned, "" if i < earned else feedback)
           for i in range(len(right))])
    return score


def check_order(name: str, correct: Sequence, points: float, *, hint: str = "",
                namespace: dict | None = None) -> float:
    """An ordering (e.g. the layers of a CNN): full points when exactly right,
    otherwise a share for each position that is right."""
    value = _lookup(name, namespace)
    if value is _MISSING:
        return _missing(name, points, what="variable")
    try:
        given = [_normalise_choice(v) for v in value]
    except TypeError:
        return _nothing(name, points, "give your answer as a list, in order.")
    right = [_normalise_choice(v) for v in correct]
    same_length = len(given) == len(right)
    if given == right:
        _emit([Unit(f"position {i + 1}", True) for i in range(len(right))])
        print(f"{name}: {points:g} of {points:g} points")
        print(f"  {PASS} the order is right")
        return float(points)
    in_place_at = [same_length and given[i] == right[i] for i in range(len(right))]
    in_place = sum(in_place_at)
    score = math.floor(points * in_place / len(right) * 100 + 1e-9) / 100
    feedback = f"{in_place} of {len(right)} positions are right." + (f" {hint}" if hint else "")
    _emit([Unit(f"position {i + 1}", ok, "" if ok else feedback) for i, ok in enumerate(in_place_at)])
    print(f"{name}: {score:g} of {points:g} points")
    print(f"  {FAIL} {feedback}")
    return score


def check_number(name: str, expected: float, points: float, *, hint: str = "",
                 rel_tol: float = 1e-9, abs_tol: float = 0.0,
                 namespace: dict | None = None) -> float:
    """A numeric answer: all or nothing, within the given tolerance."""
    value = _lookup(name, namespace)
    if value is _MISSING:
        return _missing(name, points, what="variable")
    try:
        ok = not isinstance(value, bool) and math.isclose(float(value), float(expected),
                                                          rel_tol=rel_tol, abs_tol=abs_tol)
    except (TypeError, ValueError):
        return _nothing(name, points, f"give a number, not {type(value).__name__}.")
    score = float(points) if ok else 0.0
    feedback = "" if ok else "not right yet." + (f" {hint}" if hint else "")
    _emit([Unit("the number", ok, feedback)])
    print(f"{name}: {score:g} of {points:g} points")
    print(f"  {PASS} right" if ok else f"  {FAIL} {feedback}")
    return score


def check_trained(name: str, points: float, *, data: str, predict: str, test_size: int, seed: int,
                  thresholds: Sequence[float], given: Sequence[str] = (), hint: str = "",
                  namespace: dict | None = None) -> float:
    """A trained network, graded through its learned parameters only (05's X-vs-O net).

    `predict(value, images)` (the course's own forward pass) labels a test set
    `data(test_size, seed)` drawn with a seed the student never sees; each of
    `thresholds` (accuracies, ascending) that is reached earns an equal share.
    `given` names the locked cells of source/ that define `data` and `predict`:
    the verifier takes both from there (items/key.py), never from the student's
    kernel, and the test set is drawn in the grader's process only (this item's
    hidden block is never sent to the sandbox, grading/plan.py). `predict`
    raising ValueError means the parameters do not fit the architecture; its
    message (the instructor's words) is shown.
    """
    value = _lookup(name, namespace)
    if value is _MISSING:
        return _missing(name, points, what="variable")
    make_data, labeller = _lookup(data, namespace), _lookup(predict, namespace)
    if make_data is _MISSING or labeller is _MISSING:
        return _nothing(name, points, f"the notebook's own `{data}` and `{predict}` were not found: run the "
                        "notebook from the top.")
    images, labels = make_data(test_size, seed)
    try:
        predicted = np.asarray(_quietly(lambda: labeller(copy.deepcopy(value), images)))
        if predicted.shape != np.shape(labels):
            raise ValueError("the forward pass did not give one label per image")
    except ValueError as exc:
        return _nothing(name, points, f"{name} does not fit the network: {exc}")
    except Exception as exc:
        return _nothing(name, points, f"{name} could not be used by the forward pass ({type(exc).__name__}): "
                        "keep it a dict of NumPy arrays with the keys and shapes the notebook gives.")
    accuracy = float(np.mean(predicted == labels))
    outcomes = [Outcome(f"at least {t:.0%}", accuracy >= t, "not reached") for t in thresholds]
    return _report(name, outcomes, {o.label: hint for o in outcomes}, _score(outcomes, points), points,
                   headline=f"{accuracy:.1%} of {len(labels)} hidden test images classified right")


# ----------------------------------------------------------------------------
# The same hidden blocks as otter test cases (cnnlab otter)
# ----------------------------------------------------------------------------
_RUNS: dict = {}


def hidden_unit(env: dict, grade_id: str, index: int, block: str) -> None:
    """Pass, or raise AssertionError saying why, for unit `index` of the
    hidden block `block` (an nbgrader hidden test, verbatim) run on the
    student's globals `env`.

    This is what every hidden otter test case of the course calls. The block
    runs once per question and environment (its units are remembered), so a
    question of eight cases calls the student's function as often as nbgrader
    does, and the units passed are exactly the cases nbgrader counts.
    """
    global _SINK, _NAMESPACE
    key = (id(env), grade_id)
    if key not in _RUNS or _RUNS[key][0] is not env:
        sink: list = []
        _SINK, _NAMESPACE = sink, env
        try:
            with contextlib.redirect_stdout(io.StringIO()):  # otter shows the assertion, not the report
                exec(compile(block, f"<hidden tests of {grade_id}>", "exec"), {"__name__": "__hidden__"})
        finally:
            _SINK, _NAMESPACE = None, None
        _RUNS[key] = (env, sink[-1] if sink else (None, "the hidden check did not run"))
    units, message = _RUNS[key][1]
    if units is None:
        raise AssertionError(message)
    if index >= len(units):
        raise AssertionError(f"this check has {len(units)} parts, not {index + 1}")
    if not units[index].passed:
        raise AssertionError(units[index].message)
