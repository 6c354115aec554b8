"""The report's figures: matplotlib (Agg, no display), rendered to PNG bytes.

Every figure has a fixed size in pixels (FIGSIZE × DPI) so that the page can
lay them out and the tests can check what was drawn.
"""
from __future__ import annotations

import io
import statistics
import textwrap

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)

from .classdata import ClassReport  # noqa: E402

DPI = 100
FIGSIZE = (8.0, 3.6)   # inches: 800 × 360 px
PIXELS = (int(FIGSIZE[0] * DPI), int(FIGSIZE[1] * DPI))


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)   # no bbox_inches="tight": the size stays PIXELS
    plt.close(fig)
    return buf.getvalue()


def score_distribution(report: ClassReport) -> bytes:
    fig, ax = plt.subplots(figsize=FIGSIZE, layout="constrained")
    scores = list(report.totals.values())
    top = max(report.max_score, 1.0)
    bins = [top * k / 10 for k in range(11)]
    ax.hist(scores, bins=bins, color="#4a7ab5", edgecolor="white")
    if scores:
        mean = sum(scores) / len(scores)
        ax.axvline(mean, color="#c0392b", ls="--", lw=1.5, label=f"mean {mean:.1f}")
        median = statistics.median(scores)
        ax.axvline(median, color="#27ae60", ls=":", lw=1.5, label=f"median {median:.1f}")
        ax.legend(loc="upper left")
    ax.set_xlim(0, top)
    ax.set_xlabel(f"score (out of {report.max_score:g})")
    ax.set_ylabel("students")
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.set_title(f"{report.assignment}: score distribution ({len(scores)} submissions)")
    return _png(fig)


def _percent_bars(labels: list[str], shares: list[float], xlabel: str, title: str) -> bytes:
    """Horizontal bars of percentages, first label on top: red under 50 %, amber under 80 %."""
    fig, ax = plt.subplots(figsize=FIGSIZE, layout="constrained")
    percents = [100 * s for s in shares][::-1]
    colors = ["#c0392b" if p < 50 else "#e69f00" if p < 80 else "#2e8b57" for p in percents]
    ax.barh(labels[::-1], percents, color=colors)
    ax.set_xlim(0, 100)
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    ax.tick_params(axis="y", labelsize=8)
    return _png(fig)


def item_pass_rates(report: ClassReport) -> bytes:
    return _percent_bars([i.item for i in report.items], [i.pass_rate for i in report.items],
                         "% of submissions with full marks", "Pass rate per graded item")


def question_mastery(report: ClassReport) -> bytes:
    return _percent_bars(["\n".join(textwrap.wrap(m.question, 48)) for m in report.mastery],
                         [m.share for m in report.mastery],
                         "% of the points on the items that assess it", "Mastery per guiding question")


def run_times(report: ClassReport) -> bytes:
    fig, ax = plt.subplots(figsize=FIGSIZE, layout="constrained")
    seconds = report.times.per_submission
    ax.hist(seconds, bins=min(20, max(1, len(seconds))), color="#7f7f7f", edgecolor="white")
    ax.set_xlabel("seconds to grade one submission")
    ax.set_ylabel("submissions")
    ax.set_title("Grading time per submission (last grading of each)")
    return _png(fig)


#: name → (drawing function, alt text)
FIGURES = {
    "scores": (score_distribution, "Histogram of the class's scores"),
    "items": (item_pass_rates, "Pass rate per graded item"),
    "mastery": (question_mastery, "Mastery per guiding question"),
    "times": (run_times, "Grading time per submission"),
}
