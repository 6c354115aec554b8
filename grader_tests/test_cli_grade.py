"""`cnnlab grade NOTEBOOK --json`: the contract of graded-api.md, through the real CLI."""
from __future__ import annotations

import json
import subprocess
import sys

import nbformat
import pytest

from cnnlab.nbtools import fill_answers, instructor_answers
from cnnlab.simulate import load_catalogue

from conftest import cnnlab_cmd, run_env

ASSIGNMENT, NOTEBOOK = "02_kernels", "kernels"


def _run(course_root, *args):
    return subprocess.run(cnnlab_cmd("--course", str(course_root), *args), capture_output=True, text=True,
                          env=run_env(), timeout=300)


def _notebook(course, answers=None):
    release = nbformat.read(course.root / "release" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", as_version=4)
    return release if answers is None else fill_answers(release, answers)


def _untouched(root) -> set:
    return {p.name for p in root.iterdir()}


def test_instructor_notebook_gets_full_marks(course_copy, tmp_path):
    before = _untouched(course_copy.root)
    path = tmp_path / f"{NOTEBOOK}.ipynb"
    nbformat.write(_notebook(course_copy, instructor_answers(course_copy.read_source(ASSIGNMENT, NOTEBOOK))), str(path))
    proc = _run(course_copy.root, "grade", str(path), "--json")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["assignment"] == ASSIGNMENT and result["notebook"] == NOTEBOOK
    assert result["score"] == result["max_score"] > 0
    assert result["tests"] and all(t["status"] == "passed" for t in result["tests"])
    assert {"conv2d_hidden", "cross_correlate2d_hidden"} <= {t["grade_id"] for t in result["tests"]}
    assert _untouched(course_copy.root) == before, "grading one notebook changed the course folder"


def test_a_mistake_fails_its_item_with_a_hint_and_no_hidden_source(course, course_copy, tmp_path):
    answers = instructor_answers(course_copy.read_source(ASSIGNMENT, NOTEBOOK))
    mistake = next(v for v in load_catalogue(ASSIGNMENT)[0] if v.item == "conv2d")
    path = tmp_path / "submission.ipynb"
    nbformat.write(_notebook(course_copy, {**answers, mistake.cell_id: mistake.code}), str(path))
    proc = _run(course_copy.root, "grade", str(path), "--assignment", ASSIGNMENT, "--json")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    tests = {t["grade_id"]: t for t in result["tests"]}
    assert tests["conv2d_hidden"]["status"] == "failed"
    assert tests["conv2d_hidden"]["score"] < tests["conv2d_hidden"]["max_score"]
    assert tests["conv2d_hidden"]["message"]
    assert tests["cross_correlate2d_hidden"]["status"] == "passed"
    assert "HIDDEN" not in proc.stdout and "_reference" not in proc.stdout


def test_untouched_notebook_scores_zero(course_copy, tmp_path):
    path = tmp_path / f"{NOTEBOOK}.ipynb"
    nbformat.write(_notebook(course_copy), str(path))
    proc = _run(course_copy.root, "grade", str(path), "--json")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["score"] == 0 and result["max_score"] > 0
    assert all(t["status"] in {"failed", "error"} for t in result["tests"])


@pytest.mark.parametrize("content,reason", [
    (b"{ this is not json", "is not a readable notebook"),
    (b"\x89PNG\r\n\x1a\n\x00\x00binary", "is not a notebook (binary data)"),
    (b"", "is empty"),
])
def test_what_is_not_a_notebook_exits_2_with_one_line(course_copy, tmp_path, content, reason):
    path = tmp_path / f"{NOTEBOOK}.ipynb"
    path.write_bytes(content)
    proc = _run(course_copy.root, "grade", str(path), "--json")
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and reason in lines[0] and "Traceback" not in proc.stderr


def test_unknown_assignment_and_missing_file_exit_2(course_copy, tmp_path):
    path = tmp_path / "mystery.ipynb"
    nbformat.write(_notebook(course_copy), str(path))
    for args, reason in [(("grade", str(path), "--json"), "no assignment has a notebook named 'mystery'"),
                         (("grade", str(path), "--assignment", "99_nope", "--json"), "unknown assignment '99_nope'"),
                         (("grade", str(tmp_path / "gone.ipynb"), "--json"), "no such file")]:
        proc = _run(course_copy.root, *args)
        assert proc.returncode == 2, args
        assert reason in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_without_isolation_student_code_is_refused_unless_the_ta_opts_out(course_copy, tmp_path):
    path = tmp_path / f"{NOTEBOOK}.ipynb"
    nbformat.write(_notebook(course_copy, instructor_answers(course_copy.read_source(ASSIGNMENT, NOTEBOOK))), str(path))
    env = run_env()
    env["PATH"] = env["PATH"].split(":")[0]  # the venv's bin only: no bwrap on PATH
    proc = subprocess.run(cnnlab_cmd("--course", str(course_copy.root), "grade", str(path), "--json"),
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 2 and proc.stdout == ""
    assert "bubblewrap" in proc.stderr and "--unsafe-no-sandbox" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    proc = subprocess.run(cnnlab_cmd("--course", str(course_copy.root), "grade", str(path), "--json",
                                     "--unsafe-no-sandbox"), capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "WARNING" in proc.stderr and "--unsafe-no-sandbox" in proc.stderr
    result = json.loads(proc.stdout)
    assert result["score"] == result["max_score"] > 0


def test_help_and_argument_errors_load_no_heavy_library(course_copy):
    """`cnnlab --help`, `COMMAND --help` and argument errors answer at once (benchmarks/startup.py
    times them): the entry point and its option parsing import none of the libraries that cost
    tenths of seconds each; the command that needs one imports it when it runs."""
    heavy = ("nbformat", "nbgrader", "numpy", "jsonschema", "matplotlib", "dask", "sqlalchemy", "nbconvert")
    probe = ("import sys\nfrom cnnlab.cli import main\ntry:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
             f"print('LOADED', sorted(m for m in {heavy!r} if m in sys.modules))")
    for argv in (["--help"], ["grade", "--help"], ["autograde", "--help"], ["export", "--help"], ["grade"],
                 ["nosuchcommand"]):
        proc = subprocess.run([sys.executable, "-c", probe, *argv], capture_output=True, text=True,
                              env=run_env(), cwd=course_copy.root, timeout=60)
        assert "LOADED []" in proc.stdout, (argv, proc.stdout[-500:], proc.stderr[-500:])


def test_the_command_imports_setuptools_only_when_nbgrader_unpacks_an_archive(course_copy, tmp_path):
    """nbgrader imports setuptools.archive_util for its `unzip` (0.2 s of every grading command's
    start): the command's process has a stand-in there (deferred_setuptools.py), so nbgrader and
    its converters load without setuptools, and nbgrader's unzip still unpacks a zip, with the
    real module imported on that first call."""
    import zipfile

    with zipfile.ZipFile(tmp_path / "download.zip", "w") as z:
        z.writestr("ada/notebook.ipynb", "{}")
    (tmp_path / "out").mkdir()
    probe = ("import sys\nfrom cnnlab import deferred_setuptools\ndeferred_setuptools.install()\n"
             "import nbgrader.api, nbgrader.utils, nbgrader.converters, nbgrader.apps.zipcollectapp\n"
             "print('BEFORE', 'setuptools' in sys.modules)\n"
             f"nbgrader.utils.unzip({str(tmp_path / 'download.zip')!r}, {str(tmp_path / 'out')!r})\n"
             "import setuptools.archive_util as au\n"
             "print('AFTER', 'setuptools' in sys.modules, type(au).__name__, hasattr(au, 'UnrecognizedFormat'))\n")
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=run_env(), timeout=120)
    assert proc.returncode == 0, proc.stderr[-1500:]
    assert "BEFORE False" in proc.stdout and "AFTER True module True" in proc.stdout, proc.stdout
    assert (tmp_path / "out" / "ada" / "notebook.ipynb").read_text() == "{}"
    # and the command itself works so: `cnnlab export` reads the gradebook through nbgrader
    probe = ("import atexit, sys\nfrom cnnlab.cli import entry\n"
             "atexit.register(lambda: print('LOADED', 'nbgrader.api' in sys.modules, 'setuptools' in sys.modules))\n"
             f"sys.argv = ['cnnlab', 'export', '--to', {str(tmp_path / 'grades.csv')!r}]\nentry()\n")
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=run_env(),
                          cwd=course_copy.root, timeout=120)
    assert "LOADED True False" in proc.stdout, (proc.stdout[-500:], proc.stderr[-1500:])
