"""Ground truth: the generator's own parameters and aggregates, written beside the landing zone."""

from __future__ import annotations

import json

import pandas as pd

from futuremart.settings import Settings
from ingestion.world import World


def write_truth(world: World, settings: Settings) -> list[str]:
    """Write the planted parameters and generator aggregates under ``settings.truth_dir``."""
    out = settings.truth_dir
    out.mkdir(parents=True, exist_ok=True)
    orders = world.orders.assign(order_date=world.orders["ordered_at"].dt.date)
    units = world.order_lines.groupby("order_date")["quantity"].sum()
    daily = (
        orders.groupby("order_date")
        .agg(orders=("order_id", "size"), revenue_cents=("subtotal_cents", "sum"))
        .join(units.rename("units"))
        .reset_index()
    )
    daily.to_csv(out / "orders_daily.csv", index=False, lineterminator="\n")
    world.customers[["customer_id", "order_rate"]].round(6).to_csv(
        out / "customer_order_rates.csv", index=False, lineterminator="\n"
    )
    manifest = {
        "seed": settings.seed,
        "scale_factor": settings.scale_factor,
        "start_date": settings.start_date.isoformat(),
        "end_date": settings.end_date.isoformat(),
        "row_counts": world.row_counts(),
        "total_revenue_cents": int(pd.Series(world.orders["subtotal_cents"]).sum()),
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return sorted(p.name for p in out.iterdir())
