"""Small notebook helpers shared by build, grading, the demo and the tests."""
from __future__ import annotations

import re

import nbformat

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
