"""The demand model: expected order lines per product, region and day from the planted effects.

    lambda[p, r, t] = base_p × region_share_r × season_c(t) × weekday(t) × holiday(t) × december(t)
                      × weather_c(r, t) × (price_pt / reference_p) ** elasticity_c
                      × competitor_index_pt ** gamma × scale factor

Counts of lines are Poisson(lambda); each line sells 1 + Poisson(quantity_extra_c) units.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ingestion.world.calendar import day_factors, season_factor
from ingestion.world.catalog import Catalog
from ingestion.world.customers import REGION_WEIGHTS
from ingestion.world.params import CATEGORY_PARAMS, COMPETITOR_PRICE_GAMMA


@dataclass(frozen=True)
class DemandModel:
    region_codes: list[str]
    base: np.ndarray  # [product] lines per day before effects (scale factor included)
    region_share: np.ndarray  # [region]
    elasticity: np.ndarray  # [product]
    quantity_extra: np.ndarray  # [product]
    common: np.ndarray  # [product, day] season × weekday × holiday × december
    weather: np.ndarray  # [day, product, region] weather effect (day first: the simulation reads a day at a time)
    price_effect: np.ndarray  # [product, day] (price / reference) ** elasticity
    competitor_effect: np.ndarray  # [product, day]

    def expected_lines_by_day(self) -> np.ndarray:
        """Expected lines per day, product and region (shape [day, product, region])."""
        product_day = self.base[:, None] * self.common * self.price_effect * self.competitor_effect
        return product_day.T[:, :, None] * self.region_share[None, None, :] * self.weather

    def mean_daily_lines(self) -> np.ndarray:
        """Average expected lines per product and region over the period (for stock planning)."""
        return self.expected_lines_by_day().mean(axis=0)


def build_demand_model(
    scale_factor: float,
    catalog: Catalog,
    weather: pd.DataFrame,
    competitor_index: np.ndarray,
    region_codes: list[str],
    days: pd.DatetimeIndex,
) -> DemandModel:
    params = {p.category_id: p for p in CATEGORY_PARAMS}
    products = catalog.products
    cats = products["category_id"].to_numpy()
    per_cat = np.array([params[c].base_lines_per_day for c in cats])
    # Popularity sums to 1 inside a category, so a category's base is shared by its products.
    base = per_cat * products["popularity"].to_numpy() * scale_factor
    elasticity = np.array([params[c].elasticity for c in cats])
    doy = days.dayofyear.to_numpy()
    calendar = day_factors(days)
    day_common = (calendar["weekday_factor"] * calendar["holiday_factor"] * calendar["december_factor"]).to_numpy()
    season = np.stack([season_factor(doy, params[c].season_amplitude, params[c].season_peak_doy) for c in cats])
    region_share = np.array([REGION_WEIGHTS.get(r, 0.1) for r in region_codes])
    region_share = region_share / region_share.sum()

    w = weather.set_index(["region_code", "date"])
    temp_anom = np.stack([(w.loc[r, "temp_c"] - w.loc[r, "temp_normal_c"]).to_numpy() for r in region_codes])
    rainy = np.stack([(w.loc[r, "rain_mm"] >= 1.0).to_numpy() for r in region_codes])
    temp_eff = np.array([params[c].temp_effect_per_10c for c in cats])
    rain_eff = np.array([params[c].rain_effect for c in cats])
    weather_effect = np.exp(temp_eff[None, :, None] * temp_anom.T[:, None, :] / 10.0) * (
        1.0 + rain_eff[None, :, None] * rainy.T[:, None, :]
    )
    relative_price = catalog.list_multiplier * (1 - catalog.discount)
    return DemandModel(
        region_codes=region_codes,
        base=base,
        region_share=region_share,
        elasticity=elasticity,
        quantity_extra=np.array([params[c].quantity_extra for c in cats]),
        common=season * day_common[None, :],
        weather=weather_effect,
        price_effect=relative_price ** elasticity[:, None],
        competitor_effect=competitor_index**COMPETITOR_PRICE_GAMMA,
    )
