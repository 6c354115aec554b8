"""Feedback back through the LMS, for a course without a hub: `cnnlab feedback A --lms canvas`.

Canvas and Moodle take feedback files in bulk as an upload named like their
own download (see each format's `feedback_name`): each student's feedback
page goes under the name of the file she handed in, so the LMS attaches it to
her submission. The names come from the last `cnnlab collect` of the
assignment (its record keeps where each student's files were in the
download); a student collected some other way has no such name and is listed,
never guessed. Written to feedback-upload/<lms>/<A>/ and zipped beside it as
<A>-feedback.zip, the file the TA uploads.
"""
from __future__ import annotations

import shutil
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from ..course import Course
from . import get_format
from .base import LmsError


@dataclass
class UploadReport:
    lms: str
    zip_path: Path
    where: str                                                       # where the TA uploads it
    files: dict[str, list[str]] = field(default_factory=dict)        # student -> names in the upload
    left_out: list[tuple[str, str]] = field(default_factory=list)    # (student, why)


def upload_folder(course: Course, lms: str, assignment_id: str) -> Path:
    return course.root / "feedback-upload" / lms / assignment_id


def write_feedback_upload(course: Course, assignment_id: str, lms: str,
                          students: list[str] | None = None) -> UploadReport:
    fmt = get_format(lms)
    if not fmt.feedback_upload:
        fmt.feedback_name("", "")  # raises the one-line reason
    record = course.collected(assignment_id)
    if record.get("lms") not in (None, lms):
        raise LmsError(f"{assignment_id} was collected from {record['lms']}, not {lms}: its feedback goes back there")
    downloads = record.get("downloads", {})
    folder = upload_folder(course, lms, assignment_id)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    report = UploadReport(lms, folder.with_name(f"{assignment_id}-feedback.zip"), fmt.feedback_upload)
    root = course.feedback()
    everyone = sorted(p.name for p in root.iterdir() if (p / assignment_id).is_dir()) if root.is_dir() else []
    for student in everyone if students is None else students:
        pages = sorted(course.feedback(student, assignment_id).glob("*.html"))
        if not pages:
            report.left_out.append((student, "no feedback written (run cnnlab feedback first)"))
            continue
        if not downloads.get(student):
            report.left_out.append((student, f"not collected from a {fmt.title} download: no file of hers to "
                                             "attach it to"))
            continue
        for page in pages:
            name = fmt.feedback_name(downloads[student][-1], f"{page.stem}-feedback.html")
            dest = folder / name
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(page, dest)
            report.files.setdefault(student, []).append(name)
    with zipfile.ZipFile(report.zip_path, "w", zipfile.ZIP_DEFLATED) as z:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                z.write(path, path.relative_to(folder).as_posix())
    return report
