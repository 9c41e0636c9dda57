"""Data Docs: one static HTML page summarizing the latest validation result of every suite.

GX 1.24's own Data Docs load Bootstrap, jQuery, Font Awesome and Vega from CDNs, which this offline
platform cannot reach, so the page is rendered here with Jinja2 from the result files the runner writes
(``<reports>/validations/<suite>.json``): inline CSS, no script, no external reference.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from pathlib import Path

from jinja2 import Environment, Template, select_autoescape

from futuremart.settings import Settings

TEMPLATE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<link rel="icon" href="data:,">
<title>FutureMart data quality: Great Expectations results</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; font-size: 0.9rem; }
th { background: #f3f3f3; }
.pass { color: #17692c; font-weight: 600; }
.fail { color: #b00020; font-weight: 600; }
code { font-size: 0.85rem; }
details { margin: 0.25rem 0; }
summary { cursor: pointer; }
</style>
</head>
<body>
<h1>Data quality: Great Expectations results</h1>
<p>Data home <code>{{ home }}</code>; world {{ start_date }} to {{ end_date }} (seed {{ seed }}, scale factor
{{ scale }}). Page written {{ written }}. {{ results|length }} suites: {{ passed }} passed, {{ failed }} failed.</p>
<table>
<tr><th>suite</th><th>dataset</th><th>status</th><th>rows validated</th><th>expectations met</th>
<th>latest business date</th><th>run</th><th>seconds</th><th>note</th></tr>
{% for r in results %}
<tr>
<td><a href="#{{ r.suite }}">{{ r.suite }}</a></td><td><code>{{ r.dataset }}</code></td>
<td class="{{ 'pass' if r.success else 'fail' }}">{{ 'PASS' if r.success else 'FAIL' }}</td>
<td>{{ r.rows }}</td><td>{{ r.evaluated - r.failures|length }} / {{ r.evaluated }}</td>
<td>{{ r.latest_business_date or '' }}</td><td><code>{{ r.run_id or '' }}</code></td><td>{{ r.seconds }}</td>
<td>{{ r.note }}</td>
</tr>
{% endfor %}
</table>
{% for r in results %}
<h2 id="{{ r.suite }}">{{ r.suite }}
<span class="{{ 'pass' if r.success else 'fail' }}">{{ 'PASS' if r.success else 'FAIL' }}</span></h2>
<details {{ 'open' if not r.success }}>
<summary>{{ r.evaluated }} expectations on <code>{{ r.dataset }}</code>, {{ r.failures|length }} failed</summary>
<table>
<tr><th>expectation</th><th>arguments</th><th>status</th><th>unexpected</th><th>examples</th><th>observed</th></tr>
{% for e in r.expectations %}
<tr>
<td><code>{{ e.expectation }}</code></td><td><code>{{ e.kwargs | tojson }}</code></td>
<td class="{{ 'pass' if e.success else 'fail' }}">{{ 'met' if e.success else 'FAILED' }}</td>
<td>{{ '' if e.unexpected_count is none else e.unexpected_count }}</td>
<td><code>{{ e.examples | tojson if e.examples else '' }}</code></td>
<td><code>{{ '' if e.observed_value is none else e.observed_value }}</code>{{ (' ' ~ e.exception) if e.exception }}</td>
</tr>
{% endfor %}
</table>
</details>
{% endfor %}
</body>
</html>
"""


def data_docs_page(settings: Settings) -> Path:
    """Where the Data Docs page is written: ``<reports>/data_docs/index.html``."""
    return settings.reports_dir / "data_docs" / "index.html"


@functools.cache
def _template() -> Template:
    # Compiled once per process: a run rebuilds the page after each of its suite steps.
    env = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
    return env.from_string(TEMPLATE)


def build_data_docs(settings: Settings) -> Path:
    """Render ``<reports>/data_docs/index.html`` from every result file; returns the page's path."""
    results_dir = settings.reports_dir / "validations"
    results = [json.loads(p.read_text()) for p in sorted(results_dir.glob("*.json"))] if results_dir.exists() else []
    results.sort(key=lambda r: (r["success"], r["suite"]))  # failures first
    html = _template().render(
        results=results,
        passed=sum(r["success"] for r in results),
        failed=sum(not r["success"] for r in results),
        home=settings.home,
        start_date=settings.start_date,
        end_date=settings.end_date,
        seed=settings.seed,
        scale=settings.scale_factor,
        written=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
    )
    out = data_docs_page(settings)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_text(html)
    tmp.replace(out)  # a reader never sees half a page
    return out
