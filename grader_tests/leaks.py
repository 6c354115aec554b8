"""What must never reach a student: hidden test source, expected values of the
hidden cases, solution lines. `feedback_leaks` reads a feedback file as the
student sees it (HTML tags dropped, entities decoded, so code split into
highlighting spans is whole again) and lists whatever of those it finds.
"""
from __future__ import annotations

import html
import re
from pathlib import Path

import numpy as np

from cnnlab.items.hidden import hidden_block, hidden_items
from cnnlab.nbtools import nbgrader_meta


def visible_text(path: Path) -> str:
    text = path.read_text(encoding="utf-8", errors="replace")
    text = re.sub(r"<style.*?</style>|<script.*?</script>", " ", text, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", "", text))


def notebook_text(path: Path) -> str:
    """The cells' sources of a notebook (what its author wrote), '' if it is not readable."""
    import nbformat

    try:
        nb = nbformat.read(path, as_version=4)
    except Exception:
        return ""
    return "\n".join(c.source for c in nb.cells)


def own_outputs(path: Path) -> str:
    """What the student's own cells printed when graded (their code, their values):
    the outputs of every cell of the autograded notebook that is not a test cell."""
    import nbformat

    try:
        nb = nbformat.read(path, as_version=4)
    except Exception:
        return ""
    texts = []
    for cell in nb.cells:
        if cell.cell_type != "code" or nbgrader_meta(cell).get("grade"):
            continue
        for output in cell.get("outputs", []):
            texts.append(str(output.get("text", "")))
            texts += [str(v) for k, v in output.get("data", {}).items() if k.startswith("text/")]
    return "\n".join(texts)


def secrets(source_nb) -> dict[str, set[str]]:
    """{"hidden": lines of hidden blocks, "solution": solution lines, "expected": expected values}."""
    hidden, solution, expected = set(), set(), set()
    for cell in source_nb.cells:
        meta = nbgrader_meta(cell)
        block = hidden_block(cell.source) if meta.get("grade") else None
        if block:
            hidden |= {ln.strip() for ln in block.splitlines() if len(ln.strip()) >= 12}
        if meta.get("solution"):
            inside = False
            for line in cell.source.splitlines():
                if "### BEGIN SOLUTION" in line or "### END SOLUTION" in line:
                    inside = "BEGIN" in line
                elif inside and len(line.strip()) >= 20:
                    solution.add(line.strip())
    for item in hidden_items(source_nb).values():
        if item.kind == "function":
            reference, cases = item.args[0], item.args[1]
            for case in cases:
                if case.raises or case.check:
                    continue
                try:
                    out = np.asarray(reference(*case.args, **case.kwargs), dtype=float).ravel()
                except Exception:
                    continue
                for v in out[:50]:
                    text = np.format_float_positional(v, precision=4, trim="-")
                    if len(text.split(".")[-1]) >= 3 and "." in text:  # distinctive enough to search for
                        expected.add(text)
        elif item.kind == "number":
            value = item.args[0]
            if abs(value) >= 1000:
                expected |= {f"{value:g}", f"{int(value)}", f"{int(value):,}"}
    return {"hidden": hidden, "solution": solution, "expected": expected}


def feedback_leaks(feedback: Path, known: dict[str, set[str]], allowed_text: str) -> list[str]:
    """What of `known` the feedback file shows that `allowed_text` (the release
    notebook and the student's own submission) does not already hold."""
    text = visible_text(feedback)
    found = []
    for kind, values in known.items():
        for value in values:
            if value in text and value not in allowed_text:
                found.append(f"{kind}: {value}")
    return found
