"""Dirt in the extracts is planted, listed in the truth, and caught by the loader: every malformed,
missing-required or conflicting-duplicate row is quarantined with its reason, exact duplicates load once,
late rows load, no clean row is quarantined; a file with an added column loads and reports it, a file with a
renamed required column is rejected with a message naming the file, the column and the contract."""

from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pytest

from futuremart.settings import Settings
from ingestion.contracts import get_contract
from ingestion.dirt import DIRTY_ENTITIES
from ingestion.landing import land_world
from ingestion.raw_loader import AUDIT_TABLE, SchemaContractError, load_entity, rejected_marker
from ingestion.world import generate_world
from orchestration.definitions import build_definitions
from orchestration.partitions import full_range_tags
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
            f"select status, columns_added, message, rows_loaded + rows_quarantined from {AUDIT_TABLE} where file = ?",
            [change.file],
        ).fetchone()
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
            # The file stays in landing, marked with the reason beside it.
            marker = rejected_marker(dirty_home / "landing" / change.file)
            assert (dirty_home / "landing" / change.file).exists() and change.file in marker.read_text()
    assert set(errors) == set(changes.loc[changes["kind"] == "renamed_column", "entity"])


def test_the_pipeline_loads_dirty_extracts_reports_a_rejected_file_as_a_warning_and_reconciles(dirty_home, loaded):
    """Through Dagster, a file failing its contract fails that file, not the run: the raw asset materializes
    the other files, its contract check warns naming the file, and every load reconciles."""
    settings = Settings(home=dirty_home, scale_factor=0.05, seed=11, dirt_rate=0.02)
    resource = FutureMartResource(home=str(dirty_home), seed=11, scale_factor=0.05, dirt_rate=0.02)
    keys = [dg.AssetKey(["raw", get_contract(*entity).raw_table]) for entity in sorted(DIRTY_ENTITIES)]
    result = (
        build_definitions(resource)
        .resolve_job_def("materialize_everything")
        .execute_in_process(
            instance=dg.DagsterInstance.ephemeral(),
            asset_selection=keys,
            raise_on_error=False,
            tags=full_range_tags(settings),
        )
    )
    assert result.success
    evaluations = {(e.asset_key, e.check_name): e for e in result.get_asset_check_evaluations()}
    renamed = pd.read_csv(dirty_home / "truth" / "schema_changes.csv").query("kind == 'renamed_column'")
    for key in keys:
        assert evaluations[(key, "load_reconciles")].passed, key
        conform = evaluations[(key, "files_conform_to_contract")]
        expected = renamed[renamed["entity"] == key.path[-1]]
        assert conform.passed == expected.empty, key
        if not expected.empty:
            assert conform.severity == dg.AssetCheckSeverity.WARN
            assert expected["file"].iloc[0] in conform.metadata["messages"].value


def test_no_dirt_by_default():
    assert Settings.from_env({}).dirt_rate == 0.0
