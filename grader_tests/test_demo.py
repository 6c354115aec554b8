"""`make demo` (that is, `cnnlab demo`) runs end to end on a copy of the course,
and what it hands out holds: the class reports (self-contained pages whose
figures are PNGs of the promised size, numbers that match the gradebook) and
feedback that teaches (each exercise's score and hints) and leaks nothing
(no hidden test line, expected value or solution line the student did not
write or see in the release)."""
from __future__ import annotations

import base64
import csv
import json
import subprocess
from pathlib import Path

import pytest
from nbgrader.api import Gradebook
from PIL import Image

from cnnlab.course import load_course
from cnnlab.nbtools import nbgrader_meta
from cnnlab.report.plots import FIGURES, PIXELS

from conftest import cnnlab_cmd, copy_course, run_env
from leaks import feedback_leaks, notebook_text, own_outputs, secrets

pytestmark = pytest.mark.xdist_group("demo")


@pytest.fixture(scope="module")
def demo_class(tmp_path_factory, course):
    tmp = tmp_path_factory.mktemp("demo-out")
    root = tmp / "course"
    copy_course(course, root, files=("nbgrader_config.py", "course.yml", "README.md"),
                folders=("source", "release", "solutions"))  # no grader_tests/: the demo needs none
    out = tmp / "demo"
    proc = subprocess.run(cnnlab_cmd("--course", str(root), "demo", "--out", str(out)), capture_output=True,
                          text=True, env=run_env(), timeout=900)
    return out, proc


def test_demo_grades_the_simulated_class_end_to_end(demo_class, course):
    out, proc = demo_class
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    table = proc.stdout.split("student", 1)[1]
    total = sum(float(nbgrader_meta(c).get("points", 0)) for a in course.assignments for nb in a.notebooks
                for c in course.read_source(a.id, nb).cells if nbgrader_meta(c).get("grade"))
    assert "Ada Lovelace" in table and f"{total:.2f} / {total:g}" in table.split("Ada Lovelace")[1].splitlines()[0]
    assert table.split("Fay Blank")[1].splitlines()[0].split()[-3] == "0.00"
    rows = list(csv.DictReader((out / "grades.csv").open(encoding="utf-8", newline="")))
    assert len(rows) == 6 * len(course.assignments)
    assert {r["last_name"] for r in rows} >= {"Anagonye, Jr.", "'=HYPERLINK(\"x\")"}
    assert len(list((out / "feedback").glob("*/*/*.html"))) == 6 * len(course.assignments)
    # the committed release/ and solutions/ are fresh: the demo's first step rebuilt them from source/
    # in a copy of this clone and found nothing to write (moved here from test_release.py: one build)
    assert "1/7 build" in proc.stdout and "already up to date" in proc.stdout, \
        proc.stdout[:1500] + "\n-- release/ or solutions/ is stale: run `cnnlab build`"


def test_demo_writes_a_class_report_per_assignment(demo_class):
    out, proc = demo_class
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert f"class reports:        {out / 'reports'}" in proc.stdout
    demo = load_course(out)
    for a in demo.assignments:
        page = out / "reports" / f"{a.id}.html"
        text = page.read_text(encoding="utf-8")
        for name in FIGURES:   # each figure: a PNG of the promised size, embedded byte for byte
            png = out / "reports" / f"{a.id}_figures" / f"{name}.png"
            with Image.open(png) as im:
                assert im.format == "PNG" and im.size == PIXELS, (png, im.size)
            assert base64.b64encode(png.read_bytes()).decode() in text
            assert f'data-file="{a.id}_figures/{name}.png"' in text
        assert "<script" not in text and 'src="http' not in text and "<link" not in text  # offline, self-contained
        for q in demo.questions:   # mastery for every guiding question the assignment assesses
            if a.id in (q.get("assessed_by") or {}):
                assert q["text"].replace("'", "&#39;") in text, q["text"]


def test_report_numbers_match_the_gradebook(demo_class):
    out, _ = demo_class
    proc = subprocess.run(cnnlab_cmd("--course", str(out), "report", "02_kernels", "--json",
                                     "--to", str(out / "r.html")),
                          capture_output=True, text=True, env=run_env(), timeout=300)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    with Gradebook("sqlite:///" + str(out / "gradebook.db"), "learn-cnns") as gb:
        subs = list(gb.find_assignment("02_kernels").submissions)
        grades = {(s.student.id, g.name): (g.score, g.max_score) for s in subs for nb in s.notebooks
                  for g in nb.grades}
        assert data["totals"] == {s.student.id: round(float(s.score) - float(s.late_submission_penalty or 0), 2)
                                  for s in subs}
    for m in data["mastery"]:
        earned = sum(sc for (_, gid), (sc, _) in grades.items() if gid in m["grade_ids"])
        possible = sum(mx for (_, gid), (_, mx) in grades.items() if gid in m["grade_ids"])
        assert m["share"] == pytest.approx(earned / possible)
    for item in data["items"]:
        full = [sc >= mx for (_, gid), (sc, mx) in grades.items() if gid == item["grade_id"]]
        assert item["pass_rate"] == pytest.approx(sum(full) / len(full), abs=1e-4)
    # the untouched notebook (fay) attempted nothing: mastery over attempted submissions is higher
    assert all(m["attempted_share"] >= m["share"] for m in data["mastery"]), data["mastery"]
    assert any(m["attempted_share"] > m["share"] for m in data["mastery"]), data["mastery"]
    table = {r["student"]: r["score"] for r in data["students_table"]}
    assert table == data["totals"] and len(table) == 6 and data["no_submission"] == []
    # the class's most frequent failure is a case the students really failed, with its hint
    top = data["misconceptions"][0]
    assert top["students"] >= 1 and top["case"] and top["hint"]
    assert Path(data["figures"]["scores"]).is_file()


def test_feedback_teaches_and_leaks_nothing(demo_class):
    out, _ = demo_class
    demo = load_course(out)
    files = 0
    for a in demo.assignments:
        nb = a.notebooks[0]
        known = secrets(demo.read_source(a.id, nb))
        release = notebook_text(out / "release" / a.id / f"{nb}.ipynb")
        for page in sorted((out / "feedback").glob(f"*/{a.id}/*.html")):
            student = page.parts[-3]
            own = notebook_text(out / "submitted" / student / a.id / f"{nb}.ipynb") + "\n" + \
                own_outputs(out / "autograded" / student / a.id / f"{nb}.ipynb")
            leaked = feedback_leaks(page, known, release + "\n" + own)
            assert not leaked, f"{student}/{a.id}: {leaked[:3]}"
            text = page.read_text(encoding="utf-8")
            assert "Your results:" in text and "What the hidden checks found" in text
            assert "Fontconfig" not in text and "[output truncated" not in text  # no sandbox noise
            if student == "ada":  # the instructor's answers: every lesson figure, as JupyterLab draws it
                drawn = sum(c.source.count("plt.show()") for c in demo.read_source(a.id, nb).cells)
                assert text.count("<img") >= drawn > 0, (a.id, text.count("<img"), drawn)
            files += 1
    assert files == 6 * len(demo.assignments)
    # a student who made a mistake reads its case and its hint, and where to review it
    bao = (out / "feedback" / "bao" / "02_kernels" / "kernels.html").read_text(encoding="utf-8")
    assert "✗" in bao and "Review:" in bao


def test_the_leak_scan_finds_a_hidden_line_split_by_highlighting(course, tmp_path):
    source = course.read_source("02_kernels", "kernels")
    known = secrets(source)
    line = sorted(known["hidden"])[0]
    page = tmp_path / "f.html"
    page.write_text("<pre>" + "".join(f"<span>{c}</span>" for c in line.replace("&", "&amp;")) + "</pre>")
    assert feedback_leaks(page, known, "") == [f"hidden: {line}"]
