"""Dirt in the extracts is planted, listed in the truth, and caught by the loader: every malformed,
missing-required or conflicting-duplicate row is quarantined with its reason, exact duplicates load once,
late rows load, and no clean row is quarantined."""

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from futuremart.settings import Settings
from ingestion.contracts import get_contract
from ingestion.dirt import DIRTY_ENTITIES
from ingestion.landing import land_world
from ingestion.raw_loader import load_entity
from ingestion.world import generate_world

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


def test_every_dirty_row_is_listed_and_caught_and_no_clean_row_is_quarantined(dirty_home):
    truth = pd.read_csv(dirty_home / "truth" / "dirty_rows.csv")
    assert set(truth["kind"]) == {*REASON_OF_KIND, "late_arriving"}
    con = duckdb.connect()
    for system, entity in sorted(DIRTY_ENTITIES):
        contract = get_contract(system, entity)
        result = load_entity(con, contract, dirty_home / "landing")
        assert result.total("rows_in") == result.total("rows_loaded") + result.total("rows_quarantined")
        quarantined = {
            (f, line): reason
            for f, line, reason in con.execute(
                f"select _source_file, _source_line, reason from quarantine.{contract.raw_table}"
            ).fetchall()
        }
        rows = truth[(truth["entity"] == contract.raw_table) & truth["line"].notna()]
        expected = {(r.file, int(r.line)): REASON_OF_KIND[r.kind] for r in rows.itertuples()}
        assert set(quarantined) == set(expected), contract.raw_table  # precision and recall
        for position, reason_prefix in expected.items():
            assert quarantined[position].startswith(reason_prefix), (position, quarantined[position])
    # Late rows are loaded, under their own business date, from a later partition.
    late = truth[(truth["kind"] == "late_arriving") & (truth["entity"] == "shop_orders")]
    assert len(late)
    loaded = con.execute(
        "select order_id, cast(ordered_at as date)::varchar, _source_file from raw.shop_orders where order_id in "
        f"({', '.join(repr(k) for k in late['key'])})"
    ).fetchall()
    for order_id, day, source_file in loaded:
        row = late[late["key"] == order_id].iloc[0]
        assert day == row["true_date"] and f"dt={row['landed_partition']}" in source_file


def test_no_dirt_by_default():
    assert Settings.from_env({}).dirt_rate == 0.0
