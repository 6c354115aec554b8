"""nbgrader preprocessors of the course, configured in nbgrader_config.py.

Each does one thing, in nbgrader's style, so that the plain `nbgrader`
commands and the `cnnlab` commands produce the same notebooks.
"""
from __future__ import annotations

from nbgrader import utils
from nbgrader.preprocessors import ClearHiddenTests, NbGraderPreprocessor
from traitlets import Bool

from .nbtools import strip_solution_markers


class StripSolutionMarkers(NbGraderPreprocessor):
    """Solutions read like a student's finished notebook: the `### BEGIN/END
    SOLUTION` lines are removed from solution cells (generate_solution keeps them)."""

    def preprocess_cell(self, cell, resources, index):
        if utils.is_solution(cell):
            cell.source = strip_solution_markers(cell.source)
        return cell, resources


class RedactHiddenTests(ClearHiddenTests):
    """Feedback without hidden tests: strips the hidden block of every test
    cell and cuts the tracebacks of such cells down to their last line.

    The checking helper never raises, but a student's code can still make a
    hidden cell fail outside it (a deleted function, a crashed kernel); the
    full traceback would then quote the hidden source.
    """

    redact_tracebacks = Bool(
        True, help="Replace tracebacks of cells that had hidden tests by 'Error: message'."
    ).tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        had_hidden = self.begin_test_delimeter in cell.source
        cell, resources = super().preprocess_cell(cell, resources, index)
        if had_hidden and self.redact_tracebacks and cell.cell_type == "code":
            for output in cell.outputs:
                if output.output_type == "error":
                    output.traceback = [f"{output.ename}: {output.evalue}"]
        return cell, resources


class FeedbackSummary(NbGraderPreprocessor):
    """Feedback that starts with what to do next: a table at the top of the
    notebook with the score of each exercise and, for each hidden check that
    failed, the hint written for it, plus where the videos of the guiding
    question it assesses cover the idea (from course.yml).

    Runs after GetGrades (scores) and RedactHiddenTests; everything it shows is
    already in the graded cells' outputs, which the verifier wrote: case names
    and hints, never expected values or hidden code.
    """

    videos = Bool(True, help="Link the videos of each failed item's guiding questions (course.yml).").tag(config=True)

    def preprocess(self, nb, resources):

        import nbformat

        from .items.status import failure_lines

        rows, total, possible = [], 0.0, 0.0
        review = _video_index(self.config, resources) if self.videos else {}
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader", {})
            if not meta.get("grade") or not meta.get("points"):
                continue
            score, points = float(meta.get("score") or 0.0), float(meta["points"])
            total, possible = total + score, possible + points
            hints = failure_lines(cell) + [f"{o.get('ename', 'Error')}: {o.get('evalue', '')}".strip()
                                           for o in cell.get("outputs", []) if o.get("output_type") == "error"]
            item = meta["grade_id"].rsplit("_", 1)[0]
            if score >= points - 1e-9:
                what = "✓ full marks"
            else:
                what = "<br>".join(f'✗ <span class="tex2jax_ignore">{literal(h)}</span>' for h in hints) \
                    or "✗ not all checks passed"
                links = review.get(meta["grade_id"], [])
                if links:
                    what += "<br>Review: " + "; ".join(links)
            rows.append(f"| `{item}` | {score:g} / {points:g} | {what} |")
        if rows:
            text = (f"## Your results: {total:g} / {possible:g}\n\n"
                    "Each exercise's hidden checks, by what they tried. Where one failed, its hint says "
                    "what to look at (the expected answers are not shown). Your whole notebook, as it "
                    "was graded, follows.\n\n"
                    "| Exercise | Points | What the hidden checks found |\n|---|---|---|\n" + "\n".join(rows))
            cell = nbformat.v4.new_markdown_cell(text)
            cell.metadata["cnnlab"] = {"feedback_summary": True}
            nb.cells.insert(0, cell)
        return nb, resources


#: Characters that Markdown (emphasis, code, links, tables, escapes) or MathJax ($) would read as markup.
_MARKUP = str.maketrans({ch: f"&#{ord(ch)};" for ch in "*_`[]|\\~$#<>&"})


def literal(text: str) -> str:
    """`text` as a Markdown cell shows it letter for letter: a hint's formula
    `(i*stride, j*stride)` must not turn into emphasis, nor `$...$` into math."""
    return text.translate(_MARKUP)


def _video_index(config, resources) -> dict[str, list[str]]:
    """{grade_id: ['[StatQuest: title](url): max pooling', ...]} for the assignment being fed back."""
    import os

    try:
        from .course import load_course

        root = config.CourseDirectory.root or os.getcwd()
        course = load_course(root)
        assignment = resources["nbgrader"]["assignment"]
    except Exception:  # feedback without links rather than no feedback
        return {}
    videos = course.videos
    out: dict[str, list[str]] = {}
    for q in course.questions:
        for gid in (q.get("assessed_by") or {}).get(assignment, []):
            for vid, mark in (q.get("videos") or {}).items():
                if vid in videos:
                    link = f"{course.video_link(vid)}: {mark}"
                    if link not in out.setdefault(gid, []):
                        out[gid].append(link)
    return out
