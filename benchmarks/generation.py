"""Benchmark of data generation: the vectorized world vs a plain per-row Faker loop on the orders table.

Records figures (never asserts): rows per second of both, the speed-ups (see :func:`run` for what each rate
counts), generate and land times, peak RSS. Times are taken as wall and as process CPU seconds: the machine
may be shared, and CPU seconds keep figures from different runs comparable.
Both sides are measured the same way: each is warmed up once (imports, Faker's providers, first-call set-up)
and then timed ``--repeat`` times, keeping each phase's fastest time (the one least disturbed by other jobs).
Run: ``python -m benchmarks.generation --scale 1 --scale 10`` (``make bench``); results go to
``$FUTUREMART_HOME/bench/generation.json`` and a table on stdout.
"""

from __future__ import annotations

import datetime as dt
import json
import os
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


class _Clock:
    """Wall seconds and process CPU seconds (all threads) of a block: on a machine shared with other jobs
    the wall time stretches with the load, the CPU time much less, so both are recorded."""

    def __enter__(self) -> _Clock:
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall, self.cpu = time.perf_counter() - self._wall, time.process_time() - self._cpu


class _Best:
    """The fastest wall and CPU seconds of repeated :class:`_Clock` runs (each kept separately)."""

    def __init__(self) -> None:
        self.wall = self.cpu = float("inf")

    def add(self, clock: _Clock) -> None:
        self.wall, self.cpu = min(self.wall, clock.wall), min(self.cpu, clock.cpu)


def warm_up() -> None:
    """One small run of each side before anything is timed, so neither pays one-time costs (lazy imports,
    Faker's provider tables, Arrow's kernels) inside its measurement."""
    home = Path(tempfile.mkdtemp(prefix="bench_warmup_"))
    try:
        world = generate_world(Settings(home=home, scale_factor=0.01))
        sum(table.num_rows for _, table in world.clickstream.events_by_day())
    finally:
        shutil.rmtree(home, ignore_errors=True)
    faker_orders(500, seed=2)


def run(scale: float, faker_rows: int, repeat: int = 1) -> dict:
    load_before = os.getloadavg()
    gen, clicks, land, faker = _Best(), _Best(), _Best(), _Best()
    for _ in range(repeat):
        home = Path(tempfile.mkdtemp(prefix=f"bench_sf{scale}_"))
        try:
            settings = Settings(home=home, scale_factor=scale)
            with _Clock() as clock:
                world = generate_world(settings)
            gen.add(clock)
            # The clickstream is generated a day at a time while it is landed; time its generation alone here.
            with _Clock() as clock:
                events = sum(table.num_rows for _, table in world.clickstream.events_by_day())
            clicks.add(clock)
            with _Clock() as clock:
                land_world(world, settings)
            land.add(clock)
            orders = len(world.orders)
            counts = world.row_counts()
            all_rows = sum(counts.values()) + events
            snapshot_rows = counts["inventory_snapshots"]
            del world
        finally:
            shutil.rmtree(home, ignore_errors=True)
        with _Clock() as clock:
            faker_orders(faker_rows, seed=1)
        faker.add(clock)
    # What is compared (the issue: ">= 50x the rows per second of a plain per-row Faker loop producing the same
    # orders table"):
    # - the Faker loop's rate: orders rows built in memory per second (same columns as the orders export);
    # - the world's rate "all rows": every row of every generated table, clickstream events included, per
    #   second of generating the whole world (the day-by-day demand, stock and shopper simulation included);
    # - "without stock snapshots": the same time, the rows less the stock snapshots (the simulation's
    #   [day, warehouse, SKU] stock array reshaped: two thirds of the rows at SF1, so the rate without them is
    #   the conservative one);
    # - orders alone per second of the whole world (not like-for-like: orders need everything else);
    # - end-to-end: every row generated *and written to the landing zone* per second of generate + land.
    # Each rate on CPU seconds (comparable under load) and on wall seconds.
    gen_wall, gen_cpu = gen.wall + clicks.wall, gen.cpu + clicks.cpu
    out: dict = {
        "scale_factor": scale,
        "orders": orders,
        "rows_all_tables": all_rows,
        "clickstream_events": events,
        "stock_snapshot_rows": snapshot_rows,
        "generate_seconds": round(gen.wall, 2),
        "generate_cpu_seconds": round(gen.cpu, 2),
        "clickstream_generate_seconds": round(clicks.wall, 2),
        "clickstream_generate_cpu_seconds": round(clicks.cpu, 2),
        "land_seconds": round(land.wall, 2),
        "land_cpu_seconds": round(land.cpu, 2),
        "generate_and_land_seconds": round(gen.wall + land.wall, 2),
        "generate_and_land_cpu_seconds": round(gen.cpu + land.cpu, 2),
        "faker_rows": faker_rows,
        "repeat": repeat,
        "faker_seconds": round(faker.wall, 2),
        "faker_cpu_seconds": round(faker.cpu, 2),
        # 1/5/15-minute load averages before and after: other jobs on the machine stretch wall times.
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
    }
    for basis, g, f, e in (
        ("cpu", gen_cpu, faker.cpu, gen.cpu + land.cpu),
        ("wall", gen_wall, faker.wall, gen.wall + land.wall),
    ):
        faker_rate, rows_rate = faker_rows / f, all_rows / g
        no_snapshot_rate = (all_rows - snapshot_rows) / g
        end_to_end = all_rows / e
        out |= {
            f"faker_orders_per_{basis}_second": round(faker_rate),
            f"world_rows_per_{basis}_second": round(rows_rate),
            f"world_rows_per_{basis}_second_without_snapshots": round(no_snapshot_rate),
            f"world_orders_per_{basis}_second": round(orders / g),
            f"end_to_end_rows_per_{basis}_second": round(end_to_end),
            f"speedup_all_rows_{basis}": round(rows_rate / faker_rate, 1),
            f"speedup_without_snapshots_{basis}": round(no_snapshot_rate / faker_rate, 1),
            f"speedup_orders_{basis}": round(orders / g / faker_rate, 2),
            f"speedup_end_to_end_{basis}": round(end_to_end / faker_rate, 1),
        }
    out["peak_rss_mib_so_far"] = round(peak_rss_mib())
    return out


app = typer.Typer(add_completion=False)


@app.command()
def main(
    scale: list[float] = typer.Option([1.0], "--scale", help="Scale factors to run, smallest first."),
    faker_rows: int = typer.Option(20_000, help="Rows the per-row Faker loop produces."),
    repeat: int = typer.Option(1, help="Times each side is timed; the fastest time of each phase is kept."),
) -> None:
    warm_up()
    results = [run(s, faker_rows, repeat) for s in sorted(scale)]
    out = Settings.from_env().home / "bench" / "generation.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    columns = {
        "SF": "scale_factor",
        "all rows": "rows_all_tables",
        "gen s": "generate_seconds",
        "gen cpu": "generate_cpu_seconds",
        "clicks s": "clickstream_generate_seconds",
        "clicks cpu": "clickstream_generate_cpu_seconds",
        "land s": "land_seconds",
        "land cpu": "land_cpu_seconds",
        "gen+land s": "generate_and_land_seconds",
        "faker/cpu s": "faker_orders_per_cpu_second",
        "rows/cpu s": "world_rows_per_cpu_second",
        "x all cpu": "speedup_all_rows_cpu",
        "x nosnap cpu": "speedup_without_snapshots_cpu",
        "x all wall": "speedup_all_rows_wall",
        "x nosnap wall": "speedup_without_snapshots_wall",
        "RSS MiB": "peak_rss_mib_so_far",
    }
    header, keys = list(columns), list(columns.values())
    typer.echo(" ".join(f"{h:>13}" for h in header))
    for r in results:
        typer.echo(" ".join(f"{r[k]:>13}" for k in keys))
    typer.echo(f"written to {out}")


if __name__ == "__main__":
    app()
