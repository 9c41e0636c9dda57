"""Published copies for readers, written after a good build (logic in ``futuremart/publish.py``)."""

import dagster as dg

from futuremart.publish import ANALYST_COPY, ANALYST_SCHEMAS, ANALYST_TABLES, publish_tables
from orchestration.defs.dbt import dbt_asset_definitions
from orchestration.defs.governance import data_quality_scores
from orchestration.defs.ml import ml_assets
from orchestration.resources import FutureMartResource


@dg.asset(
    key=["published", "analyst_warehouse"],
    group_name="published",
    owners=["team:data-platform"],
    kinds={"duckdb", "python"},
    # Downstream of every dbt model: a failed `dbt build` (a model or an error-severity test) or a failed
    # blocking check upstream skips this step, so the previous copy stays published.
    deps=[
        *(key for definition in dbt_asset_definitions for key in definition.keys),
        data_quality_scores.key,
        *(asset.key for asset in ml_assets),  # the ml schema is published too
    ],
    # It attaches the warehouse read-only, which a writer in another process would block (and vice versa).
    pool="duckdb_writer",
    description=f"Read-only copy for analysts, published/{ANALYST_COPY}: the schemas {', '.join(ANALYST_SCHEMAS)} "
    "and the governance catalog and quality tables, never raw, quarantine, staging or intermediate. Written as "
    "a new file, verified (row counts and checksums equal the warehouse), then renamed over the previous copy, "
    "so readers never see a partial copy and a failed publish keeps the previous one.",
)
def analyst_warehouse(context: dg.AssetExecutionContext, futuremart: FutureMartResource) -> dg.MaterializeResult:
    settings = futuremart.settings
    result = publish_tables(
        settings.warehouse_path,
        settings.published_dir / ANALYST_COPY,
        schemas=ANALYST_SCHEMAS,
        tables=ANALYST_TABLES,
        tag=context.run_id,
    )
    context.log.info(
        "published %d tables, %d rows, %d bytes in %.1fs", len(result.tables), result.rows, result.bytes, result.seconds
    )
    return dg.MaterializeResult(
        metadata={
            "tables": len(result.tables),
            "rows": result.rows,
            "bytes": result.bytes,
            "seconds": round(result.seconds, 2),
            "path": dg.MetadataValue.path(str(result.path)),
            "row_counts": dg.MetadataValue.json({name: t.rows for name, t in result.tables.items()}),
        }
    )
