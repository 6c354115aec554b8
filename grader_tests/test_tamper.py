"""Reading a submission's code for tampering: every honest answer of the
course reads clean, each pattern is named, and library convolution is traced
to the graded function that reaches it."""
from __future__ import annotations

import nbformat
import pytest

from cnnlab.grading.tamper import scan
from cnnlab.nbtools import fill_answers, instructor_answers
from cnnlab.simulate import load_catalogue

from conftest import assignment_ids


def _notebook(*sources):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    return nb


@pytest.mark.parametrize("assignment_id", assignment_ids())
def test_honest_answers_are_not_flagged(course, assignment_id):
    for nb_name in course.assignment(assignment_id).notebooks:
        release = nbformat.read(course.root / "release" / assignment_id / f"{nb_name}.ipynb", as_version=4)
        answers = instructor_answers(course.read_source(assignment_id, nb_name))
        assert scan(fill_answers(release, answers), []).attacks == []
        mistakes, alternatives = load_catalogue(assignment_id)
        for variant in mistakes + alternatives:
            if "scipy" in variant.name:
                continue
            findings = scan(fill_answers(release, {**answers, variant.cell_id: variant.code}), [variant.item])
            assert findings.attacks == [] and findings.forbidden == {}, variant.name


@pytest.mark.parametrize("code,phrase", [
    ("get_ipython().input_transformers_post.append(f)", "input transformer"),
    ("ip = get_ipython()\nip.ast_transformers.insert(0, T())", "AST transformer"),
    ("get_ipython().events.register('pre_run_cell', hook)", "event hook"),
    ("import numpy as np\nnp.allclose = lambda *a, **k: True", "patches NumPy"),
    ("import numpy\nsetattr(numpy.testing, 'assert_allclose', print)", "patches NumPy"),
    ("from numpy import testing as t\nt.assert_array_equal = print", "patches NumPy"),
    ("class Yes:\n    def __eq__(self, other):\n        return True", "its own __eq__"),
    ("Yes = type('Yes', (), {'__eq__': lambda s, o: True})", "its own __eq__"),
    ("import os as o\no._exit(0)", "os._exit"),
    ("import sys as s\ndel s.modules['numpy']", "sys.modules"),
    ("import socket", "network"),
    ("import urllib.request", "network"),
    ("import subprocess", "starts processes"),
    ("import os\nos.fork()", "fork"),
    ("open('/work/course/gradebook.db', 'rb')", "grader's files"),
    ("import cnnlab.checks", "cnnlab"),
    ("exec(open('x').read())", "built at run time"),
    ("%load_ext something\nget_ipython().showtraceback = None", "silences tracebacks"),
])
def test_each_pattern_is_named(code, phrase):
    attacks = scan(_notebook(code), []).attacks
    assert any(phrase in a for a in attacks), attacks


def test_library_convolution_is_traced_to_the_function_that_reaches_it():
    nb = _notebook(
        "import numpy as np\nimport scipy.signal as ss\nfrom scipy import ndimage",
        "def helper(x, k):\n    return ss.correlate2d(x, k, mode='valid')",
        "def cross_correlate2d(image, kernel):\n    return helper(image, kernel).astype(float)",
        "def pool2d(x, size=2, stride=None, mode='max'):\n    return x[::size, ::size].astype(float)",
        "def zero_pad(x, pad):\n    import importlib\n    return importlib.import_module('scipy.ndimage')",
        "conv2d = ndimage.convolve",
    )
    findings = scan(nb, ["cross_correlate2d", "pool2d", "zero_pad", "conv2d"])
    assert findings.forbidden["cross_correlate2d"] == ["scipy.signal", "scipy.signal.correlate2d"]
    assert "pool2d" not in findings.forbidden
    assert findings.forbidden["zero_pad"] == ["scipy.ndimage"]
    assert "scipy.ndimage.convolve" in findings.forbidden["conv2d"]


def test_unparsable_cells_are_skipped_not_fatal():
    assert scan(_notebook("def broken(:\n", "x = 1"), ["broken"]).attacks == []


RUN_TIME = "a module imported by a name built at run time"


@pytest.mark.parametrize("code", [
    # a closure: the graded function is what a factory returns
    "def _make():\n    from scipy import ndimage\n"
    "    def pool(x, size=2, stride=None, mode='max'):\n"
    "        return ndimage.maximum_filter(x, size)[::size, ::size]\n"
    "    return pool\npool2d = _make()",
    # a lambda from a factory, the library imported by a name built from pieces
    "import importlib\ndef _factory():\n    nd = importlib.import_module('sci' + 'py.nd' + 'image')\n"
    "    return lambda x, size=2, stride=None, mode='max': nd.maximum_filter(x, size)\npool2d = _factory()",
    # a default argument, __import__ of a joined name
    "def pool2d(x, size=2, stride=None, mode='max',\n"
    "           _f=__import__(''.join(['sci', 'py.', 'nd', 'image']), fromlist=['_']).maximum_filter):\n"
    "    return _f(x, size)[::size, ::size]",
    # an f-string from a module-level constant
    "import importlib\n_part = 'ndimage'\ndef pool2d(x, size=2, stride=None, mode='max'):\n"
    "    return importlib.import_module(f'scipy.{_part}').maximum_filter(x, size)",
    # getattr of a built name on an allowed parent
    "import scipy\ndef pool2d(x, size=2, stride=None, mode='max'):\n"
    "    nd = getattr(scipy, 'nd' + 'image')\n    return getattr(nd, 'maximum_' + 'filter')(x, size)",
    # sys.modules with a built key, and the name reversed
    "import sys\ndef pool2d(x, size=2, stride=None, mode='max'):\n"
    "    return sys.modules['egamidn.ypics'[::-1]].maximum_filter(x, size)",
    # bound through globals() by a helper that runs at import
    "def _install():\n    import scipy.ndimage as nd\n"
    "    globals()['pool2d'] = lambda x, *a, **k: nd.maximum_filter(x, 2)\n_install()",
    # exec of a constant string
    "def pool2d(x, size=2, stride=None, mode='max'):\n    ns = {}\n"
    "    exec('from scipy.ndimage import maximum_filter as f', ns)\n    return ns['f'](x, size)",
    # a file path into the library's folder
    "import importlib.util as u, site\ndef pool2d(x, size=2, stride=None, mode='max'):\n"
    "    spec = u.spec_from_file_location('m', site.getsitepackages()[0] + '/scipy/ndimage/__init__.py')\n"
    "    m = u.module_from_spec(spec)\n    spec.loader.exec_module(m)\n    return m.maximum_filter(x, size)",
], ids=["closure", "factory-lambda", "default-arg", "f-string", "getattr", "sys-modules", "globals", "exec",
        "file-path"])
def test_library_use_through_closures_and_built_names_is_found(code):
    forbidden = scan(_notebook("import numpy as np", code), ["pool2d"]).forbidden
    assert "pool2d" in forbidden and any("scipy.ndimage" in n or n == RUN_TIME for n in forbidden["pool2d"]), forbidden


@pytest.mark.parametrize("code", [
    "import importlib, base64\ndef pool2d(x, size=2, stride=None, mode='max'):\n"
    "    return importlib.import_module(base64.b64decode(b'c2NpcHkubmRpbWFnZQ==').decode()).maximum_filter(x, size)",
    "def _name():\n    return open('name.txt').read().strip()\n"
    "def pool2d(x, size=2, stride=None, mode='max'):\n    return __import__(_name()).maximum_filter(x, size)",
    "import importlib\n_load = importlib.import_module\ndef pool2d(x, size=2, stride=None, mode='max'):\n"
    "    return _load(''.join(chr(c + 1) for c in [114, 98, 104, 111, 120]))",
], ids=["base64", "read-from-a-file", "aliased-importer-chr"])
def test_an_import_by_a_name_that_cannot_be_read_counts_as_forbidden(code):
    forbidden = scan(_notebook(code), ["pool2d"]).forbidden
    assert RUN_TIME in forbidden.get("pool2d", []), forbidden


def test_the_library_attack_of_the_catalogue_is_found():
    from catalogue.attacks import ATTACKS

    attack = next(a for a in ATTACKS if a.name.startswith("library pooling from the base interpreter"))
    forbidden = scan(_notebook("import numpy as np", attack.code), ["pool2d"]).forbidden
    assert "scipy.ndimage" in forbidden.get("pool2d", []), forbidden


@pytest.mark.parametrize("code", [
    "def pool2d(x, size=2, stride=None, mode='max'):\n"
    "    '''Like scipy.ndimage.maximum_filter, then every stride-th value: written here with loops.'''\n"
    "    stride = size if stride is None else stride\n    x = np.asarray(x, dtype=float)\n"
    "    h, w = (x.shape[0] - size) // stride + 1, (x.shape[1] - size) // stride + 1\n"
    "    reduce = getattr(np, 'max' if mode == 'max' else 'mean')\n"
    "    return np.array([[reduce(x[i*stride:i*stride+size, j*stride:j*stride+size], axis=(0, 1))\n"
    "                      for j in range(w)] for i in range(h)])",
    "def cross_correlate2d(image, kernel):\n"
    "    windows = np.lib.stride_tricks.sliding_window_view(image, kernel.shape)\n"
    "    return np.einsum('ijkl,kl->ij', windows, kernel).astype(float)",
    "from numpy.lib.stride_tricks import as_strided\n_spec = 'ij,ij->'\n"
    "def cross_correlate2d(image, kernel):\n    image = np.asarray(image, dtype=float)\n"
    "    kh, kw = kernel.shape\n    h, w = image.shape[0] - kh + 1, image.shape[1] - kw + 1\n"
    "    s0, s1 = image.strides\n    v = as_strided(image, (h, w, kh, kw), (s0, s1, s0, s1))\n"
    "    return np.einsum(f'ab{_spec[:2]},{_spec[3:5]}->ab', v, kernel)",
], ids=["loops-getattr-numpy", "einsum-sliding-window", "as-strided-fstring"])
def test_honest_numpy_answers_are_not_forbidden(code):
    findings = scan(_notebook("import numpy as np", code), ["pool2d", "cross_correlate2d"])
    assert findings.forbidden == {}, findings.forbidden
