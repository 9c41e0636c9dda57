"""The whole pipeline, materialized in-process by the real Dagster job into a temporary data home."""

import re
import shutil
import subprocess
import sys

import duckdb
import pyarrow.csv as pacsv
import pytest

from futuremart.vault import connect_with_vault
from ingestion.contracts import load_contracts
from ingestion.raw_loader import landed_files
from tests.conftest import TEST_SEED, mart_checksums, materialize

EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[a-z]{2,}")
PHONE = re.compile(r"\+?1?-?\d{3}-\d{3}-\d{4}")


def landed_rows(settings, raw_table: str) -> int:
    contract = next(c for c in load_contracts() if c.raw_table == raw_table)
    files = landed_files(contract, settings.landing_dir)
    if contract.format == "csv":
        return sum(pacsv.read_csv(f).num_rows for f in files)
    return sum(1 for f in files for line in f.read_text().splitlines() if line.strip())


def test_the_job_materializes_every_asset_and_every_check_passes(built):
    result = built.result
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert {"raw/shop_orders", "marts/fct_orders", "marts/fct_order_lines", "marts/dim_customer"} <= materialized
    assert {"marts/dim_product", "landing/shop_orders", "reference/regions"} <= materialized
    checks = result.get_asset_check_evaluations()
    assert len(checks) > 30
    assert [c.check_name for c in checks if not c.passed] == []
    assert "gx_raw_shop_orders" in {c.check_name for c in checks}


def test_orders_reconcile_from_landed_files_to_raw_to_marts(built):
    with built.connect() as con:
        for table, mart in [("shop_orders", "fct_orders"), ("shop_order_lines", "fct_order_lines")]:
            landed = landed_rows(built.settings, table)
            raw = con.execute(f"select count(*) from raw.{table}").fetchone()[0]
            quarantined = con.execute(f"select count(*) from quarantine.{table}").fetchone()[0]
            facts = con.execute(f"select count(*) from marts.{mart}").fetchone()[0]
            assert landed > 100
            assert landed == raw + quarantined == facts + quarantined
        customers = con.execute("select count(*) from marts.dim_customer where is_current").fetchone()[0]
        contract = next(c for c in load_contracts() if c.raw_table == "crm_customers")
        landed_ids = {
            cid
            for f in landed_files(contract, built.settings.landing_dir)
            for cid in pacsv.read_csv(f).column("customer_id").to_pylist()
        }
        # The change feed holds several versions of a profile; the dimension one current row per customer.
        assert landed_rows(built.settings, "crm_customers") > customers == len(landed_ids)


def test_every_load_is_audited_and_reconciles(built):
    with built.connect() as con:
        rows = con.execute(
            "select source_entity, files_loaded, rows_in, rows_loaded, rows_quarantined, is_reconciled "
            "from governance.gov_load_reconciliation order by 1"
        ).fetchall()
        assert [r[0] for r in rows] == sorted(f"{c.source_system}.{c.entity}" for c in load_contracts())
        for _entity, files, rows_in, loaded, quarantined, reconciled in rows:
            assert files > 0 and rows_in == loaded + quarantined and reconciled


def test_marts_hold_no_personal_data_in_clear(built):
    with connect_with_vault(built.settings) as con:  # the warehouse and the vault
        # Raw holds tokens: the clear values are in the vault only.
        vault = "select clear_value from pii.crm_customers where pii_class = ?"
        emails = {r[0] for r in con.execute(vault, ["email"]).fetchall()}
        phones = {r[0] for r in con.execute(vault, ["phone"]).fetchall()}
        streets = {r[0] for r in con.execute(vault, ["address"]).fetchall()}
        assert emails and phones and streets
        columns = con.execute(
            "select table_name, column_name from information_schema.columns "
            "where table_schema = 'marts' and data_type = 'VARCHAR'"
        ).fetchall()
        assert columns
        for table, column in columns:
            values = {r[0] for r in con.execute(f'select distinct "{column}" from marts.{table}').fetchall()}
            values.discard(None)
            assert not values & (emails | phones | streets), f"marts.{table}.{column} holds PII"
            assert not any(EMAIL.fullmatch(v) or PHONE.fullmatch(v) for v in values), f"marts.{table}.{column}"
        names = {c for _t, c in columns}
        assert not names & {"email", "first_name", "last_name", "phone", "street_address", "birth_date"}


def test_rerunning_the_job_changes_nothing(built, tmp_path):
    """The whole job again on a copy of the built home: every landed file is skipped, every mart is identical.

    Determinism elsewhere: the same seed and scale land byte-identical extracts (test_generation), and an
    independent build from those extracts, every day but the last in one run and then the new day, gives
    these very marts (test_partitions)."""
    with built.connect() as con:
        expected = mart_checksums(con)
    assert all(count > 0 for count, _ in expected.values())

    shutil.copytree(built.settings.home, tmp_path / "again", symlinks=True)
    rerun = materialize(tmp_path / "again")
    assert rerun.result.success
    with rerun.connect() as con:
        assert mart_checksums(con) == expected
        statuses = con.execute(
            "select distinct status from governance.load_audit where run_id = ?", [rerun.result.run_id]
        ).fetchall()
        assert statuses == []  # unchanged files are skipped, not reloaded


def test_a_home_holding_another_world_is_refused(built, tmp_path):
    home = tmp_path / "home"
    shutil.copytree(built.settings.landing_dir, home / "landing")
    clash = materialize(home, seed=TEST_SEED + 5)
    assert not clash.result.success
    failure = next(e for e in clash.result.all_events if e.event_type_value == "STEP_FAILURE")
    assert "holds a world generated with" in failure.event_specific_data.error.cause.message


def test_the_published_warehouse_opens_read_only_in_the_duckdb_cli(built):
    cli = shutil.which("duckdb", path=str(__import__("pathlib").Path(sys.executable).parent))
    assert cli, "duckdb-cli is a dev dependency"
    out = subprocess.run(
        [
            cli,
            "-readonly",
            "-csv",
            "-noheader",
            str(built.settings.warehouse_path),
            "-c",
            "select count(*) > 0 from marts.fct_orders",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "true"


@pytest.mark.parametrize("read_only", [True])
def test_analysts_can_query_marts_from_python(built, read_only):
    with duckdb.connect(str(built.settings.warehouse_path), read_only=read_only) as con:
        top = con.execute(
            "select p.category_name, sum(l.line_amount) as revenue from marts.fct_order_lines as l "
            "join marts.dim_product as p using (product_id) group by 1 order by 2 desc limit 3"
        ).fetchall()
    assert len(top) == 3 and top[0][1] >= top[1][1] >= top[2][1] > 0
