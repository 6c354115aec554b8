"""`cnnlab feedback`: nbgrader's generate_feedback, students in parallel, only what changed.

What a student's feedback holds is decided by the GenerateFeedback
preprocessors of nbgrader_config.py (GetGrades, RedactHiddenTests,
FeedbackSummary), so plain `nbgrader generate_feedback` writes the same
files. On top of it:

- every student with an autograded submission gets a page: one whose
  submission could not be graded at all (no readable notebook, the wrong
  assignment's notebook) gets `NOT_GRADED.html` saying why, instead of nothing;
- feedback knows what it was made from (`.cnnlab-feedback.json` beside it: the
  fingerprint of the autograded submission), so a regrade makes it stale, and
  a rerun writes only the stale and the missing (`force`: all);
- students run in parallel, each in a process of its own (nbgrader's
  converters change the working folder, so threads would trip over each
  other), and one student's failure costs no one else their page.
"""
from __future__ import annotations

import glob
import html
import json
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor, as_completed

from tqdm import tqdm

from ..course import Course, load_course, select_students
from ..nbtools import nbgrader_failure

MADE_FROM = ".cnnlab-feedback.json"
NOT_GRADED_PAGE = "NOT_GRADED.html"
PARALLEL_FROM = 12  # students


def graded_students(course: Course, assignment_id: str) -> list[str]:
    """Students with an autograded submission: graded notebooks, or the reason none could be."""
    folder = course.autograded()
    return sorted(p.parent.name for p in folder.glob(f"*/{assignment_id}")
                  if any(p.glob("*.ipynb")) or (p / "NOT_GRADED.txt").is_file())


def _source_state(course: Course, student: str, assignment_id: str) -> str:
    """What the feedback is made from: the autograded marker (the submission's fingerprint and the
    grading's flags) and the notebooks' times; '' when there is none."""
    folder = course.autograded(student, assignment_id)
    parts = [(p.name, p.stat().st_mtime_ns) for p in sorted(folder.glob("*")) if p.is_file()]
    marker = folder / ".cnnlab.json"
    return json.dumps([marker.read_text(encoding="utf-8") if marker.is_file() else "", parts])


def is_stale(course: Course, student: str, assignment_id: str) -> bool:
    """True when the student's feedback is missing or older than their grading."""
    made = course.feedback(student, assignment_id) / MADE_FROM
    try:
        return json.loads(made.read_text(encoding="utf-8")).get("from") != _source_state(course, student,
                                                                                          assignment_id)
    except (OSError, ValueError):
        return True


def _not_graded_page(course: Course, student: str, assignment_id: str) -> list[str]:
    reasons = (course.autograded(student, assignment_id) / "NOT_GRADED.txt").read_text(encoding="utf-8").split("\n")
    title = course.assignment(assignment_id).title
    items = "".join(f"<li>{html.escape(r)}</li>" for r in reasons if r.strip())
    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}: not graded</title>"
            f"</head><body><h1>{html.escape(title)}</h1><p><b>Your submission could not be graded</b>, so it "
            f"scored 0. What the grader found:</p><ul>{items}</ul><p>Hand in the assignment's own notebook "
            f"(<code>{', '.join(n + '.ipynb' for n in course.assignment(assignment_id).notebooks)}</code>), "
            "saved from JupyterLab, and ask your TA to grade it again.</p></body></html>")
    folder = course.feedback(student, assignment_id)
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.html"):
        old.unlink()
    (folder / NOT_GRADED_PAGE).write_text(page, encoding="utf-8")
    return [str((folder / NOT_GRADED_PAGE).relative_to(course.root))]


def _one(root: str, db_url: str | None, assignment_id: str, student: str) -> dict:
    """One student's feedback (run in a worker process); never raises."""
    try:
        from ..workspace import course_api

        course = load_course(root, db_url=db_url)
        state = _source_state(course, student, assignment_id)
        if (course.autograded(student, assignment_id) / "NOT_GRADED.txt").is_file() and \
                not any(course.autograded(student, assignment_id).glob("*.ipynb")):
            files, error = _not_graded_page(course, student, assignment_id), ""
        else:
            # nbgrader globs its folders with the student id: escaped, `gx*` is that student alone
            result = course_api(course).generate_feedback(assignment_id, glob.escape(student))
            files = sorted(str(p.relative_to(course.root))
                           for p in course.feedback(student, assignment_id).glob("*.html"))
            error = "" if result.get("success") and files else \
                nbgrader_failure(result, "no feedback file") if not result.get("success") else "no feedback file"
        if not error:
            (course.feedback(student, assignment_id) / MADE_FROM).write_text(json.dumps({"from": state}),
                                                                            encoding="utf-8")
        return {"assignment": assignment_id, "student": student, "ok": not error, "files": files, "error": error}
    except Exception as exc:  # noqa: BLE001 - one student's failure is theirs alone
        return {"assignment": assignment_id, "student": student, "ok": False, "files": [],
                "error": f"{type(exc).__name__}: {exc}"[:300]}


def _plan(course: Course, assignment_id: str, students: list[str] | None, force: bool) -> tuple[list, list]:
    """(everyone graded and asked for, those whose feedback is stale or forced)."""
    course.assignment(assignment_id)  # an unknown id fails in one line, with the known ones
    everyone = graded_students(course, assignment_id)
    if not everyone and not students:
        from ..course import CourseError

        raise CourseError(f"no autograded submission of {assignment_id}: run cnnlab autograde {assignment_id} "
                          "first (and cnnlab collect before it)")
    everyone = select_students(everyone, students, f"no autograded submission of {assignment_id}")
    return everyone, [s for s in everyone if force or is_stale(course, s, assignment_id)]


def _write_pages(course: Course, jobs: list[tuple[str, str]], progress: bool, workers: int | None,
                 desc: str) -> list[dict]:
    """Each (assignment, student) page, in worker processes when there are enough of them."""
    done = []
    # a worker process costs about a second of imports (one student's page, half that): worth it
    # from a dozen pages on, which is every real class
    workers = 1 if len(jobs) < PARALLEL_FROM else max(1, min(workers or os.cpu_count() or 1, len(jobs)))
    root, db_url = str(course.root), course.db_url
    with tqdm(total=len(jobs), desc=desc, unit="student", disable=not progress) as bar:
        if workers == 1:
            for a, s in jobs:
                done.append(_one(root, db_url, a, s))
                bar.update(1)
        else:
            # spawned, not forked: the caller may have threads (a progress bar's, the demo's)
            with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
                futures = [pool.submit(_one, root, db_url, a, s) for a, s in jobs]
                for future in as_completed(futures):
                    done.append(future.result())
                    bar.update(1)
    return sorted(done, key=lambda d: (d["assignment"], d["student"]))


def _summary(course: Course, assignment_id: str, everyone: list, todo: list, done: list[dict]) -> dict:
    return {"assignment": assignment_id, "folder": str(course.feedback()),
            "written": sum(d["ok"] for d in done), "failed": sum(not d["ok"] for d in done),
            "not_graded_pages": sum(d["ok"] and any(f.endswith(NOT_GRADED_PAGE) for f in d["files"]) for d in done),
            "up_to_date": len(everyone) - len(todo), "students": done}


def write_feedback(course: Course, assignment_id: str, students: list[str] | None = None,
                   progress: bool = True, force: bool = False, workers: int | None = None) -> dict:
    everyone, todo = _plan(course, assignment_id, students, force)
    done = _write_pages(course, [(assignment_id, s) for s in todo], progress, workers, f"feedback {assignment_id}")
    return _summary(course, assignment_id, everyone, todo, done)


def write_feedback_all(course: Course, assignment_ids: list[str], progress: bool = True, force: bool = False,
                       workers: int | None = None) -> list[dict]:
    """write_feedback for several assignments, every page in one pool of workers (a class of six
    in five assignments is thirty pages at once, not five rounds of six); one summary each."""
    plans = {a: _plan(course, a, None, force) for a in assignment_ids}
    done = _write_pages(course, [(a, s) for a, (_, todo) in plans.items() for s in todo], progress, workers,
                        "feedback")
    return [_summary(course, a, everyone, todo, [d for d in done if d["assignment"] == a])
            for a, (everyone, todo) in plans.items()]
