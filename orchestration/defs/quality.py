"""Great Expectations suites as Dagster asset checks: one blocking check per raw asset, built from the source
contracts, and a non-blocking check per mart suite; the raw suites run in one step, the mart suites in another.
Each step writes its result files and rebuilds the Data Docs page (``<reports>/data_docs/index.html``), so the
page always shows the latest result of each suite.
"""

import datetime as dt
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

import dagster as dg

from expectations.contract_suites import suite_name
from expectations.data_docs import build_data_docs, data_docs_page
from expectations.runner import SuiteResult, suite_docs, validate_table, write_result
from ingestion.contracts import EntityContract, load_contracts
from orchestration.partitions import rebuilt_window, run_window
from orchestration.resources import FutureMartResource

# The steps running the suites (a multi-asset check is one step, named after it).
RAW_SUITES_STEP = "raw_suites"
MART_SUITES_STEP = "mart_suites"


def check_result(
    result: SuiteResult, futuremart: FutureMartResource, severity: dg.AssetCheckSeverity, check_key: dg.AssetCheckKey
) -> dg.AssetCheckResult:
    """Write the result file and turn a suite result into the check's result; the step rebuilds the Data
    Docs once after its suites."""
    path = write_result(result, futuremart.settings)
    return dg.AssetCheckResult(
        asset_key=check_key.asset_key,
        check_name=check_key.name,
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
            "data_docs": dg.MetadataValue.path(str(data_docs_page(futuremart.settings))),
        },
    )


class SuiteRun(NamedTuple):
    """A suite to validate and the arguments of :func:`expectations.runner.validate_table` it takes."""

    name: str
    arguments: dict[str, Any]


def run_suites(
    context: dg.AssetCheckExecutionContext,
    futuremart: FutureMartResource,
    suites: Mapping[dg.AssetCheckKey, SuiteRun],
    severity: dg.AssetCheckSeverity,
    as_of: dt.date | None,
) -> Iterator[dg.AssetCheckResult]:
    """Validate the suites of the checks the run selected, on one warehouse connection (the run's own
    writable one: DuckDB refuses a read-only one beside it in the same process), and rebuild the Data Docs
    once after them, even when one fails to run. Freshness is judged as of ``as_of``, the run's last day: a
    backfill up to day D cannot know the days after it."""
    selected = [(key, suite) for key, suite in suites.items() if key in context.selected_asset_check_keys]
    try:
        with futuremart.warehouse() as con:
            for key, suite in selected:
                result = validate_table(con, suite.name, settings=futuremart.settings, as_of=as_of, **suite.arguments)
                yield check_result(result, futuremart, severity, key)
    finally:
        build_data_docs(futuremart.settings)


def raw_check_key(contract: EntityContract) -> dg.AssetCheckKey:
    return dg.AssetCheckKey(dg.AssetKey(["raw", contract.raw_table]), f"gx_{suite_name(contract)}")


def build_raw_checks(contracts: list[EntityContract]) -> dg.AssetChecksDefinition:
    """The blocking check of each ``raw.<system>_<entity>``: its suite on the rows the current run loaded.

    One step for every raw table a run loads (the selected checks only): one warehouse connection and one
    Data Docs page for all the suites, where a step per suite paid both each time.
    """
    specs = [
        dg.AssetCheckSpec(
            raw_check_key(c).name,
            asset=raw_check_key(c).asset_key,
            description=f"Great Expectations suite {suite_name(c)} (generated from ingestion/contracts/"
            f"{c.source_system}.yml, plus expectations/suites/{suite_name(c)}.json if present) on the rows of "
            f"raw.{c.raw_table} loaded by this run; blocking: the models downstream do not run when it fails.",
            blocking=True,
        )
        for c in contracts
    ]

    @dg.multi_asset_check(name=RAW_SUITES_STEP, specs=specs, can_subset=True)
    def _check(context: dg.AssetCheckExecutionContext, futuremart: FutureMartResource):
        window = run_window(context.run.tags)
        suites = {raw_check_key(c): SuiteRun(suite_name(c), {"run_id": context.run.run_id}) for c in contracts}
        yield from run_suites(context, futuremart, suites, dg.AssetCheckSeverity.ERROR, window[1] if window else None)

    return _check


class MartSuite(NamedTuple):
    name: str
    dataset: str
    partition_column: str | None

    @property
    def check_key(self) -> dg.AssetCheckKey:
        return dg.AssetCheckKey(dg.AssetKey(self.dataset.split(".")), f"gx_{self.name}")

    @property
    def scope(self) -> str:
        if not self.partition_column:
            return "whole table"
        return (
            f"the rows of the days the run rebuilt, by {self.partition_column} (row-count bounds and the "
            "expectations marked whole_table on the whole table)"
        )


def build_mart_checks(suites: list[MartSuite]) -> dg.AssetChecksDefinition:
    """The non-blocking check of each mart suite (``expectations/suites/marts_<model>.json``), in one step
    like the raw suites."""
    specs = [
        dg.AssetCheckSpec(
            suite.check_key.name,
            asset=suite.check_key.asset_key,
            description=f"Great Expectations suite expectations/suites/{suite.name}.json on {suite.dataset} "
            f"({suite.scope}); warns, does not block: dbt's own tests on the model gate its consumers.",
            blocking=False,
        )
        for suite in suites
    ]

    @dg.multi_asset_check(name=MART_SUITES_STEP, specs=specs, can_subset=True)
    def _check(context: dg.AssetCheckExecutionContext, futuremart: FutureMartResource):
        # A partitioned run validates its days (late rows' days included): the runs that built the other days
        # validated them, and what a night changes in them is left to dbt's tests (see expectations.runner).
        # A run without partitions validates everything.
        run_days, rebuilt = run_window(context.run.tags), rebuilt_window(context.run.tags)
        runs = {s.check_key: SuiteRun(s.name, {"window": rebuilt if s.partition_column else None}) for s in suites}
        yield from run_suites(context, futuremart, runs, dg.AssetCheckSeverity.WARN, run_days[1] if run_days else None)

    return _check


raw_checks = [build_raw_checks(load_contracts())]
mart_checks = [
    build_mart_checks(
        [
            MartSuite(name, doc["meta"]["dataset"], doc["meta"].get("partition_column"))
            for name, doc in suite_docs().items()
            if doc["meta"]["dataset"].startswith("marts.")
        ]
    )
]
gx_checks = [*raw_checks, *mart_checks]
