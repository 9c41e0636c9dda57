"""Great Expectations suites as Dagster asset checks."""

import dagster as dg

from expectations.runner import validate_table, write_result
from orchestration.resources import FutureMartResource


@dg.asset_check(
    asset=dg.AssetKey(["raw", "shop_orders"]),
    name="gx_raw_shop_orders",
    description="Great Expectations suite expectations/suites/raw_shop_orders.json on raw.shop_orders; "
    "blocking: the models downstream do not run when it fails.",
    blocking=True,
)
def gx_raw_shop_orders(futuremart: FutureMartResource) -> dg.AssetCheckResult:
    with futuremart.warehouse(read_only=False) as con:
        result = validate_table(con, "raw_shop_orders")
    path = write_result(result, futuremart.settings)
    return dg.AssetCheckResult(
        passed=result.success,
        severity=dg.AssetCheckSeverity.ERROR,
        description=result.summary(),
        metadata={
            "rows": result.rows,
            "expectations": result.evaluated,
            "failed_expectations": len(result.failures),
            "result_file": dg.MetadataValue.path(str(path)),
        },
    )
