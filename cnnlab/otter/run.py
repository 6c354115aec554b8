"""Grading otter submissions ourselves: `otter run`, inside the sandbox.

What otter does with a submission, and why none of it runs as the TA here:
- `otter run` unpickles the submission's `.OTTER_LOG` (dill: any code) and the
  results its kernel pickled; its tests sit in the kernel's own folder, where
  student code can rewrite them.
- So only the submission's one notebook is taken (from a Gradescope or
  `grader.export` zip every other member, `.OTTER_LOG` included, is left
  unread), and all of `otter run` (unzipping, executing, unpickling) happens
  in the grading engine's sandbox (grading/sandbox.py): uid nobody, no
  network, only the job folder writable, resource limits, a wall-clock kill.
- What comes back is `results.json` only: read as plain JSON, size-capped,
  and trusted for nothing but a number per known question, clamped to that
  question's points from source/. A submission that breaks anything gets a
  one-line reason and 0, and the others are graded anyway.

Otter's scores still come from tests in the student's kernel (that is
otter's design, on Gradescope as here): for scores student code cannot
subvert, grade the nbgrader version with `cnnlab autograde`.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from ..grading.intake import MAX_NOTEBOOK_BYTES  # one cap on a handed-in notebook, whichever grader reads it
from ..grading.sandbox import Limits, bwrap_argv, check_available, claim_uid, job_folder, kill_uid, prepare_job_dir
from .master import Question

MAX_RESULTS_BYTES = 5 * 1024**2


class SubmissionError(Exception):
    """A submission that cannot be graded, in one line."""


@dataclass
class OtterResult:
    submission: str
    scores: dict[str, float] = field(default_factory=dict)   # question → points earned
    error: str = ""                                          # why it was not graded ('' if it was)
    dropped: list[str] = field(default_factory=list)         # zip members left unread

    @property
    def total(self) -> float:
        return round(sum(self.scores.values()), 6)


def notebook_bytes(path: Path) -> tuple[bytes, list[str]]:
    """The one notebook of a submission (an .ipynb, or a zip holding one) and
    the names of what was left unread. Nothing is extracted to disk."""
    if not path.is_file():
        raise SubmissionError("not a file")
    if zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as zf:
                members = [m for m in zf.infolist() if not m.is_dir()]
                notebooks = [m for m in members if m.filename.endswith(".ipynb")
                             and not m.filename.startswith("__MACOSX/")
                             and ".ipynb_checkpoints/" not in m.filename]
                if len(notebooks) != 1:
                    raise SubmissionError(f"the zip holds {len(notebooks)} notebooks, expected 1")
                if notebooks[0].file_size > MAX_NOTEBOOK_BYTES:
                    raise SubmissionError("the notebook is larger than 20 MiB")
                data = zf.read(notebooks[0])
                return data, sorted(m.filename for m in members if m is not notebooks[0])
        except (zipfile.BadZipFile, OSError) as exc:
            raise SubmissionError(f"unreadable zip ({exc})") from None
    if path.stat().st_size > MAX_NOTEBOOK_BYTES:
        raise SubmissionError("the notebook is larger than 20 MiB")
    return path.read_bytes(), []


def _checked_notebook(data: bytes):
    try:
        nb = nbformat.reads(data.decode("utf-8"), as_version=4)
    except Exception as exc:  # not JSON, not a notebook: its own reason, in one line
        raise SubmissionError(f"not a readable notebook ({type(exc).__name__})") from None
    return nb


def read_results(path: Path, questions: list[Question]) -> dict[str, float]:
    """{question: score} from otter's results.json, trusting only numbers for
    questions we know, each clamped to [0, its points]."""
    if not path.is_file():
        raise SubmissionError("otter wrote no results")
    if path.stat().st_size > MAX_RESULTS_BYTES:
        raise SubmissionError("otter's results are too large to be genuine")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        tests = data["tests"]
        assert isinstance(tests, list)
    except Exception:
        raise SubmissionError("otter's results are not readable JSON") from None
    points = {q.name: q.points for q in questions}
    scores = dict.fromkeys(points, 0.0)
    for test in tests:
        if not isinstance(test, dict) or test.get("name") not in points:
            continue
        try:
            score = float(test.get("score"))
        except (TypeError, ValueError):
            continue
        if score == score:  # not NaN
            scores[test["name"]] = min(max(score, 0.0), points[test["name"]])
    return scores


def grade_one(submission: Path, autograder_zip: Path, notebook: str, questions: list[Question],
              limits: Limits = Limits()) -> OtterResult:
    """One submission through `otter run` in the sandbox; never raises for the
    submission's sake."""
    result = OtterResult(str(submission))
    try:
        data, result.dropped = notebook_bytes(Path(submission))
        _checked_notebook(data)
    except SubmissionError as exc:
        result.error = str(exc)
        return result
    with job_folder(limits, prefix="cnnlab-otter-run-") as tmp, claim_uid() as uid:  # a tmpfs of its own
        job = Path(tmp) / "job"
        (job / "out").mkdir(parents=True)
        (job / f"{notebook}.ipynb").write_bytes(data)
        shutil.copyfile(autograder_zip, job / "autograder.zip")
        prepare_job_dir(job, uid)
        hosts = Path(tmp) / "hosts"  # otter's kernel and log server meet at "localhost"
        hosts.write_text("127.0.0.1 localhost\n::1 localhost\n", encoding="ascii")
        nsswitch = Path(tmp) / "nsswitch.conf"
        nsswitch.write_text("hosts: files\n", encoding="ascii")
        argv = bwrap_argv(job, [sys.executable, "-m", "otter", "run", "--no-logo", "-a",
                                str(job / "autograder.zip"), "-o", str(job / "out"),
                                str(job / f"{notebook}.ipynb")], limits, uid=uid,
                          ro_files={"/etc/hosts": hosts, "/etc/nsswitch.conf": nsswitch})
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, errors="replace",
                                  timeout=limits.wall_seconds)
        except subprocess.TimeoutExpired:
            result.error = f"did not finish in {limits.wall_seconds} s"
            return result
        finally:
            kill_uid(uid)
        try:
            result.scores = read_results(job / "out" / "results.json", questions)
        except SubmissionError as exc:
            lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
            result.error = str(exc) + (f" ({lines[-1][:200]})" if lines else "")
    return result


def grade_submissions(build, submissions: list[Path], progress=None) -> list[OtterResult]:
    """Every submission, in order; one broken submission never stops the rest.
    `build` is an OtterBuild (`cnnlab otter` made it)."""
    check_available()
    results = []
    for path in submissions:
        results.append(grade_one(Path(path), build.autograder_zip, build.notebook, build.questions))
        if progress is not None:
            progress.update(1)
    return results
