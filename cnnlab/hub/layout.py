"""Where the hub keeps things, and the permissions that keep people apart.

    <home>/                 root, 0755: students pass through to exchange/ and jupyter/
      private/              root, 0700: hub database, cookie secret, logins, accounts made
      jupyter/              root, 0755: the nbgrader config every server reads (course id, exchange)
        python/             root, 0755: on every server's PYTHONPATH: the students' submit class
      jupyter-ta/           root, 0755: what only the TA's server adds (the hub's exchange classes)
      exchange/             root, 1777: nbgrader's exchange (its clients want to write here),
                            sticky: nobody renames or removes what is not hers
        <course>/           TA, 0755
          outbound/         TA, 0755: released assignments, readable by students
          inbound/          TA, 3733: students may create, but not list, rename or remove
          feedback/         TA, 0711: a student opens only the file whose name she can compute

The TA's course folder is ~TA/<course>: copied from the course on the first
start and never overwritten after (it holds the gradebook and the class's work).
"""
from __future__ import annotations

import os
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path

from ..exchange import COURSE_MODE, INBOUND_MODE, ROOT_MODE
from .accounts import Account, HubError

#: What the TA's copy of the course holds (nothing of git, the venv or demo runs).
COURSE_FILES = ("nbgrader_config.py", "course.yml", "source", "release", "solutions", "gradebook.db")


@dataclass(frozen=True)
class Layout:
    home: Path
    course_id: str

    @property
    def private(self) -> Path:
        return self.home / "private"

    @property
    def jupyter(self) -> Path:
        return self.home / "jupyter"

    @property
    def python(self) -> Path:
        """Python modules every server imports (PYTHONPATH): the students' submit class."""
        return self.jupyter / "python"

    @property
    def jupyter_ta(self) -> Path:
        return self.home / "jupyter-ta"

    @property
    def exchange(self) -> Path:
        return self.home / "exchange"

    @property
    def course_exchange(self) -> Path:
        return self.exchange / self.course_id

    @property
    def accounts_record(self) -> Path:
        return self.private / "accounts.json"

    @property
    def logins(self) -> Path:
        return self.private / "logins.csv"

    @property
    def hub_config(self) -> Path:
        return self.private / "jupyterhub_config.py"


def _folder(path: Path, mode: int, owner: Account | None = None) -> None:
    path.mkdir(parents=True, exist_ok=True)
    if owner is not None:
        os.chown(path, owner.uid, owner.gid)
    else:
        os.chown(path, 0, 0)
    os.chmod(path, mode)


def prepare_folders(layout: Layout) -> None:
    """The hub's own folders (before any account exists)."""
    closed = [p for p in layout.home.resolve().parents if p.exists() and not os.stat(p).st_mode & stat.S_IXOTH]
    if closed:  # each person's server reaches exchange/ and jupyter/ as that person
        raise HubError(f"{closed[0]} is closed to other users (mode {stat.S_IMODE(os.stat(closed[0]).st_mode):o}): "
                       "choose a hub folder that students can reach, e.g. under /srv")
    _folder(layout.home, 0o755)
    _folder(layout.private, 0o700)
    _folder(layout.jupyter, 0o755)
    _folder(layout.python, 0o755)
    _folder(layout.jupyter_ta, 0o755)


def prepare_exchange(layout: Layout, ta: Account) -> None:
    _folder(layout.exchange, ROOT_MODE)
    _folder(layout.course_exchange, COURSE_MODE, ta)
    _folder(layout.course_exchange / "outbound", 0o755, ta)
    _folder(layout.course_exchange / "inbound", INBOUND_MODE, ta)
    _folder(layout.course_exchange / "feedback", 0o711, ta)


def ta_course(course_root: Path, ta: Account, course_id: str) -> tuple[Path, bool]:
    """~TA/<course>, copied from `course_root` when it does not exist yet; (path, copied now)."""
    dest = ta.home / course_id
    if dest.exists():
        return dest, False
    tmp = ta.home / f".{course_id}.copying"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    for name in COURSE_FILES:
        src = course_root / name
        if src.is_dir():
            shutil.copytree(src, tmp / name, symlinks=True,
                            ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
        elif src.is_file():
            shutil.copy2(src, tmp / name)
    tmp.rename(dest)  # whole or not at all: a half copy is never taken for the course
    give_to(dest, ta)
    os.chmod(dest, 0o700)
    return dest, True


def give_to(folder: Path, owner: Account) -> None:
    """Make `folder` and everything in it the TA's (after root ran a command in it)."""
    for path in [folder, *folder.rglob("*")]:
        if not path.is_symlink():
            os.chown(path, owner.uid, owner.gid)


def write_private(path: Path, text: str) -> None:
    path.write_text(text)
    os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
