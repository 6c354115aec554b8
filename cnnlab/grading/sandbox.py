"""The isolation recipe: bubblewrap, an unprivileged uid, resource limits.

Student code runs with: a read-only system (/usr, the Python installation,
the venv and the `cnnlab` package), its own job folder as the only writable
place, a private bounded /tmp, no network (a new network namespace has only
its own loopback), its own PID/IPC/UTS namespaces, uid 65534 (nobody) with no
capabilities, and prlimit caps on processes, address space, CPU time, file
size and open files. A wall-clock kill is applied by the caller. Nothing of
the course folder (source/, solutions/, the gradebook, other students) and
nothing of the TA's home is visible.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import cnnlab

NOBODY = 65534
#: Sandboxes running at once get distinct uids from here on (claim_uid), so that
#: one student's fork bomb (RLIMIT_NPROC counts per uid) cannot starve another's
#: kernel, and ending one sandbox's processes never touches another's.
FIRST_UID = 61000
UID_COUNT = 1000
UID_LOCKS = Path("/tmp/cnnlab-sandbox-uids")


class SandboxUnavailable(RuntimeError):
    """Isolation does not work on this machine: grading refuses to run student code."""


@dataclass(frozen=True)
class Limits:
    """Resource limits of one sandboxed notebook run (documented in README)."""

    memory_bytes: int = 2 * 1024**3      # address space per process (numpy + kernel need ~1 GiB)
    processes: int = 64                  # RLIMIT_NPROC for the sandbox uid
    cpu_seconds: int = 300               # CPU time per process
    file_bytes: int = 64 * 1024**2       # largest file the student may write
    open_files: int = 256
    wall_seconds: int = 600              # the whole run, killed after this


def _pyenv_dirs(path: Path) -> list[Path]:
    """The parents of `path` that must exist (as empty dirs) inside the sandbox."""
    return [p for p in reversed(path.parents) if str(p) != "/"]


def python_home() -> Path:
    return Path(sys.base_prefix).resolve()


def venv_home() -> Path:
    return Path(sys.prefix).resolve()


def package_dir() -> Path:
    return Path(cnnlab.__file__).resolve().parent


#: What the sandbox hides of the installed packages: the libraries whose
#: convolution or pooling the course forbids (checks.FORBIDDEN_LIBRARIES).
HIDDEN_PACKAGES = ("scipy/signal", "scipy/ndimage", "torch", "tensorflow", "keras", "cv2", "skimage")


def hidden_libraries() -> list[Path]:
    found = []
    for entry in dict.fromkeys(sys.path):
        if not entry.endswith("-packages"):
            continue
        for rel in HIDDEN_PACKAGES:
            path = Path(entry) / rel
            if path.is_dir():
                found.append(path.resolve())
    return found


def bwrap_argv(job_dir: Path, command: list[str], limits: Limits = Limits(),
               env: dict[str, str] | None = None, uid: int = NOBODY,
               ro_files: dict[str, Path] | None = None) -> list[str]:
    """The full argv that runs `command` in the sandbox with `job_dir` writable
    and `ro_files` ({path inside: file outside}) mounted read-only."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        raise SandboxUnavailable("bubblewrap (bwrap) is not installed: apt-get install bubblewrap")
    job_dir = Path(job_dir).resolve()
    argv = [bwrap, "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
            "--unshare-cgroup-try", "--die-with-parent", "--new-session", "--clearenv",
            "--ro-bind", "/usr", "/usr"]
    for link in ("lib", "lib64", "bin", "sbin"):
        if os.path.islink(f"/{link}"):
            argv += ["--symlink", os.readlink(f"/{link}"), f"/{link}"]
    argv += ["--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--tmpfs", "/tmp"]
    made: set[str] = set()
    ro = [python_home(), venv_home(), package_dir()]
    for path in ro + [job_dir]:
        for parent in _pyenv_dirs(path):
            if str(parent) not in made and parent not in ro:
                argv += ["--perms", "0755", "--dir", str(parent)]
                made.add(str(parent))
    for path in dict.fromkeys(ro):  # the Python may live inside the venv folder's parent, keep order
        argv += ["--ro-bind", str(path), str(path)]
    for hidden in hidden_libraries():  # library convolution earns no credit; code built at run time
        argv += ["--tmpfs", str(hidden)]  # cannot import it either (an empty folder in its place)
    for inside, outside in (ro_files or {}).items():
        for parent in _pyenv_dirs(Path(inside)):  # readable parents (bwrap makes them 0700)
            if str(parent) not in made:
                argv += ["--perms", "0755", "--dir", str(parent)]
                made.add(str(parent))
        argv += ["--ro-bind", str(outside), inside]
    argv += ["--bind", str(job_dir), str(job_dir), "--chdir", str(job_dir)]
    base_env = {"HOME": "/tmp", "PATH": f"{venv_home() / 'bin'}:/usr/bin:/bin", "LANG": "C.UTF-8",
                "MPLCONFIGDIR": "/tmp/matplotlib", "MPLBACKEND": "Agg",
                "JUPYTER_RUNTIME_DIR": str(job_dir / "runtime"), "PYTHONDONTWRITEBYTECODE": "1",
                "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    for key in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):  # machine quirks, see field notes
        if key in os.environ:
            base_env[key] = os.environ[key]
    for key, value in {**base_env, **(env or {})}.items():
        argv += ["--setenv", key, value]
    argv += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID",
             "setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
             "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs",
             "prlimit", f"--nproc={limits.processes}", f"--as={limits.memory_bytes}",
             f"--cpu={limits.cpu_seconds}", f"--fsize={limits.file_bytes}",
             f"--nofile={limits.open_files}", "--"]
    return argv + command


def prepare_job_dir(job_dir: Path, uid: int = NOBODY) -> None:
    """The only folder the student can write: owned by the sandbox uid."""
    job_dir.mkdir(parents=True, exist_ok=True)
    (job_dir / "runtime").mkdir(exist_ok=True)
    for path in [job_dir, *job_dir.rglob("*")]:
        os.chown(path, uid, uid)


@contextmanager
def claim_uid():
    """A sandbox uid no other sandbox on this machine is using, held until exit.
    A lock file per uid (flock) makes the claim hold across processes: several
    TAs, test workers or Dask workers on one machine never share a uid."""
    import fcntl

    UID_LOCKS.mkdir(mode=0o700, exist_ok=True)
    for uid in range(FIRST_UID, FIRST_UID + UID_COUNT):
        handle = open(UID_LOCKS / f"{uid}.lock", "w")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            continue
        try:
            kill_uid(uid)  # anything a killed grader left behind under this uid
            yield uid
        finally:
            handle.close()
        return
    raise SandboxUnavailable(f"all {UID_COUNT} sandbox uids are in use")


def kill_uid(uid: int) -> int:
    """SIGKILL every process running as `uid` (a sandbox uid, never a person's).

    Killing bwrap does not end the sandbox (--die-with-parent watches bwrap's
    parent, not bwrap), and a student's forked children may outlive the kernel;
    each running sandbox has a uid of its own, so this ends exactly one."""
    import signal

    if uid < FIRST_UID:
        raise ValueError(f"refusing to kill the processes of uid {uid}")
    killed = 0
    # os.listdir, not Path.glob: globbing /proc raises when a process ends mid-scan (a fork flood)
    for pid in [name for name in os.listdir("/proc") if name.isdigit()]:
        try:
            text = Path("/proc", pid, "status").read_text()
        except OSError:  # ended meanwhile
            continue
        for line in text.splitlines():
            if line.startswith("Uid:"):
                if str(uid) in line.split()[1:2]:
                    try:
                        os.kill(int(pid), signal.SIGKILL)
                        killed += 1
                    except (ProcessLookupError, PermissionError):
                        pass
                break
    return killed


_checked: bool | None = None


def check_available() -> None:
    """Run a trivial command in the sandbox once; raise SandboxUnavailable with the reason."""
    global _checked
    if _checked:
        return
    import tempfile

    with tempfile.TemporaryDirectory(prefix="cnnlab-probe-") as tmp:
        job = Path(tmp) / "job"
        prepare_job_dir(job)
        argv = bwrap_argv(job, [sys.executable, "-c", "import os; print(os.getuid())"])
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise SandboxUnavailable(f"the sandbox does not start: {exc}") from None
        if proc.returncode != 0 or proc.stdout.strip() != str(NOBODY):
            reason = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            raise SandboxUnavailable(f"the sandbox does not start: {reason}")
    _checked = True
