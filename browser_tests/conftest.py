"""A real JupyterLab 4 server and Debian's Chromium, driven by Playwright.

The server runs on loopback with a token, in a temporary copy of the course
(config, course.yml, source/, release/): students open release/A/*.ipynb,
TAs open nbgrader's formgrader. Its settings and workspaces live in the
temporary folder too, so nothing of the machine's own Jupyter set-up counts.
Chromium is Debian's (/usr/bin/chromium; Playwright's own browser download is
not available here), started headless with the flags a closed network needs.
"""
from __future__ import annotations

import csv
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SHOTS = ROOT / "browser-screenshots"
CHROMIUM = os.environ.get("CNNLAB_CHROMIUM", "/usr/bin/chromium")

# JupyterLab user settings: every cell in the DOM (no windowing, so the page holds the whole
# notebook), no news or update checks (there is no network), no autosave racing our edits
SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                       "checkForUpdates": False},
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Lab:
    def __init__(self, root: Path, port: int, token: str, proc: subprocess.Popen, log: Path):
        self.root, self.port, self.token, self.proc, self.log = root, port, token, proc, log

    def url(self, path: str) -> str:
        sep = "&" if "?" in path else "?"
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}{sep}token={self.token}"


@pytest.fixture(scope="session")
def lab(tmp_path_factory):
    work = tmp_path_factory.mktemp("lab")
    course = work / "course"
    course.mkdir()
    for name in ("nbgrader_config.py", "course.yml"):
        shutil.copy2(ROOT / name, course / name)
    for folder in ("source", "release"):
        shutil.copytree(ROOT / folder, course / folder)
    with open(course / "nbgrader_config.py", "a") as f:  # the exchange (release/collect) in here too
        f.write(f"\nc.Exchange.root = {str(work / 'exchange')!r}\n")
    (work / "exchange").mkdir(mode=0o777)
    settings = work / "settings"
    for rel, value in SETTINGS.items():
        path = settings / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value))
    port, token = _free_port(), secrets.token_hex(16)
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
           "JUPYTERLAB_SETTINGS_DIR": str(settings), "JUPYTERLAB_WORKSPACES_DIR": str(work / "workspaces"),
           "JUPYTER_RUNTIME_DIR": str(work / "runtime"), "MPLBACKEND": "module://matplotlib_inline.backend_inline"}
    log = work / "lab.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen([str(BIN / "jupyter"), "lab", "--no-browser", "--allow-root",
                                 "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
                                 "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
                                 f"--ServerApp.root_dir={course}", "--LabApp.news_url=",
                                 "--ServerApp.open_browser=False"],
                                cwd=course, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    server = Lab(course, port, token, proc, log)
    deadline = time.monotonic() + 90
    while True:
        try:
            with urllib.request.urlopen(server.url("api/status"), timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            pytest.fail(f"JupyterLab did not start:\n{log.read_text(errors='replace')[-2000:]}")
        time.sleep(0.3)
    try:
        yield server
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test-browser` installs Debian's chromium")
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        item.failed_call = report.failed


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        yield page
    finally:
        if getattr(request.node, "failed_call", False):  # what the page showed when the test failed
            SHOTS.mkdir(exist_ok=True)
            name = re.sub(r"[^\w.-]+", "_", request.node.name)
            page.screenshot(path=str(SHOTS / f"FAILED-{name}.png"))
            print(f"\nscreenshot of the failure: {SHOTS / f'FAILED-{name}.png'}")
        context.close()


@pytest.fixture(autouse=True)
def no_kernel_left(request):
    """Each test's kernels are shut down after it, as a student closing the notebook would."""
    yield
    if "lab" not in request.fixturenames:
        return
    lab = request.getfixturevalue("lab")
    with urllib.request.urlopen(lab.url("api/sessions"), timeout=10) as r:
        sessions = json.load(r)
    for session in sessions:
        req = urllib.request.Request(lab.url(f"api/sessions/{session['id']}"), method="DELETE")
        urllib.request.urlopen(req, timeout=30).close()


@pytest.fixture(scope="session")
def shots():
    SHOTS.mkdir(exist_ok=True)
    for old in SHOTS.glob("*.png"):  # only this run's pictures, failures included
        old.unlink()
    return SHOTS


# ----------------------------------------------------------------------------
# The course on a JupyterHub (`cnnlab hub`): accounts, exchange, a server per person
# ----------------------------------------------------------------------------
HUB_TA = "cnnlab-ta"
HUB_STUDENTS = ("cnnlab-ana", "cnnlab-ben")


class Hub:
    def __init__(self, proc: subprocess.Popen, home: Path, port: int, out: str):
        from cnnlab.hub.layout import Layout

        self.proc, self.home, self.port, self.out = proc, home, port, out
        self.layout = Layout(home, "learn-cnns")
        with open(self.layout.logins) as f:
            self.passwords = {row["user"]: row["password"] for row in csv.DictReader(f)}
        self.ta_course = Path(pwd.getpwnam(HUB_TA).pw_dir) / "learn-cnns"

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}"

    def as_ta(self, argv: list[str]) -> subprocess.CompletedProcess:
        """A command the TA types into the terminal of her JupyterLab (same view, same config)."""
        from cnnlab.hub.serve import in_view

        return in_view(self.layout, HUB_TA, argv, staff=True, cwd=self.ta_course, capture_output=True,
                       text=True, timeout=300)

    def as_student(self, student: str, argv: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess:
        from cnnlab.hub.serve import in_view

        return in_view(self.layout, student, argv, cwd=cwd, capture_output=True, text=True, timeout=120)

    def login(self, page, user: str) -> None:
        """The hub's login form, then the person's JupyterLab (spawned on first login)."""
        page.goto(self.url("hub/login"))
        page.fill("#username_input", user)
        page.fill("#password_input", self.passwords[user])
        page.click("#login_submit")
        page.wait_for_url(f"**/user/{user}/lab**", timeout=120_000)
        page.wait_for_selector(".lm-MenuBar-itemLabel", timeout=120_000)


def _accounts_running(names) -> list[str]:
    return [n for n in names if subprocess.run(["pgrep", "-u", n], capture_output=True).returncode == 0]


@pytest.fixture(scope="session")
def hub(tmp_path_factory):
    """`cnnlab hub` on a copy of the course, with a TA and two students; stopped with SIGTERM
    (as Ctrl-C) and its accounts removed after. Its folder is under /srv: students reach it."""
    if os.geteuid() != 0:
        pytest.fail("the hub tests make Unix accounts: run them as root")
    for name in (HUB_TA, *HUB_STUDENTS):
        try:
            pwd.getpwnam(name)
            pytest.fail(f"the account {name} exists already (left by a killed run?): userdel -r {name}")
        except KeyError:
            pass
    course = tmp_path_factory.mktemp("hubcourse")
    for name in ("nbgrader_config.py", "course.yml"):
        shutil.copy2(ROOT / name, course / name)
    for folder in ("source", "release"):
        shutil.copytree(ROOT / folder, course / folder)
    roster = course / "students.csv"
    roster.write_text("id,first_name,last_name,email\n" + "".join(f"{s},{s[7:].title()},Student,\n"
                                                                     for s in HUB_STUDENTS))
    Path("/srv").mkdir(exist_ok=True)
    home = Path(tempfile.mkdtemp(prefix="cnnlab-hub-", dir="/srv"))
    port = _free_port()
    cnnlab = [str(BIN / "cnnlab"), "--course", str(course), "hub", "--home", str(home)]
    proc = subprocess.Popen([*cnnlab, "--roster", str(roster), "--ta", HUB_TA, "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    out = []
    try:
        for line in proc.stdout:
            out.append(line)
            if line.startswith("Ctrl-C"):
                break
        if proc.poll() is not None:
            pytest.fail("cnnlab hub did not start:\n" + "".join(out))
        hub = Hub(proc, home, port, "".join(out))
        for user in (HUB_TA, *HUB_STUDENTS):  # each person's Lab settings, as test_jupyterlab's
            entry = pwd.getpwnam(user)
            for rel, value in SETTINGS.items():
                path = Path(entry.pw_dir, ".jupyter", "lab", "user-settings", rel)
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(json.dumps(value))
            for path in [Path(entry.pw_dir, ".jupyter"), *Path(entry.pw_dir, ".jupyter").rglob("*")]:
                os.chown(path, entry.pw_uid, entry.pw_gid)
        yield hub
    finally:
        proc.send_signal(signal.SIGTERM)  # what Ctrl-C does: the hub stops every server it started
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        left = _accounts_running((HUB_TA, *HUB_STUDENTS))
        subprocess.run([*cnnlab, "--remove-accounts"], capture_output=True)
        shutil.rmtree(home, ignore_errors=True)
        assert not left, f"processes of {left} outlived the hub"
