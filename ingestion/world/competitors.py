"""Competitor prices: a daily price index per covered product that drifts, and the observations scraped
from it. The index feeds back into our demand (``COMPETITOR_PRICE_GAMMA``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ingestion.world.params import COMPETITOR_COVERAGE, COMPETITORS
from ingestion.world.random import rng_for


def generate_competitor_prices(
    seed: int, products: pd.DataFrame, days: pd.DatetimeIndex
) -> tuple[np.ndarray, pd.DataFrame]:
    """Return ``(index, observations)``: index[product, day] is the competitors' mean price over our
    reference price (1 where nobody carries the product); observations are what a price scraper records."""
    rng = rng_for(seed, "competitors")
    n, n_days = len(products), len(days)
    index = np.ones((n, n_days))
    covered = np.flatnonzero(rng.random(n) < COMPETITOR_COVERAGE)
    ref = products["ref_price_cents"].to_numpy()
    frames = []
    day_dates = days.date  # one date object per day, looked up per observation (hundreds of thousands at SF1)
    for k, name in enumerate(COMPETITORS):
        level = rng.normal(1.0, 0.06, len(covered))
        walk = np.cumsum(rng.normal(0, 0.012, (len(covered), n_days)), axis=1)
        # Mean-reverting drift with occasional competitor sales.
        walk -= np.linspace(0, 1, n_days)[None, :] * walk[:, -1:]
        sale = rng.random((len(covered), n_days)) < 0.01
        sale = np.maximum.accumulate(np.where(sale, np.arange(n_days)[None, :], -99), axis=1)
        in_sale = (np.arange(n_days)[None, :] - sale) < 5
        ratio = np.clip(level[:, None] * np.exp(walk) * np.where(in_sale, 0.85, 1.0), 0.6, 1.5)
        index[covered] += (ratio - 1.0) / len(COMPETITORS)
        # Each competitor is scraped on some days only (every 2–4 days per product).
        seen = rng.random((len(covered), n_days)) < 1.0 / (2 + k)
        rows, cols = np.nonzero(seen)
        frames.append(
            pd.DataFrame(
                {
                    "competitor": name,
                    "product_id": products["product_id"].to_numpy()[covered[rows]],
                    "observed_on": day_dates[cols],
                    "price_cents": np.round(ref[covered[rows]] * ratio[rows, cols]).astype(np.int64),
                }
            )
        )
    observations = pd.concat(frames, ignore_index=True).sort_values(["observed_on", "competitor", "product_id"])
    return index, observations.reset_index(drop=True)
