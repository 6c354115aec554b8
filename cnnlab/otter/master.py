"""An nbgrader source notebook → an otter-assign master notebook.

The course is written once, for nbgrader, in source/. This module rewrites
one source notebook in otter's assign format (v1: raw-cell delimiters), so
that `otter assign` can make the Gradescope autograder and the student
notebook with `grader.check` cells from the very same cells:

- every graded item (`<item>_answer` with its `<item>_visible` and
  `<item>_hidden` test cells) becomes one otter question named `<item>`,
  worth the nbgrader points of its hidden cell;
- the answer cell becomes the question's solution: `### BEGIN SOLUTION`
  blocks become otter's (a student sees `...` in a function body, or
  `name = ...` for a value to fill in);
- the visible test cell becomes one public, 0-point test case, a function of
  the names it reads (otter passes them in from the student's globals), so a
  student's `grader.check("conv2d")` runs exactly the asserts nbgrader shows;
- the hidden block becomes one hidden test case per unit of its score (see
  `cnnlab.checks.Unit`): each case runs the verbatim nbgrader block through
  `cnnlab.checks.hidden_unit`, so otter and nbgrader judge with the same
  code, the same cases and the same hints, and their scores agree to the
  cent (nbgrader floors partial credit to hundredths, otter does not);
- every other cell (lessons, figures) is copied as it is.
"""
from __future__ import annotations

import ast
import builtins
import copy
import re
from dataclasses import dataclass

import nbformat
import yaml

from .. import syntax
from ..items.hidden import hidden_items, split_hidden
from ..nbtools import grade_id, nbgrader_meta

BEGIN_SOLUTION = re.compile(r"^([ \t]*)### BEGIN SOLUTION[ \t]*$")
END_SOLUTION = re.compile(r"^([ \t]*)### END SOLUTION[ \t]*$")

#: What the autograder needs of cnnlab to run the hidden blocks (copied into the zip).
RUNTIME_FILES = ("cnnlab/__init__.py", "cnnlab/checks.py", "cnnlab/plaindata.py", "cnnlab/scalarfns.py")


class MasterError(Exception):
    """The source notebook cannot be expressed as otter questions (one line, for the user)."""


@dataclass(frozen=True)
class Question:
    name: str           # the item, e.g. "conv2d"; otter's question name and grader.check argument
    points: float       # the nbgrader points of its hidden cell
    units: int          # hidden test cases, each worth points / units
    public: bool        # whether it has a visible (public) test case


def _raw(text: str):
    return nbformat.v4.new_raw_cell(text)


def _clean(cell):
    cell = copy.deepcopy(cell)
    cell.metadata.pop("nbgrader", None)
    if cell.cell_type == "code":
        cell.outputs, cell.execution_count = [], None
    return cell


def solution_source(source: str, where: str) -> str:
    """nbgrader's solution markers as otter's. A block that only assigns
    values gets `name = ...` lines in front of it, which is what the student
    sees; any other block becomes `...` in the student's version."""
    lines = source.splitlines()
    out, i = [], 0
    while i < len(lines):
        begin = BEGIN_SOLUTION.match(lines[i])
        if not begin:
            out.append(lines[i])
            i += 1
            continue
        indent = begin.group(1)
        j = next((k for k in range(i + 1, len(lines)) if END_SOLUTION.match(lines[k])), None)
        if j is None:
            raise MasterError(f"{where}: BEGIN SOLUTION without END SOLUTION")
        body = lines[i + 1:j]
        names = _assigned_names("\n".join(body)) if not indent else None
        if names:
            out += [f"{name} = ..." for name in names]
            out += ["# BEGIN SOLUTION NO PROMPT", *body, "# END SOLUTION"]
        else:
            out += [f"{indent}# BEGIN SOLUTION", *body, f"{indent}# END SOLUTION"]
        i = j + 1
    return "\n".join(out)


def _assigned_names(code: str) -> list[str] | None:
    """The names a top-level block assigns, when assigning is all it does."""
    try:
        tree = syntax.parse(code)
    except SyntaxError:
        return None
    names: list[str] = []
    for node in tree.body:
        if not isinstance(node, ast.Assign) or not all(isinstance(t, ast.Name) for t in node.targets):
            return None
        names += [t.id for t in node.targets if t.id not in names]
    return names or None


def free_names(code: str) -> list[str]:
    """The names a cell reads from the notebook's globals (not its own, not builtins)."""
    tree = syntax.parse(code)
    loaded, stored = [], set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            if isinstance(node.ctx, ast.Load):
                loaded.append(node.id)
            else:
                stored.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            stored.add(node.name)
        elif isinstance(node, ast.arg):
            stored.add(node.arg)
        elif isinstance(node, ast.alias):
            stored.add((node.asname or node.name).split(".")[0])
    return sorted({n for n in loaded if n not in stored and not hasattr(builtins, n)})


def _indent(code: str) -> str:
    return "\n".join(("    " + line) if line.strip() else "" for line in code.splitlines())


def visible_test(item: str, source: str) -> str:
    """The visible nbgrader asserts as one public otter test case."""
    params = ", ".join(free_names(source))
    return (f"def test_{item}_visible({params}):\n"
            f'    """The checks you can see in the notebook (no points of their own)."""\n'
            f"{_indent(source)}\n")


def hidden_test(item: str, gid: str, index: int, block: str) -> str:
    """Unit `index` of a hidden block as one hidden otter test case."""
    return ('""" # BEGIN TEST CONFIG\nhidden: true\n""" # END TEST CONFIG\n'
            f"def test_{item}_hidden_{index + 1}(env):\n"
            "    from cnnlab.checks import hidden_unit\n"
            f"    block = {block!r}\n"
            f"    hidden_unit(env, {gid!r}, {index}, block)\n")


def assignment_config(name: str, python_version: str) -> dict:
    """otter's ASSIGNMENT CONFIG for a course notebook (documented in README, Gradescope)."""
    return {
        "name": name,
        "python_version": python_version,
        "requirements": "requirements.txt",
        "overwrite_requirements": False,
        "run_tests": True,
        "init_cell": True,
        "check_all_cell": True,
        "export_cell": {"pdf": False, "run_tests": True,
                        "instructions": "Upload the zip file this cell makes to Gradescope."},
        "tests": {"files": False, "ok_format": False},
        "autograder_files": list(RUNTIME_FILES),
        "generate": {"pdf": False, "show_stdout": False, "show_hidden": False, "zips": False},
    }


def master_notebook(source_nb, assignment: str, python_version: str = "3.11"):
    """(master notebook, questions) for one nbgrader source notebook."""
    items = hidden_items(source_nb)
    by_id = {grade_id(c): c for c in source_nb.cells if grade_id(c)}
    questions: list[Question] = []
    used: set[str] = set()
    cells = [_raw("# ASSIGNMENT CONFIG\n" + yaml.safe_dump(assignment_config(assignment, python_version),
                                                         sort_keys=False, allow_unicode=True))]
    position = {gid: i for i, gid in enumerate(grade_id(c) for c in source_nb.cells) if gid}
    taken: set[int] = set()  # cells already placed inside a question (see `between` below)
    for index, cell in enumerate(source_nb.cells):
        meta, gid = nbgrader_meta(cell), grade_id(cell)
        if gid in used or index in taken:
            continue
        if not meta.get("solution"):
            if meta.get("grade") and gid.endswith(("_visible", "_hidden")):
                raise MasterError(f"{assignment}: test cell {gid} comes before its answer cell")
            cells.append(_clean(cell))
            continue
        item = gid.rsplit("_", 1)[0]
        hidden_id, visible_id = f"{item}_hidden", f"{item}_visible"
        if hidden_id not in items:
            raise MasterError(f"{assignment}: answer cell {gid} has no hidden test cell {hidden_id}")
        hidden = items[hidden_id]
        n_units = hidden.units
        block = split_hidden(by_id[hidden_id].source)[1]
        cells.append(_raw(f"# BEGIN QUESTION\nname: {item}\npoints: {hidden.points:g}"))
        cells.append(_raw("# BEGIN SOLUTION"))
        answer = _clean(cell)
        answer.source = solution_source(cell.source, gid)
        cells.append(answer)
        # Cells between the tests and the hidden cell (05's training cell, which makes the
        # `xo_params` the hidden test grades) run before otter's check, so they go with the answer.
        between = [i for i in range(index + 1, position[hidden_id]) if grade_id(source_nb.cells[i]) != visible_id]
        for i in between:
            if nbgrader_meta(source_nb.cells[i]).get("solution") or nbgrader_meta(source_nb.cells[i]).get("grade"):
                raise MasterError(f"{assignment}: {grade_id(source_nb.cells[i]) or 'a graded cell'} sits between "
                                  f"{gid} and {hidden_id}; an item's cells cannot interleave with another's")
            cells.append(_clean(source_nb.cells[i]))
        taken.update(between)
        cells.append(_raw("# END SOLUTION"))
        cells.append(_raw("# BEGIN TESTS"))
        public = visible_id in by_id
        if public:
            visible = split_hidden(by_id[visible_id].source)[0]
            cells.append(nbformat.v4.new_code_cell(
                '""" # BEGIN TEST CONFIG\npoints: 0\n""" # END TEST CONFIG\n' + visible_test(item, visible)))
        for k in range(n_units):
            cells.append(nbformat.v4.new_code_cell(hidden_test(item, hidden_id, k, block)))
        cells.append(_raw("# END TESTS"))
        cells.append(_raw("# END QUESTION"))
        used |= {gid, hidden_id, visible_id}
        questions.append(Question(item, hidden.points, n_units, public))
    nb = nbformat.v4.new_notebook(cells=cells, metadata=copy.deepcopy(source_nb.metadata))
    return nb, questions
