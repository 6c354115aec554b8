"""Grading: one notebook (`grade_notebook`) or a whole class (`autograde`)."""
from .autograde import AutogradeSummary, autograde
from .one import GradeError, grade_notebook
from .results import TestResult, notebook_results

__all__ = ["AutogradeSummary", "GradeError", "TestResult", "autograde", "grade_notebook", "notebook_results"]
