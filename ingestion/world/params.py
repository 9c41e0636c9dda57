"""The planted parameters of the synthetic retailer: the causal model's ground truth.

Every number here is written to ``<home>/truth/`` by ``ingestion.truth`` so that marts, models and reports
can be graded against the values that generated the data, not against themselves.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import pandas as pd


@dataclass(frozen=True)
class CategoryParams:
    category_id: str
    elasticity: float  # d log(units) / d log(price / reference price)
    base_lines_per_day: float  # expected order lines per day for the whole category at SF1, before effects
    season_amplitude: float  # relative swing of the yearly cycle
    season_peak_doy: int  # day of year of the seasonal peak
    temp_effect_per_10c: float  # log-effect of +10 °C above the region's normal temperature
    rain_effect: float  # relative change on rainy days (rain_mm >= 1)
    quantity_extra: float  # units per line = 1 + Poisson(quantity_extra)
    variant_kind: str | None  # "apparel", "shoes" or None (one variant)
    # Everyday goods a customer buys again and again (their favourites in ingestion.world.taste).
    repeatable: bool = False


CATEGORY_PARAMS: tuple[CategoryParams, ...] = (
    CategoryParams("CAT01", -1.6, 42.0, 0.18, 110, 0.00, -0.04, 0.15, "apparel"),
    CategoryParams("CAT02", -1.4, 30.0, 0.15, 300, -0.05, -0.04, 0.15, "apparel"),
    CategoryParams("CAT03", -1.2, 30.0, 0.12, 100, 0.00, -0.08, 0.05, "shoes"),
    CategoryParams("CAT04", -2.0, 30.0, 0.30, 340, 0.00, 0.06, 0.05, None),
    CategoryParams("CAT05", -1.8, 16.0, 0.22, 235, 0.00, 0.04, 0.02, None),
    CategoryParams("CAT06", -1.1, 36.0, 0.10, 320, -0.05, 0.10, 0.30, None),
    CategoryParams("CAT07", -0.9, 26.0, 0.10, 90, 0.00, 0.05, 0.02, None),
    CategoryParams("CAT08", -0.8, 40.0, 0.08, 130, 0.05, 0.03, 0.60, None, repeatable=True),
    CategoryParams("CAT09", -1.3, 26.0, 0.35, 175, 0.30, -0.25, 0.20, None),
    CategoryParams("CAT10", -1.5, 22.0, 0.40, 345, 0.00, 0.08, 0.25, None),
    CategoryParams("CAT11", -0.8, 40.0, 0.06, 330, 0.00, 0.06, 1.20, None, repeatable=True),
    CategoryParams("CAT12", -1.0, 26.0, 0.10, 350, -0.05, 0.15, 0.30, None),
)

# Competitors' price moves feed back into our demand: +10% on their price index -> +gamma*10% on ours.
COMPETITOR_PRICE_GAMMA = 0.6
COMPETITORS = ("ShopRival", "MegaMart Online", "BudgetBay")
# Share of products whose prices competitors are observed to carry.
COMPETITOR_COVERAGE = 0.35

VARIANTS = {
    "apparel": {"sizes": ("XS", "S", "M", "L", "XL"), "size_share": (0.08, 0.22, 0.32, 0.26, 0.12)},
    "shoes": {"sizes": ("38", "40", "42", "44", "46"), "size_share": (0.12, 0.24, 0.30, 0.24, 0.10)},
}
COLOURS = ("black", "white", "navy", "grey", "red", "green", "beige")


@dataclass(frozen=True)
class Persona:
    name: str
    share: float  # of customers
    visits_per_year: float  # relative propensity to shop on a given day
    basket_lines: float  # relative propensity to take lines once shopping
    price_sensitivity: float  # >0 favours discounted lines: weight *= (1 - discount) ** -price_sensitivity
    premium_taste: float  # weight *= (price / category median) ** premium_taste
    affinity: dict[str, float]  # category multipliers (others 1)
    channel_mix: tuple[float, float, float]  # web, app, marketplace
    email_consent: float
    push_consent: float
    gift_season_boost: float  # visit multiplier from 20 Nov to 24 Dec
    lapses: bool  # stops buying at a planted date


PERSONAS: tuple[Persona, ...] = (
    Persona(
        name="bargain_hunter",
        share=0.22,
        visits_per_year=9.0,
        basket_lines=1.2,
        price_sensitivity=2.5,
        premium_taste=-0.6,
        affinity={"CAT08": 2.0, "CAT11": 2.5, "CAT10": 1.6},
        channel_mix=(0.35, 0.55, 0.10),
        email_consent=0.80,
        push_consent=0.70,
        gift_season_boost=1.0,
        lapses=False,
    ),
    Persona(
        name="loyal_premium",
        share=0.14,
        visits_per_year=16.0,
        basket_lines=4.0,
        price_sensitivity=-0.5,
        premium_taste=0.9,
        affinity={"CAT04": 2.5, "CAT05": 2.5, "CAT07": 2.5},
        channel_mix=(0.60, 0.38, 0.02),
        email_consent=0.88,
        push_consent=0.45,
        gift_season_boost=1.0,
        lapses=False,
    ),
    Persona(
        name="occasional_gifter",
        share=0.20,
        visits_per_year=2.5,
        basket_lines=2.0,
        price_sensitivity=0.5,
        premium_taste=0.2,
        affinity={"CAT10": 3.0, "CAT12": 2.5, "CAT08": 1.5},
        channel_mix=(0.80, 0.10, 0.10),
        email_consent=0.40,
        push_consent=0.10,
        gift_season_boost=5.0,
        lapses=False,
    ),
    Persona(
        name="window_shopper",
        share=0.30,
        visits_per_year=1.4,
        basket_lines=1.0,
        price_sensitivity=1.0,
        premium_taste=0.0,
        affinity={"CAT01": 2.5, "CAT02": 2.0, "CAT03": 2.5},
        channel_mix=(0.30, 0.60, 0.10),
        email_consent=0.30,
        push_consent=0.35,
        gift_season_boost=1.0,
        lapses=False,
    ),
    Persona(
        name="lapsed",
        share=0.14,
        visits_per_year=8.0,
        basket_lines=1.8,
        price_sensitivity=1.0,
        premium_taste=0.0,
        affinity={"CAT06": 2.0, "CAT09": 2.0},
        channel_mix=(0.55, 0.30, 0.15),
        email_consent=0.50,
        push_consent=0.20,
        gift_season_boost=1.0,
        lapses=True,
    ),
)

WAREHOUSES = pd.DataFrame(
    {
        "warehouse_id": ["WH-EAST", "WH-CENTRAL", "WH-WEST"],
        "warehouse_name": ["Newark fulfilment centre", "Columbus fulfilment centre", "Reno fulfilment centre"],
        "serves_regions": ["NE,SE", "MW,SW", "MT,WC"],
        # Fulfilment speed differs by site: mean hours from order to pick, pick to pack, pack to ship.
        "pick_hours": [5.0, 8.0, 4.0],
        "pack_hours": [1.5, 2.5, 1.0],
        "ship_hours": [6.0, 10.0, 5.0],
    }
)


def region_warehouse() -> dict[str, str]:
    return {
        r: w
        for w, regions in zip(WAREHOUSES["warehouse_id"], WAREHOUSES["serves_regions"], strict=True)
        for r in regions.split(",")
    }


def category_params_frame() -> pd.DataFrame:
    return pd.DataFrame([asdict(p) for p in CATEGORY_PARAMS])


def personas_frame() -> pd.DataFrame:
    rows = []
    for p in PERSONAS:
        row = asdict(p)
        row["affinity"] = ";".join(f"{k}={v}" for k, v in sorted(p.affinity.items()))
        row["channel_mix"] = ";".join(
            f"{c}={s}" for c, s in zip(("web", "app", "marketplace"), p.channel_mix, strict=True)
        )
        rows.append(row)
    return pd.DataFrame(rows)
