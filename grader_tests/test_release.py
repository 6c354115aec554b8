"""What students get: release/ holds no solution and no hidden test, imports only
what the student install provides, and release/ and solutions/ are fresh."""
from __future__ import annotations

import ast
import shutil
import sys

import nbformat

from cnnlab.build import build, source_has_outputs
from cnnlab.nbtools import cells_by_id, nbgrader_meta

STUDENT_INSTALL = {"numpy", "matplotlib"}  # README: pip install numpy matplotlib jupyterlab nbgrader


def _notebooks(course, folder):
    for a in course.assignments:
        for nb in a.notebooks:
            yield a.id, nb, nbformat.read(course.root / folder / a.id / f"{nb}.ipynb", as_version=4)


def _block(source: str, begin: str, end: str) -> list[str]:
    lines, inside = [], False
    for line in source.splitlines():
        if begin in line:
            inside = True
        elif end in line:
            inside = False
        elif inside:
            lines.append(line.strip())
    return lines


def _secret_lines(source: str, begin: str, end: str) -> list[str]:
    """Lines of a hidden/solution block specific enough to identify it."""
    return [ln for ln in _block(source, begin, end) if len(ln) >= 12 and not ln.startswith("#")]


def _lines(source: str) -> set[str]:
    return {ln.strip() for ln in source.splitlines()}


def test_source_notebooks_are_stored_without_outputs(course):
    for a in course.assignments:
        for nb in a.notebooks:
            assert not source_has_outputs(course.source_notebook(a.id, nb)), f"{a.id}/{nb}"


def test_release_holds_no_solution_and_no_hidden_test(course):
    for (a, nb, release), (_, _, source) in zip(_notebooks(course, "release"), _notebooks(course, "source")):
        text = nbformat.writes(release)
        assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text, f"{a}/{nb}"
        released = cells_by_id(release)
        for gid, cell in cells_by_id(source).items():
            secret = _secret_lines(cell.source, "BEGIN SOLUTION", "END SOLUTION") + \
                _secret_lines(cell.source, "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")
            leaked = [ln for ln in secret if ln in _lines(released[gid].source)]
            assert not leaked, f"{a}/{nb} {gid} shows: {leaked[:3]}"


def test_solutions_hold_answers_but_no_hidden_test(course):
    for (a, nb, solution), (_, _, source) in zip(_notebooks(course, "solutions"), _notebooks(course, "source")):
        text = nbformat.writes(solution)
        assert "BEGIN HIDDEN TESTS" not in text and "BEGIN SOLUTION" not in text, f"{a}/{nb}"
        solved = cells_by_id(solution)
        for gid, cell in cells_by_id(source).items():
            for line in _secret_lines(cell.source, "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
                assert line not in _lines(solved[gid].source), f"{a}/{nb} {gid} shows hidden line {line!r}"
            for line in _secret_lines(cell.source, "BEGIN SOLUTION", "END SOLUTION"):
                assert line in _lines(solved[gid].source), f"{a}/{nb} {gid} lacks the answer line {line!r}"


def test_release_notebooks_import_only_what_students_install(course):
    allowed = STUDENT_INSTALL | set(sys.stdlib_module_names)
    for a, nb, release in _notebooks(course, "release"):
        for cell in release.cells:
            if cell.cell_type != "code":
                continue
            tree = ast.parse("\n".join(ln for ln in cell.source.splitlines() if not ln.lstrip().startswith(("%", "!"))))
            for node in ast.walk(tree):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                    [node.module] if isinstance(node, ast.ImportFrom) and node.module else []
                for name in names:
                    assert name.split(".")[0] in allowed, f"{a}/{nb} imports {name}"


def test_hidden_test_cells_tell_students_they_exist(course):
    for a, nb, release in _notebooks(course, "release"):
        for cell in release.cells:
            meta = nbgrader_meta(cell)
            if meta.get("grade_id", "").endswith("_hidden"):
                assert "Hidden tests" in cell.source and f"{meta['points']:g} point" in cell.source, \
                    f"{a}/{nb} {meta['grade_id']}"


def test_build_check_names_a_stale_file(course_copy):
    assignment = course_copy.assignments[-1]
    path = course_copy.source_notebook(assignment.id, assignment.notebooks[0])
    nb = nbformat.read(path, as_version=4)
    first_md = next(c for c in nb.cells if c.cell_type == "markdown")
    first_md.source += "\n\nA sentence the instructor added."
    nbformat.write(nb, str(path))
    report = build(course_copy, [assignment.id], check=True)
    assert f"release/{assignment.id}/{assignment.notebooks[0]}.ipynb" in report.stale
    # solutions/ was not copied into this clone: every one of its files is missing, so stale too
    assert f"solutions/{assignment.id}/{assignment.notebooks[0]}.ipynb" in report.stale


def test_build_runs_a_solution_only_when_it_is_stale(course, course_copy):
    """Fresh solutions are left alone without running them; a stale one is written executed."""
    a = "01_why_cnns"
    shutil.copytree(course.root / "solutions" / a, course_copy.root / "solutions" / a)
    untouched = build(course_copy, [a])
    assert not [w for w in untouched.written if w.startswith(("solutions/", "release/"))]

    path = course_copy.source_notebook(a, "why_cnns")
    nb = nbformat.read(path, as_version=4)
    next(c for c in nb.cells if c.cell_type == "markdown").source += "\n\nA sentence added."
    nbformat.write(nb, str(path))
    edited = build(course_copy, [a])
    assert f"solutions/{a}/why_cnns.ipynb" in edited.written
    written = nbformat.read(course_copy.root / "solutions" / a / "why_cnns.ipynb", as_version=4)
    code = [c for c in written.cells if c.cell_type == "code"]
    assert code and all(c.execution_count for c in code), "a rewritten solution is executed"
