"""Demand forecast per product and day, 28 days ahead, graded against a seasonal-naive baseline.

The model is a gradient-boosted regressor with a Poisson loss (sales counts are small integers, effects are
multiplicative) on calendar, holiday, weather, price, promotion and competitor features plus each product's
own sales level over the training window. It is judged on a time-based backtest: trained on everything
before the last ``horizon`` days, it forecasts those days from the forecast origin, and its WAPE is compared
with the seasonal-naive forecast from the same origin (each day gets the units sold on the same weekday of
the last week before the origin).

Future covariates in the backtest: prices and promotions are the retailer's own plan, so the actual ones are
used; the actual weather stands in for a weather forecast. For the live forecast (after the last day),
prices stay at the last list price without promotions, weather at its seasonal normal (anomaly 0, the
training window's average rainy share) and the competitor index at its last value.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingRegressor

from ml.features import CALENDAR_FEATURES, PRICE_FEATURES, WEATHER_FEATURES

HORIZON_DAYS = 28
SEED = 42
TARGET = "units"
LEVEL_FEATURES = ["log_product_level", "log_category_level", "category_code"]
FEATURES = CALENDAR_FEATURES + WEATHER_FEATURES + PRICE_FEATURES + LEVEL_FEATURES
# Small, fixed boosting budget: the fit stays within seconds at scale 1 on two cores.
MODEL_PARAMS = {
    "loss": "poisson",
    "learning_rate": 0.1,
    "max_iter": 100,
    "max_leaf_nodes": 31,
    "min_samples_leaf": 200,
    "early_stopping": False,
    "random_state": SEED,
}


@dataclass
class DemandForecast:
    """A trained forecaster, its backtest metrics and the live forecast."""

    model: HistGradientBoostingRegressor
    levels: pd.DataFrame  # per product: log_product_level, log_category_level, category_code
    metrics: dict[str, float]
    forecast: pd.DataFrame  # product_id, forecast_date, horizon_day, predicted_units
    backtest: pd.DataFrame  # product_id, date, units, predicted_units, baseline_units
    training_window: tuple[str, str]
    features: list[str] = field(default_factory=lambda: list(FEATURES))


def product_levels(train: pd.DataFrame) -> pd.DataFrame:
    """Each product's mean daily units on in-stock days of ``train`` (shrunk towards its category's mean, so
    a product with few sales days is not judged on noise), as logs, with a stable category code."""
    in_stock = train[train["is_stockout"] == 0]
    per_product = in_stock.groupby("product_id").agg(
        category_id=("category_id", "first"), units=(TARGET, "sum"), days=(TARGET, "size")
    )
    category_rate = per_product.groupby("category_id")["units"].sum() / per_product.groupby("category_id")["days"].sum()
    prior = per_product["category_id"].map(category_rate)
    # Empirical-Bayes shrinkage with a prior worth 30 days of sales.
    rate = (per_product["units"] + 30 * prior) / (per_product["days"] + 30)
    categories = sorted(per_product["category_id"].unique())
    return pd.DataFrame(
        {
            "log_product_level": np.log(rate + 1e-4),
            "log_category_level": np.log(prior + 1e-4),
            "category_code": per_product["category_id"].map({c: i for i, c in enumerate(categories)}),
        }
    )


def _design(panel: pd.DataFrame, levels: pd.DataFrame) -> pd.DataFrame:
    return panel.join(levels, on="product_id")[FEATURES].astype(float)


def _fit(train: pd.DataFrame) -> tuple[HistGradientBoostingRegressor, pd.DataFrame]:
    levels = product_levels(train)
    # Stockout days are censored demand: learning from them would teach the model that stockouts sell less.
    rows = train[train["is_stockout"] == 0]
    model = HistGradientBoostingRegressor(**MODEL_PARAMS, categorical_features=[FEATURES.index("category_code")]).fit(
        _design(rows, levels), rows[TARGET]
    )
    return model, levels


def seasonal_naive(history: pd.DataFrame, days: pd.DatetimeIndex) -> pd.DataFrame:
    """Same weekday last week, from the forecast origin: each day of ``days`` gets the units sold on the same
    weekday in the last seven days of ``history``. Returns product_id, date, baseline_units."""
    last_week = history[history["date"] > history["date"].max() - pd.Timedelta(days=7)]
    by_weekday = last_week.assign(weekday=last_week["date"].dt.dayofweek)[["product_id", "weekday", TARGET]]
    future = pd.MultiIndex.from_product([history["product_id"].unique(), days], names=["product_id", "date"])
    frame = future.to_frame(index=False).assign(weekday=lambda f: f["date"].dt.dayofweek)
    merged = frame.merge(by_weekday, on=["product_id", "weekday"], how="left")
    return merged.rename(columns={TARGET: "baseline_units"}).fillna({"baseline_units": 0.0})[
        ["product_id", "date", "baseline_units"]
    ]


def wape(actual: np.ndarray, predicted: np.ndarray) -> float:
    """Weighted absolute percentage error: sum |actual - predicted| / sum actual."""
    return float(np.abs(actual - predicted).sum() / max(float(np.sum(actual)), 1e-9))


def backtest(panel: pd.DataFrame, horizon: int = HORIZON_DAYS) -> tuple[dict[str, float], pd.DataFrame]:
    """Train on all days before the last ``horizon`` days, forecast those, and grade the model and the
    seasonal-naive baseline by WAPE on every product and day of the holdout (stockout days included: the
    forecast is judged on the sales that happened)."""
    cutoff = panel["date"].max() - pd.Timedelta(days=horizon)
    train, test = panel[panel["date"] <= cutoff], panel[panel["date"] > cutoff]
    model, levels = _fit(train)
    scored = test[["product_id", "date", TARGET]].assign(predicted_units=model.predict(_design(test, levels)))
    days = pd.DatetimeIndex(sorted(test["date"].unique()))
    scored = scored.merge(seasonal_naive(train, days), on=["product_id", "date"], how="left")
    model_wape = wape(scored[TARGET].to_numpy(), scored["predicted_units"].to_numpy())
    baseline_wape = wape(scored[TARGET].to_numpy(), scored["baseline_units"].to_numpy())
    metrics = {
        "wape": round(model_wape, 4),
        "baseline_wape": round(baseline_wape, 4),
        "wape_gain": round(1 - model_wape / baseline_wape, 4) if baseline_wape else 0.0,
        "backtest_days": float(horizon),
        "backtest_rows": float(len(scored)),
        "backtest_units": float(scored[TARGET].sum()),
        "train_rows": float(len(train)),
    }
    return metrics, scored.rename(columns={TARGET: "units"})


def future_panel(panel: pd.DataFrame, horizon: int = HORIZON_DAYS) -> pd.DataFrame:
    """Covariates of the ``horizon`` days after the panel's last day (see the module docstring)."""
    last_day = panel["date"].max()
    last = panel[panel["date"] == last_day].set_index("product_id")
    days = pd.date_range(last_day + pd.Timedelta(days=1), periods=horizon, freq="D")
    frame = pd.MultiIndex.from_product([last.index, days], names=["product_id", "date"]).to_frame(index=False)
    frame["category_id"] = frame["product_id"].map(last["category_id"])
    first_list = panel.groupby("product_id")["list_price"].first()
    frame["log_price_ratio"] = np.log(frame["product_id"].map(last["list_price"] / first_list))
    frame["discount_pct"], frame["is_promoted"] = 0.0, 0
    frame["competitor_index"] = frame["product_id"].map(last["competitor_index"])
    frame["active_campaigns"] = 0
    frame["temp_anomaly_c"] = 0.0
    rainy_by_month = panel.groupby(panel["date"].dt.month)["rainy_region_share"].mean()
    frame["rainy_region_share"] = frame["date"].dt.month.map(rainy_by_month).fillna(panel["rainy_region_share"].mean())
    frame["day_of_week"] = frame["date"].dt.dayofweek + 1
    frame["day_of_year"] = frame["date"].dt.dayofyear
    frame["month"] = frame["date"].dt.month
    frame["is_weekend"] = (frame["day_of_week"] >= 6).astype(int)
    holidays = set(panel.loc[panel["is_holiday"] == 1, "date"].dt.strftime("%m-%d"))
    frame["is_holiday"] = frame["date"].dt.strftime("%m-%d").isin(holidays).astype(int)
    christmas = pd.to_datetime(frame["date"].dt.year.astype(str) + "-12-25")
    frame["days_to_christmas"] = (christmas - frame["date"]).dt.days
    # After Christmas the next one is a year away: clip as the training features are clipped.
    frame["days_to_christmas"] = frame["days_to_christmas"].where(frame["days_to_christmas"] >= -7, 60).clip(-7, 60)
    return frame


def train_demand_forecast(
    panel: pd.DataFrame, horizon: int = HORIZON_DAYS, backtest_only: bool = False
) -> DemandForecast:
    """Backtest on the last ``horizon`` days, then retrain on the whole panel and forecast the next
    ``horizon`` days per product. ``panel`` is :func:`ml.features.product_day_panel`'s frame.

    Returns the final model, the backtest metrics (``wape``, ``baseline_wape``, ``wape_gain`` = 1 - model
    WAPE / baseline WAPE, ...), the backtest rows and the forecast (product_id, forecast_date, horizon_day,
    predicted_units). ``backtest_only`` skips the retraining (the forecast is then empty).
    """
    metrics, scored = backtest(panel, horizon)
    window = (str(panel["date"].min().date()), str(panel["date"].max().date()))
    if backtest_only:
        return DemandForecast(None, pd.DataFrame(), metrics, pd.DataFrame(), scored, window)  # type: ignore[arg-type]
    model, levels = _fit(panel)
    future = future_panel(panel, horizon)
    forecast = future[["product_id", "date"]].rename(columns={"date": "forecast_date"})
    forecast["horizon_day"] = (future["date"] - panel["date"].max()).dt.days.astype(int)
    forecast["predicted_units"] = model.predict(_design(future, levels)).round(4)
    return DemandForecast(model, levels, metrics, forecast, scored, window)
