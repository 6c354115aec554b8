"""Grading: a whole class (`autograde`, pipeline.py) or one notebook (`grade_notebook`, one.py).

The names below load on first use, so that importing one small module of this
package (the CLI reads `sandbox.SandboxUnavailable`) does not start nbgrader.
"""
import importlib

_HOME = {"GradeError": ".one", "grade_notebook": ".one", "AutogradeSummary": ".pipeline",
         "SubmissionResult": ".pipeline", "autograde": ".pipeline", "TestResult": "..items.status",
         "notebook_results": "..items.status"}

__all__ = sorted(_HOME)


def __getattr__(name: str):
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_HOME[name], __name__), name)
