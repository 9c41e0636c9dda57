"""Benchmark: the whole dbt project built on DuckDB and on Spark from the same raw layer, then parity.

Records figures (never asserts). Needs a data home whose raw layer is loaded (``futuremart run``). The data
home's warehouse is not touched: it is copied to ``$FUTUREMART_HOME/bench/engines/warehouse/`` and both
builds run from that copy (DuckDB: ``dbt build`` into the copy; Spark: the copy's raw layer exported to
Parquet, ``dbt build --target spark`` on a local session, ``FUTUREMART_SPARK_MASTER``), then every mart is
compared (futuremart/parity.py). Each side is timed as a whole process, wall clock, on whatever else the
machine is running (note the load average recorded next to it).

Run: ``FUTUREMART_HOME=... python -m benchmarks.engines``; results are appended to
``$FUTUREMART_HOME/bench/engines.json`` and printed (the last line: the figures as one JSON object).
``--in-place`` builds in the data home itself instead of a copy (``futuremart bench`` passes it on its own
throwaway copy); ``futuremart bench --part engines`` records the same figures at SF1 and SF10.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import duckdb
import typer

from futuremart.parity import compare_marts
from futuremart.settings import DBT_PROJECT_DIR, Settings
from futuremart.spark import dbt_spark, export_raw_parquet, read_sources

app = typer.Typer(add_completion=False)


def copy_warehouse(settings: Settings, home: Path) -> Settings:
    """A data home at ``home`` holding a copy of ``settings``' warehouse (its other folders stay empty)."""
    bench = settings.with_overrides(home=home)
    shutil.rmtree(home, ignore_errors=True)
    bench.warehouse_path.parent.mkdir(parents=True)
    shutil.copyfile(settings.warehouse_path, bench.warehouse_path)
    return bench


def duckdb_build(settings: Settings) -> dict[str, Any]:
    """``dbt build`` of the whole project on the DuckDB target, as a child process."""
    dbt = str(Path(sys.executable).with_name("dbt"))
    # A full build, as the Spark side is (it starts from an empty warehouse).
    command = [
        dbt,
        "build",
        "--full-refresh",
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str(settings.home / "bench_duckdb_target"),
    ]
    started = time.perf_counter()
    done = subprocess.run(
        command,
        cwd=DBT_PROJECT_DIR,
        env={**os.environ, **settings.dbt_env()},
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    results = json.loads((settings.home / "bench_duckdb_target" / "run_results.json").read_text())["results"]
    return {
        "seconds": round(seconds, 1),
        "returncode": done.returncode,
        "nodes": len(results),
        "not_passed": sorted(r["unique_id"] for r in results if r["status"] not in ("success", "pass")),
    }


def raw_rows(settings: Settings) -> int:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        tables = con.execute("select table_name from information_schema.tables where table_schema = 'raw'").fetchall()
        return sum(con.execute(f"select count(*) from raw.{t}").fetchone()[0] for (t,) in tables)


def measure_engines(bench: Settings) -> tuple[dict[str, Any], str]:
    """Build ``bench``'s warehouse on DuckDB, then on Spark, then compare: the figures and the parity text."""
    figures: dict[str, Any] = {
        "recorded_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "scale_factor": bench.scale_factor,
        "seed": bench.seed,
        "raw_rows": raw_rows(bench),
        "spark_master": bench.spark_master,
        "cpus": os.cpu_count(),
        "load_average_before": [round(x, 2) for x in os.getloadavg()],
    }
    figures["duckdb"] = duckdb_build(bench)
    started = time.perf_counter()
    exported = export_raw_parquet(bench, read_sources(DBT_PROJECT_DIR / "target" / "manifest.json"))
    figures["raw_export"] = {"seconds": round(time.perf_counter() - started, 1), "tables": len(exported)}
    spark = dbt_spark(bench, ["build"], log_path=bench.home / "spark" / "dbt_build.log")
    figures["spark"] = {
        "seconds": round(spark.seconds, 1),
        "returncode": spark.returncode,
        "nodes": len(spark.statuses),
        "not_passed": sorted(spark.failures),
    }
    if spark.returncode != 0:
        # Parity against a build that failed would list every mart as missing: say what failed instead.
        figures["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
        return (
            figures,
            f"the Spark build failed (exit {spark.returncode}); see {bench.home / 'spark' / 'dbt_build.log'}",
        )
    started = time.perf_counter()
    report = compare_marts(bench)
    figures["parity"] = {
        "seconds": round(time.perf_counter() - started, 1),
        "marts": len(report.tables),
        "rows": sum(report.rows.values()),
        "differences": [d.__dict__ for d in report.differences],
    }
    figures["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    if figures["duckdb"]["seconds"]:
        figures["spark_over_duckdb"] = round(figures["spark"]["seconds"] / figures["duckdb"]["seconds"], 2)
    return figures, report.describe()


@app.command()
def main(in_place: bool = typer.Option(False, help="Build in the data home itself, not in a copy.")) -> None:
    settings = Settings.from_env()
    bench = settings if in_place else copy_warehouse(settings, settings.home / "bench" / "engines")
    figures, parity = measure_engines(bench)
    out = settings.home / "bench" / "engines.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    history = json.loads(out.read_text()) if out.exists() else []
    out.write_text(json.dumps([*history, figures], indent=2) + "\n")
    typer.echo(parity)
    typer.echo(f"appended to {out}")
    typer.echo(json.dumps(figures))


if __name__ == "__main__":
    app()
