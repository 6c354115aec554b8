"""When a class outgrows one machine: the notebooks run on a Dask cluster, the
gradebook lives in PostgreSQL. Real servers on loopback (servers.py): a
PostgreSQL server made with initdb/pg_ctl and a `dask scheduler` with two
`dask worker` processes.

Every run here is compared with a local run of the same class on the embedded
defaults (SQLite, local workers): the grades must be identical.
"""
from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from cnnlab.nbtools import fill_answers, instructor_answers
from cnnlab.simulate import load_catalogue

from conftest import cnnlab_cmd, copy_course, run_env
from servers import DaskCluster, Postgres, free_port

pytestmark = pytest.mark.xdist_group("scale")

A, NB = "04_dimensions", "dimensions"
SLOW = "slowpoke"  # sleeps in an ungraded cell: a window to kill the worker running it
LATECOMER = "nobwrap-latecomer"  # joins mid-run and cannot sandbox


def _write_class(course, root: Path, slow: bool = True) -> None:
    """Four students: right, blank, right but slow (unless not `slow`), a catalogued mistake."""
    release = nbformat.read(root / "release" / A / f"{NB}.ipynb", as_version=4)
    answers = instructor_answers(course.read_source(A, NB))
    mistakes = load_catalogue(A)[0]
    slow_one = fill_answers(release, answers)
    slow_one.cells.insert(1, nbformat.v4.new_code_cell("import time\ntime.sleep(8)"))
    students = {"ada": fill_answers(release, answers), "blank": release, SLOW: slow_one,
                **{f"m{i}": fill_answers(release, {**answers, mistakes[i].cell_id: mistakes[i].code})
                   for i in (0,)}}
    if not slow:
        del students[SLOW]
    for sid, nb in students.items():
        folder = root / "submitted" / sid / A
        folder.mkdir(parents=True)
        nbformat.write(nb, str(folder / f"{NB}.ipynb"))


def _grades(db_url: str) -> dict:
    with Gradebook(db_url, "learn-cnns") as gb:
        return {s.student.id: {g.name: float(g.score) for nb in s.notebooks for g in nb.grades}
                for s in gb.find_assignment(A).submissions}


def _cnnlab(root: Path, *args: str, timeout: int = 300, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(cnnlab_cmd("--course", str(root), *args), capture_output=True, text=True,
                          timeout=timeout, env=env or run_env())


def _log(root: Path) -> list[dict]:
    path = root / ".cnnlab" / "logs" / f"autograde-{A}.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _graded_lines(root: Path) -> list[str]:
    return [r["student"] for r in _log(root) if r.get("status") in ("graded", "broken")]


def _new_class(course, root: Path, slow: bool = True):
    copy = copy_course(course, root)
    _write_class(course, root, slow)
    return copy


@pytest.fixture(scope="module")
def pg():
    with Postgres() as server:
        yield server


@pytest.fixture(scope="module")
def cluster():
    with DaskCluster(workers=2) as c:
        yield c


@pytest.fixture(scope="module")
def local_grades(course, tmp_path_factory):
    """The same class on the embedded defaults: SQLite, local workers."""
    root = tmp_path_factory.mktemp("local") / "course"
    _new_class(course, root)
    done = _cnnlab(root, "autograde", A, "--json")
    assert done.returncode == 0, done.stderr[-2000:]
    return _grades(f"sqlite:///{root / 'gradebook.db'}")


def _sandboxes_in(folder: Path) -> list[int]:
    """Processes whose working folder is under `folder` (a worker's sandboxed kernels)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if os.readlink(f"/proc/{pid}/cwd").startswith(str(folder)):
                found.append(int(pid))
        except OSError:
            pass
    return found


def _two_runs_at_once(course, tmp_path, scheduler: str = "") -> list:
    """Two autograde() calls at once in this process, on two course folders."""
    from concurrent.futures import ThreadPoolExecutor

    from cnnlab.grading.pipeline import autograde

    copies = [_new_class(course, tmp_path / f"course{i}", slow=False) for i in (0, 1)]  # no window needed
    with ThreadPoolExecutor(2) as pool:
        runs = [pool.submit(autograde, c, A, workers=2, progress=False, scheduler=scheduler) for c in copies]
        summaries = [r.result(timeout=600) for r in runs]
    return [(s, _grades(f"sqlite:///{c.root / 'gradebook.db'}")) for s, c in zip(summaries, copies)]


def test_two_runs_in_one_process_on_one_scheduler_grade_as_two_processes(course, cluster, local_grades, tmp_path):
    """Two autograde() calls at once, two course folders, one scheduler: each run has its own
    client, lock, answer keys and findings (run.py). One run ending once closed the Dask
    client the other was still using."""
    for summary, grades in _two_runs_at_once(course, tmp_path, scheduler=cluster.address):
        assert summary.scheduler == cluster.address and summary.counts()["graded"] == len(local_grades) - 1, \
            summary.counts()
        assert not summary.failed and grades == {s: g for s, g in local_grades.items() if s != SLOW}
        flags = {r.student: r.flags for r in summary.results}
        assert flags["ada"] == [] and flags["blank"] == [], flags


def test_a_cluster_grades_like_a_local_run_when_a_worker_is_killed(course, pg, cluster, local_grades, tmp_path):
    from distributed import Client

    root = tmp_path / "course"
    _new_class(course, root)
    db = pg.create_database("killed_worker")
    fresh_cache = {**run_env(), "CNNLAB_CACHE": str(tmp_path / "cache")}  # the canary runs on a worker
    proc = subprocess.Popen(cnnlab_cmd("--course", str(root), "autograde", A, "--json", "--db", db,
                                       "--scheduler", cluster.address),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=fresh_cache)
    # a worker joins mid-run that cannot sandbox: the run checks it, refuses it and names it (that a
    # refused worker is sent no job even when idle is shown by the admission test below). It is
    # started once the first job runs (one there at the start stops the run: test_a_worker_that_
    # cannot_sandbox_is_refused) and joins while the slow submission, killed and retried, is graded:
    # waiting for it before the kill spent the slow one's 8 s window on a busy machine
    latecomer_env = {**cluster.env, "PATH": cluster.env["PATH"].split(os.pathsep)[0]}
    killed = None
    try:
        with Client(cluster.address, timeout=30) as client:
            deadline = time.monotonic() + 180
            while killed is None and time.monotonic() < deadline and proc.poll() is None:
                if LATECOMER not in cluster.workers and any(client.processing().values()):
                    cluster.add_worker(LATECOMER, env=latecomer_env)
                # executing, not the scheduler's `processing`: a job sent to a worker may wait there
                # behind another (and be stolen by the other worker); the sandbox seen then was the
                # other job's, gone a second later (CI of 4f8553b: 'the killed worker had no sandbox')
                for name, keys in _executing(client).items():
                    if any(SLOW in k for k in keys):
                        killed = name
                time.sleep(0.1)
        assert killed, "the slow submission was never seen running on a worker" + (
            f": the run ended ({proc.returncode}): {proc.communicate()[1][-1500:]}" if proc.poll() is not None else "")
        job_root = cluster.tmp / killed / "jobs"
        deadline = time.monotonic() + 20
        while not _sandboxes_in(job_root) and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1)  # well inside its 8 s sleep
        assert _sandboxes_in(job_root), "the killed worker had no sandbox running"
        cluster.kill_worker(killed)
        _wait_for_worker(cluster, LATECOMER)
        assert proc.poll() is None, "the run ended before the latecomer joined it"
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-2000:]
        summary = json.loads(out)
        # one canary on a worker first: both workers share this host, interpreter and package
        assert summary["scheduler"] == cluster.address and summary["canaries"] == 1
        assert killed not in cluster.worker_names()
        with Client(cluster.address, timeout=30) as client:
            assert _executed(client)[LATECOMER] == 0, "a worker that was not checked ran a job"
        refused = summary["workers_refused"]
        assert len(refused) == 1 and "bubblewrap" in next(iter(refused.values())), refused
        # retried on the other worker: every submission graded once, grades as a local run's
        assert sorted(_graded_lines(root)) == sorted(local_grades)
        assert _grades(db) == local_grades
        assert {r["student"]: r["status"] for r in summary["results"]} == {s: "graded" for s in local_grades}
        # the killed worker's sandbox died with it (bwrap --die-with-parent), nothing left running
        deadline = time.monotonic() + 10
        while _sandboxes_in(job_root) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _sandboxes_in(job_root)
        for sid in local_grades:
            assert (root / "autograded" / sid / A / f"{NB}.ipynb").is_file()

        # the same gradebook, read by export and report
        csv_path = tmp_path / "grades.csv"
        done = _cnnlab(root, "export", "--db", db, "--to", str(csv_path))
        assert done.returncode == 0, done.stderr
        rows = csv_path.read_text().splitlines()
        assert len(rows) == 1 + len(local_grades)
        report = _cnnlab(root, "report", A, "--db", db, "--json")
        assert report.returncode == 0, report.stderr
        totals = json.loads(report.stdout)["totals"]
        assert totals == {s: sum(g.values()) for s, g in local_grades.items()}
    finally:  # the next tests have two good workers again, whatever happened here
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        if LATECOMER in cluster.workers and cluster.workers[LATECOMER].poll() is None:
            cluster.kill_worker(LATECOMER)
        if killed and cluster.workers[killed].poll() is not None:
            cluster.add_worker(killed)
        cluster.wait_for_workers(2)


def _wait_for_worker(cluster, name: str, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while name not in cluster.worker_names():
        assert time.monotonic() < deadline, f"the Dask worker {name} did not join"
        time.sleep(0.1)


def _executing(client) -> dict[str, list[str]]:
    """{worker name: keys of the tasks it is running now} (a worker that is joining or dying is left out)."""
    def running(dask_worker):
        return dask_worker.name, [str(ts.key) for ts in dask_worker.state.executing]

    return dict(r for r in client.run(running, on_error="return").values() if isinstance(r, tuple))


def _wait_until_idle(client, seconds: float = 60) -> None:
    """Until no worker runs a task: a job of an earlier test, abandoned by its killed run, still
    finishes and would count as one of the next test's."""
    deadline = time.monotonic() + seconds
    while any(_executing(client).values()) or any(client.processing().values()):
        assert time.monotonic() < deadline, f"the cluster was still busy after {seconds:g} s: {_executing(client)}"
        time.sleep(0.2)


def _executed(client) -> dict[str, int]:
    """{worker name: tasks it ran} (client.run calls, such as the vetting, are not tasks)."""
    names = {addr: w["name"] for addr, w in client.scheduler_info()["workers"].items()}
    return {names[a]: n for a, n in client.run(lambda dask_worker: dask_worker.state.executed_count).items()}


def test_jobs_go_only_to_admitted_workers_and_a_newcomer_is_vetted_before_its_first_job(cluster):
    from concurrent.futures import ThreadPoolExecutor

    from cnnlab.grading.workers import DaskRunner, encode_job

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import time; time.sleep(0.3)")])
    steps = [{"kind": "cell", "cell": 0, "source": nb.cells[0].source, "grade_id": None}]
    job = encode_job(nbformat.writes(nb), {}, {"timeout": 30, "max_cell_output": 4096, "sandbox": False}, steps)
    runner = DaskRunner(cluster.address)
    try:
        workers = runner.client.scheduler_info()["workers"]
        first, second = sorted(workers, key=lambda a: workers[a]["name"])
        vetted = []
        # as if `first` had passed the canary and `second` joined later and failed it
        runner.admit([first], lambda addr: vetted.append(addr) or "it cannot sandbox: no bubblewrap")
        _wait_until_idle(runner.client)
        before = _executed(runner.client)
        with ThreadPoolExecutor(4) as pool:  # four at once: two idle workers, and one may take them
            results = list(pool.map(lambda i: runner.execute(job, f"admitted{i}"), range(4)))
        after = _executed(runner.client)
        assert all(r["status"] == "ok" for r in results)
        assert vetted == [second]  # vetted once, before any job was sent
        assert runner.refused() == {second: "it cannot sandbox: no bubblewrap"}
        name = {a: w["name"] for a, w in workers.items()}
        assert after[name[second]] == before[name[second]], "a refused worker was sent a job"
        assert after[name[first]] == before[name[first]] + 4
    finally:
        runner.close()


def test_the_autograde_lines_name_a_worker_given_no_work_and_why():
    from cnnlab.cli import summary_lines
    from cnnlab.grading.pipeline import AutogradeSummary, SubmissionResult

    summary = AutogradeSummary(A, scheduler="tcp://10.0.0.1:8786", results=[SubmissionResult("ada", "graded")],
                               workers_refused={"tcp://10.0.0.9:4000": "it cannot sandbox: no bubblewrap"})
    first, look = summary_lines(summary)
    assert "1 graded" in first and "on tcp://10.0.0.1:8786" in first
    assert look == "  to look at: 1 Dask worker(s) given no work (tcp://10.0.0.9:4000: it cannot sandbox: no bubblewrap)"
    summary.workers_refused = {}
    assert summary_lines(summary)[1] == "  to look at: nothing flagged"


def test_the_scheduler_going_away_stops_the_run_and_a_rerun_resumes(course, pg, cluster, local_grades, tmp_path):
    root = tmp_path / "course"
    _new_class(course, root)
    db = pg.create_database("scheduler_gone")
    doomed = DaskCluster(workers=1).start()
    try:
        proc = subprocess.Popen(cnnlab_cmd("--course", str(root), "autograde", A, "--db", db,
                                           "--scheduler", doomed.address, "--workers", "1"),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=run_env())
        deadline = time.monotonic() + 180
        while len(_graded_lines(root)) < 2 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)
        doomed.kill_scheduler()
        out, err = proc.communicate(timeout=120)
    finally:
        doomed.stop()
    lines = [ln for ln in err.splitlines() if ln.startswith("cnnlab")]
    assert proc.returncode == 2, err[-2000:]
    assert "Traceback" not in err
    assert len(lines) == 1 and "went away" in lines[0] and "run the same command again" in lines[0], err[-1500:]
    before = _graded_lines(root)
    assert 2 <= len(before) < len(local_grades)
    assert _log(root)[-1]["event"] == "run" and "went away" in _log(root)[-1]["stopped"]

    # the rerun, on another cluster, grades only what was left
    done = _cnnlab(root, "autograde", A, "--json", "--db", db, "--scheduler", cluster.address)
    assert done.returncode == 0, done.stderr[-2000:]
    statuses = {r["student"]: r["status"] for r in json.loads(done.stdout)["results"]}
    assert sorted(s for s, st in statuses.items() if st == "skipped") == sorted(before)
    assert sorted(_graded_lines(root)) == sorted(local_grades)  # each exactly once over both runs
    assert _grades(db) == local_grades


def test_two_tas_grading_one_class_at_once_share_the_postgres_gradebook(course, pg, cluster, local_grades, tmp_path):
    root = tmp_path / "course"
    _new_class(course, root)
    db = pg.create_database("two_tas")
    cmd = cnnlab_cmd("--course", str(root), "autograde", A, "--json", "--db", db)
    tas = [subprocess.Popen(cmd + extra, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=run_env())
           for extra in (["--scheduler", cluster.address], ["--workers", "1"])]
    exports = []

    def export_meanwhile():  # a third TA exports grades while the other two grade
        while any(ta.poll() is None for ta in tas):
            exports.append(_cnnlab(root, "export", "--db", db, "--to", str(tmp_path / "meanwhile.csv")))
            time.sleep(0.5)
    reader = threading.Thread(target=export_meanwhile)
    reader.start()
    outs = [ta.communicate(timeout=300) for ta in tas]
    reader.join()
    for ta, (out, err) in zip(tas, outs):
        assert ta.returncode == 0, err[-2000:]
    graded = [r["student"] for out, _ in outs for r in json.loads(out)["results"] if r["status"] == "graded"]
    assert sorted(graded) == sorted(local_grades)  # each submission graded by exactly one of them
    assert sum(json.loads(out)["registered"] for out, _ in outs) == 1  # registered once
    assert _grades(db) == local_grades
    assert exports and all(e.returncode == 0 for e in exports), [e.stderr for e in exports if e.returncode]


def test_unreachable_servers_are_one_line(course, tmp_path):
    root = tmp_path / "course"
    _new_class(course, root)
    closed = free_port()
    env = {**run_env(), "DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "3s"}
    for args, says in [(["autograde", A, "--db", f"postgresql://cnnlab@127.0.0.1:{closed}/x"], "cannot use the gradebook"),
                       (["export", "--db", f"postgresql://ta:secret@127.0.0.1:{closed}/x"], "gradebook"),
                       (["autograde", A, "--scheduler", f"tcp://127.0.0.1:{closed}"], "cannot reach the Dask scheduler")]:
        done = _cnnlab(root, *args, env=env, timeout=120)
        assert done.returncode == 2, done.stderr
        assert done.stderr.count("\n") == 1 and says in done.stderr, done.stderr
        assert "Traceback" not in done.stderr and "secret" not in done.stderr
    assert not (root / "autograded").exists()


def test_a_worker_that_cannot_sandbox_is_refused(course, tmp_path):
    root = tmp_path / "course"
    _new_class(course, root)
    with DaskCluster(workers=1) as bare:
        # a worker whose PATH has no bubblewrap: it must not run student code unsandboxed
        bare.env["PATH"] = str(Path(bare.env["PATH"].split(os.pathsep)[0]))
        bare.add_worker("nobwrap")
        bare.wait_for_workers(2)
        done = _cnnlab(root, "autograde", A, "--scheduler", bare.address)
    assert done.returncode == 2
    assert "cannot grade" in done.stderr and "bubblewrap" in done.stderr, done.stderr
    assert not (root / "autograded").exists()


def test_commands_starting_together_on_an_empty_postgres_gradebook_all_work(course, pg, tmp_path):
    """nbgrader makes its tables on every open when they are missing; five commands at
    once on an empty database once made two CREATE TABLEs race (a unique violation)."""
    root = tmp_path / "course"
    _new_class(course, root)
    db = pg.create_database("empty_start")
    procs = [subprocess.Popen(cnnlab_cmd("--course", str(root), "export", "--db", db, "--to", str(tmp_path / f"{i}.csv")),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=run_env())
             for i in range(5)]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
