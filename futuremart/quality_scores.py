"""Data-quality score per warehouse table: tests passed / run, freshness of its sources, row count.

Inputs are what the platform already records: dbt's manifest (lineage from each model back to the raw
sources), ``governance.dbt_test_results`` (written by dbt's on-run-end hook after every invocation) and
``governance.load_audit`` (written by the raw loader). The score is a plain weighted sum, so an analyst can
recompute it by hand:

    score = 100 × (0.6 × tests passed / tests run + 0.2 × all sources fresh + 0.2 × has rows)

A table without tests gets nothing for the first term: untested is not the same as passing.

Views (staging, intermediate) are not counted: a view is computed when read, and counting the biggest
(4.7M stock positions at SF1, 4 s) on every nightly run would cost more than the rest of the scoring. Their
``row_count`` is null and "has rows" is judged on the raw tables they read: every one of them holds rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

import duckdb
import pandas as pd

from ingestion.contracts import load_contracts

SCORES_TABLE = "governance.data_quality_scores"
WEIGHT_TESTS, WEIGHT_FRESH, WEIGHT_ROWS = 0.6, 0.2, 0.2
# Statuses of the latest attempt that mean "the loader looked at this source then".
CHECKED_STATUSES = ("loaded", "skipped_unchanged", "duplicate_file")


@dataclass(frozen=True)
class QualityScore:
    table_name: str
    schema_name: str
    layer: str
    row_count: int | None  # null for a view (see the module's docstring)
    tests_run: int
    tests_passed: int
    tests_failed: int
    upstream_sources: int
    hours_since_source_load: float | None
    freshness_sla_hours: int | None
    is_fresh: bool
    score: float
    scored_at: dt.datetime


def upstream_sources(manifest: Mapping[str, Any], unique_id: str) -> set[str]:
    """Every source a node reads, directly or through other models."""
    parents = manifest["parent_map"]
    seen: set[str] = set()
    stack = [unique_id]
    sources = set()
    while stack:
        node = stack.pop()
        for parent in parents.get(node, []):
            if parent in seen:
                continue
            seen.add(parent)
            if parent.startswith("source."):
                sources.add(parent)
            else:
                stack.append(parent)
    return sources


def _latest_test_results(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    exists = con.execute(
        "select count(*) from information_schema.tables "
        "where table_schema = 'governance' and table_name = 'dbt_test_results'"
    ).fetchone()[0]
    if not exists:
        return pd.DataFrame(columns=["model_unique_id", "status"])
    # The latest result of each test: a partial run (one partition, one model) keeps the others' results.
    return con.execute(
        """
        select model_unique_id, status
        from (
            select *, row_number() over (partition by test_unique_id order by executed_at desc, invocation_id desc) as r
            from governance.dbt_test_results
        )
        where r = 1
        """
    ).df()


def _last_checked(con: duckdb.DuckDBPyConnection) -> dict[str, dt.datetime]:
    rows = con.execute(
        f"select source_system || '_' || entity, max(loaded_at) from governance.load_audit "
        f"where status in {CHECKED_STATUSES} group by 1"
    ).fetchall()
    return dict(rows)


def compute_quality_scores(
    con: duckdb.DuckDBPyConnection, manifest: Mapping[str, Any], as_of: dt.datetime
) -> list[QualityScore]:
    """A score for every model and seed of the manifest that exists in the warehouse."""
    freshness = {c.raw_table: c.freshness_hours for c in load_contracts()}
    checked = _last_checked(con)
    results = _latest_test_results(con)
    kinds = dict(
        ((schema, name), kind)
        for schema, name, kind in con.execute(
            "select table_schema, table_name, table_type from information_schema.tables"
        ).fetchall()
    )
    raw_rows: dict[str, int] = {}
    scores = []
    for unique_id, node in sorted(manifest["nodes"].items()):
        if node["resource_type"] not in ("model", "seed") or (node["schema"], node["alias"]) not in kinds:
            continue
        mine = results[results["model_unique_id"] == unique_id]
        run = len(mine)
        passed = int((mine["status"] == "pass").sum())
        failed = int(mine["status"].isin(["fail", "error"]).sum())
        sources = [manifest["sources"][s] for s in upstream_sources(manifest, unique_id)]
        # Freshness is judged on the raw tables a contract governs (the audit source has no SLA).
        raw_tables = sorted(t for t in (source["identifier"] for source in sources) if t in freshness)
        ages = [(as_of - checked[t]).total_seconds() / 3600 for t in raw_tables if t in checked]
        slas = [freshness[t] for t in raw_tables]
        fresh = len(ages) == len(raw_tables) and all(
            age <= freshness[t] for t, age in zip(raw_tables, ages, strict=True)
        )
        if kinds[(node["schema"], node["alias"])] == "VIEW":
            rows = None
            has_rows = bool(sources) and all(
                _table_rows(con, kinds, raw_rows, source["schema"], source["identifier"]) > 0 for source in sources
            )
        else:
            rows = con.execute(f'select count(*) from "{node["schema"]}"."{node["alias"]}"').fetchone()[0]
            has_rows = rows > 0
        score = 100 * (WEIGHT_TESTS * (passed / run if run else 0.0) + WEIGHT_FRESH * fresh + WEIGHT_ROWS * has_rows)
        layer = node["fqn"][1] if node["resource_type"] == "model" and len(node["fqn"]) > 2 else node["schema"]
        scores.append(
            QualityScore(
                table_name=node["alias"],
                schema_name=node["schema"],
                layer=layer,
                row_count=None if rows is None else int(rows),
                tests_run=run,
                tests_passed=passed,
                tests_failed=failed,
                upstream_sources=len(raw_tables),
                hours_since_source_load=round(max(ages), 3) if ages else None,
                freshness_sla_hours=min(slas) if slas else None,
                is_fresh=fresh,
                score=round(score, 1),
                scored_at=as_of,
            )
        )
    return scores


def _table_rows(
    con: duckdb.DuckDBPyConnection,
    kinds: Mapping[tuple[str, str], str],
    counted: dict[str, int],
    schema: str,
    table: str,
) -> int:
    """Rows of a source table (0 when the warehouse has no such relation), counted once per scoring."""
    name = f"{schema}.{table}"
    if name not in counted:
        exists = (schema, table) in kinds
        counted[name] = con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0] if exists else 0
    return counted[name]


def write_quality_scores(con: duckdb.DuckDBPyConnection, scores: list[QualityScore]) -> None:
    """Replace the scores table in one transaction: readers see the old scores or the new ones."""
    frame = pd.DataFrame([asdict(s) for s in scores], columns=[f.name for f in fields(QualityScore)])
    frame["row_count"] = frame["row_count"].astype("Int64")  # a view's null stays null (not NaN, not 0)
    con.execute("create schema if not exists governance")
    con.execute("begin transaction")
    try:
        con.register("scores_frame", frame)
        con.execute(
            f"create or replace table {SCORES_TABLE} as select * from scores_frame order by schema_name, table_name"
        )
        con.unregister("scores_frame")
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
