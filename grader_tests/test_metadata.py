"""cnnlab's CheckCellMetadata (cnnlab/grading/metadata.py) compiles nbgrader's cell
schema once; it must judge every notebook exactly as nbgrader's own does."""
from __future__ import annotations

import copy

import nbformat
import pytest
from nbgrader.nbgraderformat import MetadataValidator

from cnnlab.grading.metadata import CheckCellMetadataCompiled, CompiledMetadataValidator
from cnnlab.nbtools import grade_id


def _release(course):
    return nbformat.read(course.root / "release" / "02_kernels" / "kernels.ipynb", as_version=4)


def _first_graded(nb):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade"))


def _corrupt(nb, how: str):
    nb = copy.deepcopy(nb)
    meta = _first_graded(nb).metadata.nbgrader
    if how == "points are text":
        meta["points"] = "ten"
    elif how == "grade is not a bool":
        meta["grade"] = "yes"
    elif how == "old schema":
        meta["schema_version"] = 1
    elif how == "new schema":
        meta["schema_version"] = 99
    elif how == "no points":
        del meta["points"]
    elif how == "duplicate grade id":
        others = [c for c in nb.cells if grade_id(c) and c is not _first_graded(nb)]
        others[0].metadata.nbgrader["grade_id"] = meta["grade_id"]
    return nb


def _verdict(validator, nb):
    try:
        validator.validate_nb(nb)
    except Exception as exc:  # noqa: BLE001 - the verdict is the exception's kind and message
        return type(exc).__name__, str(exc).splitlines()[0]
    return None


@pytest.mark.parametrize("how", ["as released", "points are text", "grade is not a bool", "old schema",
                                 "new schema", "no points", "duplicate grade id"])
def test_the_compiled_check_judges_as_nbgrader_does(course, how):
    nb = _release(course) if how == "as released" else _corrupt(_release(course), how)
    ours, theirs = _verdict(CompiledMetadataValidator(), nb), _verdict(MetadataValidator(), nb)
    assert ours == theirs
    assert (ours is None) == (how == "as released")


def test_a_corrupted_notebook_fails_the_preprocessor_in_nbgrader_s_words(course):
    with pytest.raises(Exception, match="the nbgrader metadata may be corrupted"):
        CheckCellMetadataCompiled().preprocess(_corrupt(_release(course), "points are text"), {})
