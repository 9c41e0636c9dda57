"""A real run killed with SIGKILL while it loads raw, then run again: nothing lost, nothing loaded twice, no
half-loaded file, and the marts equal those of a run that was never interrupted."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from futuremart.publish import ANALYST_COPY
from futuremart.settings import PROJECT_ROOT, Settings
from ingestion.contracts import load_contracts
from ingestion.raw_loader import landed_files
from ingestion.readers import read_extract
from tests.conftest import TEST_SCALE, TEST_SEED, mart_checksums

# Raw loading takes some 15 s at the test scale; the warehouse file appears when the first load opens it.
KILL_AFTER_SECONDS = 2.0


def cli_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FUTUREMART_", "DAGSTER_"))}
    # The same world as the session warehouse it is compared with: clean (dirt is on by default).
    env.update(
        FUTUREMART_HOME=str(home),
        FUTUREMART_SEED=str(TEST_SEED),
        FUTUREMART_SCALE=str(TEST_SCALE),
        FUTUREMART_DIRT_RATE="0",
    )
    return env


def start_run(home: Path, log: Path) -> subprocess.Popen:
    with open(log, "wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "futuremart.cli", "run"],
            cwd=PROJECT_ROOT,
            env=cli_env(home),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the kill reaches any child it started
        )


def kill_while_loading_raw(home: Path, log: Path) -> None:
    settings = Settings(home=home)
    run = start_run(home, log)
    deadline = time.monotonic() + 300
    while not settings.warehouse_path.exists():
        assert run.poll() is None, f"the run ended before loading raw:\n{log.read_text()[-3000:]}"
        assert time.monotonic() < deadline, "raw loading never started"
        time.sleep(0.05)
    time.sleep(KILL_AFTER_SECONDS)
    os.killpg(run.pid, signal.SIGKILL)
    assert run.wait(timeout=30) == -signal.SIGKILL


@pytest.fixture(scope="module")
def recovered(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, dict]:
    home = tmp_path_factory.mktemp("crash")
    settings = Settings(home=home, seed=TEST_SEED, scale_factor=TEST_SCALE)
    kill_while_loading_raw(home, home / "killed.log")
    # What the kill left: raw loading under way, no dbt model built yet.
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        schemas = {r[0] for r in con.execute("select schema_name from duckdb_schemas()").fetchall()}
        audited = (
            con.execute("select count(distinct source_system || '.' || entity) from governance.load_audit").fetchone()[
                0
            ]
            if "governance" in schemas
            else 0
        )
    at_kill = {"entities_audited": audited, "marts_built": "marts" in schemas}
    rerun = subprocess.run(
        [sys.executable, "-m", "futuremart.cli", "run"],
        cwd=PROJECT_ROOT,
        env=cli_env(home),
        capture_output=True,
        text=True,
    )
    assert rerun.returncode == 0, rerun.stdout[-3000:] + rerun.stderr[-3000:]
    return settings, at_kill


def test_the_run_was_killed_in_the_middle_of_raw_loading(recovered):
    _settings, at_kill = recovered
    assert at_kill["entities_audited"] < len(load_contracts())
    assert not at_kill["marts_built"]


def test_every_landed_row_is_in_raw_or_quarantine_exactly_once(recovered):
    settings, _ = recovered
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        assert con.execute(
            "select count(*) from governance.load_audit where rows_in <> rows_loaded + rows_quarantined"
        ).fetchone() == (0,)
        loaded_twice = con.execute(
            "select source_system, entity, file, count(*) from governance.load_audit where status = 'loaded' "
            "group by all having count(*) > 1"
        ).fetchall()
        assert loaded_twice == []
        for contract in load_contracts():
            files = landed_files(contract, settings.landing_dir)
            landed = sum(read_extract(f, contract).rows_in for f in files)
            raw = con.execute(f"select count(*) from raw.{contract.raw_table}").fetchone()[0]
            quarantined = con.execute(f"select count(*) from quarantine.{contract.raw_table}").fetchone()[0]
            assert landed > 0 and raw + quarantined == landed, contract.raw_table
            # Per file: what raw and quarantine hold is what its one audit row says, so no file is partial.
            mismatched = con.execute(
                f"""
                with audit as (
                    select file, rows_loaded, rows_quarantined from governance.load_audit
                    where status = 'loaded' and source_system = ? and entity = ?
                ),
                in_raw as (select _source_file as file, count(*) as n from raw.{contract.raw_table} group by 1),
                in_quarantine as (
                    select _source_file as file, count(*) as n from quarantine.{contract.raw_table} group by 1
                )
                select coalesce(audit.file, in_raw.file, in_quarantine.file)
                from audit
                full join in_raw using (file)
                full join in_quarantine using (file)
                where audit.file is null
                    or coalesce(in_raw.n, 0) <> audit.rows_loaded
                    or coalesce(in_quarantine.n, 0) <> audit.rows_quarantined
                """,
                [contract.source_system, contract.entity],
            ).fetchall()
            assert mismatched == [], contract.raw_table
            audited = {
                r[0]
                for r in con.execute(
                    "select file from governance.load_audit where status = 'loaded' and source_system = ? "
                    "and entity = ?",
                    [contract.source_system, contract.entity],
                ).fetchall()
            }
            assert audited == {f.relative_to(settings.landing_dir).as_posix() for f in files}, contract.raw_table


def test_the_marts_equal_those_of_an_uninterrupted_run(recovered, built):
    settings, _ = recovered
    with built.connect() as con:
        expected = mart_checksums(con)
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        assert mart_checksums(con) == expected
    with duckdb.connect(str(settings.published_dir / ANALYST_COPY), read_only=True) as con:
        assert mart_checksums(con) == expected
