"""cnnlab parses Python one thread at a time (cnnlab/syntax.py): CPython 3.11's
AST constructor shares its recursion depth between threads, and a grading run,
like `cnnlab otter`, parses in several."""
from __future__ import annotations

import ast
import threading
import time
import types
from pathlib import Path

from cnnlab import syntax

PACKAGE = Path(__file__).resolve().parents[1] / "cnnlab"


def test_two_threads_never_parse_at_once(monkeypatch):
    inside, most = [0], [0]
    count = threading.Lock()
    real = ast.parse

    def slow_parse(source, filename="<unknown>"):
        with count:
            inside[0] += 1
            most[0] = max(most[0], inside[0])
        time.sleep(0.005)  # a window wide enough for the other thread to walk in, were it let
        try:
            return real(source, filename)
        finally:
            with count:
                inside[0] -= 1

    monkeypatch.setattr(syntax, "ast", types.SimpleNamespace(parse=slow_parse))  # what syntax.py calls
    trees = []
    threads = [threading.Thread(target=lambda: trees.extend(syntax.parse("x = 1") for _ in range(20)))
               for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(trees) == 60 and all(isinstance(t.body[0], ast.Assign) for t in trees)
    assert most[0] == 1


def test_a_syntax_error_still_reaches_the_caller():
    try:
        syntax.parse("def (:", "<cell>")
    except SyntaxError as exc:
        assert exc.filename == "<cell>"
    else:
        raise AssertionError("a broken cell parsed")
    syntax.parse("y = 2")  # and the lock was given back


def test_no_module_of_cnnlab_calls_ast_parse_itself():
    """A new caller of ast.parse would bring the race back wherever it runs in a thread."""
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if path.name == "syntax.py" and path.parent == PACKAGE:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "parse"
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "ast"):
                offenders.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}")
            if isinstance(node, ast.ImportFrom) and node.module == "ast" and any(a.name == "parse" for a in node.names):
                offenders.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}")
    assert offenders == []
