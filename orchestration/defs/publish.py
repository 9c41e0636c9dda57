"""Published copies for readers, one per role, written after a good build (logic in ``futuremart/publish.py``)."""

from collections.abc import Iterator

import dagster as dg

from futuremart.privacy import LeakScan
from futuremart.publish import ROLE_COPIES, LeakFound, RoleCopy, publish_role
from futuremart.vault import Vault
from orchestration.defs.ai_services import ai_service_assets
from orchestration.defs.dbt import dbt_asset_definitions
from orchestration.defs.governance import data_quality_scores
from orchestration.defs.ml import ml_assets
from orchestration.defs.personalization import customer_recommendations
from orchestration.partitions import rebuilt_window
from orchestration.resources import FutureMartResource

LEAK_CHECK = "no_clear_pii"

_DESCRIPTIONS = {
    "analyst": "every mart, the reference seeds and the governance catalog and quality tables",
    "marketing": "the campaign, email, promotion, customer (tokens and generalized attributes only) and web marts",
    "finance": "the sales, payment, return, purchasing, ad-spend and promotion marts",
    "steward": "governance with the load and audit logs and the erasure register, the reference seeds, the "
    "security alerts; with it "
    "published/steward_vault.duckdb, an encrypted copy of the pii vault (clear values behind the tokens)",
}


def _scan_metadata(scan: LeakScan) -> dict[str, object]:
    return {
        "tables": scan.tables,
        "text_columns": scan.columns,
        "values_scanned": scan.values_scanned,
        "hits": scan.hit_count,
        "columns_with_hits": dg.MetadataValue.json(scan.hits),
        "examples_masked": dg.MetadataValue.json(scan.examples),
    }


def build_published_asset(spec: RoleCopy) -> dg.AssetsDefinition:
    """The asset writing ``published/<role>.duckdb``; with its blocking leak check unless it is the steward's."""
    key = dg.AssetKey(["published", f"{spec.role}_warehouse"])
    checks = (
        []
        if spec.personal_data
        else [
            dg.AssetCheckSpec(
                LEAK_CHECK,
                asset=key,
                blocking=True,
                description="Every text value the publish wrote into the staged copy (the tables it copied, the "
                "days it rewrote; what it kept of the previous copy passed this check then), scanned before it "
                "replaces the previous one: no value may look like an email address, a phone number or an IP "
                "address, or equal a clear value of the pii vault. On a hit the staged copy is deleted and the "
                "previous copy stays.",
            )
        ]
    )

    @dg.asset(
        key=key,
        group_name="published",
        owners=["team:data-platform"],
        kinds={"duckdb", "python"},
        # Downstream of every dbt model: a failed `dbt build` (a model or an error-severity test) or a failed
        # blocking check upstream skips this step, so the previous copy stays published.
        deps=[
            *(k for definition in dbt_asset_definitions for k in definition.keys),
            data_quality_scores.key,
            *(asset.key for asset in ml_assets),  # the ml schema is published too
            *(key for asset in ai_service_assets for key in asset.keys),  # ml scores, security alerts
            customer_recommendations.key,
        ],
        # It attaches the warehouse read-only, which a writer in another process would block (and vice versa).
        pool="duckdb_writer",
        check_specs=checks,
        description=f"Read-only copy for the {spec.role} role, published/{spec.file_name}: {_DESCRIPTIONS[spec.role]}. "
        "Written as a new file (from the previous copy: unchanged tables kept, the run's days of the "
        "day-partitioned facts rewritten, other tables copied), verified whole (row counts and checksums equal "
        "the warehouse)"
        + ("" if spec.personal_data else ", what it wrote scanned for clear personal data")
        + ", then renamed over the previous copy, so readers never see a partial copy and a failed publish keeps "
        "the previous one.",
    )
    def _publish(context: dg.AssetExecutionContext, futuremart: FutureMartResource) -> Iterator:
        settings = futuremart.settings
        try:
            result = publish_role(
                settings.warehouse_path,
                settings.published_dir,
                spec.role,
                tag=context.run_id,
                run_id=context.run_id,
                actor="dagster",
                vault=Vault.from_settings(settings),
                # A nightly run rewrites only the days it rebuilt of the day-partitioned tables in the previous copy.
                window=rebuilt_window(context.run.tags),
            )
        except LeakFound as leak:
            # Report the failed check before failing the step: the previous copy was kept.
            yield dg.AssetCheckResult(
                check_name=LEAK_CHECK, passed=False, asset_key=key, metadata=_scan_metadata(leak.scan)
            )
            raise
        published = result.published
        context.log.info(
            "published %s: %d tables, %d rows, %d bytes in %.1fs",
            spec.file_name,
            len(published.tables),
            published.rows,
            published.bytes,
            published.seconds,
        )
        yield dg.MaterializeResult(
            metadata={
                "tables": len(published.tables),
                "rows": published.rows,
                "bytes": published.bytes,
                "seconds": round(published.seconds, 2),
                "path": dg.MetadataValue.path(str(published.path)),
                "row_counts": dg.MetadataValue.json({name: t.rows for name, t in published.tables.items()}),
                "tables_reused": dg.MetadataValue.json(list(published.reused)),
                "tables_window_rewritten": dg.MetadataValue.json(list(published.window_rewritten)),
                "tables_rows_rewritten": dg.MetadataValue.json(list(published.rows_rewritten)),
            }
        )
        if result.scan is not None:
            yield dg.AssetCheckResult(
                check_name=LEAK_CHECK, passed=True, asset_key=key, metadata=_scan_metadata(result.scan)
            )

    return _publish


published_assets = [build_published_asset(spec) for spec in ROLE_COPIES.values()]
