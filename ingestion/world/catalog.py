"""The product catalog (PIM): products, size variants, channel prices, suppliers, and the price calendar
(list-price changes, markdowns, category promotions) that drives demand through the planted elasticities."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ingestion.world.calendar import holidays
from ingestion.world.params import CATEGORY_PARAMS, VARIANTS
from ingestion.world.pools import Pools
from ingestion.world.random import rng_for

PRODUCTS_AT_SF1 = 2000
MIN_PRODUCTS = 240
SUPPLIERS = 40
BRANDS_PER_CATEGORY = 12
PRODUCTS_PER_BRAND = 6
CHANNEL_PRICE_FACTOR = {"web": 1.00, "app": 0.98, "marketplace": 1.06}
_ADJECTIVES = np.array(
    [
        "Classic",
        "Essential",
        "Premium",
        "Everyday",
        "Eco",
        "Urban",
        "Compact",
        "Deluxe",
        "Smart",
        "Vintage",
        "Active",
        "Pro",
        "Lite",
        "Signature",
        "Organic",
        "Modern",
    ],
    dtype=object,
)
_NOUNS = {
    "CAT01": ["Dress", "Blouse", "Skirt", "Cardigan", "Jeans"],
    "CAT02": ["Shirt", "Chinos", "Hoodie", "Jacket", "Polo"],
    "CAT03": ["Sneaker", "Boot", "Loafer", "Sandal", "Runner"],
    "CAT04": ["Headphones", "Speaker", "Smartwatch", "Camera", "Charger"],
    "CAT05": ["Laptop", "Tablet", "Monitor", "Keyboard", "Desktop"],
    "CAT06": ["Blender", "Pan Set", "Kettle", "Towel Set", "Lamp"],
    "CAT07": ["Sofa", "Desk", "Bookshelf", "Armchair", "Bed Frame"],
    "CAT08": ["Serum", "Shampoo", "Lotion", "Lipstick", "Razor"],
    "CAT09": ["Tent", "Yoga Mat", "Bike Helmet", "Backpack", "Dumbbells"],
    "CAT10": ["Puzzle", "Board Game", "Building Set", "Plush", "RC Car"],
    "CAT11": ["Coffee", "Olive Oil", "Tea", "Chocolate", "Granola"],
    "CAT12": ["Novel", "Cookbook", "Vinyl", "Graphic Novel", "Travel Guide"],
}


@dataclass(frozen=True)
class Catalog:
    products: pd.DataFrame  # one row per product, latent columns: popularity, ref_price_cents
    variants: pd.DataFrame  # one row per SKU: sku, product_id, size, colour, variant_share
    suppliers: pd.DataFrame
    price_changes: pd.DataFrame  # product_id, effective_from, list_price_cents
    promotions: pd.DataFrame  # promotion_id, scope, category_id, product_id, starts_on, ends_on, discount_pct
    list_multiplier: np.ndarray  # [product, day] list price / reference price
    discount: np.ndarray  # [product, day] markdown fraction in [0, 1)

    def effective_price_cents(self) -> np.ndarray:
        """Web sale price per product and day (reference price × list multiplier × (1 − discount))."""
        ref = self.products["ref_price_cents"].to_numpy()[:, None]
        return ref * self.list_multiplier * (1 - self.discount)


def n_products(scale_factor: float) -> int:
    return max(MIN_PRODUCTS, int(round(PRODUCTS_AT_SF1 * min(scale_factor, 1.0))))


def round_price(cents: np.ndarray | float) -> np.ndarray:
    """Nearest shelf price: whole dollars minus a cent (19.99), or .49 under ten dollars."""
    dollars = np.maximum(np.round(np.asarray(cents, dtype=float) / 100), 1)
    return np.where(dollars < 10, dollars * 100 + 49, dollars * 100 - 1).astype(np.int64)


def generate_catalog(
    seed: int, scale_factor: float, categories: pd.DataFrame, pools: Pools, days: pd.DatetimeIndex
) -> Catalog:
    rng = rng_for(seed, "catalog")
    n = n_products(scale_factor)
    cat_ids = [p.category_id for p in CATEGORY_PARAMS]
    # Every category gets products in proportion to its base demand, at least 12.
    weights = np.array([p.base_lines_per_day for p in CATEGORY_PARAMS])
    counts = np.maximum(12, np.floor(n * weights / weights.sum())).astype(int)
    counts[np.argmax(counts)] += n - counts.sum()
    category = np.repeat(cat_ids, counts)
    cats = categories.set_index("category_id").loc[category].reset_index()
    lo, hi = np.log(cats["min_price"].to_numpy() * 100), np.log(cats["max_price"].to_numpy() * 100)
    ref_price = round_price(np.exp(lo + rng.random(n) * (hi - lo)))
    ref_price = np.maximum(ref_price, 149)
    unit_cost = np.round(ref_price * rng.uniform(0.35, 0.65, n)).astype(np.int64)
    # Brands specialise: each category is served by a few brands of the pool (a brand may serve several),
    # the biggest with several times the range of the smallest, so that a customer's favourite brand is a
    # range of products, not one item. Drawn from their own stream; the catalog stream still makes the draw
    # it made for brands before (discarded), so names, prices, popularity and suppliers stay as they were.
    rng.integers(0, len(pools.companies), n)
    rng_brands = rng_for(seed, "catalog_brands")
    # A small catalog has fewer brands per category (one per PRODUCTS_PER_BRAND products, at least 3).
    n_brands = np.clip(counts // PRODUCTS_PER_BRAND, 3, BRANDS_PER_CATEGORY)
    brand_slots = np.zeros((len(cat_ids), BRANDS_PER_CATEGORY), dtype=np.int64)
    for i, k in enumerate(n_brands):
        brand_slots[i, :k] = rng_brands.choice(len(pools.companies), k, replace=False)
    brand_cum = np.cumsum(1 / np.arange(1, BRANDS_PER_CATEGORY + 1) ** 0.8)
    cat_idx = pd.Index(cat_ids).get_indexer(category)
    k_of = n_brands[cat_idx]
    slot = np.searchsorted(brand_cum, rng_brands.random(n) * brand_cum[k_of - 1], side="right").clip(0, k_of - 1)
    brands = pools.companies[brand_slots[cat_idx, slot]]
    nouns = np.array([_NOUNS[c][i] for c, i in zip(category, rng.integers(0, 5, n), strict=True)], dtype=object)
    names = brands + " " + _ADJECTIVES[rng.integers(0, len(_ADJECTIVES), n)] + " " + nouns
    product_ids = np.array([f"P{i:05d}" for i in range(1, n + 1)], dtype=object)
    # Skewed popularity inside each category (bestsellers and a long tail), normalized per category; lognormal,
    # not Pareto, so that no single product carries a whole category.
    popularity = rng.lognormal(0.0, 0.9, n)
    for c in cat_ids:
        mask = category == c
        popularity[mask] /= popularity[mask].sum()
    supplier_of_category = {c: rng.choice(SUPPLIERS, 4, replace=False) for c in cat_ids}
    supplier_idx = np.array([rng.choice(supplier_of_category[c]) for c in category])
    colour = np.array(["black", "white", "navy", "grey", "red", "green", "beige"], dtype=object)[rng.integers(0, 7, n)]
    products = pd.DataFrame(
        {
            "product_id": product_ids,
            "product_name": names,
            "brand": brands,
            "category_id": category,
            "colour": colour,
            "ref_price_cents": ref_price,
            "unit_cost_cents": unit_cost,
            "launched_on": (pd.Timestamp(days[0]) - pd.to_timedelta(rng.integers(30, 5 * 365, n), unit="D")).date,
            "supplier_id": np.array([f"SUP{i + 1:03d}" for i in supplier_idx], dtype=object),
            "popularity": popularity,
        }
    )
    variants = _variants(products)
    list_mult, price_changes = _list_price_path(rng, products, days)
    discount, promotions = _promotions(rng, products, days)
    return Catalog(
        products=products,
        variants=variants,
        suppliers=_suppliers(rng, pools),
        price_changes=price_changes,
        promotions=promotions,
        list_multiplier=list_mult,
        discount=discount,
    )


def _variants(products: pd.DataFrame) -> pd.DataFrame:
    kind = {p.category_id: p.variant_kind for p in CATEGORY_PARAMS}
    rows_pid, rows_size, rows_share = [], [], []
    for pid, cat in zip(products["product_id"], products["category_id"], strict=True):
        spec = VARIANTS.get(kind[cat] or "")
        if spec is None:
            rows_pid.append(pid)
            rows_size.append(None)
            rows_share.append(1.0)
            continue
        for size, share in zip(spec["sizes"], spec["size_share"], strict=True):
            rows_pid.append(pid)
            rows_size.append(size)
            rows_share.append(share / sum(spec["size_share"]))
    variants = pd.DataFrame({"product_id": rows_pid, "size": rows_size, "variant_share": rows_share})
    variants["sku"] = variants["product_id"].str.replace("P", "SKU", regex=False) + np.where(
        variants["size"].isna(), "", "-" + variants["size"].fillna("")
    )
    return variants[["sku", "product_id", "size", "variant_share"]]


def _list_price_path(rng: np.random.Generator, products: pd.DataFrame, days: pd.DatetimeIndex):
    """0–2 list-price changes per product over the period; multiplier of the reference price per day."""
    n, n_days = len(products), len(days)
    mult = np.ones((n, n_days), dtype=np.float64)
    changes = []
    n_changes = rng.choice([0, 1, 2], n, p=[0.35, 0.45, 0.20])
    for i in np.flatnonzero(n_changes):
        level = 1.0
        for start in np.sort(rng.choice(np.arange(14, n_days - 14), n_changes[i], replace=False)):
            level = float(np.clip(level * rng.choice([0.8, 0.85, 0.9, 1.1, 1.15, 1.2]), 0.7, 1.4))
            mult[i, start:] = level
            changes.append((i, start, level))
    ref = products["ref_price_cents"].to_numpy()
    price_changes = pd.DataFrame(
        {
            "product_id": products["product_id"].to_numpy()[[c[0] for c in changes]],
            "effective_from": days[[c[1] for c in changes]].date,
            "list_price_cents": round_price(ref[[c[0] for c in changes]] * np.array([c[2] for c in changes])),
        }
    )
    # The multiplier the demand model uses is the rounded shelf price over the reference price.
    for (i, start, _), cents in zip(changes, price_changes["list_price_cents"], strict=True):
        mult[i, start:] = cents / ref[i]
    initial = pd.DataFrame(
        {"product_id": products["product_id"], "effective_from": days[0].date(), "list_price_cents": ref}
    )
    price_changes = pd.concat([initial, price_changes], ignore_index=True)
    return mult, price_changes.sort_values(["product_id", "effective_from"]).reset_index(drop=True)


def _promotions(rng: np.random.Generator, products: pd.DataFrame, days: pd.DatetimeIndex):
    """Markdowns on single products, category sales and the Black Friday site-wide sale."""
    n, n_days = len(products), len(days)
    discount = np.zeros((n, n_days))
    rows = []
    # Product markdowns: about six a year per product, 3–10 days, 15–50% off. They give every
    # product its own price variation, which is what identifies the elasticities.
    n_markdowns = rng.poisson(6.0 * n_days / 365, n)
    product_ids = products["product_id"].to_numpy(dtype=object)
    for i in np.flatnonzero(n_markdowns):
        for _ in range(n_markdowns[i]):
            start = int(rng.integers(0, n_days - 3))
            end = min(n_days - 1, start + int(rng.integers(3, 11)) - 1)
            pct = float(rng.choice([0.15, 0.20, 0.25, 0.30, 0.40, 0.50]))
            discount[i, start : end + 1] = np.maximum(discount[i, start : end + 1], pct)
            rows.append(("markdown", None, product_ids[i], start, end, pct))
    categories = products["category_id"].to_numpy()
    for cat in sorted(set(categories)):
        for _ in range(2):
            start = int(rng.integers(0, n_days - 7))
            end = start + 6
            pct = float(rng.choice([0.15, 0.20, 0.25]))
            mask = categories == cat
            discount[mask, start : end + 1] = np.maximum(discount[mask, start : end + 1], pct)
            rows.append(("category_sale", cat, None, start, end, pct))
    for year in sorted(set(days.year)):
        hol = holidays([year])
        bf = hol.loc[hol["holiday_name"] == "Black Friday", "date"].iat[0]
        idx = np.flatnonzero((days.date >= bf) & (days.date <= bf + dt.timedelta(days=3)))
        if len(idx):
            discount[:, idx] = np.maximum(discount[:, idx], 0.20)
            rows.append(("sitewide_sale", None, None, int(idx[0]), int(idx[-1]), 0.20))
    promotions = pd.DataFrame(rows, columns=["scope", "category_id", "product_id", "start", "end", "discount_pct"])
    promotions = promotions.sort_values(["start", "scope", "category_id", "product_id"], na_position="first")
    promotions.insert(0, "promotion_id", [f"PR{i:05d}" for i in range(1, len(promotions) + 1)])
    promotions["starts_on"] = days[promotions["start"].to_numpy()].date
    promotions["ends_on"] = days[promotions["end"].to_numpy()].date
    return discount, promotions.drop(columns=["start", "end"]).reset_index(drop=True)


def _suppliers(rng: np.random.Generator, pools: Pools) -> pd.DataFrame:
    names = pools.companies[rng.integers(0, len(pools.companies), SUPPLIERS)]
    mean = np.round(rng.uniform(3, 18, SUPPLIERS), 1)
    return pd.DataFrame(
        {
            "supplier_id": [f"SUP{i:03d}" for i in range(1, SUPPLIERS + 1)],
            "supplier_name": [f"{n} Supply Co." for n in names],
            "country_code": rng.choice(
                ["US", "MX", "CN", "VN", "DE", "IT"], SUPPLIERS, p=[0.4, 0.15, 0.2, 0.1, 0.1, 0.05]
            ),
            "lead_time_mean_days": mean,
            "lead_time_sd_days": np.round(mean * rng.uniform(0.15, 0.4, SUPPLIERS), 1),
        }
    )
