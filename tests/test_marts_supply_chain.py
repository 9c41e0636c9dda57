"""Supply-chain marts against the generator's planted truth: stockouts, snapshot reconciliation, supplier
disruptions, and an incremental one-day rebuild of fct_inventory_daily that must change nothing."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd

from futuremart.settings import DBT_PROJECT_DIR
from tests.conftest import BuiltWarehouse


def _truth(built: BuiltWarehouse, name: str) -> pd.DataFrame:
    return pd.read_csv(built.settings.home / "truth" / name)


def _truth_stockouts(built: BuiltWarehouse) -> set[tuple[str, str, str]]:
    truth = _truth(built, "stockouts.csv")
    return set(zip(truth["snapshot_date"], truth["warehouse_id"], truth["sku"], strict=True))


def test_stockout_days_equal_planted_stockouts(built: BuiltWarehouse) -> None:
    truth = _truth_stockouts(built)
    assert truth, "the generator planted no stockouts at this scale; the test would prove nothing"
    with built.connect() as con:
        daily = con.execute(
            "select cast(snapshot_date as varchar), warehouse_id, sku from marts.fct_inventory_daily where is_stockout"
        ).fetchall()
        windows = con.execute(
            "select warehouse_id, sku, start_date, end_date, stockout_days from marts.fct_stockouts"
        ).fetchall()
    assert set(daily) == truth
    assert len(daily) == len(truth)

    # The windows cover exactly the stockout days, each once, and consecutive days never form two windows.
    covered: list[tuple[str, str, str]] = []
    for warehouse, sku, start, end, days in windows:
        span = pd.date_range(start, end, freq="D")
        assert len(span) == days
        covered += [(d.date().isoformat(), warehouse, sku) for d in span]
    assert len(covered) == len(set(covered)) == sum(w[4] for w in windows)
    assert set(covered) == truth
    starts = {(w, s, pd.Timestamp(a)) for w, s, a, _, _ in windows}
    assert not any((w, s, pd.Timestamp(e) + pd.Timedelta(days=1)) in starts for w, s, _, e, _ in windows)


def test_inventory_daily_reconciles_with_raw_snapshots(built: BuiltWarehouse) -> None:
    with built.connect() as con:
        raw = con.execute("select count(*) from raw.inventory_stock_snapshots").fetchone()[0]
        # The latest load of each snapshot file: rows in = rows loaded into raw + rows quarantined.
        rows_in, quarantined = con.execute(
            "select sum(rows_in), sum(rows_quarantined) from ("
            "  select *, row_number() over (partition by file order by loaded_at desc) as recency"
            "  from governance.load_audit"
            "  where source_system = 'inventory' and entity = 'stock_snapshots' and status = 'loaded'"
            ") as audit where recency = 1"
        ).fetchone()
        rows, keys, ids = con.execute(
            "select count(*), count(distinct (snapshot_date, warehouse_id, sku)), count(distinct inventory_daily_id)"
            " from marts.fct_inventory_daily"
        ).fetchone()
        unmapped = con.execute(
            "select count(*) from marts.fct_inventory_daily where product_id is null or on_hand_units < 0"
        ).fetchone()[0]
        # Every unit sold on an order reaches exactly one warehouse (ship region -> warehouse).
        sold, ordered = con.execute(
            "select (select sum(units_sold) from marts.fct_inventory_daily),"
            " (select sum(l.quantity) from staging.stg_shop__order_lines as l"
            "  inner join staging.stg_shop__orders as o on l.order_id = o.order_id"
            "  where o.order_date in (select snapshot_date from marts.fct_inventory_daily))"
        ).fetchone()
    # Quarantined rows never reach raw: the fact holds every landed snapshot row except those.
    assert rows == rows_in - quarantined == raw
    assert rows == keys == ids
    assert unmapped == 0
    assert sold == ordered


def test_lead_times_are_longer_during_planted_disruptions(built: BuiltWarehouse) -> None:
    disruptions = _truth(built, "supplier_disruptions.csv")
    with built.connect() as con:
        orders = con.execute(
            "select supplier_id, ordered_on, lead_time_days from marts.fct_purchase_orders where is_received"
        ).df()
    orders["ordered_on"] = pd.to_datetime(orders["ordered_on"])
    orders["disrupted"] = False
    for row in disruptions.itertuples(index=False):
        inside = (
            (orders["supplier_id"] == row.supplier_id)
            & (orders["ordered_on"] >= pd.Timestamp(row.starts_on))
            & (orders["ordered_on"] <= pd.Timestamp(row.ends_on))
        )
        orders.loc[inside, "disrupted"] = True
    inside, outside = orders[orders["disrupted"]], orders[~orders["disrupted"]]
    assert len(inside) and len(outside), "no received purchase order fell inside a planted disruption"
    assert inside["lead_time_days"].mean() > outside["lead_time_days"].mean()

    # Per disrupted supplier: its own orders placed during the disruption wait longer than its others.
    compared = 0
    for supplier, group in orders[orders["supplier_id"].isin(disruptions["supplier_id"])].groupby("supplier_id"):
        during, other = group[group["disrupted"]], group[~group["disrupted"]]
        if len(during) and len(other):
            compared += 1
            assert during["lead_time_days"].mean() > other["lead_time_days"].mean(), supplier
    assert compared >= 1


def _fingerprint(path: Path) -> tuple[int, str]:
    with duckdb.connect(str(path), read_only=True) as con:
        count, digest = con.execute(
            "select count(*), coalesce(sum(hash(t)), 0)::varchar from marts.fct_inventory_daily as t"
        ).fetchone()
    return count, digest


def test_one_day_incremental_rerun_changes_nothing(built: BuiltWarehouse, tmp_path: Path) -> None:
    # Same file name: dbt-duckdb names the catalog after it and the compiled SQL refers to that catalog.
    warehouse = tmp_path / "copy" / built.settings.warehouse_path.name
    warehouse.parent.mkdir()
    shutil.copyfile(built.settings.warehouse_path, warehouse)
    before = _fingerprint(warehouse)
    with duckdb.connect(str(warehouse)) as con:
        first, last = con.execute(
            "select min(snapshot_date), max(snapshot_date) from marts.fct_inventory_daily"
        ).fetchone()
        # A day with a full 28-day history behind it, so its trailing demand reads days outside the window.
        day = min(last, first + pd.Timedelta(days=40)).isoformat()
        # Drop the day first: an identical table afterwards then shows the run rebuilt it, not skipped it.
        con.execute("delete from marts.fct_inventory_daily where snapshot_date = cast(? as date)", [day])
    assert _fingerprint(warehouse)[0] < before[0]
    env = {**os.environ, "FUTUREMART_WAREHOUSE_PATH": str(warehouse)}
    command = [
        str(Path(sys.executable).with_name("dbt")),
        "run",
        "--select",
        "fct_inventory_daily",
        "--vars",
        json.dumps({"min_date": day, "max_date": day}),
        "--profiles-dir",
        ".",
        "--target-path",
        str(tmp_path / "target"),
        "--log-path",
        str(tmp_path / "logs"),
    ]
    run = subprocess.run(command, cwd=DBT_PROJECT_DIR, env=env, capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "1 of 1 OK" in run.stdout
    assert _fingerprint(warehouse) == before
