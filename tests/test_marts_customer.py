"""Customer marts against the CRM change feed they are built from: SCD2 history, lifetime metrics, reviews."""

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from ingestion.contracts import get_contract
from ingestion.raw_loader import landed_files


def landed_table(settings, system: str, entity: str) -> pa.Table:
    contract = get_contract(system, entity)
    files = landed_files(contract, settings.landing_dir)
    return pa.concat_tables(
        [pacsv.read_csv(f, convert_options=pacsv.ConvertOptions(strings_can_be_null=True)) for f in files],
        promote_options="permissive",
    )


def test_scd2_history_matches_the_change_feed(built):
    feed = landed_table(built.settings, "crm", "customers")
    expected = {}
    for cid, updated in zip(feed.column("customer_id").to_pylist(), feed.column("updated_at").to_pylist(), strict=True):
        expected.setdefault(cid, set()).add(str(updated))
    with built.connect() as con:
        quarantined = con.execute("select count(*) from quarantine.crm_customers").fetchone()[0]
        rows = con.execute(
            "select customer_id, cast(valid_from as varchar), cast(valid_to as varchar), is_current, version_number "
            "from marts.dim_customer order by customer_id, valid_from"
        ).fetchall()
    assert quarantined == 0  # dirt is off in the session warehouse: every feed row is a version
    history = {}
    for cid, valid_from, valid_to, is_current, version in rows:
        history.setdefault(cid, []).append((valid_from, valid_to, is_current, version))
    assert history.keys() == expected.keys()
    multi_version = 0
    for cid, versions in history.items():
        # One version per change-feed record, in time order, numbered 1..n.
        assert {v[0] for v in versions} == {s.replace("T", " ") for s in expected[cid]}, cid
        assert [v[3] for v in versions] == list(range(1, len(versions) + 1))
        # Intervals chain without gaps or overlaps and exactly the last one is current and open.
        for (_, valid_to, is_current, _), (next_from, *_) in zip(versions, versions[1:], strict=False):
            assert valid_to == next_from and not is_current
        assert versions[-1][1] is None and versions[-1][2]
        multi_version += len(versions) > 1
    assert multi_version > len(history) * 0.2, "the feed should change a good share of profiles"


def test_current_profile_is_the_latest_feed_record(built):
    feed = landed_table(built.settings, "crm", "customers")
    latest = {}
    for row in feed.select(["customer_id", "updated_at", "city", "loyalty_tier"]).to_pylist():
        if row["customer_id"] not in latest or row["updated_at"] > latest[row["customer_id"]]["updated_at"]:
            latest[row["customer_id"]] = row
    with built.connect() as con:
        current = con.execute(
            "select customer_id, city, loyalty_tier from marts.dim_customer where is_current"
        ).fetchall()
    assert {c: (city, tier) for c, city, tier in current} == {
        c: (r["city"], r["loyalty_tier"]) for c, r in latest.items()
    }


def test_lifetime_metrics_add_up_to_the_order_facts(built):
    with built.connect() as con:
        per_customer = con.execute(
            """
            select count(*), sum(order_count), sum(net_revenue),
                   sum(case when order_count = 0 then 1 else 0 end)
            from marts.fct_customer_lifetime
            """
        ).fetchone()
        facts = con.execute(
            "select count(*), sum(subtotal - promo_discount), count(distinct customer_id) "
            "from marts.fct_orders where not is_cancelled"
        ).fetchone()
        customers = con.execute("select count(*) from marts.dim_customer where is_current").fetchone()[0]
        scores = con.execute(
            "select min(recency_score), max(recency_score), count(distinct rfm_segment) "
            "from marts.fct_customer_lifetime where order_count > 0"
        ).fetchone()
    customers_rfm, orders, revenue, never = per_customer
    assert customers_rfm == customers
    assert orders == facts[0] and revenue == facts[1]
    assert customers - never == facts[2]
    assert scores[:2] == (1, 5) and scores[2] >= 4


def test_reviews_reconcile_and_carry_no_text(built):
    reviews = landed_table(built.settings, "crm", "reviews")
    with built.connect() as con:
        mart = con.execute("select count(*), avg(rating) from marts.fct_reviews").fetchone()
        columns = {r[0] for r in con.execute("describe marts.fct_reviews").fetchall()}
    assert mart[0] == reviews.num_rows > 0
    assert abs(mart[1] - pc.mean(reviews.column("rating")).as_py()) < 1e-9
    assert not columns & {"review_body", "body", "review_title", "title"}
