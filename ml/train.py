"""Train, score, register and write: one function per model, called by the Dagster assets and the benchmark.

Each function reads its features from the warehouse marts through ``con`` (a read-write connection: the
predictions land in the ``ml`` schema), saves the versioned artifact under ``settings.models_dir``,
registers it in ``ml.model_registry`` and returns the metrics as a plain dict.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from futuremart.settings import Settings
from ml import demand_forecast, pricing, recommendations, segmentation
from ml.features import customer_behaviour, data_version, product_day_panel
from ml.registry import register_model, save_model, write_table


def run_demand_forecast(con: duckdb.DuckDBPyConnection, settings: Settings) -> dict[str, float]:
    """Backtest and train the forecaster; write ``ml.demand_forecast`` and ``ml.demand_backtest``."""
    panel = product_day_panel(con)
    result = demand_forecast.train_demand_forecast(panel)
    record = save_model(
        settings.models_dir,
        "demand_forecast",
        {"model": result.model, "levels": result.levels},
        data_version=data_version(panel),
        training_window=result.training_window,
        features=result.features,
        metrics=result.metrics,
        params=demand_forecast.MODEL_PARAMS | {"horizon_days": demand_forecast.HORIZON_DAYS},
    )
    register_model(con, record)
    write_table(con, "demand_forecast", result.forecast.assign(model_version=record.version))
    write_table(con, "demand_backtest", result.backtest.assign(model_version=record.version))
    return result.metrics | {"forecast_rows": float(len(result.forecast))}


def run_price_elasticity(con: duckdb.DuckDBPyConnection, settings: Settings) -> tuple[dict[str, float], pd.DataFrame]:
    """Estimate the elasticities; write ``ml.price_elasticity``. Returns the metrics and the table."""
    panel = product_day_panel(con)
    elasticities = pricing.estimate_price_elasticity(panel)
    metrics = pricing.elasticity_metrics(elasticities)
    record = save_model(
        settings.models_dir,
        "price_elasticity",
        elasticities,
        data_version=data_version(panel),
        training_window=(str(panel["date"].min().date()), str(panel["date"].max().date())),
        features=["effective_price", "product fixed effect", "category x day fixed effect", "is_stockout (excluded)"],
        metrics=metrics,
        params={"iterations": pricing.ITERATIONS, "target": "order lines per product and day"},
    )
    register_model(con, record)
    write_table(con, "price_elasticity", elasticities.assign(model_version=record.version))
    return metrics, elasticities


def pricing_inputs(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Per product: current list price, unit cost, competitor reference and the forecast units of the next
    28 days (``ml.demand_forecast``). The competitor reference is the current price times the category's
    latest competitor price index: the marts observe competitors per category and week."""
    return con.execute(
        """
        with last_day as (select max(price_date) as d from marts.fct_product_prices_daily),
        latest_index as (
            select category_id, arg_max(price_index, week_start) as price_index
            from marts.agg_competitor_price_index group by all
        ),
        forecast as (
            select product_id, sum(predicted_units) as baseline_units from ml.demand_forecast group by all
        )
        select p.product_id, d.category_id, p.list_price::double as current_price, d.unit_cost::double as unit_cost,
            p.list_price::double * i.price_index as competitor_price, coalesce(f.baseline_units, 0) as baseline_units
        from marts.fct_product_prices_daily as p
        join last_day on p.price_date = last_day.d
        join marts.dim_product as d using (product_id)
        left join latest_index as i using (category_id)
        left join forecast as f using (product_id)
        order by p.product_id
        """
    ).df()


def run_price_recommendations(con: duckdb.DuckDBPyConnection, settings: Settings) -> dict[str, float]:
    """Recommend prices from ``ml.price_elasticity`` and ``ml.demand_forecast``; write
    ``ml.price_recommendations`` and ``ml.price_impact_by_category``."""
    elasticities = con.execute("select category_id, elasticity from ml.price_elasticity").df()
    rails = pricing.GuardRails(settings.ml_max_price_change, settings.ml_min_margin, settings.ml_competitor_cap)
    recommendations = pricing.recommend_prices(pricing_inputs(con), elasticities, rails)
    impact = pricing.category_impact(recommendations)
    write_table(con, "price_recommendations", recommendations)
    write_table(con, "price_impact_by_category", impact)
    change = recommendations["recommended_price"] / recommendations["current_price"] - 1
    current_margin = recommendations["current_margin"].sum()
    return {
        "products": float(len(recommendations)),
        "max_abs_price_change": round(float(change.abs().max()), 4),
        "below_cost_floor": float(
            (recommendations["recommended_price"] < recommendations["unit_cost"] * (1 + rails.min_margin) - 0.01).sum()
        ),
        "expected_margin_change_pct": round(float(recommendations["expected_margin"].sum() / current_margin - 1), 4)
        if current_margin
        else 0.0,
        "expected_revenue_change_pct": round(
            float(recommendations["expected_revenue"].sum() / recommendations["current_revenue"].sum() - 1), 4
        )
        if recommendations["current_revenue"].sum()
        else 0.0,
    }


def run_customer_segmentation(con: duckdb.DuckDBPyConnection, settings: Settings) -> dict[str, float]:
    """Segment the customers; write ``ml.customer_segments`` and ``ml.segment_profiles``."""
    customers = customer_behaviour(con)
    result = segmentation.train_customer_segmentation(customers)
    window = con.execute("select min(order_date)::varchar, max(order_date)::varchar from marts.fct_orders").fetchone()
    record = save_model(
        settings.models_dir,
        "customer_segmentation",
        result.model,
        data_version=data_version(customers),
        training_window=(window[0], window[1]),
        features=result.features,
        metrics=result.metrics,
        params={"n_segments": segmentation.N_SEGMENTS, "seed": segmentation.SEED},
    )
    register_model(con, record)
    write_table(con, "customer_segments", result.segments.assign(model_version=record.version))
    write_table(con, "segment_profiles", result.profiles.assign(model_version=record.version))
    return result.metrics


def run_recommendations(con: duckdb.DuckDBPyConnection, settings: Settings) -> dict[str, float]:
    """Evaluate and fit the recommender; write ``ml.customer_recommendations`` (top 10 per customer)."""
    interactions = recommendations.read_interactions(con)
    result = recommendations.train_recommender(interactions)
    record = save_model(
        settings.models_dir,
        "product_recommendations",
        result.model,
        data_version=data_version(interactions.purchases, interactions.views),
        training_window=result.training_window,
        features=recommendations.FEATURES,
        metrics=result.metrics,
        params={
            "n_clusters": recommendations.N_CLUSTERS,
            "holdout_days": recommendations.HOLDOUT_DAYS,
            "top_k": recommendations.TOP_K,
            "price_tiers": recommendations.PRICE_TIERS,
            "seed": recommendations.SEED,
        },
    )
    register_model(con, record)
    write_table(con, "customer_recommendations", result.table.assign(model_version=record.version))
    return result.metrics
