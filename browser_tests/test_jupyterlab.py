"""Students in a real JupyterLab, tested in a real browser.

For every assignment, through the page as a student would: the untouched
notebook runs into the expected failures and nbgrader's Validate button says
so; then the instructor's answers are typed into the answer cells, the kernel
is restarted and every cell run, no cell shows an error, each lesson's
figures render, and Validate reports success. A screenshot of each is saved
in browser-screenshots/ (ignored by git). The TA side: nbgrader's formgrader
opens for the course and lists the assignments.
"""
from __future__ import annotations

import re

import nbformat
import pytest

from cnnlab.course import load_course
from cnnlab.nbtools import instructor_answers

from conftest import ROOT
from lab_page import editor_text, errors, restart_and_run_all, run_all, type_into, validate, wait_for_kernel

COURSE = load_course(ROOT)
NOTEBOOKS = [(a.id, nb) for a in COURSE.assignments for nb in a.notebooks]


def _open(page, lab, a: str, nb: str):
    # a workspace of its own: no tab of another test is restored beside this one
    page.goto(lab.url(f"lab/workspaces/{a}-{nb}/tree/release/{a}/{nb}.ipynb"))
    page.wait_for_selector(".jp-NotebookPanel .jp-Notebook .jp-Cell")
    wait_for_kernel(page)
    return page.locator(".jp-NotebookPanel .jp-Notebook .jp-Cell")


@pytest.mark.parametrize("a,nb", NOTEBOOKS, ids=[a for a, _ in NOTEBOOKS])
def test_a_student_works_through_the_notebook_in_jupyterlab(lab, page, shots, a, nb):
    release = nbformat.read(lab.root / "release" / a / f"{nb}.ipynb", as_version=4)
    answers = instructor_answers(COURSE.read_source(a, nb))
    where = {c.metadata.get("nbgrader", {}).get("grade_id"): i for i, c in enumerate(release.cells)}
    cells = _open(page, lab, a, nb)
    assert cells.count() == len(release.cells)

    # untouched, on the fresh kernel: the run stops at the first use of a stub, with the
    # stub's error; Validate fails
    run_all(page)
    first = min(where[gid] for gid in answers)
    shown = errors(cells)
    assert len(shown) == 1 and min(shown) >= first, shown
    assert "NotImplementedError" in shown[min(shown)], shown
    assert validate(page) == "failed"
    page.screenshot(path=str(shots / f"{a}-untouched.png"))
    page.locator(".jp-Dialog button", has_text="Ok").click()

    # the instructor's answers, typed into the page
    for gid, code in answers.items():
        type_into(page, cells.nth(where[gid]), code)
        assert editor_text(cells.nth(where[gid])) == code, f"{gid}: the editor changed what was typed"
    restart_and_run_all(page)
    assert errors(cells) == {}
    prompts = cells.locator(".jp-InputArea .jp-InputPrompt").all_inner_texts()
    assert all(re.search(r"\[\d+\]", p) for p in prompts if p.strip()), prompts  # every code cell ran

    # the lesson's figures render: image outputs that exist and are not empty
    source = "\n".join(c.source for c in release.cells if c.cell_type == "code")
    images = cells.locator(".jp-OutputArea-output img")
    if "plt." in source or "imshow" in source:
        assert images.count() > 0, "no figure rendered"
    for i in range(images.count()):
        size = images.nth(i).evaluate("img => [img.naturalWidth, img.naturalHeight, img.src.length]")
        assert size[0] > 50 and size[1] > 50 and size[2] > 2000, size

    assert validate(page) == "success"
    path = shots / f"{a}.png"
    page.screenshot(path=str(path))
    print(f"\nscreenshot: {path}")
    page.locator(".jp-Dialog button", has_text="Ok").click()


def test_the_formgrader_opens_for_the_course_and_lists_the_assignments(lab, page, shots):
    page.goto(lab.url("formgrader"))
    page.wait_for_selector("text=Manage Assignments")
    for a in COURSE.assignments:  # each a link to its own page, as nbgrader lists them
        page.get_by_role("link", name=a.id, exact=True).wait_for()
    assert "does not exist" not in page.inner_text("body")  # no missing-folder warning either
    path = shots / "formgrader.png"
    page.screenshot(path=str(path))
    print(f"\nscreenshot: {path}")
