"""The course on a JupyterHub, end to end through the page (`cnnlab hub`).

The TA releases 02_kernels; two students log in to the hub, fetch it from the
Assignments tab, type their answers into the notebook, press Validate and
Submit (Ana twice: a catalogued mistake first, the instructor's answers
after; Ben once, with the mistake). The TA collects, autogrades, writes and
releases feedback; each student fetches hers in the Assignments tab and sees
the summary table with the gradebook's scores and hints; the TA's formgrader
lists both. A screenshot of every step goes to browser-screenshots/hub-*.png.
"""
from __future__ import annotations

import re
import subprocess
from datetime import datetime

import nbformat
from nbgrader.api import Gradebook

from cnnlab.course import load_course
from cnnlab.nbtools import instructor_answers
from cnnlab.simulate import load_catalogue

from conftest import BIN, HUB_STUDENTS, HUB_TA, ROOT
from lab_page import menu, type_into, validate, wait_for_kernel

A, NB = "02_kernels", "kernels"
COURSE = load_course(ROOT)
MISTAKE = load_catalogue(A)[0][0]  # flips the kernel: a true convolution, not the cross-correlation asked for


def _assignments_tab(page):
    menu(page, "Nbgrader", "Assignment List")
    tab = page.locator("#assignments")
    tab.wait_for()
    page.locator("#refresh_assignments_list").click()
    page.wait_for_timeout(1500)
    return tab


def _open_fetched(page) -> None:
    tab = _assignments_tab(page)
    released = tab.locator("#released_assignments_list button", has_text="Fetch")
    if released.count():
        released.first.click()
    tab.locator("#fetched_assignments_list a.assignment-notebooks-link", has_text=A).wait_for()
    link = tab.locator(f"#nbgrader-learn-cnns-{A} a", has_text=re.compile(f"^{NB}$"))
    if not link.is_visible():
        tab.locator("#fetched_assignments_list a.assignment-notebooks-link", has_text=A).click()
    link.click()
    page.wait_for_selector(".jp-NotebookPanel:visible .jp-Notebook .jp-Cell")
    wait_for_kernel(page)


def _work(page, codes: dict[str, str]) -> str:
    """Type `codes` ({grade_id: code}) into the open notebook, save it, press Validate."""
    release = nbformat.read(ROOT / "release" / A / f"{NB}.ipynb", as_version=4)
    where = {c.metadata.get("nbgrader", {}).get("grade_id"): i for i, c in enumerate(release.cells)}
    cells = page.locator(".jp-NotebookPanel:visible .jp-Notebook .jp-Cell")
    for gid, code in codes.items():
        type_into(page, cells.nth(where[gid]), code)
    page.keyboard.press("Control+s")
    page.wait_for_function("() => !document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-mod-dirty')")
    outcome = validate(page)
    page.locator(".jp-Dialog button", has_text="Ok").click()
    return outcome


def _submit(page) -> None:
    """Press Submit in the Assignments tab and wait for the tab to list one more submission."""
    tab = _assignments_tab(page)
    before = tab.locator("#submitted_assignments_list .list_item").count()
    tab.locator("#fetched_assignments_list button", has_text="Submit").first.click()
    page.wait_for_function(f"""() => document.querySelectorAll('#submitted_assignments_list .list_item').length
                                     > {before}""", timeout=60_000)


def _inbound(hub, student: str) -> list[str]:
    """The student's submissions in the exchange, oldest first (names carry nbgrader's timestamp)."""
    inbound = hub.layout.course_exchange / "inbound"
    return sorted(p.name for p in inbound.iterdir() if p.name.startswith(f"{student}+{A}+"))


def test_the_course_loop_on_a_hub(hub, browser, shots):
    ana, ben = HUB_STUDENTS
    answers = instructor_answers(COURSE.read_source(A, NB))
    mistaken = {**answers, MISTAKE.cell_id: MISTAKE.code}

    # 1. the TA releases the assignment to the exchange
    r = hub.as_ta(["nbgrader", "release_assignment", A])
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]

    # 2. the students log in, fetch, work, Validate and Submit
    pages = {}
    for student in HUB_STUDENTS:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        pages[student] = page = context.new_page()
        page.set_default_timeout(90_000)
        hub.login(page, student)
        _open_fetched(page)
    page = pages[ana]
    _work(page, mistaken)
    _submit(page)
    assert len(_inbound(hub, ana)) == 1
    page.screenshot(path=str(shots / "hub-1-submitted-once.png"))
    _open_fetched(page)
    assert _work(page, answers) == "success"
    _submit(page)
    assert len(_inbound(hub, ana)) == 2
    page.screenshot(path=str(shots / "hub-2-submitted-again.png"))
    page = pages[ben]
    _work(page, mistaken)
    _submit(page)
    assert len(_inbound(hub, ana)) == 2 and len(_inbound(hub, ben)) == 1

    # 3. the TA collects, grades (as root: the sandbox makes uids and cgroups), writes and releases feedback
    r = hub.as_ta(["nbgrader", "collect", A])
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    for command in (["autograde", A], ["feedback", A]):
        r = subprocess.run([str(BIN / "cnnlab"), "--course", str(hub.ta_course), *command],
                           capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    subprocess.run(["chown", "-R", f"{HUB_TA}:{HUB_TA}", str(hub.ta_course)], check=True)
    r = hub.as_ta(["nbgrader", "release_feedback", A])
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]

    # the later of Ana's two submissions was graded, with the exchange's own time stamp (which the
    # late policy reads from the gradebook)
    latest = _inbound(hub, ana)[-1].split("+")[2]
    collected = (hub.ta_course / "submitted" / ana / A / "timestamp.txt").read_text().strip()
    assert collected == latest
    db = load_course(hub.ta_course).nbgrader_config().CourseDirectory.db_url
    with Gradebook(db) as gb:
        scores = {s: gb.find_submission(A, s).score for s in HUB_STUDENTS}
        stamped = gb.find_submission(A, ana).timestamp
        possible = gb.find_assignment(A).max_score
    assert stamped.replace(tzinfo=None) == datetime.fromisoformat(latest.replace(" UTC", "")).replace(tzinfo=None)
    assert scores[ana] == possible and 0 < scores[ben] < possible, scores

    # 4. each student fetches her feedback in the Assignments tab and opens it
    for student in HUB_STUDENTS:
        page = pages[student]
        tab = _assignments_tab(page)
        tab.locator("#submitted_assignments_list button", has_text="Fetch Feedback").first.click()
        view = tab.locator("#submitted_assignments_list a", has_text=re.compile("view feedback", re.I)).first
        view.wait_for(timeout=60_000)
        page.screenshot(path=str(shots / f"hub-3-feedback-fetched-{student}.png"))
        # the feedback belongs to the submission that was graded: Ana's later one
        graded = _inbound(hub, student)[-1].split("+")[2]
        assert graded in view.locator("xpath=..").inner_text()
        view.click()  # the file browser opens the fetched feedback's folder; the student opens the file
        page.locator(".jp-DirListing-item", has_text=f"{NB}.html").dblclick()
        feedback = page.frame_locator(".jp-HTMLViewer:visible iframe")
        feedback.locator("h2", has_text="Your results").wait_for(timeout=60_000)
        text = feedback.locator("body").inner_text()
        assert f"Your results: {scores[student]:g} / {possible:g}" in text, text[:500]
        row = feedback.locator("tr", has_text=MISTAKE.item).first.inner_text()
        if student == ana:
            assert "full marks" in row, row
        else:
            assert "✗" in row and "full marks" not in row, row
        page.screenshot(path=str(shots / f"hub-4-feedback-{student}.png"))

    # 5. the TA's formgrader lists both students with their scores
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(90_000)
    hub.login(page, HUB_TA)
    page.goto(hub.url(f"user/{HUB_TA}/formgrader/manage_students"))
    for student in HUB_STUDENTS:
        row = page.locator("tr", has_text=student).first
        row.wait_for()
        assert f"{scores[student]:g}" in row.inner_text().replace(".0 ", " ").replace(".0\n", "\n") \
            or f"{scores[student]}" in row.inner_text(), row.inner_text()
    page.screenshot(path=str(shots / "hub-5-formgrader.png"))
