"""Lesson figures drawn once per grading run, not once per submission.

Which cells: a code cell of the release notebook that is locked (nbgrader puts
its source back from the gradebook, so a student cannot change it), is neither
an answer nor a test, draws with pyplot, and reads no name that comes from the
student's code: bound by an answer cell, or by any cell that reads such a name
(a figure drawn with the student's function, like 02's photo through
`cross_correlate2d`, or with a network trained by her backward passes, is drawn
for each student as before).

How: once per run and notebook, the release notebook (the lesson as students
get it, no student code) runs in the sandbox like a submission, figures on;
what those cells displayed is kept (`GradingRun.lesson_figures`). Each
submission's kernel then runs those cells with image output off
(`cnnlab/drawn_once.py`), and `swap_in` puts the reference images where the
cell showed its figures as text. Scores never read a figure. Where a
student's notebook changed what such a cell shows (it failed, or drew a
different number of figures), her own outputs stay as they ran.
"""
from __future__ import annotations

import ast
import copy

from .. import syntax
from ..drawn_once import IMAGE_TYPES, source_hash
from ..nbtools import nbgrader_meta


def _bound_by(statements: list[ast.stmt]) -> set[str]:
    """The names statements bind in the notebook's namespace (not a function's own locals)."""
    bound, todo = set(), list(statements)
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
            continue  # its body binds its own locals
        if isinstance(node, ast.Lambda):
            continue
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            bound.add(node.id)
        elif isinstance(node, ast.alias):
            bound.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            bound.update(node.names)
        todo.extend(ast.iter_child_nodes(node))
    return bound


def _names_bound(source: str) -> set[str]:
    """The names a cell binds in the notebook's namespace; none when it does not parse."""
    try:
        return _bound_by(syntax.parse(source).body)
    except SyntaxError:
        return set()


def reads_in_order(tree: ast.Module, loads) -> set[str]:
    """The names a cell's statements read from outside it: each statement's `loads(statement)`
    less what the cell's earlier statements bound (a compound statement's own bindings too, so
    `for ax in axes: ax.plot(...)` reads `axes`, not `ax`)."""
    outside, bound = set(), set()
    for statement in tree.body:
        own = _bound_by([statement])
        compound = not isinstance(statement, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Expr))
        outside |= loads(statement) - bound - (own if compound else set())
        bound |= own
    return outside


def _every_load(statement: ast.stmt) -> set[str]:
    return {n.id for n in ast.walk(statement) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _names_read(source: str) -> set[str] | None:
    """The names a cell reads from the notebook's namespace, function bodies' own names
    included (`reads_in_order`); None when it does not parse."""
    try:
        tree = syntax.parse(source)
    except SyntaxError:
        return None
    return reads_in_order(tree, _every_load)


def drawn_once_cells(release_nb) -> list[int]:
    """Indices of the release cells whose figures need no student code. A name is the
    student's when an answer cell binds it, or a later cell binds it from one of hers (a
    network trained with her functions, a helper that calls them): followed in notebook order."""
    students: set[str] = set()
    found = []
    for index, cell in enumerate(release_nb.cells):
        if cell.cell_type != "code":
            continue
        meta = nbgrader_meta(cell)
        read = _names_read(cell.source)
        if meta.get("solution") or read is None or read & students:
            students |= _names_bound(cell.source)
            continue
        if meta.get("locked") and not meta.get("grade") and ("plt." in cell.source or "matplotlib" in cell.source):
            found.append(index)
    return found


def _is_figure(output) -> bool:
    data = output.get("data") if output.get("output_type") == "display_data" else None
    return isinstance(data, dict) and any(k in data for k in IMAGE_TYPES)


def _is_figure_text(output) -> bool:
    """A figure shown with image output off: its text only ("<Figure size ...>")."""
    data = output.get("data") if output.get("output_type") == "display_data" else None
    return (isinstance(data, dict) and set(data) == {"text/plain"}
            and str(data["text/plain"]).startswith("<Figure size"))


def reference_figures(executed_release, cells: list[int]) -> dict[str, list]:
    """source hash -> the figure outputs, in order, of each drawn-once cell of a run of the release."""
    kept = {}
    for index in cells:
        cell = executed_release.cells[index]
        figures = [copy.deepcopy(o) for o in cell.get("outputs", []) if _is_figure(o)]
        if figures and not any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
            kept[source_hash(cell.source)] = figures
    return kept


#: what a remembered figure may hold: it goes into every student's feedback page
RECORDED_TYPES = {"image/png", "image/jpeg", "text/plain"}


def _recorded_figure(output) -> bool:
    """One output as reference_figures keeps it: display_data of a PNG or JPEG (and its text)."""
    if not (isinstance(output, dict) and output.get("output_type") == "display_data"
            and set(output) <= {"output_type", "data", "metadata"}
            and isinstance(output.get("metadata", {}), dict)):
        return False
    data = output.get("data")
    return (isinstance(data, dict) and set(data) <= RECORDED_TYPES and bool(set(data) - {"text/plain"})
            and all(isinstance(v, (str, list)) for v in data.values()))


def recorded_figures(kept) -> bool:
    """Whether a remembered record (records.py) is figures as `reference_figures` keeps them:
    {source hash: [display_data outputs of PNG or JPEG and their text]}. Anything else, a record
    someone wrote by hand with HTML in it say, is not used: the figures are drawn again."""
    return (isinstance(kept, dict) and bool(kept)
            and all(isinstance(digest, str) and isinstance(outputs, list) and outputs
                    and all(_recorded_figure(o) for o in outputs) for digest, outputs in kept.items()))


def swap_in(nb, reference: dict[str, list]) -> int:
    """Put the reference figures in the drawn-once cells of a graded notebook; returns how many cells."""
    swapped = 0
    for cell in nb.cells:
        figures = reference.get(source_hash(cell.source)) if cell.cell_type == "code" else None
        if not figures:
            continue
        texts = [i for i, o in enumerate(cell.outputs) if _is_figure_text(o)]
        if len(texts) != len(figures) or any(o.get("output_type") == "error" for o in cell.outputs):
            continue
        for i, figure in zip(texts, figures):
            cell.outputs[i] = copy.deepcopy(figure)
        swapped += 1
    return swapped
