"""Great Expectations suites as Dagster asset checks: one blocking check per raw asset, built from the source
contracts, and a non-blocking check per mart suite. Every check writes its result file and rebuilds the
Data Docs page (``<reports>/data_docs/index.html``), so the page always shows the latest result of each suite.
"""

import dagster as dg

from expectations.contract_suites import suite_name
from expectations.data_docs import build_data_docs
from expectations.runner import SuiteResult, suite_docs, validate_table, write_result
from ingestion.contracts import EntityContract, load_contracts
from orchestration.partitions import rebuilt_window, run_window
from orchestration.resources import FutureMartResource


def check_result(result: SuiteResult, futuremart: FutureMartResource, severity: dg.AssetCheckSeverity):
    """Write the result file and the Data Docs, and turn a suite result into the check's result."""
    path = write_result(result, futuremart.settings)
    docs = build_data_docs(futuremart.settings)
    return dg.AssetCheckResult(
        passed=result.success,
        severity=severity,
        description=result.summary()[:2000],
        metadata={
            "rows_validated": result.rows,
            "expectations_evaluated": result.evaluated,
            "expectations_failed": len(result.failures),
            "failed_expectations": dg.MetadataValue.json(
                [
                    {k: str(v) for k, v in f.items() if k in ("expectation", "kwargs", "unexpected_count")}
                    for f in result.failures
                ]
            ),
            "latest_business_date": result.latest_business_date or "",
            "note": result.note,
            "seconds": result.seconds,
            "result_file": dg.MetadataValue.path(str(path)),
            "data_docs": dg.MetadataValue.path(str(docs)),
        },
    )


def build_raw_check(contract: EntityContract) -> dg.AssetChecksDefinition:
    """The blocking check of ``raw.<system>_<entity>``: its suite on the rows the current run loaded."""
    name = suite_name(contract)

    @dg.asset_check(
        asset=dg.AssetKey(["raw", contract.raw_table]),
        name=f"gx_{name}",
        description=f"Great Expectations suite {name} (generated from ingestion/contracts/{contract.source_system}.yml"
        f", plus expectations/suites/{name}.json if present) on the rows of raw.{contract.raw_table} loaded by this "
        "run; blocking: the models downstream do not run when it fails.",
        blocking=True,
    )
    def _check(context: dg.AssetCheckExecutionContext, futuremart: FutureMartResource) -> dg.AssetCheckResult:
        # The run's own writable connection: DuckDB refuses a read-only one beside it in the same process.
        # Freshness as of the run's last day: a backfill up to day D cannot know the days after it.
        window = run_window(context.run.tags)
        with futuremart.warehouse() as con:
            result = validate_table(
                con, name, run_id=context.run.run_id, settings=futuremart.settings, as_of=window[1] if window else None
            )
        return check_result(result, futuremart, dg.AssetCheckSeverity.ERROR)

    return _check


def build_mart_check(name: str, dataset: str, partition_column: str | None) -> dg.AssetChecksDefinition:
    """The non-blocking check of a mart suite (``expectations/suites/marts_<model>.json``)."""
    schema, table = dataset.split(".")
    scope = (
        f"the rows of the days the run rebuilt, by {partition_column} (row-count bounds and the expectations marked "
        "whole_table on the whole table)"
        if partition_column
        else "whole table"
    )

    @dg.asset_check(
        asset=dg.AssetKey([schema, table]),
        name=f"gx_{name}",
        description=f"Great Expectations suite expectations/suites/{name}.json on {dataset} ({scope}); "
        "warns, does not block: dbt's own tests on the model gate its consumers.",
        blocking=False,
    )
    def _check(context: dg.AssetCheckExecutionContext, futuremart: FutureMartResource) -> dg.AssetCheckResult:
        # A partitioned run validates its days (late rows' days included): the runs that built the other days
        # validated them, and what a night changes in them is left to dbt's tests (see expectations.runner).
        # A run without partitions validates everything.
        run_days = run_window(context.run.tags)
        window = rebuilt_window(context.run.tags) if partition_column else None
        with futuremart.warehouse() as con:
            result = validate_table(
                con, name, window=window, settings=futuremart.settings, as_of=run_days[1] if run_days else None
            )
        return check_result(result, futuremart, dg.AssetCheckSeverity.WARN)

    return _check


raw_checks = [build_raw_check(c) for c in load_contracts()]
mart_checks = [
    build_mart_check(name, doc["meta"]["dataset"], doc["meta"].get("partition_column"))
    for name, doc in suite_docs().items()
    if doc["meta"]["dataset"].startswith("marts.")
]
gx_checks = [*raw_checks, *mart_checks]
