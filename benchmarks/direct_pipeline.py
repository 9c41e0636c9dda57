"""The whole pipeline without the orchestrator: the plain functions the thin Dagster assets call, in order.

The baseline of ``make bench``'s orchestration-overhead figure (``benchmarks.side_by_side``): the same work
as the ``materialize_everything`` job, minus Dagster. Generate and land the world, load every contract into
raw with ``ingestion.raw_loader`` (vault, quarantine, audit), validate the raw suites on the rows just loaded,
``dbt build`` as one subprocess, validate the mart suites, score data quality, train the three models and
run the AI services with their checks, render the reports, publish every role's copy. Each step calls the
function its asset calls, with the same arguments (the raw and mart suites also write their result file
and rebuild the Data Docs page each, as the checks do); nothing is skipped or cached.

Run into a data home of its own: ``FUTUREMART_HOME=... FUTUREMART_SCALE=... python -m benchmarks.direct_pipeline``.
Prints one JSON object: seconds and peak RSS of this process per step (dbt's own process is not in it: the
``dbt`` part of ``make bench`` measures it), row counts, and whether every check passed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

from futuremart.settings import DBT_BUILD_ARGS, DBT_PROJECT_DIR, Settings

DBT = Path(sys.executable).with_name("dbt")


class DirectPipelineError(RuntimeError):
    """A step of the direct pipeline failed (the message names it)."""


def dbt_build(settings: Settings, target_path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """``dbt build`` of the whole project against the settings' warehouse, as a subprocess; its artifacts go
    to ``target_path`` so the project's own ``target/`` (the Dagster code location's manifest) is untouched."""
    return subprocess.run(
        [
            str(DBT),
            *DBT_BUILD_ARGS,
            "--quiet",
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--target-path",
            str(target_path),
            "--log-path",
            str(target_path / "logs"),
            *extra,
        ],
        cwd=DBT_PROJECT_DIR,
        env={**os.environ, **settings.dbt_env()},
        capture_output=True,
        text=True,
        check=False,
    )


def reset_peak_rss() -> None:
    """Start this process's peak RSS afresh (Linux: ``/proc/self/clear_refs``), so each step gets its own."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def peak_rss_mib() -> float | None:
    """This process's peak RSS since the last reset (``VmHWM``), or ``None`` where /proc has no such line."""
    with contextlib.suppress(OSError, StopIteration):
        with open("/proc/self/status") as status:
            line = next(line for line in status if line.startswith("VmHWM:"))
        return round(int(line.split()[1]) / 1024, 1)
    return None


def run_direct(settings: Settings) -> dict[str, Any]:
    """Build the whole warehouse of ``settings`` (an empty data home) without Dagster; return the figures.

    Raises :class:`DirectPipelineError` when a step that gates the next ones fails (a raw suite, ``dbt
    build``, a model check, a leak scan), as the blocking checks would stop the job."""
    from expectations.contract_suites import suite_name
    from expectations.data_docs import build_data_docs
    from expectations.runner import suite_docs, validate_table, write_result
    from futuremart.publish import ROLE_COPIES, publish_role
    from futuremart.quality_scores import compute_quality_scores, write_quality_scores
    from futuremart.vault import Vault
    from ingestion.contracts import load_contracts
    from ingestion.landing import land_world
    from ingestion.raw_loader import load_entity
    from ingestion.truth import write_truth
    from ingestion.world import generate_world
    from ml import ai_services, train
    from ml.checks import elasticity_passes, forecast_passes, segmentation_passes
    from ml.security_monitoring import monitoring_passes
    from ml.sentiment import intents_pass, sentiment_passes
    from reports import REPORTS
    from reports.render import build_index, build_report

    steps: dict[str, float] = {}
    peaks: dict[str, float | None] = {}
    figures: dict[str, Any] = {"steps_s": steps, "steps_peak_rss_mib": peaks}
    run_id = f"direct-{uuid.uuid4()}"
    vault = Vault.from_settings(settings)
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)

    @contextmanager
    def step(name: str) -> Iterator[None]:
        reset_peak_rss()
        started = time.perf_counter()
        yield
        steps[name] = round(time.perf_counter() - started, 2)
        peaks[name] = peak_rss_mib()

    with step("generate_and_land"):
        world = generate_world(settings)
        landed = land_world(world, settings)
        write_truth(world, settings)
        del world
    figures["rows_landed"] = sum(entity.rows for entity in landed)

    contracts = load_contracts()
    with step("load_raw"), duckdb.connect(str(settings.warehouse_path), config=settings.duckdb_config()) as con:
        con.execute("set enable_progress_bar = false")
        loads = [load_entity(con, c, settings.landing_dir, run_id=run_id, strict=False, vault=vault) for c in contracts]
    figures["rows_loaded"] = sum(load.total("rows_loaded") for load in loads)

    def validate(names: list[str], **kwargs: Any) -> list[str]:
        failed = []
        with duckdb.connect(str(settings.warehouse_path), config=settings.duckdb_config()) as con:
            for name in names:
                result = validate_table(con, name, settings=settings, **kwargs)
                write_result(result, settings)
                build_data_docs(settings)
                if not result.success:
                    failed.append(name)
        return failed

    with step("raw_suites"):
        raw_failed = validate([suite_name(c) for c in contracts], run_id=run_id)
    if raw_failed:
        raise DirectPipelineError(f"raw suites failed (the dbt build would not run): {raw_failed}")

    target = settings.home / "dbt_target"
    with step("dbt_build"):
        built = dbt_build(settings, target)
    if built.returncode != 0:
        raise DirectPipelineError(f"dbt build failed:\n{built.stdout[-3000:]}\n{built.stderr[-2000:]}")

    with step("mart_suites"):
        marts = [name for name, doc in suite_docs().items() if doc["meta"]["dataset"].startswith("marts.")]
        figures["mart_suites_failed"] = validate(marts)  # warnings in the job too: they do not stop it

    with step("quality_scores"), duckdb.connect(str(settings.warehouse_path), config=settings.duckdb_config()) as con:
        manifest = json.loads((target / "manifest.json").read_text())
        scores = compute_quality_scores(con, manifest, as_of=dt.datetime.now(dt.UTC).replace(tzinfo=None))
        write_quality_scores(con, scores)

    bars, service_bars = settings.ml_bars, settings.ai_service_bars
    checks: dict[str, bool] = {}
    with duckdb.connect(str(settings.warehouse_path), config=settings.duckdb_config()) as con:
        with step("ml"):
            checks["demand_forecast"] = forecast_passes(train.run_demand_forecast(con, settings), bars)
            checks["price_elasticity"] = elasticity_passes(train.run_price_elasticity(con, settings)[0], bars)
            train.run_price_recommendations(con, settings)
            checks["customer_segments"] = segmentation_passes(train.run_customer_segmentation(con, settings), bars)
        with step("ai_services"):
            sentiment = ai_services.run_sentiment(con, settings)
            checks["sentiment"] = sentiment_passes(sentiment, service_bars)
            checks["support_intents"] = intents_pass(sentiment, service_bars)
            checks["security"] = monitoring_passes(ai_services.run_security_monitoring(con, settings), service_bars)
    figures["checks"] = {name: bool(passed) for name, passed in checks.items()}
    if failed := [name for name, passed in checks.items() if not passed]:
        raise DirectPipelineError(f"model checks failed (nothing would be published): {failed}")

    with step("reports"):
        with duckdb.connect(str(settings.warehouse_path), read_only=True, config=settings.duckdb_config()) as con:
            for spec in REPORTS:
                build_report(con, spec, settings)
        build_index(REPORTS, settings)

    with step("publish"):
        for role in ROLE_COPIES:
            # As the published assets do: the vault is the leak scan's reference, and the steward's copy.
            publish_role(
                settings.warehouse_path,
                settings.published_dir,
                role,
                tag=run_id,
                run_id=run_id,
                actor="bench",
                vault=vault,
            )
    figures["total_s"] = round(sum(steps.values()), 2)
    return figures


def main() -> None:
    figures = run_direct(Settings.from_env())
    sys.stdout.write(json.dumps(figures) + "\n")


if __name__ == "__main__":
    main()
