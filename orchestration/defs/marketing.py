"""Marketing measurement after the marts: each campaign's uplift from its randomized holdout, with a
bootstrap interval (logic in ``ml.campaign_uplift``), written to ``ml.campaign_uplift``; a blocking check
fails when an estimate is not sane against its own interval."""

import dagster as dg

from ml.campaign_uplift import OUTPUT_TABLE, sanity_failures
from orchestration.resources import FutureMartResource

OWNERS = ["team:marketing-analytics"]


@dg.asset(
    key=["ml", "campaign_uplift"],
    group_name="marketing",
    owners=OWNERS,
    kinds={"python", "duckdb"},
    deps=[dg.AssetKey(["intermediate", "int_marketing__campaign_member_outcomes"])],
    pool="duckdb_writer",
    description="Uplift per campaign (ml.campaign_uplift): treatment over holdout order lines per member "
    "during the campaign window, minus 1 (the quantity the planted uplift multiplies), with a stratified "
    "bootstrap interval (FUTUREMART_UPLIFT_RESAMPLES resamples, fixed seed) and the delta-method standard "
    "error beside it. Metadata: the estimates and intervals.",
)
def campaign_uplift(context: dg.AssetExecutionContext, futuremart: FutureMartResource) -> dg.MaterializeResult:
    from ml.campaign_uplift import run_campaign_uplift

    settings = futuremart.settings
    with futuremart.warehouse() as con:
        table = run_campaign_uplift(con, settings.seed, settings.uplift_resamples)
    context.log.info("campaign uplift:\n%s", table[["campaign_id", "uplift", "uplift_ci_low", "uplift_ci_high"]])
    estimates = {
        row.campaign_id: [round(row.uplift, 4), round(row.uplift_ci_low, 4), round(row.uplift_ci_high, 4)]
        for row in table.itertuples(index=False)
    }
    return dg.MaterializeResult(
        metadata={"campaigns": len(table), "uplift [estimate, low, high]": dg.MetadataValue.json(estimates)}
    )


@dg.asset_check(
    asset=campaign_uplift,
    blocking=True,
    description="Every campaign has an estimate inside its own interval, and the bootstrap and delta-method "
    "standard errors agree within a factor 1.5.",
)
def campaign_uplift_is_sane(futuremart: FutureMartResource) -> dg.AssetCheckResult:
    with futuremart.warehouse(read_only=True) as con:
        table = con.execute(f"select * from {OUTPUT_TABLE} order by campaign_id").df()
    problems = sanity_failures(table)
    return dg.AssetCheckResult(
        passed=not problems,
        metadata={"campaigns": len(table), "problems": dg.MetadataValue.json(problems)},
    )


marketing_assets = [campaign_uplift]
marketing_checks = [campaign_uplift_is_sane]
