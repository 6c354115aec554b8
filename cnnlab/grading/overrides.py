"""A TA's manual scores when the work they judged changes.

In formgrader a TA can give an autograded item another score; nbgrader keeps
it as the grade's `manual_score`, which wins over `auto_score` from then on.
When the student resubmits and the new work is autograded, that override
judged work that is gone: a 4/5 set by hand stayed over a new 5/5 and the total
never moved, with nothing said. So on a changed submission (not on `--force`
over unchanged work, where the override still judges what is there) each
override on an autograded item is, by the course's choice in course.yml:

    grading:
      overrides: keep    # default: the TA's score stays, and every line says so
      overrides: clear   # the new autograde score replaces it, and the line says so
"""
from __future__ import annotations

from ..course import Course, CourseError

POLICIES = ("keep", "clear")


def override_policy(course: Course) -> str:
    policy = str((course.data.get("grading") or {}).get("overrides", "keep"))
    if policy not in POLICIES:
        raise CourseError(f"course.yml grading.overrides is {policy!r}; use keep or clear")
    return policy


def settle_overrides(submission, policy: str) -> list[str]:
    """Apply `policy` to the manual scores on autograded items of one freshly regraded
    submission (nbgrader's SubmittedAssignment; the caller commits); one line per item:
    'kept: nb/item 4 by hand over 5 from autograde'."""
    lines = []
    for nb in submission.notebooks:
        for grade in nb.grades:
            if grade.manual_score is None or grade.auto_score is None:
                continue  # no override, or an item only a person grades
            what = (f"{nb.name}/{grade.name} {float(grade.manual_score):g} by hand over "
                    f"{float(grade.auto_score):g} from autograde of the new submission")
            if policy == "clear":
                grade.manual_score = None
                lines.append(f"cleared: {what} (course.yml grading.overrides: clear)")
            else:
                lines.append(f"kept: {what} (course.yml grading.overrides: clear drops it)")
    return lines
