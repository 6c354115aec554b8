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
- only notebooks (and nbgrader's timestamp.txt and submission_secret.txt) enter: a `numpy.py` or any
  other module handed in beside the notebook never reaches the kernel;
- links are never followed: a notebook that is a symbolic link (to source/,
  to another student's folder) is refused with a reason and flagged, as is a
  submission folder that is itself a link;
- cells whose shape is not a notebook cell's (metadata that is a list, a
  grade id that is not a string) are normalised before anything reads them,
  and a notebook past the size caps (cells, code) is refused, so one
  submission never holds up the class;
- a notebook holding the instructor's hidden tests (the source notebook,
  copied from wherever) is not the student's own work: it scores 0, flagged.
"""
from __future__ import annotations

import copy
import hashlib
import json
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from ..nbtools import grade_id, nbgrader_meta

COPY_SUFFIX = re.compile(r"(\s*\(\d+\)|[-_ ]copy\d*|\s+copy\s*\d*|-\d+)$", re.IGNORECASE)
#: Caps on what one handed-in notebook may be. The release notebooks have at
#: most 58 cells and 33 KB of sources; past these, the trusted steps (nbgrader's
#: sanitize and scoring, which hold the class's one coordinator lock) would
#: take long enough to stall every other submission.
MAX_NOTEBOOK_BYTES = 20 * 1024**2     # outputs (figures) included
MAX_CELLS = 1000
MAX_SOURCE_BYTES = 1024**2            # all cells' sources together
#: Only the instructor's source notebook holds this line (it is stripped from the release).
HIDDEN_MARK = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS", re.MULTILINE)
CELL_TYPES = ("code", "markdown", "raw")
#: nbgrader metadata fields and the types nbgrader's own code assumes for them.
META_TYPES = {"grade": bool, "solution": bool, "locked": bool, "task": bool, "grade_id": str,
              "points": (int, float), "schema_version": int}


@dataclass
class Intake:
    student: str
    assignment: str
    fingerprint: str
    problems: list[str] = field(default_factory=list)   # why something scores 0
    repairs: list[str] = field(default_factory=list)    # what was fixed and graded anyway
    dropped_files: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)      # what a TA should look at (links, the source notebook)
    not_attempted: bool = False   # every notebook taken in has its answer cells as the release has them


#: What `nbgrader submit` writes beside timestamp.txt: the key of the student's feedback file in
#: the exchange (a hex token; anything larger is not nbgrader's and stays out).
SECRET = "submission_secret.txt"
SECRET_BYTES = 1024


def untouched(nb, release_nb) -> bool:
    """Whether every answer cell is as the release has it: a notebook handed in without an attempt."""
    def answers(notebook):
        return {grade_id(c): c.source.strip() for c in notebook.cells if nbgrader_meta(c).get("solution")}
    mine, release = answers(nb), answers(release_nb)
    return bool(release) and all(mine.get(gid, text) == text for gid, text in release.items())


def shown(name: str) -> str:
    """A file name as it can be printed and logged: bytes that are not UTF-8
    (a name from a student's archive) become U+FFFD instead of failing the class."""
    return os.fsencode(name).decode("utf-8", "replace")


def handed_in(folder: Path) -> tuple[list[Path], list[Path]]:
    """(regular files, links) below `folder`, never following a link: a link
    (to source/, to another student) is not part of what the student handed in."""
    files, links = [], []
    for top, dirs, names in os.walk(folder, followlinks=False):
        for name in sorted(dirs + names):
            path = Path(top) / name
            if path.is_symlink():
                links.append(path)
            elif name in names and path.is_file():
                files.append(path)
    return sorted(files), sorted(links)


def fingerprint(folder: Path) -> str:
    """A hash of every file handed in: a changed submission gets regraded."""
    h = hashlib.sha256()
    files, links = handed_in(folder) if not folder.is_symlink() else ([], [folder])
    for path in files:
        h.update(os.fsencode(path.relative_to(folder)) + b"\0")
        h.update(hashlib.sha256(path.read_bytes()).digest())
    for path in links:  # where a link points is part of the submission's identity too
        h.update(b"link\0" + os.fsencode(path) + b"\0" + os.fsencode(os.readlink(path)) + b"\0")
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
                         key=lambda f: f.lstat().st_mtime, reverse=True)  # the newest copy wins
        if similar:
            found[name] = similar[0]
    left = [f for f in notebooks if f not in found.values()]
    if len(expected) == 1 and expected[0] not in found and len(left) == 1:
        found[expected[0]] = left[0]
    return found


def read_notebook(path: Path, repairs: list[str] | None = None):
    """(notebook, None) or (None, one-line reason). The notebook's cells are
    normalised (normalise_cells); what that changed is appended to `repairs`."""
    name = shown(path.name)
    if path.is_symlink():
        return None, f"{name} is a link ({shown(os.readlink(path))}): links are never followed"
    size = path.stat().st_size  # OSError (unreadable) is the caller's to report
    try:
        if size == 0:
            return None, f"{name} is empty"
        if size > MAX_NOTEBOOK_BYTES:
            return None, f"{name} is larger than {MAX_NOTEBOOK_BYTES // 1024**2} MiB"
        text = path.read_bytes().decode("utf-8")
        data = json.loads(text)
        cells = data.get("cells") if isinstance(data, dict) else None
        if isinstance(cells, list) and len(cells) > MAX_CELLS:  # before nbformat validates every one of them
            return None, f"{name} has {len(cells)} cells; at most {MAX_CELLS} are graded"
        nb = nbformat.reads(text, as_version=4)
    except UnicodeDecodeError:
        return None, f"{name} is not a notebook (binary data)"
    except Exception as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:120]
        return None, f"{name} is not a readable notebook ({first})"
    if not isinstance(nb.get("cells"), list):
        return None, f"{name} is not a notebook (no cells)"
    if len(nb.cells) > MAX_CELLS:
        return None, f"{name} has {len(nb.cells)} cells; at most {MAX_CELLS} are graded"
    changed = normalise_cells(nb)
    code = sum(len(c.source.encode("utf-8", "replace")) for c in nb.cells)
    if code > MAX_SOURCE_BYTES:
        return None, f"{name} holds {code // 1024} KiB of cell sources; at most {MAX_SOURCE_BYTES // 1024} KiB are graded"
    if repairs is not None:
        repairs += changed
    return nb, None


def _source_text(source) -> str | None:
    if isinstance(source, str):
        return source
    if isinstance(source, list) and all(isinstance(line, str) for line in source):
        return "".join(source)
    return None


def normalise_cells(nb) -> list[str]:
    """Give every cell the shape nbgrader's preprocessors assume (in place):
    cells that are not cells are dropped, metadata that is not a mapping is
    emptied, and nbgrader metadata of the wrong shape (a grade id given as a
    list, points as text) is removed, so the repair step treats that cell as
    the student's own and puts the assignment's cell back. Returns what changed."""
    changed = []
    if not isinstance(nb.get("metadata"), dict):
        nb.metadata = nbformat.NotebookNode()
        changed.append("the notebook's metadata was not a mapping: emptied")
    cells = []
    for index, cell in enumerate(nb.cells):
        source = _source_text(cell.get("source")) if isinstance(cell, dict) else None
        if not isinstance(cell, dict) or cell.get("cell_type") not in CELL_TYPES or source is None:
            changed.append(f"cell {index + 1} is not a notebook cell: left out")
            continue
        cell.source = source
        if not isinstance(cell.get("metadata"), dict):
            cell.metadata = nbformat.NotebookNode()
            changed.append(f"cell {index + 1}: its metadata was not a mapping: emptied")
        meta = cell.metadata.get("nbgrader")
        if "nbgrader" in cell.metadata and not (
                isinstance(meta, dict) and all(isinstance(meta[k], t) for k, t in META_TYPES.items() if k in meta)
                and (meta.get("grade_id") or not (meta.get("grade") or meta.get("solution") or meta.get("locked")))):
            del cell.metadata["nbgrader"]
            changed.append(f"cell {index + 1}: its nbgrader metadata was malformed: removed")
        if cell.cell_type == "code":
            if not isinstance(cell.get("outputs"), list):
                cell.outputs = []
            if not isinstance(cell.get("execution_count"), (int, type(None))):
                cell.execution_count = None
        cells.append(cell)
    nb.cells = cells
    return changed


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


def _linked_folder(src: Path) -> Path | None:
    """The student's folder, or its assignment folder, if either is a link."""
    for folder in (src.parent, src):
        if folder.is_symlink():
            return folder
    return None


def graded_cells_elsewhere(course, assignment_id: str) -> dict[str, set[str]]:
    """{other assignment: the grade ids of its release notebooks}, to name a notebook handed in for
    the wrong assignment (intake, collect)."""
    out = {}
    for other in course.assignments:
        if other.id != assignment_id:
            paths = [course.release_notebook(other.id, nb) for nb in other.notebooks]
            out[other.id] = {grade_id(c) for p in paths if p.is_file()
                             for c in nbformat.read(p, as_version=4).cells if grade_id(c)}
    return out


def assignment_of(nb, release_nb, elsewhere: dict[str, set[str]]) -> str | None:
    """The other assignment whose notebook this is, when it shares no graded cell with the release
    notebook it was handed in for and some with another assignment's (None: it is this one's)."""
    ids = {grade_id(c) for c in nb.cells if grade_id(c)}
    if not ids or ids & {grade_id(c) for c in release_nb.cells if grade_id(c)}:
        return None
    best = max(elsewhere.items(), key=lambda kv: len(ids & kv[1]), default=(None, set()))
    return best[0] if ids & best[1] else None


def take_in(src: Path, dest: Path, student: str, assignment: str, notebooks: list[str],
            release: dict[str, object], elsewhere: dict[str, set[str]] | None = None) -> Intake:
    """Copy the submission in `src` to `dest` (replaced), repaired for grading.
    elsewhere: {other assignment: its graded cell ids}, to name a notebook handed in for the wrong one."""
    intake = Intake(student, assignment, fingerprint(src))
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    linked = _linked_folder(src)
    if linked is not None:
        why = f"the submission folder {shown(linked.name)} is a link ({shown(os.readlink(linked))}): links are never followed"
        intake.problems.append(why)
        intake.flags.append(why)
        return intake
    files, links = handed_in(src)
    for link in links:
        intake.flags.append(f"{shown(str(link.relative_to(src)))} is a link to {shown(os.readlink(link))}: "
                            "left out (links are never followed)")
    matched = match_notebooks(files + [p for p in links if p.suffix.lower() == ".ipynb"], notebooks)
    attempts: list[bool] = []  # per notebook taken in: whether any answer cell changed
    for name in notebooks:
        path = matched.get(name)
        if path is None:
            intake.problems.append(f"{name}.ipynb was not handed in")
            continue
        repairs: list[str] = []
        nb, problem = read_notebook(path, repairs)
        if problem:
            intake.problems.append(problem)
            continue
        if any(HIDDEN_MARK.search(c.source) for c in nb.cells):
            why = f"{shown(path.name)} holds the instructor's hidden tests: it is not the student's own work"
            intake.problems.append(why)
            intake.flags.append(why)
            continue
        other = assignment_of(nb, release[name], elsewhere or {})
        if other is not None:  # repairing it against this release would invent a submission
            why = f"handed in the notebook of {other} ({shown(path.name)}), not {name}.ipynb of {assignment}"
            intake.problems.append(why)
            intake.flags.append(why)
            continue
        if path.name != f"{name}.ipynb":
            intake.repairs.append(f"{shown(path.name)} graded as {name}.ipynb")
        intake.repairs += repairs + repair_cells(nb, release[name])
        nbformat.write(nb, str(dest / f"{name}.ipynb"))
        attempts.append(not untouched(nb, release[name]))
    intake.not_attempted = bool(attempts) and not any(attempts)
    if (src / "timestamp.txt") in files:
        shutil.copy2(src / "timestamp.txt", dest / "timestamp.txt")
    # nbgrader's exchange names the released feedback after it (release_feedback fails without it)
    secret = src / SECRET
    if secret in files and secret.stat().st_size <= SECRET_BYTES:
        shutil.copy2(secret, dest / SECRET)
    used = {p for p in matched.values()} | {src / "timestamp.txt", secret} | set(links)
    intake.dropped_files = [shown(str(p.relative_to(src))) for p in files if p not in used]
    return intake
