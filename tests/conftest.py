"""Session fixtures: one small warehouse built by materializing the real Dagster job in-process."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from futuremart.settings import Settings
from orchestration.definitions import build_definitions
from orchestration.partitions import full_range_tags
from orchestration.resources import FutureMartResource

TEST_SCALE = float(os.environ.get("FUTUREMART_TEST_SCALE", "0.02"))
TEST_SEED = 7


@dataclass(frozen=True)
class BuiltWarehouse:
    settings: Settings
    result: dg.ExecuteInProcessResult

    def connect(self) -> duckdb.DuckDBPyConnection:
        return duckdb.connect(str(self.settings.warehouse_path), read_only=True)


@pytest.fixture(scope="session", autouse=True)
def clean_worlds_by_default() -> Iterator[None]:
    """Worlds the tests generate are clean unless a test asks for dirt (``FUTUREMART_DIRT_RATE=0``, also for the
    runs they start as subprocesses): the session warehouse's marts are compared with the generator's truth
    row for row, and the runs compared with it must build the same world. Dirt on by default, end to end
    through every dbt test, is tests/test_dirt.py's dirty world."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FUTUREMART_DIRT_RATE", "0")
        yield


def materialize(home: Path, seed: int = TEST_SEED, scale: float = TEST_SCALE, dirt: float = 0.0) -> BuiltWarehouse:
    """Run the ``materialize_everything`` job against a data home, as ``make run`` does (clean by default)."""
    resource = FutureMartResource(home=str(home), seed=seed, scale_factor=scale, dirt_rate=dirt)
    defs = build_definitions(resource)
    result = defs.resolve_job_def("materialize_everything").execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), raise_on_error=False, tags=full_range_tags(resource.settings)
    )
    return BuiltWarehouse(resource.settings, result)


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> BuiltWarehouse:
    warehouse = materialize(tmp_path_factory.mktemp("home"))
    assert warehouse.result.success, "the materialize_everything job failed; see the captured log"
    return warehouse


def mart_checksums(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, str]]:
    """Row count and an order-independent checksum of every mart table."""
    tables = [
        r[0]
        for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' order by 1"
        ).fetchall()
    ]
    out = {}
    for table in tables:
        count, digest = con.execute(
            f"select count(*), coalesce(sum(hash(t)), 0)::varchar from marts.{table} as t"
        ).fetchone()
        out[table] = (count, digest)
    return out


def tree_digest(root: Path) -> dict[str, str]:
    """SHA-256 of every file under ``root``, by relative path."""
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


# Debian's chromium package (`make browser` installs it): Playwright cannot download its own browser here.
CHROMIUM = Path("/usr/bin/chromium")
# Screenshots of the browser tests, kept after the run (gitignored).
ARTIFACTS_DIR = Path(__file__).resolve().parent.parent / "test-artifacts"


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the session (report pages and the Dagster UI)."""
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make browser` (apt-get install chromium) as root")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM))
        yield chromium
        chromium.close()
