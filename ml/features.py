"""Model inputs read from the warehouse marts: a product × day panel and a customer behaviour table.

Everything here reads ``marts.*`` through a DuckDB connection (read-only is enough) and returns pandas
frames; no model code, no Dagster. The ground truth under ``<home>/truth`` is never read: models learn from
what the retailer would see.
"""

from __future__ import annotations

import hashlib

import duckdb
import numpy as np
import pandas as pd

# Marts the features read: the Dagster assets declare them as dependencies.
PRODUCT_DAY_MARTS = (
    "fct_order_lines",
    "fct_product_prices_daily",
    "dim_product",
    "dim_date",
    "fct_weather_daily",
    "agg_competitor_price_index",
    "fct_stockouts",
    "dim_campaign",
)
CUSTOMER_MARTS = (
    "fct_customer_lifetime",
    "fct_orders",
    "fct_order_lines",
    "dim_product",
    "fct_sessions",
    "dim_customer",
)

# Calendar, weather, price, promotion and competitor features of the product × day panel.
CALENDAR_FEATURES = ["day_of_week", "day_of_year", "month", "is_holiday", "is_weekend", "days_to_christmas"]
WEATHER_FEATURES = ["temp_anomaly_c", "rainy_region_share"]
PRICE_FEATURES = ["log_price_ratio", "discount_pct", "is_promoted", "competitor_index", "active_campaigns"]

# Gift season as the shop's merchandisers define it (the busiest weeks before Christmas).
GIFT_SEASON = ((11, 20), (12, 24))


def product_day_panel(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """One row per product and day of the price calendar (``fct_product_prices_daily``).

    Columns: ``product_id``, ``category_id``, ``date``, ``lines`` (order lines, cancelled ones included:
    they are demand), ``units``, ``list_price``, ``effective_price``, ``unit_cost``, the calendar, weather
    and price features above, and ``is_stockout`` (some SKU of the product was out of stock somewhere that
    day: its sales are censored). Sorted by product and date.
    """
    panel = con.execute(
        """
        with sales as (
            select product_id, order_date as date, count(*) as lines, sum(quantity) as units
            from marts.fct_order_lines
            group by all
        ),
        stockout_days as (
            select distinct s.product_id, d.date_day as date
            from marts.fct_stockouts as s
            join marts.dim_date as d on d.date_day between s.start_date and s.end_date
        ),
        -- Averages of doubles are summed in whatever order the rows were stored, which differs by the last
        -- bit between two builds of the same marts; the gradient-boosted forecast bins its features on the
        -- distinct values and turned such noise into a WAPE gain of 0.098 against 0.157. Summed as decimals
        -- (exact, in any order), a feature is the same on every build of the same data.
        weather as (
            select weather_date as date, avg(temp_anomaly_c::decimal(18, 9)) as temp_anomaly_c,
                avg(case when is_rainy_day then 1.0 else 0.0 end) as rainy_region_share
            from marts.fct_weather_daily
            group by all
        ),
        campaigns as (
            select d.date_day as date, count(*) as active_campaigns
            from marts.dim_campaign as c
            join marts.dim_date as d on d.date_day between c.starts_on and c.ends_on
            group by all
        )
        select
            p.product_id, dp.category_id, p.price_date as date,
            coalesce(s.lines, 0) as lines, coalesce(s.units, 0) as units,
            p.list_price::double as list_price, p.effective_price::double as effective_price,
            dp.unit_cost::double as unit_cost, p.discount_pct, p.is_promoted::int as is_promoted,
            d.iso_day_of_week as day_of_week, dayofyear(p.price_date) as day_of_year,
            d.calendar_month as month, d.is_holiday_or_event::int as is_holiday, d.is_weekend::int as is_weekend,
            w.temp_anomaly_c, w.rainy_region_share,
            ci.price_index as competitor_index,
            coalesce(c.active_campaigns, 0) as active_campaigns,
            (so.product_id is not null)::int as is_stockout
        from marts.fct_product_prices_daily as p
        join marts.dim_product as dp using (product_id)
        join marts.dim_date as d on d.date_day = p.price_date
        left join sales as s on s.product_id = p.product_id and s.date = p.price_date
        left join weather as w on w.date = p.price_date
        left join campaigns as c on c.date = p.price_date
        left join marts.agg_competitor_price_index as ci
            on ci.category_id = dp.category_id and ci.week_start = date_trunc('week', p.price_date)
        left join stockout_days as so on so.product_id = p.product_id and so.date = p.price_date
        order by p.product_id, p.price_date
        """
    ).df()
    panel["date"] = pd.to_datetime(panel["date"])
    christmas = pd.to_datetime(panel["date"].dt.year.astype(str) + "-12-25")
    panel["days_to_christmas"] = (christmas - panel["date"]).dt.days.clip(lower=-7, upper=60)
    # The price relative to the product's own first list price: comparable across products.
    first_list = panel.groupby("product_id")["list_price"].transform("first")
    panel["log_price_ratio"] = np.log(panel["effective_price"] / first_list)
    # Weeks without competitor observations carry the category's last known index (1 = price parity).
    panel["competitor_index"] = panel.groupby("category_id")["competitor_index"].transform(lambda s: s.ffill().bfill())
    panel["competitor_index"] = panel["competitor_index"].fillna(1.0)
    for column in WEATHER_FEATURES:
        panel[column] = panel[column].fillna(panel[column].mean()).fillna(0.0)
    return panel


def customer_behaviour(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """One row per customer (``fct_customer_lifetime``) with behavioural features, indexed by customer_id.

    Purchase rhythm (orders, lines per order, recency, active months, gift-season share), value (revenue,
    order value, discount share, price level paid against the category median), channel mix, category mix
    (share of lines per category, columns ``cat_<category_id>``), browsing (sessions, sessions without a
    purchase, sessions per order, cart adds per session) and consents (CRM opt-ins for email and push).
    Customers without orders or sessions get zeros, not gaps.
    """
    (gift_from_m, gift_from_d), (gift_to_m, gift_to_d) = GIFT_SEASON
    base = con.execute(
        f"""
        with orders as (
            select customer_id, count(*) as orders, avg(line_count) as lines_per_order,
                avg(case when channel = 'web' then 1.0 else 0.0 end) as web_share,
                avg(case when channel = 'app' then 1.0 else 0.0 end) as app_share,
                avg(case when channel = 'marketplace' then 1.0 else 0.0 end) as marketplace_share,
                avg(case when (month(order_date) = {gift_from_m} and day(order_date) >= {gift_from_d})
                          or (month(order_date) = {gift_to_m} and day(order_date) <= {gift_to_d})
                         then 1.0 else 0.0 end) as gift_season_share,
                count(distinct date_trunc('month', order_date)) as active_months,
                sum(discount_amount)::double / nullif(sum(lines_amount)::double, 0) as discount_share,
                avg(case when promo_code is not null then 1.0 else 0.0 end) as promo_share,
                max(order_date) - min(order_date) as active_span_days
            from marts.fct_orders
            group by all
        ),
        category_median as (
            select category_id, median(list_price)::double as median_price from marts.dim_product group by all
        ),
        price_level as (
            select l.customer_id, avg(ln(l.unit_price::double / m.median_price)::decimal(18, 9)) as price_level,
                count(*) as lines,
                sum(case when l.discount_amount > 0 then 1 else 0 end) as discounted_lines,
                sum(case when l.unit_price::double > m.median_price then 1 else 0 end) as premium_lines
            from marts.fct_order_lines as l
            join marts.dim_product as p using (product_id)
            join category_median as m using (category_id)
            where l.unit_price > 0
            group by all
        ),
        sessions as (
            select customer_id, count(*) as sessions,
                sum(case when is_converted then 0 else 1 end) as browse_sessions,
                avg(products_viewed) as products_viewed_per_session,
                avg(add_to_cart_count) as cart_adds_per_session,
                avg(case when channel = 'app' then 1.0 else 0.0 end) as app_session_share,
                max(session_date) as last_session_date
            from marts.fct_sessions
            where customer_id is not null
            group by all
        ),
        last_day as (
            select max(order_date) as last_day from marts.fct_orders
        ),
        consents as (
            select customer_id, has_email_consent::int as email_consent, has_push_consent::int as push_consent
            from marts.dim_customer
            where is_current
        )
        select
            c.customer_id, c.net_revenue::double as net_revenue,
            coalesce(c.average_order_value, 0)::double as average_order_value,
            coalesce(c.recency_days, c.tenure_days)::double as recency_days, c.tenure_days::double as tenure_days,
            c.recency_score, c.frequency_score, c.monetary_score,
            coalesce(o.orders, 0) as orders, coalesce(o.lines_per_order, 0) as lines_per_order,
            coalesce(o.web_share, 0) as web_share, coalesce(o.app_share, 0) as app_share,
            coalesce(o.marketplace_share, 0) as marketplace_share,
            coalesce(o.gift_season_share, 0) as gift_season_share,
            coalesce(o.active_months, 0) as active_months, coalesce(o.discount_share, 0) as discount_share,
            coalesce(o.promo_share, 0) as promo_share, coalesce(o.active_span_days, 0) as active_span_days,
            coalesce(pl.price_level, 0) as price_level, coalesce(pl.lines, 0) as lines,
            coalesce(pl.discounted_lines, 0) as discounted_lines, coalesce(pl.premium_lines, 0) as premium_lines,
            coalesce(s.sessions, 0) as sessions, coalesce(s.browse_sessions, 0) as browse_sessions,
            coalesce(s.products_viewed_per_session, 0) as products_viewed_per_session,
            coalesce(s.cart_adds_per_session, 0) as cart_adds_per_session,
            coalesce(s.app_session_share, 0) as app_session_share,
            coalesce(last_day.last_day - s.last_session_date, c.tenure_days)::double as session_recency_days,
            coalesce(k.email_consent, 0) as email_consent, coalesce(k.push_consent, 0) as push_consent
        from marts.fct_customer_lifetime as c
        cross join last_day
        left join orders as o using (customer_id)
        left join price_level as pl using (customer_id)
        left join sessions as s using (customer_id)
        left join consents as k using (customer_id)
        order by c.customer_id
        """
    ).df()
    mix = con.execute(
        """
        select l.customer_id, p.category_id, count(*) as lines
        from marts.fct_order_lines as l join marts.dim_product as p using (product_id)
        group by all
        """
    ).df()
    shares = mix.pivot_table(index="customer_id", columns="category_id", values="lines", fill_value=0)
    shares = shares.div(shares.sum(axis=1), axis=0).add_prefix("cat_")
    features = base.set_index("customer_id").join(shares).fillna(0.0)
    features["sessions_per_order"] = features["sessions"] / features["orders"].clip(lower=1)
    return features


def data_version(*frames: pd.DataFrame) -> str:
    """A short content hash of the model inputs: the same marts give the same version string."""
    digest = hashlib.sha256()
    for frame in frames:
        digest.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
    return digest.hexdigest()[:16]
