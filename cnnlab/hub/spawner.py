"""Each person's JupyterLab in a bubblewrap view of the machine, as that person.

JupyterHub's LocalProcessSpawner starts `jupyterhub-singleuser` as the
person's own Unix user; the file system then keeps people apart only as far
as every file's mode does, and a course machine is full of readable things (a
checkout of the course with its source/ and solutions/, other courses). This
spawner starts the same server, as the same user, inside a view that holds
only what a JupyterLab needs:

* read-only: /usr (and /bin, /lib, ... as the system links them), /etc, the
  Python installation and the venv the hub runs from, the hub's shared
  nbgrader config (and, for the TA, the cnnlab package);
* writable: the person's own home, and the exchange (where folder modes say who
  may do what; see layout.py);
* private: /tmp, /dev/shm, process and IPC namespaces (no signal to, or
  /proc of, anyone else's processes).
The network is shared: the hub reaches the server on 127.0.0.1, and the
server answers only requests carrying the hub's OAuth token.
"""
from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
from pathlib import Path

from jupyterhub.spawner import LocalProcessSpawner
from traitlets import Dict, List, Unicode


def _system_links() -> list[str]:
    """/bin, /lib, ... as this system has them: links into /usr, or folders of their own."""
    argv = []
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = Path("/") / name
        if path.is_symlink():
            argv += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            argv += ["--ro-bind", str(path), str(path)]
    return argv


def readable_trees(readable: list[Path]) -> list[Path]:
    """The read-only trees of a view: the Python installation, the venv, and `readable`."""
    trees = dict.fromkeys([Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve(), *readable])
    return [t for t in trees if not (t == Path("/usr") or str(t).startswith("/usr/"))]


def view_argv(user: str, writable: list[Path], readable: list[Path], command: list[str],
              cwd: Path | None = None) -> list[str]:
    """The argv that root runs to start `command` as `user` (in `cwd` or her home) seeing only the
    system, `readable_trees(readable)` (read-only), her home and `writable` (read-write).

    bwrap runs as root, so it can mount trees the person cannot reach herself (a Python under
    /root), and inside it setpriv becomes the person, with no capabilities and no way to gain any."""
    entry = pwd.getpwnam(user)
    home = Path(entry.pw_dir)
    bwrap = shutil.which("bwrap") or "/usr/bin/bwrap"
    argv = [bwrap, "--die-with-parent", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
            "--ro-bind", "/usr", "/usr", *_system_links(), "--ro-bind", "/etc", "/etc",
            "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--tmpfs", "/run", "--tmpfs", "/home"]
    trees = readable_trees(readable)
    parents = dict.fromkeys(p for t in [*trees, *writable] for p in reversed(t.parents) if p != Path("/"))
    for folder in parents:  # bwrap would make them 0700 (root's): the person passes through them
        argv += ["--perms", "0755", "--dir", str(folder)]
    for tree in trees:
        argv += ["--ro-bind", str(tree), str(tree)]
    for tree in [home, *writable]:
        argv += ["--bind", str(tree), str(tree)]
    argv += ["--chdir", str(cwd or home), "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--",
             "setpriv", f"--reuid={entry.pw_uid}", f"--regid={entry.pw_gid}", "--init-groups",
             "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"]
    return argv + command


def user_env(user: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    entry = pwd.getpwnam(user)
    return {"HOME": entry.pw_dir, "USER": user, "LOGNAME": user, "LANG": "C.UTF-8", "SHELL": entry.pw_shell,
            "PATH": f"{Path(sys.prefix) / 'bin'}:/usr/bin:/bin", **(extra or {})}


def run_as(user: str, command: list[str], writable: list[Path], readable: list[Path], cwd: Path | None = None,
           env: dict[str, str] | None = None, **kwargs) -> subprocess.CompletedProcess:
    """`command` as `user` in her view (what a command typed in her JupyterLab's terminal meets):
    for root's scripts, the tests' attacks among them."""
    return subprocess.run(view_argv(user, writable, readable, command, cwd=cwd), env=user_env(user, env), **kwargs)


class SandboxedSpawner(LocalProcessSpawner):
    """LocalProcessSpawner whose server runs in `view_argv`'s view (see the module's doc)."""

    exchange = Unicode(config=True, help="nbgrader's exchange root, writable in every view.")
    config_path = List(Unicode(), config=True, help="Jupyter config folders every server reads (JUPYTER_CONFIG_PATH).")
    python_path = Unicode(config=True, help="A folder of modules every server imports (PYTHONPATH), read-only.")
    staff = Dict(config=True, help=(
        "{user: {'notebook_dir': folder, 'config_path': [folders], 'readable': [folders]}} for the course's staff: "
        "the TA's server opens in the course folder, reads the TA-only config and sees the cnnlab package."))

    def _staff(self) -> dict:
        return self.staff.get(self.user.name, {})

    def get_env(self):
        env = super().get_env()
        env["JUPYTER_CONFIG_PATH"] = os.pathsep.join([*self._staff().get("config_path", []), *self.config_path])
        if self.python_path:
            env["PYTHONPATH"] = self.python_path
        return env

    def make_preexec_fn(self, name):
        # bwrap starts as root and becomes the person inside the view (view_argv)
        return None

    async def start(self):
        staff = self._staff()
        if staff.get("notebook_dir"):
            self.notebook_dir = staff["notebook_dir"]
        readable = [Path(p) for p in [*self.config_path, *staff.get("config_path", []), *staff.get("readable", [])]]
        self.cmd = view_argv(self.user.name, [Path(self.exchange)], readable,
                             [str(Path(sys.prefix) / "bin" / "jupyterhub-singleuser")],
                             cwd=Path(staff["notebook_dir"]) if staff.get("notebook_dir") else None)
        return await super().start()
