"""dbt's compiled SQL run directly in DuckDB: the baseline of ``make bench``'s dbt-overhead figure.

After ``dbt compile --full-refresh`` (against the very warehouse file it will run on, so relation names and
introspective macros resolve the same), every seed, model and test of the manifest is executed with plain
``duckdb``, in DAG order:

- a seed becomes ``create or replace table`` from its CSV, read with the column types the warehouse already
  has for it (dbt infers them with agate; DuckDB's own sniffing could differ);
- a view or table model becomes ``create or replace view|table <relation> as <compiled SQL>``; an
  incremental model, compiled with ``--full-refresh``, is a table (its ``is_incremental()`` branch is off, as
  in a full ``dbt build``);
- a data test runs as dbt runs it, ``select <fail_calc> from (<compiled SQL>)``, and fails above zero; a unit
  test runs its compiled query (the model's SQL on inline fixture rows, taken from the ``run_results.json`` of
  a ``dbt build``: ``dbt compile`` does not compile unit tests) and compares nothing.

What it does not do, and dbt does: enforce the marts' contracts with column DDL (the compiled SQL casts every
column already), run the on-run hooks (the test-results log), write artifacts, parse.
Run: ``python -m benchmarks.compiled_sql --warehouse W --manifest T/manifest.json [--run-results R]`` (prints JSON
figures).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from graphlib import TopologicalSorter
from pathlib import Path
from typing import Any

import duckdb
import typer

from futuremart.settings import DBT_PROJECT_DIR, Settings

app = typer.Typer(add_completion=False)
RELATIONS = ("seed", "model")


def dag_order(manifest: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Seeds and enabled models (ephemeral ones are inlined by the compiler), parents before children."""
    nodes = {
        uid: node
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] in RELATIONS and node["config"].get("materialized") != "ephemeral"
    }
    graph = {uid: [p for p in node["depends_on"].get("nodes", []) if p in nodes] for uid, node in nodes.items()}
    return [nodes[uid] for uid in TopologicalSorter(graph).static_order()]


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _seed_sql(con: duckdb.DuckDBPyConnection, node: Mapping[str, Any]) -> str:
    path = (DBT_PROJECT_DIR / node["original_file_path"]).resolve()
    types = con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_catalog = ? and table_schema = ? and table_name = ? order by ordinal_position",
        [node["database"], node["schema"], node["alias"]],
    ).fetchall()
    columns = "{" + ", ".join(f"{_literal(name)}: {_literal(kind)}" for name, kind in types) + "}"
    options = f", columns = {columns}" if types else ""
    source = f"read_csv({_literal(str(path))}, header = true{options})"
    return f"create or replace table {node['relation_name']} as select * from {source}"


def relation_sql(con: duckdb.DuckDBPyConnection, node: Mapping[str, Any]) -> str:
    """The statement that (re)creates ``node``'s relation from its compiled SQL."""
    if node["resource_type"] == "seed":
        return _seed_sql(con, node)
    kind = "view" if node["config"]["materialized"] == "view" else "table"
    return f"create or replace {kind} {node['relation_name']} as (\n{node['compiled_code']}\n)"


def unit_test_sql(run_results: Mapping[str, Any]) -> list[str]:
    """The compiled queries of the unit tests a ``dbt build`` ran (its ``run_results.json``)."""
    return [
        r["compiled_code"]
        for r in run_results["results"]
        if r["unique_id"].startswith("unit_test.") and r.get("compiled_code")
    ]


def run_compiled(warehouse: Path, manifest: Mapping[str, Any], unit_tests: Sequence[str] = ()) -> dict[str, Any]:
    """Create every relation, then run every data test, of ``manifest`` on ``warehouse``, then the
    ``unit_tests`` queries; return seconds (relations, tests), counts and the data tests that failed."""
    order = dag_order(manifest)
    tests = [n for n in manifest["nodes"].values() if n["resource_type"] == "test"]
    failed: list[str] = []
    # The same memory cap as dbt's connection (profiles.yml reads the same setting): a fair baseline.
    with duckdb.connect(str(warehouse), config=Settings.from_env().duckdb_config()) as con:
        con.execute("set enable_progress_bar = false")
        started = time.perf_counter()
        for schema in sorted({(n["database"], n["schema"]) for n in order}):
            con.execute(f'create schema if not exists "{schema[0]}"."{schema[1]}"')
        for node in order:
            con.execute(relation_sql(con, node))
        relations_s = time.perf_counter() - started
        started = time.perf_counter()
        for node in tests:
            fail_calc = node["config"].get("fail_calc") or "count(*)"
            failures = con.execute(
                f"select {fail_calc} from (\n{node['compiled_code']}\n) as dbt_internal_test"
            ).fetchone()[0]
            if failures:
                failed.append(node["name"])
        for sql in unit_tests:
            con.execute(sql).fetchall()
        tests_s = time.perf_counter() - started
    return {
        "relations": len(order),
        "tests": len(tests),
        "unit_tests": len(unit_tests),
        "relations_s": round(relations_s, 2),
        "tests_s": round(tests_s, 2),
        "tests_failed": failed,
    }


@app.command()
def main(
    warehouse: Path = typer.Option(..., help="The DuckDB file the manifest was compiled against."),
    manifest: Path = typer.Option(..., help="manifest.json of `dbt compile --full-refresh`."),
    run_results: Path = typer.Option(None, help="run_results.json of a `dbt build`: its unit tests are run too."),
) -> None:
    units = unit_test_sql(json.loads(run_results.read_text())) if run_results else []
    typer.echo(json.dumps(run_compiled(warehouse, json.loads(manifest.read_text()), units)))


if __name__ == "__main__":
    app()
