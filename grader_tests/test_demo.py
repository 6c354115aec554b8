"""`make demo` (that is, `cnnlab demo`) runs end to end on a copy of the course."""
from __future__ import annotations

import csv
import subprocess

from conftest import cnnlab_cmd, copy_course, run_env


def test_demo_grades_the_simulated_class_end_to_end(course, tmp_path):
    root = tmp_path / "course"
    copy_course(course, root, files=("nbgrader_config.py", "course.yml", "README.md"),
                folders=("source", "release", "solutions", "grader_tests/catalogue"))
    out = tmp_path / "demo"
    proc = subprocess.run(cnnlab_cmd("--course", str(root), "demo", "--out", str(out)), capture_output=True,
                          text=True, env=run_env(), timeout=900)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    table = proc.stdout.split("student", 1)[1]
    assert "Ada Lovelace" in table and "72.00 / 72" in table.split("Ada Lovelace")[1].splitlines()[0]
    assert table.split("Fay Blank")[1].splitlines()[0].split()[-3] == "0.00"
    rows = list(csv.DictReader((out / "grades.csv").open(encoding="utf-8", newline="")))
    assert len(rows) == 6 * 4
    assert {r["last_name"] for r in rows} >= {"Anagonye, Jr.", "'=HYPERLINK(\"x\")"}
    assert len(list((out / "feedback").glob("*/*/*.html"))) == 6 * 4
    assert "up to date" in proc.stdout  # the committed release/ and solutions/ were fresh
