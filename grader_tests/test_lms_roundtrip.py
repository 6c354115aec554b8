"""The LMS round trip, once per LMS, through the real CLI:

    roster import (the LMS's own export) → an archive named the way the LMS
    names downloads → cnnlab collect (nbgrader zip_collect + our collector) →
    cnnlab autograde → cnnlab export --format <lms>

The export is parsed back with the csv module and checked against the
gradebook: every roster student is there under the identifier the LMS
matches on, with the gradebook's score, the assignment column is named as the
importer requires, and no cell would run as a spreadsheet formula.
"""
from __future__ import annotations

import csv
import io
import json
import subprocess
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import nbformat
import pytest
import yaml
from nbgrader.api import Gradebook

from cnnlab.course import load_course
from cnnlab.lms import FORMATS, get_format
from cnnlab.lms.export import EXPORTERS
from cnnlab.lms.roster import import_roster
from cnnlab.lms.base import decode_export
from cnnlab.nbtools import fill_answers, instructor_answers

from conftest import BIN, cnnlab_cmd, copy_course, run_env

A, NB = "01_why_cnns", "why_cnns"
HERE = Path(__file__).parent / "lms"
LMS_IDS = {"canvas": "40917", "blackboard": "31415", "moodle": "", "brightspace": ""}

pytestmark = pytest.mark.xdist_group("lms")


def roster_file(lms: str) -> Path:
    found = sorted(p for p in (HERE / lms).glob("roster*") if p.is_file())
    assert found, f"no golden roster export in {HERE / lms}"
    return found[0]


def grade_column(lms: str, header: list[str]) -> str:
    title = "Why CNNs?"
    wanted = {"canvas": f"{title} (40917)", "moodle": title, "blackboard": f"{title} [Total Pts: 15] |31415",
              "brightspace": f"{title} Points Grade"}[lms]
    assert wanted in header, (wanted, header)
    return wanted


ID_COLUMN = {"canvas": "SIS Login ID", "moodle": "Email address", "blackboard": "Username",
             "brightspace": "OrgDefinedId"}


def _run(*args, ok=(0,)):
    proc = subprocess.run(cnnlab_cmd(*args), capture_output=True, text=True, env=run_env(), timeout=900)
    assert proc.returncode in ok, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


@pytest.fixture(scope="module", params=FORMATS)
def round_trip(request, tmp_path_factory, course):
    lms = request.param
    fmt = get_format(lms)
    root = tmp_path_factory.mktemp(f"lms-{lms}") / "course"
    copy_course(course, root)
    data = yaml.safe_load((root / "course.yml").read_text(encoding="utf-8"))
    if LMS_IDS[lms]:
        data["lms"][lms]["assignments"] = {A: LMS_IDS[lms]}
    (root / "course.yml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    rows = fmt.parse_roster(decode_export(roster_file(lms).read_bytes()))
    imported = _run("--course", str(root), "roster", "import", str(roster_file(lms)), "--lms", lms, ok=(0, 1))
    again = import_roster(load_course(root), roster_file(lms), lms, "sqlite:///" + str(root / "gradebook.db"))

    release = nbformat.read(root / "release" / A / f"{NB}.ipynb", as_version=4)
    answers = instructor_answers(nbformat.read(root / "source" / A / f"{NB}.ipynb", as_version=4))
    wrong = fill_answers(release, {**answers, "motivations_answer": 'motivations = {"E"}'})
    right = fill_answers(release, answers)
    start = datetime(2026, 11, 20, 14, 5, tzinfo=timezone.utc)
    archive = root.parent / f"{lms}-download.zip"
    plan = {}  # roster row index -> what they handed in
    with zipfile.ZipFile(archive, "w") as z:
        for i, row in enumerate(rows[:4]):
            if i == 0:  # two attempts: the wrong one first, the right one later
                older = fmt.download_name(row, f"{NB}.ipynb", start, 0)
                newer = fmt.download_name(row, f"{NB}.ipynb", start + timedelta(hours=2), 1)
                if older != newer:  # (Moodle's download holds the latest attempt only)
                    z.writestr(older, nbformat.writes(wrong))
                z.writestr(newer, nbformat.writes(right))
                plan[i] = "right"
            elif i == 1:
                z.writestr(fmt.download_name(row, f"{NB}.ipynb", start, 0), nbformat.writes(wrong))
                plan[i] = "wrong"
            elif i == 2:
                z.writestr(fmt.download_name(row, f"{NB} (1).ipynb", start, 0), nbformat.writes(right))
                plan[i] = "right"  # renamed by the student: kept for the grader to match
            elif i == 3:  # a text entry or a web page, no notebook: exported blank, not 0
                z.writestr(fmt.download_name(row, "submission.html", start, 0), "<p>my answers</p>")
            # rows[4:] hand in nothing
        stranger = type(rows[0])(first_name="Zed", last_name="Nobody", email="zed@nowhere.example",
                                 ids={k: "999999" if k != "email" else "zed@nowhere.example" for k in rows[0].ids})
        z.writestr(fmt.download_name(stranger, f"{NB}.ipynb", start, 0), nbformat.writes(right))
        z.writestr(fmt.download_name(rows[1], "notes.txt", start, 0), "my notes")
    collected = _run("--course", str(root), "collect", A, str(archive), "--lms", lms, ok=(1,))
    graded = _run("--course", str(root), "autograde", A, "--json")
    out = root.parent / f"{lms}-export.csv"
    exported = _run("--course", str(root), "export", "--format", lms, "--to", str(out), "--assignment", A)
    blank = root.parent / f"{lms}-blank.csv"
    with Gradebook("sqlite:///" + str(root / "gradebook.db"), "learn-cnns") as gb:  # the plugin, in process
        EXPORTERS[lms](to=str(blank), assignment=[A], missing="blank", course_root=str(root)).export(gb)
    # the same plugins through plain nbgrader: zip_collect again over the same download, then export
    before = sorted(str(p.relative_to(root)) for p in (root / "submitted").rglob("*.ipynb"))
    plugin = {"canvas": "Canvas", "moodle": "Moodle", "blackboard": "Blackboard", "brightspace": "Brightspace"}[lms]
    nbgrader = [str(BIN / "nbgrader")]
    zc = subprocess.run(nbgrader + ["zip_collect", A, f"--collector=cnnlab.lms.collect.{plugin}Collector", "--force"],
                        cwd=root, capture_output=True, text=True, env=run_env(), timeout=300)
    after = sorted(str(p.relative_to(root)) for p in (root / "submitted").rglob("*.ipynb"))
    plain = root.parent / f"{lms}-nbgrader-export.csv"
    ex = subprocess.run(nbgrader + ["export", f"--exporter=cnnlab.lms.export.{plugin}ExportPlugin", "--to", str(plain),
                                    f"--assignment={A}"], cwd=root, capture_output=True, text=True, env=run_env(),
                        timeout=300)
    with Gradebook("sqlite:///" + str(root / "gradebook.db"), "learn-cnns") as gb:
        students = {s.id: (s.first_name, s.last_name, s.lms_user_id) for s in gb.students}
        scores = {s.student.id: float(s.score) for s in gb.find_assignment(A).submissions}
    return {"lms": lms, "fmt": fmt, "rows": rows, "plan": plan, "imported": imported.stdout,
            "again": again, "collected": collected.stdout, "summary": json.loads(graded.stdout),
            "export": out.read_bytes(), "export_line": exported.stdout, "students": students, "scores": scores, "root": root,
            "plain_nbgrader": (zc, before, after, ex, plain), "blank": blank.read_bytes()}


def _export_rows(rt):
    text = rt["export"].decode("utf-8")
    table = list(csv.reader(io.StringIO(text)))
    return table[0], table[1:]


def test_roster_import_is_idempotent(round_trip):
    assert "created" in round_trip["imported"] and len(round_trip["students"]) >= 4
    again = round_trip["again"]
    assert (again.created, again.updated) == ([], []) and again.unchanged, again


def test_collect_lists_what_it_could_not_place_and_keeps_the_latest(round_trip):
    out = round_trip["collected"]
    assert "NOT COLLECTED" in out and "notes.txt" in out and ("Nobody" in out or "999999" in out), out
    assert "[INFO]" not in out and "Invalid submission notebook name" not in out  # nbgrader's log: --verbose only
    nothing = len(round_trip["students"]) - len(round_trip["scores"])  # the web page's author among them
    assert f"no submission from {nothing} roster student(s)" in out, out
    fmt, first = round_trip["fmt"], round_trip["rows"][0]
    when = datetime(2026, 11, 20, tzinfo=timezone.utc)
    if fmt.download_name(first, f"{NB}.ipynb", when, 0) != fmt.download_name(first, f"{NB}.ipynb", when + timedelta(hours=2), 1):
        assert "superseded" in out, out  # both attempts were in the download: the later one won
    scores = round_trip["scores"]
    assert len(scores) == 3, scores  # three students handed something in


def test_the_export_matches_the_gradebook(round_trip):
    lms = round_trip["lms"]
    header, rows = _export_rows(round_trip)
    column = grade_column(lms, header)
    id_column = ID_COLUMN[lms]
    assert id_column in header, header
    exported = {}
    for row in rows:
        record = dict(zip(header, row))
        if not record.get(id_column) or record[id_column].strip().lower().startswith("points possible"):
            continue
        exported[record[id_column].lstrip("#")] = record[column]
    assert set(exported) == set(round_trip["students"]), (exported, round_trip["students"])
    no_notebook = _student_of(round_trip, 3)
    for student, score in exported.items():
        if student == no_notebook:  # handed in a web page: blank, so a grade entered in the LMS stays
            assert score == "", (student, score)
            continue
        expected = round_trip["scores"].get(student, 0.0)  # missing work exports as zero by default
        assert float(score) == pytest.approx(expected), (student, score, expected)
    assert sorted(round_trip["scores"].values())[-1] == 15.0  # the later, right attempt won
    n = len(round_trip["students"])
    assert (f"{n} student(s) x 1 assignment(s): 3 graded (0 0 as unreadable, 0 scored 0), {n - 3} missing "
            f"(written 0; 1 handed in no notebook: blank), 0 late, 0 overridden") in round_trip["export_line"]


def _student_of(round_trip, index: int) -> str:
    """The gradebook id of the roster's row `index`."""
    row = round_trip["rows"][index]
    found = [sid for sid, (first, last, _) in round_trip["students"].items()
             if (first, last) == (row.first_name, row.last_name)]
    assert len(found) == 1, (row, round_trip["students"])
    return found[0]


def test_no_cell_is_a_formula_and_names_survive(round_trip):
    header, rows = _export_rows(round_trip)
    for row in [header, *rows]:
        for cell in row:
            assert not cell.startswith(("=", "+", "@")) and not (cell.startswith("-") and not _number(cell)), cell


def _number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def test_the_plugins_work_in_plain_nbgrader_too(round_trip):
    zc, before, after, ex, plain = round_trip["plain_nbgrader"]
    assert zc.returncode == 0, zc.stderr[-2000:]
    assert before == after  # the same submissions, the latest attempt included

    assert ex.returncode == 0, ex.stderr[-2000:]
    assert plain.read_bytes() == round_trip["export"]


def test_missing_work_can_export_blank(round_trip):
    lms = round_trip["lms"]
    table = list(csv.reader(io.StringIO(round_trip["blank"].decode("utf-8"))))
    header, rows = table[0], table[1:]
    column, id_column = grade_column(lms, header), ID_COLUMN[lms]
    cells = {dict(zip(header, r))[id_column].lstrip("#"): dict(zip(header, r))[column] for r in rows
             if dict(zip(header, r)).get(id_column)}
    did_not_submit = set(round_trip["students"]) - set(round_trip["scores"])
    assert did_not_submit and all(cells[s] == "" for s in did_not_submit), cells
    assert all(cells[s] != "" for s in round_trip["scores"])


def test_an_export_that_would_harm_the_lms_is_refused_in_one_line(course, tmp_path):
    """Before anything is graded, an LMS import would set every student to 0; a Canvas column
    without the assignment's id would create a new assignment. Both are refused unless asked for."""
    from cnnlab.lms.base import LmsError
    from cnnlab.lms.export import CanvasExportPlugin
    from cnnlab.lms.roster import import_roster
    from cnnlab.workspace import Workspace

    root = tmp_path / "course"
    copy = copy_course(course, root)
    db = copy.nbgrader_config().CourseDirectory.db_url
    import_roster(copy, roster_file("canvas"), "canvas", db)
    with Workspace(copy, db_url=db) as ws:  # A registered, as autograde does first; nobody graded
        ws.generate_assignment(A)
    out = tmp_path / "canvas.csv"
    refused = _run("--course", str(root), "export", "--format", "canvas", "--to", str(out), "--assignment", A,
                   ok=(2,))
    assert "no submission is graded yet" in refused.stderr and "--allow-ungraded" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1 and "Traceback" not in refused.stderr
    with Gradebook(db, "learn-cnns") as gb:  # the same plugin, as plain nbgrader runs it
        with pytest.raises(LmsError, match="no Canvas assignment id"):
            CanvasExportPlugin(to=str(out), course_root=str(root), allow_ungraded=True).export(gb)
        assert not out.exists()
        plugin = CanvasExportPlugin(to=str(out), course_root=str(root), allow_ungraded=True, allow_new_column=True)
        plugin.export(gb)
    assert out.is_file() and plugin.account.graded == 0 and plugin.account.missing == plugin.account.students > 0


def _canvas_attaches_to(name: str) -> tuple[str, str]:
    """(user id, file id) as Canvas's Re-Upload Submissions reads a file name
    (Assignment#infer_comment_context_from_filename: the first two all-digit "_" parts)."""
    user, file_id = [p for p in name.split("_") if p.isdigit()][:2]
    return user, file_id


def _moodle_attaches_to(path: str) -> str:
    """The participant id Moodle's feedback zip import reads from a path part
    `fullname_participantid_plugintype_pluginname` (assignfeedback_file_zip_importer)."""
    for part in path.split("/")[:-1]:
        info = part.split("_", 4)
        if len(info) >= 4 and info[1].isdigit() and info[2] == "assignsubmission":
            return info[1]
    raise AssertionError(f"{path}: Moodle would not match it to a participant")


def test_feedback_goes_back_named_so_the_lms_attaches_it_to_the_right_student(round_trip):
    lms, root = round_trip["lms"], round_trip["root"]
    proc = subprocess.run(cnnlab_cmd("--course", str(root), "feedback", A, "--lms", lms, "--json"),
                          capture_output=True, text=True, env=run_env(), timeout=600)
    if not get_format(lms).feedback_upload:  # Blackboard, Brightspace: no bulk upload of feedback files
        assert proc.returncode == 2 and "no bulk upload of feedback files" in proc.stderr, proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1
        return
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    upload = json.loads(proc.stdout)["lms_upload"]
    downloads = load_course(root).collected(A)["downloads"]
    graded = set(round_trip["scores"])
    assert set(upload["files"]) == graded and not upload["left_out"], upload
    with zipfile.ZipFile(upload["zip"]) as z:
        names = set(z.namelist())
    for student, files in upload["files"].items():
        assert set(files) <= names
        (page,) = files
        theirs = downloads[student][-1]
        if lms == "canvas":
            assert _canvas_attaches_to(page) == _canvas_attaches_to(Path(theirs).name)
            assert _canvas_attaches_to(page)[0] == round_trip["students"][student][2]  # her Canvas user id
        else:
            assert _moodle_attaches_to(page) == _moodle_attaches_to(theirs)
        assert page.endswith(f"{NB}-feedback.html")
