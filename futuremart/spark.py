"""The warehouse on Spark: the same dbt project, built by dbt-spark on a local (or remote) Spark session.

DuckDB stays the loader's store: the Python raw loader writes ``raw.*`` and ``governance.load_audit`` there.
:func:`export_raw_parquet` copies every source table a model reads to Parquet under
``Settings.raw_parquet_dir`` (``<schema>/<table>/data.parquet``, the same columns and types); the dbt ``spark``
target registers those folders as the source tables (``macros/spark_sources.sql``) and :func:`build_on_spark`
runs ``dbt build --target spark``: every seed, model and test. ``futuremart.parity`` then compares the marts.

Dagster-free: ``futuremart run --engine spark`` and the tests call these functions.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from futuremart.settings import DBT_PROJECT_DIR, Settings

PARQUET_FILE = "data.parquet"
# Lines of the JVM's own log (yy/MM/dd timestamps), JSON error records and stack frames.
JVM_LOG = re.compile(r"\d\d/\d\d/\d\d |\{|\tat |Caused by|\s*\.\.\. \d+ more")
# Node statuses that count as passed (exposures report no-op; a test of severity warn may warn).
PASSED = frozenset({"success", "pass", "no-op", "warn"})


@dataclass(frozen=True)
class ExportedTable:
    schema: str
    table: str
    rows: int
    path: Path


@dataclass
class SparkBuild:
    """Outcome of one ``dbt build --target spark``: statuses per node from dbt's run_results.json."""

    returncode: int
    seconds: float
    statuses: dict[str, str] = field(default_factory=dict)
    log_tail: str = ""

    @property
    def success(self) -> bool:
        return self.returncode == 0 and bool(self.statuses) and not self.failures

    @property
    def failures(self) -> dict[str, str]:
        return {node: status for node, status in self.statuses.items() if status not in PASSED}

    def count(self, resource_type: str) -> int:
        return sum(1 for node in self.statuses if node.startswith(f"{resource_type}."))


def read_sources(manifest_path: Path) -> list[tuple[str, str]]:
    """``(schema, identifier)`` of every source some model or test reads, from a dbt manifest; the same set
    the ``register_raw_sources`` hook registers on Spark."""
    manifest = json.loads(manifest_path.read_text())
    used = {dep for node in manifest["nodes"].values() for dep in node.get("depends_on", {}).get("nodes", [])}
    sources = manifest["sources"]
    return sorted({(sources[s]["schema"], sources[s]["identifier"]) for s in used if s.startswith("source.")})


def export_raw_parquet(settings: Settings, sources: list[tuple[str, str]]) -> list[ExportedTable]:
    """Write each source table of the DuckDB warehouse to ``<raw_parquet_dir>/<schema>/<table>/data.parquet``.

    A folder is replaced whole (written next to it, then swapped), so a reader never sees half a table.
    JSON columns become strings (Parquet has no JSON type Spark reads); everything else keeps its type.
    """
    root = settings.raw_parquet_dir
    exported = []
    with duckdb.connect(str(settings.warehouse_path), read_only=True, config=settings.duckdb_config()) as con:
        for schema, table in sources:
            columns = con.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = ? and table_name = ? order by ordinal_position",
                [schema, table],
            ).fetchall()
            if not columns:
                raise FileNotFoundError(f"{schema}.{table} is not in {settings.warehouse_path}: load raw first")
            select = ", ".join(
                f'cast("{name}" as varchar) as "{name}"' if kind == "JSON" else f'"{name}"' for name, kind in columns
            )
            final = root / schema / table
            staged = final.with_name(f".{table}.tmp")
            shutil.rmtree(staged, ignore_errors=True)
            staged.mkdir(parents=True)
            con.execute(
                f"copy (select {select} from {schema}.{table}) to '{staged / PARQUET_FILE}' "
                "(format parquet, compression zstd)"
            )
            rows = con.execute(f"select count(*) from {schema}.{table}").fetchone()[0]
            if final.exists():
                old = final.with_name(f".{table}.old")
                shutil.rmtree(old, ignore_errors=True)
                final.rename(old)
                staged.rename(final)
                shutil.rmtree(old)
            else:
                staged.rename(final)
            exported.append(ExportedTable(schema, table, rows, final))
    return exported


def dbt_spark(settings: Settings, args: list[str], log_path: Path | None = None) -> SparkBuild:
    """Run one dbt command against the ``spark`` target in a child process (its JVM and the Derby lock go
    away with it) and collect the node statuses."""
    # dbt's target folder (run results, compiled SQL) under the data home: the DuckDB manifest in
    # dbt_project/target/ is what the Dagster code location loads, and Spark builds of two data homes (a test
    # and a benchmark) must not share one.
    target_path = settings.home / "spark" / "target"
    results = target_path / "run_results.json"
    results.unlink(missing_ok=True)
    settings.spark_warehouse_dir.mkdir(parents=True, exist_ok=True)
    settings.spark_metastore_dir.mkdir(parents=True, exist_ok=True)
    dbt = str(Path(sys.executable).with_name("dbt"))
    command = [
        dbt,
        *args,
        "--target",
        "spark",
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str(target_path),
    ]
    env = {**os.environ, **settings.dbt_env(), "DBT_LOG_PATH": str(settings.home / "spark" / "logs")}
    started = time.perf_counter()
    # Its own process group: if we are interrupted, the JVM that pyspark starts goes down with dbt instead
    # of keeping the Derby metastore locked.
    with subprocess.Popen(
        command, cwd=DBT_PROJECT_DIR, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    ) as child:  # fmt: skip
        try:
            output, _ = child.communicate()
        except BaseException:
            os.killpg(child.pid, signal.SIGKILL)
            raise
    seconds = time.perf_counter() - started
    if log_path is not None:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        log_path.write_text(output)
    statuses = {}
    if results.exists():
        statuses = {r["unique_id"]: r["status"] for r in json.loads(results.read_text())["results"]}
    # The summary dbt prints at the end (errors and their messages), without the JVM's stack traces.
    summary = [line for line in output.splitlines() if not JVM_LOG.match(line)]
    return SparkBuild(child.returncode, seconds, statuses, "\n".join(summary[-40:]))


def reset_spark_warehouse(settings: Settings) -> None:
    """Remove Spark's tables and metastore: the Spark build is a full build from the raw layer, and a table
    folder left by an interrupted build would stop Spark creating that table again."""
    shutil.rmtree(settings.spark_warehouse_dir, ignore_errors=True)
    shutil.rmtree(settings.spark_metastore_dir, ignore_errors=True)


def build_on_spark(settings: Settings, select: list[str] | None = None) -> tuple[list[ExportedTable], SparkBuild]:
    """Export the raw layer to Parquet and ``dbt build`` the project (or ``select``) on Spark, from scratch."""
    reset_spark_warehouse(settings)
    exported = export_raw_parquet(settings, read_sources(DBT_PROJECT_DIR / "target" / "manifest.json"))
    # A slice runs only the tests whose every parent it builds: a relationship test to a mart outside the
    # slice would find no table (the Spark warehouse starts empty).
    args = ["build", *(["--select", *select, "--indirect-selection", "cautious"] if select else [])]
    build = dbt_spark(settings, args, log_path=settings.home / "spark" / "dbt_build.log")
    return exported, build
