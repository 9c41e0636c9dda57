"""Governance assets computed after the dbt build: the data-quality score of every table."""

import datetime as dt
import json

import dagster as dg

from futuremart.quality_scores import compute_quality_scores, write_quality_scores
from orchestration.defs.dbt import dbt_asset_definitions
from orchestration.defs.dbt_project import dbt_project
from orchestration.resources import FutureMartResource


@dg.asset(
    key=["governance", "data_quality_scores"],
    group_name="governance",
    owners=["team:data-platform"],
    kinds={"python", "duckdb"},
    deps=[key for definition in dbt_asset_definitions for key in definition.keys],
    pool="duckdb_writer",
    description="Data-quality score per warehouse table (governance.data_quality_scores): latest dbt test "
    "results (tests passed / run), freshness of its raw sources against their contracts, row count. "
    "Formula in futuremart/quality_scores.py.",
)
def data_quality_scores(context: dg.AssetExecutionContext, futuremart: FutureMartResource) -> dg.MaterializeResult:
    manifest = json.loads(dbt_project.manifest_path.read_text())
    with futuremart.warehouse() as con:
        scores = compute_quality_scores(con, manifest, as_of=dt.datetime.now(dt.UTC).replace(tzinfo=None))
        write_quality_scores(con, scores)
    failing = sorted(s.table_name for s in scores if s.tests_failed)
    context.log.info("scored %d tables; tables with failing tests: %s", len(scores), failing or "none")
    return dg.MaterializeResult(
        metadata={
            "tables": len(scores),
            "mean_score": round(sum(s.score for s in scores) / len(scores), 1) if scores else 0.0,
            "tests_run": sum(s.tests_run for s in scores),
            "tests_failed": sum(s.tests_failed for s in scores),
            "stale_tables": sum(not s.is_fresh for s in scores),
            "tables_with_failures": dg.MetadataValue.json(failing),
        }
    )
