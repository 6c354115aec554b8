"""Grades out of the gradebook (nbgrader ExportPlugins; LMS formats build on these)."""
from .csv import CsvExportPlugin, grade_rows, safe_cell

__all__ = ["CsvExportPlugin", "grade_rows", "safe_cell"]
