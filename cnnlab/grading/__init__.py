"""Grading: a whole class (`autograde`, pipeline.py) or one notebook (`grade_notebook`, one.py)."""
from .one import GradeError, grade_notebook
from .pipeline import AutogradeSummary, SubmissionResult, autograde
from ..items.status import TestResult, notebook_results

__all__ = ["AutogradeSummary", "GradeError", "SubmissionResult", "TestResult", "autograde", "grade_notebook",
           "notebook_results"]
