"""Customer engagement and segments report: RFM segments, the web funnel, activity, loyalty, satisfaction."""

from __future__ import annotations

import duckdb
import plotly.express as px
import plotly.graph_objects as go

from reports.render import Chart, Headline, ReportSpec, query_frame

FUNNEL_STEPS = (
    ("sessions", "sessions"),
    ("product_view_sessions", "viewed a product"),
    ("add_to_cart_sessions", "added to cart"),
    ("checkout_sessions", "started checkout"),
    ("converted_sessions", "ordered"),
)


def charts(con: duckdb.DuckDBPyConnection) -> list[Chart]:
    segments = query_frame(
        con,
        """
        select rfm_segment, count(*) as customers, cast(sum(net_revenue) as double) as net_revenue
        from marts.fct_customer_lifetime
        group by 1
        order by 3 desc, 1
        """,
    )
    funnel = query_frame(
        con,
        "select "
        + ", ".join(f"sum({column}) as {column}" for column, _ in FUNNEL_STEPS)
        + " from marts.agg_funnel_daily",
    )
    monthly = query_frame(
        con,
        """
        with active as (
            select date_trunc('month', order_date) as month, count(distinct customer_id) as active_customers
            from marts.fct_orders
            where not is_cancelled
            group by 1
        ),

        first_orders as (
            select date_trunc('month', first_order_date) as month, count(*) as new_customers
            from marts.fct_customer_lifetime
            where first_order_date is not null
            group by 1
        )

        select active.month, active.active_customers, coalesce(first_orders.new_customers, 0) as new_customers
        from active
        left join first_orders on active.month = first_orders.month
        order by 1
        """,
    )
    tiers = query_frame(
        con,
        """
        select loyalty_tier, age_band, count(*) as customers
        from marts.dim_customer
        where is_current
        group by 1, 2
        order by 1, 2
        """,
    )
    ratings = query_frame(con, "select rating, count(*) as reviews from marts.fct_reviews group by 1 order by 1")
    return [
        Chart(
            "rfm_segments",
            "RFM segments: customers and net revenue",
            px.bar(
                segments.melt(id_vars="rfm_segment", var_name="measure", value_name="value"),
                x="rfm_segment",
                y="value",
                facet_col="measure",
                color="rfm_segment",
                labels={"rfm_segment": "segment"},
            )
            .update_yaxes(matches=None, showticklabels=True)
            .for_each_annotation(lambda a: a.update(text=a.text.split("=")[-1])),
            "Segments from recency, frequency and monetary scores (quintiles) in fct_customer_lifetime.",
        ),
        Chart(
            "funnel",
            "Web and app funnel: sessions reaching each step",
            go.Figure(
                go.Funnel(
                    y=[label for _, label in FUNNEL_STEPS],
                    x=[float(funnel[column].iloc[0] or 0) for column, _ in FUNNEL_STEPS],
                    textinfo="value+percent initial",
                )
            ),
        ),
        Chart(
            "monthly_customers",
            "Active and new customers per month",
            px.line(monthly, x="month", y=["active_customers", "new_customers"], labels={"value": "customers"}),
            "Active: placed at least one (not cancelled) order that month; new: first order that month.",
        ),
        Chart(
            "loyalty_age",
            "Current customers by loyalty tier and age band",
            px.bar(tiers, x="loyalty_tier", y="customers", color="age_band"),
            "Current profile versions only; no personal data (age band, not birth date).",
        ),
        Chart("ratings", "Review ratings", px.bar(ratings, x="rating", y="reviews")),
    ]


SPEC = ReportSpec(
    slug="customers",
    title="Customer engagement and segments",
    summary="Who buys and how often: RFM segments and the revenue they bring, the session funnel from visit to "
    "order, monthly active and new customers, loyalty tiers, reviews and support. From the customer and web marts; "
    "customers appear only as segments and counts.",
    owner="team:crm",
    reads=(
        "marts.fct_customer_lifetime",
        "marts.fct_orders",
        "marts.dim_customer",
        "marts.agg_funnel_daily",
        "marts.fct_reviews",
        "marts.fct_support_conversations",
    ),
    headlines=(
        Headline("customers", "Customers", "select count(*) from marts.fct_customer_lifetime", "count"),
        Headline(
            "buying_customers",
            "Customers who ordered",
            "select count(*) from marts.fct_customer_lifetime where order_count > 0",
            "count",
        ),
        Headline(
            "repeat_rate",
            "Repeat buyers",
            "select avg(case when order_count >= 2 then 1.0 else 0.0 end) from marts.fct_customer_lifetime "
            "where order_count > 0",
            "pct",
            "of customers who ordered",
        ),
        Headline(
            "revenue_per_buyer",
            "Net revenue per buyer",
            "select avg(cast(net_revenue as double)) from marts.fct_customer_lifetime where order_count > 0",
            "usd",
        ),
        Headline(
            "session_conversion_rate",
            "Sessions converting",
            "select cast(sum(converted_sessions) as double) / nullif(sum(sessions), 0) from marts.agg_funnel_daily",
            "pct",
        ),
        Headline(
            "average_rating", "Average review rating", "select avg(rating) from marts.fct_reviews", "number", "1 to 5"
        ),
        Headline(
            "support_resolution_rate",
            "Support conversations resolved",
            "select avg(case when is_resolved then 1.0 else 0.0 end) from marts.fct_support_conversations",
            "pct",
        ),
    ),
    charts=charts,
)
