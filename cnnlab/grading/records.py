"""Records of work whose outcome depends only on what can be hashed, kept in cnnlab's cache
folder (`CNNLAB_CACHE`, default ~/.cache/cnnlab/) so that a later run need not do it again:
the canary's passes (canary.py) and the lesson figures drawn once (figures.py, run.py).

A record is named by the SHA-256 of its inputs and written whole or not at all (a
temporary file renamed into place). One that cannot be read is as good as none: the work is
done again. Nothing of a student's reaches a record: both kinds are made from the
instructor's release notebook and answers only.
"""
from __future__ import annotations

import hashlib
import json
import os
import socket
import sys
from pathlib import Path

from .fontcache import cnnlab_cache


def hash_files(digest, root: Path, patterns: tuple[str, ...] = ("**/*",)) -> None:
    for pattern in patterns:
        for path in sorted(root.glob(pattern)):
            if path.is_file() and "__pycache__" not in path.parts and ".ipynb_checkpoints" not in path.parts:
                digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")


def _site_folders() -> list[Path]:
    return sorted({Path(p) for p in sys.path if p.endswith("-packages") and Path(p).is_dir()})


def environment() -> str:
    """A fingerprint of where notebooks run, taken there (this process, or a Dask
    worker): what decides whether the sandboxed kernel can import the probe."""
    from . import sandbox

    digest = hashlib.sha256(socket.gethostname().encode() + b"\0")
    for path in (sys.executable, sandbox.python_home(), sandbox.venv_home(), sandbox.package_dir()):
        digest.update(str(path).encode() + b"\0")
    hash_files(digest, sandbox.package_dir(), ("**/*.py",))
    for site in _site_folders():
        # which cnnlab an interpreter imports: editable-install finders and .pth files
        hash_files(digest, site, ("*.pth", "__editable__*", "cnnlab*.dist-info/*"))
    return digest.hexdigest()


def record_folder(kind: str) -> Path:
    """Where the records of one kind ("canary", "lesson-figures") are kept."""
    return cnnlab_cache() / kind


def record_path(kind: str, key: str) -> Path:
    return record_folder(kind) / f"{key}.json"


def remember(kind: str, key: str, what) -> None:
    try:
        path = record_path(kind, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(what), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        pass  # no cache folder: the work is done again next time, nothing else changes


def recall(kind: str, key: str):
    """The record's content, or None when there is none or it cannot be read."""
    try:
        return json.loads(record_path(kind, key).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _installed(digest) -> None:
    """Every distribution of this interpreter's site folders, by name and version (matplotlib,
    NumPy, Pillow and the rest decide how a figure is drawn)."""
    for site in _site_folders():
        digest.update(("\0".join(sorted(p.name for p in site.glob("*.dist-info")))).encode() + b"\0")


def figures_key(release_text: str, files: dict[str, bytes], settings: dict) -> str:
    """What decides the figures a run of the release notebook draws here: the notebook, the
    course files it may read, the execute settings, where it runs (environment()), the installed
    libraries and the font list lent to the sandbox (fontcache.py)."""
    from .fontcache import font_list

    digest = hashlib.sha256(b"lesson-figures-v1\0" + release_text.encode("utf-8", "surrogatepass") + b"\0")
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    digest.update(json.dumps(settings, sort_keys=True, default=str).encode() + b"\0")
    digest.update(environment().encode() + b"\0")
    _installed(digest)
    fonts = font_list()
    digest.update(fonts.read_bytes() if fonts is not None and fonts.is_file() else b"no font list")
    return digest.hexdigest()
