"""Inside the sandboxed kernel: lesson figures that are drawn once per class, not per student.

A lesson cell that draws a picture without the student's code (locked, so
nbgrader restores its source, and reading no name a student's answer defines)
draws the same picture in every submission; rendering it to PNG cost about
0.3 s of each kernel's time per figure. The grader starts the kernel with
`install_from(file)` (pool.py) and writes there the SHA-256 of those cells' sources: while such a
cell runs, IPython's image formatters are off, so the cell runs (it may define
names later cells use) and its figures are shown as their text only; and
`Figure.tight_layout` does nothing (it measures every label with a renderer,
about a third of such a cell's time, only to move axes in a picture nobody
renders; their text, `<Figure size ... with N Axes>`, is the same). The
grader then puts the figures of a reference run of the release notebook in
their place (grading/figures.py). Nothing here reads or changes the
student's namespace; a student who turns it off only pays for her own figures.
"""
from __future__ import annotations

import hashlib

IMAGE_TYPES = ("image/png", "image/jpeg", "image/svg+xml", "application/pdf")


def source_hash(source: str) -> str:
    return hashlib.sha256(source.encode("utf-8", "surrogatepass")).hexdigest()


_LAYOUT = "tight_layout"


def _no_layout(self, *args, **kwargs) -> None:
    """Figure.tight_layout while a drawn-once cell runs."""


def install_from(path: str) -> None:
    """Watch each cell; the hashes are read from `path` (written by the grader into the job's
    runtime folder before the first cell runs) when the first cell starts."""
    import json
    import sys

    from IPython import get_ipython

    shell = get_ipython()
    if shell is None:
        return
    quiet: list[set] = []
    saved: dict = {}
    formatters = shell.display_formatter.formatters

    def before(info):
        if not quiet:
            try:
                with open(path, encoding="utf-8") as f:
                    quiet.append(set(json.load(f)))
            except (OSError, ValueError, TypeError):
                quiet.append(set())
        if source_hash(info.raw_cell or "") in quiet[0]:
            for kind in IMAGE_TYPES:
                if kind in formatters:
                    saved[kind] = formatters[kind].enabled
                    formatters[kind].enabled = False
            # matplotlib is preloaded (pool.py); a kernel without it draws this cell with its layout
            figure = sys.modules.get("matplotlib.figure")
            if figure is not None and "tight_layout" in figure.Figure.__dict__:
                saved[_LAYOUT] = (figure.Figure, figure.Figure.__dict__["tight_layout"])
                figure.Figure.tight_layout = _no_layout

    def after(result):
        while saved:
            kind, value = saved.popitem()
            if kind == _LAYOUT:
                cls, original = value
                cls.tight_layout = original
            else:
                formatters[kind].enabled = value

    shell.events.register("pre_run_cell", before)
    shell.events.register("post_run_cell", after)
