"""The verifier: the recorded score of every graded item, computed in the
grader's own process from plain data, never by student code.

- What each item asks and the points it is worth come from the answer key
  (`cnnlab.items.key`: the gradebook's points, source/'s hidden blocks and
  the instructor's solution, run here).
- What the student's code did comes from the probe (probe.py), decoded by
  plaindata.py: values, never objects.
- Judging is `checks`' own code (`report_function`, `check_choices` and the
  others, called with a namespace of decoded values), so the report a student
  reads is word for word what the in-notebook check prints for an honest
  submission.

`VerifyScores` (an nbgrader preprocessor, just before SaveAutoGrades) puts
the verifier's report and score in each verified test cell, so nbgrader
records the verifier's score and nothing the kernel printed for a hidden
check reaches feedback, and notes in the grading run's findings (run.py)
every item where the in-notebook check said otherwise.
"""
from __future__ import annotations

import contextlib
import copy
import io
from dataclasses import dataclass
from typing import Callable

import nbformat
from nbgrader.preprocessors import NbGraderPreprocessor
from nbgrader.utils import determine_grade

from .. import checks
from ..items.key import AnswerKey, KeyItem
from ..items.status import output_text
from ..nbtools import grade_id
from ..plaindata import PlainDataError, decode
from .tamper import scan

NOTE = ("(The notebook's own check printed something else for this cell; the grader re-ran your code "
        "on its own, and this is the result it recorded.)")


# ----------------------------------------------------------------------------
# Judging one item
# ----------------------------------------------------------------------------
@dataclass
class Verdict:
    grade_id: str
    score: float
    max_score: float
    report: str
    problem: str = ""        # why the probe's data was missing or unusable (also a flag)
    forbidden: tuple = ()    # the libraries the student's function used (no marks; a flag for the TA)


def _decode_call(data) -> checks.Call:
    if not isinstance(data, dict):
        raise PlainDataError("a call record is not a mapping")
    raised = data.get("raised") or []
    if not isinstance(raised, list) or not all(isinstance(n, str) for n in raised):
        raise PlainDataError("malformed exception names")
    after = decode(data.get("after", {"t": "tuple", "v": []}))
    after_kwargs = decode(data.get("after_kwargs", {"t": "dict", "v": []}))
    if not isinstance(after, tuple) or not isinstance(after_kwargs, dict):
        raise PlainDataError("malformed arguments")
    return checks.Call(returned=decode(data.get("returned")), raised=tuple(n[:80] for n in raised[:12]),
                       message=str(data.get("message", ""))[:checks.MESSAGE_CHARS], after=after,
                       after_kwargs=after_kwargs, shares_input=data.get("shares_input") is True,
                       timed_out=data.get("timed_out") is True)


def _printed(call: Callable[[], float]) -> tuple[float, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        score = call()
    return float(score), out.getvalue()


def judge(key: KeyItem, entry: dict, forbidden: list[str]) -> Verdict:
    """Score one item from the probe's entry ({"report": ...} or {"lost": why})."""
    item, points = key.item, key.points
    if "report" not in entry:
        why = str(entry.get("lost", "no data"))
        return Verdict(item.grade_id, 0.0, points, f"{item.name}: 0 of {points:g} points\n"
                       f"  {checks.FAIL} could not be checked: {why}.\n", problem=why)
    report = entry["report"]
    used: tuple = ()  # the forbidden libraries a found function used
    try:
        if not isinstance(report, dict) or report.get("item") != item.grade_id or report.get("kind") != item.kind:
            raise PlainDataError("the report is not about this item")
        found = report.get("found") is True
        if item.kind == "function":
            calls = None
            if found:
                raw = report.get("calls")
                if not isinstance(raw, list) or len(raw) > len(item.cases):
                    raise PlainDataError("malformed list of calls")
                calls = [(copy.deepcopy((c.args, c.kwargs)), _decode_call(d)) for c, d in zip(item.cases, raw)]
                reported = report.get("forbidden") or []
                forbidden = sorted(set(forbidden) | {str(n)[:80] for n in reported if isinstance(n, str)})
            options = {k: v for k, v in item.kwargs.items() if k in checks.JUDGING_OPTIONS}
            score, text = _printed(lambda: checks.report_function(item.name, item.cases, calls, forbidden,
                                                                  key.reference, points, **options))
            used = tuple(forbidden) if found else ()
        else:
            namespace = {item.name: decode(report.get("value"))} if found else {}
            if item.kind == "trained":  # judged with the course's own data and forward pass, from source/
                namespace.update(key.reference)
            check = getattr(checks, f"check_{item.kind}")
            score, text = _printed(lambda: check(item.name, *item.args, points=points, namespace=namespace,
                                                 **item.kwargs))
    except (PlainDataError, RecursionError, TypeError, ValueError) as exc:
        why = f"the probe's data could not be read ({exc})"
        return Verdict(item.grade_id, 0.0, points, f"{item.name}: 0 of {points:g} points\n"
                       f"  {checks.FAIL} could not be checked: {why}.\n", problem=why)
    return Verdict(item.grade_id, min(score, points), points, text, forbidden=used)


# ----------------------------------------------------------------------------
# The nbgrader step
# ----------------------------------------------------------------------------
def _text_of(outputs) -> str:
    parts = []
    for o in outputs:
        if o.get("output_type") == "stream":
            parts.append(output_text(o))
        elif o.get("output_type") == "error":
            parts.append(f"{o.get('ename')}: {o.get('evalue')}")
        elif o.get("output_type") in ("execute_result", "display_data"):
            parts.append(str(o.get("data", {}).get("text/plain", ""))[:200])
    return "".join(parts)[:4000]


def _in_notebook_score(cell) -> float | None:
    """What nbgrader would record from the in-notebook check's outputs (None:
    outputs nbgrader cannot even score, such as partial credit above the maximum)."""
    try:
        score, _ = determine_grade(cell)
        return None if score is None else float(score)
    except (ValueError, TypeError, KeyError):
        return None


def _timed_out(entry: dict) -> bool:
    calls = (entry.get("report") or {}).get("calls") if isinstance(entry.get("report"), dict) else None
    return isinstance(calls, list) and any(isinstance(c, dict) and c.get("timed_out") is True for c in calls)


class VerifyScores(NbGraderPreprocessor):
    """Puts the verifier's report and score in every verified test cell, so
    that nbgrader's SaveAutoGrades, which runs next, records the verifier's
    score; the in-notebook check's outputs are compared first and kept as
    evidence where they disagree."""

    def preprocess(self, nb, resources):
        state = resources.get("cnnlab") or {}
        if "probes" not in state:  # not run by SandboxedExecute: nothing to verify with
            return nb, resources
        info = resources["nbgrader"]
        key: AnswerKey = state["key"]
        findings = scan(nb, key.function_names())
        result = state["run"].findings(info["student"], info["assignment"], info["notebook"])
        result.flags += [f"code: {a}" for a in findings.attacks]
        if state.get("runs", 1) > 1:
            result.kernel_died = True
            result.flags.append("the kernel died; a second run probed what came before the crash")
        cells = {grade_id(c): c for c in nb.cells if grade_id(c)}
        for gid, key_item in key.items.items():
            cell = cells.get(gid)
            if cell is None:
                continue
            entry = state["probes"].get(gid, {"lost": "the probe did not run"})
            verdict = judge(key_item, entry, findings.forbidden.get(key_item.item.name, []))
            if _timed_out(entry):
                result.timeouts += 1
                result.flags.append(f"{gid}: the student's function ran out of time on a hidden case")
            # a block that never ran in the kernel (a trained network's) left no evidence to compare
            in_notebook = _in_notebook_score(cell) if key_item.item.runs_in_kernel else verdict.score
            text = verdict.report
            if in_notebook is None or abs(in_notebook - verdict.score) >= 0.005:
                result.disagreements[gid] = {"in_notebook": in_notebook, "verified": verdict.score,
                                             "evidence": _text_of(cell.outputs)}
                said = "no valid score" if in_notebook is None else f"{in_notebook:g}"
                result.flags.append(f"{gid}: the notebook's own check gave {said}, "
                                    f"the verifier {verdict.score:g} (recorded)")
                text += NOTE + "\n"
            if verdict.problem:
                result.flags.append(f"{gid}: {verdict.problem}")
            if verdict.forbidden:  # the student is told in the report; the TA sees it among the flags
                result.flags.append(f"{gid}: uses {', '.join(verdict.forbidden)} (a library convolution or "
                                    "pooling: no marks for this item)")
            status = ("timeout" if _timed_out(entry) else "error" if "report" not in entry
                      else "passed" if verdict.score >= verdict.max_score else "failed")
            cell.metadata["cnnlab"] = {"verified": True, "status": status}  # read by items/status.py (cnnlab grade)
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text),
                            nbformat.v4.new_output("execute_result", data={"text/plain": repr(verdict.score)},
                                                   execution_count=cell.get("execution_count"))]
        return nb, resources
