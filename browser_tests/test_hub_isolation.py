"""Isolation between the people of a hub, attacked as a student (`cnnlab hub`).

Each attack runs as the student's own Unix account in the view her JupyterLab
server (and its terminal) runs in, through the file system and through
nbgrader's exchange commands. A student cannot read another's work, the
inbound folder, the course folder, source/ or solutions/, the gradebook or
the hub's logins; cannot rename, remove or replace another's submission or
the course's released files; and what she submits in another's name is
refused at collect.
"""
from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from cnnlab.course import load_course

from conftest import BIN, HUB_STUDENTS, HUB_TA, ROOT

A = "02_kernels"
ANA, BEN = HUB_STUDENTS


def _ok(r):
    assert r.returncode == 0, r.stdout[-1500:] + r.stderr[-1500:]
    return r


def _denied(r, what: str):
    assert r.returncode != 0, f"{what}: the student could ({r.stdout[-300:]})"
    assert "denied" in r.stderr.lower() or "no such file" in r.stderr.lower() \
        or "not permitted" in r.stderr.lower(), r.stderr[-500:]


@pytest.fixture(scope="module")
def submitted(hub):
    """02_kernels released, fetched and submitted by both students (as in the loop test)."""
    if not (hub.layout.course_exchange / "outbound" / A).exists():
        _ok(hub.as_ta(["nbgrader", "release_assignment", A]))
    for student in HUB_STUDENTS:
        home = Path(os.path.expanduser(f"~{student}"))
        if not (home / A).exists():
            _ok(hub.as_student(student, ["nbgrader", "fetch_assignment", A]))
        _ok(hub.as_student(student, ["nbgrader", "submit", A]))
    inbound = hub.layout.course_exchange / "inbound"
    return {s: sorted(p for p in inbound.iterdir() if p.name.startswith(f"{s}+")) for s in HUB_STUDENTS}


def test_homes_are_private_and_the_view_shows_only_ones_own(hub, submitted):
    home = Path(os.path.expanduser(f"~{BEN}"))
    assert stat.S_IMODE(home.stat().st_mode) == 0o700  # outside any view too
    r = _ok(hub.as_student(ANA, ["ls", "/home"]))
    assert r.stdout.split() == [ANA]
    _denied(hub.as_student(ANA, ["cat", str(home / A / "kernels.ipynb")]), "read another student's notebook")
    _denied(hub.as_student(ANA, ["ls", str(Path(os.path.expanduser(f"~{HUB_TA}")))]), "list the TA's home")


@pytest.mark.parametrize("what", ["course folder", "gradebook", "source", "solutions", "repo source",
                                  "repo solutions", "hub logins"])
def test_a_student_cannot_read_the_course_or_the_hubs_secrets(hub, submitted, what):
    path = {"course folder": hub.ta_course, "gradebook": hub.ta_course / "gradebook.db",
            "source": hub.ta_course / "source" / A / "kernels.ipynb",
            "solutions": hub.ta_course / "source",
            "repo source": ROOT / "source" / A / "kernels.ipynb", "repo solutions": ROOT / "solutions",
            "hub logins": hub.layout.logins}[what]
    assert path.exists()
    _denied(hub.as_student(ANA, ["cat" if path.is_file() else "ls", str(path)]), f"read the {what}")


def test_the_exchange_lets_no_student_list_or_rearrange_anothers_entries(hub, submitted):
    ex = hub.layout.course_exchange
    bens = submitted[BEN][-1]
    _denied(hub.as_student(ANA, ["ls", str(ex / "inbound")]), "list inbound")
    _denied(hub.as_student(ANA, ["ls", str(ex / "feedback")]), "list released feedback")
    # even knowing the name (72 random bits in it), she cannot enter, empty, remove or rename
    # Ben's submission (nbgrader's own submit would have left it 0777)
    assert stat.S_IMODE(bens.stat().st_mode) == 0o770
    _denied(hub.as_student(ANA, ["ls", str(bens)]), "list another's submission")
    _denied(hub.as_student(ANA, ["rm", "-rf", str(bens)]), "remove another's submission")
    _denied(hub.as_student(ANA, ["mv", str(bens), str(ex / "inbound" / f"{ANA}+{A}+stolen")]),
            "rename another's submission")
    assert bens.is_dir() and (bens / "kernels.ipynb").exists()
    # nor rename the course folder to put up her own, nor change what was released
    _denied(hub.as_student(ANA, ["mv", str(ex), str(ex.parent / "x")]), "rename the course folder")
    _denied(hub.as_student(ANA, ["touch", str(ex / "outbound" / A / "kernels.ipynb")]), "change the release")
    _denied(hub.as_student(ANA, ["mkdir", str(ex / "outbound" / "03_fake")]), "release an assignment")


def test_processes_and_tmp_are_private(hub, submitted):
    r = _ok(hub.as_student(ANA, ["sh", "-c", "echo secret > /tmp/note; ps -eo user:32=,comm="]))
    seen = {tuple(line.split()[:2]) for line in r.stdout.splitlines()}
    # her own processes, and the view's own init (bwrap, pid 1 of her namespace): nobody else's
    assert {user for user, _ in seen} <= {ANA, "root"} and all(c == "bwrap" for u, c in seen if u == "root"), seen
    _denied(hub.as_student(BEN, ["cat", "/tmp/note"]), "read another's /tmp")


def test_a_submission_in_anothers_name_is_refused_at_collect(hub, submitted):
    inbound = hub.layout.course_exchange / "inbound"
    # nbgrader submit takes any --student; a folder can be made by hand with a later time stamp
    _ok(hub.as_student(ANA, ["nbgrader", "submit", A, f"--student={BEN}"]))
    forged = inbound / f"{BEN}+{A}+2099-01-01 00:00:00.000000 UTC+forged"
    r = hub.as_student(ANA, ["sh", "-c", f"mkdir '{forged}' && cp ~/{A}/kernels.ipynb '{forged}/' && "
                                         f"echo '2099-01-01 00:00:00.000000 UTC' > '{forged}/timestamp.txt'"])
    _ok(r)
    # and a file slipped into a folder of Ben's that is open to her: one he submitted with
    # nbgrader's own submit class, which makes it 0777
    stock = "--ExchangeFactory.submit=nbgrader.exchange.default.submit.ExchangeSubmit"
    _ok(hub.as_student(BEN, ["nbgrader", "submit", A, stock]))
    bens = sorted(p for p in inbound.iterdir() if p.name.startswith(f"{BEN}+") and "forged" not in p.name
                  and p.stat().st_uid == Path(os.path.expanduser(f"~{BEN}")).stat().st_uid)[-1]
    assert stat.S_IMODE(bens.stat().st_mode) == 0o777
    _ok(hub.as_student(ANA, ["cp", str(Path(os.path.expanduser(f"~{ANA}")) / A / "kernels.ipynb"),
                             str(bens / "extra.ipynb")]))
    r = _ok(hub.as_ta(["nbgrader", "collect", A, "--update"]))
    log = r.stdout + r.stderr
    assert f"Refused the submission {forged.name} named after {BEN}: made by {ANA}" in log, log[-2000:]
    assert "written by someone other than the student" in log, log[-2000:]
    collected = hub.ta_course / "submitted" / BEN / A
    assert (collected / "timestamp.txt").read_text().strip() == bens.name.split("+")[2]
    assert not (collected / "extra.ipynb").exists()


def test_the_tas_own_server_never_runs_student_code(hub, submitted):
    """formgrader's autograde button runs nbgrader autograde as the TA, beside the gradebook:
    on the hub its Execute step refuses in one line and names the sandboxed command."""
    if not (hub.ta_course / "submitted" / ANA / A).exists():
        _ok(hub.as_ta(["nbgrader", "collect", A]))
    db = load_course(hub.ta_course).nbgrader_config().CourseDirectory.db_url
    with Gradebook(db) as gb:
        graded = A in {a.name for a in gb.assignments} and ANA in {s.student.id for s in gb.find_assignment(A).submissions}
    if not graded:  # run alone: otherwise the hub loop test has graded the class already
        r = subprocess.run([str(BIN / "cnnlab"), "--course", str(hub.ta_course), "autograde", A],
                           capture_output=True, text=True, timeout=600)
        _ok(r)
        subprocess.run(["chown", "-R", f"{HUB_TA}:{HUB_TA}", str(hub.ta_course)], check=True)
    with Gradebook(db) as gb:
        before = [(s.student.id, s.score) for s in gb.find_assignment(A).submissions]
    r = hub.as_ta(["nbgrader", "autograde", A, f"--student={ANA}", "--force"])  # as formgrader's button does
    out = r.stdout + r.stderr
    assert r.returncode != 0, out[-2000:]
    assert "runs only in cnnlab's sandbox" in out and "sudo cnnlab" in out, out[-2000:]
    with Gradebook(db) as gb:
        after = [(s.student.id, s.score) for s in gb.find_assignment(A).submissions]
    assert after == before                                                         # no score changed
    assert (hub.ta_course / "submitted" / ANA / A / "kernels.ipynb").exists()     # her work is untouched
