"""The feedback summary shows each hint letter for letter in the rendered page.

Hints are written as prose with formulas (`(i*stride, j*stride)`); rendered as
Markdown, `*` became emphasis and a student read "(i<em>stride, j</em>stride)".
"""
from __future__ import annotations

import html
import re

import nbformat
from nbconvert import HTMLExporter
from traitlets.config import Config

from cnnlab.preprocessors import FeedbackSummary, literal

HINT = "stride 2: the window starts at (i*stride, j*stride), not (i, j); see a_b and `x[::2]` | $k$ [link](u) \\n <b>"


def _graded_notebook():
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("check_function('conv2d', ...)")
    cell.metadata["nbgrader"] = {"grade": True, "grade_id": "conv2d_hidden", "points": 4, "score": 1.0,
                                 "solution": False, "locked": True}
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=f"✗ {HINT}\n")]
    nb.cells.append(cell)
    return nb


def _page_text(page: str) -> str:
    body = re.sub(r"<(script|style)\b.*?</\1>", "", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", "", body))


def test_a_hint_reaches_the_rendered_page_letter_for_letter():
    nb, _ = FeedbackSummary(config=Config({"FeedbackSummary": {"videos": False}})).preprocess(
        _graded_notebook(), {})
    summary = nb.cells[0]
    assert summary.cell_type == "markdown" and "Your results: 1 / 4" in summary.source
    page, _ = HTMLExporter(template_name="lab").from_notebook_node(nb)
    hint_cell = page.split("✗")[1].split("</td>")[0]  # the summary table's cell (the graded cell's output follows)
    assert _page_text(hint_cell).strip() == HINT
    assert not re.search(r"<(em|strong|code|a|b|span class=\"math)\b", hint_cell.split(">", 1)[1]), hint_cell


def test_literal_leaves_plain_words_alone_and_hides_every_markup_character():
    assert literal("wrong values when stride=2") == "wrong values when stride=2"
    assert not set(literal("*_`[]|\\~$#<>&")) & set("*_`[]|\\~$<>")
