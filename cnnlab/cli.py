"""The `cnnlab` command: parses, calls one workflow function, prints a summary.

The TA's week, one verb each: roster import, collect (an LMS download),
build, otter, grade (one notebook), autograde (a class), otter-grade,
feedback, report, export. Every failure a user can cause ends in one line
on stderr and exit status 2, never a traceback (set CNNLAB_DEBUG=1 to see one).
"""
from __future__ import annotations

import json
import os
import signal
import sys
import warnings
from pathlib import Path

import click

from .course import CourseError, load_course
from .lms.base import LmsError


def _course(ctx: click.Context):
    return load_course(ctx.obj["course_dir"], db_url=ctx.obj.get("db_url"))


DB_HELP = ("The gradebook's database URL, e.g. postgresql://ta@db.example.edu/learn_cnns "
           "(default: nbgrader_config.py's db_url, the SQLite file gradebook.db; env: CNNLAB_DB).")


def _remember_db(ctx: click.Context, param, value):
    if value:
        ctx.find_root().obj["db_url"] = value
    return value


def gradebook_option(command):
    """`--db URL` on a command that reads or writes the gradebook."""
    return click.option("--db", "db_url", default=None, metavar="URL", expose_value=False, is_eager=True,
                        callback=_remember_db, help=DB_HELP)(command)


def _fail(message: str) -> None:
    click.echo(f"cnnlab: error: {message}", err=True)
    sys.exit(2)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--course", "course_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Course folder (default: the one holding the current folder).")
@click.option("--db", "db_url", default=None, metavar="URL", help=DB_HELP)
@click.version_option(package_name="cnnlab")
@click.pass_context
def cli(ctx: click.Context, course_dir: Path | None, db_url: str | None) -> None:
    """Learn CNNs: build, grade and export the auto-graded course."""
    ctx.obj = {"course_dir": course_dir, "db_url": db_url}


@cli.command()
@click.argument("assignments", nargs=-1)
@click.option("--check", is_flag=True, help="Write nothing; exit 1 naming every stale file.")
@click.option("--no-otter", is_flag=True, help="Skip the otter versions in dist/otter/.")
@click.option("--json", "as_json", is_flag=True, help="Print what was written (or is stale) as JSON.")
@click.pass_context
def build(ctx, assignments, check, no_otter, as_json):
    """Generate release/ and solutions/ from source/ (all assignments by default),
    and the otter/Gradescope versions in dist/otter/ (git-ignored)."""
    from .build import build as run_build

    course = _course(ctx)
    report = run_build(course, list(assignments) or None, check=check)
    otter = []
    if not check and not no_otter:
        from tqdm import tqdm

        from .otter import OtterFailure, build_otter_versions

        ids = list(assignments) or [a.id for a in course.assignments]
        with tqdm(total=len(ids), desc="otter assign", unit="assignment", disable=as_json or None,
                  file=sys.stderr) as bar:  # every assignment at once, one otter process each
            results = build_otter_versions(course, ids, on_done=lambda _: bar.update(1))
        for built in results:
            if isinstance(built, OtterFailure):
                otter.append({"assignment": built.assignment, "failed": built.reason})
                continue
            otter.append({"assignment": built.assignment, "out": str(built.out), "questions": len(built.questions),
                          "points": built.points, "autograder_zip": str(built.autograder_zip)})
    if as_json:
        click.echo(json.dumps({"ok": report.ok, "written": report.written, "stale": report.stale,
                               "unclean_sources": report.unclean_sources, "otter": otter}))
        if (check and not report.ok) or any("failed" in o for o in otter):
            sys.exit(1)
        return
    if check:
        for name in report.unclean_sources:
            click.echo(f"source notebook has outputs (run `cnnlab build` to clear them): {name}")
        for name in report.stale:
            click.echo(f"stale: {name}")
        if not report.ok:
            click.echo("release/ or solutions/ is not what source/ gives: run `cnnlab build` and commit.")
            sys.exit(1)
        click.echo("release/ and solutions/ are up to date with source/.")
        return
    for name in report.written:
        click.echo(f"wrote {name}")
    for o in otter:
        if "failed" in o:
            click.echo(f"otter: {o['assignment']} not built: {o['failed']}")
            continue
        click.echo(f"otter: {o['out']} ({o['questions']} questions, {o['points']:g} points; "
                   "the instructor's answers pass)")
    click.echo(f"build: {len(report.written)} file(s) written" if report.written else "build: already up to date")
    if any("failed" in o for o in otter):
        sys.exit(1)


@cli.command()
@click.argument("assignment")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for otter's layout (default: dist/otter/ASSIGNMENT).")
@click.option("--json", "as_json", is_flag=True, help="Print the questions and paths as JSON.")
@click.pass_context
def otter(ctx, assignment, out, as_json):
    """Make the otter-grader version of ASSIGNMENT: DIR/student/ (notebooks with grader.check
    cells) and DIR/autograder/ (the zip Gradescope takes), from source/."""
    from .otter import build_otter, default_dist

    course = _course(ctx)
    built = build_otter(course, assignment, out or default_dist(course, assignment))
    if as_json:
        from dataclasses import asdict

        click.echo(json.dumps({"assignment": assignment, "out": str(built.out), "points": built.points,
                               "student_notebook": str(built.student_notebook),
                               "autograder_zip": str(built.autograder_zip),
                               "questions": [asdict(q) for q in built.questions]}))
        return
    for q in built.questions:
        public = "public + hidden tests" if q.public else "hidden tests only"
        click.echo(f"  {q.name:<22} {q.points:>4g} points  {public} ({q.units} hidden case(s))")
    click.echo(f"student notebook:   {built.student_notebook}")
    click.echo(f"autograder for Gradescope: {built.autograder_zip}")
    click.echo(f"otter {assignment}: {len(built.questions)} questions, {built.points:g} points; "
               "the instructor's answers pass every test")


@cli.command("otter-grade")
@click.argument("assignment")
@click.argument("submissions", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--dist", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="What `cnnlab otter` wrote (default: dist/otter/ASSIGNMENT).")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the scores here (one row per submission).")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@click.pass_context
def otter_grade(ctx, assignment, submissions, dist, csv_path, as_json):
    """Grade otter submissions (.ipynb, or the zip grader.export makes) with otter's own
    autograder, run inside the sandbox; a submission's .OTTER_LOG is never read."""
    from tqdm import tqdm

    from .sheets import write_csv
    from .otter import default_dist, load_build
    from .otter.run import grade_submissions

    course = _course(ctx)
    built = load_build(course, assignment, dist or default_dist(course, assignment))
    with tqdm(total=len(submissions), unit="submission", disable=as_json or None, file=sys.stderr) as bar:
        results = grade_submissions(built, list(submissions), progress=bar)
    names = [q.name for q in built.questions]
    failed = sum(bool(r.error) for r in results)
    if as_json:
        from dataclasses import asdict

        click.echo(json.dumps({"assignment": assignment, "max_score": built.points, "graded": len(results) - failed,
                               "not_graded": failed,
                               "results": [{**asdict(r), "total": None if r.error else r.total} for r in results]},
                              ensure_ascii=False))
    for r in ([] if as_json else results):
        left = f"  (left unread: {', '.join(r.dropped)})" if r.dropped else ""
        if r.error:
            click.echo(f"  NOT GRADED {r.submission}: {r.error}{left}")
        else:
            click.echo(f"  {r.total:6g} / {built.points:g}  {r.submission}{left}")
    if csv_path:
        with open(csv_path, "w", encoding="utf-8", newline="") as f:
            write_csv(f, ["submission", "total", *names, "error"],
                      [[r.submission, "" if r.error else f"{r.total:g}",
                        *[f"{r.scores[n]:g}" if n in r.scores else "" for n in names], r.error]
                       for r in results])
        if not as_json:
            click.echo(f"scores written to {csv_path}")
    if not as_json:
        click.echo(f"otter-grade {assignment}: {len(results) - failed} graded, {failed} not graded")
    if failed:
        sys.exit(1)


UNSAFE_HELP = "Run student code WITHOUT the sandbox, as you, with access to everything you can read."


def _warn_unsafe(unsafe: bool) -> None:
    if unsafe:
        click.secho("WARNING: --unsafe-no-sandbox: student code runs as you, with your files and network. "
                    "Grade only code you trust.", fg="red", err=True)


@cli.command()
@click.argument("notebook", type=click.Path(path_type=Path))
@click.option("--assignment", default=None, help="Assignment id (default: from the notebook's file name).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")
@click.option("--unsafe-no-sandbox", "unsafe", is_flag=True, help=UNSAFE_HELP)
@click.pass_context
def grade(ctx, notebook, assignment, as_json, unsafe):
    """Grade one submitted NOTEBOOK in isolation, exactly as autograde would."""
    from .grading import grade_notebook

    _warn_unsafe(unsafe)
    result = grade_notebook(_course(ctx), notebook, assignment, sandbox=not unsafe)
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False))
        return
    click.echo(f"{result['assignment']}/{result['notebook']}: {result['score']:g} / {result['max_score']:g}")
    for t in result["tests"]:
        click.echo(f"  {t['status']:<8} {t['score']:>5g}/{t['max_score']:<4g} {t['grade_id']}")
        for hint in filter(None, t["message"].split("; ")):
            click.echo(f"      - {hint}")


def summary_lines(summary) -> list[str]:
    """Two short lines: what was graded, then only what is worth a TA's look."""
    c = summary.counts()
    where = f" on {summary.scheduler}" if summary.scheduler else ""
    first = (f"autograde {summary.assignment}: {c['graded']} graded ({c['zero_broken']} zero: unreadable), "
             f"{c['not_graded']} not graded, {c['skipped']} unchanged (skipped; --force regrades); "
             f"{summary.seconds:.1f} s, {summary.workers} worker(s){where}"
             f"{'' if summary.sandboxed else ', UNSANDBOXED'}")
    look = [(c["flagged"], "flagged"), (c["verifier_disagreed"], "where the notebook's checks disagreed"),
            (c["late"], "late"), (c["timeouts"], "with timeouts"), (c["kernel_deaths"], "kernel deaths"),
            (c["overrides_kept"], "OVERRIDE KEPT over a new submission"),
            (c["overrides_cleared"], "override(s) cleared by a new submission")]
    refused = sorted(summary.workers_refused.items())
    look.append((len(refused), refused and f"Dask worker(s) given no work ({refused[0][0]}: {refused[0][1][:120]})"))
    second = ", ".join(f"{n} {what}" for n, what in look if n) or "nothing flagged"
    return [first, f"  to look at: {second}"]


@cli.command()
@click.argument("assignment")
@click.option("--student", "students", multiple=True, help="Only this student (repeatable).")
@click.option("--workers", type=click.IntRange(1, 256), default=None,
              help="Submissions graded at once (default: the machine's cores).")
@click.option("--force", is_flag=True, help="Regrade submissions that are already graded and unchanged.")
@click.option("--scheduler", default="", metavar="tcp://HOST:PORT",
              help="Run the notebooks on this Dask scheduler's workers (`dask scheduler`, `dask worker`); "
                   "everything else stays here. --workers then counts submissions in flight "
                   "(default: twice the cluster's threads).")
@gradebook_option
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("--unsafe-no-sandbox", "unsafe", is_flag=True, help=UNSAFE_HELP)
@click.pass_context
def autograde(ctx, assignment, students, workers, force, scheduler, as_json, unsafe):
    """Grade every submission in submitted/*/ASSIGNMENT into autograded/ and the gradebook.

    Student code runs sandboxed (bubblewrap), several submissions at once, on
    this machine or on a Dask cluster (--scheduler); a broken submission is
    graded for what it is and never stops the class. A rerun grades only what
    is new or changed (--force: everything).
    """
    _warn_unsafe(unsafe)
    course = _course(ctx)
    runner = None
    if not scheduler and not unsafe:  # sandboxed kernels start now, while the grader imports
        from .grading.head_start import head_start

        runner = head_start(course, assignment, list(students))
    try:
        from .grading import autograde as run

        summary = run(course, assignment, list(students) or None, force=force, workers=workers,
                      sandbox=not unsafe, progress=not as_json, scheduler=scheduler, runner=runner)
    finally:
        if runner is not None:
            runner.close()
    if as_json:
        click.echo(json.dumps(summary.as_dict(), ensure_ascii=False))
    else:
        if summary.registered:
            click.echo(f"registered {assignment} in the gradebook from source/")
        for r in summary.results:
            if r.status == "skipped":
                continue
            status = f"{r.score:6.2f} / {r.max_score:<5g}" if r.ok else "not graded"
            notes = [*(["not attempted (the release notebook, unchanged)"] if r.not_attempted else []),
                     *r.problems, *([r.late] if r.late else []), *(["a cell timed out"] if r.timeouts else []),
                     *(["the kernel died"] if r.kernel_died else []), *([r.reason] if r.reason else [])]
            if r.repairs or r.dropped_files:
                notes.append(f"{len(r.repairs)} repair(s), {len(r.dropped_files)} extra file(s) ignored")
            click.echo(f"  {r.student:<20} {status}  {'; '.join(notes)}")
            for flag in r.flags[:8]:  # what the verifier saw: a TA's look is worth it
                click.echo(f"  {'':<20} flag: {flag}")
            if len(r.flags) > 8:
                click.echo(f"  {'':<20} flag: ... {len(r.flags) - 8} more in the log")
        for line in summary_lines(summary):
            click.echo(line)
        click.echo(f"log: {summary.log}")
    if summary.failed:
        sys.exit(1)


@cli.command()
@click.argument("assignment")
@click.option("--student", "students", multiple=True, help="Only this student (repeatable).")
@click.option("--force", is_flag=True, help="Write every student's feedback, also what is up to date.")
@click.option("--lms", type=click.Choice(["canvas", "moodle", "blackboard", "brightspace"]), default=None,
              help="Also lay the feedback out as this LMS's bulk upload (named after the collected download), "
                   "zipped in feedback-upload/LMS/.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@gradebook_option
@click.pass_context
def feedback(ctx, assignment, students, force, lms, as_json):
    """Write feedback/<student>/ASSIGNMENT/*.html: each exercise's score and the hint of every
    failed hidden check at the top, then the graded notebook (hidden tests never shown). A
    submission that could not be graded gets a page saying why. Only feedback older than its
    grading (or missing) is written again, students in parallel."""
    from .report.feedback import write_feedback

    course = _course(ctx)
    summary = write_feedback(course, assignment, list(students) or None, progress=not as_json, force=force)
    if lms:
        from .lms.feedback_upload import write_feedback_upload

        upload = write_feedback_upload(course, assignment, lms, list(students) or None)
        summary["lms_upload"] = {"lms": lms, "zip": str(upload.zip_path), "files": upload.files,
                                 "left_out": dict(upload.left_out)}
    if as_json:
        click.echo(json.dumps(summary, ensure_ascii=False))
    else:
        for s in summary["students"]:
            if not s["ok"]:
                click.echo(f"  NO FEEDBACK {s['student']}: {s['error']}")
        click.echo(f"feedback {assignment}: {summary['written']} student(s) written under {summary['folder']} "
                   f"({summary['not_graded_pages']} of them: why the submission could not be graded), "
                   f"{summary['up_to_date']} up to date (--force rewrites), {summary['failed']} failed")
        if lms:
            for student, why in upload.left_out:
                click.echo(f"  NOT IN THE UPLOAD {student}: {why}")
            click.echo(f"{lms} upload: {sum(map(len, upload.files.values()))} file(s) of {len(upload.files)} "
                       f"student(s) in {upload.zip_path}; upload it in {upload.where}")
    if summary["failed"]:
        sys.exit(1)


@cli.command()
@click.argument("assignment")
@click.option("--json", "as_json", is_flag=True, help="Print the table as JSON.")
@gradebook_option
@click.pass_context
def status(ctx, assignment, as_json):
    """Where every student of ASSIGNMENT stands: submitted, late, graded or broken, flagged,
    overridden by hand, feedback (written, stale, missing), exported (and changed since)."""
    from .report.status import as_dicts, class_status

    rows = class_status(_course(ctx), assignment)
    if as_json:
        click.echo(json.dumps({"assignment": assignment, "students": as_dicts(rows)}, ensure_ascii=False))
        return
    click.echo(f"{'student':<20} {'submitted':<9} {'graded':<8} {'score':>6}  {'late':<5} {'flagged':<7} "
               f"{'override':<8} {'feedback':<8} exported")
    for r in rows:
        score = "" if r.score is None else f"{r.score:g}"
        click.echo(f"{r.student:<20} {'yes' if r.submitted else 'no':<9} {r.graded or '-':<8} {score:>6}  "
                   f"{'yes' if r.late else '-':<5} {'yes' if r.flagged else '-':<7} {'yes' if r.overridden else '-':<8} "
                   f"{r.feedback:<8} {r.exported}")
    c = lambda pred: sum(1 for r in rows if pred(r))  # noqa: E731
    click.echo(f"status {assignment}: {len(rows)} student(s), {c(lambda r: r.submitted)} submitted, "
               f"{c(lambda r: r.graded == 'graded')} graded, {c(lambda r: r.graded == 'broken')} broken, "
               f"{c(lambda r: r.late)} late, {c(lambda r: r.flagged)} flagged, {c(lambda r: r.overridden)} overridden, "
               f"{c(lambda r: r.feedback == 'stale')} with stale feedback, "
               f"{c(lambda r: r.exported == 'changed since')} changed since the last export")


@cli.command()
@click.argument("assignment")
@click.option("--to", "dest", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The HTML file (default: reports/ASSIGNMENT.html); its PNGs go beside it.")
@click.option("--json", "as_json", is_flag=True, help="Print the report's data as JSON.")
@gradebook_option
@click.pass_context
def report(ctx, assignment, dest, as_json):
    """The class report of ASSIGNMENT: one self-contained HTML page (score distribution, pass rate
    per item, mastery per guiding question, the class's most frequent failures, flagged
    submissions with links, run times)."""
    from .report import gather, write_report

    course = _course(ctx)
    data = gather(course, assignment)
    if not data.totals:
        _fail(f"no graded submission of {assignment} in the gradebook: run `cnnlab autograde {assignment}` first")
    to = dest or course.root / "reports" / f"{assignment}.html"
    figures = write_report(data, to)
    if as_json:
        click.echo(json.dumps({**data.as_dict(), "report": str(Path(to).resolve()),
                               "figures": {k: str(v) for k, v in figures.items()}}, ensure_ascii=False))
        return
    s = data.summary()
    weakest = min(data.mastery, key=lambda m: m.share, default=None)
    click.echo(f"{assignment}: {s['students']} submission(s), mean {s['mean']:g} / {data.max_score:g}, "
               f"median {s['median']:g}; {len(data.flagged)} flagged")
    if weakest is not None:
        click.echo(f"  least mastered: {weakest.question} ({100 * weakest.share:.0f} %)")
    if data.misconceptions:
        m = data.misconceptions[0]
        click.echo(f"  most frequent failure: {m.grade_id}: {m.case or 'the answer'} ({m.students} student(s))")
    click.echo(f"report written to {Path(to).resolve()}")


LMS_CHOICE = click.Choice(["canvas", "moodle", "blackboard", "brightspace"])


@cli.command()
@click.option("--format", "fmt", type=click.Choice(["csv", "canvas", "moodle", "blackboard", "brightspace"]),
              default="csv", show_default=True, help="The LMS whose grade import to write, or a generic CSV.")
@click.option("--to", "dest", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="File to write (default: grades.csv, or <lms>-grades.csv).")
@click.option("--assignment", "assignments", multiple=True, help="Only this assignment (repeatable).")
@click.option("--missing", type=click.Choice(["zero", "blank"]), default=None,
              help="Score of a student who submitted nothing (default: course.yml lms.missing, else zero).")
@click.option("--items", is_flag=True, help="csv only: add a column per graded item.")
@click.option("--allow-ungraded", is_flag=True,
              help="LMS formats: write an assignment nobody is graded on yet (refused by default: all zeros).")
@click.option("--allow-new-column", is_flag=True,
              help="Canvas: write an assignment without its Canvas id (refused by default: Canvas would "
                   "create a new assignment).")
@gradebook_option
@click.pass_context
def export(ctx, fmt, dest, assignments, missing, items, allow_ungraded, allow_new_column):
    """Export grades: an LMS's grade import file, or a quoted, formula-safe UTF-8 CSV.
    Ends with one line on what the file holds (graded, 0 as unreadable, missing, late, overridden)."""
    from nbgrader.api import Gradebook

    from .export import CsvExportPlugin
    from .lms.export import EXPORTERS
    from .workspace import course_api

    course = _course(ctx)
    api = course_api(course)
    default_missing = str((course.data.get("lms") or {}).get("missing", "zero"))
    if fmt == "csv":
        dest = dest or Path("grades.csv")
        plugin = CsvExportPlugin(to=str(dest), assignment=list(assignments), missing=missing or default_missing,
                                 include_items=items, course_root=str(course.root))
    else:
        dest = dest or Path(f"{fmt}-grades.csv")
        plugin = EXPORTERS[fmt](to=str(dest), assignment=list(assignments), missing=missing or "",
                                course_root=str(course.root), allow_ungraded=allow_ungraded,
                                allow_new_column=allow_new_column)
    with Gradebook(api.coursedir.db_url, api.coursedir.course_id) as gb:
        known = {a.name for a in gb.assignments}
        unknown = sorted(set(assignments) - known)
        if unknown:
            _fail(f"not in the gradebook: {', '.join(unknown)}")
        plugin.export(gb)
    click.echo(plugin.account.line(str(dest)) + ("" if fmt == "csv" else f"; import it into {fmt}"))


@cli.group()
def roster():
    """The class roster, from an LMS export."""


@roster.command("import")
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--lms", required=True, type=LMS_CHOICE, help="The LMS that produced the file.")
@click.option("--json", "as_json", is_flag=True, help="Print the created, updated, unchanged and conflicting students as JSON.")
@gradebook_option
@click.pass_context
def roster_import(ctx, file, lms, as_json):
    """Create or update nbgrader students from an LMS roster or gradebook export."""
    from .lms.roster import import_roster
    from .workspace import course_api

    course = _course(ctx)
    report = import_roster(course, file, lms, course_api(course).coursedir.db_url)
    if as_json:
        from dataclasses import asdict

        click.echo(json.dumps({"lms": lms, **asdict(report)}, ensure_ascii=False))
        sys.exit(1 if report.conflicts else 0)
    for line in report.conflicts:
        click.echo(f"  conflict: {line}")
    click.echo(f"roster from {lms}: {len(report.created)} created, {len(report.updated)} updated, "
               f"{len(report.unchanged)} unchanged, {len(report.conflicts)} conflict(s) left for you")
    if report.conflicts:
        sys.exit(1)


@cli.command()
@click.argument("assignment")
@click.argument("archive", type=click.Path(exists=True, path_type=Path))
@click.option("--lms", required=True, type=LMS_CHOICE, help="The LMS the archive was downloaded from.")
@click.option("--json", "as_json", is_flag=True, help="Print what was collected and what was not as JSON.")
@click.option("--verbose", is_flag=True, help="Also print nbgrader zip_collect's own log.")
@gradebook_option
@click.pass_context
def collect(ctx, assignment, archive, lms, as_json, verbose):
    """Put an LMS's submissions download into submitted/<student>/ASSIGNMENT/ (nbgrader zip_collect)."""
    from .lms.collect import collect_archive

    report = collect_archive(_course(ctx), assignment, archive, lms)
    if as_json:
        from dataclasses import asdict

        click.echo(json.dumps(asdict(report), ensure_ascii=False))
        sys.exit(1 if report.unmatched else 0)
    if verbose:
        click.echo(report.log.rstrip())
    for student, files in report.students.items():
        click.echo(f"  {student:<24} {', '.join(files)}")
    for student, how in report.late.items():
        click.echo(f"  late: {student}: {how}")
    for student, other in report.wrong_notebook.items():
        click.echo(f"  WRONG NOTEBOOK: {student} handed in the notebook of {other}: it will score 0 (ask for "
                   f"the {assignment} notebook)")
    for student, name in report.superseded:
        click.echo(f"  superseded: {student}: {name} (a later submission wins)")
    for name, what in report.notes:
        click.echo(f"  note: {name}: {what}")
    for name, why in report.unmatched:
        click.echo(f"  NOT COLLECTED: {name}: {why}")
    if report.no_submission:
        shown = ", ".join(report.no_submission[:20]) + (" ..." if len(report.no_submission) > 20 else "")
        click.echo(f"  no submission from {len(report.no_submission)} roster student(s): {shown}")
    click.echo(f"collect {assignment} from {lms}: {len(report.students)} student(s) ({len(report.late)} late), "
               f"{len(report.unmatched)} file(s) not collected, {len(report.superseded)} superseded")
    if report.unmatched:
        sys.exit(1)


@cli.command()
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("demo"), show_default=True,
              help="Folder for the simulated class (replaced).")
@click.pass_context
def demo(ctx, out):
    """Grade a simulated class end to end: build, autograde, feedback, export, class reports, score table."""
    from .demo import run_demo

    run_demo(_course(ctx), out)


@cli.command()
@click.option("--roster", "roster_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Students, as nbgrader's student CSV (an id column); default: the gradebook's students.")
@click.option("--ta", default="ta", show_default=True, help="The TA's account (formgrader, the course folder).")
@click.option("--home", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="The hub's folder: state, logins, exchange (default: /srv/<course id>-hub).")
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True,
              help="Port on 127.0.0.1 where people open the hub.")
@click.option("--remove-accounts", is_flag=True, help="Remove the accounts this hub made (homes included), and stop.")
@click.pass_context
def hub(ctx, roster_file, ta, home, port, remove_accounts):
    """Run the course on a JupyterHub on 127.0.0.1 (as root): one account per student and for the TA,
    nbgrader's Assignments tab and exchange, formgrader for the TA. Ctrl-C stops it."""
    from .hub import serve

    course = _course(ctx)
    home = home or Path("/srv") / f"{course.nbgrader_config().CourseDirectory.course_id}-hub"
    try:
        if remove_accounts:
            removed = serve.remove(home)
            click.echo(f"removed {len(removed)} account(s): {', '.join(removed) or '-'}")
            return
        d = serve.deploy(course, home, ta, serve.roster_of(course, roster_file), port)
        log_path = d.layout.private / "jupyterhub.log"
        with open(log_path, "ab") as log:
            proc = serve.start(d, log)
            signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops the hub as cleanly as Ctrl-C
            click.echo(f"Learn CNNs hub: {d.url}")
            click.echo(f"  TA {ta}: the course folder is {d.ta_course}"
                       + (" (copied from the course now)" if d.copied else " (kept from before)"))
            click.echo(f"  {len(d.accounts) - 1} student account(s); logins (user, password): {d.layout.logins}")
            click.echo(f"  log: {log_path}")
            click.echo("Ctrl-C stops the hub and every server it started.")
            try:
                proc.wait()
                _fail(f"JupyterHub stopped (exit {proc.returncode}); see {log_path}")
            except KeyboardInterrupt:
                serve.stop(proc)
                click.echo("hub stopped")
    except serve.HubError as exc:
        _fail(str(exc))


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> None:
    warnings.filterwarnings("ignore", module="nbgrader")
    warnings.filterwarnings("ignore", message=".*not in session.*")
    try:
        cli.main(args=argv, prog_name="cnnlab", standalone_mode=False)
    except click.exceptions.Abort:
        _fail("aborted")
    except click.ClickException as exc:
        exc.show()
        sys.exit(2)
    except (CourseError, LmsError) as exc:
        _fail(str(exc))
    except KeyboardInterrupt:
        _fail("interrupted")
    except SystemExit:
        raise
    except Exception as exc:
        reason = _known_reason(exc)
        if reason is None and os.environ.get("CNNLAB_DEBUG"):
            raise
        _fail(reason or f"internal error: {type(exc).__name__}: {exc} (set CNNLAB_DEBUG=1 for the traceback)")


def entry() -> None:
    """The `cnnlab` command (pyproject.toml): main(), then the interpreter's end without its last
    full garbage collection, which took about 0.4 s at the end of every grading command here.
    Nothing is left for it to do: the command's files are closed and its gradebook committed, and
    atexit handlers (temporary folders, logging) still run. Not in main(): a process that calls
    main() and goes on (a test) keeps collecting its garbage. nbgrader's import of setuptools
    waits until nbgrader unpacks an archive (deferred_setuptools.py): 0.2 s of every grading
    command's start."""
    import gc

    from . import deferred_setuptools

    deferred_setuptools.install()
    try:
        main()
    finally:
        gc.freeze()  # every object now lives in a generation no collection scans


def _known_reason(exc: Exception) -> str | None:
    """The one line for a failure the user's setting causes, or None for a bug of ours.
    (The grading and database modules are imported here, on failure, so that every
    command's start stays free of nbgrader and SQLAlchemy until it needs them.)"""
    from sqlalchemy.exc import SQLAlchemyError

    from .gradebook import failure_reason
    from .grading.sandbox import SandboxUnavailable
    from .grading.workers import ClusterLost

    if isinstance(exc, SandboxUnavailable):
        return f"{exc}. Student code is not run without isolation; pass --unsafe-no-sandbox to do it anyway."
    if isinstance(exc, ClusterLost):
        return str(exc)
    if isinstance(exc, SQLAlchemyError):  # the gradebook's server went away or refused us
        return f"the gradebook could not be used: {type(exc).__name__}: {failure_reason(exc)}"
    return None


if __name__ == "__main__":
    main()
