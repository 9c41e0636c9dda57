"""Recover the planted effects from the landed extracts with simple estimators, at scale factor 1.

The world is generated and landed once for the module (about 20 s); every estimate reads the extracts
through DuckDB, the way an analyst would, and is compared with the files in truth/.
"""

import json
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from futuremart.settings import Settings
from ingestion.landing import land_world
from ingestion.truth import write_truth
from ingestion.world import generate_world


@pytest.fixture(scope="module")
def world_home(tmp_path_factory) -> Path:
    # Clean extracts: the estimators read them as the generator wrote them (dirt is graded in test_dirt.py).
    settings = Settings(home=tmp_path_factory.mktemp("world_sf1"), scale_factor=1.0, seed=42, dirt_rate=0.0)
    world = generate_world(settings)
    land_world(world, settings)
    write_truth(world, settings)
    return settings.home


@pytest.fixture(scope="module")
def con(world_home):
    connection = duckdb.connect()
    landing = world_home / "landing"
    csv_views = {
        "orders": "shop/orders",
        "weather": "external/weather",
        "price_changes": "pim/price_changes",
        "logins": "security/login_events",
        "data_access": "security/data_access_events",
        "reviews": "crm/reviews",
        "audiences": "marketing/campaign_audiences",
        "campaigns": "marketing/campaigns",
        "promotions": "marketing/promotions",
    }
    for view, folder in csv_views.items():
        connection.execute(
            f"create view {view} as select * from read_csv('{landing}/{folder}/*/*.csv', hive_partitioning=false)"
        )
    connection.execute(
        f"""
        create view lines as select l.*, cast(o.ordered_at as date) as order_date, o.customer_id, o.ship_region
            from read_csv('{landing}/shop/order_lines/*/*.csv', hive_partitioning=false) as l
            join orders as o using (order_id);
        create view snapshots as
            select * from read_parquet('{landing}/inventory/stock_snapshots/*/*.parquet', hive_partitioning=false);
        create view clickstream as
            select * from read_json('{landing}/shop/clickstream/*/*.ndjson.gz', format = 'newline_delimited',
                                    hive_partitioning = false, columns = {{
                                        event_id: 'varchar', session_id: 'varchar', customer_id: 'varchar',
                                        event_type: 'varchar', event_at: 'timestamp', channel: 'varchar',
                                        product_id: 'varchar', order_id: 'varchar'}});
        create view support as
            select * from read_json('{landing}/crm/support_conversations/*/*.jsonl', hive_partitioning=false);
        """
    )
    catalog = json.loads((landing / "pim" / "catalog" / "dt=2024-01-01" / "catalog.json").read_text())
    products = pd.DataFrame(
        [(p["product_id"], p["category_id"], p["supplier_id"]) for p in catalog["products"]],
        columns=["product_id", "category_id", "supplier_id"],
    )
    connection.register("products", products)
    yield connection
    connection.close()


def truth(world_home: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(world_home / "truth" / name)


def daily_prices(con, products: pd.DataFrame, days: pd.DatetimeIndex) -> tuple[np.ndarray, np.ndarray]:
    """Web price per product and day rebuilt from the price-change feed and the promotions extract;
    returns (log(price / first price), product categories)."""
    index = {p: i for i, p in enumerate(products["product_id"])}
    n, d = len(products), len(days)
    list_price = np.full((n, d), np.nan)
    for pid, start, price in con.execute(
        "select product_id, effective_from, list_price from price_changes order by 1, 2"
    ).fetchall():
        list_price[index[pid], (pd.Timestamp(start) - days[0]).days :] = float(price)
    discount = np.zeros((n, d))
    cats = products["category_id"].to_numpy()
    for scope, cat, pid, start, end, pct in con.execute(
        "select scope, category_id, product_id, starts_on, ends_on, discount_pct from promotions"
    ).fetchall():
        a, b = (pd.Timestamp(start) - days[0]).days, (pd.Timestamp(end) - days[0]).days + 1
        rows = [index[pid]] if scope == "markdown" else (cats == cat) if scope == "category_sale" else slice(None)
        discount[rows, a:b] = np.maximum(discount[rows, a:b], pct)
    return np.log(list_price * (1 - discount) / list_price[:, :1]), cats


def poisson_fe_elasticity(y: np.ndarray, x: np.ndarray, keep: np.ndarray, iterations: int = 60) -> float:
    """log E[y_pt] = a_p + b_t + e * x_pt: Poisson regression with product and day effects (alternating
    updates for the effects, a Newton step for e)."""
    e, b = -1.0, np.ones(y.shape[1])
    for _ in range(iterations):
        g = np.exp(e * x)
        a = (keep * y).sum(1) / np.maximum((keep * b[None, :] * g).sum(1), 1e-12)
        b = (keep * y).sum(0) / np.maximum((keep * a[:, None] * g).sum(0), 1e-12)
        mu = a[:, None] * b[None, :] * g
        e += (keep * x * (y - mu)).sum() / (keep * x**2 * mu).sum()
    return float(e)


def test_price_elasticity_per_category_is_recovered_within_15_percent(con, world_home):
    days = pd.date_range("2024-01-01", "2024-12-31")
    products = con.execute("select * from products").df()
    x, cats = daily_prices(con, products, days)
    index = {p: i for i, p in enumerate(products["product_id"])}
    y = np.zeros_like(x)
    sold = con.execute("select product_id, order_date, count(*) from lines group by 1, 2").fetchall()
    for pid, day, count in sold:
        y[index[pid], (pd.Timestamp(day) - days[0]).days] = count
    # Days on which the product was out of stock somewhere are censored: leave them out.
    keep = np.ones_like(y, dtype=bool)
    for sku, day in con.execute("select distinct sku, snapshot_date from snapshots where on_hand_units = 0").fetchall():
        keep[index["P" + sku.split("-")[0].removeprefix("SKU")], (pd.Timestamp(day) - days[0]).days] = False
    planted = truth(world_home, "category_params.csv").set_index("category_id")["elasticity"]
    estimates = {c: poisson_fe_elasticity(y[cats == c], x[cats == c], keep[cats == c]) for c in planted.index}
    errors = {c: abs(estimates[c] / planted[c] - 1) for c in planted.index}
    report = ", ".join(f"{c}: {estimates[c]:.3f} vs {planted[c]}" for c in planted.index)
    assert max(errors.values()) < 0.15, report


def test_personas_differ_in_frequency_basket_size_and_season(con, world_home):
    personas = truth(world_home, "customer_personas.csv")
    con.register("personas", personas)
    stats = (
        con.execute(
            """
        with per_order as (
            select o.order_id, o.customer_id, cast(o.ordered_at as date) as day, count(l.line_number) as n_lines
            from orders as o join lines as l using (order_id) group by all
        )
        select p.persona,
            count(distinct per_order.order_id) / count(distinct p.customer_id) as orders_per_customer,
            avg(n_lines) as lines_per_order,
            avg(case when day between date '2024-11-20' and date '2024-12-24' then 1 else 0 end) as gift_season_share
        from personas as p left join per_order using (customer_id)
        group by p.persona
        """
        )
        .df()
        .set_index("persona")
    )
    freq, basket, season = stats["orders_per_customer"], stats["lines_per_order"], stats["gift_season_share"]
    assert freq["loyal_premium"] > freq["bargain_hunter"] > freq["occasional_gifter"] > freq["window_shopper"]
    assert basket["loyal_premium"] > 1.3 * basket["bargain_hunter"]
    assert basket["loyal_premium"] > 1.3 * basket["window_shopper"]
    assert season["occasional_gifter"] > 2.5 * season["bargain_hunter"]
    # Lapsed customers stop buying at their planted date.
    after_lapse = con.execute(
        """select count(*) from orders as o join personas as p using (customer_id)
           where p.lapsed_from is not null and cast(o.ordered_at as date) >= cast(p.lapsed_from as date)"""
    ).fetchone()[0]
    assert after_lapse == 0


def test_weather_effects_have_the_planted_sign(con, world_home):
    params = truth(world_home, "category_params.csv").set_index("category_id")
    effect = con.execute(
        """
        with units as (
            select l.ship_region as region_code, l.order_date, p.category_id, sum(l.quantity) as units
            from lines as l join products as p using (product_id) group by all
        ),
        shares as (
            select u.region_code, u.order_date, u.category_id,
                ln(u.units / sum(u.units) over (partition by u.region_code, u.order_date)) as log_share,
                w.rain_mm >= 1 as rainy
            from units as u join weather as w on u.region_code = w.region_code and u.order_date = w.observed_on
        )
        select category_id, avg(log_share) filter (where rainy) - avg(log_share) filter (where not rainy)
        from shares group by 1
        """
    ).fetchall()
    measured = dict(effect)
    for category in ("CAT09", "CAT12"):
        assert np.sign(measured[category]) == np.sign(params.loc[category, "rain_effect"]), measured


def test_stockout_days_are_the_days_with_zero_stock_and_follow_disruptions(con, world_home):
    zero = con.execute(
        "select snapshot_date::varchar, warehouse_id, sku from snapshots where on_hand_units = 0 order by all"
    ).fetchall()
    planted = truth(world_home, "stockouts.csv").sort_values(["snapshot_date", "warehouse_id", "sku"])
    assert [tuple(r) for r in planted.itertuples(index=False)] == zero
    assert len(zero) > 100
    disruptions = truth(world_home, "supplier_disruptions.csv")
    con.register("disruptions", disruptions)
    inside_when_out, inside_overall = con.execute(
        """
        select
            avg(case when d.supplier_id is not null then 1 else 0 end) filter (where s.on_hand_units = 0),
            avg(case when d.supplier_id is not null then 1 else 0 end)
        from snapshots as s
        join products as p on p.product_id = 'P' || replace(split_part(s.sku, '-', 1), 'SKU', '')
        left join disruptions as d
            on d.supplier_id = p.supplier_id
            and s.snapshot_date between cast(d.starts_on as date) and cast(d.ends_on as date) + 30
        """
    ).fetchone()
    # Stockouts concentrate where and when suppliers were disrupted (plus their recovery month).
    assert inside_when_out > 10 * inside_overall


def test_generator_aggregates_match_the_extracts(con, world_home):
    daily = truth(world_home, "orders_daily.csv")
    extracted = con.execute(
        "select cast(ordered_at as date)::varchar as d, count(*), sum(subtotal) from orders group by 1 order by 1"
    ).fetchall()
    assert [(r.order_date, r.orders) for r in daily.itertuples()] == [(d, n) for d, n, _ in extracted]
    assert daily["revenue_cents"].sum() == round(sum(float(s) for *_, s in extracted) * 100)


def test_campaign_uplift_is_recovered_from_treatment_vs_holdout(con, world_home):
    """Order lines per audience member during the campaign, treated vs holdout, with a bootstrap interval
    over members."""
    planted = truth(world_home, "campaigns.csv").set_index("campaign_id")["uplift"]
    members = con.execute(
        """
        with bought as (
            select a.campaign_id, a.customer_id, a.assigned_group, count(l.order_id) as n_lines
            from audiences as a
            join campaigns as c using (campaign_id)
            left join lines as l
                on l.customer_id = a.customer_id and l.order_date between c.starts_on and c.ends_on
            group by all
        )
        select * from bought
        """
    ).df()
    rng = np.random.default_rng(0)
    inside, ratios = 0, []
    for campaign_id, group in members.groupby("campaign_id"):
        treated = group.loc[group["assigned_group"] == "treatment", "n_lines"].to_numpy()
        holdout = group.loc[group["assigned_group"] == "holdout", "n_lines"].to_numpy()
        estimate = treated.mean() / holdout.mean() - 1
        boot = [
            rng.choice(treated, len(treated)).mean() / rng.choice(holdout, len(holdout)).mean() - 1 for _ in range(400)
        ]
        low, high = np.percentile(boot, [2.5, 97.5])
        inside += low <= planted[campaign_id] <= high
        ratios.append(estimate / planted[campaign_id])
    assert len(ratios) == len(planted) >= 12
    assert inside >= len(planted) - 2  # 95% intervals: at most a couple of misses by chance
    assert abs(np.mean(ratios) - 1) < 0.2  # and no bias across campaigns


def test_the_clickstream_funnel_is_consistent_with_orders(con, world_home):
    events = con.execute("select count(*), count(distinct session_id) from clickstream").fetchone()
    assert events[0] > 1_000_000  # about a million events at scale factor 1
    # Every web and app order has exactly one purchase event, at the order's time, in its channel.
    orders_online, purchases, matched = con.execute(
        """
        select
            (select count(*) from orders where channel != 'marketplace'),
            (select count(*) from clickstream where event_type = 'purchase'),
            (select count(*) from orders as o join clickstream as e using (order_id)
             where e.event_type = 'purchase' and e.event_at = o.ordered_at and e.channel = o.channel
               and e.customer_id = o.customer_id)
        """
    ).fetchone()
    assert orders_online == purchases == matched
    # Each bought product was viewed and added to the cart in the purchase session.
    unviewed = con.execute(
        """
        with purchase_sessions as (
            select session_id, order_id from clickstream where event_type = 'purchase'
        )
        select count(*) from lines as l
        join purchase_sessions as p using (order_id)
        where not exists (select 1 from clickstream as e where e.session_id = p.session_id
                          and e.event_type = 'add_to_cart' and e.product_id = l.product_id)
        """
    ).fetchone()[0]
    assert unviewed == 0
    # Funnel order: every session starts with a page view; checkouts >= purchases.
    funnel = dict(con.execute("select event_type, count(distinct session_id) from clickstream group by 1").fetchall())
    assert funnel["page_view"] == events[1]
    assert funnel["page_view"] >= funnel["product_view"] > funnel["add_to_cart"] > funnel["checkout_start"]
    assert funnel["checkout_start"] > funnel["purchase"]


def test_window_shoppers_browse_much_and_buy_little(con, world_home):
    con.register("personas_cs", truth(world_home, "customer_personas.csv"))
    conversion = dict(
        con.execute(
            """
            select p.persona, count(distinct e.session_id) filter (where e.event_type = 'purchase')
                / count(distinct e.session_id)
            from clickstream as e join personas_cs as p using (customer_id)
            group by 1
            """
        ).fetchall()
    )
    assert conversion["window_shopper"] == min(conversion.values())
    assert conversion["loyal_premium"] > 2 * conversion["window_shopper"]


def test_text_carries_its_planted_sentiment_and_intent(con, world_home):
    labels = truth(world_home, "review_labels.csv")
    con.register("review_labels", labels)
    by_label = dict(
        con.execute(
            "select l.sentiment, avg(r.rating) from reviews as r join review_labels as l using (review_id) group by 1"
        ).fetchall()
    )
    assert by_label["positive"] > by_label["neutral"] > by_label["negative"]
    # A two-word lexicon already separates the planted classes of review text.
    lexicon = con.execute(
        """select l.sentiment, avg(case when r.body ilike '%love%' or r.body ilike '%great%'
                                     or r.body ilike '%recommend%' then 1 else 0 end)
           from reviews as r join review_labels as l using (review_id) group by 1"""
    ).fetchall()
    assert dict(lexicon)["positive"] > 3 * dict(lexicon)["negative"]
    intents = truth(world_home, "support_labels.csv")
    con.register("support_labels", intents)
    wismo = con.execute(
        """select avg(case when s.transcript ilike '%where is my order%' then 1 else 0 end)
           from support as s join support_labels as l using (conversation_id)
           where l.intent = 'where_is_my_order'"""
    ).fetchone()[0]
    assert wismo == 1.0
    assert set(intents["intent"]) >= {"where_is_my_order", "return_request", "damaged_item"}


def test_planted_attacks_stand_out_in_the_security_logs(con, world_home):
    attacks = truth(world_home, "security_attacks.csv")
    planted_ips = {
        ip for src in attacks.loc[attacks["kind"] == "credential_stuffing", "source"] for ip in src.split(",")
    }
    noisy = {
        ip
        for (ip,) in con.execute(
            """select ip_address from logins where not succeeded
               group by ip_address, date_trunc('hour', attempted_at) having count(*) >= 20"""
        ).fetchall()
    }
    assert noisy == planted_ips
    insider = attacks.loc[attacks["kind"] == "bulk_export", "source"].iat[0]
    top = con.execute(
        "select account_id from data_access group by 1 order by max(rows_returned) desc limit 1"
    ).fetchone()[0]
    assert top == insider


def test_customers_buy_their_planted_favourite_brands_and_rebuy_their_everyday_favourites(con, world_home):
    """truth/customer_affinities.csv, graded on the extracts: a customer's lines fall in their favourite brands
    several times more often than those brands' share of all lines would give, and lines that re-buy a product
    the customer bought before sit in the planted repeatable categories, mostly on the planted favourites."""
    catalog = json.loads((world_home / "landing" / "pim" / "catalog" / "dt=2024-01-01" / "catalog.json").read_text())
    brands = pd.DataFrame([(p["product_id"], p["brand"]) for p in catalog["products"]], columns=["product_id", "brand"])
    con.register("brands", brands)
    con.register("affinities", truth(world_home, "customer_affinities.csv"))
    con.register("params", truth(world_home, "category_params.csv"))
    # The extracts are read once (the views re-read every CSV file on each query).
    con.execute(
        "create or replace temp table taste_lines as select l.customer_id, l.product_id, b.brand, p.category_id, "
        "row_number() over (partition by l.customer_id, l.product_id order by l.order_id, l.line_number) > 1 "
        "as is_repeat from lines as l join brands as b using (product_id) join products as p using (product_id)"
    )
    observed, expected = con.execute(
        """
        with favourite as (
            select customer_id, affinity_value as brand from affinities where affinity_type = 'brand'
        ),
        brand_share as (select brand, count(*) / sum(count(*)) over () as share from taste_lines group by brand),
        per_customer as (select customer_id, count(*) as n_lines from taste_lines group by customer_id)
        select
            (select count(*) from taste_lines join favourite using (customer_id, brand))
                / (select count(*) from taste_lines),
            -- Without taste a customer's line would be of brand b with the brand's overall share.
            (select sum(c.n_lines * s.share) from favourite join per_customer as c using (customer_id)
                join brand_share as s using (brand)) / (select count(*) from taste_lines)
        """
    ).fetchone()
    assert observed > 3 * expected, (observed, expected)

    repeats = (
        con.execute(
            """
            select r.repeatable, avg(t.is_repeat::int) as repeat_share,
                avg((a.customer_id is not null)::int) filter (where t.is_repeat) as favourite_share
            from taste_lines as t
            join params as r using (category_id)
            left join affinities as a
                on a.customer_id = t.customer_id and a.affinity_value = t.product_id and a.affinity_type = 'product'
            group by all
            """
        )
        .df()
        .set_index("repeatable")
    )
    assert repeats.loc[True, "repeat_share"] > 3 * repeats.loc[False, "repeat_share"], repeats
    assert repeats.loc[True, "favourite_share"] > 0.5, repeats
