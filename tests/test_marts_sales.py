"""Sales and fulfilment marts against the generator's ground truth and the landed extracts."""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd
import pyarrow.csv as pacsv
import pytest

from ingestion.contracts import load_contracts
from ingestion.raw_loader import landed_files

# The generator authorizes a payment 5-120 s after the order and draws the warehouse pick independently, so an
# order picked within two minutes of being placed can be picked before its payment is authorized.
AUTHORIZATION_LAG_MAX_SECONDS = 120


def _cents(value) -> int:  # noqa: ANN001 - Decimal, float or int from DuckDB
    return round(float(value or 0) * 100)


def _days_touched_by_dirt(built) -> set[dt.date]:
    """Order days whose orders or lines may differ from the truth: a dirty row (quarantined, duplicated with a
    conflict, or late) was landed in a partition up to three days after its order date."""
    dirty = pd.read_csv(built.settings.truth_dir / "dirty_rows.csv", dtype=str)
    dirty = dirty[dirty["entity"].isin(["shop_orders", "shop_order_lines"])]
    with built.connect() as con:
        quarantined = [
            r[0]
            for table in ("shop_orders", "shop_order_lines")
            for r in con.execute(f"select distinct _source_file from quarantine.{table}").fetchall()
        ]
    stamps = [*dirty["file"].dropna(), *dirty["true_date"].dropna(), *dirty["landed_partition"].dropna(), *quarantined]
    days: set[dt.date] = set()
    for stamp in stamps:
        if found := re.search(r"\d{4}-\d{2}-\d{2}", stamp):
            landed = dt.date.fromisoformat(found.group())
            days |= {landed - dt.timedelta(days=k) for k in range(4)}
    return days


def test_daily_revenue_units_and_orders_match_the_generator_truth(built):
    truth = pd.read_csv(built.settings.truth_dir / "orders_daily.csv", parse_dates=["order_date"])
    truth["order_date"] = truth["order_date"].dt.date
    with built.connect() as con:
        # revenue_cents in the truth is the sum of order subtotals (= line amounts), cancelled orders included;
        # agg_sales_daily leaves cancelled orders out, so they are added back from the order facts.
        orders = con.execute(
            """
            select order_date, count(*) as orders,
                   sum(case when is_cancelled then 1 else 0 end) as cancelled_orders,
                   sum(subtotal) as subtotal,
                   sum(case when is_cancelled then subtotal else 0 end) as cancelled_subtotal
            from marts.fct_orders group by order_date
            """
        ).df()
        cancelled_lines = con.execute(
            """
            select order_date, count(*) as cancelled_lines, sum(quantity) as cancelled_units
            from marts.fct_order_lines where is_cancelled group by order_date
            """
        ).df()
        agg = con.execute(
            """
            select order_date, sum(gross_revenue) as gross_revenue, sum(units) as units,
                   sum(order_lines) as order_lines
            from marts.agg_sales_daily group by order_date
            """
        ).df()
    marts = orders.merge(agg, on="order_date", how="outer").merge(cancelled_lines, on="order_date", how="left")
    marts["order_date"] = pd.to_datetime(marts["order_date"]).dt.date
    both = truth.merge(marts, on="order_date", how="outer", indicator=True)
    assert set(both["_merge"]) == {"both"}, "a day is in the truth or in the marts, not in both"

    dirty_days = _days_touched_by_dirt(built)
    clean = both[~both["order_date"].isin(dirty_days)].fillna(0)
    assert len(clean) > 0.5 * len(both)
    if not dirty_days:
        assert len(clean) == len(truth)
    for row in clean.itertuples():
        day = row.order_date
        assert row.orders_x == row.orders_y, f"{day}: orders"
        assert row.cancelled_orders_x == row.cancelled_orders_y, f"{day}: cancelled orders"
        assert _cents(row.subtotal) == row.revenue_cents, f"{day}: fct_orders subtotal"
        assert _cents(row.gross_revenue) + _cents(row.cancelled_subtotal) == row.revenue_cents, f"{day}: revenue"
        assert int(row.units_y) + int(row.cancelled_units) == row.units_x, f"{day}: units"
        assert int(row.order_lines) + int(row.cancelled_lines) == row.lines, f"{day}: lines"


@pytest.mark.parametrize(
    ("raw_table", "staging", "fact", "key"),
    [
        ("shop_payments", "stg_shop__payments", "fct_payments", "payment_id"),
        ("shop_shipments", "stg_shop__shipments", "fct_shipments", "shipment_id"),
        ("shop_returns", "stg_shop__returns", "fct_returns", "return_id"),
    ],
)
def test_no_row_is_lost_or_duplicated_from_landing_to_fact(built, raw_table, staging, fact, key):
    contract = next(c for c in load_contracts() if c.raw_table == raw_table)
    landed = [pacsv.read_csv(f).column(key).to_pylist() for f in landed_files(contract, built.settings.landing_dir)]
    landed_keys = {k for keys in landed for k in keys}
    with built.connect() as con:
        raw_rows, raw_keys = con.execute(f"select count(*), count(distinct {key}) from raw.{raw_table}").fetchone()
        quarantined = con.execute(f"select count(*) from quarantine.{raw_table}").fetchone()[0]
        staged = con.execute(f"select count(*), count(distinct {key}) from staging.{staging}").fetchone()
        fact_keys = [r[0] for r in con.execute(f"select {key} from marts.{fact}").fetchall()]
        raw_key_set = {r[0] for r in con.execute(f"select distinct {key} from raw.{raw_table}").fetchall()}
    assert len(landed_keys) > 10
    assert sum(len(k) for k in landed) == raw_rows + quarantined
    assert staged == (raw_keys, raw_keys)
    assert len(fact_keys) == len(set(fact_keys)) == raw_keys
    assert set(fact_keys) == raw_key_set
    # A key missing from the fact was landed, but every copy of it was quarantined.
    assert len(landed_keys - raw_key_set) <= quarantined


def test_a_shipment_shows_its_latest_export(built):
    with built.connect() as con:
        stale = con.execute(
            """
            with latest as (
                select shipment_id,
                       arg_max(
                           struct_pack(picked_at, packed_at, shipped_at, delivered_at), (_source_file, _source_line)
                       ) as m
                from raw.shop_shipments group by shipment_id
            )
            select count(*) from latest join marts.fct_shipments using (shipment_id)
            where fct_shipments.picked_at is distinct from latest.m.picked_at
               or fct_shipments.packed_at is distinct from latest.m.packed_at
               or fct_shipments.shipped_at is distinct from latest.m.shipped_at
               or fct_shipments.delivered_at is distinct from latest.m.delivered_at
            """
        ).fetchone()[0]
    assert stale == 0


def test_every_refund_is_at_most_its_line_amount(built):
    with built.connect() as con:
        returns, orphans, over = con.execute(
            """
            select count(*),
                   sum(case when l.order_line_id is null then 1 else 0 end),
                   sum(case when r.refund_amount > l.line_amount then 1 else 0 end)
            from marts.fct_returns as r
            left join marts.fct_order_lines as l using (order_line_id)
            """
        ).fetchone()
    assert returns > 0
    assert orphans == 0
    assert over == 0


def test_lifecycle_timestamps_are_ordered(built):
    steps = ["placed_at", "paid_at", "picked_at", "packed_at", "shipped_at", "delivered_at"]
    pairs = [
        *zip(steps, steps[1:], strict=False),
        ("placed_at", "picked_at"),
        ("delivered_at", "first_return_requested_at"),
    ]
    with built.connect() as con:
        lifecycle = con.execute("select * from intermediate.int_sales__order_lifecycle").df()
    assert lifecycle["paid_at"].notna().sum() > 0.9 * len(lifecycle)
    violations = {f"{a} > {b}": lifecycle[lifecycle[a] > lifecycle[b]] for a, b in pairs}
    paid_after_pick = violations.pop("paid_at > picked_at")
    assert {name: len(rows) for name, rows in violations.items()} == dict.fromkeys(violations, 0)
    # Known generator quirk (reported): pick and payment authorization are drawn independently.
    lag = (paid_after_pick["picked_at"] - paid_after_pick["placed_at"]).dt.total_seconds()
    assert (lag < AUTHORIZATION_LAG_MAX_SECONDS).all(), paid_after_pick[["order_id", "placed_at", "paid_at"]]
    assert len(paid_after_pick) <= 0.001 * len(lifecycle)


def test_lifecycle_stage_agrees_with_the_shops_order_status(built):
    extract_at = dt.datetime.combine(built.settings.end_date + dt.timedelta(days=1), dt.time())
    with built.connect() as con:
        rows = con.execute(
            """
            select order_id, order_status, lifecycle_stage, paid_at
            from intermediate.int_sales__order_lifecycle
            where not (
                order_status = lifecycle_stage
                or (order_status = 'delivered' and lifecycle_stage = 'returned')
            )
            """
        ).df()
        stages = dict(con.execute("select lifecycle_stage, count(*) from marts.fct_orders group by 1").fetchall())
    assert stages.get("delivered", 0) > 0 and stages.get("returned", 0) > 0 and stages.get("cancelled", 0) > 0
    # The only disagreement allowed: a payment exported with an authorization after the extract was taken
    # (the order still says 'placed'); see the report.
    assert ((rows["order_status"] == "placed") & (rows["paid_at"] >= extract_at)).all(), rows
