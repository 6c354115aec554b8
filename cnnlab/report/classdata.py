"""Everything the class report shows, gathered from the course folder as data.

Sources, each read the way the grading engine wrote it:
- the gradebook: every submission's score and each graded item's score;
- the autograded notebooks: the ✗ lines the verifier wrote into each hidden
  test cell (the hints written for students, never expected values);
- the autograde log (.cnnlab/logs/autograde-A.jsonl): each submission's last
  grading (status, timeouts, kernel deaths, integrity flags, seconds) and the
  runs (wall time, workers);
- source/ (the answer key) for each case's hint, and course.yml for which
  graded items assess which guiding question.
"""
from __future__ import annotations

import json
import statistics
from collections import Counter
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook, MissingEntry

from ..course import Course
from ..grading.pipeline import AutogradeSummary, SubmissionResult
from ..items import item_of
from ..items.hidden import hidden_items
from ..items.status import failure_lines
from ..sheets import final_score
from ..workspace import course_api


@dataclass
class ItemStats:
    grade_id: str
    notebook: str
    points: float
    scores: list[float] = field(default_factory=list)
    not_attempted: int = 0      # submissions that left the release's stub in place
    by_student: dict[str, float] = field(default_factory=dict)
    untried: set[str] = field(default_factory=set)   # the students of `not_attempted`

    @property
    def item(self) -> str:
        return item_of(self.grade_id)

    @property
    def pass_rate(self) -> float:
        """Share of graded submissions with full marks on this item."""
        return sum(s >= self.points - 1e-9 for s in self.scores) / len(self.scores) if self.scores else 0.0

    @property
    def mean_share(self) -> float:
        return sum(self.scores) / (len(self.scores) * self.points) if self.scores and self.points else 0.0


@dataclass
class Misconception:
    """One failure the class keeps making: a hidden case (or item) and its hint."""
    grade_id: str
    case: str           # the case's label, or '' for an item judged as a whole
    hint: str
    students: int


@dataclass
class Mastery:
    question: str       # the guiding question, verbatim from course.yml
    group: str
    grade_ids: list[str]
    share: float        # points earned / points possible on those items, whole class
    attempted_share: float | None = None   # the same over the submissions that attempted them


@dataclass
class Flagged:
    student: str
    status: str
    reasons: list[str]
    notebooks: list[Path]   # the autograded notebooks, to link to
    feedback: list[Path] = field(default_factory=list)   # the student's feedback pages, to link to


@dataclass
class StudentRow:
    student: str
    score: float
    late: str = ""
    flagged: bool = False


@dataclass
class RunTimes:
    submissions: int = 0
    median_seconds: float = 0.0
    p90_seconds: float = 0.0
    max_seconds: float = 0.0
    per_submission: list[float] = field(default_factory=list)
    last_run_seconds: float | None = None
    last_run_workers: int | None = None


@dataclass
class ClassReport:
    assignment: str
    title: str
    max_score: float
    totals: dict[str, float]                     # student → score (graded submissions)
    items: list[ItemStats]
    mastery: list[Mastery]
    misconceptions: list[Misconception]
    flagged: list[Flagged]
    times: RunTimes
    late: dict[str, str] = field(default_factory=dict)   # student -> how late, as autograde logged it
    no_submission: list[str] = field(default_factory=list)   # roster students with nothing graded
    flag_counts: dict[str, int] = field(default_factory=dict)  # as autograde's summary counts them

    @property
    def table(self) -> list[StudentRow]:
        """One row per graded student, in id order."""
        flagged = {f.student for f in self.flagged}
        return [StudentRow(s, score, self.late.get(s, ""), s in flagged) for s, score in sorted(self.totals.items())]

    @property
    def students(self) -> int:
        return len(self.totals)

    def summary(self) -> dict:
        scores = list(self.totals.values())
        return {"assignment": self.assignment, "students": self.students, "max_score": self.max_score,
                "mean": round(statistics.fmean(scores), 2) if scores else None,
                "median": round(statistics.median(scores), 2) if scores else None,
                "flagged": len(self.flagged), "late": len(self.late), "no_submission": len(self.no_submission)}

    def as_dict(self) -> dict:
        return {**self.summary(), "totals": self.totals,
                "items": [{"grade_id": i.grade_id, "points": i.points, "pass_rate": round(i.pass_rate, 4),
                           "mean_share": round(i.mean_share, 4), "not_attempted": i.not_attempted} for i in self.items],
                "mastery": [asdict(m) for m in self.mastery],
                "misconceptions": [asdict(m) for m in self.misconceptions],
                "flagged": [{**asdict(f), "notebooks": [str(p) for p in f.notebooks],
                             "feedback": [str(p) for p in f.feedback]} for f in self.flagged],
                "times": asdict(self.times), "late_work": self.late, "no_submission": self.no_submission,
                "flag_counts": self.flag_counts, "students_table": [asdict(r) for r in self.table]}


def _hints(course: Course, assignment_id: str, notebook: str) -> dict[str, dict[str, str]]:
    """{grade_id: {case label: hint}} from the hidden blocks of source/ ('' : item-wide hint)."""
    return {gid: item.hints() for gid, item in hidden_items(course.read_source(assignment_id, notebook)).items()}


#: ✗ lines that mean "not attempted yet" (the release's stub), not a misconception.
NOT_ATTEMPTED = ("raised NotImplementedError", "no function named", "no variable named")
NOT_TRIED = "\0not attempted"


def _failures(cell, labels: dict[str, str]) -> list[tuple[str, str]]:
    """(case label, hint) for each ✗ line of a verified test cell."""
    found = []
    for line in failure_lines(cell):
        if any(mark in line for mark in NOT_ATTEMPTED):
            found.append((NOT_TRIED, ""))
            continue
        label = next((lb for lb in labels if lb and line.startswith(lb + ":")), "")
        found.append((label, labels.get(label, "") or line))
    return found


def read_log(course: Course, assignment_id: str) -> tuple[dict[str, dict], list[dict]]:
    """({student: the last grading record}, [run records]) of the autograde log."""
    path = course.autograde_log(assignment_id)
    last, runs = {}, []
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue  # a line cut by a killed run
            if record.get("event") == "run":
                runs.append(record)
            elif record.get("student") and record.get("status") != "skipped":
                last[record["student"]] = record
    return last, runs


def _reasons(record: dict) -> list[str]:
    reasons = []
    if record.get("status") == "broken":
        reasons.append("not gradable: " + "; ".join(record.get("problems") or ["broken"]))
    if record.get("status") == "error":
        reasons.append("grading failed: " + (record.get("reason") or "?"))
    if record.get("timeouts"):
        reasons.append(f"{record['timeouts']} cell(s) timed out")
    if record.get("kernel_died"):
        reasons.append("the kernel died")
    reasons += [_labelled(f) for f in record.get("flags") or []]
    reasons += [f"repaired: {r}" for r in record.get("repairs") or []]
    if record.get("dropped_files"):
        reasons.append("files left out: " + ", ".join(record["dropped_files"]))
    return reasons


def _labelled(flag: str) -> str:
    """A flag under the name of what it is: a timeout is not an integrity finding."""
    if "ran out of time" in flag or "timed out" in flag:
        return f"timeout: {flag}"
    if flag.startswith(("late:", "override ")):
        return flag
    if "a library convolution or pooling" in flag:
        return f"library: {flag}"
    if "the verifier" in flag:
        return f"verifier: {flag}"
    return f"integrity: {flag}"


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def gather(course: Course, assignment_id: str) -> ClassReport:
    assignment = course.assignment(assignment_id)
    api = course_api(course)
    items: dict[str, ItemStats] = {}
    totals: dict[str, float] = {}
    fails: Counter = Counter()
    hint_of: dict[tuple[str, str], str] = {}
    with Gradebook(api.coursedir.db_url, api.coursedir.course_id) as gb:
        try:
            max_score = float(gb.find_assignment(assignment_id).max_score)
        except MissingEntry:
            max_score = 0.0
        for nb_name in assignment.notebooks:
            try:
                cells = gb.find_notebook(nb_name, assignment_id).grade_cells
            except MissingEntry:
                cells = []
            for c in cells:
                if c.max_score:
                    items[c.name] = ItemStats(c.name, nb_name, float(c.max_score))
        try:
            submissions = list(gb.find_assignment(assignment_id).submissions)
        except MissingEntry:
            submissions = []
        for sub in submissions:
            totals[sub.student.id] = round(final_score(sub), 2)
            for nb in sub.notebooks:
                for g in nb.grades:
                    if g.name in items:
                        items[g.name].scores.append(float(g.score))
                        items[g.name].by_student[sub.student.id] = float(g.score)
        no_submission = sorted(s.id for s in gb.students if s.id not in totals)
    for nb_name in assignment.notebooks:
        labels = _hints(course, assignment_id, nb_name)
        for student in totals:
            path = course.autograded(student, assignment_id) / f"{nb_name}.ipynb"
            if not path.is_file():
                continue
            nb = nbformat.read(path, as_version=4)
            for cell in nb.cells:
                gid = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
                if gid in labels and gid in items:
                    found = set(_failures(cell, labels[gid]))
                    if (NOT_TRIED, "") in found:
                        items[gid].not_attempted += 1
                        items[gid].untried.add(student)
                        continue
                    cases = [lb for lb in labels[gid] if lb]
                    if len(cases) > 1 and {lb for lb, _ in found} >= set(cases):
                        continue  # every case fails: a crash or another approach, not a misconception of one case
                    for label, hint in found:
                        fails[(gid, label)] += 1
                        hint_of[(gid, label)] = hint
    misconceptions = [Misconception(gid, label, hint_of[(gid, label)], n)
                      for (gid, label), n in fails.most_common()]

    mastery = []
    for q in course.questions:
        ids = [g for g in (q.get("assessed_by") or {}).get(assignment_id, []) if g in items]
        if not ids:
            continue
        earned = sum(sum(items[g].scores) for g in ids)
        possible = sum(items[g].points * len(items[g].scores) for g in ids)
        tried = [(items[g].by_student[s], items[g].points) for g in ids for s in items[g].by_student
                 if s not in items[g].untried]
        attempted = sum(e for e, _ in tried) / sum(p for _, p in tried) if tried and sum(p for _, p in tried) else None
        mastery.append(Mastery(q["text"], q.get("group", ""), ids, earned / possible if possible else 0.0, attempted))

    last, runs = read_log(course, assignment_id)
    flagged = []
    for student, record in sorted(last.items()):
        reasons = _reasons(record)
        if reasons:
            notebooks = [p for p in (course.autograded(student, assignment_id) / f"{nb}.ipynb"
                                     for nb in assignment.notebooks) if p.is_file()]
            feedback = sorted(course.feedback(student, assignment_id).glob("*.html"))
            flagged.append(Flagged(student, record.get("status", "?"), reasons, notebooks, feedback))
    seconds = [float(r.get("seconds") or 0.0) for r in last.values()]
    times = RunTimes(len(seconds), statistics.median(seconds) if seconds else 0.0, _percentile(seconds, 0.9),
                     max(seconds, default=0.0), seconds)
    if runs:
        times.last_run_seconds = float(runs[-1].get("seconds") or 0.0)
        times.last_run_workers = runs[-1].get("workers")
    order = {c.metadata.get("nbgrader", {}).get("grade_id"): (k, i)
             for k, nb in enumerate(assignment.notebooks)
             for i, c in enumerate(course.read_source(assignment_id, nb).cells)}
    ordered = sorted(items.values(), key=lambda it: order.get(it.grade_id, (len(order), 0)))
    late = {s: r["late"] for s, r in sorted(last.items()) if r.get("late")}
    # counted by autograde's own summary, from the results it logged: the two cannot disagree
    known = {f.name for f in fields(SubmissionResult)}
    logged = [SubmissionResult(**{k: v for k, v in r.items() if k in known}) for r in last.values()]
    counts = AutogradeSummary(assignment_id, results=logged).counts()
    flag_counts = {k: counts[k] for k in ("flagged", "timeouts", "kernel_deaths", "zero_broken")}
    return ClassReport(assignment_id, assignment.title, max_score, totals, ordered, mastery, misconceptions,
                       flagged, times, late, no_submission, flag_counts)
