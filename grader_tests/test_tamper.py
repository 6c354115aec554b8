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
        mistakes, alternatives = load_catalogue(course, assignment_id)
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
