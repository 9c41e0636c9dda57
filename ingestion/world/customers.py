"""CRM customer profiles: identities from Faker pools, behaviour parameters from NumPy."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from ingestion.world.pools import Pools
from ingestion.world.random import rng_for

CUSTOMERS_AT_SF1 = 20_000


def generate_customers(
    seed: int,
    scale_factor: float,
    regions: pd.DataFrame,
    pools: Pools,
    start_date: dt.date,
    end_date: dt.date,
) -> pd.DataFrame:
    """One row per customer; ``order_rate`` (orders per year) is latent and not exported."""
    rng = rng_for(seed, "customers")
    n = max(int(round(CUSTOMERS_AT_SF1 * scale_factor)), 10)
    ids = np.arange(1, n + 1)
    first = pools.first_names[rng.integers(0, len(pools.first_names), n)]
    last = pools.last_names[rng.integers(0, len(pools.last_names), n)]
    # Ids in the address keep emails unique without a Python loop over customers.
    local = pd.Series(first).str.lower() + "." + pd.Series(last).str.lower().str.replace(r"[^a-z]", "", regex=True)
    domains = pools.email_domains[rng.integers(0, len(pools.email_domains), n)]
    email = local + pd.Series(ids).astype(str) + "@" + domains
    digits = rng.integers(200, 999, (n, 2))
    line = rng.integers(0, 10_000, n)
    phone = pd.Series(
        [f"+1-{a}-{b}-{c:04d}" for a, b, c in zip(digits[:, 0], digits[:, 1], line, strict=True)],
        dtype=object,
    )
    phone[rng.random(n) < 0.12] = None
    # Each region owns a disjoint slice of the city pool so city implies region.
    region_weights = np.array([0.2, 0.22, 0.18, 0.12, 0.08, 0.2])[: len(regions)]
    region_idx = rng.choice(len(regions), n, p=region_weights / region_weights.sum())
    per_region = len(pools.cities) // len(regions)
    city = pools.cities[region_idx * per_region + rng.integers(0, per_region, n)]
    birth = pd.Timestamp("1950-01-01") + pd.to_timedelta(rng.integers(0, 56 * 365, n), unit="D")
    birth_date = pd.Series(birth.date, dtype=object)
    birth_date[rng.random(n) < 0.08] = None
    # 60% of customers existed before the first day; the rest sign up during the period.
    period_days = (end_date - start_date).days + 1
    before = rng.random(n) < 0.6
    offset_days = np.where(before, -rng.integers(1, 5 * 365, n), rng.integers(0, period_days, n))
    signed_up = (
        pd.Timestamp(start_date)
        + pd.to_timedelta(offset_days, unit="D")
        + pd.to_timedelta(rng.integers(0, 86_400, n), unit="s")
    )
    order_rate = rng.gamma(1.4, 2.2, n)
    tier = np.select([order_rate > 7.5, order_rate > 5.0, order_rate > 3.0], ["platinum", "gold", "silver"], "none")
    return pd.DataFrame(
        {
            "customer_id": [f"C{i:07d}" for i in ids],
            "email": email,
            "first_name": first,
            "last_name": last,
            "phone": phone,
            "street_address": pools.streets[rng.integers(0, len(pools.streets), n)],
            "city": city,
            "region_code": regions["region_code"].to_numpy()[region_idx],
            "country_code": regions["country_code"].to_numpy()[region_idx],
            "birth_date": birth_date,
            "signed_up_at": signed_up,
            "loyalty_tier": tier,
            "marketing_opt_in": rng.random(n) < 0.55,
            "order_rate": order_rate,
        }
    )
