"""The LMS round trip: roster in, submissions in, grades out (issue #5).

One module per LMS holds its file rules (base.LmsFormat); roster.py,
collect.py and export.py connect them to nbgrader's gradebook, zip_collect
and export.
"""
from __future__ import annotations

from .base import LmsError, LmsFormat

FORMATS = ("canvas", "moodle", "blackboard", "brightspace")


def get_format(name: str) -> LmsFormat:
    """The format object of an LMS by name."""
    import importlib

    if name not in FORMATS:
        raise LmsError(f"unknown LMS {name!r}: choose one of {', '.join(FORMATS)}")
    module = importlib.import_module(f"{__name__}.{name}")
    return module.FORMAT


__all__ = ["FORMATS", "LmsError", "LmsFormat", "get_format"]
