"""Model performance report: the demand forecast against its baseline, the price elasticities and their
precision, the pricing recommendation's expected effect, and the customer segments, from the ``ml`` schema."""

from __future__ import annotations

import duckdb
import plotly.express as px

from reports.render import Chart, Headline, ReportSpec, query_frame

# The latest registered version of a model: the registry keeps every training run.
_LATEST = (
    "select metrics from ml.model_registry where model_name = '{name}' order by trained_at desc, version desc limit 1"
)


def _latest_metric(model: str, metric: str) -> str:
    return f"select cast(json_extract(metrics, '$.{metric}') as double) from ({_LATEST.format(name=model)}) as m"


def charts(con: duckdb.DuckDBPyConnection) -> list[Chart]:
    backtest = query_frame(
        con,
        """
        select cast(date as date) as day, sum(units) as actual, sum(predicted_units) as model,
            sum(baseline_units) as seasonal_naive
        from ml.demand_backtest
        group by 1
        order by 1
        """,
    )
    elasticity = query_frame(
        con,
        """
        select coalesce(p.category_name, e.category_id) as category, e.elasticity,
            e.elasticity - e.ci_low as ci_minus, e.ci_high - e.elasticity as ci_plus
        from ml.price_elasticity as e
        left join (select distinct category_id, category_name from marts.dim_product) as p
            on e.category_id = p.category_id
        order by e.elasticity
        """,
    )
    impact = query_frame(
        con,
        """
        select category_id, 100 * revenue_change_pct as revenue, 100 * margin_change_pct as margin
        from ml.price_impact_by_category
        order by category_id
        """,
    )
    segments = query_frame(
        con,
        """
        select segment_name, customers, avg_net_revenue, avg_orders
        from ml.segment_profiles
        order by customers desc
        """,
    )
    return [
        Chart(
            "forecast_backtest",
            "Demand backtest: units per day, actual vs model vs seasonal-naive",
            px.line(
                backtest.melt(id_vars="day", var_name="series", value_name="units"),
                x="day",
                y="units",
                color="series",
            ),
            "The last 28 days held out: the model forecasts them from what it knew before; seasonal-naive repeats "
            "the same weekday of the last week before the cut.",
        ),
        Chart(
            "elasticity",
            "Price elasticity per category, with 95% interval",
            px.scatter(
                elasticity,
                x="category",
                y="elasticity",
                error_y="ci_plus",
                error_y_minus="ci_minus",
                labels={"elasticity": "% change in units per 1% price change"},
            ),
            "Estimated with product and category × day fixed effects; days out of stock are left out.",
        ),
        Chart(
            "price_impact",
            "Recommended prices: expected change per category",
            px.bar(
                impact.melt(id_vars="category_id", var_name="measure", value_name="change"),
                x="category_id",
                y="change",
                color="measure",
                barmode="group",
                labels={"change": "expected change (%)", "category_id": "category"},
            ),
            "Prices stay within the guard-rails (largest move, minimum margin, competitor cap).",
        ),
        Chart(
            "segments",
            "Customer segments: size and value",
            px.scatter(
                segments,
                x="avg_orders",
                y="avg_net_revenue",
                size="customers",
                color="segment_name",
                labels={"avg_orders": "orders per customer", "avg_net_revenue": "net revenue per customer ($)"},
            ),
        ),
    ]


SPEC = ReportSpec(
    slug="models",
    title="Model performance",
    summary="How the warehouse's models do: the demand forecast's error against a seasonal-naive baseline on "
    "the held-out last 28 days, the estimated price elasticities and their precision, what the recommended "
    "prices are expected to do to revenue and margin, and the customer segments. From the ml schema.",
    owner="team:data-science",
    reads=(
        "ml.model_registry",
        "ml.demand_backtest",
        "ml.price_elasticity",
        "ml.price_impact_by_category",
        "ml.segment_profiles",
        "marts.dim_product",
    ),
    headlines=(
        Headline("forecast_wape", "Forecast WAPE", _latest_metric("demand_forecast", "wape"), "number"),
        Headline(
            "baseline_wape",
            "Seasonal-naive WAPE",
            _latest_metric("demand_forecast", "baseline_wape"),
            "number",
            "same weekday, last week",
        ),
        Headline(
            "wape_gain",
            "Forecast gain over baseline",
            _latest_metric("demand_forecast", "wape_gain"),
            "pct",
            "1 - WAPE / baseline WAPE",
        ),
        Headline(
            "median_elasticity",
            "Median elasticity",
            "select median(elasticity) from ml.price_elasticity",
            "number",
            "across categories",
        ),
        Headline(
            "margin_change",
            "Expected margin change",
            "select (sum(expected_margin) - sum(current_margin)) / nullif(sum(current_margin), 0) "
            "from ml.price_impact_by_category",
            "pct",
            "at the recommended prices",
        ),
        Headline("segments", "Customer segments", "select count(*) from ml.segment_profiles", "count"),
    ),
    charts=charts,
)
