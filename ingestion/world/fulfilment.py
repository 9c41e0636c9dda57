"""What follows an order: payment, shipment (pick/pack/ship/deliver per warehouse), returns, status."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa

from ingestion.world.ids import labels, positions, sequential_ids, with_prefix
from ingestion.world.params import WAREHOUSES
from ingestion.world.random import rng_for

PAYMENT_METHODS = np.array(["card", "paypal", "apple_pay", "gift_card"], dtype=object)
CARRIERS = np.array(["UPS", "FedEx", "USPS"], dtype=object)
RETURN_REASONS = np.array(["wrong_size", "damaged", "not_as_described", "changed_mind", "late_delivery"], dtype=object)
# Apparel and shoes come back far more often than groceries.
RETURN_RATE = {
    "CAT01": 0.22,
    "CAT02": 0.18,
    "CAT03": 0.20,
    "CAT04": 0.06,
    "CAT05": 0.05,
    "CAT06": 0.05,
    "CAT07": 0.07,
    "CAT08": 0.02,
    "CAT09": 0.06,
    "CAT10": 0.04,
    "CAT11": 0.01,
    "CAT12": 0.02,
}
CANCEL_RATE = 0.03


def fulfil(
    seed: int,
    orders: pd.DataFrame,
    lines: pd.DataFrame,
    products: pd.DataFrame,
    end_date: dt.date,
    order_of_line: np.ndarray | None = None,
) -> dict[str, pd.DataFrame]:
    """Payments, shipments, returns and the order status as of ``end_date``.

    ``orders`` carries ordered_at, warehouse_id, order_total_cents; ``lines`` carries order_id, line_number,
    product_id, quantity, line_amount_cents; ``order_of_line`` is each line's row in ``orders`` when the
    caller knows it (else it is looked up by id). Returns new frames and the orders with a ``status`` column.
    """
    rng = rng_for(seed, "fulfilment")
    n = len(orders)
    end = pd.Timestamp(end_date) + pd.Timedelta(days=1)  # the extract is taken at midnight after end_date
    placed = orders["ordered_at"]
    cancelled = rng.random(n) < CANCEL_RATE
    authorized = placed + pd.to_timedelta(rng.integers(5, 120, n), "s")
    # The extract is taken at ``end``: a payment authorized after it is not in it yet (the order is "placed").
    # Label columns are taken from a few Arrow-backed labels by index (NumPy arrays of millions of strings
    # cost more to build and for pandas to convert), and the frames are not copied into blocks before being
    # filtered (copy=False: their columns are fresh).
    payments = pd.DataFrame(
        {
            "payment_id": with_prefix("PAY", orders["order_id"], 1),
            "order_id": orders["order_id"],
            "method": labels(PAYMENT_METHODS).take(rng.choice(4, n, p=[0.62, 0.2, 0.13, 0.05])),
            "amount_cents": orders["order_total_cents"],
            "status": labels(["captured", "voided"]).take(cancelled.astype(np.intp)),
            "authorized_at": authorized,
        },
        copy=False,
    ).take(np.flatnonzero((authorized < end).to_numpy()))
    payments = payments.reset_index(drop=True)

    # Each order's warehouse by Arrow's hash look-up, its hours by position (a .loc on text ids per order cost
    # more than the draws).
    wh = positions(orders["warehouse_id"], pa.array(WAREHOUSES["warehouse_id"], pa.string()))
    hours = {c: WAREHOUSES[c].to_numpy(dtype=float)[wh] for c in ("pick_hours", "pack_hours", "ship_hours")}
    # The warehouse picks once the payment is authorized: the pick delay runs from authorization.
    pick = authorized + pd.to_timedelta(rng.gamma(2.0, hours["pick_hours"] / 2.0) * 3600, "s").round("s")
    pack = pick + pd.to_timedelta(rng.gamma(2.0, hours["pack_hours"] / 2.0) * 3600, "s").round("s")
    ship = pack + pd.to_timedelta(rng.gamma(2.0, hours["ship_hours"] / 2.0) * 3600, "s").round("s")
    deliver = ship + pd.to_timedelta(rng.gamma(3.0, 0.8, n) * 86400, "s").round("s")
    shipped = ~cancelled & (ship < end)
    shipments = pd.DataFrame(
        {
            "shipment_id": with_prefix("SHP", orders["order_id"], 1),
            "order_id": orders["order_id"],
            "warehouse_id": orders["warehouse_id"],
            "carrier": labels(CARRIERS).take(rng.choice(3, n, p=[0.45, 0.3, 0.25])),
            "picked_at": pick.where(pick < end),
            "packed_at": pack.where(pack < end),
            "shipped_at": ship.where(shipped),
            "delivered_at": deliver.where(shipped & (deliver < end)),
        },
        copy=False,
    ).take(np.flatnonzero((~cancelled & (pick < end)).to_numpy()))
    shipments = shipments.reset_index(drop=True)

    status = np.select(
        [cancelled, deliver < end, ship < end, authorized < end],
        ["cancelled", "delivered", "shipped", "paid"],
        "placed",
    )
    delivered_at = deliver.where(status == "delivered").to_numpy()
    product_rate = products["category_id"].map(RETURN_RATE).to_numpy(dtype=float)
    rate = product_rate[positions(lines["product_id"], pa.array(products["product_id"], pa.string()))]
    # Each line's order by Arrow's hash look-up (a pandas reindex on text ids cost more than the draws).
    if order_of_line is None:
        order_of_line = positions(lines["order_id"], pa.array(orders["order_id"]))
    line_delivered = delivered_at[order_of_line]
    wait = rng.gamma(2.0, 4.0, len(lines)) * 86400
    # The request time only of the lines that may come back (delivered, and drawn by the return rate): the
    # conversion is elementwise, and doing it for every one of millions of lines cost more than the draws.
    maybe = np.flatnonzero(~pd.isna(line_delivered) & (rng.random(len(lines)) < rate))
    requested = line_delivered[maybe] + pd.to_timedelta(wait[maybe], "s").round("s")
    back = requested < end
    returned = maybe[back]
    r = lines.take(returned)
    req = pd.Series(requested[back])
    received = req + pd.to_timedelta(rng.gamma(2.0, 2.5, len(r)) * 86400, "s").round("s")
    returns = pd.DataFrame(
        {
            "return_id": sequential_ids("R", len(r), 9),
            "order_id": r["order_id"].to_numpy(),
            "line_number": r["line_number"].to_numpy(),
            "quantity": r["quantity"].to_numpy(),
            "reason": RETURN_REASONS[rng.choice(5, len(r), p=[0.35, 0.1, 0.2, 0.3, 0.05])],
            "requested_at": req.to_numpy(),
            "received_at": received.where(received < end).to_numpy(),
            "refund_amount_cents": r["line_amount_cents"].to_numpy(),
        }
    )
    return {
        "orders": orders.assign(status=status),
        "payments": payments,
        "shipments": shipments,
        "returns": returns,
    }
