"""The class report as one self-contained HTML page.

The figures are PNG files written beside the page (`<page>_figures/`) and
embedded in it as data: URIs, so the page alone can be mailed or opened
offline, and the PNGs can go into slides. No script, no stylesheet or font
from the network. Every text from the course or a student is escaped.
"""
from __future__ import annotations

import base64
import os
from pathlib import Path

from jinja2 import Environment, select_autoescape

from .classdata import ClassReport
from .plots import FIGURES, PIXELS

TEMPLATE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{{ r.assignment }}: class report</title>
<style>
body { font: 15px/1.45 system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
h1 { margin-bottom: .2rem; } .sub { color: #666; margin-top: 0; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1.5rem; }
th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid #ddd; vertical-align: top; }
th { background: #f4f4f4; } td.n { text-align: right; white-space: nowrap; }
.low { color: #c0392b; font-weight: 600; } .mid { color: #b07800; } .ok { color: #2e8b57; }
img { max-width: 100%; height: auto; display: block; margin: .5rem 0 1.5rem; }
.cards { display: flex; gap: 1rem; flex-wrap: wrap; } .card { background: #f4f4f4; padding: .6rem 1rem; border-radius: 6px; }
.card b { display: block; font-size: 1.4rem; }
</style></head><body>
<h1>{{ r.assignment }}: {{ r.title }}</h1>
<p class="sub">Class report · {{ s.students }} graded submission(s) · written by <code>cnnlab report</code></p>
<div class="cards">
<div class="card"><b>{{ fmt(s.mean) }} / {{ fmt(r.max_score) }}</b>mean score</div>
<div class="card"><b>{{ fmt(s.median) }}</b>median</div>
<div class="card"><b>{{ r.flagged|length }}</b>flagged submission(s)</div>
<div class="card"><b>{{ r.late|length }}</b>late</div>
<div class="card"><b>{{ fmt(r.times.median_seconds) }} s</b>median grading time</div>
</div>

<h2>Score distribution</h2>
{{ img("scores") }}

<h2>Mastery per guiding question</h2>
<p>Share of the points the class earned on the items that assess each question of the course page.</p>
{{ img("mastery") }}
<table><tr><th>Guiding question</th><th>Assessed by</th><th>Mastery (class)</th><th>Mastery (attempted)</th></tr>
{% for m in r.mastery %}<tr><td>{{ m.question }}</td><td>{{ m.grade_ids|join(", ") }}</td>
<td class="n {{ level(m.share) }}">{{ pct(m.share) }}</td>
<td class="n">{% if m.attempted_share is not none %}{{ pct(m.attempted_share) }}{% else %}-{% endif %}</td></tr>
{% endfor %}</table>
<p>"Attempted" leaves out the submissions that kept the release's stub for those items.</p>

<h2>Pass rate per graded item</h2>
{{ img("items") }}
<table><tr><th>Item</th><th>Points</th><th>Full marks</th><th>Mean share of points</th><th>Not attempted</th></tr>
{% for i in r.items %}<tr><td><code>{{ i.grade_id }}</code></td><td class="n">{{ fmt(i.points) }}</td>
<td class="n {{ level(i.pass_rate) }}">{{ pct(i.pass_rate) }}</td><td class="n">{{ pct(i.mean_share) }}</td>
<td class="n">{{ i.not_attempted }}</td></tr>
{% endfor %}</table>

<h2>What the class has not understood yet</h2>
<p>The hidden checks failed most often by students who attempted the item, with the hint each
of them was given. A case counts for a student only when some other case of that item passed for
them: code that crashes or takes another approach fails every case, which says nothing about one
case (answers left as the release's stub count as not attempted, above).</p>
{% if r.misconceptions %}<table><tr><th>Students</th><th>Item</th><th>Case</th><th>Hint</th></tr>
{% for m in r.misconceptions[:limit] %}<tr><td class="n">{{ m.students }}</td><td><code>{{ m.grade_id }}</code></td>
<td>{{ m.case or "(the answer as a whole)" }}</td><td>{{ m.hint }}</td></tr>
{% endfor %}</table>{% else %}<p>No hidden check failed.</p>{% endif %}

<h2>Flagged submissions</h2>
{% if r.flagged %}<table><tr><th>Student</th><th>Status</th><th>Why</th><th>Autograded notebook</th></tr>
{% for f in r.flagged %}<tr><td>{{ f.student }}</td><td>{{ f.status }}</td>
<td>{% for why in f.reasons %}{{ why }}<br>{% endfor %}</td>
<td>{% for nb in f.notebooks %}<a href="{{ link(nb) }}">{{ nb.name }}</a><br>{% endfor %}
{% for page in f.feedback %}<a href="{{ link(page) }}">feedback: {{ page.name }}</a><br>{% endfor %}</td></tr>
{% endfor %}</table>{% else %}<p>None: every submission ran cleanly and nothing was flagged.</p>{% endif %}

<h2>Every student</h2>
<p>{{ r.flag_counts.flagged }} flagged, {{ r.flag_counts.zero_broken }} not gradable, {{ r.flag_counts.timeouts }}
with timeouts, {{ r.flag_counts.kernel_deaths }} kernel deaths: counted as <code>cnnlab autograde</code> counts them.</p>
<table><tr><th>Student</th><th>Score</th><th>Late</th><th>Flagged</th></tr>
{% for row in r.table %}<tr><td>{{ row.student }}</td><td class="n">{{ fmt(row.score) }}</td>
<td>{{ row.late or "-" }}</td><td>{{ "yes" if row.flagged else "-" }}</td></tr>
{% endfor %}</table>
{% if r.no_submission %}<p><b>No submission ({{ r.no_submission|length }}):</b> {{ r.no_submission|join(", ") }}</p>{% endif %}

<h2>Late work</h2>
{% if r.late %}<table><tr><th>Student</th><th>How late (course.yml <code>late:</code>)</th></tr>
{% for student, how in r.late.items() %}<tr><td>{{ student }}</td><td>{{ how }}</td></tr>
{% endfor %}</table>{% else %}<p>None: every graded submission was on time (or the course sets no due date).</p>{% endif %}

<h2>Run time</h2>
<table>
<tr><td>submissions graded</td><td class="n">{{ r.times.submissions }}</td></tr>
<tr><td>median / 90th percentile / slowest, per submission</td>
<td class="n">{{ fmt(r.times.median_seconds) }} s / {{ fmt(r.times.p90_seconds) }} s / {{ fmt(r.times.max_seconds) }} s</td></tr>
{% if r.times.last_run_seconds is not none %}<tr><td>last <code>cnnlab autograde</code> run (wall clock)</td>
<td class="n">{{ fmt(r.times.last_run_seconds) }} s with {{ r.times.last_run_workers }} worker(s)</td></tr>{% endif %}
</table>
{{ img("times") }}
</body></html>
"""


def _fmt(x) -> str:
    if x is None:
        return "–"
    return f"{x:.2f}".rstrip("0").rstrip(".") if isinstance(x, float) else str(x)


def _level(share: float) -> str:
    return "low" if share < 0.5 else "mid" if share < 0.8 else "ok"


def write_report(report: ClassReport, to: Path, misconceptions: int = 15) -> dict[str, Path]:
    """Write the page to `to` and its PNGs to `<to stem>_figures/`; returns {figure: png path}."""
    to = Path(to).resolve()
    figures_dir = to.parent / f"{to.stem}_figures"
    figures_dir.mkdir(parents=True, exist_ok=True)
    pngs, paths = {}, {}
    for name, (draw, _) in FIGURES.items():
        data = draw(report)
        path = figures_dir / f"{name}.png"
        path.write_bytes(data)
        pngs[name], paths[name] = data, path

    from markupsafe import Markup

    def img(name: str):
        alt = FIGURES[name][1]
        uri = "data:image/png;base64," + base64.b64encode(pngs[name]).decode("ascii")
        return Markup(f'<img src="{uri}" alt="{alt}" width="{PIXELS[0]}" height="{PIXELS[1]}" '
                      f'data-file="{figures_dir.name}/{name}.png">')

    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    html = env.from_string(TEMPLATE).render(
        r=report, s=report.summary(), fmt=_fmt, level=_level, limit=misconceptions, img=img,
        pct=lambda x: f"{100 * x:.0f} %",
        link=lambda p: Path(os.path.relpath(p, to.parent)).as_posix())
    to.write_text(html, encoding="utf-8")
    return paths
