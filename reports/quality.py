"""Data quality and governance report: quality scores, dbt test results, load reconciliation, load audit."""

from __future__ import annotations

import duckdb
import plotly.express as px

from reports.render import Chart, Headline, ReportSpec, query_frame

# The latest recorded result of every dbt test: each dbt invocation appends its results.
LATEST_TESTS = """(
    select status
    from (
        select status, row_number() over (partition by test_unique_id order by executed_at desc) as recency
        from governance.dbt_test_results
    ) as ranked
    where recency = 1
) as latest"""


def charts(con: duckdb.DuckDBPyConnection) -> list[Chart]:
    scores = query_frame(
        con,
        """
        select schema_name || '.' || table_name as table_name, layer, score, tests_run, tests_failed, is_fresh
        from governance.data_quality_scores
        order by score, table_name
        """,
    )
    tests = query_frame(
        con,
        """
        select invocation_id, min(executed_at) as executed_at, status, count(*) as tests
        from governance.dbt_test_results
        group by invocation_id, status
        order by 2, 3
        """,
    )
    loads = query_frame(
        con,
        """
        select source_entity, cast(rows_loaded as bigint) as rows_loaded,
            cast(rows_quarantined as bigint) as rows_quarantined
        from governance.gov_load_reconciliation
        order by source_entity
        """,
    )
    audit = query_frame(
        con,
        """
        select partition_date, status, count(*) as files
        from governance.load_audit
        where partition_date is not null
        group by 1, 2
        order by 1, 2
        """,
    )
    return [
        Chart(
            "scores",
            "Quality score per table",
            px.bar(
                scores,
                x="score",
                y="table_name",
                color="layer",
                orientation="h",
                hover_data=["tests_run", "tests_failed", "is_fresh"],
                # One readable row per table, however many tables the warehouse holds.
                height=120 + 16 * len(scores),
            ).update_yaxes(title=None),
            "Score from the latest dbt test results, the freshness of the table's sources and its row count "
            "(futuremart/quality_scores.py).",
        ),
        Chart(
            "dbt_tests",
            "dbt tests per invocation and status",
            px.bar(tests, x="executed_at", y="tests", color="status", hover_data=["invocation_id"]),
            "Every dbt invocation records its test results (on-run-end hook).",
        ),
        Chart(
            "reconciliation",
            "Rows loaded and quarantined per source entity",
            px.bar(
                loads.melt(id_vars="source_entity", var_name="rows"),
                x="source_entity",
                y="value",
                color="rows",
                log_y=True,
                labels={"value": "rows (log scale)"},
            ),
            "Every load reconciles: rows in = rows loaded + rows quarantined.",
        ),
        Chart(
            "load_audit",
            "Files loaded per partition day",
            px.bar(audit, x="partition_date", y="files", color="status"),
            "One audit row per landed file and load attempt (governance.load_audit).",
        ),
    ]


SPEC = ReportSpec(
    slug="quality",
    title="Data quality and governance",
    summary="How far the warehouse can be trusted: the quality score of every table, the dbt tests run and "
    "failed, and the loads: files loaded, rows quarantined, every source entity reconciled. From the governance "
    "tables.",
    owner="team:data-governance",
    reads=(
        "governance.data_quality_scores",
        "governance.dbt_test_results",
        "governance.gov_load_reconciliation",
        "governance.load_audit",
    ),
    headlines=(
        Headline("tables_scored", "Tables scored", "select count(*) from governance.data_quality_scores", "count"),
        Headline(
            "mean_quality_score",
            "Mean quality score",
            "select avg(score) from governance.data_quality_scores",
            "number",
            "0 to 100",
        ),
        Headline(
            "tests_run",
            "dbt tests",
            f"select count(*) from {LATEST_TESTS}",
            "count",
            "latest result of each test",
        ),
        Headline(
            "tests_failed",
            "dbt tests failing",
            f"select count(*) from {LATEST_TESTS} where status in ('fail', 'error')",
            "count",
            "warn-severity failures not counted",
        ),
        Headline(
            "stale_tables",
            "Stale tables",
            "select count(*) from governance.data_quality_scores where not is_fresh",
            "count",
            "sources older than their contract allows",
        ),
        Headline(
            "files_loaded",
            "Files loaded",
            "select count(*) from governance.load_audit where status = 'loaded'",
            "count",
        ),
        Headline(
            "quarantine_rate",
            "Rows quarantined",
            "select cast(sum(rows_quarantined) as double) / nullif(sum(rows_in), 0) from governance.load_audit",
            "pct",
            "of rows landed",
        ),
        Headline(
            "reconciled_entities",
            "Source entities reconciled",
            "select avg(case when is_reconciled then 1.0 else 0.0 end) from governance.gov_load_reconciliation",
            "pct",
        ),
    ),
    charts=charts,
)
