"""The configuration files `cnnlab hub` writes: JupyterHub's and nbgrader's.

Everything a real deployment changes is in `hub_config`'s first block (where
the hub listens, who logs in and how); the rest is the course's and stays.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ..grading.sandbox import package_dir
from .layout import Layout


@dataclass(frozen=True)
class HubSettings:
    port: int            # where people open the hub (the proxy)
    hub_port: int        # the hub's own API, for the proxy and the servers
    proxy_api_port: int
    proxy: str           # configurable-http-proxy's command
    ta: str
    students: tuple[str, ...]
    ta_course: Path


def hub_config(layout: Layout, s: HubSettings) -> str:
    private = layout.private
    staff = {s.ta: {"notebook_dir": str(s.ta_course), "config_path": [str(layout.jupyter_ta)],
                    "readable": [str(package_dir())]}}
    return f'''# Written by `cnnlab hub` at each start (edits are overwritten): the Learn CNNs course hub.
c = get_config()  # noqa: F821

# --- What a real deployment changes -----------------------------------------------------
# Where people reach the hub: a real server listens on its public name behind TLS.
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = {s.port}
# Who logs in, and how: here PAM checks the local accounts `cnnlab hub` made. A course
# launched from its LMS uses the LTI authenticator instead (ltiauthenticator's LTI13Authenticator),
# with c.Authenticator.allowed_users left to the LMS and accounts made at first login.
c.JupyterHub.authenticator_class = "pam"
c.PAMAuthenticator.open_sessions = False
c.Authenticator.allowed_users = {set(s.students) | {s.ta}!r}
c.Authenticator.admin_users = {{{s.ta!r}}}
# How each person's server starts: as her own Unix user, in a view of the machine that shows
# only the system, her home and the exchange (cnnlab/hub/spawner.py). A cluster uses
# KubeSpawner or DockerSpawner with the same exchange mounted into every container.
c.JupyterHub.spawner_class = "cnnlab.hub.spawner.SandboxedSpawner"

# --- The course ------------------------------------------------------------------------
c.SandboxedSpawner.exchange = {str(layout.exchange)!r}
c.SandboxedSpawner.config_path = [{str(layout.jupyter)!r}]
c.SandboxedSpawner.python_path = {str(layout.python)!r}
c.SandboxedSpawner.staff = {staff!r}
c.Spawner.default_url = "/lab"
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120

# --- The hub's own state, private to root ------------------------------------------------
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {s.hub_port}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{s.proxy_api_port}"
c.ConfigurableHTTPProxy.command = [{s.proxy!r}]
c.ConfigurableHTTPProxy.pid_file = {str(private / "proxy.pid")!r}
c.JupyterHub.db_url = {"sqlite:///" + str(private / "jupyterhub.sqlite")!r}
c.JupyterHub.cookie_secret_file = {str(private / "jupyterhub_cookie_secret")!r}
c.JupyterHub.cleanup_servers = True
c.JupyterHub.cleanup_proxy = True
'''


#: cnnlab/hub/student_submit.py, as every server imports it (layout.python is on PYTHONPATH)
SUBMIT_MODULE = "cnnlab_hub_submit"


def shared_nbgrader_config(layout: Layout) -> str:
    """What every server's nbgrader reads: which course, and where its exchange is."""
    return f'''# Written by `cnnlab hub`: every person's nbgrader (Assignments tab, Validate) reads this.
c = get_config()  # noqa: F821
c.CourseDirectory.course_id = {layout.course_id!r}
c.Exchange.root = {str(layout.exchange)!r}
# a submission folder only its author and the TA may enter (nbgrader's own is 0777)
c.ExchangeFactory.submit = "{SUBMIT_MODULE}.PrivateExchangeSubmit"
'''


#: nbgrader 0.9.6's Autograde.autograde_preprocessors with Execute refused (test_hub_setup checks
#: it against nbgrader's own list, so an nbgrader upgrade cannot drift from it unnoticed)
TA_AUTOGRADE_STEPS = ["cnnlab.hub.staff_only.RefuseUnsandboxedExecute",
                      "nbgrader.preprocessors.IgnorePattern", "nbconvert.preprocessors.ClearMetadataPreprocessor",
                      "nbgrader.preprocessors.LimitOutput", "nbgrader.preprocessors.SaveAutoGrades",
                      "nbgrader.preprocessors.AssignLatePenalties", "nbgrader.preprocessors.CheckCellMetadata"]


def ta_nbgrader_config() -> str:
    """What only the TA's nbgrader adds: the hub's exchange classes (cnnlab/exchange.py)."""
    return f'''# Written by `cnnlab hub`: only the TA's server reads this (students' cannot import cnnlab).
c = get_config()  # noqa: F821
# release on an exchange students cannot rearrange (nbgrader's own makes its root world-writable)
c.ExchangeFactory.release_assignment = "cnnlab.exchange.PrivateExchangeReleaseAssignment"
# collect a submission only from the account it is named after
c.SafeExchangeCollect.check_owners = True
# formgrader's autograde (nbgrader's Execute, as the TA, beside the gradebook) refuses: grading
# runs student code only in cnnlab's sandbox (cnnlab/hub/staff_only.py)
c.Autograde.autograde_preprocessors = {TA_AUTOGRADE_STEPS!r}
'''


#: nbgrader's Lab plugins that are for the course's staff: students' Nbgrader menu shows only
#: the Assignments tab (and Validate in the notebook), not a formgrader of their home folder.
STAFF_PLUGINS = ("@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment",
                 "@jupyter/nbgrader:course-list")


def page_config(staff: bool) -> str:
    """labconfig/page_config.json: the staff plugins off for everyone, back on for the TA
    (the TA's config folder comes first in JUPYTER_CONFIG_PATH and wins)."""
    return json.dumps({"disabledExtensions": {p: not staff for p in STAFF_PLUGINS}}, indent=1) + "\n"


#: No news or update checks from the Lab (a course hub often has no way out, and students need no pop-up).
SERVER_CONFIG = json.dumps({"LabApp": {"news_url": ""}}, indent=1) + "\n"
