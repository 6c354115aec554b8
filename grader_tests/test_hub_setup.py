"""`cnnlab hub`'s set-up, without starting a hub (browser_tests/test_hub*.py start one):
the roster and account names it accepts, the folders it refuses, the files it writes."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from traitlets.config import Config

from cnnlab.hub.accounts import HubError, check_names, read_roster
from cnnlab.hub.config import STAFF_PLUGINS, HubSettings, hub_config, page_config, shared_nbgrader_config
from cnnlab.hub.layout import Layout, prepare_folders


def test_the_roster_is_nbgraders_student_csv(tmp_path):
    roster = tmp_path / "students.csv"
    roster.write_text("\ufeffid,first_name,last_name,email\nana,Ana,Silva,ana@example.edu\nben,,,\n,Nobody,,\n")
    assert read_roster(roster) == {"ana": {"first_name": "Ana", "last_name": "Silva", "email": "ana@example.edu"},
                                   "ben": {}}
    roster.write_text("name,email\nana,ana@example.edu\n")
    with pytest.raises(HubError, match="needs an `id` column"):
        read_roster(roster)
    with pytest.raises(HubError, match="cannot be read"):
        read_roster(tmp_path / "missing.csv")


@pytest.mark.parametrize("name", ["Ana", "ana+2", "../root", "a b", "", "x" * 40, "-rf"])
def test_names_that_cannot_be_accounts_are_refused(name):
    with pytest.raises(HubError, match="not usable as account names"):
        check_names(["ok_name", name])


def test_a_hub_folder_students_cannot_reach_is_refused(tmp_path):
    closed = tmp_path / "closed"
    closed.mkdir(mode=0o700)
    os.chmod(closed, 0o700)
    with pytest.raises(HubError, match="closed to other users"):
        prepare_folders(Layout(closed / "hub", "learn-cnns"))
    assert not (closed / "hub").exists()


def test_the_generated_configs_are_python_that_names_the_course(tmp_path):
    layout = Layout(Path("/srv/learn-cnns-hub"), "learn-cnns")
    settings = HubSettings(port=8000, hub_port=8081, proxy_api_port=8001, proxy="/usr/bin/configurable-http-proxy",
                           ta="ta", students=("ana", "ben"), ta_course=Path("/home/ta/learn-cnns"))
    c = Config()
    exec(hub_config(layout, settings), {"get_config": lambda: c})  # as JupyterHub loads it
    assert c.JupyterHub.ip == "127.0.0.1" and c.JupyterHub.spawner_class == "cnnlab.hub.spawner.SandboxedSpawner"
    assert c.Authenticator.allowed_users == {"ana", "ben", "ta"} and c.Authenticator.admin_users == {"ta"}
    assert c.SandboxedSpawner.staff["ta"]["notebook_dir"] == "/home/ta/learn-cnns"
    assert c.SandboxedSpawner.exchange == "/srv/learn-cnns-hub/exchange"
    nb = shared_nbgrader_config(layout)
    compile(nb, "nbgrader_config.py", "exec")
    assert "learn-cnns" in nb and "/srv/learn-cnns-hub/exchange" in nb and "PrivateExchangeSubmit" in nb
    students, ta = json.loads(page_config(False)), json.loads(page_config(True))
    assert all(students["disabledExtensions"][p] for p in STAFF_PLUGINS)
    assert not any(ta["disabledExtensions"][p] for p in STAFF_PLUGINS)


def test_the_tas_autograde_is_nbgraders_with_execute_refused():
    from nbgrader.converters.autograde import Autograde
    from traitlets.utils.importstring import import_item

    from cnnlab.hub.config import TA_AUTOGRADE_STEPS
    from cnnlab.hub.staff_only import RefuseUnsandboxedExecute

    nbgraders = Autograde.class_traits()["autograde_preprocessors"].default()
    ours = [import_item(name) for name in TA_AUTOGRADE_STEPS]
    assert [p.__name__ for p in nbgraders][0] == "Execute" and ours[0] is RefuseUnsandboxedExecute
    assert ours[1:] == list(nbgraders[1:])
