"""Dirt in the extracts is planted, listed in the truth, and caught by the loader: every malformed,
missing-required or conflicting-duplicate row is quarantined with its reason, exact duplicates load once,
late rows load, no clean row is quarantined; a file with an added column loads and reports it, a file with a
renamed required column is rejected with a message naming the file, the column and the contract."""

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pytest

from futuremart.settings import DBT_PROJECT_DIR, DEFAULT_DIRT_RATE, Settings
from ingestion.contracts import get_contract
from ingestion.dirt import DIRTY_ENTITIES
from ingestion.landing import land_world
from ingestion.raw_loader import AUDIT_TABLE, SchemaContractError, load_entity, rejected_marker
from ingestion.world import generate_world
from orchestration.definitions import build_definitions
from orchestration.defs.dbt import window_env
from orchestration.partitions import full_range_tags, range_tags
from orchestration.resources import FutureMartResource

REASON_OF_KIND = {
    "malformed_value": "malformed",
    "missing_required": "missing_required",
    "conflicting_duplicate": "duplicate_key_conflict",
    "exact_duplicate": "duplicate_exact",
}


@pytest.fixture(scope="module")
def dirty_home(tmp_path_factory) -> Path:
    settings = Settings(home=tmp_path_factory.mktemp("dirty"), scale_factor=0.05, seed=11, dirt_rate=0.02)
    land_world(generate_world(settings), settings)
    return settings.home


@pytest.fixture(scope="module")
def loaded(dirty_home):
    """Every dirty entity loaded into one in-memory warehouse; the schema errors raised, by raw table."""
    con = duckdb.connect()
    results, errors = {}, {}
    for system, entity in sorted(DIRTY_ENTITIES):
        contract = get_contract(system, entity)
        try:
            results[contract.raw_table] = load_entity(con, contract, dirty_home / "landing")
        except SchemaContractError as err:
            errors[contract.raw_table] = str(err)
    yield con, results, errors
    con.close()


def test_every_dirty_row_is_listed_and_caught_and_no_clean_row_is_quarantined(dirty_home, loaded):
    con, _, _ = loaded
    truth = pd.read_csv(dirty_home / "truth" / "dirty_rows.csv")
    assert set(truth["kind"]) == {*REASON_OF_KIND, "late_arriving"}
    # Every record of a file rejected for a renamed column is held back too (graded by the schema truth).
    renamed = pd.read_csv(dirty_home / "truth" / "schema_changes.csv").query("kind == 'renamed_column'")
    for system, entity in sorted(DIRTY_ENTITIES):
        contract = get_contract(system, entity)
        quarantined = {
            (f, line): reason
            for f, line, reason in con.execute(
                f"select _source_file, _source_line, reason from quarantine.{contract.raw_table}"
            ).fetchall()
        }
        rows = truth[(truth["entity"] == contract.raw_table) & truth["line"].notna()]
        assert set(rows["kind"]) == set(REASON_OF_KIND), contract.raw_table  # every kind planted everywhere
        expected = {(r.file, int(r.line)): REASON_OF_KIND[r.kind] for r in rows.itertuples()}
        for change in renamed[renamed["entity"] == contract.raw_table].itertuples():
            expected |= {(change.file, line): "file_rejected" for line in range(2, change.rows + 2)}
        assert set(quarantined) == set(expected), contract.raw_table  # precision and recall
        for position, reason_prefix in expected.items():
            assert quarantined[position].startswith(reason_prefix), (position, quarantined[position])


def test_clickstream_dirt_is_caught_in_the_gzipped_ndjson(dirty_home, loaded):
    con, results, _ = loaded
    truth = pd.read_csv(dirty_home / "truth" / "dirty_rows.csv")
    planted = truth[truth["entity"] == "shop_clickstream"]
    assert set(planted["kind"]) == set(REASON_OF_KIND)
    assert planted["file"].str.endswith(".ndjson.gz").all()
    load = results["shop_clickstream"]
    # One quarantined line per planted line (both copies of a conflict are planted lines; of an exact
    # duplicate, only the copy).
    assert load.total("rows_quarantined") == len(planted)
    assert load.total("rows_in") == load.total("rows_loaded") + load.total("rows_quarantined")


def test_exact_duplicates_load_once(dirty_home, loaded):
    con, _, _ = loaded
    truth = pd.read_csv(dirty_home / "truth" / "dirty_rows.csv")
    copies = truth[(truth["kind"] == "exact_duplicate") & (truth["entity"] == "shop_orders")]
    assert len(copies)
    counts = dict(
        con.execute(
            "select order_id, count(*) from raw.shop_orders where order_id in (select unnest(?)) group by 1",
            [list(copies["key"])],
        ).fetchall()
    )
    assert counts == {key: 1 for key in copies["key"]}


def test_late_rows_load_under_their_own_date_from_a_later_partition_and_are_counted(dirty_home, loaded):
    con, results, _ = loaded
    truth = pd.read_csv(dirty_home / "truth" / "dirty_rows.csv")
    late = truth[(truth["kind"] == "late_arriving") & (truth["entity"] == "shop_orders")]
    assert len(late)
    loaded_rows = con.execute(
        "select order_id, cast(ordered_at as date)::varchar, _source_file from raw.shop_orders "
        "where order_id in (select unnest(?))",
        [list(late["key"])],
    ).fetchall()
    # Every late row is loaded (a late row that is also dirty may be quarantined instead, in its late file).
    quarantined_keys = {
        k
        for (k,) in con.execute(
            "select json_extract_string(record, '$.order_id') from quarantine.shop_orders"
        ).fetchall()
    }
    assert {r[0] for r in loaded_rows} | (set(late["key"]) & quarantined_keys) == set(late["key"])
    for order_id, day, source_file in loaded_rows:
        row = late[late["key"] == order_id].iloc[0]
        assert day == row["true_date"] and f"dt={row['landed_partition']}" in source_file
    # The audit counts them with the file where they landed.
    audited = dict(con.execute(f"select file, rows_loaded from {AUDIT_TABLE} where entity = 'orders'").fetchall())
    files = dict(con.execute("select _source_file, count(*) from raw.shop_orders group by 1").fetchall())
    for _, _, source_file in loaded_rows:
        assert audited[source_file] == files[source_file]


def test_schema_changes_are_listed_and_the_loader_reports_added_and_rejects_renamed_columns(dirty_home, loaded):
    con, results, errors = loaded
    changes = pd.read_csv(dirty_home / "truth" / "schema_changes.csv")
    assert (changes["kind"] == "added_column").sum() >= 1 and (changes["kind"] == "renamed_column").sum() == 1
    assert changes["file"].is_unique
    for change in changes.itertuples():
        contract = get_contract(*change.file.split("/")[:2])
        header = (dirty_home / "landing" / change.file).read_text().splitlines()[0].split(",")
        audit = con.execute(
            f"select status, columns_added, message, rows_loaded + rows_quarantined, rows_in from {AUDIT_TABLE} "
            "where file = ?",
            [change.file],
        ).fetchone()
        assert audit[3] == audit[4] == change.rows  # both kinds reconcile
        if change.kind == "added_column":
            assert header[-1] == change.column
            assert audit[0] == "loaded" and audit[1] == change.column and audit[3] == change.rows
            loaded_values = con.execute(
                f'select count("{change.column}") from raw.{contract.raw_table} where _source_file = ?',
                [change.file],
            ).fetchone()[0]
            assert loaded_values > 0
        else:
            assert change.column not in header and change.new_name in header
            assert audit[0] == "rejected"
            message = errors[contract.raw_table]
            assert change.file in message and change.column in message
            assert f"{contract.source_system}.yml" in message
            # The rest of the entity still loaded, and nothing of the rejected file did.
            others = con.execute(
                f"select count(*), count(*) filter (where _source_file = ?) from raw.{contract.raw_table}",
                [change.file],
            ).fetchone()
            assert others[0] > 0 and others[1] == 0
            # Its records are all in quarantine for that one reason, the renamed column's values not among them.
            held = con.execute(
                f"select count(*), count(*) filter (where reason like 'file_rejected: %'), "
                f"count(*) filter (where record like '%{change.new_name}%') "
                f"from quarantine.{contract.raw_table} where _source_file = ?",
                [change.file],
            ).fetchone()
            assert held == (change.rows, change.rows, 0)
            # The file stays in landing, marked with the reason beside it.
            marker = rejected_marker(dirty_home / "landing" / change.file)
            assert (dirty_home / "landing" / change.file).exists() and change.file in marker.read_text()
    assert set(errors) == set(changes.loc[changes["kind"] == "renamed_column", "entity"])


@pytest.fixture(scope="module")
def dirty_run(dirty_home) -> dg.ExecuteInProcessResult:
    """The dirty world through Dagster: every raw load with its blocking checks (contract, reconciliation,
    Great Expectations) and the whole dbt project, each dbt test an asset check. Left to the session
    warehouse: what reads only the marts (models, reports, role copies, quality scores) and the marts'
    non-blocking Great Expectations suites."""
    resource = FutureMartResource(home=str(dirty_home), seed=11, scale_factor=0.05, dirt_rate=0.02)
    defs = build_definitions(resource)
    mart_suites = [key for checks in defs.asset_checks for key in checks.check_keys if key.name.startswith("gx_marts_")]
    selection = (
        dg.AssetSelection.groups("raw", "reference", "staging", "intermediate", "marts", "governance")
        - dg.AssetSelection.keys(dg.AssetKey(["governance", "data_quality_scores"]))
        - dg.AssetSelection.checks(*mart_suites)
    )
    job = dg.define_asset_job("dirty_raw_and_dbt", selection=selection)
    return (
        dg.Definitions.merge(defs, dg.Definitions(jobs=[job]))
        .resolve_job_def("dirty_raw_and_dbt")
        .execute_in_process(
            instance=dg.DagsterInstance.ephemeral(), raise_on_error=False, tags=full_range_tags(resource.settings)
        )
    )


def test_the_pipeline_loads_dirty_extracts_reports_a_rejected_file_as_a_warning_and_reconciles(dirty_home, dirty_run):
    """Through Dagster, a file failing its contract fails that file, not the run: the raw asset materializes
    the other files, its contract check warns naming the file, and every load reconciles."""
    assert dirty_run.success
    evaluations = {(e.asset_key, e.check_name): e for e in dirty_run.get_asset_check_evaluations()}
    renamed = pd.read_csv(dirty_home / "truth" / "schema_changes.csv").query("kind == 'renamed_column'")
    keys = [dg.AssetKey(["raw", get_contract(*entity).raw_table]) for entity in sorted(DIRTY_ENTITIES)]
    for key in keys:
        assert evaluations[(key, "load_reconciles")].passed, key
        conform = evaluations[(key, "files_conform_to_contract")]
        expected = renamed[renamed["entity"] == key.path[-1]]
        assert conform.passed == expected.empty, key
        if not expected.empty:
            assert conform.severity == dg.AssetCheckSeverity.WARN
            assert expected["file"].iloc[0] in conform.metadata["messages"].value


def test_every_dbt_test_and_blocking_check_passes_on_dirty_data_with_each_orphan_explained(dirty_home, dirty_run):
    """Dirt reaches dbt: children of quarantined or rejected records are orphans that the *_or_quarantined
    tests explain by the quarantine; every dbt test and every error check passes; only the rejected file's
    contract check warns."""
    evaluations = dirty_run.get_asset_check_evaluations()
    failed = {(e.asset_key.to_user_string(), e.check_name): e.severity for e in evaluations if not e.passed}
    rejected_entity = pd.read_csv(dirty_home / "truth" / "schema_changes.csv").query("kind == 'renamed_column'")
    assert (f"raw/{rejected_entity['entity'].iloc[0]}", "files_conform_to_contract") in failed
    # The rejected file's warning only: no dbt test, no other check.
    assert list(failed.values()) == [dg.AssetCheckSeverity.WARN], failed
    names = {e.check_name for e in evaluations}
    for prefix in (
        "relationships_or_quarantined_fct_payments",
        "relationships_or_quarantined_fct_orders",
        "relationships_or_quarantined_fct_returns",
        "expression_is_true_or_quarantined_fct_orders",
        "not_null_or_quarantined_fct_returns",
    ):
        assert any(name.startswith(prefix) for name in names), prefix
    # The exceptions are real, and each is explained by a key held in quarantine.
    settings = Settings(home=dirty_home, scale_factor=0.05, seed=11, dirt_rate=0.02)
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        held_orders = "select json_extract_string(record, '$.order_id') from quarantine.shop_orders"
        held_lines = "select json_extract_string(record, '$.order_id') from quarantine.shop_order_lines"
        orphans = con.execute(
            "select count(*), count(*) filter (where order_id in (" + held_orders + ")) "
            "from marts.fct_payments anti join marts.fct_orders using (order_id)"
        ).fetchone()
        short = con.execute(
            "select count(*), count(*) filter (where order_id in (" + held_lines + ")) "
            "from marts.fct_orders where subtotal != lines_amount"
        ).fetchone()
    assert orphans[0] > 0 and orphans[0] == orphans[1]
    assert short[0] > 0 and short[0] == short[1]


def _dbt_test_failures(settings: Settings, warehouse: Path, select: str, target: Path, window: dict[str, str]) -> int:
    """Rows the selected dbt tests return on ``warehouse`` (dbt's failure count), for a run whose window
    reaches dbt as Dagster passes it (``window_env``: environment variables, not vars)."""
    args = [str(Path(sys.executable).with_name("dbt")), "test", "--select", select, "--profiles-dir", "."]
    args += ["--target-path", str(target)]
    env = {**os.environ, **settings.dbt_env(), "FUTUREMART_WAREHOUSE_PATH": str(warehouse), **window}
    proc = subprocess.run(args, cwd=DBT_PROJECT_DIR, env=env, capture_output=True, text=True)
    results = json.loads((target / "run_results.json").read_text())["results"]
    assert results, proc.stdout[-2000:]
    return sum(r["failures"] or 0 for r in results)


def test_an_unexplained_orphan_fails_and_a_parent_still_to_arrive_waits(dirty_home, dirty_run, tmp_path):
    """On a copy of the dirty warehouse: a payment of an order that exists nowhere fails the relationship
    test; a real late-arriving order, removed as if its partition had not landed yet, is not judged by a run
    that stops before it lands (max_date)."""
    settings = Settings(home=dirty_home, scale_factor=0.05, seed=11, dirt_rate=0.02)
    copy = tmp_path / settings.warehouse_path.name  # same name: dbt's views refer to their catalog by name
    shutil.copy(settings.warehouse_path, copy)
    late = pd.read_csv(dirty_home / "truth" / "dirty_rows.csv", dtype=str).query(
        "kind == 'late_arriving' and entity == 'shop_orders'"
    )
    with duckdb.connect(str(copy)) as con:
        # A late order paid before it landed (payment and order land apart).
        order_id, landed = con.execute(
            "select p.order_id, l.landed from marts.fct_payments as p "
            "join (select unnest(?) as order_id, cast(unnest(?) as date) as landed) as l using (order_id) "
            "where p.authorized_date < l.landed and p.order_id in (select order_id from marts.fct_orders) "
            "order by l.landed desc, 1 limit 1",
            [list(late["key"]), list(late["landed_partition"])],
        ).fetchone()
        con.execute("delete from marts.fct_orders where order_id = ?", [order_id])
        con.execute(
            "insert into marts.fct_payments select * replace ('NO-SUCH-ORDER' as order_id) from marts.fct_payments "
            "where authorized_date < cast(? as date) - interval 10 day limit 1",
            [landed],
        )
    # A run stopping the day before the order lands: only the payment of the order that exists nowhere fails
    # (it is older than the late-arrival window). The full build over every day judged the late order's
    # payment with its parent present (dirty_run).
    day_before = landed - dt.timedelta(days=1)
    failures = _dbt_test_failures(
        settings,
        copy,
        "fct_payments,test_name:relationships_or_quarantined",
        tmp_path / "target",
        window_env(range_tags(day_before, day_before)),
    )
    assert failures == 1


def test_dirt_is_on_and_small_by_default():
    assert 0 < Settings.from_env({}).dirt_rate == Settings().dirt_rate == DEFAULT_DIRT_RATE <= 0.005
    assert Settings.from_env({"FUTUREMART_DIRT_RATE": "0"}).dirt_rate == 0.0
