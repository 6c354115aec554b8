"""Scores that student code cannot subvert: the attack catalogue, graded once.

Every attack of catalogue/attacks.py is appended to the same wrong answer and
handed in by a student of its own; the class (plus the instructor's answers
and the wrong answer alone) is graded once through the real `cnnlab
autograde`. For each attack: the score is no higher than the wrong answer's,
the run completes, nothing outside the sandbox changed, no hidden test
reaches the autograded notebook or the feedback, and the flag names the
attack where it is visible in the code.
"""
from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import threading
import uuid
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from cnnlab.grading.sandbox import FIRST_UID, UID_COUNT, UID_LOCKS
from cnnlab.nbtools import fill_answers, instructor_answers
from cnnlab.simulate import load_catalogue

from catalogue.attacks import ATTACKS
from conftest import cnnlab_cmd, course_with_timeout, run_env

A, NB = "03_padding_pooling", "padding_pooling"
MISTAKE = "stride ignored (always moves by size)"
WRONG_CHOICE = 'pooling_purpose = {"F"}'
#: Text only a hidden block holds: none of it may reach a student.
HIDDEN_MARKS = ("def _reference_pool2d", "BEGIN HIDDEN TESTS", 'check_choices("pooling_purpose"', "_stride_hint =",
                '{"A", "B", "C", "D", "E"}')

pytestmark = pytest.mark.xdist_group("attacks")


def slug(name: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in name.lower()).strip("_")[:40]


def _tree_hash(folder: Path, skip=("autograded", "feedback", ".cnnlab", "gradebook.db", "submitted")) -> str:
    h = hashlib.sha256()
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder)
        if p.is_file() and rel.parts[0] not in skip:
            h.update(str(rel).encode() + p.read_bytes())
    return h.hexdigest()


def _sandbox_processes() -> list[int]:
    """Processes of a sandbox uid that no running sandbox owns (its uid lock is
    free): what a finished run left behind. Sandboxes of tests running beside
    this one hold their locks and are not counted."""
    import fcntl

    found = []
    for pid in [name for name in os.listdir("/proc") if name.isdigit()]:
        try:
            status = Path("/proc", pid, "status").read_text()
            uid = int(next(ln for ln in status.splitlines() if ln.startswith("Uid:")).split()[1])
        except (OSError, StopIteration, ValueError):
            continue
        if FIRST_UID <= uid < FIRST_UID + UID_COUNT:
            found.append((int(pid), uid))
    leftovers = []
    for pid, uid in found:
        with open(UID_LOCKS / f"{uid}.lock", "a") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                continue  # a sandbox is running as this uid right now
            if Path("/proc", str(pid)).exists():
                leftovers.append(pid)
    return leftovers


class Listener:
    """A TCP server on the host's loopback that remembers who connected."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.sock.settimeout(0.5)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
                self.connections += 1
                conn.close()
            except OSError:
                pass


@pytest.fixture(scope="module")
def graded(tmp_path_factory, course):
    root = tmp_path_factory.mktemp("attacks") / "course"
    copy = course_with_timeout(course, root)
    token = uuid.uuid4().hex
    listener = Listener()
    release = nbformat.read(root / "release" / A / f"{NB}.ipynb", as_version=4)
    answers = instructor_answers(copy.read_source(A, NB))
    mistake = next(v for v in load_catalogue(A)[0] if v.name == MISTAKE)
    wrong = {**answers, mistake.cell_id: mistake.code, "pooling_purpose_answer": WRONG_CHOICE}
    students = {"right": (answers, {}), "wrong": (wrong, {})}
    for attack in ATTACKS:
        code = attack.code.replace("{root}", str(root)).replace("{token}", token).replace("{port}", str(listener.port))
        students[slug(attack.name)] = ({**wrong, mistake.cell_id: mistake.code + "\n" + code}, attack.files or {})
    for student, (cells, files) in students.items():
        folder = root / "submitted" / student / A
        folder.mkdir(parents=True)
        nbformat.write(fill_answers(release, cells), str(folder / f"{NB}.ipynb"))
        for name, text in files.items():
            (folder / name).write_text(text)
    before = _tree_hash(root)
    proc = subprocess.run(cnnlab_cmd("--course", str(root), "autograde", A, "--json"), capture_output=True,
                          text=True, env=run_env(), timeout=1500)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    summary = json.loads(proc.stdout)
    feedback = subprocess.run(cnnlab_cmd("--course", str(root), "feedback", A), capture_output=True, text=True,
                              env=run_env(), timeout=600)
    listener.stop.set()
    with Gradebook("sqlite:///" + str(root / "gradebook.db"), "learn-cnns") as gb:
        scores = {s.student.id: float(s.score) for s in gb.find_assignment(A).submissions}
    return {"root": root, "token": token, "summary": summary, "scores": scores, "feedback": feedback,
            "results": {r["student"]: r for r in summary["results"]}, "listener": listener,
            "unchanged": before == _tree_hash(root), "leftovers": _sandbox_processes()}


def test_the_class_is_graded_and_the_bar_is_set(graded):
    assert all(r["status"] == "graded" for r in graded["results"].values()), graded["summary"]["counts"]
    assert len(graded["results"]) == len(ATTACKS) + 2
    right, wrong = graded["scores"]["right"], graded["scores"]["wrong"]
    assert wrong < right, "the wrong answer must lose points for the bar to mean anything"


@pytest.mark.parametrize("attack", ATTACKS, ids=lambda a: slug(a.name))
def test_an_attack_scores_no_more_than_the_wrong_answer(graded, attack):
    assert graded["scores"][slug(attack.name)] <= graded["scores"]["wrong"], graded["results"][slug(attack.name)]


@pytest.mark.parametrize("attack", [a for a in ATTACKS if a.flag], ids=lambda a: slug(a.name))
def test_the_flag_names_the_attack(graded, attack):
    flags = graded["results"][slug(attack.name)]["flags"]
    assert any(attack.flag in f for f in flags), flags


def test_the_honest_submissions_are_not_flagged(graded):
    assert graded["results"]["right"]["flags"] == [] and graded["results"]["wrong"]["flags"] == []


def test_subverted_in_notebook_checks_are_caught_as_disagreements(graded):
    subverting = ("input transformer", "AST transformer", "pre_run_cell hook", "patched grading helper")
    for name in [slug(a.name) for a in ATTACKS if a.name.startswith(subverting)]:
        flags = graded["results"][name]["flags"]
        assert any("the verifier" in f for f in flags), (name, flags)


def test_the_host_is_untouched(graded):
    root, token = graded["root"], graded["token"]
    assert graded["unchanged"], "a file of the course outside the graded folders changed"
    for path in [root / f"PWNED-{token}", root / "source" / f"PWNED-{token}", Path(f"/tmp/PWNED-{token}"),
                 Path(f"/root/PWNED-{token}"), Path.home() / f"PWNED-{token}", Path(f"/usr/PWNED-{token}")]:
        assert not path.exists(), path
    assert graded["listener"].connections == 0
    assert graded["leftovers"] == [], "sandboxed processes outlived the run"
    # the gradebook was written by the grader alone: the instructor's answers keep exactly their score
    assert graded["scores"]["right"] == 16.0


def test_no_hidden_test_reaches_a_student(graded):
    assert graded["feedback"].returncode == 0, graded["feedback"].stderr[-2000:]
    root = graded["root"]
    for student in graded["results"]:
        nb = nbformat.read(root / "autograded" / student / A / f"{NB}.ipynb", as_version=4)
        outputs = json.dumps([c.get("outputs", []) for c in nb.cells])
        assert not [m for m in HIDDEN_MARKS if m in outputs], student
        given = list((root / "feedback" / student / A).rglob("*"))
        assert root / "feedback" / student / A / f"{NB}.html" in given
        for path in given:  # everything a student is handed back
            text = path.read_text(encoding="utf-8", errors="replace")
            assert not [m for m in HIDDEN_MARKS if m in text], (student, path.name)


def test_no_cell_keeps_more_output_than_the_cap(graded):
    """Display updates count against the 256 KiB per-cell cap too (issue 15); a
    test cell may add the verifier's report to what its visible part printed."""
    root = graded["root"]
    for student in graded["results"]:
        nb = nbformat.read(root / "autograded" / student / A / f"{NB}.ipynb", as_version=4)
        kept = max(len(json.dumps(c.get("outputs", []))) for c in nb.cells if c.cell_type == "code")
        assert kept <= 256 * 1024 + 64 * 1024, (student, kept)


def test_the_ta_keeps_the_evidence(graded):
    evidence = graded["root"] / ".cnnlab" / "evidence" / A / f"{slug('patched grading helper')}.json"
    kept = json.loads(evidence.read_text())[f"{NB}/pool2d_hidden"]
    assert kept["in_notebook"] == 5.0 and kept["verified"] < 5.0 and kept["evidence"]


def test_a_stuck_kernel_is_ended_instead_of_waiting_for_the_wall_clock(graded):
    result = graded["results"][slug("infinite loop that ignores the interrupt")]
    assert result["kernel_died"] and result["seconds"] < 120, result


def test_a_function_that_hangs_or_kills_only_on_hidden_inputs_costs_its_item(graded):
    hangs = graded["results"][slug("a function that hangs when the grader calls it")]
    kills = graded["results"][slug("a function that kills the kernel on hidden inputs")]
    assert hangs["timeouts"] >= 1 and any("ran out of time" in f for f in hangs["flags"])
    assert kills["kernel_died"] and any("second run" in f for f in kills["flags"])
    for result in (hangs, kills):  # the items before and after pool2d were still scored
        assert 0 < result["score"] <= graded["scores"]["wrong"]


def test_feedback_of_the_attack_class_leaks_nothing(graded):
    """Attacks make hidden cells fail in odd ways (tracebacks, dead kernels): the
    feedback still holds no hidden line, expected value or unwritten solution line."""
    from leaks import feedback_leaks, notebook_text, own_outputs, secrets

    root = graded["root"]
    known = secrets(nbformat.read(root / "source" / A / f"{NB}.ipynb", as_version=4))
    release = notebook_text(root / "release" / A / f"{NB}.ipynb")
    for student in graded["results"]:
        own = notebook_text(root / "submitted" / student / A / f"{NB}.ipynb") + "\n" + \
            own_outputs(root / "autograded" / student / A / f"{NB}.ipynb")
        leaked = feedback_leaks(root / "feedback" / student / A / f"{NB}.html", known, release + "\n" + own)
        assert not leaked, (student, leaked[:3])


def test_the_class_report_lists_the_flagged_submissions_with_links(graded):
    root = graded["root"]
    to = root / "reports" / "attacks.html"
    proc = subprocess.run(cnnlab_cmd("--course", str(root), "report", A, "--to", str(to), "--json"),
                          capture_output=True, text=True, env=run_env(), timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    data = json.loads(proc.stdout)
    flagged = {f["student"]: f for f in data["flagged"]}
    expected = {s for s, r in graded["results"].items()
                if r["flags"] or r["timeouts"] or r["kernel_died"] or r["repairs"] or r["dropped_files"]}
    assert expected and set(flagged) == expected
    page = to.read_text(encoding="utf-8")
    for student, f in flagged.items():
        for nb in f["notebooks"]:
            link = Path(nb).relative_to(root).as_posix()
            assert f'href="../{link}"' in page and (to.parent / ".." / link).is_file(), student
