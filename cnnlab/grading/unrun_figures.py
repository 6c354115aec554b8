"""Lesson figure cells that a submission's kernel does not run at all.

A drawn-once cell (figures.py) still runs in every kernel, images off, because
it may define names later cells use; in a fresh interpreter it is matplotlib's
first pass through making axes and ticks that nobody renders (90 + 57 ms of
kernel CPU for 02's first two). Such a cell is replaced by `None` (one cheap
step, so the execution counts stay as they were) and given the reference
figures when

1. the cell only draws (`figure_only`, decided from its source, which nbgrader
   restores from the gradebook): it reads nothing of the notebook but `np` and
   `plt` and a few builtins, writes no attribute or item of anything it did not
   make, calls nothing that changes numpy's, matplotlib's or the interpreter's
   state, prints or writes a file (np.random, rcParams, savefig, open, print,
   eval ...), imports only from matplotlib, and ends with `plt.show()`;
2. no other step of this submission's plan reads a name the cell binds
   (`reads`: the notebook-level reads of her cells and of the hidden blocks,
   function bodies included; a probe reads its item's name). When any step
   cannot be read so (it does not parse, or it holds a way to reach names by
   string, like `globals()`, `eval`, `sys` or `pickle`), every cell runs, as before.

A figure-only cell that binds data a later step reads (02's feature map: `fmap`
for Exercise 3) runs only its data part instead: the statements before the first
that reads `plt`, when

3. they show nothing (no bare expression) and the drawing after them
   (`drawing_leaves_data_alone`) cannot change what they bound: it stores into no
   attribute or item and updates no name in place (`fmap += 1` changes the array),
   and it calls only pyplot, builtins that only read, a few NumPy functions that
   make new arrays, and the drawing methods of `DRAWING_METHODS` (none of which
   writes into the arrays it is given); of the data's attributes it reads only
   shape-like ones (`arr.shape`), so no method of an array is reached at all;
4. no other step reads a name the drawing binds (`fig`, `axes`, a loop's `ax`).

Why this cannot cost a student marks or show her anything: a cell left out only
means fewer names in her own kernel, and none she reads is missing; no figure
feeds a score; the figures she sees are the lesson's, drawn once from the
release notebook. What is lost is what her own earlier code would have made such
a cell draw differently (say she replaced `np.zeros`), in her feedback only.
A student who reaches a lesson name by a route `DYNAMIC` misses could only make
her own code fail, which she could do anyway. A cell cut to its data part binds
what it always bound, with the values the whole cell leaves them.
"""
from __future__ import annotations

import ast
import copy
import functools
import symtable

from .. import syntax
from ..drawn_once import source_hash
from .figures import _bound_by, _names_bound, reads_in_order
from .plan import Step

#: the names a figure-only cell may read from the notebook: its two modules, harmless builtins
MODULES = {"np", "plt"}
BUILTINS = {"range", "zip", "enumerate", "len", "min", "max", "abs", "float", "int", "str", "list", "tuple",
            "dict", "set", "round", "sum", "sorted", "reversed", "isinstance", "bool", "map", "any", "all",
            "True", "False", "None"}
#: attribute names that change shared state or write somewhere, wherever they are called
CHANGES_STATE = {"random", "seed", "set_printoptions", "printoptions", "seterr", "seterrcall", "setbufsize",
                 "errstate", "rc", "rcdefaults", "rc_file", "rcParams", "rc_context", "style", "xkcd",
                 "switch_backend", "ion", "ioff", "interactive", "install_repl_displayhook", "use",
                 "savefig", "imsave", "tofile", "save", "savez", "savez_compressed", "savetxt", "write",
                 "dump", "open", "set_cmap", "register_cmap", "colormaps", "pause", "connect", "mpl_connect"}
#: names that reach the notebook's namespace by string, through frames, function globals, the
#: garbage collector or unpickling (which imports `__main__` by name), or that run code: a step
#: holding one as a name, attribute or module cannot be read, so nothing is left unrun beside it,
#: and a cell calling one is not figure-only
DYNAMIC = {"eval", "exec", "compile", "globals", "locals", "vars", "dir", "getattr", "setattr", "delattr",
           "__import__", "get_ipython", "__main__", "__builtins__", "__dict__", "__globals__", "sys", "builtins",
           "importlib", "inspect", "runpy", "pdb", "gc", "ctypes", "pickle", "dill", "cloudpickle", "shelve",
           "f_globals", "f_locals", "f_back", "tb_frame", "gi_frame", "cr_frame", "ag_frame"}
#: builtins a figure-only cell may not call: they print, ask, stop or write, so the cell would show
#: or do more than its figures
SIDE_EFFECTS = {"print", "display", "input", "breakpoint", "exit", "quit", "open", "help"}


#: methods a lesson's drawing may call (on its figure, axes or a string): they draw, label or lay
#: out, and none writes into the arrays it is handed
DRAWING_METHODS = {"imshow", "matshow", "plot", "bar", "barh", "scatter", "hist", "step", "stem", "fill_between",
                   "contour", "contourf", "pcolormesh", "axhline", "axvline", "axhspan", "axvspan", "text",
                   "annotate", "legend", "grid", "set_title", "set_xlabel", "set_ylabel", "set_xticks",
                   "set_yticks", "set_xticklabels", "set_yticklabels", "set_xlim", "set_ylim", "set_aspect",
                   "axis", "tick_params", "invert_yaxis", "suptitle", "colorbar", "tight_layout",
                   "subplots_adjust", "format", "join"}
#: NumPy functions the drawing may call: each makes a new array of the ones it reads
NUMPY_MAKES_NEW = {"array", "asarray", "arange", "linspace", "zeros", "ones", "full", "abs", "max", "min",
                   "percentile", "round", "clip", "where", "meshgrid", "stack", "hstack", "vstack"}
#: attributes of the data the drawing may read (no method of an array: `key=arr.sort` would write)
SHAPE_ATTRIBUTES = {"shape", "ndim", "size", "dtype", "T"}
#: builtins that only read what they are given (`map` and `sorted` could call a method that writes)
READ_ONLY_BUILTINS = BUILTINS - {"map", "sorted"}


def _root(node) -> str | None:
    """The name an attribute chain or call hangs from: `np` of `np.random.rand(3).sum`."""
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def _chain(node) -> list[str]:
    """Every attribute name and called name along a callee: ['np', 'random', 'seed']."""
    names = []
    while True:
        if isinstance(node, ast.Attribute):
            names.append(node.attr)
            node = node.value
        elif isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Subscript):
            node = node.value
        else:
            break
    if isinstance(node, ast.Name):
        names.append(node.id)
    return names[::-1]


_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef,
           ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


def _loads_here(node) -> set[str]:
    """Names a statement loads in the scope it runs in, not inside the functions, lambdas and
    comprehensions it makes (a function's defaults and decorators, a comprehension's first
    iterable, are loaded here, and so counted: a little more than the truth, never less)."""
    found, todo = set(), [node]
    while todo:
        n = todo.pop()
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load):
            found.add(n.id)
        if isinstance(n, _SCOPES):
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)):
                todo.extend([*n.decorator_list, *n.args.defaults, *n.args.kw_defaults])
            elif isinstance(n, ast.Lambda):
                todo.extend([*n.args.defaults, *n.args.kw_defaults])
            elif isinstance(n, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
                todo.append(n.generators[0].iter)
            continue
        todo.extend(c for c in ast.iter_child_nodes(n) if c is not None)
    return found


def _global_reads(tree: ast.Module, source: str) -> set[str]:
    """Names a cell reads from the notebook's namespace: at its top level in statement order
    (`reads_in_order`), and inside its functions, lambdas and comprehensions whenever they run
    (symtable's globals of each nested scope, less what the cell binds). A function's own
    locals are not reads. tree: syntax.parse(source), which parsed."""
    top = reads_in_order(tree, _loads_here)
    nested, todo = set(), list(symtable.symtable(source, "<cell>", "exec").get_children())
    while todo:
        scope = todo.pop()
        nested |= {s.get_name() for s in scope.get_symbols() if s.is_referenced() and s.is_global()}
        todo.extend(scope.get_children())
    return top | (nested - _bound_by(tree.body))


@functools.lru_cache(maxsize=256)  # a few lesson cells, the same in every submission of a run
def figure_only(source: str) -> bool:
    """Whether a lesson cell only draws: see the module's rule 1."""
    found = reads(source)  # None: it does not parse, or it reaches names by string
    if found is None or found - MODULES - BUILTINS:
        return False
    tree = syntax.parse(source)
    if _identifiers(tree) & SIDE_EFFECTS:
        return False
    bound = _bound_by(tree.body)
    if bound & MODULES:  # rebinding np or plt changes what later cells read
        return False
    scoped = set(bound)  # names made in the cell, its functions' parameters and locals included
    for node in ast.walk(tree):
        if isinstance(node, ast.arg):
            scoped.add(node.arg)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            scoped.add(node.id)
    for node in ast.walk(tree):
        if isinstance(node, (ast.Global, ast.Nonlocal, ast.Yield, ast.YieldFrom, ast.Await, ast.ClassDef)):
            return False
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            if node.__class__ is ast.ImportFrom and node.level or not all(
                    m == "matplotlib" or m.startswith("matplotlib.") for m in modules):
                return False
        if isinstance(node, (ast.Attribute, ast.Subscript)) and isinstance(node.ctx, (ast.Store, ast.Del)):
            if _root(node) not in scoped or _root(node) in MODULES:
                return False
        if isinstance(node, ast.Call) and set(_chain(node.func)) & CHANGES_STATE:
            return False
    # it ends by showing its figures, which closes them: no open figure is left for a later cell to draw on,
    # and IPython shows no other value of its last expression
    last = tree.body[-1] if tree.body else None
    return isinstance(last, ast.Expr) and isinstance(last.value, ast.Call) and _chain(last.value.func) == ["plt", "show"]


def drawing_leaves_data_alone(statements: list[ast.stmt]) -> bool:
    """Whether the drawing part of a figure-only cell can change nothing its data part bound:
    see the module's rule 3. Whitelists only: what is not known to leave arrays alone is refused."""
    callees = set()
    for node in ast.walk(ast.Module(body=statements, type_ignores=[])):
        if isinstance(node, ast.Call):
            callees.add(id(node.func))
    for node in ast.walk(ast.Module(body=statements, type_ignores=[])):
        if isinstance(node, ast.AugAssign):
            return False
        if isinstance(node, (ast.Attribute, ast.Subscript)) and isinstance(node.ctx, (ast.Store, ast.Del)):
            return False
        if isinstance(node, ast.Call):
            func, chain = node.func, _chain(node.func)
            if isinstance(func, ast.Name):
                if func.id not in READ_ONLY_BUILTINS:
                    return False
            elif not isinstance(func, ast.Attribute):
                return False  # a call of a call's result, a subscript's, a lambda's
            elif chain[:1] == ["np"]:
                if len(chain) != 2 or chain[1] not in NUMPY_MAKES_NEW or any(k.arg == "out" for k in node.keywords):
                    return False
            elif chain[:1] != ["plt"] and func.attr not in DRAWING_METHODS:
                return False
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load) and id(node) not in callees:
            if _root(node) not in ("np", "plt") and node.attr not in SHAPE_ATTRIBUTES:
                return False
            if _root(node) == "np" and not isinstance(node.value, ast.Name):
                return False  # np.ndarray.sort, as a value, is a method that writes
    return True


@functools.lru_cache(maxsize=256)  # the lesson's figure cells, the same in every submission of a run
def data_part(source: str) -> str | None:
    """The data part of a figure-only cell whose drawing can be left unrun (the module's rule 3):
    its statements before the first that reads `plt`, as source; None when there is none."""
    if not figure_only(source):
        return None
    data, drawing = _split_at_drawing(source)
    if not data:  # the cell draws from its first statement (left unrun whole, or run whole)
        return None
    if any(isinstance(st, ast.Expr) for st in data) or not drawing_leaves_data_alone(drawing):
        return None
    return "\n".join(ast.get_source_segment(source, st) for st in data)


def _split_at_drawing(source: str) -> tuple[list[ast.stmt], list[ast.stmt]]:
    """A parsing cell's top-level statements before the first that reads `plt`, and the rest."""
    body = syntax.parse(source).body
    first = next((i for i, st in enumerate(body) if any(isinstance(n, ast.Name) and n.id == "plt"
                                                        for n in ast.walk(st))), len(body))
    return body[:first], body[first:]


def _identifiers(tree) -> set[str]:
    """Every name, attribute and imported module a step's code holds (not its strings or comments:
    to reach a name by a string a step has to hold one of DYNAMIC)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            found.add(node.id)
        elif isinstance(node, ast.Attribute):
            found.add(node.attr)
        elif isinstance(node, ast.alias):
            found.update(node.name.split("."))
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.update(node.module.split("."))
    return found


@functools.lru_cache(maxsize=4096)  # the lesson's cells and hidden blocks are the same in every submission
def reads(source: str) -> frozenset[str] | None:
    """What a step of a submission's plan reads of the notebook's namespace, or None when that
    cannot be told: it does not parse (an IPython magic, say) or it reaches names dynamically."""
    try:
        tree = syntax.parse(source)
    except SyntaxError:
        return None
    if _identifiers(tree) & DYNAMIC:
        return None
    return frozenset(_global_reads(tree, source))


def _read_by_the_rest(steps: list, figure_cells: dict[int, str], items: dict) -> set[str] | None:
    """What the steps other than `figure_cells`' read of the notebook's namespace; None when a
    step cannot be read so. (A figure-only cell reads nothing of the notebook but np and plt.)"""
    read: set[str] = set()
    for step in steps:
        if step.kind == "cell" and step.cell in figure_cells:
            continue
        if step.kind == "probe":
            item = items.get(step.grade_id)
            if item is None:
                return None
            read.add(item.name)
            continue
        found = reads(step.source)
        if found is None:
            return None
        read |= found
    return read


def unrun(steps: list, figure_cells: dict[int, str], items: dict) -> set[int]:
    """The notebook cells of `figure_cells` ({cell index: source}, figure-only cells with reference
    figures) that no other step reads a name of. steps: plan.Step; items: grade id -> HiddenItem."""
    return set(instead(steps, figure_cells, items, cut=False))


def instead(steps: list, figure_cells: dict[int, str], items: dict, cut: bool = True) -> dict[int, str]:
    """{cell: what its step runs instead} for the cells of `figure_cells` whose figures need not be
    drawn: `UNRUN` when no other step reads a name the cell binds (rules 1-2), its data part when
    the names read are all bound there (rules 3-4, unless `cut` is off)."""
    read = _read_by_the_rest(steps, figure_cells, items)
    if read is None:
        return {}
    out = {}
    for cell, source in figure_cells.items():
        if not _binds(source) & read:
            out[cell] = UNRUN
        elif cut and (data := data_part(source)) is not None and not _binds_in_drawing(source) & read:
            out[cell] = data
    return out


@functools.lru_cache(maxsize=256)  # the lesson's figure cells, the same in every submission of a run
def _binds(source: str) -> frozenset[str]:
    return frozenset(_names_bound(source))


@functools.lru_cache(maxsize=256)
def _binds_in_drawing(source: str) -> frozenset[str]:
    """The names a figure-only cell's drawing binds (what follows its data part)."""
    return frozenset(_bound_by(_split_at_drawing(source)[1]))


#: what a cell left unrun runs instead: one cheap step, so the later cells' execution counts stay
UNRUN = "None"


def leave_unrun(nb, steps: list[Step], figures: dict[str, list], items: dict) -> tuple[list[Step], set[int]]:
    """The plan with the figure-only cells no other step reads from replaced by `UNRUN`, those whose
    data only is read by their data part, and the indices of both (their figures are the lesson's).
    figures: the run's reference figures ({source hash: outputs})."""
    if not figures:
        return steps, set()
    candidates = {s.cell: nb.cells[s.cell].source for s in steps
                  if s.kind == "cell" and source_hash(nb.cells[s.cell].source) in figures
                  and s.source == nb.cells[s.cell].source and figure_only(s.source)}
    runs = instead(steps, candidates, items) if candidates else {}
    return [Step(s.kind, s.cell, runs[s.cell], s.grade_id) if s.kind == "cell" and s.cell in runs else s
            for s in steps], set(runs)


def fill_unrun(nb, cells: set[int], figures: dict[str, list]) -> None:
    """The reference figures after the outputs of each cell left unrun or cut to its data part
    (what it would have shown: `None` shows nothing, a data part at most a NumPy warning), unless
    the run stopped before it (a cell the kernel never reached keeps its error, and no count)."""
    for index in cells:
        cell = nb.cells[index]
        if cell.get("execution_count") is None or any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
            continue
        cell.outputs = list(cell.get("outputs", [])) + [copy.deepcopy(o) for o in figures[source_hash(cell.source)]]
