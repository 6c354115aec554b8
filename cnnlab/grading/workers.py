"""Where the sandboxed execute step runs: in this process, or on a Dask cluster.

Everything trusted (intake, nbgrader's sanitize, verify, score, every gradebook
write, publishing autograded/) stays with the coordinator, the `cnnlab
autograde` process. Only `kernel.execute_notebook` travels, and it travels as
plain data both ways: a JSON string in (the sanitized notebook, the course files
it reads, the plan) and a JSON string out (outputs and probe reports). A worker
needs the `cnnlab` package and bubblewrap, nothing of the course folder; the
coordinator never unpickles anything a worker or a student made.

`LocalRunner` calls the same function in the calling thread, so a class graded
on a cluster gets exactly the grades of a local run. Each grading run gets a
runner of its own (`connect`), so two runs on one scheduler never share or
close each other's client.

Faults on a cluster:
- a worker dies mid-run (SIGKILL, OOM, a lost machine): the scheduler runs its
  submissions again on another worker (execution has no side effect the
  coordinator keeps, so running again is safe); a submission that takes down
  `distributed.scheduler.allowed-failures` + 1 workers is "not graded" alone;
- the scheduler goes away, or no worker is left for `idle_timeout` seconds:
  `ClusterLost`; the run stops, what was scored is kept, and a rerun resumes.

Admission: once `admit` is called (the canary does, after checking the workers
there were), a job goes only to admitted workers. A worker that joins mid-run
is vetted (the canary's `vet`: it can sandbox, and the instructor's answers get
full marks there) before it takes any job; one that fails is never sent a job
and `admissions` says why, for the run's summary.
"""
from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from concurrent.futures import CancelledError
from concurrent.futures import TimeoutError as FutureTimeout

from .pool import KernelPool


class ClusterLost(RuntimeError):
    """The Dask cluster can no longer grade: said in one line, and the run stops."""


class WorkersDiedError(RuntimeError):
    """The workers running one submission kept dying: that submission is not graded."""


def encode_job(nb_json: str, files: dict[str, bytes], settings: dict, steps: list[dict]) -> str:
    return json.dumps({"notebook": nb_json, "settings": settings, "steps": steps,
                       "files": {name: base64.b64encode(data).decode() for name, data in files.items()}})


def run_job(job: str, pool=None) -> str:
    """The execute step on a worker: JSON in, JSON out (`pool`: kernels started ahead, pool.py)."""
    from .kernel import execute_notebook  # nbgrader's Execute: imported by the first job, not by the runner

    data = json.loads(job)
    files = {name: base64.b64decode(text) for name, text in data["files"].items()}
    return json.dumps(execute_notebook(data["notebook"], files, data["settings"], data["steps"], pool))


def decode_result(text) -> dict:
    """What came back, checked for the shape execute_notebook returns."""
    result = json.loads(text) if isinstance(text, str) else None
    if (not isinstance(result, dict) or not isinstance(result.get("notebook"), str)
            or not isinstance(result.get("probes"), dict) or not isinstance(result.get("status"), str)):
        raise ValueError("a worker sent back something that is not an execute result")
    return result


def worker_check() -> str:
    """Run on every worker before grading: '' when it can sandbox, else why not."""
    from .sandbox import SandboxUnavailable, check_available

    try:
        check_available()
    except SandboxUnavailable as exc:
        return str(exc)
    except Exception as exc:  # noqa: BLE001 - anything that stops this worker from grading
        return f"{type(exc).__name__}: {exc}"
    return ""


class LocalRunner:
    """The execute step in the calling thread (one of the coordinator's pool), with sandboxed
    kernels started ahead of need (pool.py): `pool_size` of them (0: each run starts its own)."""

    address = ""

    def __init__(self, pool_size: int = 2):
        self.pool_size = pool_size
        self._pool = None
        self._lock = threading.Lock()

    def _kernels(self):
        if self.pool_size < 1:
            return None
        with self._lock:  # starts no kernel until a sandboxed job takes one (kernel.execute_notebook)
            if self._pool is None:
                self._pool = KernelPool(self.pool_size)
            return self._pool

    def expect(self, runs: int) -> None:
        """`runs` sandboxed notebook runs are coming: their kernels start now, and no more."""
        pool = self._kernels()
        if pool is not None:
            pool.expect(runs)

    def forgo(self, runs: int) -> None:
        """`runs` of the expected runs will not come: no kernel starts for them."""
        pool = self._kernels()
        if pool is not None:
            pool.forgo(runs)

    def start_ahead(self, runs: int) -> None:
        """Up to `runs` sandboxed kernels start now, before the run knows how many it takes
        (KernelPool.start_ahead); `expect` then counts them."""
        pool = self._kernels()
        if pool is not None:
            pool.start_ahead(runs)

    def execute(self, job: str, label: str) -> dict:
        return decode_result(run_job(job, self._kernels()))

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.close()


class DaskRunner:
    """The execute step on a Dask distributed cluster (`dask scheduler`, `dask worker`)."""

    def __init__(self, address: str, idle_timeout: float = 120):
        import logging

        from distributed import Client

        # what went wrong is said once, by the CLI, not by the client's reconnect tracebacks
        # (dask's logging config gives its loggers levels of their own, so each is quieted)
        for name in [n for n in logging.root.manager.loggerDict if n.split(".")[0] == "distributed"]:
            logging.getLogger(name).setLevel(logging.CRITICAL)
        self.address = address
        self.idle_timeout = idle_timeout
        self.lost = ""  # why the cluster cannot grade any more ('' while it can)
        self._seen: tuple[float, frozenset] = (0.0, frozenset())  # (when, worker addresses): one question per 2 s
        self._seen_lock = threading.Lock()
        self.vet = None  # addr -> '' (may grade) or why not; None: any worker may take jobs
        self.admissions: dict[str, str] = {}  # addr -> '' admitted, or why it was refused
        self._vet_lock = threading.Lock()  # one worker vetted at a time; the others wait for its verdict
        try:
            # connect timeout: dask's own setting, distributed.comm.timeouts.connect
            self.client = Client(address, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise ClusterLost(f"cannot reach the Dask scheduler at {address}: {_first_line(exc)}") from None

    def _workers(self) -> dict:
        try:
            return self.client.scheduler_info(n_workers=-1)["workers"]
        except Exception:
            return {}

    def _connected(self) -> frozenset:
        """The connected workers' addresses, asked of the scheduler at most every 2 s
        however many submissions are waiting."""
        with self._seen_lock:
            when, answer = self._seen
            if time.monotonic() - when > 2:
                answer = frozenset(self._workers())
                self._seen = (time.monotonic(), answer)
            return answer

    def admit(self, workers, vet) -> None:
        """From now on jobs go only to `workers` and to those that pass `vet(addr)` when they join."""
        with self._vet_lock:
            self.admissions.update({addr: "" for addr in workers})
            self.vet = vet

    def _admitted(self, wait: bool) -> frozenset | None:
        """Connected workers that may take jobs (None: no admission, any may), vetting those that
        joined since; `wait`: wait for a vetting under way rather than answer without the newcomer."""
        connected = self._connected()
        if self.vet is None:
            return None
        if any(addr not in self.admissions for addr in connected) and self._vet_lock.acquire(blocking=wait):
            try:
                for addr in sorted(connected):
                    if addr not in self.admissions:
                        self.admissions[addr] = self.vet(addr) or ""
            finally:
                self._vet_lock.release()
        return frozenset(addr for addr in connected if self.admissions.get(addr) == "")

    def refused(self) -> dict[str, str]:
        """{worker: why} for workers that joined and were not allowed to grade."""
        return {addr: why for addr, why in self.admissions.items() if why}

    def slots(self, require_sandbox: bool = True) -> int:
        """Threads across the cluster's workers, after checking each can sandbox."""
        deadline = time.monotonic() + self.idle_timeout
        while not self._workers():
            if time.monotonic() > deadline:
                raise ClusterLost(f"the Dask scheduler at {self.address} has no workers "
                                  f"(start some with `dask worker {self.address}`)")
            time.sleep(0.5)
        problems = {addr: why for addr, why in self.client.run(worker_check).items() if why and require_sandbox}
        if problems:
            addr, why = sorted(problems.items())[0]
            raise ClusterLost(f"{len(problems)} Dask worker(s) cannot grade, e.g. {addr}: {why}")
        return sum(w.get("nthreads", 1) for w in self._workers().values())

    def pinned(self, worker: str) -> "PinnedRunner":
        """This runner, sending every job to one worker (the canary checks each)."""
        return PinnedRunner(self, worker)

    def expect(self, runs: int) -> None:
        """Nothing to start ahead here: each Dask worker starts the kernels of its own jobs."""

    def forgo(self, runs: int) -> None:
        """Nothing was started ahead for them."""

    def execute(self, job: str, label: str, worker: str = "") -> dict:
        from distributed import KilledWorker

        if self.lost:
            raise ClusterLost(self.lost)

        def send(targets):
            where = {"workers": sorted(targets), "allow_other_workers": False} if targets else {}
            return self.client.submit(run_job, job, key=f"cnnlab-execute-{label}-{uuid.uuid4().hex[:8]}",
                                      pure=False, **where)

        if self.client.status not in ("running", "newly-created"):
            raise self._scheduler_gone()
        # pinned: that worker alone (the canary); else the admitted workers, vetting newcomers first
        targets = frozenset([worker]) if worker else self._admitted(wait=True)
        future = send(targets) if targets is None or targets else None
        idle_since = None
        while True:
            if future is None:
                time.sleep(1)  # no admitted worker yet: wait for one, as on an empty cluster
            else:
                try:
                    return decode_result(future.result(timeout=2))
                except FutureTimeout:
                    pass
                except KilledWorker:
                    raise WorkersDiedError("the Dask workers running this submission died again and again") from None
                except CancelledError:
                    raise self._scheduler_gone() from None
            # the client's state first: asking a scheduler that went away for its workers would hang
            if self.client.status not in ("running", "newly-created"):
                if future is not None:
                    future.cancel()
                raise self._scheduler_gone()
            if worker and worker not in self._connected() and worker not in self._workers():
                future.cancel()  # the one worker this job may run on left: as a lost cluster for the canary
                raise ClusterLost(f"the Dask worker {worker} left while it was being checked")
            if not worker and targets is not None:
                now = self._admitted(wait=False)
                if now and not (targets & now):  # every worker it may go to is gone (or none was): to those left
                    if future is not None:
                        future.cancel()
                    targets, future = now, send(now)
            if future is not None and (self._connected() if targets is None else targets & self._connected()):
                idle_since = None
            else:
                idle_since = idle_since or time.monotonic()
                if time.monotonic() - idle_since > self.idle_timeout:
                    self.lost = self.lost or (f"no Dask worker able to grade has been connected to {self.address} "
                                              f"for {self.idle_timeout:g} s")
                    if future is not None:
                        future.cancel()
                    raise ClusterLost(self.lost)

    def _scheduler_gone(self) -> ClusterLost:
        """The run's one reason once the scheduler is gone (kept: every later job says the same)."""
        self.lost = self.lost or f"the Dask scheduler at {self.address} went away"
        return ClusterLost(self.lost)

    def close(self) -> None:
        try:
            self.client.close(timeout=5)
        except Exception:
            pass


class PinnedRunner:
    """A DaskRunner's view that runs every job on one worker; closing it leaves the client open."""

    def __init__(self, runner: DaskRunner, worker: str):
        self.runner, self.worker, self.address = runner, worker, runner.address

    @property
    def lost(self) -> str:
        return self.runner.lost

    def expect(self, runs: int) -> None:
        pass

    def forgo(self, runs: int) -> None:
        pass

    def execute(self, job: str, label: str) -> dict:
        return self.runner.execute(job, label, worker=self.worker)

    def close(self) -> None:
        pass


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]


def connect(address: str = ""):
    """A runner for one grading run: this process ('') or the Dask scheduler at
    `address` (a client of its own, which the run closes at its end)."""
    return DaskRunner(address) if address else LocalRunner()
