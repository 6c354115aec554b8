"""Submissions in: an LMS's download archive → submitted/<student>/<A>/, through
nbgrader's own `zip_collect` with our extractor and one collector plugin per LMS.

    cnnlab collect 02_kernels submissions.zip --lms canvas
    nbgrader zip_collect 02_kernels --collector=cnnlab.lms.collect.CanvasCollector

Extraction (extract.SafeExtractor, used by both routes: the collector puts
it in place of nbgrader's ExtractorPlugin) is bounded (extract.MAX_* limits:
1 GiB in all, 200 MiB per student archive, 50 MiB per file, 200:1, 10,000
members, 2 deep) and never writes outside its folder. A download that cannot
be read or is over the limits is a one-line error and nothing is collected.
A student's archive in the download is extracted into a folder named as the
archive was, and every file in it is that student's: the student is read
from the archive's LMS-given name only. A file inside it that is named as
another student's download file is left out and listed, as is a student's
archive that is not an archive, is over a limit or holds an unsafe member
(links, `..`, absolute paths): that student alone loses it. Names that are
not UTF-8 are renamed ("_" for bad bytes) and listed in `notes`.

The collector reads each extracted file's name with the LMS's rules
(base.LmsFormat.match_file) and finds the student in the gradebook (import the
roster first): by LMS user id, by the chosen identifier, or by full name.
A file that matches no student, or that is not a notebook, is listed in the
report, never dropped silently. When one student's archive holds several
copies of one notebook (a resubmission), the latest wins and the others are
listed as superseded. Renamed notebooks are kept as they are: the grader's
intake matches `kernels (1).ipynb` to `kernels.ipynb`.
"""
from __future__ import annotations

import json
import os
import shutil
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path, PurePosixPath

import nbformat
from nbgrader.api import Gradebook
from nbgrader.apps.zipcollectapp import ZipCollectApp
from nbgrader.coursedir import CourseDirectory
from nbgrader.plugins.zipcollect import FileNameCollectorPlugin
from nbgrader.utils import capture_log
from traitlets import Unicode

from ..course import Course, load_course
from ..gradebook import locks_folder, prepare
from ..grading.intake import _stem_key, assignment_of, graded_cells_elsewhere
from ..grading.late import describe, late_policy
from ..nbtools import nbgrader_failure
from . import get_format
from .base import FileMatch, LmsError
from .extract import MAX_DEPTH, SafeExtractor, is_archive_name
from .settings import lms_settings

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


#: Characters LMSs drop from names in download file names (Moodle: & < > " ` | ' : \ /).
DROPPED_IN_FILE_NAMES = str.maketrans("", "", "&<>\"`|':\\/")


def _name_key(name: str) -> str:
    """Names compared the way a person would: case, accents, spacing and the
    punctuation LMSs drop from file names aside ("O'Brien" arrives as "OBrien")."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return " ".join(plain.translate(DROPPED_IN_FILE_NAMES).lower().replace(",", " ").split())


class StudentFinder:
    """Who an LMS file name means, among the gradebook's students."""

    def __init__(self, students: list[tuple[str, str, str, str]], student_id_field: str):
        """students: (student id, first name, last name, LMS user id) of each student."""
        self.ids = {sid for sid, *_ in students}
        self.by_lms_id = {lms: sid for sid, _, _, lms in students if lms}
        self.by_name: dict[str, list[str]] = {}
        for sid, first, last, _ in students:
            self.by_name.setdefault(_name_key(f"{first} {last}"), []).append(sid)
        self.student_id_field = student_id_field

    @classmethod
    def of_gradebook(cls, db_url: str, student_id_field: str) -> "StudentFinder":
        with Gradebook(db_url) as gb:
            students = [(s.id, s.first_name or "", s.last_name or "", s.lms_user_id or "") for s in gb.students]
        return cls(students, student_id_field)

    def find_match(self, match: FileMatch) -> tuple[str | None, str]:
        """The student a file name means, trying each of its readings: (student, "")
        when exactly one names a student, else (None, why)."""
        found = {reading: self.find(reading) for reading in match.readings}
        students = sorted({sid for sid, _ in found.values() if sid})
        if len(students) == 1:
            return students[0], ""
        if students:
            return None, f"the name fits {len(students)} students ({', '.join(students)}): collect it by hand"
        return found[match.who]

    def find(self, who: tuple[str, str]) -> tuple[str | None, str]:
        kind, value = who
        if kind == "full_name":
            found = self.by_name.get(_name_key(value), [])
            if len(found) > 1:
                return None, f"{len(found)} students are named {value!r}"
            return (found[0], "") if found else (None, f"no student named {value!r} in the roster")
        if kind == self.student_id_field and value in self.ids:
            return value, ""
        if value in self.by_lms_id:
            return self.by_lms_id[value], ""
        return None, f"no student with {kind} {value!r} in the roster"


def _without_attempt_mark(filename: str, attempt: int) -> str:
    """`kernels-2.ipynb` of attempt 2 is the LMS's mark of a re-upload (Canvas), not a name the
    student chose: collected as `kernels.ipynb`, so nbgrader's own duplicate rule keeps the
    latest. A student's own renaming (`kernels (1).ipynb`) is kept for the grader to match."""
    stem, ext = os.path.splitext(filename)
    mark = f"-{attempt}"
    return stem[:-len(mark)] + ext if attempt and stem.endswith(mark) and len(stem) > len(mark) else filename


class LmsCollector(FileNameCollectorPlugin):
    """A zip_collect collector for one LMS (set `lms`, or use a subclass below)."""

    lms = Unicode("", help="canvas | moodle | blackboard | brightspace").tag(config=True)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # zip_collect made its extractor just before this collector. nbgrader's own extracts
        # students' archives into the same tree, unbounded, and a file in one would be matched
        # by its own name (another student's): this collector only works with ours.
        app = self.parent
        if isinstance(app, ZipCollectApp) and not isinstance(app.extractor_plugin_inst, SafeExtractor):
            self.log.warning("Using cnnlab.lms.extract.SafeExtractor instead of %s",
                             type(app.extractor_plugin_inst).__name__)
            app.extractor_plugin_inst = SafeExtractor(parent=app)

    def _setup(self):
        if getattr(self, "_finder", None) is None:
            app = self.parent
            course = load_course(app.coursedir.root)
            settings = lms_settings(course, self.lms)
            self._format = get_format(self.lms)
            self._finder = StudentFinder.of_gradebook(app.coursedir.db_url, settings.student_id)
            self._root = app._format_collect_path(app.extracted_directory)
            self._archives = getattr(app.extractor_plugin_inst, "student_archives", {})
            self.unmatched: list[tuple[str, str]] = []
            self.no_notebook: dict[str, list[str]] = {}  # student -> files that are not notebooks
            self.late_marked: set[str] = set()   # students the LMS marked late (no time given)
            self.timeless: set[str] = set()      # students whose files carry no time (Canvas)
            self.matched: dict[str, list[tuple[str, str, datetime]]] = {}

    def collect(self, submitted_file: str):
        self._setup()
        rel = os.path.relpath(submitted_file, self._root)
        outer = self._student_archive_of(rel)
        match = self._format.match_file(outer or rel)
        if match is None:
            self.unmatched.append((rel, f"not a {self._format.title} submission file" if outer is None else
                                   f"in the archive {outer}, which is not a {self._format.title} submission file"))
            return None
        student, why = self._finder.find_match(match)
        if student is None:
            self.unmatched.append((rel, match.note or why))
            return None
        if outer is None:
            name = _without_attempt_mark(match.filename, match.attempt)
        else:
            name, why = self._name_in_archive(PurePosixPath(rel).relative_to(outer), student)
            if name is None:
                self.unmatched.append((rel, why))
                return None
        if os.path.splitext(name)[1].lower() not in self.valid_ext:
            self.unmatched.append((rel, match.note or "not a notebook (only .ipynb files are graded)"))
            self.no_notebook.setdefault(student, []).append(name)
            return None
        if match.submitted_at is None:
            self.timeless.add(student)  # zip_collect needs an order; collect_archive drops the fake time
        if match.late_mark:
            self.late_marked.add(student)
        when = match.submitted_at or (EPOCH + timedelta(seconds=match.attempt))
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        self.matched.setdefault(student, []).append((name, rel, when))
        return {"student_id": student, "file_id": name, "timestamp": when}

    def owner(self, rel: str) -> str | None:
        """The student a path under extracted/ names (for the report's reasons), or None."""
        self._setup()
        try:
            match = self._format.match_file(self._student_archive_of(rel) or rel)
        except LmsError:
            return None
        return self._finder.find_match(match)[0] if match else None

    def _student_archive_of(self, rel: str) -> str | None:
        """The outermost extracted student archive `rel` lies in (the one whose
        LMS-given name says whose the file is), or None."""
        parts = PurePosixPath(rel).parts
        for i in range(1, len(parts)):
            folder = "/".join(parts[:i])
            if folder in self._archives:
                return folder
        return None

    def _name_in_archive(self, inner: PurePosixPath, student: str) -> tuple[str | None, str]:
        """The name a file inside `student`'s own archive is collected under, or
        (None, why not). Its name never decides whose it is: one named as another
        student's download file is left out and listed (such a file replaced that
        student's notebook before issue 15)."""
        if any(p.startswith(".") or p == "__MACOSX" for p in inner.parts):
            return None, f"a hidden or macOS metadata file in {student}'s archive"
        if is_archive_name(inner.name):
            return None, f"an archive inside {student}'s archive (archives are opened {MAX_DEPTH} deep at most)"
        try:
            named = self._format.match_file(str(inner))
        except LmsError:  # named as in an anonymous download: someone's, not hers to claim
            return None, self._not_hers(student, "an anonymous student")
        if named is None:
            return inner.name, ""  # her own file: by its name, her subfolders dropped (as Moodle's are)
        other = self._finder.find_match(named)[0]
        if other == student:
            return named.filename, ""
        return None, self._not_hers(student, other or named.who[1])

    def _not_hers(self, student: str, other: str) -> str:
        return (f"in {student}'s archive but named as a {self._format.title} download file of {other!r}: "
                "a file in a student's archive counts only for her, so it is left out")


class CanvasCollector(LmsCollector):
    lms = Unicode("canvas").tag(config=True)


class MoodleCollector(LmsCollector):
    lms = Unicode("moodle").tag(config=True)


class BlackboardCollector(LmsCollector):
    lms = Unicode("blackboard").tag(config=True)


class BrightspaceCollector(LmsCollector):
    lms = Unicode("brightspace").tag(config=True)


COLLECTORS = {"canvas": CanvasCollector, "moodle": MoodleCollector, "blackboard": BlackboardCollector,
              "brightspace": BrightspaceCollector}


@dataclass
class CollectReport:
    assignment: str
    lms: str
    students: dict[str, list[str]] = field(default_factory=dict)   # student -> files now in submitted/
    unmatched: list[tuple[str, str]] = field(default_factory=list)  # (file in the archive, why)
    superseded: list[tuple[str, str]] = field(default_factory=list)  # (student, older copy left out)
    notes: list[tuple[str, str]] = field(default_factory=list)  # (file, what collect did: archives opened, renames)
    #: students who handed in files but no notebook (a text entry, an HTML page): export leaves them blank
    no_notebook: dict[str, list[str]] = field(default_factory=dict)
    late: dict[str, str] = field(default_factory=dict)  # student -> how late (course.yml late:), or the LMS's mark
    wrong_notebook: dict[str, str] = field(default_factory=dict)  # student -> the assignment whose notebook it is
    no_submission: list[str] = field(default_factory=list)  # roster students this download holds nothing of
    downloads: dict[str, list[str]] = field(default_factory=dict)  # student -> her files' paths in the download
    log: str = ""  # nbgrader zip_collect's own log (cnnlab collect --verbose prints it)


def collect_archive(course: Course, assignment_id: str, archive: str | Path, lms: str) -> CollectReport:
    """Extract an LMS download (an archive, or a folder it was unpacked into)
    into submitted/ through nbgrader's zip_collect. LmsError (one line) when
    the download itself cannot be used; downloaded/<A>/ is then removed and
    submitted/ is untouched."""
    course.assignment(assignment_id)
    archive = Path(archive)
    if not archive.exists():
        raise LmsError(f"{archive}: no such file or folder")
    get_format(lms)
    lms_settings(course, lms)  # settings errors before anything is copied
    folder = course.root / "downloaded" / assignment_id
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "archive").mkdir(parents=True)
    if archive.is_dir():
        # one level down: an archive directly in archive/ would be read as a download,
        # and in an unpacked download every archive is a student's. Links stay links (refused).
        shutil.copytree(archive, folder / "archive" / archive.name, symlinks=True)
    else:
        shutil.copyfile(archive, folder / "archive" / archive.name)
    app = _zip_collect_app(course, assignment_id, lms)
    # nbgrader's log (hundreds of lines, with false alarms intake settles) is kept in report.log, not printed
    for handler in list(app.log.handlers):
        app.log.removeHandler(handler)
    app.log.propagate = False
    cwd = os.getcwd()
    try:
        outcome = capture_log(app)
    finally:
        os.chdir(cwd)
    extractor, collector = app.extractor_plugin_inst, app.collector_plugin_inst
    if getattr(extractor, "fatal", None):
        shutil.rmtree(folder, ignore_errors=True)
        raise LmsError(f"the download was not collected: {extractor.fatal}")
    if not outcome.get("success"):
        raise LmsError(f"zip_collect failed: {nbgrader_failure(outcome)}")
    report = CollectReport(assignment_id, lms)
    report.unmatched = [(rel, _whose(collector, rel, why)) for rel, why in getattr(extractor, "refused", [])]
    report.unmatched += list(getattr(collector, "unmatched", []))
    report.notes = [(rel, f"{collector.owner(rel) or 'a student'}'s archive, extracted: its {n} file(s) count for "
                          "the uploader only, whatever their names")
                    for rel, n in getattr(extractor, "student_archives", {}).items()]
    report.notes += list(getattr(extractor, "renamed", []))
    report.log = outcome.get("log", "")
    matched = getattr(collector, "matched", {})
    report.no_notebook = {s: sorted(set(files)) for s, files in sorted(getattr(collector, "no_notebook", {}).items())
                          if s not in matched}
    release = course.assignment(assignment_id).notebooks
    for student, files in sorted(matched.items()):
        report.downloads[student] = sorted({rel for _, rel, _ in files})
        _keep_latest(course.submitted(student, assignment_id), files, release, student, report)
        report.students[student] = sorted(p.name for p in course.submitted(student, assignment_id)
                                          .iterdir() if p.suffix == ".ipynb")
    _settle_times(course, assignment_id, collector, report)
    report.wrong_notebook = _wrong_notebooks(course, assignment_id, report)
    write_collect_record(course, assignment_id, report)
    cfg = course.nbgrader_config().CourseDirectory
    with Gradebook(cfg.db_url, cfg.get("course_id", "")) as gb:
        report.no_submission = sorted(s.id for s in gb.students if s.id not in report.students
                                      and not any(course.submitted(s.id, assignment_id).glob("*.ipynb")))
    return report


def _wrong_notebooks(course: Course, assignment_id: str, report: CollectReport) -> dict[str, str]:
    """Students whose collected notebook belongs to another assignment (autograde scores it 0
    and says so; collect warns now, while the TA can still ask for the right one)."""
    mine = [nbformat.read(p, as_version=4) for p in (course.release_notebook(assignment_id, nb)
                                                     for nb in course.assignment(assignment_id).notebooks)
            if p.is_file()]
    elsewhere = graded_cells_elsewhere(course, assignment_id)
    found = {}
    for student, files in report.students.items():
        for name in files:
            try:
                nb = nbformat.read(course.submitted(student, assignment_id) / name, as_version=4)
            except Exception:  # noqa: BLE001 - an unreadable file is autograde's to report
                continue
            owners = [assignment_of(nb, r, elsewhere) for r in mine]
            if owners and all(owners):  # another assignment's, whichever of ours it was taken for
                found[student] = owners[0]
    return found


def _settle_times(course: Course, assignment_id: str, collector: LmsCollector, report: CollectReport) -> None:
    """timestamp.txt as nbgrader's late penalty reads it: the LMS's time, none where the
    LMS gives none (zip_collect wrote an ordering placeholder of 1970), or the due date
    plus one day for a file the LMS marked late when course.yml says to charge that."""
    policy = late_policy(course)
    marked = getattr(collector, "late_marked", set())
    for student in report.students:
        stamp = course.submitted(student, assignment_id) / "timestamp.txt"
        due = policy.due_of(assignment_id, student)
        if student in getattr(collector, "timeless", set()):
            stamp.unlink(missing_ok=True)
            if student in marked:
                if policy.canvas_mark_only == "one_day" and due is not None:
                    stamp.write_text((due + timedelta(days=1)).astimezone(timezone.utc).isoformat(" "))
                    report.late[student] = "marked LATE by the LMS, time unknown: charged one day"
                else:
                    report.late[student] = "marked LATE by the LMS, time unknown: no penalty (flagged)"
            continue
        if due is None or not stamp.is_file():
            continue
        try:
            when = datetime.fromisoformat(stamp.read_text().strip())
        except ValueError:
            continue
        when = when if when.tzinfo else when.replace(tzinfo=timezone.utc)
        seconds = (when - due).total_seconds()
        if seconds > 0:
            report.late[student] = describe(seconds, policy.penalty_share(seconds))


def write_collect_record(course: Course, assignment_id: str, report: CollectReport) -> None:
    """What the last collect of an assignment knew that the gradebook cannot: who handed in
    no notebook at all (export writes them blank, not 0, so a grade entered in the LMS stays)."""
    path = course.collect_record(assignment_id)
    record = course.collected(assignment_id)
    known = record.get("no_notebook", {})  # earlier downloads count too
    known_marks = set(record.get("late_marks", []))
    merged = {s: sorted(set(known.get(s, [])) | set(report.no_notebook.get(s, [])))
              for s in sorted(set(known) | set(report.no_notebook)) if s not in report.students}
    path.parent.mkdir(parents=True, exist_ok=True)
    marks = {s for s, why in report.late.items() if why.startswith("marked LATE")}
    marks |= {s for s in known_marks if s not in report.students}  # earlier downloads' marks stay theirs
    # where each student's files were in the download: feedback goes back to the LMS under those names
    downloads = {s: paths for s, paths in record.get("downloads", {}).items() if s not in report.downloads}
    downloads.update(report.downloads)
    path.write_text(json.dumps({"lms": report.lms, "no_notebook": merged, "late_marks": sorted(marks),
                                "downloads": dict(sorted(downloads.items()))}, indent=1,
                               ensure_ascii=False), encoding="utf-8")


def _zip_collect_app(course: Course, assignment_id: str, lms: str) -> ZipCollectApp:
    cfg = course.nbgrader_config()
    prepare(cfg.CourseDirectory.db_url, locks_folder(course.root), cfg.CourseDirectory.course_id)  # students are looked up in the gradebook
    coursedir = CourseDirectory(config=cfg)
    coursedir.assignment_id = assignment_id
    app = ZipCollectApp(coursedir=coursedir, config=cfg)
    app.collector_plugin, app.extractor_plugin = COLLECTORS[lms], SafeExtractor
    app.force, app.strict = True, False
    return app


def _whose(collector: LmsCollector, rel: str, what: str) -> str:
    """`what`, prefixed with the student `rel` belongs to when its name says so."""
    owner = collector.owner(rel)
    return f"{owner}'s upload: {what}" if owner else what


def _keep_latest(folder: Path, files: list[tuple[str, str, datetime]], release: list[str], student: str,
                 report: CollectReport) -> None:
    """Several copies of one notebook in one download: the latest submission wins."""
    for notebook in release:
        copies = [(when, name) for name, _, when in files if _stem_key(Path(name).stem) == notebook.lower()]
        if len(copies) < 2:
            continue
        copies.sort()
        latest = copies[-1][1]
        for when, name in copies[:-1]:  # nbgrader already kept the newer of two files with one name
            if name != latest and (folder / name).exists():
                (folder / name).unlink()
            report.superseded.append((student, f"{name} ({when:%Y-%m-%d %H:%M})"))
