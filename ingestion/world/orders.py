"""Orders and order lines, driven by each customer's order rate, the calendar and product popularity."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from ingestion.world.calendar import HOUR_WEIGHTS, daily_demand_weights
from ingestion.world.random import rng_for

CHANNELS = np.array(["web", "app", "marketplace"], dtype=object)
CHANNEL_WEIGHTS = np.array([0.55, 0.35, 0.10])
FREE_SHIPPING_FROM_CENTS = 5_000
SHIPPING_FEE_CENTS = 499


def generate_orders(
    seed: int,
    customers: pd.DataFrame,
    products: pd.DataFrame,
    regions: pd.DataFrame,
    start_date: dt.date,
    end_date: dt.date,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return ``(orders, order_lines)`` with money in integer cents.

    Every order falls inside its customer's active window (after sign-up, inside the period); an order's
    subtotal is the sum of its line amounts and its total is subtotal + tax + shipping fee.
    """
    rng = rng_for(seed, "orders")
    weights = daily_demand_weights(start_date, end_date)
    days = pd.to_datetime(pd.Index(weights.index))
    cdf = np.concatenate([[0.0], np.cumsum(weights.to_numpy())])
    n_days = len(days)

    # Active window of each customer, as day indices [first_day, n_days).
    signup_day = (customers["signed_up_at"].dt.normalize() - days[0]).dt.days.to_numpy()
    first_day = np.clip(signup_day, 0, n_days)
    active_share = (cdf[n_days] - cdf[first_day]) / cdf[n_days]
    expected = customers["order_rate"].to_numpy() * active_share * n_days / 365.0
    n_orders = rng.poisson(expected)
    cust_idx = np.repeat(np.arange(len(customers)), n_orders)

    # Inverse-CDF sampling of the order day inside each customer's window follows the calendar weights.
    lo, hi = cdf[first_day[cust_idx]], cdf[n_days]
    target = lo + rng.random(len(cust_idx)) * (hi - lo)
    day_idx = np.clip(np.searchsorted(cdf, target, side="right") - 1, 0, n_days - 1)
    hour = rng.choice(24, len(cust_idx), p=HOUR_WEIGHTS / HOUR_WEIGHTS.sum())
    ordered_at = (
        days[day_idx]
        + pd.to_timedelta(hour, unit="h")
        + pd.to_timedelta(rng.integers(0, 3600, len(cust_idx)), unit="s")
    )
    # A customer who signed up today cannot order before signing up.
    signed_up = customers["signed_up_at"].to_numpy()[cust_idx]
    ordered_at = pd.DatetimeIndex(np.maximum(ordered_at.to_numpy(), signed_up)).floor("s")

    order_sort = np.lexsort((cust_idx, ordered_at.to_numpy()))
    cust_idx, ordered_at = cust_idx[order_sort], ordered_at[order_sort]
    n = len(cust_idx)
    order_ids = np.array([f"O{i:09d}" for i in range(1, n + 1)], dtype=object)

    # Lines: 1 + Poisson products per order, chosen by popularity.
    n_lines = 1 + rng.poisson(1.1, n)
    line_order = np.repeat(np.arange(n), n_lines)
    line_number = np.arange(len(line_order)) - np.repeat(np.cumsum(n_lines) - n_lines, n_lines) + 1
    product_idx = rng.choice(len(products), len(line_order), p=products["popularity"].to_numpy())
    quantity = 1 + rng.poisson(0.3, len(line_order))
    unit_price = products["list_price_cents"].to_numpy()[product_idx]
    discount_rate = np.where(
        rng.random(len(line_order)) < 0.12, rng.choice([0.1, 0.15, 0.2, 0.25], len(line_order)), 0.0
    )
    discount = np.floor(quantity * unit_price * discount_rate + 0.5).astype(np.int64)
    line_amount = quantity * unit_price - discount

    subtotal = np.bincount(line_order, weights=line_amount, minlength=n).astype(np.int64)
    region_code = customers["region_code"].to_numpy()[cust_idx]
    tax_rate = regions.set_index("region_code")["sales_tax_rate"].reindex(region_code).to_numpy()
    tax = np.floor(subtotal * tax_rate + 0.5).astype(np.int64)
    shipping = np.where(subtotal >= FREE_SHIPPING_FROM_CENTS, 0, SHIPPING_FEE_CENTS).astype(np.int64)

    age_days = (pd.Timestamp(end_date) - ordered_at.normalize()).days.to_numpy()
    status = np.select(
        [age_days <= 0, age_days <= 1, age_days <= 4], ["placed", "paid", "shipped"], "delivered"
    ).astype(object)
    status[rng.random(n) < 0.03] = "cancelled"

    orders = pd.DataFrame(
        {
            "order_id": order_ids,
            "customer_id": customers["customer_id"].to_numpy()[cust_idx],
            "ordered_at": ordered_at,
            "channel": CHANNELS[rng.choice(len(CHANNELS), n, p=CHANNEL_WEIGHTS)],
            "status": status,
            "currency": "USD",
            "ship_region": region_code,
            "subtotal_cents": subtotal,
            "tax_cents": tax,
            "shipping_fee_cents": shipping,
            "order_total_cents": subtotal + tax + shipping,
        }
    )
    order_lines = pd.DataFrame(
        {
            "order_id": order_ids[line_order],
            "line_number": line_number,
            "product_id": products["product_id"].to_numpy()[product_idx],
            "quantity": quantity,
            "unit_price_cents": unit_price,
            "discount_cents": discount,
            "line_amount_cents": line_amount,
            "order_date": ordered_at.date[line_order],
        }
    )
    return orders, order_lines
