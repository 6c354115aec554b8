"""`nbgrader collect` from a real exchange never follows a link (issue 15).

A student controls her inbound folder in the exchange: she can make it a link
to the course's source/<A>, or put links to source/, to another student's
folder, or hard links inside it. Plain nbgrader copies what they point at
(shutil.copytree follows links), and the solution is graded, and fed back,
as hers. Here a real `nbgrader collect` runs, with the course's
nbgrader_config.py, over an exchange in a tmp folder.
"""
from __future__ import annotations

import json
import os
import subprocess

from nbgrader.exchange import ExchangeFactory

from cnnlab.exchange import SafeExchangeCollect

from conftest import BIN, copy_course, run_env

A, NB = "01_why_cnns", "why_cnns.ipynb"
WHEN = "2026-11-20 14:05:00.000000 UTC"
LATER = "2026-11-21 09:00:00.000000 UTC"


def notebook(owner: str) -> str:
    return json.dumps({"cells": [], "metadata": {"owner": owner}, "nbformat": 4, "nbformat_minor": 5})


def submission(inbound, student: str, when: str = WHEN, files: dict[str, str] | None = None):
    folder = inbound / f"{student}+{A}+{when}"
    folder.mkdir()
    for name, text in (files or {}).items():
        (folder / name).write_text(text)
    (folder / "timestamp.txt").write_text(when)
    return folder


def test_the_course_selects_the_collector_that_follows_no_link(course):
    assert ExchangeFactory(config=course.nbgrader_config()).collect is SafeExchangeCollect


def test_collect_from_the_exchange_never_follows_a_link(tmp_path, course):
    root = tmp_path / "course"
    copy_course(course, root)
    source = root / "source" / A
    inbound = tmp_path / "exchange" / "learn-cnns" / "inbound"
    inbound.mkdir(parents=True)
    honest = submission(inbound, "alice", files={NB: notebook("alice")})
    # the whole submission a link to the course's source/<A>; and, later, only a link again
    (inbound / f"mallory+{A}+{WHEN}").symlink_to(source, target_is_directory=True)
    # a real older submission, then a later one that is a link: the real one is collected
    submission(inbound, "trent", files={NB: notebook("trent")})
    (inbound / f"trent+{A}+{LATER}").symlink_to(source, target_is_directory=True)
    # links (and a hard link) inside a real folder; one real file beside them
    eve = submission(inbound, "eve", files={"notes.txt": "my notes"})
    (eve / NB).symlink_to(source / NB)
    (eve / "source").symlink_to(root / "source", target_is_directory=True)
    (eve / "alice").symlink_to(honest, target_is_directory=True)
    os.link(source / NB, eve / "copy.ipynb")

    proc = subprocess.run([str(BIN / "nbgrader"), "collect", A, f"--Exchange.root={tmp_path / 'exchange'}"],
                          cwd=root, capture_output=True, text=True, env=run_env(), timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    submitted = root / "submitted"
    assert (submitted / "alice" / A / NB).read_text() == notebook("alice")
    assert (submitted / "trent" / A / NB).read_text() == notebook("trent")
    assert not (submitted / "mallory").exists()
    assert sorted(p.name for p in (submitted / "eve" / A).iterdir()) == ["notes.txt", "timestamp.txt"]
    for path in submitted.rglob("*"):
        assert not path.is_symlink(), path
        assert not (path.is_file() and path.read_bytes() == (source / NB).read_bytes()), path
    log = proc.stderr
    assert "Refused mallory's submission" in log and "links are never followed" in log
    for name in (NB, "source", "alice"):
        assert f"Left out eve+{A}+{WHEN}/{name}: a link to" in log, log
    assert f"eve+{A}+{WHEN}/copy.ipynb: a hard link" in log
