"""Signs of tampering in a submission, read from its source without running it.

Trusted: the submission's code cells are parsed (IPython's own transformer
turns magics into Python first), never executed. Two things come out:

- `attacks`: what the code reaches for that no answer to this course needs
  (input and AST transformers, event hooks, patched NumPy or builtins,
  objects with their own __eq__, exits, sockets, subprocesses, the grader's
  own files...). They name the flag a TA sees; they never change a score,
  because scores come from the verifier, which such code cannot reach.
- `forbidden`: for each graded function, the library convolution or pooling
  its code can reach (the same rule `checks.forbidden_calls` applies inside the
  kernel, where a student could hide from it; the sandbox hides those libraries
  as well, so code built at run time cannot import them either). The reading
  follows what the notebook binds to a name (`pool2d = _make()` leads into the
  factory and the closure it returns, default arguments included, and so do
  `global`, `globals()[...]` and `setattr`), and folds strings built from
  constants ("sci" + "py", f-strings, "".join, .format, [::-1]) wherever they
  are used: importlib.import_module, __import__, getattr, sys.modules, file
  paths, exec. A graded function that imports, loads or execs by a name the
  reading cannot fold gets a forbidden entry of its own ("a module imported by
  a name built at run time"): an honest answer never does that.
"""
from __future__ import annotations

import ast
import itertools
import re
from dataclasses import dataclass, field

from .. import syntax
from ..checks import FORBIDDEN_LIBRARIES, is_forbidden_module
from ..nbtools import nbgrader_meta

#: attribute or function names -> what the flag says
SUSPICIOUS_NAMES = {
    "input_transformers_post": "an IPython input transformer (rewrites the cells that run after it)",
    "input_transformers_cleanup": "an IPython input transformer (rewrites the cells that run after it)",
    "input_transformer_manager": "an IPython input transformer (rewrites the cells that run after it)",
    "ast_transformers": "an AST transformer (rewrites the code of later cells, e.g. drops asserts)",
    "register_cell_magic": "a custom magic (changes how later cells run)",
    "register_line_magic": "a custom magic (changes how later cells run)",
    "settrace": "a tracing hook (sys.settrace)",
    "setprofile": "a tracing hook (sys.setprofile)",
    "_getframe": "looks into the grader's frames (sys._getframe)",
    "get_objects": "looks into the grader's objects (gc.get_objects)",
    "_exit": "ends the kernel (os._exit)",
    "kill": "ends the kernel (os.kill)",
    "abort": "ends the kernel (os.abort)",
    "fork": "starts processes (fork)",
    "system": "starts processes (os.system)",
    "Popen": "starts processes (subprocess)",
    "exec": "runs code built at run time (exec/eval/__import__)",
    "eval": "runs code built at run time (exec/eval/__import__)",
    "__import__": "runs code built at run time (exec/eval/__import__)",
    "import_module": "runs code built at run time (exec/eval/__import__)",
    "__builtins__": "patches builtins",
    "showtraceback": "silences tracebacks",
    "stderr": "silences tracebacks (replaces sys.stderr)",
    "setattr": None,  # only with NumPy as its target, see _patches
}
SUSPICIOUS_MODULES = {
    "socket": "opens a network connection", "urllib": "opens a network connection",
    "http": "opens a network connection", "requests": "opens a network connection",
    "subprocess": "starts processes (subprocess)", "multiprocessing": "starts processes (multiprocessing)",
    "ctypes": "uses ctypes (raw memory)", "atexit": "an exit hook (atexit)",
    "cnnlab": "reaches into the grader's own code (cnnlab)", "builtins": "patches builtins",
    "inspect": "looks into the grader's frames (inspect)", "gc": "looks into the grader's objects (gc)",
    "threading": "starts threads", "signal": "handles signals (signal)", "resource": "changes resource limits",
    "shutil": "works on files outside its folder?", "sqlite3": "opens a database (the gradebook?)",
    "sqlalchemy": "opens a database (the gradebook?)", "nbgrader": "reaches into nbgrader",
}
EVENT_NAMES = {"pre_run_cell", "post_run_cell", "pre_execute", "post_execute", "shell_initialized"}
DUNDER_COMPARISONS = {"__eq__", "__ne__", "__bool__", "__array_ufunc__", "__array_function__", "__instancecheck__",
                      "__float__", "__index__", "__int__"}
GRADER_PATHS = ("gradebook", "sqlite", "source/", "solutions", "/autograded", "/submitted", "nbgrader_config",
                "/etc/", "/root", "/home")


@dataclass
class Findings:
    attacks: list[str] = field(default_factory=list)
    forbidden: dict[str, list[str]] = field(default_factory=dict)


def student_sources(nb) -> list[str]:
    """The code a student wrote: solution cells and cells of their own (locked
    and test cells were restored from the gradebook, so they are the grader's)."""
    sources = []
    for cell in nb.cells:
        meta = nbgrader_meta(cell)
        if cell.cell_type != "code":
            continue
        if meta.get("solution") or not (meta.get("grade") or meta.get("locked")):
            sources.append(cell.source)
    return sources


def parse(source: str) -> ast.Module | None:
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        source = TransformerManager().transform_cell(source)
    except Exception:
        pass
    try:
        return syntax.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _dotted(node) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


class _Aliases(dict):
    """Top-level names bound to modules or their members: {'np': 'numpy', 'c2d': 'scipy.signal.correlate2d'}."""

    def add_import(self, node) -> None:
        if isinstance(node, ast.Import):
            for a in node.names:
                self[a.asname or a.name.split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for a in node.names:
                self[a.asname or a.name] = f"{node.module}.{a.name}"

    def resolve(self, dotted: str | None) -> str | None:
        if not dotted:
            return None
        head, _, rest = dotted.partition(".")
        if head not in self:
            return None
        return self[head] + ("." + rest if rest else "")


def _imported_modules(node) -> list[str]:
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    if isinstance(node, ast.ImportFrom) and node.module and not node.level:
        return [node.module] + [f"{node.module}.{a.name}" for a in node.names]
    return []


# ----------------------------------------------------------------------------
# Names built at run time
# ----------------------------------------------------------------------------
#: What a graded function reaches that loads code the scan cannot name counts as forbidden: an honest
#: answer never imports by a computed name, and the name could be a forbidden library's.
RUN_TIME_IMPORT = "a module imported by a name built at run time"
RUN_TIME_CODE = "code run from a string built at run time"
RUN_TIME_PART = "a part of {} looked up by a name built at run time"
#: calls that import the module named by their first argument
NAME_IMPORTERS = {"import_module", "__import__", "find_spec", "find_loader", "find_module", "run_module"}
#: calls that load a module from a file or a spec: fine only if every argument reads as a string
FILE_LOADERS = {"spec_from_file_location", "spec_from_loader", "module_from_spec", "exec_module", "load_module",
                "SourceFileLoader", "SourcelessFileLoader", "ExtensionFileLoader", "load_source", "load_compiled",
                "load_dynamic", "load_package", "run_path", "zipimporter", "get_loader"}
CODE_RUNNERS = {"exec", "eval", "compile"}  # the builtins (re.compile is no runner)
STRING_METHODS = {"lower", "upper", "strip", "lstrip", "rstrip", "replace", "removeprefix", "removesuffix"}
_MAX_STRINGS = 64    # possible values of one expression; more counts as unreadable
_MAX_LENGTH = 1000   # characters of one folded string; longer counts as unreadable (and costs nothing)
_MAX_DEPTH = 40      # names followed while folding one expression
_PLAIN_FORMAT = re.compile(r"(?:[^{}]|\{\w*\}|\{\{|\}\})*")  # "{}.{}" yes, "{:>999999999}" no
_PLAIN_PERCENT = re.compile(r"(?:[^%]|%s|%%)*")


def _library_named(text: str) -> str | None:
    """The forbidden library a string names: as a module ('scipy.ndimage', 'cv2.filter2D') or as a
    path into its folder ('.../site-packages/scipy/ndimage/__init__.py', '.../cv2.cpython-311-...so')."""
    if is_forbidden_module(text):
        return text
    if "/" not in text or " " in text:
        return None
    parts = [p.split(".")[0] for p in text.split("/")]
    for lib in FORBIDDEN_LIBRARIES:
        wanted = lib.split(".")
        if any(parts[i:i + len(wanted)] == wanted for i in range(len(parts))):
            return lib
    return None


def _is_library_parent(module: str) -> bool:
    return any(lib.startswith(module + ".") for lib in FORBIDDEN_LIBRARIES)


def _whole_number(node) -> int | None:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        value = _whole_number(node.operand)
        return None if value is None else -value
    return node.value if isinstance(node, ast.Constant) and type(node.value) is int else None


def _constant_index(node):
    """A slice or index made of whole-number constants ("egamidn.ypics"[::-1]); None otherwise."""
    if isinstance(node, ast.Slice):
        bounds = [None if n is None else _whole_number(n) for n in (node.lower, node.upper, node.step)]
        given = [n for n in (node.lower, node.upper, node.step) if n is not None]
        return None if None in [_whole_number(n) for n in given] or bounds[2] == 0 else slice(*bounds)
    return _whole_number(node)


def _bounded(strings) -> frozenset[str] | None:
    strings = frozenset(strings)
    return strings if len(strings) <= _MAX_STRINGS and all(len(s) <= _MAX_LENGTH for s in strings) else None


def _combined(parts: list, how) -> frozenset[str] | None:
    """how(*combination) for every combination of the parts' possible strings."""
    if any(p is None for p in parts):
        return None
    out = set()
    for combo in itertools.islice(itertools.product(*parts), _MAX_STRINGS + 1):
        try:
            out.add(how(*combo))
        except Exception:  # "{1}".format("x") and the like: nothing the code could build
            return None
    return _bounded(out)


def _union(parts) -> frozenset[str] | None:
    out: set[str] = set()
    for part in parts:
        if part is None:
            return None
        out |= part
    return _bounded(out)


def _single(strings) -> str | None:
    return next(iter(strings)) if strings and len(strings) == 1 else None


class _Reader:
    """The notebook's names, read once: the modules they stand for (imports at top level first, then
    those inside functions), every value assigned to each name in any scope (to fold strings built
    from pieces), and the names bound in ways no value tells (arguments, loop targets, +=)."""

    def __init__(self, trees):
        self.top = _Aliases()
        for tree in trees:
            for node in tree.body:
                self.top.add_import(node)
        self.aliases = _Aliases(self.top)
        self.values: dict[str, list] = {}
        self.opaque: set[str] = set()
        inner = _Aliases()
        for tree in trees:
            for node in ast.walk(tree):
                inner.add_import(node)
                self._note(node)
        for name, module in inner.items():
            self.aliases.setdefault(name, module)
        self._folded: dict[int, frozenset[str] | None] = {}
        self._modules: dict[int, str | None] = {}

    def _note(self, node) -> None:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                self._assign(target, node.value)
        elif isinstance(node, (ast.AnnAssign, ast.NamedExpr)) and node.value is not None:
            self._assign(node.target, node.value)
        elif isinstance(node, (ast.AugAssign, ast.For, ast.AsyncFor, ast.comprehension)):
            self._hide(node.target)
        elif isinstance(node, ast.withitem) and node.optional_vars is not None:
            self._hide(node.optional_vars)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            self.opaque.add(node.name)
        elif isinstance(node, ast.arg):
            self.opaque.add(node.arg)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            self.opaque.update((a.asname or a.name).split(".")[0] for a in node.names)

    def _assign(self, target, value) -> None:
        if isinstance(target, ast.Name):
            self.values.setdefault(target.id, []).append(value)
        elif isinstance(target, (ast.Tuple, ast.List)) and isinstance(value, (ast.Tuple, ast.List)) \
                and len(target.elts) == len(value.elts):
            for t, v in zip(target.elts, value.elts):
                self._assign(t, v)
        else:
            self._hide(target)

    def _hide(self, target) -> None:
        self.opaque.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))

    def _value_of(self, name: str) -> list | None:
        """What a name was assigned, when that is all that binds it."""
        return None if name in self.opaque else self.values.get(name)

    # -- strings ------------------------------------------------------------
    def fold(self, node) -> frozenset[str] | None:
        """Every string `node` can evaluate to, read from the code; None when the code does not say."""
        if id(node) not in self._folded:  # remembered: a chain of names costs once, not exponentially
            self._folded[id(node)] = None  # (and a name defined by itself reads as unreadable)
            try:
                self._folded[id(node)] = self._fold(node)
            except RecursionError:
                pass
        return self._folded[id(node)]

    def _fold(self, node) -> frozenset[str] | None:
        if isinstance(node, ast.Constant):
            return _bounded([node.value]) if isinstance(node.value, str) else None
        if isinstance(node, ast.Name):
            values = self._value_of(node.id)
            return None if values is None else _union(self.fold(v) for v in values)
        if isinstance(node, ast.JoinedStr):  # f"scipy.{part}"
            parts = []
            for value in node.values:
                if isinstance(value, ast.FormattedValue):
                    if value.format_spec is not None or value.conversion not in (-1, ord("s")):
                        return None
                    value = value.value
                parts.append(self.fold(value))
            return _combined(parts, lambda *p: "".join(p))
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            return _combined([self.fold(node.left), self.fold(node.right)], str.__add__)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):  # "%s.%s" % ("scipy", "ndimage")
            args = node.right.elts if isinstance(node.right, ast.Tuple) else [node.right]
            return self._method(node.left, args, _PLAIN_PERCENT, lambda s, *a: s % a)
        if isinstance(node, ast.IfExp):
            return _union([self.fold(node.body), self.fold(node.orelse)])
        if isinstance(node, ast.Subscript):
            index = _constant_index(node.slice)
            strings = None if index is None else self.fold(node.value)
            if strings is None or (isinstance(index, int) and any(not -len(s) <= index < len(s) for s in strings)):
                return None
            return _bounded(s[index] for s in strings)
        if isinstance(node, ast.Call) and not node.keywords:
            return self._fold_call(node)
        return None

    def _fold_call(self, node: ast.Call) -> frozenset[str] | None:
        func, args = node.func, node.args
        if isinstance(func, ast.Name) and func.id == "str" and len(args) == 1:
            return self.fold(args[0])
        if isinstance(func, ast.Name) and func.id == "chr" and len(args) == 1:
            code = _whole_number(args[0])
            return frozenset([chr(code)]) if code is not None and 0 <= code < 0x110000 else None
        if not isinstance(func, ast.Attribute):
            return None
        if func.attr == "join" and len(args) == 1:  # "".join(["sci", "py"]), "".join(map(chr, [115, ...]))
            items = self._items(args[0])
            return None if items is None else _combined([self.fold(func.value), *items],
                                                         lambda sep, *p: sep.join(p))
        if func.attr == "format":
            return self._method(func.value, args, _PLAIN_FORMAT, lambda s, *a: s.format(*a))
        if func.attr in STRING_METHODS:
            return self._method(func.value, args, None, lambda s, *a: getattr(s, func.attr)(*a))
        return None

    def _method(self, template, args, plain, how) -> frozenset[str] | None:
        templates = self.fold(template)
        if templates is None or (plain and not all(plain.fullmatch(t) for t in templates)):
            return None  # a width such as "{:>999999999}" would build a string the size of the memory
        return _combined([templates, *[self.fold(a) for a in args]], how)

    def _items(self, node) -> list | None:
        """The folded strings of a literal sequence, or of map(chr, [whole numbers])."""
        if isinstance(node, (ast.List, ast.Tuple)):
            return [self.fold(e) for e in node.elts]
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "map" \
                and len(node.args) == 2 and isinstance(node.args[0], ast.Name) and node.args[0].id == "chr" \
                and isinstance(node.args[1], (ast.List, ast.Tuple)):
            codes = [_whole_number(e) for e in node.args[1].elts]
            if any(c is None or not 0 <= c < 0x110000 for c in codes):
                return None
            return [frozenset([chr(c)]) for c in codes]
        return None

    # -- modules ------------------------------------------------------------
    def name_of(self, node, depth: int = 0) -> str | None:
        """The last name of what `node` refers to: 'import_module' for `_load` after
        `_load = importlib.import_module`, '__import__' for getattr(builtins, "__imp" + "ort__")."""
        if isinstance(node, ast.Attribute):
            return node.attr
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr" \
                and len(node.args) >= 2:
            return _single(self.fold(node.args[1]))
        if not isinstance(node, ast.Name):
            return None
        module = self.aliases.resolve(node.id)
        if module:
            return module.rpartition(".")[2]
        values = self._value_of(node.id)
        if values and len(values) == 1 and depth < _MAX_DEPTH:
            return self.name_of(values[0], depth + 1) or node.id
        return node.id

    def module_of(self, node) -> str | None:
        """The module or member `node` evaluates to, when the code says: 'scipy.ndimage.maximum_filter'
        for nd.maximum_filter after nd = importlib.import_module("sci" + "py.ndimage")."""
        if id(node) not in self._modules:
            self._modules[id(node)] = None
            try:
                self._modules[id(node)] = self._module_of(node)
            except RecursionError:
                pass
        return self._modules[id(node)]

    def _module_of(self, node) -> str | None:
        if isinstance(node, ast.Name):
            module, values = self.aliases.resolve(node.id), self._value_of(node.id)
            if module or not values:
                return module
            found = {self.module_of(v) for v in values}
            return found.pop() if len(found) == 1 else None
        if isinstance(node, ast.Attribute):
            base = self.module_of(node.value)
            return f"{base}.{node.attr}" if base else None
        if isinstance(node, ast.Call):
            name = self.name_of(node.func)
            if name in ("import_module", "__import__") and node.args:
                return _single(self.fold(node.args[0]))
            if name == "getattr" and len(node.args) >= 2:
                base, attr = self.module_of(node.args[0]), _single(self.fold(node.args[1]))
                return f"{base}.{attr}" if base and attr else None
            return None
        if isinstance(node, ast.Subscript) and self.module_of(node.value) == "sys.modules":
            return _single(self.fold(node.slice))
        return None

    def runs_code(self, func) -> bool:
        """Whether calling `func` is exec / eval / compile (of builtins, however reached)."""
        if isinstance(func, ast.Name):
            return func.id in CODE_RUNNERS
        if isinstance(func, ast.Attribute):
            return func.attr in CODE_RUNNERS and (self.module_of(func.value) == "builtins"
                                                  or _dotted(func.value) == "__builtins__")
        return self.name_of(func) in CODE_RUNNERS


# ----------------------------------------------------------------------------
# What names the notebook binds, and what a graded function reaches
# ----------------------------------------------------------------------------
def _is_globals(node) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
        and node.func.id in ("globals", "vars", "locals")


def _declared_global(function) -> set[str]:
    """Names a function declares `global` (not those of functions nested in it)."""
    names, todo = set(), list(function.body)
    while todo:
        node = todo.pop()
        if isinstance(node, ast.Global):
            names.update(node.names)
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            todo.extend(ast.iter_child_nodes(node))
    return names


class _Bindings(dict):
    """What each module-level name is bound to in any cell: {name: [defs, classes, assigned values]}.
    Also in if/for/try/with blocks, through `global`, globals()[...] =, globals().update(...),
    setattr(x, name, ...), and x.name = for a graded name. A graded function bound to a call
    (`pool2d = _make()`) is thus followed into the factory, and on into what the factory returns."""

    def __init__(self, trees, reader: _Reader, graded: set[str]):
        super().__init__()
        self.reader, self.graded = reader, graded
        todo = [(tree, True, frozenset()) for tree in trees]
        while todo:  # not recursive: a deeply nested cell must not stop the scan
            node, top, declared = todo.pop()
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                if top or node.name in declared:
                    self.bind(node.name, node)
                inner = frozenset() if isinstance(node, ast.ClassDef) else frozenset(_declared_global(node))
                todo += [(child, False, inner) for child in ast.iter_child_nodes(node)]
                continue
            if isinstance(node, ast.Lambda):
                top, declared = False, frozenset()
            self._binds(node, top, declared)
            todo += [(child, top, declared) for child in ast.iter_child_nodes(node)]

    def bind(self, name: str, node) -> None:
        self.setdefault(name, []).append(node)

    def _binds(self, node, top: bool, declared) -> None:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                self._target(target, node.value, top, declared)
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign, ast.NamedExpr)) and node.value is not None:
            self._target(node.target, node.value, top, declared)
        elif isinstance(node, (ast.For, ast.AsyncFor)):
            self._target(node.target, node.iter, top, declared)
        elif isinstance(node, ast.withitem) and node.optional_vars is not None:
            self._target(node.optional_vars, node.context_expr, top, declared)
        elif isinstance(node, ast.Call):
            self._call(node)

    def _target(self, target, value, top: bool, declared) -> None:
        if isinstance(target, ast.Name):
            if top or target.id in declared:
                self.bind(target.id, value)
        elif isinstance(target, (ast.Tuple, ast.List)):
            same = isinstance(value, (ast.Tuple, ast.List)) and len(value.elts) == len(target.elts)
            for i, t in enumerate(target.elts):
                self._target(t, value.elts[i] if same else value, top, declared)
        elif isinstance(target, ast.Starred):
            self._target(target.value, value, top, declared)
        elif isinstance(target, ast.Attribute) and target.attr in self.graded:  # __main__.pool2d = ...
            self.bind(target.attr, value)
        elif isinstance(target, ast.Subscript) and _is_globals(target.value):
            for name in self.reader.fold(target.slice) or []:
                self.bind(name, value)

    def _call(self, node: ast.Call) -> None:
        """setattr(x, "pool2d", f) and globals().update(pool2d=f) bind a name too."""
        func = node.func
        if isinstance(func, ast.Name) and func.id == "setattr" and len(node.args) == 3:
            for name in self.reader.fold(node.args[1]) or []:
                self.bind(name, node.args[2])
        elif isinstance(func, ast.Attribute) and func.attr == "update" and _is_globals(func.value):
            for keyword in node.keywords:
                if keyword.arg:
                    self.bind(keyword.arg, keyword.value)
            for arg in node.args:
                if isinstance(arg, ast.Dict):
                    for key, value in zip(arg.keys, arg.values):
                        for name in (self.reader.fold(key) or []) if key is not None else []:
                            self.bind(name, value)


def _reaches(nodes, reader: _Reader, functions: dict, seen: set) -> list[str]:
    """Forbidden names reachable from these nodes, following the notebook's own names and the code
    in strings that exec / eval run."""
    found = []
    for tree in nodes:
        called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
        keyed: set[int] = set()  # sys.modules nodes read with a key (judged by the key)
        for node in ast.walk(tree):  # parents before children
            found += _uses(node, reader, called, keyed)
            for code in _code_in_strings(node, reader):
                found += _reaches([code], reader, functions, seen)
            if isinstance(node, ast.Name) and node.id in functions and node.id not in seen:
                seen.add(node.id)
                found += _reaches(functions[node.id], reader, functions, seen)
    return found


def _code_in_strings(node, reader: _Reader) -> list:
    """The parsed code of exec("...") / eval("..."), where the string reads from the code."""
    if not (isinstance(node, ast.Call) and node.args and reader.runs_code(node.func)):
        return []
    return [t for t in (parse(text) for text in reader.fold(node.args[0]) or []) if t is not None]


def _uses(node, reader: _Reader, called: set, keyed: set) -> list[str]:
    """What this one node uses of the forbidden libraries, or of imports the scan cannot read."""
    found = [m for m in _imported_modules(node) if is_forbidden_module(m)]
    if isinstance(node, (ast.Constant, ast.JoinedStr, ast.BinOp, ast.Call, ast.Subscript)):
        strings = reader.fold(node) or []
        found += [lib for lib in map(_library_named, strings) if lib]
        if any(s in NAME_IMPORTERS for s in strings):  # getattr(builtins, "__import__")
            found.append(RUN_TIME_IMPORT)
    if isinstance(node, ast.Subscript) and reader.module_of(node.value) == "sys.modules":
        keyed.add(id(node.value))
        if reader.fold(node.slice) is None:
            found.append(RUN_TIME_IMPORT)
    if isinstance(node, (ast.Name, ast.Attribute, ast.Call, ast.Subscript)):
        module = reader.module_of(node)
        if module and is_forbidden_module(module):
            found.append(module)
        elif module == "sys.modules" and id(node) not in keyed:  # looked through: for m in sys.modules
            found.append(RUN_TIME_IMPORT)
    if isinstance(node, ast.Call):
        found += _call_uses(node, reader, keyed)
    elif isinstance(node, (ast.Name, ast.Attribute)) and id(node) not in called:
        name = reader.name_of(node)  # an importer passed around: _load = importlib.import_module
        if name in NAME_IMPORTERS or name in FILE_LOADERS:
            found.append(RUN_TIME_IMPORT)
        elif isinstance(node, ast.Name) and node.id in CODE_RUNNERS:
            found.append(RUN_TIME_CODE)
    return found


def _call_uses(node: ast.Call, reader: _Reader, keyed: set) -> list[str]:
    """A call that imports, loads or runs code by a name or string the scan cannot read."""
    name = reader.name_of(node.func)
    args = list(node.args) + [k.value for k in node.keywords]
    unreadable_first = not args or reader.fold(args[0]) is None
    if name in NAME_IMPORTERS:
        return [RUN_TIME_IMPORT] if unreadable_first else []
    if name in FILE_LOADERS:
        return [RUN_TIME_IMPORT] if any(reader.fold(a) is None for a in args) else []
    if reader.runs_code(node.func):
        return [RUN_TIME_CODE] if unreadable_first else []
    if isinstance(node.func, ast.Attribute) and node.func.attr in ("get", "pop", "setdefault") \
            and reader.module_of(node.func.value) == "sys.modules":
        keyed.add(id(node.func.value))
        return [RUN_TIME_IMPORT] if unreadable_first else []
    if name == "getattr" and len(node.args) >= 2 and reader.fold(node.args[1]) is None:
        module = reader.module_of(node.args[0])
        if module and _is_library_parent(module):  # getattr(scipy, name)
            return [RUN_TIME_PART.format(module)]
    return []


def _patches_numpy(node, aliases: _Aliases) -> bool:
    targets = []
    if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
        targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("setattr", "delattr") \
            and node.args:
        targets = [ast.Attribute(value=node.args[0], attr="?")]
    for target in targets:
        if isinstance(target, ast.Attribute):
            module = aliases.resolve(_dotted(target.value))
            if module and (module == "numpy" or module.startswith("numpy.")):
                return True
    return False


def scan(nb, function_names: list[str]) -> Findings:
    trees = [t for t in (parse(s) for s in student_sources(nb)) if t is not None]
    reader = _Reader(trees)
    aliases = reader.top
    functions = _Bindings(trees, reader, set(function_names))
    findings = Findings()
    for name in function_names:
        used = _reaches(functions.get(name, []), reader, functions, {name})
        imported = aliases.resolve(name)  # from scipy.ndimage import maximum_filter as pool2d
        if imported and is_forbidden_module(imported):
            used.append(imported)
        if used:
            findings.forbidden[name] = sorted(set(used))
    attacks: list[str] = []
    for tree in trees:
        for node in ast.walk(tree):
            for module in _imported_modules(node):
                why = SUSPICIOUS_MODULES.get(module.split(".")[0])
                if why:
                    attacks.append(why)
            name = node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else None
            if name and SUSPICIOUS_NAMES.get(name):
                attacks.append(SUSPICIOUS_NAMES[name])
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if node.value in EVENT_NAMES:
                    attacks.append("an IPython event hook (pre_run_cell and the like)")
                elif any(p in node.value for p in GRADER_PATHS):
                    attacks.append("looks for the grader's files (gradebook, source/, solutions/, home folders)")
            dunder = (node.name if isinstance(node, ast.FunctionDef) else
                      node.id if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store) else
                      node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None)
            if dunder in DUNDER_COMPARISONS:
                attacks.append(f"an object with its own {dunder} (can pretend to equal anything)")
            if _patches_numpy(node, aliases):
                attacks.append("patches NumPy (e.g. np.allclose or np.testing)")
            owner = aliases.resolve(_dotted(node.value)) if isinstance(node, ast.Attribute) else None
            if owner == "sys" and node.attr == "modules":
                attacks.append("replaces modules (sys.modules)")
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("exit", "quit"):
                attacks.append("ends the kernel (exit)")
            if owner == "sys" and node.attr == "exit":
                attacks.append("ends the kernel (sys.exit)")
    findings.attacks = list(dict.fromkeys(attacks))
    return findings
