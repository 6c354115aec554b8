"""The otter-grader version (`cnnlab otter`), judged against nbgrader's:

- `cnnlab otter` works offline (built here in a network namespace with only
  loopback); otter's layout: student notebooks with grader.check cells that reveal no
  more than nbgrader's release does, an autograder zip for Python 3.11;
- real `otter run` (inside the sandbox) gives the instructor's answers full
  marks in every assignment, and otter's untouched student notebook 0 (one
  real run, in `cnnlab otter-grade`'s class: that a blank notebook earns
  nothing under otter's tests is test_catalogue.py's, for every assignment);
- a failing hidden case tells the student its case and hint, never its source
  (that every catalogued variant scores under otter as under the verifier is
  test_catalogue.py's, on the same globals: judgement.py);
- `cnnlab otter-grade` grades a class in the sandbox, never reads a
  submission's .OTTER_LOG, and reports a broken submission in one line.
"""
from __future__ import annotations

import csv
import pickle
import subprocess
import zipfile
from pathlib import Path

import nbformat
import pytest

from cnnlab.nbtools import grade_id, nbgrader_meta
from cnnlab.otter.master import free_names, solution_source
from cnnlab.otter.run import grade_one
from cnnlab.items import item_of

from conftest import ROOT, assignment_ids, cnnlab_cmd, run_env
from leaks import secrets

def _grouped(ids):
    return [pytest.param(a, id=a, marks=pytest.mark.xdist_group(a)) for a in ids]


# ---------------------------------------------------------------------------- the conversion
def test_function_solution_becomes_otter_block_and_value_becomes_placeholder():
    fn = 'def f(x):\n    """doc"""\n    ### BEGIN SOLUTION\n    return x + 1\n    ### END SOLUTION\n'
    assert solution_source(fn, "f") == ('def f(x):\n    """doc"""\n    # BEGIN SOLUTION\n'
                                        '    return x + 1\n    # END SOLUTION')
    value = '# a set\n### BEGIN SOLUTION\nanswer = {"A",\n          "C"}\n### END SOLUTION\n'
    assert solution_source(value, "v") == ('# a set\nanswer = ...\n# BEGIN SOLUTION NO PROMPT\n'
                                           'answer = {"A",\n          "C"}\n# END SOLUTION')


def test_visible_test_reads_the_notebook_names_it_does_not_define():
    code = "_k = np.asarray(kernel)\nassert f(_k).shape == (2, 2), [i for i in range(3)]\nprint(len(_k))"
    assert free_names(code) == ["f", "kernel", "np"]


# ---------------------------------------------------------------------------- layout and leaks
@pytest.mark.parametrize("assignment_id", _grouped(assignment_ids()))
def test_otter_layout_reveals_no_more_than_the_release(course, otter_version, assignment_id):
    built = otter_version(assignment_id)
    notebook = course.assignment(assignment_id).notebooks[0]
    source = course.read_source(assignment_id, notebook)
    student_text = built.student_notebook.read_text(encoding="utf-8")
    release_text = (ROOT / "release" / assignment_id / f"{notebook}.ipynb").read_text(encoding="utf-8")
    leaked = [ln for ln in secrets(source)["solution"] if ln in student_text and ln not in release_text]
    assert not leaked, f"solution lines in otter's student notebook: {leaked[:3]}"
    for secret in ("hidden_unit", "BEGIN HIDDEN TESTS", "_reference_", "check_function("):
        assert secret not in student_text, f"{secret!r} is in otter's student notebook"

    student = nbformat.read(built.student_notebook, as_version=4)
    checks = {c.source.strip() for c in student.cells if c.cell_type == "code"}
    assert 'grader = otter.Notebook("%s.ipynb")' % notebook in "\n".join(checks)
    for q in built.questions:
        assert (f'grader.check("{q.name}")' in checks) == q.public, q.name

    # the zip Gradescope takes: one test file per question, the hidden cases in it, Python 3.11
    with zipfile.ZipFile(built.autograder_zip) as zf:
        names = set(zf.namelist())
        assert "python=3.11" in zf.read("environment.yml").decode()
        assert {"files/cnnlab/checks.py", "run_autograder", "otter_config.json"} <= names
        for q in built.questions:
            text = zf.read(f"tests/{q.name}.py").decode()
            assert text.count("hidden=True") == q.units, q.name
            assert f"points = {q.points:g}" in text.replace(".0\n", "\n"), q.name

    # points: otter's questions are nbgrader's graded items, with nbgrader's points
    nbgrader_points = {item_of(grade_id(c)): nbgrader_meta(c)["points"] for c in source.cells
                       if nbgrader_meta(c).get("grade") and nbgrader_meta(c).get("points")}
    assert {q.name: q.points for q in built.questions} == nbgrader_points


GRADED_BY_THE_CLI = "02_kernels"  # its instructor and blank notebooks: the otter-grade test below


@pytest.mark.parametrize("assignment_id", _grouped(a for a in assignment_ids() if a != GRADED_BY_THE_CLI))
def test_otter_run_gives_instructor_full_marks(otter_version, assignment_id):
    built = otter_version(assignment_id)
    full = grade_one(built.autograder_notebook, built.autograder_zip, built.notebook, built.questions)
    assert full.error == "", full.error
    assert full.scores == {q.name: q.points for q in built.questions}


def test_hidden_failure_tells_the_student_the_case_and_hint(judge):
    """What a failing hidden otter case says is nbgrader's report line: case, reason, hint.
    (Scores under otter equal the verifier's for every catalogued variant: test_catalogue.py.)"""
    judged = judge("02_kernels").judge
    flipped = ("def cross_correlate2d(image, kernel):\n"
               "    image = np.asarray(image, dtype=float)\n"
               "    kernel = np.flip(np.asarray(kernel, dtype=float))\n"
               "    kh, kw = kernel.shape\n"
               "    out = np.zeros((image.shape[0] - kh + 1, image.shape[1] - kw + 1))\n"
               "    for i in range(out.shape[0]):\n"
               "        for j in range(out.shape[1]):\n"
               "            out[i, j] = np.sum(image[i:i + kh, j:j + kw] * kernel)\n"
               "    return out\n")
    test = judged.otter.run(judged.student_globals({"cross_correlate2d_answer": flipped}), "cross_correlate2d")
    failed = [r.message for r in test.test_case_results if not r.passed]
    assert failed and any("asymmetric 3×3 kernel on a 6×6 image" in m and "without flipping" in m for m in failed)
    assert not any("_reference_" in m or "random_array(" in m for m in failed), "a hidden case's source leaked"


# ---------------------------------------------------------------------------- grading otter submissions ourselves
class _Plant:
    """Unpickling this creates a file: proof that a .OTTER_LOG was loaded."""

    def __init__(self, path: str):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


@pytest.mark.xdist_group(GRADED_BY_THE_CLI)
def test_otter_grade_runs_otter_in_the_sandbox_and_never_reads_the_log(otter_version, tmp_path):
    """Real `otter run` through the command: the instructor's answers (with a planted log) get
    full marks, otter's untouched student notebook 0, a broken file one line."""
    built = otter_version(GRADED_BY_THE_CLI)
    planted = tmp_path / "log-was-unpickled"
    submitted = tmp_path / "alice.zip"
    with zipfile.ZipFile(submitted, "w") as zf:
        zf.writestr("kernels.ipynb", built.autograder_notebook.read_text(encoding="utf-8"))
        zf.writestr(".OTTER_LOG", pickle.dumps(_Plant(str(planted))))
    blank = tmp_path / "carol.ipynb"
    blank.write_text(built.student_notebook.read_text(encoding="utf-8"), encoding="utf-8")
    broken = tmp_path / "bob.ipynb"
    broken.write_text("{ this is not a notebook", encoding="utf-8")
    out_csv = tmp_path / "scores.csv"
    proc = subprocess.run(cnnlab_cmd("--course", str(ROOT), "otter-grade", GRADED_BY_THE_CLI, str(submitted),
                                     str(blank), str(broken), "--dist", str(built.out), "--csv", str(out_csv)),
                          capture_output=True, text=True, env=run_env())
    assert proc.returncode == 1, proc.stdout + proc.stderr      # one submission could not be graded
    assert "Traceback" not in proc.stdout + proc.stderr
    assert not planted.exists()
    assert "left unread: .OTTER_LOG" in proc.stdout
    assert "NOT GRADED" in proc.stdout and "not a readable notebook" in proc.stdout
    rows = {Path(r["submission"]).name: r for r in csv.DictReader(out_csv.open(encoding="utf-8"))}
    assert float(rows["alice.zip"]["total"]) == built.points
    assert float(rows["carol.ipynb"]["total"]) == 0 and not rows["carol.ipynb"]["error"]
    assert all(rows["carol.ipynb"][q.name] not in ("", None) for q in built.questions), rows["carol.ipynb"]
    assert rows["bob.ipynb"]["total"] == "" and rows["bob.ipynb"]["error"]


def test_otter_commands_fail_in_one_line(tmp_path):
    proc = subprocess.run(cnnlab_cmd("--course", str(ROOT), "otter", "99_nope", "--out", str(tmp_path / "x")),
                          capture_output=True, text=True, env=run_env())
    assert proc.returncode == 2 and "unknown assignment" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    proc = subprocess.run(cnnlab_cmd("--course", str(ROOT), "otter-grade", "02_kernels", str(tmp_path / "a.ipynb"),
                                     "--dist", str(tmp_path / "nothing")),
                          capture_output=True, text=True, env=run_env())
    assert proc.returncode == 2 and "cnnlab otter 02_kernels" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def _tiny_source(*middle):
    """A source notebook with one number item `x` and `middle` cells between its answer and tests."""
    def cell(source, gid=None, **meta):
        c = nbformat.v4.new_code_cell(source)
        if gid:
            c.metadata["nbgrader"] = {"grade_id": gid, "schema_version": 3, **meta}
        return c

    cells = [cell("x = ...\n### BEGIN SOLUTION\nx = 3\n### END SOLUTION\n", "x_answer", solution=True,
                  grade=False, locked=False),
             cell("assert isinstance(x, int)\n", "x_visible", solution=False, grade=True, locked=True, points=0),
             *middle,
             cell('### BEGIN HIDDEN TESTS\nfrom cnnlab.checks import check_number\ncheck_number("x", 3, points=1)\n'
                  "### END HIDDEN TESTS\n", "x_hidden", solution=False, grade=True, locked=True, points=1)]
    return nbformat.v4.new_notebook(cells=cells)


def test_a_cell_between_an_answer_and_its_hidden_test_runs_inside_the_question():
    from cnnlab.otter.master import MasterError, master_notebook

    train = nbformat.v4.new_code_cell("x = x  # what 05's training cell is to xo_params")
    nb, questions = master_notebook(_tiny_source(train), "tiny")
    sources = [c.source for c in nb.cells]
    at = sources.index(train.source)
    assert sources.index("# BEGIN SOLUTION") < at < sources.index("# END SOLUTION") < sources.index("# BEGIN TESTS")
    assert sources.count(train.source) == 1 and [q.name for q in questions] == ["x"]

    other = nbformat.v4.new_code_cell("y = 1\n")
    other.metadata["nbgrader"] = {"grade_id": "y_answer", "solution": True, "grade": False, "locked": False,
                                  "schema_version": 3}
    with pytest.raises(MasterError, match="y_answer sits between x_answer and x_hidden"):
        master_notebook(_tiny_source(other), "tiny")


def test_otter_versions_build_together_and_one_failure_stops_no_other(course, tmp_path):
    """`cnnlab build` runs otter assign for every assignment at once (one otter process
    each); an assignment that cannot be built says why, and the others are built."""
    from cnnlab.otter import OtterBuild, OtterFailure, build_otter_versions

    from conftest import copy_course

    copy = copy_course(course, tmp_path / "course")
    done = []
    results = build_otter_versions(copy, ["no_such_assignment", "04_dimensions"], workers=2, on_done=done.append)
    failed, built = results
    assert isinstance(failed, OtterFailure) and "no_such_assignment" in failed.reason and "\n" not in failed.reason
    assert isinstance(built, OtterBuild) and built.autograder_zip.is_file()
    assert built.out == (copy.root / "dist" / "otter" / "04_dimensions").resolve()
    assert sorted(type(r).__name__ for r in done) == ["OtterBuild", "OtterFailure"]
