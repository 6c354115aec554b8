"""nbgrader preprocessors of the course, configured in nbgrader_config.py.

Each does one thing, in nbgrader's style, so that the plain `nbgrader`
commands and the `cnnlab` commands produce the same notebooks.
"""
from __future__ import annotations

from nbgrader import utils
from nbgrader.preprocessors import ClearHiddenTests, NbGraderPreprocessor
from traitlets import Bool

from .nbtools import strip_solution_markers


class StripSolutionMarkers(NbGraderPreprocessor):
    """Solutions read like a student's finished notebook: the `### BEGIN/END
    SOLUTION` lines are removed from solution cells (generate_solution keeps them)."""

    def preprocess_cell(self, cell, resources, index):
        if utils.is_solution(cell):
            cell.source = strip_solution_markers(cell.source)
        return cell, resources


class RedactHiddenTests(ClearHiddenTests):
    """Feedback without hidden tests: strips the hidden block of every test
    cell and cuts the tracebacks of such cells down to their last line.

    The checking helper never raises, but a student's code can still make a
    hidden cell fail outside it (a deleted function, a crashed kernel); the
    full traceback would then quote the hidden source.
    """

    redact_tracebacks = Bool(
        True, help="Replace tracebacks of cells that had hidden tests by 'Error: message'."
    ).tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        had_hidden = self.begin_test_delimeter in cell.source
        cell, resources = super().preprocess_cell(cell, resources, index)
        if had_hidden and self.redact_tracebacks and cell.cell_type == "code":
            for output in cell.outputs:
                if output.output_type == "error":
                    output.traceback = [f"{output.ename}: {output.evalue}"]
        return cell, resources
