"""Benchmark of the loads and the daily runs on an already landed world (land one first: ``futuremart generate``).

Records figures (never asserts), each with wall and CPU seconds (this process plus its children, so dbt counts)
so runs on a busy machine stay comparable:

- ``raw_load``: every landed file of every contract loaded into an empty warehouse through the contracts
  (typing, quarantine, audit): rows in, loaded, quarantined, rows per second.
- ``full_build`` vs ``new_day``: every asset after landing (raw loads, dbt, checks, model training, reports,
  publish: ``materialize_everything`` without the generator) over every day but the last, in one run as a
  first build or a backfill would; then the last day's extracts land and the nightly ``daily_refresh`` job
  runs that one partition, as the schedule or the sensor would (the models retrain weekly, not in it). Both
  on an on-disk Dagster instance, like ``make run``.

Everything is written under ``$FUTUREMART_HOME/bench/pipeline`` (a copy of the landing zone), so the real
warehouse is untouched. Run: ``FUTUREMART_HOME=... python -m benchmarks.pipeline``; results are appended to
``$FUTUREMART_HOME/bench/pipeline.json`` and printed.
"""

from __future__ import annotations

import datetime as dt
import json
import resource
import shutil
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import typer

from futuremart.settings import Settings
from ingestion.contracts import load_contracts
from ingestion.raw_loader import load_entity

app = typer.Typer(add_completion=False)


def _cpu_seconds() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


@contextmanager
def timed(figures: dict[str, Any]):
    wall, cpu = time.perf_counter(), _cpu_seconds()
    yield
    figures["wall_s"] = round(time.perf_counter() - wall, 2)
    figures["cpu_s"] = round(_cpu_seconds() - cpu, 2)


def bench_raw_load(landing: Path, warehouse: Path) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    totals = {"rows_in": 0, "rows_loaded": 0, "rows_quarantined": 0, "files": 0}
    with timed(figures), duckdb.connect(str(warehouse)) as con:
        for contract in load_contracts():
            result = load_entity(con, contract, landing, strict=False)
            for key in ("rows_in", "rows_loaded", "rows_quarantined"):
                totals[key] += sum(getattr(f, key) for f in result.files if f.status == "loaded")
            totals["files"] += len(result.files)
    figures.update(totals)
    figures["rows_per_s"] = round(totals["rows_in"] / figures["wall_s"])
    figures["reconciled"] = totals["rows_in"] == totals["rows_loaded"] + totals["rows_quarantined"]
    return figures


def _run(instance: dg.DagsterInstance, execute: Callable[..., dg.ExecuteInProcessResult]) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    with timed(figures):
        result = execute(instance=instance, raise_on_error=False)
    figures["success"] = result.success
    figures["materializations"] = len(result.get_asset_materialization_events())
    events = instance.all_logs(result.run_id)
    figures["events"] = len(events)
    took = step_seconds(events)
    figures["slowest_steps_s"] = dict(sorted(took.items(), key=lambda item: -item[1])[:12])
    # Great Expectations suites run in their own check steps (the raw suites' and the marts'): their share of
    # the run is what GX adds to it.
    from orchestration.defs.quality import MART_SUITES_STEP, RAW_SUITES_STEP

    figures["gx_steps_s"] = round(sum(s for step, s in took.items() if step in {RAW_SUITES_STEP, MART_SUITES_STEP}), 2)
    figures["gx_share_of_wall"] = round(figures["gx_steps_s"] / figures["wall_s"], 3)
    return figures


def step_seconds(events: list[Any]) -> dict[str, float]:
    """Wall seconds of every step of a run, from its start and success (or failure) events."""
    started: dict[str, float] = {}
    took: dict[str, float] = {}
    for event in events:
        kind = event.dagster_event.event_type_value if event.dagster_event else None
        if kind == "STEP_START":
            started[event.step_key] = event.timestamp
        elif kind in ("STEP_SUCCESS", "STEP_FAILURE") and event.step_key in started:
            took[event.step_key] = round(event.timestamp - started[event.step_key], 2)
    return took


def bench_daily_runs(settings: Settings, bench_home: Path) -> dict[str, Any]:
    from orchestration.definitions import after_landing, build_definitions
    from orchestration.partitions import range_tags
    from orchestration.resources import FutureMartResource
    from orchestration.storage import local_instance

    last_day = settings.last_partition_date.isoformat()
    held_back = bench_home / "held_back"
    for folder in (bench_home / "landing").glob(f"*/*/dt={last_day}"):
        target = held_back / folder.relative_to(bench_home / "landing")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(folder, target)
    resource_ = FutureMartResource(home=str(bench_home), seed=settings.seed, scale_factor=settings.scale_factor)
    definitions = build_definitions(resource_)
    job = definitions.resolve_job_def("daily_refresh")
    everything = definitions.resolve_job_def("materialize_everything")
    (bench_home / "dagster").mkdir(parents=True, exist_ok=True)
    # An on-disk instance with the project's event log, as `make run`'s (orchestration/storage.py).
    with local_instance(bench_home / "dagster") as instance:
        tags = range_tags(settings.start_date, settings.last_partition_date - dt.timedelta(days=1))
        full = _run(
            instance,
            lambda **kw: everything.execute_in_process(tags=tags, asset_selection=after_landing(definitions), **kw),
        )
        for folder in held_back.glob("*/*/dt=*"):
            target = bench_home / "landing" / folder.relative_to(held_back)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(folder, target)
        new_day = _run(instance, lambda **kw: job.execute_in_process(partition_key=last_day, **kw))
    return {
        "full_build": full,
        "new_day": new_day,
        "new_day_share_of_full_wall": round(new_day["wall_s"] / full["wall_s"], 3),
        "new_day_share_of_full_cpu": round(new_day["cpu_s"] / full["cpu_s"], 3),
    }


@app.command()
def main(
    skip_runs: bool = typer.Option(False, help="Only the raw load (no Dagster runs)."),
) -> None:
    settings = Settings.from_env()
    if not settings.landing_dir.exists():
        typer.echo(f"nothing landed under {settings.landing_dir}: run `futuremart generate` first", err=True)
        raise typer.Exit(1)
    bench_home = settings.home / "bench" / "pipeline"
    shutil.rmtree(bench_home, ignore_errors=True)
    shutil.copytree(settings.landing_dir, bench_home / "landing")
    figures: dict[str, Any] = {
        "recorded_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "scale_factor": settings.scale_factor,
        "seed": settings.seed,
        "raw_load": bench_raw_load(bench_home / "landing", bench_home / "raw_load.duckdb"),
    }
    if not skip_runs:
        figures.update(bench_daily_runs(settings, bench_home))
    out = settings.home / "bench" / "pipeline.json"
    history = json.loads(out.read_text()) if out.exists() else []
    out.write_text(json.dumps([*history, figures], indent=2) + "\n")
    shutil.rmtree(bench_home, ignore_errors=True)
    typer.echo(json.dumps(figures, indent=2))
    typer.echo(f"appended to {out}")


if __name__ == "__main__":
    app()
