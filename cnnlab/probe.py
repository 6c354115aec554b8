"""The probe: runs inside the sandboxed kernel, after every student cell and
before any hidden test has been sent to the kernel.

For one graded item it looks up the student's object by name and hands back
plain data only (plaindata.py): for a function, what each call on the
grader-chosen inputs returned or raised and the arguments after the call; for
a value (a choice, a number, an order, a table), the value itself. It judges
nothing and knows no expected value: the trusted verifier does that. The
report leaves the kernel as one display message of its own MIME type, which
the grader takes out of the notebook before anyone sees it.

Student code can tamper with all of this (it runs in the same process); the
most it can achieve is to report values it computed itself, which is what an
honest function does anyway.
"""
from __future__ import annotations

import json

from .checks import Case, _student_namespace, call_case, forbidden_calls
from .plaindata import decode, encode

MIME = "application/vnd.cnnlab.probe+json"
_MISSING = object()


def _encode_call(call) -> dict:
    return {"returned": encode(call.returned), "raised": list(call.raised), "message": call.message,
            "after": encode(tuple(call.after)), "after_kwargs": encode(dict(call.after_kwargs)),
            "shares_input": bool(call.shares_input), "timed_out": bool(call.timed_out)}


def probe_function(func, cases: list[dict]) -> dict:
    report: dict = {"found": True, "forbidden": [], "calls": []}
    try:
        report["forbidden"] = forbidden_calls(func)
    except Exception:
        pass
    for index, spec in enumerate(cases):
        args, kwargs = decode(spec["args"]), decode(spec["kwargs"])
        try:
            _, call = call_case(func, Case(label=str(index), args=tuple(args), kwargs=dict(kwargs)))
        except KeyboardInterrupt:  # the cell's timeout: this and the remaining cases did not finish
            report["calls"] += [{"timed_out": True}] * (len(cases) - index)
            break
        except BaseException as exc:  # SystemExit and the like: the call did not return
            report["calls"].append({"raised": [type(exc).__name__], "message": "", "after": encode(tuple(args)),
                                    "after_kwargs": encode(dict(kwargs))})
            continue
        report["calls"].append(_encode_call(call))
    return report


def run(spec_json: str) -> None:
    """Probe one item (spec from grading/plan.py) and display the plain report."""
    from IPython.display import display

    spec = json.loads(spec_json)
    obj = _student_namespace().get(spec["name"], _MISSING)
    report = {"item": spec["item"], "kind": spec["kind"]}
    if spec["kind"] == "function":
        if obj is _MISSING or not callable(obj):
            report["found"] = False
        else:
            report.update(probe_function(obj, spec["cases"]))
    else:
        report["found"] = obj is not _MISSING
        if obj is not _MISSING:
            report["value"] = encode(obj)
    display({MIME: report}, raw=True)
