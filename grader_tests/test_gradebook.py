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
