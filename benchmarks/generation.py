"""Benchmark of data generation: the vectorized world vs a plain per-row Faker loop on the orders table.

Records figures (never asserts): rows per second of both, the speed-ups (see :func:`run` for what each rate
counts), generate and land times, peak RSS.
Run: ``python -m benchmarks.generation --scale 1 --scale 10`` (``make bench``); results go to
``$FUTUREMART_HOME/bench/generation.json`` and a table on stdout.
"""

from __future__ import annotations

import datetime as dt
import json
import resource
import shutil
import tempfile
import time
from pathlib import Path

import typer
from faker import Faker

from futuremart.settings import Settings
from ingestion.landing import land_world
from ingestion.world import generate_world

ORDER_COLUMNS = (
    "order_id",
    "customer_id",
    "ordered_at",
    "channel",
    "status",
    "currency",
    "ship_region",
    "subtotal",
    "promo_code",
    "promo_discount",
    "tax",
    "shipping_fee",
    "order_total",
)


def faker_orders(n: int, seed: int) -> list[dict]:
    """The naive way: one Faker call per field per row, the same columns as the shop's orders export."""
    fake = Faker("en_US")
    fake.seed_instance(seed)
    start, end = dt.datetime(2024, 1, 1), dt.datetime(2024, 12, 31, 23, 59, 59)
    rows = []
    for i in range(n):
        subtotal = float(fake.pydecimal(left_digits=3, right_digits=2, positive=True))
        promo = round(subtotal * fake.random_element([0, 0, 0, 0.1, 0.15]), 2)
        tax = round((subtotal - promo) * 0.065, 2)
        shipping = 0.0 if subtotal - promo >= 50 else 4.99
        rows.append(
            {
                "order_id": f"O{i:09d}",
                "customer_id": f"C{fake.random_int(1, 20_000):07d}",
                "ordered_at": fake.date_time_between(start, end),
                "channel": fake.random_element(["web", "app", "marketplace"]),
                "status": fake.random_element(["placed", "paid", "shipped", "delivered", "cancelled"]),
                "currency": "USD",
                "ship_region": fake.random_element(["NE", "SE", "MW", "SW", "MT", "WC"]),
                "subtotal": subtotal,
                "promo_code": fake.bothify("FM##????") if promo else None,
                "promo_discount": promo,
                "tax": tax,
                "shipping_fee": shipping,
                "order_total": round(subtotal - promo + tax + shipping, 2),
            }
        )
    return rows


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(scale: float, faker_rows: int) -> dict:
    home = Path(tempfile.mkdtemp(prefix=f"bench_sf{scale}_"))
    try:
        settings = Settings(home=home, scale_factor=scale)
        started = time.perf_counter()
        world = generate_world(settings)
        generated = time.perf_counter() - started
        # The clickstream is generated a day at a time while it is landed; time its generation alone here.
        started = time.perf_counter()
        events = sum(table.num_rows for _, table in world.clickstream.events_by_day())
        clicks = time.perf_counter() - started
        started = time.perf_counter()
        land_world(world, settings)
        landed = time.perf_counter() - started
        orders = len(world.orders)
        counts = world.row_counts()
        all_rows = sum(counts.values()) + events
        snapshot_rows = counts["inventory_snapshots"]
    finally:
        shutil.rmtree(home, ignore_errors=True)
    started = time.perf_counter()
    faker_orders(faker_rows, seed=1)
    faker_seconds = time.perf_counter() - started
    # Rates, against a per-row Faker loop that builds the orders table in memory (same columns):
    # - rows/s: every generated row of every table (clickstream included) per second of generation;
    # - rows/s without stock snapshots: those are the simulation's stock array reshaped (two thirds of the
    #   rows at SF1, and cheap), so the rate without them is recorded too;
    # - orders/s: the orders alone per second of generating the whole world (orders need the demand, stock
    #   and visit simulation, so this is not a like-for-like rate);
    # - end-to-end: every row generated *and written* per second of generate + land.
    gen_seconds = generated + clicks
    faker_rate = faker_rows / faker_seconds
    rows_rate = all_rows / gen_seconds
    no_snapshot_rate = (all_rows - snapshot_rows) / gen_seconds
    end_to_end = all_rows / (generated + landed)
    return {
        "scale_factor": scale,
        "orders": orders,
        "rows_all_tables": all_rows,
        "clickstream_events": events,
        "stock_snapshot_rows": snapshot_rows,
        "generate_seconds": round(generated, 2),
        "clickstream_generate_seconds": round(clicks, 2),
        "land_seconds": round(landed, 2),
        "generate_and_land_seconds": round(generated + landed, 2),
        "world_orders_per_second": round(orders / generated),
        "world_rows_per_second": round(rows_rate),
        "world_rows_per_second_without_snapshots": round(no_snapshot_rate),
        "end_to_end_rows_per_second": round(end_to_end),
        "faker_orders_per_second": round(faker_rate),
        "speedup_orders": round(orders / generated / faker_rate, 2),
        "speedup_all_rows": round(rows_rate / faker_rate, 1),
        "speedup_without_snapshots": round(no_snapshot_rate / faker_rate, 1),
        "speedup_end_to_end": round(end_to_end / faker_rate, 1),
        "peak_rss_mib_so_far": round(peak_rss_mib()),
    }


app = typer.Typer(add_completion=False)


@app.command()
def main(
    scale: list[float] = typer.Option([1.0], "--scale", help="Scale factors to run, smallest first."),
    faker_rows: int = typer.Option(20_000, help="Rows the per-row Faker loop produces."),
) -> None:
    results = [run(s, faker_rows) for s in sorted(scale)]
    out = Settings.from_env().home / "bench" / "generation.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    columns = {
        "SF": "scale_factor",
        "orders": "orders",
        "all rows": "rows_all_tables",
        "gen s": "generate_seconds",
        "clicks s": "clickstream_generate_seconds",
        "land s": "land_seconds",
        "rows/s": "world_rows_per_second",
        "faker/s": "faker_orders_per_second",
        "x rows": "speedup_all_rows",
        "x no snap": "speedup_without_snapshots",
        "x e2e": "speedup_end_to_end",
        "x orders": "speedup_orders",
        "RSS MiB": "peak_rss_mib_so_far",
    }
    header, keys = list(columns), list(columns.values())
    typer.echo(" ".join(f"{h:>9}" for h in header))
    for r in results:
        typer.echo(" ".join(f"{r[k]:>9}" for k in keys))
    typer.echo(f"written to {out}")


if __name__ == "__main__":
    app()
