"""What happened to each graded cell of an autograded notebook, in the
vocabulary of the `cnnlab grade` contract: passed, failed, error, timeout,
missing, with a message a student can act on."""
from __future__ import annotations

from dataclasses import asdict, dataclass

from ..checks import FAIL
from ..nbtools import cells_by_id

#: How nbgrader's Execute marks a cell that ran out of time.
TIMEOUT_NAMES = {"CellTimeoutError"}


@dataclass
class TestResult:
    grade_id: str
    score: float
    max_score: float
    status: str
    message: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def output_text(output) -> str:
    text = output.get("text", "")
    return "".join(text) if isinstance(text, list) else text


def failure_lines(cell) -> list[str]:
    """The checking helper's ✗ lines of a graded cell, without the ✗ (hints written
    for students): what the grade JSON, the feedback summary and the class report show."""
    lines = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream" and output.get("name") == "stdout":
            lines += [ln.strip()[len(FAIL):].strip() for ln in output_text(output).splitlines()
                      if ln.strip().startswith(FAIL)]
    return lines


def cell_status(cell, score: float, max_score: float) -> tuple[str, str]:
    if cell is None:
        return "missing", "this cell was not in the submitted notebook"
    verified = cell.get("metadata", {}).get("cnnlab", {})
    if verified.get("verified"):  # the verifier wrote this cell's report (grading/verify.py)
        status = verified.get("status", "failed")
        message = "; ".join(line.rstrip(".") for line in failure_lines(cell))
        return status, "" if status == "passed" else message or "not all checks passed"
    # nbgrader interrupts a cell that runs out of time: KeyboardInterrupt, then CellTimeoutError
    if any(o.get("output_type") == "error" and o.get("ename") in TIMEOUT_NAMES for o in cell.get("outputs", [])):
        return "timeout", "the cell ran out of time (an infinite loop?)"
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            ename, evalue = output.get("ename", "Error"), output.get("evalue", "")
            first = evalue.strip().splitlines()[0] if evalue.strip() else ""
            status = "failed" if ename == "AssertionError" else "error"
            return status, f"{ename}: {first}" if first else ename
        if output.get("output_type") == "stream" and output.get("name") == "stderr":
            first = output_text(output).strip().splitlines()
            return "failed", "wrote to stderr: " + (first[0] if first else "")
    if score >= max_score:
        return "passed", ""
    return "failed", "; ".join(line.rstrip(".") for line in failure_lines(cell)) or "not all checks passed"


def notebook_results(autograded_nb, grades: dict[str, tuple[float, float]]) -> list[TestResult]:
    """One result per graded cell (as the gradebook lists them), in notebook order."""
    cells = cells_by_id(autograded_nb) if autograded_nb is not None else {}
    order = {gid: i for i, gid in enumerate(cells)}
    results = []
    for gid, (score, max_score) in sorted(grades.items(), key=lambda kv: order.get(kv[0], len(order))):
        status, message = cell_status(cells.get(gid), score, max_score)
        results.append(TestResult(gid, score, max_score, status, message))
    return results
