"""The first sandboxed kernels of a local run, started before the grader has loaded.

`cnnlab autograde` spends its first 0.7 s importing the grader (nbgrader,
nbconvert, SQLAlchemy) on one core while the other has nothing to do, and
only then starts the pooled kernels the first submissions wait for. Started
here instead, first thing, they load Python, ipykernel, NumPy and pyplot on
the idle core meanwhile. This module imports only the runner and the pool
(jupyter_client), nothing of nbgrader.

How many: one per handed-in submission the run may grade, at most the pool's
size. A rerun that finds every submission already graded ends them unused
(the pool kills them when the run closes its runner); that is the price of
not waiting for the check.
"""
from __future__ import annotations

from ..course import Course
from .sandbox import precompute
from .workers import LocalRunner


def head_start(course: Course, assignment_id: str, students: list[str] | None = None) -> LocalRunner:
    """A local runner whose first kernels are already starting; the caller lends it to
    `autograde(..., runner=)` and closes it."""
    wanted = set(students or ())
    handed_in = [s for s in course.handed_in(assignment_id) if not wanted or s in wanted]
    runner = LocalRunner()
    if handed_in:
        precompute()  # here, before the kernels' threads need it
        runner.start_ahead(len(handed_in))
    return runner
