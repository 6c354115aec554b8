"""The otter-grader version (`cnnlab otter`), judged against nbgrader's:

- `cnnlab otter` works offline (built here in a network namespace with only
  loopback); otter's layout: student notebooks with grader.check cells that reveal no
  more than nbgrader's release does, an autograder zip for Python 3.11;
- real `otter run` (inside the sandbox) gives the instructor's answers full
  marks and otter's untouched student notebook 0;
- every catalogued mistake and alternative gets, question by question, the
  score nbgrader gives it (to the cent: nbgrader floors partial credit to
  hundredths), so a mistake loses marks under otter where it does under
  nbgrader. These run otter's own test files and scoring (from the zip
  Gradescope takes) on the student's globals, built by running the
  notebook's cells in this process: a kernel per variant would cost ~9 s each;
- `cnnlab otter-grade` grades a class in the sandbox, never reads a
  submission's .OTTER_LOG, and reports a broken submission in one line.
"""
from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import pickle
import shutil
import subprocess
import zipfile
from pathlib import Path

import nbformat
import pytest

from cnnlab.nbtools import grade_id, instructor_answers, nbgrader_meta
from cnnlab.otter import load_build
from cnnlab.otter.master import free_names, solution_source
from cnnlab.otter.run import grade_one
from cnnlab.simulate import item_of, load_catalogue

from conftest import ROOT, assignment_ids, cnnlab_cmd, run_env
from leaks import secrets

_built: dict = {}


def _offline() -> list[str]:
    """A prefix that runs a command with no network but loopback (root, util-linux, iproute2)."""
    if os.geteuid() == 0 and shutil.which("unshare") and shutil.which("ip"):
        return ["unshare", "--net", "sh", "-c", 'ip link set lo up && exec "$@"', "offline"]
    return []


@pytest.fixture(scope="session")
def otter_version(course, tmp_path_factory):
    """`cnnlab otter A` once per assignment and test worker, run offline
    (a network namespace with only loopback) where this machine allows it."""
    def get(assignment_id):
        if assignment_id not in _built:
            out = tmp_path_factory.mktemp(f"otter-{assignment_id}")
            proc = subprocess.run(_offline() + cnnlab_cmd("--course", str(ROOT), "otter", assignment_id,
                                                          "--out", str(out)),
                                  capture_output=True, text=True, env=run_env(), timeout=600)
            assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
            assert "the instructor's answers pass every test" in proc.stdout
            _built[assignment_id] = load_build(course, assignment_id, out)
        return _built[assignment_id]
    return get


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


@pytest.mark.parametrize("assignment_id", _grouped(assignment_ids()))
def test_otter_run_gives_instructor_full_marks_and_blank_zero(otter_version, assignment_id):
    built = otter_version(assignment_id)
    full = grade_one(built.autograder_notebook, built.autograder_zip, built.notebook, built.questions)
    assert full.error == "", full.error
    assert full.scores == {q.name: q.points for q in built.questions}
    blank = grade_one(built.student_notebook, built.autograder_zip, built.notebook, built.questions)
    assert blank.error == "", blank.error
    assert blank.scores and not any(blank.scores.values()), blank.scores


# ---------------------------------------------------------------------------- parity, variant by variant
class OtterJudge:
    """otter's own test files (from the autograder zip) and scoring, run on the
    globals of a notebook whose cells ran in this process."""

    def __init__(self, course, built, tmp: Path):
        import matplotlib

        matplotlib.use("Agg")
        from otter.nbmeta_config import NBMetadataConfig
        from otter.test_files import create_test_file

        with zipfile.ZipFile(built.autograder_zip) as zf:
            names = [n for n in zf.namelist() if n.startswith("tests/") and n.endswith(".py")]
            zf.extractall(tmp, names)
        self.tests = {Path(n).stem: create_test_file(str(tmp / n), NBMetadataConfig({})) for n in names}
        self.source = course.read_source(built.assignment, built.notebook)
        self.answers = instructor_answers(self.source)

    def env(self, answers: dict[str, str]) -> dict:
        """The student's globals: every cell otter's notebook has, in order (errors are
        skipped, as otter does); test cells are not in otter's notebook."""
        import matplotlib.pyplot as plt

        env: dict = {"__name__": "__main__"}
        for cell in self.source.cells:
            meta = nbgrader_meta(cell)
            if cell.cell_type != "code" or meta.get("grade"):
                continue
            code = answers[grade_id(cell)] if meta.get("solution") else cell.source
            with contextlib.suppress(Exception), contextlib.redirect_stdout(io.StringIO()):
                exec(compile(code, "<cell>", "exec"), env)
        plt.close("all")
        return env

    def scores(self, answers: dict[str, str]) -> dict[str, float]:
        env = self.env({**self.answers, **answers})
        out = {}
        for name, test in self.tests.items():
            with contextlib.redirect_stdout(io.StringIO()):
                test.run(env)
            out[name] = test.score
        return out


_judges: dict = {}


def _variants():
    from cnnlab.course import load_course

    course = load_course(ROOT)
    params = []
    for a in assignment_ids():
        mistakes, alternatives = load_catalogue(course, a)
        for kind, variants in (("mistake", mistakes), ("alternative", alternatives)):
            params += [pytest.param(a, v, kind, id=f"{a}:{kind}:{v.item}:{v.name}",
                                    marks=pytest.mark.xdist_group(a)) for v in variants]
    return params


@pytest.mark.parametrize("assignment_id,variant,kind", _variants())
def test_otter_scores_every_catalogued_variant_as_nbgrader_does(course, otter_version, judge,
                                                                tmp_path_factory, assignment_id, variant, kind):
    """otter's score per question equals the verifier's, which is what the gradebook records
    (and which test_catalogue holds equal to the in-notebook checks nbgrader scores)."""
    if assignment_id not in _judges:
        _judges[assignment_id] = OtterJudge(course, otter_version(assignment_id),
                                            tmp_path_factory.mktemp(f"otter-tests-{assignment_id}"))
    otter_scores = _judges[assignment_id].scores({variant.cell_id: variant.code})
    nbgrader_scores: dict[str, float] = {}
    for gid, score in judge(assignment_id).scores({variant.cell_id: variant.code})["verified"].items():
        nbgrader_scores[item_of(gid)] = nbgrader_scores.get(item_of(gid), 0.0) + score
    assert set(otter_scores) <= set(nbgrader_scores)
    differ = {q: (round(s, 4), nbgrader_scores[q]) for q, s in otter_scores.items()
              if abs(s - nbgrader_scores[q]) > 0.01 + 1e-9}
    assert not differ, f"otter vs nbgrader (question: otter, nbgrader): {differ}"
    points = {q.name: q.points for q in otter_version(assignment_id).questions}
    if kind == "mistake":
        assert otter_scores[variant.item] < points[variant.item] - 1e-9, "the mistake kept full marks"


def test_hidden_failure_tells_the_student_the_case_and_hint(otter_version, course, tmp_path_factory):
    """What a failing hidden otter case says is nbgrader's report line: case, reason, hint."""
    judge = OtterJudge(course, otter_version("02_kernels"), tmp_path_factory.mktemp("otter-msg"))
    flipped = ("def cross_correlate2d(image, kernel):\n"
               "    image = np.asarray(image, dtype=float)\n"
               "    kernel = np.flip(np.asarray(kernel, dtype=float))\n"
               "    kh, kw = kernel.shape\n"
               "    out = np.zeros((image.shape[0] - kh + 1, image.shape[1] - kw + 1))\n"
               "    for i in range(out.shape[0]):\n"
               "        for j in range(out.shape[1]):\n"
               "            out[i, j] = np.sum(image[i:i + kh, j:j + kw] * kernel)\n"
               "    return out\n")
    env = judge.env({**judge.answers, "cross_correlate2d_answer": flipped})
    test = judge.tests["cross_correlate2d"]
    with contextlib.redirect_stdout(io.StringIO()):
        test.run(env)
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


@pytest.mark.xdist_group("02_kernels")
def test_otter_grade_runs_otter_in_the_sandbox_and_never_reads_the_log(otter_version, tmp_path):
    built = otter_version("02_kernels")
    planted = tmp_path / "log-was-unpickled"
    submitted = tmp_path / "alice.zip"
    with zipfile.ZipFile(submitted, "w") as zf:
        zf.writestr("kernels.ipynb", built.autograder_notebook.read_text(encoding="utf-8"))
        zf.writestr(".OTTER_LOG", pickle.dumps(_Plant(str(planted))))
    broken = tmp_path / "bob.ipynb"
    broken.write_text("{ this is not a notebook", encoding="utf-8")
    out_csv = tmp_path / "scores.csv"
    proc = subprocess.run(cnnlab_cmd("--course", str(ROOT), "otter-grade", "02_kernels", str(submitted),
                                     str(broken), "--dist", str(built.out), "--csv", str(out_csv)),
                          capture_output=True, text=True, env=run_env())
    assert proc.returncode == 1, proc.stdout + proc.stderr      # one submission could not be graded
    assert "Traceback" not in proc.stdout + proc.stderr
    assert not planted.exists()
    assert "left unread: .OTTER_LOG" in proc.stdout
    assert "NOT GRADED" in proc.stdout and "not a readable notebook" in proc.stdout
    rows = {Path(r["submission"]).name: r for r in csv.DictReader(out_csv.open(encoding="utf-8"))}
    assert float(rows["alice.zip"]["total"]) == built.points
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
