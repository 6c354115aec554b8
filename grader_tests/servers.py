"""Real servers on loopback, in temporary folders, for the tests and benchmarks
of grading at scale: a PostgreSQL server (initdb, pg_ctl) and a Dask cluster
(`dask scheduler` and `dask worker` processes, exactly as a TA starts them).

Everything started here is bounded in time (each wait has a deadline) and
stopped on exit, also when the test fails; nothing listens beyond 127.0.0.1.
"""
from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(predicate, seconds: float, what: str, log: Path | None = None) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    tail = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
    raise RuntimeError(f"{what} did not come up in {seconds:g} s\n{tail}")


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def pg_tool(name: str) -> str:
    """A PostgreSQL server program: on PATH, else where Debian's packages put it."""
    found = shutil.which(name) or next(iter(sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
                                                   key=lambda p: int(p.parts[-3]), reverse=True)), None)
    if found is None:
        raise RuntimeError(f"{name} not found: install PostgreSQL's server (apt-get install postgresql)")
    return str(found)


class _Server:
    """`with X() as x:` starts it and stops it again, also when starting failed half-way."""

    def start(self):
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc) -> None:
        self.stop()


class Postgres(_Server):
    """A throwaway PostgreSQL server: `with Postgres() as pg: pg.url('grades')`."""

    def __init__(self):
        self.port = free_port()
        self.tmp = Path(tempfile.mkdtemp(prefix="cnnlab-pg-"))
        self.data = self.tmp / "data"
        self.log = self.tmp / "server.log"
        # initdb refuses to run as root: the server runs as the `postgres` account when there is one
        self.user = None
        if os.geteuid() == 0:
            try:
                self.user = pwd.getpwnam("postgres")
            except KeyError:
                self.user = pwd.getpwnam("nobody")

    def _run(self, argv: list[str], **kw) -> subprocess.CompletedProcess:
        argv = [pg_tool(argv[0]), *argv[1:]]
        if self.user is not None:
            argv = ["setpriv", f"--reuid={self.user.pw_uid}", f"--regid={self.user.pw_gid}", "--clear-groups", *argv]
        return subprocess.run(argv, capture_output=True, text=True, timeout=120, **kw)

    def start(self) -> "Postgres":
        if self.user is not None:
            os.chown(self.tmp, self.user.pw_uid, self.user.pw_gid)
        done = self._run(["initdb", "-D", str(self.data), "-U", "cnnlab", "-A", "trust", "--no-sync",
                          "-E", "UTF8", "--locale=C"])
        if done.returncode:
            raise RuntimeError(f"initdb failed: {done.stderr.strip()[-500:]}")
        opts = f"-h 127.0.0.1 -p {self.port} -k {self.tmp} -c fsync=off -c max_connections=200"
        done = self._run(["pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", opts, "-w", "-t", "60", "start"])
        if done.returncode:
            raise RuntimeError(f"pg_ctl start failed: {done.stderr.strip()[-500:]}\n{self._log_tail()}")
        return self

    def _log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-1500:] if self.log.exists() else ""

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://cnnlab@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        import sqlalchemy

        engine = sqlalchemy.create_engine(self.url(), isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        return self.url(name)

    def stop(self) -> None:
        if self.data.exists():
            self._run(["pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "-t", "30", "stop"])
        shutil.rmtree(self.tmp, ignore_errors=True)


class DaskCluster(_Server):
    """`dask scheduler` and `dask worker` processes on loopback.

    Workers run without a nanny, so a SIGKILL ends a worker for good (as a
    machine lost mid-run) instead of being restarted in place."""

    def __init__(self, workers: int = 2, threads: int = 1):
        self.tmp = Path(tempfile.mkdtemp(prefix="cnnlab-dask-"))
        self.port = free_port()
        self.address = f"tcp://127.0.0.1:{self.port}"
        self.n_workers, self.threads = workers, threads
        self.scheduler: subprocess.Popen | None = None
        self.workers: dict[str, subprocess.Popen] = {}
        # one task at a time per worker thread (no task waits on a worker that may die)
        self.env = {**os.environ, "DASK_DISTRIBUTED__SCHEDULER__WORKER_SATURATION": "1.0"}

    def _spawn(self, name: str, argv: list[str], env: dict | None = None) -> subprocess.Popen:
        with open(self.tmp / f"{name}.log", "wb") as log:
            return subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd=self.tmp, start_new_session=True,
                                    env={**(env or self.env), "TMPDIR": str(self.tmp / name / "jobs")})

    def start(self) -> "DaskCluster":
        self.scheduler = self._spawn("scheduler", [str(BIN / "dask"), "scheduler", "--host", "127.0.0.1",
                                                   "--port", str(self.port), "--dashboard-address", ":0",
                                                   "--no-show"])
        _wait(lambda: _port_open(self.port), 60, "the Dask scheduler", self.tmp / "scheduler.log")
        for i in range(self.n_workers):
            self.add_worker(f"w{i + 1}")
        self.wait_for_workers(self.n_workers)
        return self

    def add_worker(self, name: str, env: dict | None = None) -> subprocess.Popen:
        """A worker whose sandboxes' job folders are under tmp/<name>/jobs (TMPDIR); `env`: its
        environment instead of the cluster's."""
        (self.tmp / name / "jobs").mkdir(parents=True, exist_ok=True)
        self.workers[name] = self._spawn(name, [str(BIN / "dask"), "worker", self.address, "--name", name,
                                                "--nthreads", str(self.threads), "--no-nanny",
                                                "--host", "127.0.0.1", "--dashboard-address", ":0",
                                                "--local-directory", str(self.tmp / name)], env)
        return self.workers[name]

    def worker_names(self) -> list[str]:
        from distributed import Client

        with Client(self.address, timeout=30) as client:
            return sorted(w["name"] for w in client.scheduler_info()["workers"].values())

    def wait_for_workers(self, n: int, seconds: float = 90) -> None:
        _wait(lambda: len(self.worker_names()) >= n, seconds, f"{n} Dask worker(s)", self.tmp / "w1.log")

    def kill_worker(self, name: str) -> None:
        """SIGKILL the worker process alone, as the OOM killer or a lost machine would."""
        os.kill(self.workers[name].pid, signal.SIGKILL)
        self.workers[name].wait(timeout=30)

    def kill_scheduler(self) -> None:
        os.kill(self.scheduler.pid, signal.SIGKILL)
        self.scheduler.wait(timeout=30)

    def stop(self) -> None:
        for proc in [*self.workers.values(), *([self.scheduler] if self.scheduler else [])]:
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                    proc.wait(timeout=15)
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    try:
                        os.killpg(proc.pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                    proc.wait(timeout=15)
        shutil.rmtree(self.tmp, ignore_errors=True)
