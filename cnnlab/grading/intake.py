"""The intake step (trusted): a submission as handed in → a notebook nbgrader can grade.

`submitted/` is never modified: the repaired copy goes to an intake folder
that autograde reads instead. What it repairs, and why:

- a notebook saved under another name (`kernels (1).ipynb`, the usual LMS
  download name) is matched to the assignment's notebook;
- a file that is not a notebook (invalid JSON, empty, binary) is left out:
  nbgrader then scores that notebook 0, and the reason goes to the log;
- cells whose nbgrader metadata was damaged (flags flipped, points edited,
  cell type changed, grade id duplicated) get the release notebook's metadata
  back; a deleted or blanked test cell is put back (autograde then restores
  its hidden tests from the gradebook); a duplicated answer cell stays as a
  plain code cell, so the student's code runs as it did for them;
- only notebooks (and nbgrader's timestamp.txt) enter: a `numpy.py` or any
  other module handed in beside the notebook never reaches the kernel.
"""
from __future__ import annotations

import copy
import hashlib
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from ..nbtools import grade_id, nbgrader_meta

COPY_SUFFIX = re.compile(r"(\s*\(\d+\)|[-_ ]copy\d*|\s+copy\s*\d*|-\d+)$", re.IGNORECASE)
MAX_NOTEBOOK_BYTES = 20 * 1024**2


@dataclass
class Intake:
    student: str
    assignment: str
    fingerprint: str
    problems: list[str] = field(default_factory=list)   # why something scores 0
    repairs: list[str] = field(default_factory=list)    # what was fixed and graded anyway
    dropped_files: list[str] = field(default_factory=list)


def fingerprint(folder: Path) -> str:
    """A hash of every file handed in: a changed submission gets regraded."""
    h = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        h.update(str(path.relative_to(folder)).encode() + b"\0")
        h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


def _stem_key(stem: str) -> str:
    previous = None
    while previous != stem:
        previous, stem = stem, COPY_SUFFIX.sub("", stem).strip()
    return stem.lower()


def match_notebooks(files: list[Path], expected: list[str]) -> dict[str, Path]:
    """{expected notebook name: handed-in file}, exact names first, then copies
    and re-downloads (`kernels (1)`, `kernels-2`, `Kernels copy`), then a lone
    notebook for a one-notebook assignment."""
    notebooks = [f for f in files if f.suffix.lower() == ".ipynb"]
    found: dict[str, Path] = {}
    for name in expected:
        exact = [f for f in notebooks if f.stem == name]
        if exact:
            found[name] = exact[0]
    for name in expected:
        if name in found:
            continue
        similar = sorted((f for f in notebooks if f not in found.values() and _stem_key(f.stem) == name.lower()),
                         key=lambda f: f.stat().st_mtime, reverse=True)  # the newest copy wins
        if similar:
            found[name] = similar[0]
    left = [f for f in notebooks if f not in found.values()]
    if len(expected) == 1 and expected[0] not in found and len(left) == 1:
        found[expected[0]] = left[0]
    return found


def read_notebook(path: Path):
    """(notebook, None) or (None, one-line reason)."""
    size = path.stat().st_size  # OSError (unreadable) is the caller's to report
    try:
        if size == 0:
            return None, f"{path.name} is empty"
        if size > MAX_NOTEBOOK_BYTES:
            return None, f"{path.name} is larger than {MAX_NOTEBOOK_BYTES // 1024**2} MiB"
        text = path.read_bytes().decode("utf-8")
        nb = nbformat.reads(text, as_version=4)
    except UnicodeDecodeError:
        return None, f"{path.name} is not a notebook (binary data)"
    except Exception as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:120]
        return None, f"{path.name} is not a readable notebook ({first})"
    if not isinstance(nb.get("cells"), list):
        return None, f"{path.name} is not a notebook (no cells)"
    return nb, None


def _template_cell(cell):
    fresh = copy.deepcopy(cell)
    if fresh.cell_type == "code":
        fresh.outputs, fresh.execution_count = [], None
    return fresh


def _occurrence_to_keep(nb, order: list[str], template: dict) -> dict[str, int]:
    """For a graded cell that appears more than once: the copy to keep. An
    answer cell keeps its first copy (the others still run as plain cells); a
    test or locked cell keeps the first copy that comes after the cell that
    precedes it in the release notebook (a test moved above its answer would
    test nothing), else the last."""
    positions: dict[str, list[int]] = {}
    for index, cell in enumerate(nb.cells):
        if grade_id(cell) in template:
            positions.setdefault(grade_id(cell), []).append(index)
    keep = {}
    for gid, where in positions.items():
        if len(where) == 1 or nbgrader_meta(template[gid]).get("solution"):
            keep[gid] = where[0]
            continue
        before = order[:order.index(gid)]
        anchor = max((positions[g][0] for g in before if g in positions), default=-1)
        keep[gid] = next((i for i in where if i > anchor), where[-1])
    return keep


def repair_cells(nb, release_nb) -> list[str]:
    """Give the notebook the release notebook's graded structure back (in place)."""
    template = {grade_id(c): c for c in release_nb.cells if grade_id(c)}
    order = [grade_id(c) for c in release_nb.cells if grade_id(c)]
    repairs, seen, cells = [], set(), []
    keep = _occurrence_to_keep(nb, order, template)
    for index, cell in enumerate(nb.cells):
        gid = grade_id(cell)
        if gid is None:
            cells.append(cell)
            continue
        ref = template.get(gid)
        if ref is None:
            cell.metadata.pop("nbgrader", None)
            repairs.append(f"cell {gid!r} is not in the assignment: kept as a plain cell")
            cells.append(cell)
            continue
        ref_meta = nbgrader_meta(ref)
        if gid in seen or index != keep.get(gid, index):
            if ref_meta.get("solution") and cell.cell_type == ref.cell_type:
                cell.metadata.pop("nbgrader", None)  # the student's copy of an answer still runs
                repairs.append(f"duplicated answer cell {gid!r}: the copy runs as a plain cell")
                cells.append(cell)
            else:
                repairs.append(f"duplicated cell {gid!r} removed")
            continue
        seen.add(gid)
        if cell.cell_type != ref.cell_type or nbgrader_meta(cell) != ref_meta:
            repairs.append(f"cell {gid!r}: type or grading metadata restored")
            fixed = _template_cell(ref)
            if ref_meta.get("solution") and cell.cell_type == ref.cell_type:
                fixed.source = cell.source  # keep the student's answer
            cell = fixed
        cells.append(cell)
    for gid in order:  # put back graded cells that were deleted
        if gid in seen:
            continue
        ref = template[gid]
        index = order.index(gid)
        before = {g for g in order[:index]}
        at = max((i + 1 for i, c in enumerate(cells) if grade_id(c) in before), default=0)
        cells.insert(at, _template_cell(ref))
        seen.add(gid)
        repairs.append(f"deleted cell {gid!r} put back")
    nb.cells = cells
    return repairs


def take_in(src: Path, dest: Path, student: str, assignment: str, notebooks: list[str],
            release: dict[str, object]) -> Intake:
    """Copy the submission in `src` to `dest` (replaced), repaired for grading."""
    intake = Intake(student, assignment, fingerprint(src))
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    files = sorted(p for p in src.rglob("*") if p.is_file())
    matched = match_notebooks(files, notebooks)
    for name in notebooks:
        path = matched.get(name)
        if path is None:
            intake.problems.append(f"{name}.ipynb was not handed in")
            continue
        nb, problem = read_notebook(path)
        if problem:
            intake.problems.append(problem)
            continue
        if path.name != f"{name}.ipynb":
            intake.repairs.append(f"{path.name} graded as {name}.ipynb")
        intake.repairs += repair_cells(nb, release[name])
        nbformat.write(nb, str(dest / f"{name}.ipynb"))
    if (src / "timestamp.txt").is_file():
        shutil.copy2(src / "timestamp.txt", dest / "timestamp.txt")
    used = {p for p in matched.values()} | {src / "timestamp.txt"}
    intake.dropped_files = [str(p.relative_to(src)) for p in files if p not in used]
    return intake
