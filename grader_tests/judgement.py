"""Judging a notebook variant without a kernel: the recorded path's judgement, in this process.

`cnnlab autograde` runs a submission in three stages (cnnlab/grading/plan.py):
every student cell, one probe per graded item, then the hidden blocks; the
verifier scores each item from the probes' plain data and nbgrader records
that score. `Judge` does the same stages here, on the globals of a notebook
whose cells ran in this process:

1. the release notebook's code cells with the variant's answers, in order
   (a cell that raises is skipped, as a kernel goes on to the next cell);
2. the probe of every item (`cnnlab.probe`, in-process), its report sent
   through JSON as the kernel's display message is, then judged by the
   verifier's own `judge` with the static reading's forbidden libraries:
   the **verified** score, which is what the gradebook records;
3. otter's own test files (from the autograder zip Gradescope takes) and
   scoring on a copy of those globals: the **otter** score per question;
4. every test cell of source/ (visible asserts and hidden block) on those
   globals, scored by nbgrader's rules (an error or anything on stderr: 0;
   a number as the cell's value: partial credit; else full marks): the
   **in-notebook** score plain nbgrader would give.

grader_tests/test_catalogue.py holds every catalogued variant to all three;
test_recorded_path.py checks, per assignment, that a class graded by `cnnlab
autograde` records exactly the verified scores, and test_plain_nbgrader.py
that plain nbgrader records the in-notebook ones.
"""
from __future__ import annotations

import ast
import contextlib
import io
import json
import re
import zipfile
from pathlib import Path

import nbformat

from cnnlab import checks, probe
from cnnlab.grading.plan import probe_spec
from cnnlab.grading.tamper import scan
from cnnlab.grading.verify import judge
from cnnlab.items.key import check_source
from cnnlab.nbtools import fill_answers, grade_id, instructor_answers, nbgrader_meta


def _run_cell(code: str, env: dict, label: str):
    """Run one cell as a kernel does: (value of its last expression, raised, stderr text)."""
    tree = ast.parse(code)
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    out, err, value, raised = io.StringIO(), io.StringIO(), None, None
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            exec(compile(tree, label, "exec"), env)
            if last is not None:
                value = eval(compile(ast.Expression(last.value), label, "eval"), env)
        except Exception as exc:  # a kernel reports the error and goes on with the next cell
            raised = exc
    return value, raised, err.getvalue()


class OtterTests:
    """otter's own test files, from the autograder zip of `cnnlab otter A` (a
    cnnlab.otter build), and otter's own scoring of them on a notebook's globals."""

    def __init__(self, built, tmp: Path):
        from otter.nbmeta_config import NBMetadataConfig
        from otter.test_files import create_test_file

        with zipfile.ZipFile(built.autograder_zip) as zf:
            names = [n for n in zf.namelist() if n.startswith("tests/") and n.endswith(".py")]
            zf.extractall(tmp, names)
        self.tests = {Path(n).stem: create_test_file(str(tmp / n), NBMetadataConfig({})) for n in names}
        self.points = {q.name: q.points for q in built.questions}

    def run(self, env: dict, question: str):
        """One question's test file run on `env` (its results: .score, .test_case_results)."""
        test = self.tests[question]
        with contextlib.redirect_stdout(io.StringIO()):
            test.run(env)
        return test

    def scores(self, env: dict) -> dict[str, float]:
        return {name: self.run(env, name).score for name in self.tests}


class Judge:
    """The verified, otter and in-notebook scores of one assignment's notebook, per variant."""

    def __init__(self, course, assignment_id: str, otter: OtterTests | None = None):
        import matplotlib

        matplotlib.use("Agg")
        self.assignment = assignment_id
        self.notebook = course.assignment(assignment_id).notebooks[0]
        self.source = course.read_source(assignment_id, self.notebook)
        self.release = nbformat.read(course.root / "release" / assignment_id / f"{self.notebook}.ipynb",
                                     as_version=4)
        self.answers = instructor_answers(self.source)
        self.otter = otter
        self.key = check_source(self.source, assignment_id, self.notebook)
        self.points = {grade_id(c): float(nbgrader_meta(c).get("points", 0)) for c in self.source.cells
                       if nbgrader_meta(c).get("grade") and not nbgrader_meta(c).get("solution")}
        config = (course.root / "nbgrader_config.py").read_text()
        patterns = re.findall(r"IgnorePattern\.pattern\s*=\s*r?[\"'](.+?)[\"']", config)
        self.ignore = re.compile(patterns[0]) if patterns else None

    def notebook_of(self, answers: dict[str, str] | None = None):
        """The release notebook as a student hands it in with these answers (default: the instructor's)."""
        return fill_answers(self.release, {**self.answers, **(answers or {})})

    def student_globals(self, answers: dict[str, str] | None = None, blank: bool = False) -> dict:
        """The globals of the release notebook after a student's kernel ran every cell of it."""
        return self._student_globals(self.release if blank else self.notebook_of(answers))

    def _student_globals(self, nb) -> dict:
        import matplotlib.pyplot as plt
        from matplotlib.figure import Figure

        env: dict = {"__name__": "__main__"}
        # no figure is rendered here, so none is laid out: tight_layout measures every label with a
        # renderer (about half of a 05 variant's time) and changes no name a score reads
        layout, Figure.tight_layout = Figure.tight_layout, lambda self, *args, **kwargs: None
        try:
            for index, cell in enumerate(nb.cells):
                if cell.cell_type == "code":
                    _run_cell(cell.source, env, f"<cell {index}>")
        finally:
            Figure.tight_layout = layout
            plt.close("all")
        return env

    def _verified(self, nb, env: dict) -> dict[str, float]:
        findings = scan(nb, self.key.function_names())
        scores = {}
        for gid, key_item in self.key.items.items():
            item = key_item.item
            spec = json.loads(json.dumps(probe_spec(item)))
            obj = env.get(item.name, probe._MISSING)
            report = {"item": gid, "kind": item.kind}
            with contextlib.redirect_stdout(io.StringIO()):
                if item.kind == "function":
                    report.update(probe.probe_function(obj, spec["cases"]) if callable(obj) else {"found": False})
                else:
                    report["found"] = obj is not probe._MISSING
                    if report["found"]:
                        report["value"] = probe.encode(obj)
            entry = {"report": json.loads(json.dumps(report))}  # what crosses the sandbox wall
            scores[gid] = judge(key_item, entry, findings.forbidden.get(item.name, [])).score
        return scores

    def _in_notebook(self, env: dict) -> dict[str, float]:
        scores = {}
        checks._NAMESPACE = env  # the checks read the student's names from here, as from a kernel's user_ns
        try:
            for cell in self.source.cells:
                gid = grade_id(cell)
                if gid not in self.points:
                    continue
                value, raised, stderr = _run_cell(cell.source, env, f"<test {gid}>")
                if self.ignore is not None:
                    stderr = "\n".join(ln for ln in stderr.splitlines() if not self.ignore.search(ln))
                if raised is not None or stderr.strip():
                    scores[gid] = 0.0
                elif isinstance(value, (int, float)) and not isinstance(value, bool):
                    scores[gid] = float(value)
                else:
                    scores[gid] = self.points[gid]
        finally:
            checks._NAMESPACE = None
        return scores

    def scores(self, answers: dict[str, str] | None = None, blank: bool = False) -> dict[str, dict[str, float]]:
        """{"verified": {grade_id: score}, "in_notebook": {...}, "otter": {question: score},
        "max": {...}} of one variant (`blank`: the untouched release notebook)."""
        nb = self.release if blank else self.notebook_of(answers)
        env = self._student_globals(nb)
        verified = self._verified(nb, env)
        otter = self.otter.scores(dict(env)) if self.otter else {}  # before the test cells add their names
        in_notebook = self._in_notebook(env)
        return {"verified": verified, "in_notebook": in_notebook, "otter": otter,
                "max": {gid: self.points[gid] for gid in in_notebook}}
