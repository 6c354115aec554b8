"""Grades out of the gradebook (nbgrader ExportPlugins; LMS formats build on the same rows, sheets.py)."""
from .csv import CsvExportPlugin, grade_rows

__all__ = ["CsvExportPlugin", "grade_rows"]
