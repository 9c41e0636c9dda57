"""The product catalog (PIM): products with category, brand, list price, unit cost and popularity."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from ingestion.world.pools import Pools
from ingestion.world.random import rng_for

PRODUCTS_AT_SF1 = 2000
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
    "Women's Apparel": ["Dress", "Blouse", "Skirt", "Cardigan", "Jeans"],
    "Men's Apparel": ["Shirt", "Chinos", "Hoodie", "Jacket", "Polo"],
    "Shoes": ["Sneaker", "Boot", "Loafer", "Sandal", "Runner"],
    "Electronics": ["Headphones", "Speaker", "Smartwatch", "Camera", "Charger"],
    "Computers & Tablets": ["Laptop", "Tablet", "Monitor", "Keyboard", "Desktop"],
    "Home & Kitchen": ["Blender", "Pan Set", "Kettle", "Towel Set", "Lamp"],
    "Furniture": ["Sofa", "Desk", "Bookshelf", "Armchair", "Bed Frame"],
    "Beauty & Personal Care": ["Serum", "Shampoo", "Lotion", "Lipstick", "Razor"],
    "Sports & Outdoors": ["Tent", "Yoga Mat", "Bike Helmet", "Backpack", "Dumbbells"],
    "Toys & Games": ["Puzzle", "Board Game", "Building Set", "Plush", "RC Car"],
    "Grocery & Gourmet": ["Coffee", "Olive Oil", "Tea", "Chocolate", "Granola"],
    "Books & Media": ["Novel", "Cookbook", "Vinyl", "Graphic Novel", "Travel Guide"],
}


def generate_products(seed: int, categories: pd.DataFrame, pools: Pools, start_date: dt.date) -> pd.DataFrame:
    """One row per product; prices in integer cents; ``popularity`` is a latent weight (not exported)."""
    rng = rng_for(seed, "catalog")
    n = PRODUCTS_AT_SF1
    cat_idx = rng.integers(0, len(categories), n)
    cats = categories.iloc[cat_idx].reset_index(drop=True)
    # Prices are log-uniform inside each category's range, rounded to .99 endings like a real shop.
    lo, hi = np.log(cats["min_price"].to_numpy()), np.log(cats["max_price"].to_numpy())
    price = np.exp(lo + rng.random(n) * (hi - lo))
    list_price_cents = (np.maximum(np.floor(price), 1) * 100 + 99).astype(np.int64) - 100
    list_price_cents = np.maximum(list_price_cents, 99)
    unit_cost_cents = np.round(list_price_cents * rng.uniform(0.35, 0.70, n)).astype(np.int64)
    nouns = np.array([rng.choice(_NOUNS[c]) for c in cats["category_name"]], dtype=object)
    brands = pools.companies[rng.integers(0, len(pools.companies), n)]
    names = brands + " " + _ADJECTIVES[rng.integers(0, len(_ADJECTIVES), n)] + " " + nouns
    launched = pd.Timestamp(start_date) - pd.to_timedelta(rng.integers(30, 5 * 365, n), unit="D")
    ids = np.arange(1, n + 1)
    # Popularity is heavy-tailed (a few bestsellers), cheaper items sell more often.
    popularity = rng.pareto(1.3, n) + 0.05
    popularity = popularity / np.sqrt(list_price_cents / 100)
    return pd.DataFrame(
        {
            "product_id": pd.Series([f"P{i:05d}" for i in ids], dtype=object),
            "sku": cats["category_id"].str.replace("CAT", "SKU-", regex=False)
            + "-"
            + pd.Series([f"{i:05d}" for i in ids]),
            "product_name": names,
            "brand": brands,
            "category_id": cats["category_id"],
            "list_price_cents": list_price_cents,
            "unit_cost_cents": unit_cost_cents,
            "launched_on": launched.date,
            "is_active": rng.random(n) > 0.03,
            "popularity": popularity / popularity.sum(),
        }
    )
