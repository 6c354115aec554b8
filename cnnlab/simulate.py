"""Simulated students: the instructor's answers, a blank notebook, and the
catalogued mistakes and correct alternatives of cnnlab/catalogue/.

`make demo` grades such a class, and grader_tests prove with it that the
hidden tests catch every catalogued mistake on its own item and nowhere
else. Run `python -m cnnlab.simulate ASSIGNMENT` to see the table while
writing a notebook.
"""
from __future__ import annotations

import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path

from .course import Course, load_course
from .items import item_of
from .nbtools import fill_answers, instructor_answers


@dataclass(frozen=True)
class Variant:
    """One simulated answer to one item: `code` replaces the cell `cell`
    (by default `<item>_answer`) of an otherwise instructor-answered notebook."""

    item: str
    name: str
    code: str
    cell: str | None = None

    @property
    def cell_id(self) -> str:
        return self.cell or f"{self.item}_answer"


#: One module of simulated answers per assignment (it ships with the package: the demo needs it).
CATALOGUE = Path(__file__).resolve().parent / "catalogue"


def load_catalogue(assignment_id: str) -> tuple[list[Variant], list[Variant]]:
    """(MISTAKES, ALTERNATIVES) of cnnlab/catalogue/<assignment>.py."""
    path = CATALOGUE / f"{assignment_id}.py"
    if not path.exists():
        return [], []
    spec = importlib.util.spec_from_file_location(f"catalogue_{assignment_id}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return list(getattr(module, "MISTAKES", [])), list(getattr(module, "ALTERNATIVES", []))


def submissions(course: Course, workspace, assignment_id: str,
                variants: list[Variant]) -> dict[str, dict[str, object]]:
    """{student: {notebook: nb}}: 'instructor', 'blank' and one student per variant."""
    assignment = course.assignment(assignment_id)
    out: dict[str, dict[str, object]] = {"instructor": {}, "blank": {}}
    for i, _ in enumerate(variants):
        out[f"variant{i:02d}"] = {}
    for nb_name in assignment.notebooks:
        release = workspace.release_notebook(assignment_id, nb_name)
        answers = instructor_answers(course.read_source(assignment_id, nb_name))
        out["instructor"][nb_name] = fill_answers(release, answers)
        out["blank"][nb_name] = release
        for i, v in enumerate(variants):
            if v.cell_id in answers:
                out[f"variant{i:02d}"][nb_name] = fill_answers(release, {**answers, v.cell_id: v.code})
    return out


def verdict(grades: dict[str, tuple[float, float]], variant: Variant | None, mistake: bool) -> str:
    """'' when the grades are what the variant should get, else why not."""
    problems = []
    for gid, (score, max_score) in grades.items():
        mine = variant is not None and item_of(gid) == variant.item
        if mistake and mine:
            continue
        if score < max_score:
            problems.append(f"{gid} lost {max_score - score:g}")
    if mistake:
        own = [(s, m) for gid, (s, m) in grades.items() if item_of(gid) == variant.item]
        if not own:
            problems.append(f"no graded cell for item {variant.item!r}")
        elif sum(s for s, _ in own) >= sum(m for _, m in own):
            problems.append(f"{variant.item} kept full marks")
    return "; ".join(problems)


def main(argv: list[str] | None = None) -> int:
    from .workspace import Workspace

    argv = sys.argv[1:] if argv is None else argv
    course = load_course()
    assignment_id = argv[0]
    mistakes, alternatives = load_catalogue(assignment_id)
    variants = mistakes + alternatives
    bad = 0
    with Workspace(course) as ws:
        ws.generate_assignment(assignment_id)
        for student, notebooks in submissions(course, ws, assignment_id, variants).items():
            if not notebooks:
                print(f"{student}: SKIPPED (its cell is not in any notebook)")
                bad += 1
                continue
            ws.submit(student, assignment_id, notebooks)
            ws.autograde(assignment_id, student)
            grades = {gid: sg for nb in ws.grades(assignment_id, student).values() for gid, sg in nb.items()}
            total = sum(s for s, _ in grades.values()), sum(m for _, m in grades.values())
            if student == "instructor":
                label, problem = "instructor answers", verdict(grades, None, False)
            elif student == "blank":
                label = "blank release notebook"
                problem = "" if total[0] == 0 else f"scored {total[0]:g}, expected 0"
            else:
                v = variants[int(student[7:])]
                kind = "mistake" if v in mistakes else "alternative"
                label = f"{kind} [{v.item}] {v.name}"
                problem = verdict(grades, v, v in mistakes)
            bad += bool(problem)
            print(f"{'OK ' if not problem else 'BAD'} {total[0]:6.2f}/{total[1]:g}  {label}" + (f"  -- {problem}" if problem else ""))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
