"""Ground truth: the planted parameters, labels and the generator's own aggregates, under ``<home>/truth``.

Marts, models and reports are graded against these files, never against themselves.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from futuremart.settings import Settings
from ingestion.world import World
from ingestion.world.calendar import holidays
from ingestion.world.params import COMPETITOR_PRICE_GAMMA, WAREHOUSES, category_params_frame, personas_frame


def _csv(frame: pd.DataFrame, path) -> None:  # noqa: ANN001
    frame.to_csv(path, index=False, lineterminator="\n")


def write_truth(world: World, settings: Settings) -> list[str]:
    """Write the planted parameters and generator aggregates; return the file names written."""
    out = settings.truth_dir
    out.mkdir(parents=True, exist_ok=True)
    days = world.days

    _csv(category_params_frame(), out / "category_params.csv")
    _csv(personas_frame(), out / "personas.csv")
    _csv(
        world.customers[["customer_id", "persona", "lapsed_from"]].assign(
            lapsed_from=world.customers["lapsed_from"].dt.date
        ),
        out / "customer_personas.csv",
    )
    # Each customer's planted favourite brands and everyday products (ingestion.world.taste).
    _csv(
        world.taste.frame(world.customers["customer_id"].to_numpy(), world.products["product_id"].to_numpy()),
        out / "customer_affinities.csv",
    )
    _csv(holidays(sorted(set(days.year))), out / "holidays.csv")
    _csv(world.simulation.disruptions, out / "supplier_disruptions.csv")
    _csv(
        world.campaigns.campaigns[
            [
                "campaign_id",
                "channel",
                "target_persona",
                "starts_on",
                "ends_on",
                "uplift",
                "holdout_share",
                "promo_code",
                "promo_discount_pct",
            ]
        ],
        out / "campaigns.csv",
    )

    _csv(world.reviews[["review_id", "rating", "sentiment"]], out / "review_labels.csv")
    _csv(
        world.support_conversations[["conversation_id", "intent", "sentiment", "resolution"]],
        out / "support_labels.csv",
    )
    _csv(world.social_mentions[["mention_id", "sentiment"]], out / "social_labels.csv")
    _csv(world.attacks, out / "security_attacks.csv")
    attack_rows = pd.concat(
        [
            world.login_events.loc[world.login_events["attack_id"].notna(), ["login_id", "attack_id"]]
            .rename(columns={"login_id": "event_id"})
            .assign(log="login_events"),
            world.data_access_events.loc[world.data_access_events["attack_id"].notna(), ["access_id", "attack_id"]]
            .rename(columns={"access_id": "event_id"})
            .assign(log="data_access_events"),
        ]
    )
    _csv(attack_rows, out / "security_attack_events.csv")

    stock = world.simulation.stock
    t, w, s = np.nonzero(stock == 0)
    _csv(
        pd.DataFrame(
            {
                "snapshot_date": days[t].date,
                "warehouse_id": WAREHOUSES["warehouse_id"].to_numpy()[w],
                "sku": world.catalog.variants["sku"].to_numpy()[s],
            }
        ),
        out / "stockouts.csv",
    )
    lost = world.simulation.lost_lines
    lost_daily = (
        lost.assign(date=days[lost["day"].to_numpy()].date if len(lost) else [])
        .groupby("date")
        .agg(lost_lines=("units", "size"), lost_units=("units", "sum"))
        .reset_index()
    )
    _csv(lost_daily, out / "lost_sales_daily.csv")

    orders = world.orders.assign(order_date=world.orders["ordered_at"].dt.date)
    lines = world.order_lines
    daily = (
        orders.groupby("order_date")
        .agg(
            orders=("order_id", "size"),
            cancelled_orders=("status", lambda s: int((s == "cancelled").sum())),
            revenue_cents=("subtotal_cents", "sum"),
        )
        .join(lines.groupby("order_date").agg(lines=("line_number", "size"), units=("quantity", "sum")))
        .reset_index()
    )
    _csv(daily, out / "orders_daily.csv")

    catalog = world.catalog
    n_products, n_days = catalog.list_multiplier.shape
    ref = catalog.products["ref_price_cents"].to_numpy()
    price_calendar = pa.table(
        {
            "product_id": np.repeat(catalog.products["product_id"].to_numpy(), n_days).astype(str),
            "date": np.tile(days.date, n_products),
            "reference_price_cents": np.repeat(ref, n_days),
            "list_multiplier": catalog.list_multiplier.reshape(-1).round(6),
            "discount_pct": catalog.discount.reshape(-1).round(4),
            "effective_price_cents": catalog.effective_price_cents().reshape(-1).round(2),
        }
    )
    pq.write_table(price_calendar, out / "price_calendar.parquet", compression="zstd")

    manifest = {
        "seed": settings.seed,
        "scale_factor": settings.scale_factor,
        "start_date": settings.start_date.isoformat(),
        "end_date": settings.end_date.isoformat(),
        "row_counts": world.row_counts(),
        "competitor_price_gamma": COMPETITOR_PRICE_GAMMA,
        "total_revenue_cents": int(world.orders["subtotal_cents"].sum()),
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return sorted(p.name for p in out.iterdir())
