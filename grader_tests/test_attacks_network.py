"""05's trained network cannot be scored without training it: the network attacks, graded once.

Every attack of catalogue/network_attacks.py is appended to the same wrong 05 answer
and handed in by a student of its own; the class (plus the instructor's answers and
the wrong answer alone) goes through the real `cnnlab autograde` and `cnnlab
feedback`. For each attack: no more points than the wrong answer, none on the network
item, a flag that names it where the code shows it, and no trace of the network's
hidden test set in anything the kernel could read or a student is handed back.
"""
from __future__ import annotations

import json
import subprocess

import nbformat
import pytest
from nbgrader.api import Gradebook

from cnnlab.nbtools import fill_answers, instructor_answers
from cnnlab.simulate import load_catalogue

from catalogue.network_attacks import NETWORK_ATTACKS
from conftest import cnnlab_cmd, copy_course, run_env
from test_attacks import slug

A, NB = "05_learning_filters", "learning_filters"
NETWORK = "xo_network_hidden"
MISTAKE = "ReLU passes the gradient at 0 (x >= 0)"

pytestmark = pytest.mark.xdist_group("attacks_network")


@pytest.fixture(scope="module")
def graded(tmp_path_factory, course):
    root = tmp_path_factory.mktemp("network_attacks") / "course"
    copy = copy_course(course, root)
    release = nbformat.read(root / "release" / A / f"{NB}.ipynb", as_version=4)
    answers = instructor_answers(copy.read_source(A, NB))
    mistake = next(v for v in load_catalogue(A)[0] if v.name == MISTAKE)
    released = next(c.source for c in release.cells if c.metadata.get("nbgrader", {}).get("grade_id")
                    == "xo_network_answer")  # xo_gradients as released: training stops at once
    wrong = {**answers, mistake.cell_id: mistake.code, "xo_network_answer": released}
    students = {"right": wrong | answers, "wrong": wrong}
    for attack in NETWORK_ATTACKS:
        students[slug(attack.name)] = {**wrong, "learned_filters_answer": wrong["learned_filters_answer"] + "\n"
                                       + attack.code}
    for student, cells in students.items():
        folder = root / "submitted" / student / A
        folder.mkdir(parents=True)
        nbformat.write(fill_answers(release, cells), str(folder / f"{NB}.ipynb"))
    proc = subprocess.run(cnnlab_cmd("--course", str(root), "autograde", A, "--json"), capture_output=True,
                          text=True, env=run_env(), timeout=1500)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    feedback = subprocess.run(cnnlab_cmd("--course", str(root), "feedback", A), capture_output=True, text=True,
                              env=run_env(), timeout=600)
    with Gradebook("sqlite:///" + str(root / "gradebook.db"), "learn-cnns") as gb:
        scores = {s.student.id: float(s.score) for s in gb.find_assignment(A).submissions}
        network = {s: float(gb.find_grade(NETWORK, NB, A, s).score) for s in scores}
    summary = json.loads(proc.stdout)
    return {"root": root, "scores": scores, "network": network, "feedback": feedback,
            "results": {r["student"]: r for r in summary["results"]}}


ATTACK_IDS = [pytest.param(a, id=slug(a.name)) for a in NETWORK_ATTACKS]


def test_the_bar_is_set(graded):
    assert graded["network"]["right"] == 4.0 and graded["scores"]["right"] == 25.0
    assert graded["network"]["wrong"] == 0.0 and 0 < graded["scores"]["wrong"] < 25.0


@pytest.mark.parametrize("attack", ATTACK_IDS)
def test_an_attack_earns_nothing_on_the_network_and_no_more_than_the_wrong_answer(graded, attack):
    student = slug(attack.name)
    assert graded["network"][student] == 0.0, student
    assert graded["scores"][student] <= graded["scores"]["wrong"], student


@pytest.mark.parametrize("attack", [a for a in ATTACK_IDS if a.values[0].flag])
def test_the_flag_names_the_attack(graded, attack):
    flags = graded["results"][slug(attack.name)]["flags"]
    assert any(attack.flag in f for f in flags), flags


def test_the_network_is_judged_without_its_hidden_block_ever_running_in_the_kernel(graded):
    """The verifier's report is what the student reads; nothing of the hidden block or
    its test set is in the autograded notebook, its outputs, or the feedback."""
    root = graded["root"]
    assert graded["feedback"].returncode == 0, graded["feedback"].stderr[-2000:]
    source = nbformat.read(root / "source" / A / f"{NB}.ipynb", as_version=4)
    block = next(c.source for c in source.cells if c.metadata.get("nbgrader", {}).get("grade_id") == NETWORK)
    seed = block.split("seed=")[1].split(",")[0]
    for student in graded["results"]:
        nb = nbformat.read(root / "autograded" / student / A / f"{NB}.ipynb", as_version=4)
        text = json.dumps([c.get("outputs", []) for c in nb.cells])
        assert "LEAKED" not in text and seed not in text, student
        cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == NETWORK)
        shown = "".join(o.get("text", "") for o in cell.get("outputs", []))
        assert shown.startswith("xo_params: ") and " of 4 points" in shown, student  # the verifier's report
        for path in (root / "feedback" / student / A).rglob("*"):
            page = path.read_text(encoding="utf-8", errors="replace")
            assert seed not in page and "check_trained(" not in page, (student, path.name)
    searched = nbformat.read(root / "autograded" / slug(NETWORK_ATTACKS[-1].name) / A / f"{NB}.ipynb",
                             as_version=4)  # the search ran, and came back empty-handed
    assert "nothing found" in json.dumps([c.get("outputs", []) for c in searched.cells])


def test_the_wrong_answers_feedback_teaches_with_the_hint_and_the_videos(graded):
    page = (graded["root"] / "feedback" / "wrong" / A / f"{NB}.html").read_text(encoding="utf-8")
    assert "use x &gt; 0, not x &gt;= 0" in page or "use x > 0, not x >= 0" in page  # the failed case's hint
    assert "https://www.youtube.com/watch?v=HGwBXDKFk9I" in page  # StatQuest: the failed network item assesses "What is a filter?"
