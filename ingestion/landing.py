"""Land the world as its source systems export it: ``<landing>/<system>/<entity>/dt=YYYY-MM-DD/<file>``.

Writers are deterministic (fixed column order, fixed number formatting, sorted partitions), so the same
seed and scale factor give a byte-identical landing zone.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from futuremart.settings import Settings
from ingestion.contracts import EntityContract, get_contract
from ingestion.world import World


@dataclass(frozen=True)
class LandedEntity:
    source_system: str
    entity: str
    files: int
    rows: int


def cents_to_text(cents: pd.Series | np.ndarray) -> pd.Series:
    """Exact decimal text of integer cents (``1999`` -> ``"19.99"``), without float rounding."""
    values = pd.Series(np.asarray(cents, dtype=np.int64))
    sign = np.where(values < 0, "-", "")
    absolute = values.abs()
    return sign + (absolute // 100).astype(str) + "." + (absolute % 100).astype(str).str.zfill(2)


def partition_path(landing_dir: Path, contract: EntityContract, day: dt.date) -> Path:
    return landing_dir / contract.landing_subdir / f"dt={day.isoformat()}" / contract.file_name


def write_partitioned(
    frame: pd.DataFrame, partition_day: pd.Series, contract: EntityContract, landing_dir: Path
) -> LandedEntity:
    """Write ``frame`` (already in export layout) as one file per day of ``partition_day``."""
    frame = frame[list(contract.column_names)]
    days = pd.Series(partition_day.to_numpy(), index=frame.index)
    files = 0
    for day in sorted(days.unique()):
        part = frame[days == day]
        path = partition_path(landing_dir, contract, day)
        path.parent.mkdir(parents=True, exist_ok=True)
        if contract.format == "csv":
            part.to_csv(path, index=False, lineterminator="\n")
        elif contract.format == "jsonl":
            records = part.astype(object).where(part.notna(), None).to_dict(orient="records")
            path.write_text("".join(json.dumps(r, sort_keys=False, default=str) + "\n" for r in records))
        else:  # pragma: no cover - contracts are validated on load
            raise ValueError(f"Unsupported format {contract.format!r} for {contract.raw_table}")
        files += 1
    return LandedEntity(contract.source_system, contract.entity, files, len(frame))


def _timestamp_text(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values).dt.strftime("%Y-%m-%d %H:%M:%S")


def land_world(world: World, settings: Settings) -> list[LandedEntity]:
    """Write every extract of ``world`` into the landing zone and return what was written."""
    landing = settings.landing_dir
    start = settings.start_date
    landed = []

    products = world.products.assign(
        list_price=cents_to_text(world.products["list_price_cents"]),
        unit_cost=cents_to_text(world.products["unit_cost_cents"]),
        launched_on=world.products["launched_on"].astype(str),
        is_active=world.products["is_active"].astype(bool),
    )
    # The PIM exports its whole catalog once; in this period that is the first day.
    landed.append(
        write_partitioned(products, pd.Series([start] * len(products)), get_contract("pim", "products"), landing)
    )

    customers = world.customers
    signup_day = customers["signed_up_at"].dt.date.clip(lower=start)
    landed.append(
        write_partitioned(
            customers.assign(
                signed_up_at=_timestamp_text(customers["signed_up_at"]),
                marketing_opt_in=customers["marketing_opt_in"].map({True: "true", False: "false"}),
            ),
            signup_day,
            get_contract("crm", "customers"),
            landing,
        )
    )

    orders = world.orders
    landed.append(
        write_partitioned(
            orders.assign(
                ordered_at=_timestamp_text(orders["ordered_at"]),
                subtotal=cents_to_text(orders["subtotal_cents"]).to_numpy(),
                tax=cents_to_text(orders["tax_cents"]).to_numpy(),
                shipping_fee=cents_to_text(orders["shipping_fee_cents"]).to_numpy(),
                order_total=cents_to_text(orders["order_total_cents"]).to_numpy(),
            ),
            orders["ordered_at"].dt.date,
            get_contract("shop", "orders"),
            landing,
        )
    )

    lines = world.order_lines
    landed.append(
        write_partitioned(
            lines.assign(
                unit_price=cents_to_text(lines["unit_price_cents"]).to_numpy(),
                discount=cents_to_text(lines["discount_cents"]).to_numpy(),
                line_amount=cents_to_text(lines["line_amount_cents"]).to_numpy(),
            ),
            lines["order_date"],
            get_contract("shop", "order_lines"),
            landing,
        )
    )
    return landed
