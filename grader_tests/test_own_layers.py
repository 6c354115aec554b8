"""04's section 9: the student's own conv2d, ReLU and pool2d run the shape table's network.

The two cells (tagged own-layers in source/) run here as a student would run them: with the
stubs untouched, with 02's and 03's reference layers pasted in, and with a pooling layer that
ignores its stride. Nothing here is graded, so nothing runs through nbgrader.
"""
from __future__ import annotations

import contextlib
import io

import numpy as np

from cnnlab.nbtools import instructor_answers

A, NB = "04_dimensions", "dimensions"


def _cells(course):
    source = course.read_source(A, NB)
    stub, run = [c.source for c in source.cells if "own-layers" in c.metadata.get("tags", [])]
    answers = instructor_answers(source)
    return stub, run, answers["layer_shapes_answer"] + "\n" + answers["layer_params_answer"]


def _layers(course):
    conv = instructor_answers(course.read_source("02_kernels", "kernels"))["conv2d_answer"]
    pool = instructor_answers(course.read_source("03_padding_pooling", "padding_pooling"))["pool2d_answer"]
    return conv, pool


def _run(*sources) -> str:
    namespace, out = {"np": np}, io.StringIO()
    with contextlib.redirect_stdout(out):
        for source in sources:
            exec(compile(source, "<cell>", "exec"), namespace)
    return out.getvalue()


def test_the_stubs_ask_for_the_student_s_layers_instead_of_failing(course):
    stub, run, table = _cells(course)
    assert "raise NotImplementedError" in stub
    printed = _run(table, stub, run)
    assert "Not yet: paste your conv2d" in printed and "✗" not in printed


def test_right_layers_and_right_table_agree_on_every_row(course):
    stub, run, table = _cells(course)
    conv, pool = _layers(course)
    printed = _run(table, stub, conv, pool, run)
    rows = [line for line in printed.splitlines() if line.rstrip().endswith(("✓", "✗"))]
    assert len(rows) == 7 and all(r.rstrip().endswith("✓") for r in rows), printed
    assert "(7, 7, 20)" in printed and "9810" in printed and "run the network of your table" in printed


def test_a_pool_that_ignores_its_stride_is_caught_from_its_row_on(course):
    stub, run, table = _cells(course)
    conv, pool = _layers(course)
    wrong_pool = pool.replace("if stride is None:\n        stride = size", "stride = 1")
    assert wrong_pool != pool
    printed = _run(table, stub, conv, wrong_pool, run)
    marks = [line.rstrip()[-1] for line in printed.splitlines() if line.rstrip().endswith(("✓", "✗"))]
    assert marks == ["✓", "✓", "✗", "✗", "✗", "✗", "✗"], printed
    assert "disagree on the rows marked ✗" in printed


def test_a_wrong_table_row_is_caught_though_the_layers_are_right(course):
    stub, run, table = _cells(course)
    conv, pool = _layers(course)
    printed = _run(table, "layer_params[3] = 1800\n", stub, conv, pool, run)   # conv2's biases forgotten
    marks = [line.rstrip()[-1] for line in printed.splitlines() if line.rstrip().endswith(("✓", "✗"))]
    assert marks == ["✓", "✓", "✓", "✗", "✓", "✓", "✓"], printed
