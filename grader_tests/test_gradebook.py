"""A new gradebook made by cnnlab (gradebook.prepare, a workspace's own) is the one nbgrader's
Gradebook() makes, table for table and at the same alembic revision, without the `alembic`
subprocess nbgrader starts for it (about 1 s each, in every fresh course and workspace)."""
from __future__ import annotations

import sqlite3

import nbgrader.api
import pytest
from nbgrader.api import Gradebook

from cnnlab.gradebook import create_tables, prepare


def _made(path) -> tuple:
    with sqlite3.connect(path) as db:
        return (sorted(db.execute("SELECT type, name, sql FROM sqlite_master").fetchall()),
                db.execute("SELECT version_num FROM alembic_version").fetchall(),
                db.execute("SELECT id FROM course").fetchall())


def test_a_new_gradebook_is_nbgrader_s_own_without_its_alembic_subprocess(tmp_path, monkeypatch):
    Gradebook(f"sqlite:///{tmp_path / 'nbgrader.db'}").close()  # nbgrader's way: asks `alembic heads`
    theirs = _made(tmp_path / "nbgrader.db")

    def no_subprocess():
        raise AssertionError("nbgrader's alembic subprocess was started")
    monkeypatch.setattr(nbgrader.api, "get_alembic_version", no_subprocess)
    prepare(f"sqlite:///{tmp_path / 'ours.db'}", tmp_path / "locks")
    assert _made(tmp_path / "ours.db") == theirs
    assert theirs[1] and theirs[0]

    # a gradebook with tables is left as it is
    with Gradebook(f"sqlite:///{tmp_path / 'ours.db'}", "learn-cnns") as gb:
        gb.update_or_create_student("ada")
    assert create_tables(f"sqlite:///{tmp_path / 'ours.db'}") is False
    with Gradebook(f"sqlite:///{tmp_path / 'ours.db'}", "learn-cnns") as gb:
        assert [s.id for s in gb.students] == ["ada"]


def test_a_workspace_makes_its_gradebook_without_the_subprocess(course, monkeypatch):
    from cnnlab.workspace import Workspace

    monkeypatch.setattr(nbgrader.api, "get_alembic_version", pytest.fail)
    with Workspace(course) as ws:
        ws.generate_assignment("01_why_cnns")
        with Gradebook(ws.db_url, ws.api.coursedir.course_id) as gb:
            assert gb.find_assignment("01_why_cnns").notebooks


def test_opens_of_one_gradebook_share_an_engine_and_still_read_a_replaced_file(tmp_path):
    """nbgrader builds an engine on every open (about 11 per graded submission), so every query
    was compiled again; after gradebook.share_engines (prepare calls it) opens of one URL share
    one engine, and its statement cache: a lookup's second open compiles nothing."""
    from sqlalchemy import event
    from sqlalchemy.engine.default import CACHE_HIT

    from cnnlab.gradebook import share_engines

    url, other = f"sqlite:///{tmp_path / 'a.db'}", f"sqlite:///{tmp_path / 'b.db'}"
    prepare(url, tmp_path / "locks")
    share_engines()  # a second call changes nothing
    assert nbgrader.api.create_engine.shares_engines and not hasattr(nbgrader.api.create_engine._create,
                                                                      "shares_engines")
    with Gradebook(url, "learn-cnns") as first, Gradebook(url, "learn-cnns") as second, \
            Gradebook(other, "learn-cnns") as elsewhere:
        assert first.engine is second.engine and elsewhere.engine is not first.engine
        first.update_or_create_student("ada")
    hits = []
    event.listen(first.engine, "before_cursor_execute",
                 lambda conn, cursor, statement, params, context, many: hits.append(context.cache_hit))
    with Gradebook(url, "learn-cnns") as gb:
        hits.clear()  # the open's own queries
        assert gb.find_student("ada").id == "ada"
    # this open's lookup ran on the first's engine with the statement compiled there (by update_or_create)
    assert hits == [CACHE_HIT] * len(hits) and hits, hits

    # the file replaced between two opens: the next open reads the new one (no connection is kept)
    (tmp_path / "a.db").unlink()
    prepare(url, tmp_path / "locks")
    with Gradebook(url, "learn-cnns") as gb:
        assert [s.id for s in gb.students] == []
        gb.update_or_create_student("bea")
    with Gradebook(url, "learn-cnns") as gb:
        assert [s.id for s in gb.students] == ["bea"]


def test_threads_opening_and_closing_one_shared_engine_lose_nothing(tmp_path):
    """Gradebook.close disposes of the shared engine's pool while another thread may hold one of
    its connections (a TA's two graders, the canary beside the class): every write still lands."""
    import threading

    url = f"sqlite:///{tmp_path / 'g.db'}"
    prepare(url, tmp_path / "locks", "learn-cnns")  # as every command does, the course row made under a lock
    import sqlite3  # made before any Gradebook() opens it: nbgrader's own look-then-insert races between threads
    with sqlite3.connect(tmp_path / "g.db") as db:
        assert ("learn-cnns",) in db.execute("SELECT id FROM course").fetchall()
    failures = []

    def writer(prefix: str) -> None:
        try:
            for i in range(25):
                with Gradebook(url, "learn-cnns") as gb:
                    gb.update_or_create_student(f"{prefix}{i}")
                    assert gb.find_student(f"{prefix}{i}").id == f"{prefix}{i}"
        except Exception as exc:  # reported below, with its thread
            failures.append(f"{prefix}: {type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=writer, args=(p,)) for p in ("a", "b", "c")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures, failures
    with Gradebook(url, "learn-cnns") as gb:
        assert len(gb.students) == 75
        assert gb.engine is nbgrader.api.create_engine(url, echo=False, future=True)
