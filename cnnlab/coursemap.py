"""The course map (assignment → guiding questions → videos), rendered from
course.yml into the README between two markers, so that a question changed
in course.yml is changed everywhere by `cnnlab build`."""
from __future__ import annotations

from .course import Course

BEGIN, END = "<!-- course-map:begin (generated from course.yml by `cnnlab build`) -->", "<!-- course-map:end -->"


def _points(course: Course) -> dict[tuple[str, str], float]:
    from .nbtools import grade_id, nbgrader_meta

    points = {}
    for a in course.assignments:
        for nb in a.notebooks:
            for cell in course.read_source(a.id, nb).cells:
                meta = nbgrader_meta(cell)
                if meta.get("grade"):
                    points[(a.id, grade_id(cell))] = float(meta.get("points", 0))
    return points


def render(course: Course) -> str:
    points = _points(course)
    lines = ["| Assignment | Guiding questions it assesses (auto-graded points) | Videos |", "|---|---|---|"]
    for a in course.assignments:
        questions = []
        for q in course.questions:
            ids = q.get("assessed_by", {}).get(a.id, [])
            if ids:
                pts = sum(points.get((a.id, gid), 0) for gid in ids)
                questions.append(f"{q['text']} ({pts:g})")
        links = [course.video_link(vid).replace("|", "\\|") for vid in a.videos]  # a title's | is no column
        total = sum(p for (aid, _), p in points.items() if aid == a.id)
        after = (f"<br>*released after {' and '.join(f'`{b}`' for b in a.release_after)} are due*"
                 if a.release_after else "")
        lines.append(f"| `{a.id}` {a.title} ({total:g} points){after} | " + "<br>".join(questions) + " | "
                     + "<br>".join(links) + " |")
    return "\n".join(lines)


def updated_readme(course: Course) -> tuple[str, str]:
    """(current README text, README text with a fresh course map)."""
    path = course.root / "README.md"
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if BEGIN not in text or END not in text:
        return text, text
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return text, f"{head}{BEGIN}\n{render(course)}\n{END}{tail}"
