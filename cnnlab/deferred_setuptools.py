"""The `cnnlab` command's nbgrader without setuptools until nbgrader unpacks an archive.

`import nbgrader` runs `from setuptools.archive_util import unpack_archive,
unpack_tarfile, unpack_zipfile` (nbgrader/utils.py, for its `unzip`, which only
collecting zip files calls), and importing setuptools (distutils, pkg_resources'
vendored packages) took about 0.2 s of every grading command's start here, on
the coordinator, before the first submission can be handed out.

`install()` puts a stand-in module under that name until setuptools is imported
for real: its three functions import the real module on first call and
delegate to it, and any other name read from it does the same, so code that
uses `setuptools.archive_util` (nbgrader's `unzip`, a plugin) works unchanged,
one import later. Only the command's own process installs it (cli.entry): never
a kernel, where a student's `import setuptools` must find what her JupyterLab does.
"""
from __future__ import annotations

import importlib
import sys
import types

NAME = "setuptools.archive_util"
DELEGATED = ("unpack_archive", "unpack_tarfile", "unpack_zipfile")


def real():
    """The real setuptools.archive_util, imported now if the stand-in is still in its place."""
    if isinstance(sys.modules.get(NAME), _StandIn):
        del sys.modules[NAME]
    return importlib.import_module(NAME)


class _StandIn(types.ModuleType):
    def __getattr__(self, name: str):  # only for names not defined on the stand-in itself
        if name.startswith("__"):  # the import system asks every module for __path__ (a package?)
            raise AttributeError(name)
        return getattr(real(), name)


def _delegate(name: str):
    def function(*args, **kwargs):
        return getattr(real(), name)(*args, **kwargs)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"setuptools.archive_util.{name}, imported on its first call (cnnlab/deferred_setuptools.py)."
    return function


def install() -> None:
    """Put the stand-in in place, unless setuptools.archive_util is already imported."""
    if NAME in sys.modules:
        return
    stand_in = _StandIn(NAME, __doc__)
    for name in DELEGATED:
        setattr(stand_in, name, _delegate(name))
    sys.modules[NAME] = stand_in
