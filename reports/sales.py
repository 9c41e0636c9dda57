"""Sales report: revenue, orders, margin and returns, by month, channel, category and region."""

from __future__ import annotations

import duckdb
import plotly.express as px

from reports.render import Chart, Headline, ReportSpec, query_frame


def charts(con: duckdb.DuckDBPyConnection) -> list[Chart]:
    monthly = query_frame(
        con,
        """
        select date_trunc('month', order_date) as month, channel, cast(sum(net_revenue) as double) as net_revenue
        from marts.agg_sales_daily
        group by 1, 2
        order by 1, 2
        """,
    )
    categories = query_frame(
        con,
        """
        select p.category_name, cast(sum(s.gross_revenue) as double) as gross_revenue,
            cast(sum(s.gross_margin) as double) as gross_margin
        from marts.agg_sales_daily as s
        inner join marts.dim_product as p on s.product_id = p.product_id
        group by 1
        order by 2 desc
        """,
    )
    regions = query_frame(
        con,
        """
        select ship_region_code as region, channel, cast(sum(net_revenue) as double) as net_revenue
        from marts.agg_sales_daily
        group by 1, 2
        order by 1, 2
        """,
    )
    daily = query_frame(
        con,
        """
        select order_date, count(*) as orders
        from marts.fct_orders
        where not is_cancelled
        group by 1
        order by 1
        """,
    )
    daily["seven_day_average"] = daily["orders"].rolling(7, min_periods=1).mean()
    return [
        Chart(
            "monthly_revenue",
            "Net revenue by month and channel",
            px.bar(monthly, x="month", y="net_revenue", color="channel", labels={"net_revenue": "net revenue ($)"}),
            "Net revenue = line amounts after discounts, minus refunds of returned units, by order month.",
        ),
        Chart(
            "category_margin",
            "Gross revenue and gross margin by category",
            px.bar(
                categories.melt(id_vars="category_name", var_name="measure", value_name="amount"),
                x="category_name",
                y="amount",
                color="measure",
                barmode="group",
                labels={"category_name": "category", "amount": "$"},
            ),
            "Margin = revenue minus the cost of the units sold; cancelled orders excluded.",
        ),
        Chart(
            "region_revenue",
            "Net revenue by ship region",
            px.bar(regions, x="region", y="net_revenue", color="channel", labels={"net_revenue": "net revenue ($)"}),
        ),
        Chart(
            "daily_orders",
            "Orders per day",
            px.line(daily, x="order_date", y=["orders", "seven_day_average"], labels={"value": "orders"}),
            "Orders placed per day (cancelled excluded) and their 7-day moving average: seasons and holidays show.",
        ),
    ]


SPEC = ReportSpec(
    slug="sales",
    title="Sales",
    summary="What FutureMart sold over the period: net revenue, orders, order value, margin and returns, by "
    "month, channel, product category and ship region. From the sales marts; cancelled orders are excluded.",
    owner="team:sales-analytics",
    reads=("marts.agg_sales_daily", "marts.fct_orders", "marts.dim_product"),
    headlines=(
        Headline(
            "net_revenue",
            "Net revenue",
            "select cast(sum(net_revenue) as double) from marts.agg_sales_daily",
            "usd",
            "after discounts and refunds",
        ),
        Headline("orders", "Orders", "select count(*) from marts.fct_orders where not is_cancelled", "count"),
        Headline(
            "average_order_value",
            "Average order value",
            "select avg(cast(order_total as double)) from marts.fct_orders where not is_cancelled",
            "usd",
            "order total incl. tax and shipping",
        ),
        Headline(
            "gross_margin_rate",
            "Gross margin",
            "select cast(sum(gross_margin) as double) / nullif(cast(sum(gross_revenue) as double), 0) "
            "from marts.agg_sales_daily",
            "pct",
            "of gross revenue",
        ),
        Headline(
            "return_rate",
            "Units returned",
            "select cast(sum(returned_units) as double) / nullif(sum(units), 0) from marts.agg_sales_daily",
            "pct",
            "of units sold",
        ),
        Headline(
            "cancellation_rate",
            "Orders cancelled",
            "select avg(case when is_cancelled then 1.0 else 0.0 end) from marts.fct_orders",
            "pct",
        ),
    ),
    charts=charts,
)
