"""Small notebook helpers shared by build, grading, the demo and the tests."""
from __future__ import annotations

import re

import nbformat

#: An exception line of a traceback (`ValueError: ...`), the line that says what went wrong.
_EXCEPTION_LINE = re.compile(r"^[\w.]+(Error|Exception): ")

SOLUTION_MARKER = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n?", re.MULTILINE)


def nbgrader_meta(cell) -> dict:
    """A cell's nbgrader metadata; {} when there is none or it is not a mapping
    (a handed-in notebook may hold anything there)."""
    metadata = cell.get("metadata") if isinstance(cell, dict) else None
    meta = metadata.get("nbgrader") if isinstance(metadata, dict) else None
    return meta if isinstance(meta, dict) else {}


def grade_id(cell) -> str | None:
    gid = nbgrader_meta(cell).get("grade_id")
    return gid if isinstance(gid, str) and gid else None


def cells_by_id(nb) -> dict:
    return {grade_id(c): c for c in nb.cells if grade_id(c)}


def strip_solution_markers(source: str) -> str:
    """The instructor's answer as a student would type it: the solution with
    the `### BEGIN/END SOLUTION` lines removed."""
    return SOLUTION_MARKER.sub("", source)


def instructor_answers(source_nb) -> dict[str, str]:
    """{grade_id: answer} for every solution cell of a source notebook."""
    return {grade_id(c): strip_solution_markers(c.source)
            for c in source_nb.cells if nbgrader_meta(c).get("solution")}


def fill_answers(release_nb, answers: dict[str, str]):
    """A copy of a release notebook with the given cells' sources replaced,
    the way a student fills in their answers."""
    nb = nbformat.from_dict(release_nb)
    by_id = cells_by_id(nb)
    unknown = set(answers) - set(by_id)
    if unknown:
        raise KeyError(f"no cells with grade_id {sorted(unknown)}")
    for gid, source in answers.items():
        by_id[gid].source = source
    return nb


def without_outputs(nb):
    nb = nbformat.from_dict(nb)
    for c in nb.cells:
        if c.cell_type == "code":
            c.outputs, c.execution_count = [], None
    return nb


def nbgrader_failure(outcome: dict, default: str = "no reason given") -> str:
    """What went wrong, in one line, of a failed nbgrader action (the {"success",
    "error", "log"} that NbGraderAPI and capture_log return): the last exception
    line of its traceback (nbgrader's own "see the above traceback" words say
    nothing), else its last line."""
    text = (outcome.get("log") or "") + "\n" + (outcome.get("error") or "")
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()
             and "see the the above traceback" not in ln and not ln.strip().startswith("File ")]
    errors = [ln for ln in lines if _EXCEPTION_LINE.match(ln)
              and not ln.startswith("nbgrader.converters.base.NbGraderException")]
    lines = errors or lines
    return (lines[-1] if lines else default)[:300]
