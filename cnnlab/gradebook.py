"""The gradebook as nbgrader keeps it, wherever `db_url` points: the embedded
SQLite file by default, or a shared PostgreSQL database when a class outgrows
one machine (`cnnlab --db postgresql://user@host/db ...` or nbgrader_config.py).

nbgrader reads and writes it; this module adds what several graders at once
need and nbgrader does not have:

- `reachable`: a wrong URL or a server that is down is one line, not a traceback;
- `prepare`: nbgrader's tables made once, under a lock, before anyone uses them
  (nbgrader makes them on every open when missing; two commands starting at
  once on an empty PostgreSQL database then race, and one fails with a
  unique violation on pg_type), with the schema's revision read in this
  process (`create_tables`) where nbgrader would start `alembic` for it;
- `share_engines`: nbgrader's opens of one database in this process share one
  SQLAlchemy engine, so a statement is compiled once per run, not once per open;
- `exclusive`: a named lock held across processes (and machines, on PostgreSQL),
  so two TAs grading the same class never write the same submission at once and
  never register an assignment twice. On PostgreSQL it is an advisory lock in the
  gradebook's own database (released by the server if the holder dies); on SQLite
  it is an flock beside the course (released by the kernel if the holder dies).
"""
from __future__ import annotations

import functools
import hashlib
from contextlib import contextmanager
from pathlib import Path

from .course import Course, CourseError


def is_postgres(db_url: str) -> bool:
    return db_url.split(":", 1)[0].split("+", 1)[0] in ("postgresql", "postgres")


def shown(db_url: str) -> str:
    """The URL with its password hidden, fit for messages and logs."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(db_url).render_as_string(hide_password=True)
    except Exception:
        return db_url.split("@")[-1]


_ENGINES: dict = {}


def _engine(db_url: str):
    """One engine per URL for our own connections (locks, checks); nbgrader opens its own."""
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    if db_url not in _ENGINES:
        # NullPool: a lock's connection is closed, and so released, when the lock is
        _ENGINES[db_url] = create_engine(db_url, poolclass=NullPool, connect_args={"connect_timeout": 10})
    return _ENGINES[db_url]


def reachable(db_url: str) -> None:
    """Raise CourseError in one line when the gradebook's server cannot be used."""
    if not is_postgres(db_url):
        return
    from sqlalchemy import text

    try:
        with _engine(db_url).connect() as conn:
            conn.execute(text("SELECT 1"))
    except ImportError as exc:
        raise CourseError(f"no PostgreSQL driver for {shown(db_url)} ({exc}): pip install 'psycopg[binary]'") from None
    except Exception as exc:
        raise CourseError(f"cannot use the gradebook at {shown(db_url)}: {failure_reason(exc)}") from None


def share_engines() -> None:
    """From now on, nbgrader's `Gradebook(url)` in this process reuses one engine per URL.

    nbgrader opens the gradebook about 11 times per graded submission (its converter and each
    of its preprocessors open their own), and each open built a new engine: a new dialect,
    pool and an empty cache of compiled statements, so every query of every open was compiled
    again, about 45 % of a lookup's CPU, all of it on the coordinator under its lock. An
    engine holds no data: `Gradebook.close` still disposes of its pool, so no connection
    outlives the Gradebook that opened it, and a gradebook file replaced between two opens is
    read afresh. Idempotent; nothing else in nbgrader changes."""
    import nbgrader.api

    if getattr(nbgrader.api.create_engine, "shares_engines", False):
        return
    nbgrader.api.create_engine = _SharedEngines(nbgrader.api.create_engine)


class _SharedEngines:
    """sqlalchemy.create_engine, returning the engine it made before for the same arguments."""

    shares_engines = True

    def __init__(self, create):
        import threading

        self._create, self._engines, self._lock = create, {}, threading.Lock()

    def __call__(self, url, **kwargs):
        key = (str(url), tuple(sorted((k, repr(v)) for k, v in kwargs.items())))
        with self._lock:  # graders' threads open gradebooks at once
            if key not in self._engines:
                self._engines[key] = self._create(url, **kwargs)
            return self._engines[key]


def prepare(db_url: str, lock_dir: Path, course_id: str | None = None) -> None:
    """The gradebook is reachable and holds nbgrader's tables (made here, once, if not) and the
    row of `course_id`, and this process's opens of it share an engine (share_engines).

    The course row is made here, under a lock, because nbgrader's Gradebook() makes it by looking
    and then inserting: the first opens of a fresh gradebook at once (two commands starting
    together, threads of one) would all insert it, and all but one fail on its unique id."""
    from sqlalchemy import inspect

    share_engines()
    reachable(db_url)
    from nbgrader.api import Gradebook

    if not (is_postgres(db_url) and inspect(_engine(db_url)).has_table("alembic_version")):  # nbgrader makes it last
        with exclusive(db_url, "nbgrader-schema", lock_dir):
            create_tables(db_url)
            Gradebook(db_url).close()  # creates what is missing; a no-op when another command did it first
    if course_id:
        with exclusive(db_url, "nbgrader-course", lock_dir):
            Gradebook(db_url, course_id).close()


@functools.lru_cache(maxsize=None)
def alembic_head() -> str:
    """The revision of nbgrader's newest gradebook schema, read with alembic's API. nbgrader
    asks a subprocess (`alembic heads`, about 1 s here) each time it creates a gradebook."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from nbgrader.dbutil import ALEMBIC_DIR

    config = Config()
    config.set_main_option("script_location", ALEMBIC_DIR)
    return ScriptDirectory.from_config(config).get_current_head()


def create_tables(db_url: str) -> bool:
    """An empty gradebook made as nbgrader's Gradebook() makes one (its tables, then
    alembic_version at the head revision), in one transaction; False when it had tables."""
    from nbgrader.api import Base
    from sqlalchemy import create_engine, inspect, text

    engine = create_engine(db_url, future=True)
    try:
        with engine.begin() as conn:
            if inspect(conn).get_table_names():
                return False
            Base.metadata.create_all(bind=conn)
            conn.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)"))
            conn.execute(text("INSERT INTO alembic_version (version_num) VALUES (:head)"), {"head": alembic_head()})
        return True
    finally:
        engine.dispose()


def failure_reason(exc: BaseException) -> str:
    """The first line of what the database driver said (SQLAlchemy wraps it in `orig`)."""
    said = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return (said[0] if said else "no reason given")[:300]


def _key(name: str) -> int:
    """A stable signed 64-bit key for pg_advisory_lock."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)


@contextmanager
def exclusive(db_url: str, name: str, lock_dir: Path):
    """Hold the lock `name` of this gradebook until the block ends (waits for it)."""
    if is_postgres(db_url):
        from sqlalchemy import text

        with _engine(db_url).connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _key(name)})
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _key(name)})
        return
    import fcntl

    lock_dir.mkdir(parents=True, exist_ok=True)
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
    with open(lock_dir / f"{safe}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def locks_folder(course_root: Path) -> Path:
    """Where SQLite gradebooks' locks live: the course's git-ignored working folder."""
    return Path(course_root) / Course.WORK / "locks"
