"""Published HTML reports: one asset per report and one for the index page (logic in the ``reports`` package).

Each report asset depends on the tables it reads (``ReportSpec.reads``), so it runs after them and shows up
downstream of them in the graph; each is also a dbt exposure (dbt_project/models/exposures.yml).
"""

import dagster as dg

from orchestration.defs.governance import data_quality_scores
from orchestration.resources import FutureMartResource
from reports import REPORTS
from reports.render import ReportSpec, build_index, build_report

# Tables not produced by an asset of their own name: dbt's on-run-end hook appends every test result to
# governance.dbt_test_results (the quality scores asset reads them after every dbt step, so wait for it);
# each training asset writes its model's side tables and a row of ml.model_registry.
_FORECAST, _ELASTICITY, _SEGMENTS = (
    dg.AssetKey(["ml", n]) for n in ("demand_forecast", "price_elasticity", "customer_segments")
)
TABLE_ASSETS: dict[str, tuple[dg.AssetKey, ...]] = {
    "governance.dbt_test_results": (data_quality_scores.key,),
    "ml.model_registry": (_FORECAST, _ELASTICITY, _SEGMENTS),
    "ml.demand_backtest": (_FORECAST,),
    "ml.price_impact_by_category": (dg.AssetKey(["ml", "price_recommendations"]),),
    "ml.segment_profiles": (_SEGMENTS,),
}


def table_asset_keys(table: str) -> tuple[dg.AssetKey, ...]:
    """The assets that write ``schema.table`` (dbt models and Python assets are keyed ``schema/table``)."""
    return TABLE_ASSETS.get(table, (dg.AssetKey(table.split(".")),))


def report_asset(spec: ReportSpec) -> dg.AssetsDefinition:
    @dg.asset(
        key=["reports", f"{spec.slug}_report"],
        group_name="reports",
        owners=[spec.owner],
        kinds={"html", "plotly"},
        deps=sorted({k for table in spec.reads for k in table_asset_keys(table)}, key=lambda k: k.to_user_string()),
        # Opens the warehouse read-only: a writer in another run must not hold it meanwhile (DuckDB).
        pool="duckdb_writer",
        description=f"{spec.title} report, reports/{spec.filename}: {spec.summary}",
    )
    def _report(context: dg.AssetExecutionContext, futuremart: FutureMartResource) -> dg.MaterializeResult:
        with futuremart.warehouse(read_only=True) as con:
            rendered = build_report(con, spec, futuremart.settings)
        context.log.info("wrote %s (%d charts, %d bytes)", rendered.path, rendered.charts, rendered.bytes)
        headlines = {f"headline/{key}": value for key, value in rendered.headlines.items() if value is not None}
        return dg.MaterializeResult(
            metadata={
                "path": dg.MetadataValue.path(str(rendered.path)),
                "charts": rendered.charts,
                "bytes": rendered.bytes,
                **headlines,
            }
        )

    return _report


report_assets = [report_asset(spec) for spec in REPORTS]


@dg.asset(
    key=["reports", "index"],
    group_name="reports",
    owners=["team:data-platform"],
    kinds={"html"},
    deps=[asset.key for asset in report_assets],
    description="Index of the published reports, reports/index.html: a link to every report and to the Great "
    "Expectations Data Docs page.",
)
def reports_index(futuremart: FutureMartResource) -> dg.MaterializeResult:
    path = build_index(REPORTS, futuremart.settings)
    return dg.MaterializeResult(metadata={"path": dg.MetadataValue.path(str(path)), "reports": len(REPORTS)})
