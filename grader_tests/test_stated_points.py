"""What a notebook tells students an exercise is worth is what nbgrader records.

Every place a source notebook states points is read and compared with the
nbgrader metadata of the cells it speaks of:
- "How this notebook is graded (N points)": the notebook's total;
- exercise headings "Exercise 3 — ... (2 points)" (or "(2 + 2 points)"): the graded
  cells from that heading to the next exercise heading;
- part labels "**(a)** ... (3 points)": the graded cells from that paragraph to the next part;
- the first line of a test cell, "(2 points)", "(0 points)" or "no points of their own";
- a grading table with Visible and Hidden columns: each row's numbers against the
  visible and hidden cells of the function or variable it names in backticks.
"""
from __future__ import annotations

import re

import pytest

from cnnlab.nbtools import grade_id, nbgrader_meta

from conftest import assignment_ids

STATED = re.compile(r"\((\d+(?:\.\d+)?(?:\s*\+\s*\d+(?:\.\d+)?)*) points?\)")
EXERCISE = re.compile(r"^#{2,4} Exercises? ")
PART = re.compile(r"^\*\*\(([a-z])\)\*\*")
TOTAL = re.compile(r"(?:worth|Total:) \*\*(\d+(?:\.\d+)?) points\*\*")


def _stated(text: str) -> float | None:
    m = STATED.search(text)
    return None if m is None else sum(float(p) for p in m.group(1).split("+"))


def _points(cell) -> float:
    meta = nbgrader_meta(cell)
    return float(meta.get("points", 0)) if meta.get("grade") else 0.0


def _notebooks(course):
    for a in course.assignments:
        for nb in a.notebooks:
            yield a.id, nb, course.read_source(a.id, nb)


HEADING = re.compile(r"^#+ ")


def _level(line: str) -> int:
    return len(line) - len(line.lstrip("#"))


def _ends(kind: str, level: int, other: str, other_level: int) -> bool:
    """Whether a later mark ends an exercise heading or a part: a part ends at the next mark of
    any kind; an exercise at the next heading of its level or above (its own parts do not end it)."""
    if kind == "part":
        return True
    return other != "part" and other_level <= level


def _exercise_spans(cells) -> list[tuple[str, float | None, float]]:
    """(heading, stated points, points of the graded cells under it) for every exercise
    heading and every **(a)** part: a heading runs to the next heading of its level or
    above, a part to the next part or heading."""
    marks = []  # (cell index, line, kind, level)
    for i, c in enumerate(cells):
        if c.cell_type != "markdown":
            continue
        for line in c.source.splitlines():
            if HEADING.match(line):
                marks.append((i, line, "exercise" if EXERCISE.match(line) else "heading", _level(line)))
            elif PART.match(line):
                marks.append((i, line, "part", 99))
    out = []
    for k, (i, line, kind, level) in enumerate(marks):
        if kind == "heading":
            continue
        end = next((j for j, _, other, lv in marks[k + 1:] if _ends(kind, level, other, lv)), len(cells))
        out.append((line, _stated(line), sum(_points(c) for c in cells[i:end])))
    return out


@pytest.mark.parametrize("assignment_id", assignment_ids())
def test_exercise_headings_and_parts_state_the_recorded_points(course, assignment_id):
    a = course.assignment(assignment_id)
    checked = 0
    for nb in a.notebooks:
        for title, stated, recorded in _exercise_spans(course.read_source(assignment_id, nb).cells):
            assert stated is not None, f"{nb}: '{title}' does not say what it is worth"
            assert stated == recorded, f"{nb}: '{title}' says {stated:g} points; nbgrader records {recorded:g}"
            checked += 1
    assert checked >= 5


@pytest.mark.parametrize("assignment_id", assignment_ids())
def test_test_cells_and_totals_state_the_recorded_points(course, assignment_id):
    a = course.assignment(assignment_id)
    for nb in a.notebooks:
        cells = course.read_source(assignment_id, nb).cells
        total = sum(_points(c) for c in cells)
        for c in cells:
            if c.cell_type == "markdown" and "How this notebook is graded" in c.source:
                stated = _stated(c.source.splitlines()[0])
                if stated is not None:
                    assert stated == total, f"{nb}: the grading section says {stated:g} points; the cells hold {total:g}"
            for said in (TOTAL.findall(c.source) if c.cell_type == "markdown" else []):
                assert float(said) == total, f"{nb}: the notebook says it is worth {said} points; the cells hold {total:g}"
            meta = nbgrader_meta(c)
            if c.cell_type != "code" or not meta.get("grade") or meta.get("solution"):
                continue
            first = c.source.splitlines()[0]
            stated = 0.0 if "no points of their own" in first else _stated(first)
            assert stated is not None, f"{nb}/{grade_id(c)}: its first line does not say what it is worth: {first}"
            assert stated == _points(c), f"{nb}/{grade_id(c)} says {stated:g} points; nbgrader records {_points(c):g}"


def _tables(source: str):
    """Markdown tables with a Visible and a Hidden column, as lists of row dicts."""
    lines = [line.strip() for line in source.splitlines()]
    for i, line in enumerate(lines):
        cols = [c.strip() for c in line.strip("|").split("|")] if line.startswith("|") else []
        if "Visible" in cols and "Hidden" in cols:
            rows = []
            for row in lines[i + 2:]:
                if not row.startswith("|"):
                    break
                rows.append(dict(zip(cols, (c.strip() for c in row.strip("|").split("|")))))
            yield rows


def test_grading_tables_state_the_points_of_visible_and_hidden_cells(course):
    seen = 0
    for assignment_id, nb, source in _notebooks(course):
        ids = {grade_id(c): _points(c) for c in source.cells if grade_id(c)}
        for table in (t for c in source.cells if c.cell_type == "markdown" for t in _tables(c.source)):
            for row in table:
                name = re.search(r"`(\w+)`", " ".join(row.values()))
                if name is None:   # the Total row
                    continue
                name = name.group(1)
                for column, suffix in (("Visible", "_visible"), ("Hidden", "_hidden")):
                    stated = row[column].replace("–", "0").replace("-", "0") or "0"
                    assert float(stated) == ids.get(name + suffix, 0.0), \
                        f"{assignment_id}: the grading table gives {name}'s {column.lower()} check " \
                        f"{stated} point(s); nbgrader records {ids.get(name + suffix, 0.0):g}"
                    seen += 1
    assert seen > 0, "no grading table was found: the test would check nothing"


@pytest.mark.parametrize("assignment_id", assignment_ids())
def test_every_answer_cell_has_a_format_check_worth_0_points(course, assignment_id):
    """A student who types "ACEG" or "3x3x3x16" hears it from a visible check before grading,
    instead of silently scoring 0: the first graded cell after each answer cell is its 0-point check."""
    a = course.assignment(assignment_id)
    answers = 0
    for nb in a.notebooks:
        cells = course.read_source(assignment_id, nb).cells
        for i, c in enumerate(cells):
            if not nbgrader_meta(c).get("solution"):
                continue
            answers += 1
            name = grade_id(c).removesuffix("_answer")
            assert grade_id(c) == f"{name}_answer", f"{nb}: answer cell {grade_id(c)} is not named NAME_answer"
            after = next((d for d in cells[i + 1:] if nbgrader_meta(d).get("grade")), None)
            assert after is not None and grade_id(after) == f"{name}_visible", \
                f"{nb}: {grade_id(c)} is not followed by its format check {name}_visible"
            assert _points(after) == 0 and nbgrader_meta(after).get("locked"), \
                f"{nb}: {name}_visible must be a locked check worth 0 points"
            assert "assert" in after.source and "print(" in after.source, \
                f"{nb}: {name}_visible checks nothing or says nothing"
    assert answers >= 5
