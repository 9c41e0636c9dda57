"""The Dagster UI as an engineer uses it: the webserver started on localhost over the built data home, opened
in headless Chromium; the lineage page shows every asset group, and a materialization launched from an
asset's page runs (through the instance's run launcher, in a subprocess) and succeeds."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect

from futuremart.settings import PROJECT_ROOT
from orchestration.definitions import defs
from orchestration.storage import project_instance_yaml
from reports.sales import SPEC as SALES
from tests.conftest import ARTIFACTS_DIR

SHOTS = ARTIFACTS_DIR / "dagster_ui"
# A small selection whose upstream the `built` run already materialized: one report (reads marts, writes HTML).
ASSET_PATH = "reports/sales_report"
START_TIMEOUT_S = 90
RUN_TIMEOUT_S = 120


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def graphql(base: str, query: str) -> dict:
    request = urllib.request.Request(
        f"{base}/graphql", data=json.dumps({"query": query}).encode(), headers={"content-type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)["data"]


def instance_yaml(dagster_home: Path) -> str:
    """The repository's dagster.yaml with its storage under ``dagster_home``, and runs launched right away:
    `make dev` runs the daemon that dequeues runs, a bare webserver does not."""
    text = project_instance_yaml(dagster_home / "dagster")
    return text + "\nrun_coordinator:\n  module: dagster._core.run_coordinator\n  class: DefaultRunCoordinator\n"


def location_loaded(base: str) -> bool:
    try:
        data = graphql(base, "{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus } } } }")
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False
    entries = data["workspaceOrError"].get("locationEntries", [])
    return any(e["name"] == "futuremart" and e["loadStatus"] == "LOADED" for e in entries)


@pytest.fixture(scope="module")
def webserver(built, tmp_path_factory):
    """``dagster-webserver -w workspace.yaml`` on a free port, over the built data home; killed at the end."""
    dagster_home = tmp_path_factory.mktemp("dagster_home")
    (dagster_home / "dagster.yaml").write_text(instance_yaml(dagster_home))
    settings = built.settings
    env = {
        **os.environ,
        "DAGSTER_HOME": str(dagster_home),
        "FUTUREMART_HOME": str(settings.home),
        "FUTUREMART_SEED": str(settings.seed),
        "FUTUREMART_SCALE": str(settings.scale_factor),
    }
    port = free_port()
    log = (dagster_home / "webserver.log").open("w")
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("dagster-webserver")), "-w", "workspace.yaml", "-h", "127.0.0.1"]
        + ["-p", str(port)],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: the code server and run workers end with it
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not location_loaded(base):
            assert server.poll() is None, (dagster_home / "webserver.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "webserver not ready: " + (dagster_home / "webserver.log").read_text()
            time.sleep(0.5)
        SHOTS.mkdir(parents=True, exist_ok=True)
        yield base
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()


@pytest.fixture
def ui(browser, webserver):
    context = browser.new_context(viewport={"width": 1500, "height": 1000})
    page = context.new_page()
    # A first visit shows a "Join the Dagster community" dialog over the page: skip it whenever it shows.
    page.add_locator_handler(
        page.get_by_text("Join the Dagster community"), lambda: page.get_by_role("button", name="Skip").click()
    )
    yield page
    context.close()


def test_the_lineage_page_shows_every_asset_group(ui, webserver):
    groups = sorted({spec.group_name for spec in defs.resolve_all_asset_specs()})
    assert {"ingestion", "raw", "marts", "governance", "published", "reports"} <= set(groups)
    ui.goto(f"{webserver}/asset-groups")
    expect(ui.get_by_text("Global asset lineage")).to_be_visible(timeout=30_000)
    for group in groups:
        expect(ui.get_by_text(group, exact=True).first).to_be_visible()
    ui.screenshot(path=SHOTS / "lineage.png")


def test_a_materialization_launched_from_the_ui_succeeds(ui, webserver, built):
    report = built.settings.reports_dir / SALES.filename
    before = report.stat().st_mtime_ns
    ui.goto(f"{webserver}/assets/{ASSET_PATH}")
    # Upstream assets have no materialization in this fresh instance (the `built` run used its own), so the
    # UI asks for confirmation before launching. The click is dispatched to the button itself: on a loaded
    # machine another layer of the dialog's portal can still cover it while it animates, and a pointer click
    # then waits for it until the test times out.
    ui.add_locator_handler(
        ui.get_by_text("Are you sure?"), lambda: ui.get_by_role("button", name="Confirm").dispatch_event("click")
    )
    ui.get_by_role("button").filter(has_text=re.compile(r"^Materialize$")).click(timeout=30_000)
    run_link = ui.locator("a[href*='/runs/']").first
    expect(run_link).to_be_visible(timeout=30_000)
    run_id = run_link.get_attribute("href").rsplit("/", 1)[-1]

    deadline = time.monotonic() + RUN_TIMEOUT_S
    status = None
    while time.monotonic() < deadline:
        status = graphql(webserver, f'{{ runOrError(runId: "{run_id}") {{ ... on Run {{ status }} }} }}')[
            "runOrError"
        ].get("status")
        if status in ("SUCCESS", "FAILURE", "CANCELED"):
            break
        time.sleep(1)
    ui.goto(f"{webserver}/runs/{run_id}")
    ui.wait_for_load_state("networkidle")
    ui.screenshot(path=SHOTS / "run.png")
    assert status == "SUCCESS", f"run {run_id} ended {status}"
    expect(ui.get_by_text("Success", exact=True).first).to_be_visible(timeout=30_000)
    assert report.stat().st_mtime_ns > before, "the run did not rewrite the report"
