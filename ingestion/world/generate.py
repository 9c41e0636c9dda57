"""Assemble the synthetic world from its components."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from futuremart.settings import Settings
from ingestion.world.catalog import generate_products
from ingestion.world.customers import generate_customers
from ingestion.world.orders import generate_orders
from ingestion.world.pools import build_pools
from ingestion.world.reference import read_categories, read_regions


@dataclass(frozen=True)
class World:
    """Every generated table, money in integer cents, latent columns included."""

    products: pd.DataFrame
    customers: pd.DataFrame
    orders: pd.DataFrame
    order_lines: pd.DataFrame

    def row_counts(self) -> dict[str, int]:
        return {
            "products": len(self.products),
            "customers": len(self.customers),
            "orders": len(self.orders),
            "order_lines": len(self.order_lines),
        }


def generate_world(settings: Settings) -> World:
    """Generate the retailer for ``settings.seed`` and ``settings.scale_factor`` (pure: no files written)."""
    categories, regions = read_categories(), read_regions()
    pools = build_pools(settings.seed)
    products = generate_products(settings.seed, categories, pools, settings.start_date)
    customers = generate_customers(
        settings.seed, settings.scale_factor, regions, pools, settings.start_date, settings.end_date
    )
    orders, order_lines = generate_orders(
        settings.seed, customers, products, regions, settings.start_date, settings.end_date
    )
    return World(products=products, customers=customers, orders=orders, order_lines=order_lines)
