"""Machine-learning assets after the marts: demand forecast, price elasticity and recommendations, customer
segments (logic in the ``ml`` package). Each writes its predictions to the warehouse schema ``ml``, registers
its model in ``ml.model_registry`` and attaches its metrics; a check per model fails when a metric misses
its bar (``Settings.ml_bars``)."""

import json
from dataclasses import asdict

import dagster as dg

from ml.checks import elasticity_passes, forecast_passes, segmentation_passes
from ml.features import CUSTOMER_MARTS, PRODUCT_DAY_MARTS
from orchestration.resources import FutureMartResource

OWNERS = ["team:data-science"]


def _train():  # noqa: ANN202 - the ml.train module
    # scikit-learn takes most of a second to import; the code location loads on every Dagster start and
    # needs only the asset definitions, so the training code is imported when an asset runs.
    from ml import train

    return train


KINDS = {"python", "scikitlearn", "duckdb"}


def _marts(names: tuple[str, ...]) -> list[dg.AssetKey]:
    # dbt models get the default key <schema>/<model>.
    return [dg.AssetKey(["marts", name]) for name in names]


def _metadata(metrics: dict[str, float]) -> dict[str, float]:
    return {key: float(value) for key, value in metrics.items()}


@dg.asset(
    key=["ml", "demand_forecast"],
    group_name="ml",
    owners=OWNERS,
    kinds=KINDS,
    deps=_marts(PRODUCT_DAY_MARTS),
    pool="duckdb_writer",
    description="Units per product and day for the 28 days after the last day (ml.demand_forecast), from a "
    "Poisson gradient-boosting model on calendar, holiday, weather, price, promotion and competitor features; "
    "backtested on the last 28 days against seasonal-naive (ml.demand_backtest). Metadata: WAPE of both.",
)
def demand_forecast(context: dg.AssetExecutionContext, futuremart: FutureMartResource) -> dg.MaterializeResult:
    with futuremart.warehouse() as con:
        metrics = _train().run_demand_forecast(con, futuremart.settings)
    context.log.info("demand forecast: %s", metrics)
    return dg.MaterializeResult(metadata=_metadata(metrics))


@dg.asset(
    key=["ml", "price_elasticity"],
    group_name="ml",
    owners=OWNERS,
    kinds=KINDS,
    deps=_marts(PRODUCT_DAY_MARTS),
    pool="duckdb_writer",
    description="Price elasticity per category (ml.price_elasticity): Poisson regression of daily order lines "
    "with product and category × day fixed effects (season, weather, holidays, promotions, competitors), "
    "stockout days left out. Metadata: precision of the estimates.",
)
def price_elasticity(context: dg.AssetExecutionContext, futuremart: FutureMartResource) -> dg.MaterializeResult:
    with futuremart.warehouse() as con:
        metrics, table = _train().run_price_elasticity(con, futuremart.settings)
    return dg.MaterializeResult(
        metadata=_metadata(metrics)
        | {"elasticities": dg.MetadataValue.json(dict(zip(table["category_id"], table["elasticity"], strict=True)))}
    )


@dg.asset(
    key=["ml", "price_recommendations"],
    group_name="ml",
    owners=OWNERS,
    kinds=KINDS,
    deps=[demand_forecast, price_elasticity],
    pool="duckdb_writer",
    description="Margin-maximizing price per product within the guard-rails (ml.price_recommendations: at "
    "most FUTUREMART_ML_MAX_PRICE_CHANGE from the current price, at least cost × (1 + min margin), at most "
    "the competitor reference × (1 + cap)) and the expected revenue and margin change per category "
    "(ml.price_impact_by_category).",
)
def price_recommendations(context: dg.AssetExecutionContext, futuremart: FutureMartResource) -> dg.MaterializeResult:
    with futuremart.warehouse() as con:
        metrics = _train().run_price_recommendations(con, futuremart.settings)
    return dg.MaterializeResult(metadata=_metadata(metrics))


@dg.asset(
    key=["ml", "customer_segments"],
    group_name="ml",
    owners=OWNERS,
    kinds=KINDS,
    deps=_marts(CUSTOMER_MARTS),
    pool="duckdb_writer",
    description="Customer segments (ml.customer_segments: RFM scores and a KMeans segment on standardized "
    "behavioural features) and their named profiles (ml.segment_profiles: size, value, favourite categories, "
    "channel). Metadata: silhouette and sizes.",
)
def customer_segments(context: dg.AssetExecutionContext, futuremart: FutureMartResource) -> dg.MaterializeResult:
    with futuremart.warehouse() as con:
        metrics = _train().run_customer_segmentation(con, futuremart.settings)
    return dg.MaterializeResult(metadata=_metadata(metrics))


def _latest_metrics(futuremart: FutureMartResource, model_name: str) -> dict[str, float]:
    with futuremart.warehouse(read_only=True) as con:
        row = con.execute(
            "select metrics from ml.model_registry where model_name = ? order by trained_at desc, version desc limit 1",
            [model_name],
        ).fetchone()
    return json.loads(row[0])


def _check(futuremart: FutureMartResource, model_name: str, passes, shown: tuple[str, ...]) -> dg.AssetCheckResult:
    bars = futuremart.settings.ml_bars
    metrics = _latest_metrics(futuremart, model_name)
    return dg.AssetCheckResult(
        passed=bool(passes(metrics, bars)),
        metadata={**{key: float(metrics[key]) for key in shown}, "bars": dg.MetadataValue.json(asdict(bars))},
    )


@dg.asset_check(asset=demand_forecast, blocking=True, description="WAPE beats seasonal-naive by the bar.")
def demand_forecast_beats_baseline(futuremart: FutureMartResource) -> dg.AssetCheckResult:
    return _check(futuremart, "demand_forecast", forecast_passes, ("wape", "baseline_wape", "wape_gain"))


@dg.asset_check(asset=price_elasticity, blocking=True, description="Every elasticity negative and precise to the bar.")
def price_elasticity_is_precise(futuremart: FutureMartResource) -> dg.AssetCheckResult:
    return _check(futuremart, "price_elasticity", elasticity_passes, ("median_relative_ci", "negative_share"))


@dg.asset_check(asset=customer_segments, blocking=True, description="Segments separated: silhouette over the bar.")
def customer_segments_are_separated(futuremart: FutureMartResource) -> dg.AssetCheckResult:
    return _check(futuremart, "customer_segmentation", segmentation_passes, ("silhouette",))


ml_assets = [demand_forecast, price_elasticity, price_recommendations, customer_segments]
ml_checks = [demand_forecast_beats_baseline, price_elasticity_is_precise, customer_segments_are_separated]
