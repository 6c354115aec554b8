"""The isolation recipe: bubblewrap, an unprivileged uid, a cgroup, resource limits.

Student code runs with:
- a read-only system (/usr, the Python installation, the venv and the
  `cnnlab` package) in which the libraries the course forbids
  (checks.FORBIDDEN_LIBRARIES) are hidden in every site-packages and
  dist-packages folder of those trees, and the base interpreter's own
  site-packages is hidden as a whole when the venv does not use it;
- its own job folder as the only writable place, on a tmpfs of its own
  (`job_folder`): filling it fills nobody else's, and never the host's disk;
- a private /tmp of bounded size; no network (a new network namespace has
  only its own loopback); its own PID/IPC/UTS namespaces;
- a uid of its own (`claim_uid`, 61000 and up) with no capabilities;
- one memory cap for the whole sandbox (all its processes, its /tmp and its
  job folder together: tmpfs pages count against the writer's cgroup) and a
  process cap, through a cgroup per claimed uid (cgroup v2, or v1's memory and
  pids hierarchies). Where no memory cgroup can be made, each process keeps
  only its own limits (a warning says so, once);
- prlimit caps per process on processes, address space, CPU time, file size
  and open files.
A wall-clock kill is applied by the caller. Nothing of the course folder
(source/, solutions/, the gradebook, other students) and nothing of the TA's
home is visible.
"""
from __future__ import annotations

import functools
import logging
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import cnnlab
from ..checks import FORBIDDEN_LIBRARIES
from .fontcache import SANDBOX_CONFIG_DIR, font_list

log = logging.getLogger(__name__)

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
    sandbox_memory_bytes: int = 3 * 1024**3  # all the sandbox's processes, its /tmp and job folder together (cgroup)
    processes: int = 64                  # RLIMIT_NPROC for the sandbox uid, and the cgroup's pids.max
    cpu_seconds: int = 300               # CPU time per process
    file_bytes: int = 64 * 1024**2       # largest file the student may write
    tmp_bytes: int = 256 * 1024**2       # the sandbox's private /tmp (a tmpfs)
    job_bytes: int = 512 * 1024**2       # the job folder (a tmpfs): course files, kernel sockets, student files
    open_files: int = 256
    wall_seconds: int = 600              # the whole run, killed after this


_warned: set[str] = set()


def _warn_once(key: str, message: str) -> None:
    """A weaker sandbox than documented is worth one line in the log, not one per notebook."""
    if key not in _warned:
        _warned.add(key)
        log.warning(message)


def _pyenv_dirs(path: Path) -> list[Path]:
    """The parents of `path` that must exist (as empty dirs) inside the sandbox."""
    return [p for p in reversed(path.parents) if str(p) != "/"]


def python_home() -> Path:
    return Path(sys.base_prefix).resolve()


def venv_home() -> Path:
    return Path(sys.prefix).resolve()


def package_dir() -> Path:
    return Path(cnnlab.__file__).resolve().parent


def mounted_trees() -> tuple[Path, ...]:
    """Every tree the sandbox can read code from (the job folder holds course files only)."""
    return tuple(dict.fromkeys([Path("/usr"), python_home(), venv_home(), package_dir()]))


# ----------------------------------------------------------------------------
# Hidden libraries
# ----------------------------------------------------------------------------
#: The forbidden libraries as paths under a site folder: ("scipy/signal", ..., "cv2").
HIDDEN_PACKAGES = tuple(lib.replace(".", "/") for lib in FORBIDDEN_LIBRARIES)
SITE_FOLDERS = ("site-packages", "dist-packages")
MODULE_SUFFIXES = (".py", ".pyc", ".so", ".pyd")  # a module as one file: cv2.cpython-311-x86_64-linux-gnu.so
#: Folders under /usr that hold no Python (pruned from the search for site folders, which is otherwise slow).
_NOT_PYTHON = {"share", "include", "src", "man", "doc", "locale", "firmware", "modules", "__pycache__",
               "node_modules"}
_SITE_DEPTH = 6  # a bundled Python: /usr/lib/google-cloud-sdk/platform/bundledpythonunix/lib/python3.12/site-packages


def uses_base_site_packages() -> bool:
    """Whether the interpreter the sandbox runs reads the base installation's
    site-packages: when it is no venv, or its pyvenv.cfg says
    include-system-site-packages = true."""
    if venv_home() == python_home():
        return True
    try:
        text = (venv_home() / "pyvenv.cfg").read_text()
    except OSError:
        return True
    for line in text.splitlines():
        key, _, value = line.partition("=")
        if key.strip().lower() == "include-system-site-packages":
            return value.strip().lower() == "true"
    return False


def hidden_site_folders() -> list[Path]:
    """The base interpreter's site folders, when the venv does not use them:
    hidden whole (a student appending them to sys.path finds them empty)."""
    if uses_base_site_packages():
        return []
    import site

    found = [Path(p).resolve() for p in site.getsitepackages([sys.base_prefix])]
    return list(dict.fromkeys(p for p in found if p.is_dir()))


@functools.lru_cache(maxsize=None)
def site_folders(trees: tuple[Path, ...]) -> tuple[Path, ...]:
    """Every site-packages / dist-packages folder under `trees` (cached: the
    installation does not change while grading runs)."""
    found = []
    for tree in trees:
        depth0 = str(tree).rstrip(os.sep).count(os.sep)
        for dirpath, dirs, _ in os.walk(tree):
            deep = dirpath.count(os.sep) - depth0 >= _SITE_DEPTH
            keep = []
            for name in dirs:
                if name in SITE_FOLDERS:
                    found.append(Path(dirpath, name).resolve())  # not descended: its libraries are looked up by name
                elif not deep and name not in _NOT_PYTHON and not name.endswith((".dist-info", ".egg-info")):
                    keep.append(name)
            dirs[:] = keep
    return tuple(dict.fromkeys(found))


def libraries_in(site: Path) -> list[Path]:
    """The forbidden libraries in one site folder: package folders, and modules
    that are one file (`cv2.py`, `cv2.cpython-311-x86_64-linux-gnu.so`)."""
    found = []
    for rel in HIDDEN_PACKAGES:
        parent, _, name = rel.rpartition("/")
        folder = site / parent
        try:
            entries = sorted(os.listdir(folder))
        except OSError:
            continue
        for entry in entries:
            if entry == name or (entry.split(".")[0] == name and entry.endswith(MODULE_SUFFIXES)):
                found.append(folder / entry)
    return found


def hidden_libraries(trees: tuple[Path, ...] | None = None) -> list[Path]:
    """What the sandbox hides of the forbidden libraries, in every site folder
    of the mounted trees (but the ones hidden whole)."""
    whole = set(hidden_site_folders()) if trees is None else set()
    sites = [s for s in site_folders(mounted_trees() if trees is None else tuple(trees)) if s not in whole]
    return [path for site in sites for path in libraries_in(site)]


#: Folders of the cnnlab package that student code must never read: the demo's
#: catalogue of simulated answers holds correct ones.
HIDDEN_PACKAGE_FOLDERS = ("catalogue",)


def hidden_package_folders() -> list[Path]:
    return [package_dir() / name for name in HIDDEN_PACKAGE_FOLDERS if (package_dir() / name).is_dir()]


def _hiding_argv() -> list[str]:
    """bwrap arguments that put something empty where a forbidden library was:
    library convolution earns no credit, and code built at run time cannot
    import it either. A folder becomes an empty one (an empty namespace
    package at most), a file /dev/null (a module that is empty or not an ELF)."""
    argv = []
    for folder in hidden_package_folders():  # correct answers, in the package the kernel imports from
        argv += ["--tmpfs", str(folder)]
    for folder in hidden_site_folders():
        argv += ["--tmpfs", str(folder)]
    for path in hidden_libraries():
        argv += ["--tmpfs", str(path)] if path.is_dir() else ["--ro-bind", "/dev/null", str(path)]
    return argv


# ----------------------------------------------------------------------------
# One cgroup per claimed uid: a memory cap for the sandbox as a whole
# ----------------------------------------------------------------------------
CGROUP_PREFIX = "cnnlab-sandbox-"


@dataclass(frozen=True)
class Hierarchy:
    """Where this machine lets sandbox cgroups be made: `base` is the grader's
    own cgroup in that hierarchy (so whatever caps the grader caps its
    sandboxes too, and a delegated subtree is enough)."""

    version: int                   # 2, or 1 (one hierarchy per controller)
    controllers: tuple[str, ...]   # of "memory", "pids"
    base: Path


def _mountinfo() -> list[tuple[str, str, str, list[str], str]]:
    """(root, mount point, fs type, super options, source) of each mount."""
    mounts = []
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return []
    for line in lines:
        left, _, right = line.partition(" - ")
        fields, rest = left.split(), right.split()
        if len(fields) >= 5 and len(rest) >= 3:
            unescape = lambda s: s.replace("\\040", " ")  # noqa: E731 (mountinfo escapes spaces)
            mounts.append((unescape(fields[3]), unescape(fields[4]), rest[0], rest[2].split(","), rest[1]))
    return mounts


def _own_cgroups() -> dict[str, str]:
    """{controller: path} of this process (v1), and {"": path} for cgroup v2."""
    own = {}
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return {}
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) == 3:
            for controller in parts[1].split(",") if parts[1] else [""]:
                own[controller] = parts[2]
    return own


def _inside(point: str, root: str, path: str) -> Path:
    """The folder of cgroup `path` under a mount of hierarchy `root` at `point`."""
    if root != "/" and (path == root or path.startswith(root + "/")):
        path = path[len(root):]
    return Path(point) / path.lstrip("/")


def _v2_base(point: str, root: str, own: str, controllers: list[str]) -> Path | None:
    """A v2 cgroup whose children can have memory (and pids) limits: the
    grader's own, or the hierarchy's root (v2 lets only the root have both
    processes and limited children)."""
    wanted = [c for c in ("memory", "pids") if c in controllers]
    for base in (_inside(point, root, own), Path(point)):
        control = base / "cgroup.subtree_control"
        try:
            enabled = control.read_text().split()
            missing = [c for c in wanted if c not in enabled]
            if missing:
                control.write_text(" ".join("+" + c for c in missing))
            return base
        except OSError:
            continue
    return None


@functools.lru_cache(maxsize=None)
def hierarchies() -> tuple[Hierarchy, ...]:
    """Where sandbox cgroups go: cgroup v2 when it has the memory controller,
    else v1's memory hierarchy (and pids, if mounted); () when neither is there."""
    own, mounts = _own_cgroups(), _mountinfo()
    for root, point, fstype, _, _ in mounts:
        if fstype == "cgroup2" and "" in own:
            try:
                controllers = (Path(point) / "cgroup.controllers").read_text().split()
            except OSError:
                continue
            base = _v2_base(point, root, own[""], controllers) if "memory" in controllers else None
            if base is not None:
                return (Hierarchy(2, tuple(c for c in ("memory", "pids") if c in controllers), base),)
    found = []
    for controller in ("memory", "pids"):
        for root, point, fstype, options, _ in mounts:
            if fstype == "cgroup" and controller in options and controller in own:
                found.append(Hierarchy(1, (controller,), _inside(point, root, own[controller])))
                break
    return tuple(found) if found and found[0].controllers == ("memory",) else ()


def cgroup_dirs(uid: int) -> list[Path]:
    """The cgroup folders of the sandbox of `uid` (one per hierarchy), made or not."""
    return [h.base / f"{CGROUP_PREFIX}{uid}" for h in hierarchies()]


def _cgroup_settings(h: Hierarchy, limits: Limits) -> list[tuple[str, int]]:
    """(file, value) to write, in order; files a kernel does not have are skipped.
    v1 wants memory+swap >= memory at every step: the memory limit goes first."""
    memory, settings = limits.sandbox_memory_bytes, []
    if "memory" in h.controllers:
        settings += ([("memory.max", memory), ("memory.swap.max", 0)] if h.version == 2 else
                     [("memory.limit_in_bytes", memory), ("memory.memsw.limit_in_bytes", memory)])
    if "pids" in h.controllers:
        settings.append(("pids.max", limits.processes))
    return settings


def _write_settings(folder: Path, settings: list[tuple[str, int]]) -> None:
    present = [(name, value) for name, value in settings if (folder / name).exists()]
    try:
        for name, value in present:
            (folder / name).write_text(str(value))
    except OSError:  # v1, a cap raised on an existing cgroup: memory+swap must rise first
        for name, value in reversed(present):
            (folder / name).write_text(str(value))


def open_cgroup(uid: int, limits: Limits) -> list[Path]:
    """The cgroup folders of `uid`'s sandbox, made (if need be) and capped by
    `limits`; [] when this machine offers no memory cgroup (warned once)."""
    made = []
    try:
        for h in hierarchies():
            folder = h.base / f"{CGROUP_PREFIX}{uid}"
            folder.mkdir(exist_ok=True)
            made.append(folder)
            _write_settings(folder, _cgroup_settings(h, limits))
    except OSError as exc:
        close_cgroup(uid)
        _warn_once("cgroup", f"no cgroup can be made for the sandbox ({exc}): each sandboxed process has its "
                             "own memory limit only, not one cap for the whole sandbox")
        return []
    if not made:
        _warn_once("cgroup", "this machine has no memory cgroup to use: each sandboxed process has its own "
                             "memory limit only, not one cap for the whole sandbox")
    return made


def _procs(folder: Path) -> list[int]:
    try:
        return [int(p) for p in (folder / "cgroup.procs").read_text().split()]
    except (OSError, ValueError):
        return []


def close_cgroup(uid: int, seconds: float = 5.0) -> None:
    """SIGKILL everything in `uid`'s sandbox cgroups and remove them (a crashed
    grader's leftovers too). Only sandbox processes are ever in there."""
    if uid < FIRST_UID:
        raise ValueError(f"refusing to empty the cgroup of uid {uid}")
    for folder in cgroup_dirs(uid):
        if not folder.is_dir():
            continue
        try:
            (folder / "cgroup.kill").write_text("1")  # v2 (Linux 5.14+): all at once, forks included
        except OSError:
            pass
        deadline = time.monotonic() + seconds
        while True:
            for pid in _procs(folder):  # v1: kill until no fork outruns us
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            try:
                folder.rmdir()
                break
            except FileNotFoundError:
                break
            except OSError:
                if time.monotonic() > deadline:
                    _warn_once(f"rmdir-{folder}", f"the sandbox cgroup {folder} could not be removed")
                    break
                time.sleep(0.01)  # killed processes take a moment to leave


def _join_cgroup_argv(dirs: list[Path]) -> list[str]:
    """A prefix for the launched argv: a shell that moves itself into the
    cgroups, then execs bwrap. Race-free: nothing of the sandbox runs before it
    is in, and every process it starts inherits the cgroup. If joining fails,
    the sandbox does not start (`&&`)."""
    if not dirs:
        return []
    script = " && ".join(f"echo $$ > {shlex.quote(str(d / 'cgroup.procs'))}" for d in dirs)
    return ["/bin/sh", "-c", script + ' && exec "$@"', "cnnlab-sandbox"]


# ----------------------------------------------------------------------------
# Job folders on a tmpfs of their own
# ----------------------------------------------------------------------------
MS_NOSUID, MS_NODEV, MNT_DETACH = 2, 4, 2


@functools.lru_cache(maxsize=None)
def _libc():
    import ctypes
    import ctypes.util

    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
    libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
    return libc


#: The source name of every job-folder tmpfs (as `mount` lists it): how the sweep finds them.
JOB_MOUNT_SOURCE = "cnnlab-job"


def _mount_tmpfs(target: str, size: int) -> bool:
    import ctypes

    options = f"size={size},mode=0700".encode()
    if _libc().mount(JOB_MOUNT_SOURCE.encode(), target.encode(), b"tmpfs", MS_NOSUID | MS_NODEV, options) == 0:
        return True
    _warn_once("job-mount", f"job folders cannot be mounted as their own tmpfs here "
                            f"({os.strerror(ctypes.get_errno())}): a submission can fill the disk under "
                            f"{Path(target).parent} and make every later one fail")
    return False


def _unmount(target: str) -> None:
    if _libc().umount2(target.encode(), 0) != 0:
        _libc().umount2(target.encode(), MNT_DETACH)  # still busy: detach now, freed when the last user lets go


OWNER_FILE = ".cnnlab-owner"  # beside job/, outside what the sandbox sees: the pid of the grader that mounted it


def _job_mounts() -> list[str]:
    """Mount points of job-folder tmpfs mounts on this machine."""
    return [point for _, point, fstype, _, source in _mountinfo() if fstype == "tmpfs" and source == JOB_MOUNT_SOURCE]


def sweep_job_folders(grace_seconds: float = 60) -> int:
    """Unmount and remove the job folders of graders that are gone (SIGKILLed, a lost
    machine's reboot aside): their tmpfs would otherwise stay mounted for good.
    A mount without an owner file yet is left alone for `grace_seconds` (its grader
    may be between mounting and writing it). Returns how many were swept."""
    swept = 0
    for mount in _job_mounts():
        try:
            pid = int((Path(mount) / OWNER_FILE).read_text())
        except (OSError, ValueError):
            try:
                if time.time() - os.stat(mount).st_mtime < grace_seconds:
                    continue
            except OSError:
                continue
            pid = None
        if pid is not None:
            try:
                os.kill(pid, 0)
                continue  # its grader is still running
            except ProcessLookupError:
                pass
            except PermissionError:
                continue
        _unmount(mount)
        shutil.rmtree(mount, ignore_errors=True)
        swept += 1
    return swept


_swept_once: list[bool] = []


@contextmanager
def job_folder(limits: Limits = Limits(), prefix: str = "cnnlab-job-"):
    """A temporary folder (its path, a str, as TemporaryDirectory gives) on a
    tmpfs of its own of `limits.job_bytes`, removed after: a student who fills
    it gets ENOSPC, and nobody else's run nor the host's disk notices. Its
    pages count against the writer's memory cgroup, so what the sandbox writes
    is inside the sandbox's cap. Where mounting is not permitted (not root),
    it is a plain temporary folder, with a warning once."""
    if not _swept_once:  # once per process: what graders killed earlier left mounted
        _swept_once.append(True)
        sweep_job_folders()
    tmp = tempfile.mkdtemp(prefix=prefix)
    mounted = _mount_tmpfs(tmp, limits.job_bytes)
    if mounted:
        Path(tmp, OWNER_FILE).write_text(str(os.getpid()))
    try:
        yield tmp
    finally:
        if mounted:
            _unmount(tmp)
        shutil.rmtree(tmp, ignore_errors=True)


# ----------------------------------------------------------------------------
# The sandbox
# ----------------------------------------------------------------------------
def precompute() -> None:
    """Work out now what every sandbox's command line shares and caches (the walk for site
    folders, the font list). Kernels started from several threads at once (pool.py) then do
    not each walk the installation while holding up one another and the grader's imports."""
    _hiding_argv()
    font_list()


def bwrap_argv(job_dir: Path, command: list[str], limits: Limits = Limits(),
               env: dict[str, str] | None = None, uid: int = NOBODY,
               ro_files: dict[str, Path] | None = None) -> list[str]:
    """The full argv that runs `command` in the sandbox with `job_dir` writable
    and `ro_files` ({path inside: file outside}) mounted read-only. The
    sandbox of a claimed uid runs in that uid's cgroup, made and capped here
    with `limits` and removed when the claim ends."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        raise SandboxUnavailable("bubblewrap (bwrap) is not installed: apt-get install bubblewrap")
    job_dir = Path(job_dir).resolve()
    argv = _join_cgroup_argv(open_cgroup(uid, limits) if uid in _claimed else [])
    argv += [bwrap, "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
             "--unshare-cgroup-try", "--die-with-parent", "--new-session", "--clearenv",
             "--ro-bind", "/usr", "/usr"]
    for link in ("lib", "lib64", "bin", "sbin"):
        if os.path.islink(f"/{link}"):
            argv += ["--symlink", os.readlink(f"/{link}"), f"/{link}"]
    argv += ["--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--size", str(limits.tmp_bytes), "--tmpfs", "/tmp"]
    made: set[str] = set()
    ro = [python_home(), venv_home(), package_dir()]
    for path in ro + [job_dir]:
        for parent in _pyenv_dirs(path):
            if str(parent) not in made and parent not in ro:
                argv += ["--perms", "0755", "--dir", str(parent)]
                made.add(str(parent))
    for path in dict.fromkeys(ro):  # the Python may live inside the venv folder's parent, keep order
        argv += ["--ro-bind", str(path), str(path)]
    if os.path.isdir("/etc/fonts"):  # fontconfig's configuration: without it matplotlib's font search
        # prints "Fontconfig error" into a student's cell; /etc itself stays empty but traversable
        argv += ["--perms", "0755", "--dir", "/etc", "--ro-bind", "/etc/fonts", "/etc/fonts"]
    argv += _hiding_argv()
    fonts = font_list()
    if fonts is not None:  # matplotlib's font list, built once (fontcache.py): no font scan per kernel
        argv += ["--perms", "1777", "--dir", SANDBOX_CONFIG_DIR,
                 "--ro-bind", str(fonts), f"{SANDBOX_CONFIG_DIR}/{fonts.name}"]
    for inside, outside in (ro_files or {}).items():
        for parent in _pyenv_dirs(Path(inside)):  # readable parents (bwrap makes them 0700)
            if str(parent) not in made:
                argv += ["--perms", "0755", "--dir", str(parent)]
                made.add(str(parent))
        argv += ["--ro-bind", str(outside), inside]
    argv += ["--bind", str(job_dir), str(job_dir), "--chdir", str(job_dir)]
    base_env = {"HOME": "/tmp", "PATH": f"{venv_home() / 'bin'}:/usr/bin:/bin", "LANG": "C.UTF-8",
                # the kernel's own inline backend, as in the student's JupyterLab: lesson figures
                # (many drawn with the student's functions) reach feedback as images
                "MPLCONFIGDIR": SANDBOX_CONFIG_DIR, "MPLBACKEND": "module://matplotlib_inline.backend_inline",
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


#: uids claimed by this process: their sandboxes run in their cgroups (bwrap_argv)
_claimed: set[int] = set()


@contextmanager
def claim_uid():
    """A sandbox uid no other sandbox on this machine is using, held until exit.
    A lock file per uid (flock) makes the claim hold across processes: several
    TAs, test workers or Dask workers on one machine never share a uid. The
    uid's cgroup lives as long as the claim; a killed grader's processes and
    cgroup under this uid are swept when it is claimed again."""
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
            close_cgroup(uid)
            _claimed.add(uid)
            yield uid
        finally:
            _claimed.discard(uid)
            close_cgroup(uid)
            handle.close()
        return
    raise SandboxUnavailable(f"all {UID_COUNT} sandbox uids are in use")


def kill_uid(uid: int) -> int:
    """SIGKILL every process running as `uid` (a sandbox uid, never a person's).

    Killing bwrap does not end the sandbox (--die-with-parent watches bwrap's
    parent, not bwrap), and a student's forked children may outlive the kernel;
    each running sandbox has a uid of its own, so this ends exactly one."""
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
    """Run a trivial command in the sandbox once, the way grading does (claimed
    uid, its cgroup, a job folder of its own); raise SandboxUnavailable with the reason."""
    global _checked
    if _checked:
        return
    with job_folder(prefix="cnnlab-probe-") as tmp, claim_uid() as uid:
        job = Path(tmp) / "job"
        prepare_job_dir(job, uid)
        argv = bwrap_argv(job, [sys.executable, "-c", "import os; print(os.getuid())"], uid=uid)
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise SandboxUnavailable(f"the sandbox does not start: {exc}") from None
        if proc.returncode != 0 or proc.stdout.strip() != str(uid):
            reason = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            raise SandboxUnavailable(f"the sandbox does not start: {reason}")
    _checked = True
