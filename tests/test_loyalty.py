"""The loyalty programme: the ledger and member marts agree with the rules replayed here in Python, event by
event, from the orders and returns marts (an independent implementation of seeds/loyalty_rules.csv)."""

from __future__ import annotations

import csv
import datetime as dt
import math
from collections import defaultdict

import duckdb
import pandas as pd
import pytest

from futuremart.settings import SEEDS_DIR


def _rules() -> dict[str, float]:
    with (SEEDS_DIR / "loyalty_rules.csv").open() as f:
        return {row["rule_code"]: float(row["rule_value"]) for row in csv.DictReader(f)}


def _tiers() -> list[tuple[float, float, str]]:
    with (SEEDS_DIR / "loyalty_tiers.csv").open() as f:
        rows = [
            (float(r["min_qualifying_spend"]), float(r["earn_multiplier"]), r["tier_code"]) for r in csv.DictReader(f)
        ]
    return sorted(rows)


def _tier(spend: float, tiers: list[tuple[float, float, str]]) -> tuple[float, str]:
    held = [(mult, code) for floor_, mult, code in tiers if spend >= floor_]
    return held[-1]


def _quarter_end(day: dt.date) -> dt.date:
    first_of_next = dt.date(day.year + (day.month > 9), (((day.month - 1) // 3 + 1) * 3) % 12 + 1, 1)
    return first_of_next - dt.timedelta(days=1)


def replay_programme(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Per member: points earned, reversed, burned, expired and the balance, by the documented rules."""
    rules, tiers = _rules(), _tiers()
    orders = con.execute(
        "select order_id, customer_id, delivered_at, subtotal, coalesce(promo_discount, 0) as promo "
        "from marts.fct_orders where delivered_at is not null and not is_cancelled "
        "and customer_id not like 'ERASED-%'"
    ).df()
    returns = con.execute(
        "select return_id, order_id, received_at, refund_amount from marts.fct_returns where is_received"
    ).df()
    (as_of,) = con.execute("select max(order_date) from marts.fct_orders").fetchone()
    order_by_id = orders.set_index("order_id")
    events = defaultdict(list)
    for o in orders.itertuples():
        events[o.customer_id].append((o.delivered_at, "earn", o.order_id, None))
    for r in returns.itertuples():
        if r.order_id in order_by_id.index:
            events[order_by_id.at[r.order_id, "customer_id"]].append((r.received_at, "reverse", r.return_id, r))
    rows = []
    block, expiry_days = rules["burn_block_points"], int(rules["expiry_inactive_days"])
    for customer, evs in events.items():
        evs.sort(key=lambda e: (e[0], e[1], e[2]))
        spend, earned_by_order, dated = 0.0, {}, []
        for at, kind, source, ret in evs:
            if kind == "earn":
                o = order_by_id.loc[source]
                net = float(o.subtotal - o.promo)
                mult, _ = _tier(max(spend, 0.0), tiers)
                points = math.floor(net * rules["earn_points_per_currency_unit"] * mult + 1e-9)
                earned_by_order[source] = points
                spend += net
            else:
                subtotal = float(order_by_id.at[ret.order_id, "subtotal"])
                points = -math.floor(earned_by_order[ret.order_id] * float(ret.refund_amount) / subtotal + 1e-9)
                spend -= float(ret.refund_amount)
            dated.append((at.date(), kind, points))
        last_earn = max(d for d, kind, _ in dated if kind == "earn")
        expires_on = last_earn + dt.timedelta(days=expiry_days)
        expired_at = expires_on if expires_on <= as_of else None
        # Burn: at every quarter end that has passed (and precedes the expiry), whole blocks of the balance.
        burned, q = 0.0, _quarter_end(min(d for d, _, _ in dated))
        while q <= as_of and (expired_at is None or q < expired_at):
            balance = sum(p for d, _, p in dated if d <= q) - burned
            if balance >= block:
                burned += block * math.floor(balance / block)
            q = _quarter_end(q + dt.timedelta(days=1))
        expired = 0.0
        if expired_at is not None:
            expired = max(0.0, sum(p for d, _, p in dated if d <= expired_at) - burned)
        earned = sum(p for _, kind, p in dated if kind == "earn")
        reversed_ = -sum(p for _, kind, p in dated if kind == "reverse")
        rows.append(
            {
                "customer_id": customer,
                "points_earned": earned,
                "points_reversed": reversed_,
                "points_burned": burned,
                "points_expired": expired,
                "points_balance": earned - reversed_ - burned - expired,
                "tier_code": _tier(max(spend, 0), tiers)[1],
            }
        )
    return pd.DataFrame(rows).set_index("customer_id").sort_index()


@pytest.fixture(scope="module")
def members(built) -> pd.DataFrame:
    with built.connect() as con:
        return con.execute("select * from marts.dim_loyalty_member order by customer_id").df().set_index("customer_id")


def test_ledger_reconciles_with_orders_and_returns(built, members) -> None:
    with built.connect() as con:
        expected = replay_programme(con)
        ledger = con.execute(
            "select customer_id, event_type, sum(points) as points, count(*) as n from marts.fct_loyalty_points_ledger "
            "group by all"
        ).df()
    assert len(expected) > 100, "too few members to exercise the rules"
    # Every rule fires in the small world, or the comparison would not test it.
    assert set(ledger["event_type"]) == {"earn", "reverse", "burn", "expiry"}
    assert list(members.index) == list(expected.index)
    columns = ["points_earned", "points_reversed", "points_burned", "points_expired", "points_balance"]
    pd.testing.assert_frame_equal(members[columns].astype("int64"), expected[columns].astype("int64"))
    assert (members["tier_code"] == expected["tier_code"]).all()
    by_type = ledger.pivot_table(index="customer_id", columns="event_type", values="points", aggfunc="sum").fillna(0)
    assert (by_type.sum(axis=1).reindex(members.index) == members["points_balance"]).all()


def test_ledger_balance_runs_in_time_order(built) -> None:
    with built.connect() as con:
        mismatched = con.execute(
            """
            select count(*) from (
                select balance_after, sum(points) over (
                    partition by customer_id order by event_at, case event_type when 'earn' then 1
                    when 'reverse' then 2 when 'burn' then 3 else 4 end, ledger_entry_id
                ) as running
                from marts.fct_loyalty_points_ledger
            ) where balance_after != running
            """
        ).fetchone()[0]
        last = con.execute(
            "select customer_id, arg_max(balance_after, event_at) from marts.fct_loyalty_points_ledger group by 1"
        ).df()
    assert mismatched == 0
    assert len(last) > 0


def test_marketing_copy_holds_the_loyalty_marts(built, members) -> None:
    path = built.settings.published_dir / "marketing.duckdb"
    with duckdb.connect(str(path), read_only=True) as con:
        (n,) = con.execute("select count(*) from marts.dim_loyalty_member").fetchone()
        (ledger_rows,) = con.execute("select count(*) from marts.fct_loyalty_points_ledger").fetchone()
    assert n == len(members)
    assert ledger_rows >= n
