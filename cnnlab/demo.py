"""`make demo` / `cnnlab demo`: the TA's whole week on a simulated class.

A copy of the course in an ignored folder (demo/ by default) gets a small
class: the instructor's answers, an untouched notebook, students who made
catalogued mistakes (cnnlab/catalogue/), one with another correct
approach, and names that break naive CSV writers. Then: autograde every
assignment, write feedback, export grades, write the class reports, print the
score table.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import click
import nbformat
from nbgrader.api import Gradebook

from .build import build
from .course import Course, load_course
from .export import CsvExportPlugin
from .grading import autograde
from .report import gather, write_report
from .report.feedback import write_feedback_all
from .workspace import course_api
from .nbtools import fill_answers, instructor_answers
from .simulate import load_catalogue

# (id, first name, last name, what the student hands in)
CLASS = [
    ("ada", "Ada", "Lovelace", "instructor"),
    ("bao", "Bảo", "Nguyễn", "mistake:0"),
    ("chidi", "Chidi", "Anagonye, Jr.", "mistake:1"),
    ("dana", "Dana", "=HYPERLINK(\"x\")", "alternative:0"),
    ("eli", "Eli", "O'Brien \"Ace\"", "mistake:2+mistake:3"),
    ("fay", "Fay", "Blank", "blank"),
]


def _answers_for(plan: str, answers: dict[str, str], mistakes, alternatives) -> dict[str, str] | None:
    """The answer cells a student of `plan` hands in; None for an untouched notebook."""
    if plan == "blank":
        return None
    chosen = dict(answers)
    if plan == "instructor":
        return chosen
    for part in plan.split("+"):
        kind, index = part.split(":")
        pool = mistakes if kind == "mistake" else alternatives
        if pool:
            variant = pool[int(index) % len(pool)]
            if variant.cell_id in chosen:
                chosen[variant.cell_id] = variant.code
    return chosen


def make_class(course: Course, demo: Course) -> None:
    """Write the simulated submissions into demo/submitted/ and the class list into its gradebook."""
    api = course_api(demo)
    with Gradebook(api.coursedir.db_url, api.coursedir.course_id) as gb:
        for sid, first, last, _ in CLASS:
            gb.update_or_create_student(sid, first_name=first, last_name=last, email=f"{sid}@example.edu")
    for a in course.assignments:
        mistakes, alternatives = load_catalogue(a.id)
        for nb_name in a.notebooks:
            release = nbformat.read(course.root / "release" / a.id / f"{nb_name}.ipynb", as_version=4)
            answers = instructor_answers(course.read_source(a.id, nb_name))
            for sid, _, _, plan in CLASS:
                chosen = _answers_for(plan, answers, mistakes, alternatives)
                nb = release if chosen is None else fill_answers(release, chosen)
                folder = demo.submitted(sid, a.id)
                folder.mkdir(parents=True, exist_ok=True)
                nbformat.write(nb, str(folder / f"{nb_name}.ipynb"))


def score_table(demo: Course) -> str:
    api = course_api(demo)
    ids = [a.id for a in demo.assignments]
    width = max(len(i) for i in ids) + 2
    lines = [f"{'student':<28}" + "".join(f"{i:>{width}}" for i in ids) + f"{'total':>16}"]
    with Gradebook(api.coursedir.db_url, api.coursedir.course_id) as gb:
        for sid, first, last, _ in CLASS:
            row, total, out_of = [], 0.0, 0.0
            for a in ids:
                sub = gb.find_submission(a, sid)
                row.append(f"{sub.score:>7.2f} / {sub.max_score:<6g}")
                total, out_of = total + sub.score, out_of + sub.max_score
            name = f"{first} {last}"[:26]
            lines.append(f"{name:<28}" + "".join(f"{c:>{width}}" for c in row) + f"{total:>9.2f} / {out_of:g}")
    return "\n".join(lines)


def run_demo(course: Course, out: Path) -> None:
    out = Path(out).resolve()
    click.echo("1/7 build: release/ and solutions/ from source/")
    report = build(course)
    click.echo(f"    {len(report.written)} file(s) written" if report.written else "    already up to date")

    click.echo(f"2/7 a copy of the course in {out}")
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    for name in ("nbgrader_config.py", "course.yml"):
        shutil.copy2(course.root / name, out / name)
    for folder in ("source", "release"):
        shutil.copytree(course.root / folder, out / folder)
    demo = load_course(out)

    click.echo(f"3/7 a simulated class of {len(CLASS)} students")
    make_class(course, demo)

    click.echo("4/7 autograde")
    for a in demo.assignments:
        summary = autograde(demo, a.id, force=True)
        c = summary.counts()
        click.echo(f"    {a.id}: {c['graded']} graded in {summary.seconds:.1f} s "
                   f"({summary.workers} workers, {'sandboxed' if summary.sandboxed else 'NOT sandboxed'})")
        for r in summary.failed:
            click.echo(f"    {a.id}/{r.student}: not graded: {r.reason}")

    click.echo("5/7 feedback")
    api = course_api(demo)
    for done in write_feedback_all(demo, [a.id for a in demo.assignments], progress=False):
        click.echo(f"    {done['assignment']}: {done['written']} student(s)"
                   + (f", {done['failed']} FAILED" if done["failed"] else ""))

    click.echo("6/7 export")
    grades = out / "grades.csv"
    with Gradebook(api.coursedir.db_url, api.coursedir.course_id) as gb:
        CsvExportPlugin(to=str(grades), course_root=str(out)).export(gb)

    click.echo("7/7 class reports")
    reports = []
    for a in demo.assignments:
        data = gather(demo, a.id)
        to = out / "reports" / f"{a.id}.html"
        write_report(data, to)
        reports.append(to)
        weakest = min(data.mastery, key=lambda m: m.share, default=None)
        click.echo(f"    {a.id}: mean {data.summary()['mean']:g} / {data.max_score:g}"
                   + (f"; least mastered: {weakest.question} ({100 * weakest.share:.0f} %)" if weakest else ""))

    click.echo("")
    click.echo(score_table(demo))
    click.echo("")
    click.echo(f"autograded notebooks: {out / 'autograded'}")
    click.echo(f"feedback:             {out / 'feedback'}")
    click.echo(f"grades (CSV):         {grades}")
    click.echo(f"class reports:        {reports[0].parent}  (open {reports[0].name} in a browser)")
