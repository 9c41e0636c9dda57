"""The dbt project on Spark (dbt-spark session, local[2]) from the raw layer of the session's warehouse.

A full Spark build of the project takes several minutes at the test scale (see benchmarks/engines.py and
`make run-spark`), too long for `make test`; this builds a slice that passes through every engine-specific
piece: the raw Parquet export and its registration as the raw sources, the seeds (values with apostrophes),
the portable casts and contract types (loyalty), the incremental strategy (insert_overwrite on Spark,
fct_order_lines), a test with a `where` config (dim_customer), the date spine and ISO weekday (dim_date);
then the parity check of those marts against the DuckDB build of the same raw layer.
"""

from __future__ import annotations

import shutil

import duckdb
import pytest

from futuremart.parity import compare_marts, spark_table_dir
from futuremart.spark import PARQUET_FILE, build_on_spark

SLICE_MARTS = ["dim_date", "dim_customer", "fct_order_lines", "dim_loyalty_member", "fct_loyalty_points_ledger"]


@pytest.fixture(scope="module")
def spark_slice(built):
    exported, build = build_on_spark(built.settings, select=[f"+{mart}" for mart in SLICE_MARTS])
    return built, exported, build


def test_raw_layer_reaches_spark_as_parquet_with_the_same_rows_and_columns(spark_slice):
    built, exported, _ = spark_slice
    assert {(t.schema, t.table) for t in exported} >= {("raw", "shop_orders"), ("governance", "load_audit")}
    with built.connect() as con:
        for table in exported:
            ours = con.execute(f"select count(*) from {table.schema}.{table.table}").fetchone()[0]
            parquet = table.path / PARQUET_FILE
            theirs = duckdb.sql(f"select count(*) from read_parquet('{parquet}')").fetchone()[0]
            assert table.rows == ours == theirs, table
            columns = [r[0] for r in con.execute(f"describe {table.schema}.{table.table}").fetchall()]
            assert [r[0] for r in duckdb.sql(f"describe select * from read_parquet('{parquet}')").fetchall()] == columns


def test_every_selected_model_seed_and_test_passes_on_spark(spark_slice):
    _, _, build = spark_slice
    assert build.success, f"failed on Spark: {build.failures}\n{build.log_tail}"
    # The slice: its marts, their upstream staging/intermediate models and seeds, and their tests.
    assert {f"model.futuremart.{mart}" for mart in SLICE_MARTS} <= set(build.statuses)
    assert build.count("model") >= 15 and build.count("seed") >= 3 and build.count("test") >= 100


def test_spark_marts_match_duckdb(spark_slice):
    built, _, build = spark_slice
    assert build.success
    report = compare_marts(built.settings, tables=SLICE_MARTS)
    assert report.ok, report.describe()
    assert all(report.rows[mart] > 0 for mart in SLICE_MARTS), report.rows


def test_parity_names_the_table_and_column_that_differ(spark_slice, tmp_path):
    """A copy of Spark's fct_order_lines with one line's quantity changed: parity reports that column of
    that table, and nothing else."""
    built, _, build = spark_slice
    assert build.success
    source = spark_table_dir(built.settings.spark_warehouse_dir, "marts", "fct_order_lines")
    target = spark_table_dir(tmp_path, "marts", "fct_order_lines")
    target.mkdir(parents=True)
    files = f"'{source}/**/*.parquet'"
    duckdb.sql(
        f"copy (select * replace (case when row_number() over (order by order_line_id) = 1 then quantity + 1 "
        f"else quantity end as quantity) from read_parquet({files}, hive_partitioning = true)) "
        f"to '{target / 'part-0.parquet'}' (format parquet)"
    )
    shutil.copytree(
        spark_table_dir(built.settings.spark_warehouse_dir, "marts", "dim_date"),
        spark_table_dir(tmp_path, "marts", "dim_date"),
    )
    report = compare_marts(built.settings, tables=["fct_order_lines", "dim_date"], spark_warehouse_dir=tmp_path)
    assert [(d.table, d.column) for d in report.differences] == [("fct_order_lines", "quantity")]
