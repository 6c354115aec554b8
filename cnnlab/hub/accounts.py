"""Local accounts for the hub: the roster's students and the TA.

nbgrader on a hub takes the student id from the login name, so each student's
account is named by her nbgrader id. Accounts are made with useradd (a home of
mode 0700, so nobody reads anybody's work) and given a generated password
(PAM checks it at login). Only accounts made here are recorded, given new
passwords or removed; a name that belongs to a system account is refused, and
an existing person's account is used as it is.
"""
from __future__ import annotations

import csv
import json
import os
import pwd
import re
import secrets
import subprocess
from dataclasses import dataclass
from pathlib import Path

#: What useradd accepts on Debian and what nbgrader accepts as a student id (no '+', no '*').
NAME = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")
#: uids below this are system accounts (login.defs UID_MIN on Debian and Red Hat)
FIRST_PERSON_UID = 1000


class HubError(Exception):
    """A hub set-up problem a TA can fix, in one line."""


@dataclass(frozen=True)
class Account:
    name: str
    password: str | None  # None: an existing account, its own password
    home: Path
    uid: int
    gid: int


def read_roster(path: Path) -> dict[str, dict[str, str]]:
    """{student id: {first_name, last_name, email}} from a roster file: nbgrader's
    `db student import` CSV (an `id` column; the others optional)."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = list(csv.DictReader(f))
    except OSError as exc:
        raise HubError(f"{path}: cannot be read ({exc.strerror})") from None
    if not rows or "id" not in rows[0]:
        raise HubError(f"{path}: a roster needs an `id` column (nbgrader's student CSV: id,first_name,...)")
    fields = ("first_name", "last_name", "email")
    return {row["id"].strip(): {f: (row.get(f) or "").strip() for f in fields if (row.get(f) or "").strip()}
            for row in rows if (row.get("id") or "").strip()}


def check_names(names: list[str]) -> None:
    bad = [n for n in names if not NAME.match(n)]
    if bad:
        raise HubError(f"{', '.join(bad[:3])}: not usable as account names (lower-case letters, digits, _ and -)")


def _made_here(record: Path) -> list[str]:
    try:
        return json.loads(record.read_text())["accounts"]
    except (OSError, ValueError, KeyError):
        return []


def _record(record: Path, names: list[str]) -> None:
    record.write_text(json.dumps({"accounts": sorted(set(names))}, indent=1) + "\n")
    os.chmod(record, 0o600)


def ensure_accounts(names: list[str], record: Path) -> list[Account]:
    """Each name as an account (made when missing); passwords for the ones made here."""
    check_names(names)
    if os.geteuid() != 0:
        raise HubError("cnnlab hub makes one Unix account per person: run it as root (sudo)")
    ours = _made_here(record)
    accounts = []
    for name in names:
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            _run(["useradd", "--create-home", "--shell", "/bin/bash", "--user-group", name])
            ours.append(name)
            _record(record, ours)
            entry = pwd.getpwnam(name)
        if entry.pw_uid < FIRST_PERSON_UID:
            raise HubError(f"{name} is a system account (uid {entry.pw_uid}): choose another name")
        os.chmod(entry.pw_dir, 0o700)  # nobody lists or reads anybody else's home
        password = None
        if name in ours:
            password = secrets.token_urlsafe(12)
            _run(["chpasswd"], stdin=f"{name}:{password}\n")
        accounts.append(Account(name, password, Path(entry.pw_dir), entry.pw_uid, entry.pw_gid))
    return accounts


def remove_accounts(record: Path) -> list[str]:
    """Remove the accounts made here (homes included); returns their names."""
    removed = []
    for name in _made_here(record):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        subprocess.run(["pkill", "-KILL", "-u", name], capture_output=True)
        _run(["userdel", "--remove", name], ok=(0, 12))  # 12: no mail spool to remove
        removed.append(name)
    _record(record, [])
    return removed


def _run(argv: list[str], stdin: str | None = None, ok: tuple[int, ...] = (0,)) -> None:
    try:
        proc = subprocess.run(argv, input=stdin, capture_output=True, text=True)
    except FileNotFoundError:
        raise HubError(f"{argv[0]} is missing: cnnlab hub needs the shadow utilities (useradd, chpasswd)") from None
    if proc.returncode not in ok:
        raise HubError(f"{' '.join(argv[:1] + argv[-1:])} failed: "
                       f"{(proc.stderr.strip().splitlines() or ['no output'])[-1]}")
