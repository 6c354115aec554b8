"""Set the hub up for the course and run it until Ctrl-C."""
from __future__ import annotations

import csv
import io
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from ..course import Course
from .accounts import Account, HubError, ensure_accounts, read_roster, remove_accounts
from ..grading.sandbox import package_dir
from .config import (SERVER_CONFIG, SUBMIT_MODULE, HubSettings, hub_config, page_config, shared_nbgrader_config,
                     ta_nbgrader_config)
from .spawner import run_as
from .layout import Layout, give_to, prepare_exchange, prepare_folders, ta_course, write_private

#: configurable-http-proxy, as `make hub` installs it from npm (pinned there)
PROXY_IN_VENV = Path(sys.prefix) / "proxy" / "node_modules" / ".bin" / "configurable-http-proxy"


@dataclass(frozen=True)
class Deployment:
    layout: Layout
    settings: HubSettings
    accounts: list[Account]
    ta_course: Path
    copied: bool

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.settings.port}/hub/login"


def find_proxy() -> str:
    found = os.environ.get("CNNLAB_PROXY") or (str(PROXY_IN_VENV) if PROXY_IN_VENV.exists() else None) \
        or shutil.which("configurable-http-proxy")
    if not found:
        raise HubError("configurable-http-proxy is missing: `make hub` installs it from npm")
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def roster_of(course: Course, roster_file: Path | None) -> dict[str, dict[str, str]]:
    """The students ({id: names and email}): the roster file's, else the gradebook's."""
    if roster_file is not None:
        students = read_roster(roster_file)
    else:
        from nbgrader.api import Gradebook

        with Gradebook(course.nbgrader_config().CourseDirectory.db_url) as gb:
            students = {s.id: {k: v for k in ("first_name", "last_name", "email") if (v := getattr(s, k))}
                        for s in gb.students}
    if not students:
        raise HubError("no students: give --roster FILE (nbgrader's student CSV) or import a roster first")
    return students


def deploy(course: Course, home: Path, ta: str, roster: dict[str, dict[str, str]], port: int) -> Deployment:
    """Accounts, folders, the TA's course copy and the config files; nothing is started."""
    students = list(roster)
    if ta in students:
        raise HubError(f"{ta} is both the TA and a student")
    course_id = course.nbgrader_config().CourseDirectory.course_id
    layout = Layout(home.resolve(), course_id)
    prepare_folders(layout)
    accounts = ensure_accounts([ta, *students], layout.accounts_record)
    ta_account = accounts[0]
    prepare_exchange(layout, ta_account)
    course_dir, copied = ta_course(course.root, ta_account, course_id)
    _add_students(course_dir, roster)
    give_to(course_dir, ta_account)
    settings = HubSettings(port=port, hub_port=_free_port(), proxy_api_port=_free_port(), proxy=find_proxy(),
                           ta=ta, students=tuple(students), ta_course=course_dir)
    (layout.jupyter / "nbgrader_config.py").write_text(shared_nbgrader_config(layout))
    (layout.jupyter / "jupyter_server_config.json").write_text(SERVER_CONFIG)
    shutil.copyfile(Path(__file__).with_name("student_submit.py"), layout.python / f"{SUBMIT_MODULE}.py")
    (layout.jupyter_ta / "nbgrader_config.py").write_text(ta_nbgrader_config())
    for folder, staff in ((layout.jupyter, False), (layout.jupyter_ta, True)):
        (folder / "labconfig").mkdir(exist_ok=True)
        (folder / "labconfig" / "page_config.json").write_text(page_config(staff))
    write_private(layout.hub_config, hub_config(layout, settings))
    write_private(layout.logins, _logins_csv(accounts))
    return Deployment(layout, settings, accounts, course_dir, copied)


def _add_students(course_dir: Path, roster: dict[str, dict[str, str]]) -> None:
    """The roster in the TA's gradebook, so formgrader lists everyone before anyone submits."""
    from nbgrader.api import Gradebook

    from ..course import load_course

    # nbgrader makes a new gradebook by running `alembic` from PATH: the venv's
    os.environ["PATH"] = f"{Path(sys.prefix) / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"
    with Gradebook(load_course(course_dir).nbgrader_config().CourseDirectory.db_url) as gb:
        for student, details in roster.items():
            gb.update_or_create_student(student, **details)


def _logins_csv(accounts: list[Account]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["user", "password"])
    for a in accounts:
        writer.writerow([a.name, a.password or "(the account's own)"])
    return out.getvalue()


def start(d: Deployment, log) -> subprocess.Popen:
    """JupyterHub (which starts the proxy), answering on d.url; raises HubError if it does not."""
    env = {**os.environ, "PATH": f"{Path(sys.prefix) / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"}
    proc = subprocess.Popen([str(Path(sys.prefix) / "bin" / "jupyterhub"), "-f", str(d.layout.hub_config)],
                            cwd=d.layout.private, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise HubError(f"JupyterHub stopped at start (exit {proc.returncode}); see {log.name}")
        try:
            with urllib.request.urlopen(d.url, timeout=2) as r:
                if r.status == 200:
                    return proc
        except OSError:
            pass
        time.sleep(0.3)
    stop(proc)
    raise HubError(f"JupyterHub did not answer on {d.url} within 60 s; see {log.name}")


def stop(proc: subprocess.Popen, timeout: float = 30) -> None:
    """SIGTERM: JupyterHub stops every server and the proxy it started; then whatever is left."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def in_view(layout: Layout, user: str, argv: list[str], staff: bool = False, cwd: Path | None = None,
            **kwargs) -> subprocess.CompletedProcess:
    """`argv` as `user`, seeing what her server sees (the spawner's view): the TA's nbgrader
    commands, run by root's scripts, and the tests' attacks as a student."""
    config_path = ([layout.jupyter_ta] if staff else []) + [layout.jupyter]
    readable = config_path + ([package_dir()] if staff else [])
    return run_as(user, argv, [layout.exchange], readable, cwd=cwd,
                  env={"JUPYTER_CONFIG_PATH": os.pathsep.join(map(str, config_path)), "PYTHONPATH": str(layout.python)},
                  **kwargs)


def remove(home: Path) -> list[str]:
    """Undo `deploy`'s accounts (homes included); the hub folder itself is left for the TA to delete."""
    return remove_accounts(Layout(home.resolve(), "").accounts_record)
