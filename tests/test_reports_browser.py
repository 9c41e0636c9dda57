"""Every published report opened in headless Chromium over HTTP: no console error, no failed request, every
chart drawn by plotly, and each headline number on the page equal to its SQL run on the built warehouse."""

from __future__ import annotations

import functools
import http.server
import re
import threading

import pytest

from reports import REPORTS
from reports.render import DATA_DOCS_PAGE, INDEX_PAGE, ReportSpec
from tests.conftest import ARTIFACTS_DIR

SHOTS = ARTIFACTS_DIR / "reports"
NUMBER = re.compile(r"-?[\d,]*\d(?:\.(\d+))?")


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's signature
        pass


@pytest.fixture(scope="module")
def site(built):
    """The reports folder served over HTTP on a free localhost port, as a web server would publish it."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    handler = functools.partial(QuietHandler, directory=str(built.settings.reports_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def page(browser):
    """A page that records console errors, uncaught exceptions and failed or refused requests."""
    context = browser.new_context(viewport={"width": 1300, "height": 900})
    page = context.new_page()
    page.problems = []
    page.on("console", lambda m: page.problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: page.problems.append(f"uncaught: {e}"))
    page.on("requestfailed", lambda r: page.problems.append(f"request failed: {r.url} {r.failure}"))
    page.on("response", lambda r: page.problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
    yield page
    context.close()


def shown_number(text: str) -> tuple[float | None, float]:
    """The number a headline shows and the rounding step of its display ($1,234 -> 1234, 1; 12.3% -> 0.123, 0.001)."""
    if text == "n/a":
        return None, 0.0
    match = NUMBER.search(text)
    assert match, f"no number in headline {text!r}"
    value, step = float(match.group(0).replace(",", "")), 10.0 ** -len(match.group(1) or "")
    if text.endswith("%"):
        value, step = value / 100, step / 100
    return value, step


def test_the_index_links_every_report_and_the_data_docs(page, site):
    page.goto(f"{site}/{INDEX_PAGE}")
    hrefs = {a.get_attribute("href") for a in page.locator("ul.reports a").all()}
    assert hrefs == {spec.filename for spec in REPORTS} | {DATA_DOCS_PAGE}
    page.screenshot(path=SHOTS / "index.png", full_page=True)
    for href in sorted(hrefs):
        response = page.goto(f"{site}/{href}")
        assert response is not None and response.ok, href
    assert page.problems == []


@pytest.mark.parametrize("spec", REPORTS, ids=lambda s: s.slug)
def test_a_report_renders_its_charts_and_true_headlines(page, site, built, spec: ReportSpec):
    page.goto(f"{site}/{spec.filename}")
    charts = page.locator("section[data-chart]")
    assert charts.count() >= 3
    # plotly draws into .main-svg; _fullData holds the traces it actually plotted.
    for section in charts.all():
        plot = section.locator(".js-plotly-plot")
        plot.locator(".main-svg").first.wait_for(state="attached", timeout=20_000)
        traces = plot.evaluate("el => (el._fullData || []).filter(t => t.visible !== false).length")
        points = plot.evaluate("el => (el._fullData || []).reduce((n, t) => n + (t.x || t.y || []).length, 0)")
        assert traces >= 1 and points >= 1, f"chart {section.get_attribute('data-chart')} is empty"
    with built.connect() as con:
        for headline in spec.headlines:
            text = page.locator(f'[data-headline="{headline.key}"] .value').inner_text().strip()
            shown, step = shown_number(text)
            expected = con.execute(headline.sql).fetchone()[0]
            if expected is None:
                assert shown is None, f"{headline.key}: page shows {text}, SQL gives null"
                continue
            assert shown is not None, f"{headline.key}: page shows n/a, SQL gives {expected}"
            assert abs(shown - float(expected)) <= step / 2 + 1e-9 * abs(float(expected)), (
                f"{headline.key}: page shows {text}, SQL gives {expected}"
            )
    page.screenshot(path=SHOTS / f"{spec.slug}.png", full_page=True)
    assert page.problems == []
