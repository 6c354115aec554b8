"""`ast.parse`, one thread at a time, for every module of cnnlab.

CPython 3.11 keeps the AST constructor's recursion depth in interpreter-wide
state and resets it at the start of each parse, so two threads building ast
objects at once can fail with "SystemError: AST constructor recursion depth
mismatch" (python/cpython#106905; pytest#10763 and others hit it too; we saw
it in benchmarks/scale.py). A grading run parses in several threads: each
submission's plan (unrun_figures.py), the verifier's scan (tamper.py), the
lesson's figures drawn ahead (figures.py); `cnnlab otter` builds its
assignments in threads (otter/master.py). Parsing a cell takes well under a
millisecond, so one lock costs nothing measurable and makes every caller
safe wherever it runs, instead of each relying on which lock it holds.
"""
from __future__ import annotations

import ast
import threading

_ONE_AT_A_TIME = threading.Lock()


def parse(source: str, filename: str = "<unknown>") -> ast.Module:
    """`ast.parse(source, filename)`, with its errors, serialised across threads."""
    with _ONE_AT_A_TIME:
        return ast.parse(source, filename)
