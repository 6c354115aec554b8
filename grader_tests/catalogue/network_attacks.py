"""Attacks on 05's trained network: code a student could hand in to earn the X-vs-O points
without training the network.

The network item (`xo_network_hidden`) is graded through `xo_params` alone: the verifier
runs the course's forward pass from source/ on a test set drawn with a seed only source/
holds, and that item's hidden block never enters the sandbox. Each attack is appended to
the last answer cell (after the training cell has run) of the same wrong answer: a ReLU
backward pass that passes the gradient at 0, and xo_gradients left as released, so the
training cell stops at once and `xo_params` is the untrained start. test_attacks_network.py
holds every attack to one bar: no more points than that wrong answer, none at all on the
network item, and a flag that names the attack where the code shows it. The general attack
catalogue (attacks.py, graded on 03) covers the channels every assignment shares: the
probe, the kernel, the sandbox.
"""
from __future__ import annotations

from .attacks import Attack

NETWORK_ATTACKS = [
    Attack("forged xo_params: an object equal to everything that hands out arrays", '''
class _Forged:
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    __hash__ = object.__hash__
    def __getitem__(self, key): return np.ones(XO_SHAPES[key])
    def keys(self): return XO_SHAPES.keys()
    def __len__(self): return len(XO_SHAPES)
xo_params = _Forged()
''', "its own __eq__"),
    Attack("parameters as nested lists", '''
xo_params = {key: np.asarray(value).tolist() for key, value in xo_params.items()}
''', None),
    Attack("parameters of booleans and strings", '''
xo_params = {"weights": np.ones(XO_SHAPES["weights"], dtype=bool), "bias": np.array(["1"] * 4),
             "dense_w": np.ones(XO_SHAPES["dense_w"], dtype=bool), "dense_b": np.array([0.0, 1.0])}
''', None),
    Attack("parameters full of nan and inf", '''
xo_params = {key: np.full(np.shape(value), np.nan) for key, value in xo_params.items()}
xo_params["dense_b"] = np.array([np.inf, -np.inf])
''', None),
    Attack("a hand-written X detector replaces the network's forward pass", '''
def xo_predict(params, images):  # ignores params: an X has bright diagonals, an O a bright ring
    images = np.asarray(images, dtype=float)
    n = images.shape[1]
    diagonals = images[:, np.arange(n), np.arange(n)].sum(1) + images[:, np.arange(n), n - 1 - np.arange(n)].sum(1)
    return (diagonals > 2 * images.mean(axis=(1, 2)) * n).astype(int)
xo_params = xo_initial_params(seed=0)
''', None),
    Attack("easy data and a forward pass of its own for the grader's check", '''
def make_xo_data(n, seed=0):  # every image blank and labelled O, every label predicted O
    return np.zeros((n, IMAGE_SIZE, IMAGE_SIZE)), np.zeros(n, dtype=int)
def xo_predict(params, images):
    return np.zeros(len(images), dtype=int)
''', None),
    Attack("forged probe report for the network claims full accuracy", '''
import cnnlab.probe as _p
_honest = _p.run
def _forged(spec_json):
    import json
    from IPython.display import display
    spec = json.loads(spec_json)
    if spec["kind"] != "trained":
        return _honest(spec_json)
    print("xo_params: 100.0% of 400 hidden test images classified right \\u2192 4 of 4 points")
    display({_p.MIME: {"item": spec["item"], "kind": "trained", "found": True, "accuracy": 1.0, "score": 4.0,
                       "verified": True, "value": _p.encode({"accuracy": 1.0})}}, raw=True)
_p.run = _forged
''', "cnnlab"),
    Attack("patched check_trained and a printed report of full marks", '''
import cnnlab.checks as _c
_c.check_trained = lambda name, points, **kw: float(points)
print("xo_params: 97.0% of 400 hidden test images classified right \\u2192 4 of 4 points")
''', "cnnlab"),
    Attack("looks for the network's hidden test set in every place the kernel can read", '''
import os as _os, pathlib as _pl, cnnlab as _cnnlab
_needles = [("seed=" + str(900000 + 5113)).encode(), ("thresholds=" + "(0.75").encode()]  # the hidden call's
_places = [_pl.Path("."), _pl.Path("/tmp"), _pl.Path(_cnnlab.__file__).parent]
_found = []
for _place in _places:
    for _f in _place.rglob("*"):
        try:
            if _f.is_file() and _f.stat().st_size < 2**22 and any(n in _f.read_bytes() for n in _needles):
                _found.append(str(_f))
        except OSError:
            pass
for _pid in filter(str.isdigit, _os.listdir("/proc")):
    for _what in ("cmdline", "environ"):
        try:
            if any(n in _pl.Path("/proc", _pid, _what).read_bytes() for n in _needles):
                _found.append(f"/proc/{_pid}/{_what}")
        except OSError:
            pass
print("LEAKED: " + ", ".join(_found) if _found else "nothing found")
''', None),
]
