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
  as well, so code built at run time cannot import them either).
"""
from __future__ import annotations

import ast
from dataclasses import dataclass, field

from ..checks import FORBIDDEN_LIBRARIES
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
        return ast.parse(source)
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


def _is_forbidden(module: str) -> bool:
    return any(module == lib or module.startswith(lib + ".") for lib in FORBIDDEN_LIBRARIES)


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


def _reaches(nodes, aliases: _Aliases, functions: dict, seen: set) -> list[str]:
    """Forbidden names reachable from these nodes (following the notebook's own functions)."""
    found = []
    for tree in nodes:
        for node in ast.walk(tree):
            for module in _imported_modules(node):
                if _is_forbidden(module):
                    found.append(module)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and _is_forbidden(node.value):
                found.append(node.value)  # importlib.import_module("scipy.signal")
            if isinstance(node, (ast.Name, ast.Attribute)):
                target = aliases.resolve(_dotted(node))
                if target and _is_forbidden(target):
                    found.append(target)
            if isinstance(node, ast.Name) and node.id in functions and node.id not in seen:
                seen.add(node.id)
                found += _reaches(functions[node.id], aliases, functions, seen)
    return found


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
    aliases, functions = _Aliases(), {}
    for tree in trees:
        for node in tree.body:
            aliases.add_import(node)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                functions.setdefault(node.name, []).append(node)
            elif isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        functions.setdefault(target.id, []).append(node.value)
    findings = Findings()
    for name in function_names:
        used = _reaches(functions.get(name, []), aliases, functions, {name})
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
