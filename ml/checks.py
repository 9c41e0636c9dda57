"""Pass/fail of each model's metrics against its bars (``futuremart.settings.MlBars``), as plain functions so
the Dagster checks and the tests judge a model the same way."""

from __future__ import annotations

from futuremart.settings import MlBars


def forecast_passes(metrics: dict[str, float], bars: MlBars) -> bool:
    """The forecast's WAPE beats seasonal-naive's by at least ``bars.wape_gain``."""
    return metrics["wape_gain"] >= bars.wape_gain


def elasticity_passes(metrics: dict[str, float], bars: MlBars) -> bool:
    """Every category's elasticity is negative and the median relative 95% CI half-width is within the bar."""
    return metrics["negative_share"] == 1.0 and metrics["median_relative_ci"] <= bars.elasticity_ci


def segmentation_passes(metrics: dict[str, float], bars: MlBars) -> bool:
    """The segments are separated: silhouette at least ``bars.silhouette``."""
    return metrics["silhouette"] >= bars.silhouette


def recommendations_pass(metrics: dict[str, float], bars: MlBars) -> bool:
    """Precision@10 on the held-out weeks beats the popularity baseline's by at least ``bars.reco_precision_gain``."""
    return metrics["precision_gain"] >= bars.reco_precision_gain
