"""`cnnlab collect` against hostile LMS downloads (issue 15): every archive is
built here, named the way each LMS names its downloads, and collected into a
fresh copy of the course with that LMS's golden roster imported.

What must hold: a student's upload only ever becomes that student's
submission; a broken, oversized or unsafe upload is that student's problem
alone (listed with a reason, everyone else collected, exit 1); a broken
download is a one-line error (exit 2) with nothing written; nothing is ever
written outside the extraction folder, and no name in submitted/ is not UTF-8.
No autograding: submitted/ is checked directly.
"""
from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from cnnlab.cli import main as cnnlab_main
from cnnlab.course import load_course
from cnnlab.lms import FORMATS, extract, get_format
from cnnlab.lms.base import decode_export
from cnnlab.lms.collect import collect_archive
from cnnlab.lms.extract import MAX_MEMBERS, MiB
from cnnlab.lms.roster import import_roster
from cnnlab.lms.settings import lms_settings

from conftest import BIN, cnnlab_cmd, copy_course, run_env

#: one worker builds this module's fixtures once (pytest-xdist --dist loadgroup)
pytestmark = pytest.mark.xdist_group("collect")

A, NB = "01_why_cnns", "why_cnns.ipynb"
GOLDEN = Path(__file__).parent / "lms"
START = datetime(2026, 11, 20, 14, 5, tzinfo=timezone.utc)



class Class:
    """A course copy with one LMS's roster imported, and archives named its way."""

    def __init__(self, root: Path, lms: str):
        self.root, self.course, self.lms, self.fmt = root, load_course(root), lms, get_format(lms)
        self.id_field = lms_settings(self.course, lms).student_id
        rows = self.fmt.parse_roster(decode_export(roster_of(lms).read_bytes()))
        self.rows = [row for row in rows if self._read_back(row)][:4]
        assert len(self.rows) >= 3

    def _read_back(self, row) -> bool:
        """Whether this LMS's own rules find `row` in its download names (a Blackboard
        username with "_" needs the assignment's name, which these tests do not set)."""
        match = self.fmt.match_file(self.fmt.download_name(row, NB, START))
        return match is not None and (match.who[0] == "full_name" or match.who[1] in row.ids.values())

    def sid(self, i: int) -> str:
        return self.rows[i].ids[self.id_field]

    def name(self, i: int, filename: str, when: datetime = START, attempt: int = 0) -> str:
        """Student i's `filename` as the LMS names it in a download. Moodle's are given
        in its flat form (no folder per student), where the name alone says whose a file is."""
        name = self.fmt.download_name(self.rows[i], filename, when, attempt)
        return name.replace("_assignsubmission_file/", "_assignsubmission_file_")

    def submitted(self, i: int) -> dict[str, bytes]:
        folder = self.root / "submitted" / self.sid(i) / A
        if not folder.is_dir():
            return {}
        return {p.name: p.read_bytes() for p in folder.iterdir() if p.name != "timestamp.txt"}

    def collect(self, archive: Path):
        return collect_archive(self.course, A, archive, self.lms)


def roster_of(lms: str) -> Path:
    return sorted(p for p in (GOLDEN / lms).glob("roster*") if p.is_file())[0]


@pytest.fixture(scope="module")
def templates(tmp_path_factory, course):
    """One course per LMS with its roster imported, made once: a new gradebook costs nbgrader
    seconds (its schema check runs alembic in a subprocess)."""
    made: dict[str, Path] = {}

    def get(lms: str) -> Path:
        if lms not in made:
            root = tmp_path_factory.mktemp("template") / lms
            copy = copy_course(course, root)
            import_roster(copy, roster_of(lms), lms, copy.nbgrader_config().CourseDirectory.db_url)
            made[lms] = root
        return made[lms]
    return get


@pytest.fixture
def make_class(tmp_path, templates):
    def make(lms: str) -> Class:
        root = tmp_path / f"course-{lms}"
        shutil.copytree(templates(lms), root)
        return Class(root, lms)
    return make


def zip_of(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def tar_gz_of(members: list[tarfile.TarInfo | tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", format=tarfile.GNU_FORMAT, encoding="utf-8",
                      errors="surrogateescape") as tar:
        for member in members:
            if isinstance(member, tarfile.TarInfo):
                tar.addfile(member)
            else:
                info = tarfile.TarInfo(member[0])
                info.size = len(member[1])
                tar.addfile(info, io.BytesIO(member[1]))
    return buf.getvalue()


def download(tmp: Path, members: dict[str, bytes], name="submissions.zip") -> Path:
    path = tmp / name
    path.write_bytes(zip_of(members))
    return path


def notebook(owner: str) -> bytes:
    return json.dumps({"cells": [], "metadata": {"owner": owner}, "nbformat": 4, "nbformat_minor": 5}).encode()


def cli(capsys, *args) -> tuple[int, str, str]:
    """`cnnlab ARGS` in this process (the CLI's exit code, stdout, stderr), as a TA runs it."""
    capsys.readouterr()
    try:
        cnnlab_main(list(args))
        code = 0
    except SystemExit as exc:
        code = exc.code or 0
    out, err = capsys.readouterr()
    return code, out, err


def disk_use(folder: Path) -> int:
    return sum(p.lstat().st_size for p in folder.rglob("*")) if folder.exists() else 0


def assert_contained(cls: Class, tmp: Path, before: set[Path]) -> None:
    """No link anywhere under the course, every name there is UTF-8, and no new
    file outside the course but the archives the test wrote."""
    for path in cls.root.rglob("*"):
        assert not path.is_symlink(), path
        os.fsencode(path.name).decode("utf-8")
    outside = {p for p in tmp.rglob("*") if not p.is_relative_to(cls.root)} - before
    assert all(p.suffix in (".zip", ".gz") for p in outside), outside


def reasons(report) -> dict[str, str]:
    return dict(report.unmatched)


# --- 1. a student's upload is hers alone ----------------------------------------------------------------


@pytest.mark.parametrize("lms", FORMATS)
def test_a_file_in_a_students_archive_never_becomes_another_students(make_class, tmp_path, lms):
    cls = make_class(lms)
    later = START + timedelta(days=1)
    forged = cls.name(0, NB, later, attempt=5)   # the victim's download name, later and a higher attempt
    upload = zip_of({forged: notebook("forged by 1"), NB: notebook("1's own")})
    archive = download(tmp_path, {cls.name(0, NB): notebook("0's own"),
                                  cls.name(1, "work.zip"): upload})
    report = cls.collect(archive)
    assert cls.submitted(0) == {NB: notebook("0's own")}
    assert list(cls.submitted(1).values()) == [notebook("1's own")]
    why = next(why for rel, why in report.unmatched if rel.endswith(forged))
    assert "counts only for her" in why and cls.sid(1) in why, report
    assert any(cls.sid(1) in what and "extracted" in what for _, what in report.notes), report.notes


def test_plain_nbgrader_zip_collect_uses_the_safe_extractor(make_class, tmp_path):
    cls = make_class("canvas")
    upload = zip_of({cls.name(0, NB, attempt=5): notebook("forged by 1")})
    archive = download(tmp_path, {cls.name(0, NB): notebook("0's own"), cls.name(1, "work.zip"): upload})
    (cls.root / "downloaded" / A / "archive").mkdir(parents=True)
    (cls.root / "downloaded" / A / "archive" / archive.name).write_bytes(archive.read_bytes())
    proc = subprocess.run([str(BIN / "nbgrader"), "zip_collect", A, "--collector=cnnlab.lms.collect.CanvasCollector",
                           "--force"], cwd=cls.root, capture_output=True, text=True, env=run_env(), timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "SafeExtractor" in proc.stderr
    assert cls.submitted(0) == {NB: notebook("0's own")}
    assert not cls.submitted(1)


def test_an_unpacked_download_folder_is_read_the_same_way(make_class, tmp_path):
    cls = make_class("moodle")
    folder = tmp_path / "unpacked"
    folder.mkdir()
    (folder / cls.name(0, NB)).write_bytes(notebook("0's own"))
    (folder / cls.name(1, "work.zip")).write_bytes(zip_of({cls.name(0, NB): notebook("forged by 1")}))
    (folder / cls.name(2, NB)).symlink_to(cls.root / "source" / A / NB)
    report = cls.collect(folder)
    assert cls.submitted(0) == {NB: notebook("0's own")}
    assert not cls.submitted(1) and not cls.submitted(2)
    why = reasons(report)
    assert "counts only for her" in next(w for r, w in why.items() if r.endswith(cls.name(0, NB)) and "work.zip" in r)
    assert "symbolic link" in next(w for r, w in why.items() if r.endswith(cls.name(2, NB)))


# --- 2. names that are not UTF-8 --------------------------------------------------------------------


@pytest.mark.parametrize("lms", ["moodle", "canvas"])
def test_a_name_that_is_not_utf8_is_renamed(make_class, tmp_path, lms):
    cls = make_class(lms)
    inner = "why_cnns\udcff.ipynb"   # the byte 0xff, as tarfile reads a name that is not UTF-8
    if lms == "moodle":  # in Moodle's folder per student, any file in it is hers
        upload_name = cls.fmt.download_name(cls.rows[1], "work.tar.gz", START)
    else:
        upload_name = cls.name(1, "work.tar.gz")
    archive = download(tmp_path, {cls.name(0, NB): notebook("0's own"),
                                  upload_name: tar_gz_of([(inner, notebook("1's own"))])})
    report = cls.collect(archive)
    assert cls.submitted(0) == {NB: notebook("0's own")}
    assert cls.submitted(1) == {"why_cnns_.ipynb": notebook("1's own")}
    assert any("not UTF-8" in what for _, what in report.notes), report.notes
    assert_contained(cls, tmp_path, {archive})


# --- 3. broken uploads and broken downloads ---------------------------------------------------------


def test_fake_archives_are_their_uploaders_problem_alone(make_class, tmp_path, capsys):
    cls = make_class("canvas")
    archive = download(tmp_path, {cls.name(0, NB): notebook("0's own"),
                                  cls.name(1, "work.zip"): b"I am not a zip file",
                                  cls.name(2, "work.tar.gz"): b"nor a tar.gz",
                                  cls.name(3, NB): notebook("3's own")})
    code, out, err = cli(capsys, "--course", str(cls.root), "collect", A, str(archive), "--lms", "canvas", "--json")
    assert code == 1, err
    report = json.loads(out)
    assert cls.submitted(0) == {NB: notebook("0's own")} and cls.submitted(3) == {NB: notebook("3's own")}
    refused = {rel: why for rel, why in report["unmatched"]}
    for i, name in ((1, "work.zip"), (2, "work.tar.gz")):
        why = next(why for rel, why in refused.items() if rel.endswith(cls.name(i, name)))
        assert "not a zip or tar archive" in why and cls.sid(i) in why, why
        assert not cls.submitted(i)


def test_a_zip_bomb_in_a_students_upload_is_refused_within_bounds(make_class, tmp_path, zip_bomb):
    cls = make_class("canvas")
    archive = tmp_path / "submissions.zip"
    archive.write_bytes(zip_of({cls.name(0, NB): notebook("0's own")}))
    with zipfile.ZipFile(archive, "a") as z:
        z.writestr(cls.name(1, "work.zip"), zip_bomb, compress_type=zipfile.ZIP_STORED)
    # measured in a fresh parent whose only child is the collect: this test process's own
    # RUSAGE_CHILDREN holds the peak of every child it ever had (other tests' autogrades too)
    measure = ("import resource, subprocess, sys; code = subprocess.run(sys.argv[1:]).returncode; "
               "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); sys.exit(code)")
    proc = subprocess.run([sys.executable, "-c", measure, *cnnlab_cmd("--course", str(cls.root), "collect", A,
                                                                      str(archive), "--lms", "canvas", "--json")],
                          capture_output=True, text=True, env=run_env(), timeout=300)
    peak_mib = int(proc.stderr.split()[-1]) / 1024
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    assert cls.submitted(0) == {NB: notebook("0's own")} and not cls.submitted(1)
    why = next(why for rel, why in report["unmatched"] if cls.name(1, "work.zip") in rel)
    assert "uncompressed" in why, why
    assert disk_use(cls.root / "downloaded") + disk_use(cls.root / "submitted") < 10 * MiB
    assert peak_mib < 600, f"collect peaked at {peak_mib:.0f} MiB"


def test_a_bomb_inside_the_download_costs_only_its_file(make_class, tmp_path):
    cls = make_class("canvas")
    archive = tmp_path / "submissions.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        z.writestr(cls.name(0, NB), notebook("0's own"))
        with z.open(cls.name(1, NB), "w", force_zip64=True) as f:   # 200 MiB of zeros, about 1 MB zipped
            for _ in range(200):
                f.write(bytes(MiB))
        z.writestr(cls.name(2, NB), bytes(20 * MiB))   # under the size limit, but compressed ~1000:1
    report = cls.collect(archive)
    assert cls.submitted(0) == {NB: notebook("0's own")}
    assert not cls.submitted(1) and not cls.submitted(2)
    why = reasons(report)
    assert "MiB" in next(w for r, w in why.items() if r.endswith(cls.name(1, NB)))
    assert "200:1" in next(w for r, w in why.items() if r.endswith(cls.name(2, NB)))
    assert disk_use(cls.root / "downloaded") + disk_use(cls.root / "submitted") < 10 * MiB


def test_a_tar_bomb_is_stopped_while_it_streams(make_class, tmp_path):
    cls = make_class("brightspace")
    bomb = tarfile.TarInfo(NB)
    bomb.size = 20 * MiB   # under the size limit, but the tar.gz is ~20 kB: stopped past 200:1
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        tar.addfile(bomb, io.BytesIO(bytes(bomb.size)))
    archive = download(tmp_path, {cls.name(0, NB): notebook("0's own"), cls.name(1, "work.tgz"): buf.getvalue()})
    report = cls.collect(archive)
    assert cls.submitted(0) == {NB: notebook("0's own")} and not cls.submitted(1)
    assert "200:1" in next(w for r, w in reasons(report).items() if r.endswith(cls.name(1, "work.tgz")))
    assert disk_use(cls.root / "downloaded") + disk_use(cls.root / "submitted") < 2 * MiB


@pytest.mark.parametrize("what", ["not an archive", "too many members", "too big"])
def test_a_broken_download_is_one_line_and_nothing_is_written(make_class, tmp_path, capsys, monkeypatch, what):
    cls = make_class("canvas")
    archive = tmp_path / "submissions.zip"
    if what == "not an archive":
        archive.write_bytes(b"<html>Your session has expired</html>")
    elif what == "too many members":
        with zipfile.ZipFile(archive, "w") as z:
            for i in range(MAX_MEMBERS + 1):
                z.writestr(f"f{i}", b"")
    else:  # headers that add up to more than the collect may extract: refused before writing
        monkeypatch.setattr(extract, "MAX_TOTAL_BYTES", 8 * MiB)  # (1 GiB of members is slow to build)
        archive.write_bytes(zip_of({cls.name(i, NB): bytes(3 * MiB) for i in range(3)}))
    code, out, err = cli(capsys, "--course", str(cls.root), "collect", A, str(archive), "--lms", "canvas")
    assert code == 2, out + err
    errors = [line for line in err.splitlines() if line.startswith("cnnlab:")]
    assert len(errors) == 1 and "submissions.zip: " in errors[0], err
    assert not (cls.root / "submitted").exists() and not (cls.root / "downloaded" / A).exists()


# --- 4. members that would land outside their folder ------------------------------------------------


def test_zip_slip_members_are_never_written(make_class, tmp_path):
    cls = make_class("brightspace")
    before = set(tmp_path.rglob("*"))
    upload = zip_of({"../../../../escaped.ipynb": notebook("slip"), f"/{tmp_path}/abs.ipynb": notebook("abs"),
                     NB: notebook("1's own")})
    archive = download(tmp_path, {cls.name(0, NB): notebook("0's own"), cls.name(1, "work.zip"): upload,
                                  "../escaped-from-download.ipynb": notebook("slip"),
                                  cls.name(2, NB): notebook("2's own")})
    before.add(archive)
    report = cls.collect(archive)
    assert cls.submitted(0) == {NB: notebook("0's own")} and cls.submitted(2) == {NB: notebook("2's own")}
    assert not cls.submitted(1)   # her upload is refused as a whole
    why = reasons(report)
    assert "outside its folder" in next(w for r, w in why.items() if r.endswith(cls.name(1, "work.zip")))
    assert "outside its folder" in next(w for r, w in why.items() if "escaped-from-download" in r)
    assert_contained(cls, tmp_path, before)
    assert not any(p.name in ("escaped.ipynb", "abs.ipynb", "escaped-from-download.ipynb")
                   for p in tmp_path.parent.rglob("*.ipynb"))


def test_tar_link_members_are_never_written(make_class, tmp_path):
    cls = make_class("blackboard")
    solution = cls.root / "source" / A / NB
    link = tarfile.TarInfo(NB)
    link.type, link.linkname = tarfile.SYMTYPE, str(solution)
    hard = tarfile.TarInfo("copy.ipynb")
    hard.type, hard.linkname = tarfile.LNKTYPE, "real.ipynb"
    archive = download(tmp_path, {
        cls.name(0, NB): notebook("0's own"),
        cls.name(1, "work.tar.gz"): tar_gz_of([link]),
        cls.name(2, "work.tar.gz"): tar_gz_of([("real.ipynb", notebook("2's")), hard])})
    report = cls.collect(archive)
    assert cls.submitted(0) == {NB: notebook("0's own")}
    assert not cls.submitted(1) and not cls.submitted(2)
    why = reasons(report)
    assert "symbolic link" in next(w for r, w in why.items() if r.endswith(cls.name(1, "work.tar.gz")))
    assert "hard link" in next(w for r, w in why.items() if r.endswith(cls.name(2, "work.tar.gz")))
    assert_contained(cls, tmp_path, {archive})
    assert solution.read_bytes() not in [p.read_bytes() for p in (cls.root / "submitted").rglob("*") if p.is_file()]


@pytest.fixture(scope="module")
def zip_bomb() -> bytes:
    """A student's work.zip: one member of 1 GiB of zeros, about 4.5 MB zipped. Written
    a MiB at a time (the test never holds, or inflates, the gigabyte)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        with z.open(NB, "w", force_zip64=True) as f:
            chunk = bytes(MiB)
            for _ in range(1024):
                f.write(chunk)
    return buf.getvalue()
