"""Price elasticity per category and recommended prices within guard-rails.

Elasticity: a Poisson regression of daily order lines per product with product fixed effects (popularity,
price tier) and category × day fixed effects (season, weekday, holidays, weather, category and sitewide
sales, competitor moves, campaigns: everything that moves the whole category on a day), so the elasticity
is identified by each product's own price moves (markdowns, list-price changes) against its category's
other products on the same day. Days on which the product was out of stock somewhere are left out: their
sales are censored by stock, not by price, and would bias the estimate towards zero.

Recommendations: for each product, the price on a grid inside the guard-rails (at most ``max_change`` from
the current list price, at least unit cost × (1 + ``min_margin``), at most the competitor reference ×
(1 + ``competitor_cap``)) that maximizes expected margin under the category's constant elasticity.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

ITERATIONS = 60
GRID_POINTS = 61


def poisson_fe_elasticity(y: np.ndarray, x: np.ndarray, keep: np.ndarray, iterations: int = ITERATIONS):
    """log E[y_pt] = a_p + b_t + e · x_pt on the cells where ``keep``; arrays are [product, day].

    Alternating closed-form updates of the fixed effects and a Newton step for ``e``. Returns ``(e, se)``:
    the elasticity and its standard error from the concentrated Fisher information.
    """
    keep = keep.astype(float)
    e, b = -1.0, np.ones(y.shape[1])
    a = np.ones(y.shape[0])
    for _ in range(iterations):
        g = np.exp(e * x)
        a = (keep * y).sum(1) / np.maximum((keep * b[None, :] * g).sum(1), 1e-12)
        b = (keep * y).sum(0) / np.maximum((keep * a[:, None] * g).sum(0), 1e-12)
        mu = a[:, None] * b[None, :] * g
        step = (keep * x * (y - mu)).sum() / max((keep * x**2 * mu).sum(), 1e-12)
        e += float(np.clip(step, -1.0, 1.0))
    mu = keep * a[:, None] * b[None, :] * np.exp(e * x)
    # Information for e once the day effects are profiled out: the price variation within each day.
    x_day = (mu * x).sum(0) / np.maximum(mu.sum(0), 1e-12)
    info = (mu * (x - x_day[None, :]) ** 2).sum()
    se = float(1 / np.sqrt(info)) if info > 0 else float("inf")
    return float(e), se


def estimate_price_elasticity(panel: pd.DataFrame, price_column: str = "effective_price") -> pd.DataFrame:
    """Elasticity per category from :func:`ml.features.product_day_panel`'s frame.

    Returns one row per category: category_id, elasticity, std_error, ci_low, ci_high (95%),
    relative_ci (CI half-width / |elasticity|), products, lines, days_used (product-days in stock).
    """
    rows = []
    for category, group in panel.groupby("category_id", sort=True):
        wide = group.pivot(index="product_id", columns="date")
        y = wide["lines"].to_numpy(dtype=float)
        x = np.log(wide[price_column].to_numpy(dtype=float))
        # Centred per product (the product effect absorbs the level): keeps the Newton step well scaled.
        x = x - x.mean(axis=1, keepdims=True)
        keep = wide["is_stockout"].to_numpy() == 0
        # Products that never sold carry no information (their fixed effect is zero).
        sold = (y * keep).sum(axis=1) > 0
        elasticity, se = poisson_fe_elasticity(y[sold], x[sold], keep[sold])
        rows.append(
            {
                "category_id": category,
                "elasticity": round(elasticity, 4),
                "std_error": round(se, 4),
                "ci_low": round(elasticity - 1.96 * se, 4),
                "ci_high": round(elasticity + 1.96 * se, 4),
                "relative_ci": round(1.96 * se / max(abs(elasticity), 1e-9), 4),
                "products": int(sold.sum()),
                "lines": int(y[sold].sum()),
                "days_used": int(keep[sold].sum()),
            }
        )
    return pd.DataFrame(rows)


def elasticity_metrics(elasticities: pd.DataFrame) -> dict[str, float]:
    """Summary of an elasticity table for checks and metadata (no ground truth involved)."""
    return {
        "categories": float(len(elasticities)),
        "median_relative_ci": round(float(elasticities["relative_ci"].median()), 4),
        "max_relative_ci": round(float(elasticities["relative_ci"].max()), 4),
        "negative_share": round(float((elasticities["elasticity"] < 0).mean()), 4),
        "mean_elasticity": round(float(elasticities["elasticity"].mean()), 4),
    }


@dataclass(frozen=True)
class GuardRails:
    """Bounds on a recommended price (shares, e.g. 0.15 = 15%)."""

    max_change: float
    min_margin: float
    competitor_cap: float


def recommend_prices(
    products: pd.DataFrame, elasticities: pd.DataFrame, rails: GuardRails, grid_points: int = GRID_POINTS
) -> pd.DataFrame:
    """Margin-maximizing price per product within the guard-rails.

    ``products``: product_id, category_id, current_price, unit_cost, competitor_price (the reference to stay
    near; may be missing) and baseline_units (expected units at the current price over the planning
    period). Expected units at price p are baseline_units × (p / current_price) ** elasticity.

    Returns per product: the bounds, recommended_price, expected units, revenue and margin at the current and
    recommended price, and ``constrained_by`` (the binding rail, or ``none``). When the rails contradict each
    other (the cost floor lies above the competitor cap), the cost floor wins: never sell below it.
    """
    frame = products.merge(elasticities[["category_id", "elasticity"]], on="category_id", how="left")
    current = frame["current_price"].to_numpy(float)
    cost = frame["unit_cost"].to_numpy(float)
    competitor = frame["competitor_price"].to_numpy(float)
    floor_cost = cost * (1 + rails.min_margin)
    cap_competitor = np.where(np.isnan(competitor), np.inf, competitor * (1 + rails.competitor_cap))
    low = np.maximum(current * (1 - rails.max_change), floor_cost)
    high = np.minimum(current * (1 + rails.max_change), cap_competitor)
    high = np.maximum(high, low)  # the cost floor wins over the competitor cap
    steps = np.linspace(0, 1, grid_points)
    grid = low[:, None] + (high - low)[:, None] * steps[None, :]
    e = frame["elasticity"].fillna(-1.0).to_numpy(float)
    base = frame["baseline_units"].to_numpy(float)
    units = base[:, None] * (grid / current[:, None]) ** e[:, None]
    margin = (grid - cost[:, None]) * units
    best = margin.argmax(axis=1)
    # Rounded to cents inside the rails (a rounded price must not step over a bound by half a cent).
    price = np.round(grid[np.arange(len(frame)), best], 2)
    price = np.maximum(np.minimum(price, np.floor(high * 100) / 100), np.ceil(low * 100) / 100)
    new_units = base * (price / current) ** e
    binding = np.select(
        [
            np.isclose(price, floor_cost) & (floor_cost >= current * (1 - rails.max_change)),
            np.isclose(price, cap_competitor),
            np.isclose(price, current * (1 + rails.max_change)) | np.isclose(price, current * (1 - rails.max_change)),
        ],
        ["min_margin", "competitor_cap", "max_change"],
        "none",
    )
    return pd.DataFrame(
        {
            "product_id": frame["product_id"],
            "category_id": frame["category_id"],
            "elasticity": e,
            "current_price": current,
            "unit_cost": cost,
            "competitor_price": competitor,
            "min_price": np.round(low, 2),
            "max_price": np.round(high, 2),
            "recommended_price": price,
            "price_change_pct": np.round(price / current - 1, 4),
            "baseline_units": base,
            "expected_units": np.round(new_units, 4),
            "current_revenue": np.round(current * base, 2),
            "expected_revenue": np.round(price * new_units, 2),
            "current_margin": np.round((current - cost) * base, 2),
            "expected_margin": np.round((price - cost) * new_units, 2),
            "constrained_by": binding,
        }
    )


def category_impact(recommendations: pd.DataFrame) -> pd.DataFrame:
    """Expected revenue and margin change per category if every recommendation is applied."""
    sums = recommendations.groupby("category_id")[
        ["current_revenue", "expected_revenue", "current_margin", "expected_margin"]
    ].sum()
    sums["products"] = recommendations.groupby("category_id").size()
    sums["revenue_change_pct"] = (sums["expected_revenue"] / sums["current_revenue"] - 1).round(4)
    sums["margin_change_pct"] = (sums["expected_margin"] / sums["current_margin"] - 1).round(4)
    return sums.round(2).reset_index()
