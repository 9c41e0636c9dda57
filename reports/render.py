"""The shared report renderer: headline numbers by SQL, plotly charts, one self-contained HTML page.

A report is declared as a :class:`ReportSpec` (one module per report in this package): the tables it reads,
its headline numbers (each one SQL query returning one number, kept in the spec so a test can run the very
same query), and a function that draws its charts from a DuckDB connection. :func:`build_report` runs it and
writes ``<reports_dir>/<slug>.html``; :func:`build_index` writes the page that links every report.

Pages open offline: plotly.js is inlined once per page (a CDN script would fail on these machines) and the
CSS is inline, so a page can be mailed or opened from disk. Nothing here knows about Dagster.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

import duckdb
import plotly.graph_objects as go
from jinja2 import Environment, PackageLoader, select_autoescape
from plotly.offline import get_plotlyjs

from futuremart.settings import Settings

Unit = Literal["usd", "count", "pct", "hours", "number"]
# Schemas a report may read: the analyst-facing layers (ml holds predictions keyed by customer and product
# ids, no personal data). raw, quarantine, staging and intermediate hold personal data and never feed a page.
READABLE_SCHEMAS = frozenset({"marts", "governance", "ml"})
INDEX_PAGE = "index.html"
DATA_DOCS_PAGE = "data_docs/index.html"


@dataclass(frozen=True)
class Headline:
    """One headline number: ``sql`` returns one row with one numeric column (null shows as "n/a")."""

    key: str
    label: str
    sql: str
    unit: Unit
    note: str = ""


@dataclass(frozen=True)
class Chart:
    """One interactive chart of a report, with the sentence that says how to read it."""

    key: str
    title: str
    figure: go.Figure
    caption: str = ""


@dataclass(frozen=True)
class ReportSpec:
    """What a report reads (``schema.table``), shows as headline numbers, and draws."""

    slug: str
    title: str
    summary: str
    owner: str
    reads: tuple[str, ...]
    headlines: tuple[Headline, ...]
    charts: Callable[[duckdb.DuckDBPyConnection], Sequence[Chart]]

    @property
    def filename(self) -> str:
        return f"{self.slug}.html"

    def __post_init__(self) -> None:
        outside = [t for t in self.reads if t.split(".")[0] not in READABLE_SCHEMAS]
        if outside:
            raise ValueError(f"report {self.slug} reads {outside}: reports read only {sorted(READABLE_SCHEMAS)}")


@dataclass(frozen=True)
class RenderedReport:
    """A written report page: where it is, its headline values (by key) and how many charts it holds."""

    spec: ReportSpec
    path: Path
    headlines: dict[str, float | None]
    charts: int
    bytes: int


def headline_values(con: duckdb.DuckDBPyConnection, spec: ReportSpec) -> dict[str, float | None]:
    """Run every headline query of ``spec``; returns key -> value (``None`` when the query gives null)."""
    values: dict[str, float | None] = {}
    for headline in spec.headlines:
        row = con.execute(headline.sql).fetchone()
        if row is None or len(row) != 1:
            raise ValueError(f"headline {spec.slug}.{headline.key} must return one row with one column")
        values[headline.key] = None if row[0] is None else float(row[0])
    return values


def format_value(value: float | None, unit: Unit) -> str:
    """The text a page shows for a headline value (thousands separators; rounding by unit)."""
    if value is None or math.isnan(value):
        return "n/a"
    if unit == "usd":
        return f"${value:,.0f}" if abs(value) >= 1000 else f"${value:,.2f}"
    if unit == "count":
        return f"{value:,.0f}"
    if unit == "pct":
        return f"{value * 100:,.1f}%"
    if unit == "hours":
        return f"{value:,.1f} h"
    return f"{value:,.2f}"


@cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("reports", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _figure_html(chart: Chart) -> str:
    chart.figure.update_layout(template="plotly_white", margin={"t": 30, "r": 20, "b": 40, "l": 60})
    if chart.figure.layout.height is None:  # a chart may size itself (one row per table, say)
        chart.figure.update_layout(height=420)
    # plotly.js is in the page head once; a fixed div id keeps the page stable from one build to the next.
    return chart.figure.to_html(
        full_html=False,
        include_plotlyjs=False,
        div_id=f"chart-{chart.key}",
        config={"displaylogo": False, "responsive": True},
    )


def _write(path: Path, html: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(path)  # a reader never sees half a page


def _world(settings: Settings) -> dict[str, object]:
    return {
        "seed": settings.seed,
        "scale": settings.scale_factor,
        "start_date": settings.start_date,
        "end_date": settings.end_date,
        "written": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def build_report(con: duckdb.DuckDBPyConnection, spec: ReportSpec, settings: Settings) -> RenderedReport:
    """Compute ``spec``'s headlines and charts on ``con`` and write ``<reports_dir>/<slug>.html``."""
    values = headline_values(con, spec)
    charts = list(spec.charts(con))
    html = (
        _environment()
        .get_template("report.html.j2")
        .render(
            spec=spec,
            headlines=[(h, format_value(values[h.key], h.unit)) for h in spec.headlines],
            charts=[(c, _figure_html(c)) for c in charts],
            plotly_js=get_plotlyjs(),
            index_page=INDEX_PAGE,
            **_world(settings),
        )
    )
    path = settings.reports_dir / spec.filename
    _write(path, html)
    return RenderedReport(spec, path, values, len(charts), path.stat().st_size)


def build_index(specs: Sequence[ReportSpec], settings: Settings) -> Path:
    """Write ``<reports_dir>/index.html``: a link to every report (and to the Data Docs page when present)."""
    out_dir = settings.reports_dir
    entries = [
        {"spec": spec, "exists": (out_dir / spec.filename).exists(), "filename": spec.filename} for spec in specs
    ]
    html = (
        _environment()
        .get_template("index.html.j2")
        .render(
            entries=entries,
            data_docs=DATA_DOCS_PAGE if (out_dir / DATA_DOCS_PAGE).exists() else None,
            **_world(settings),
        )
    )
    path = out_dir / INDEX_PAGE
    _write(path, html)
    return path


def query_frame(con: duckdb.DuckDBPyConnection, sql: str):  # noqa: ANN201 - a pandas DataFrame
    """The result of ``sql`` as a pandas DataFrame (the charts' input)."""
    return con.execute(sql).df()
