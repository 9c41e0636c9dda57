"""Parity of the marts built on DuckDB and on Spark from the same raw layer.

For every mart: the row count, and per column an order-independent checksum of its values (the sum of a
hash of each value), so a difference is named by table and column. Values are normalized before hashing
so that only a real difference counts: numbers of any type (integer, decimal, double) become doubles
rounded to ``FLOAT_DECIMALS`` decimals (the two engines add doubles in different orders), timestamps and
dates their ISO text. Both sides are read by one in-memory DuckDB: the DuckDB warehouse attached read-only,
the Spark marts straight from the Parquet files under Spark's warehouse folder (no Spark session needed,
so the check also runs while Spark is down or busy).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from futuremart.settings import Settings

FLOAT_DECIMALS = 6
ROWS = "(rows)"
NUMERIC = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "FLOAT", "DOUBLE", "DECIMAL", "UBIGINT", "UINTEGER")


@dataclass(frozen=True)
class Difference:
    table: str
    column: str
    duckdb: str
    spark: str


@dataclass(frozen=True)
class ParityReport:
    tables: list[str]
    rows: dict[str, int]
    differences: list[Difference]

    @property
    def ok(self) -> bool:
        return not self.differences

    def describe(self) -> str:
        if self.ok:
            return f"parity: {len(self.tables)} marts, {sum(self.rows.values()):,} rows, no differences"
        lines = [f"parity: {len(self.differences)} differences in {len({d.table for d in self.differences})} marts"]
        lines += [f"  {d.table}.{d.column}: duckdb {d.duckdb} / spark {d.spark}" for d in self.differences]
        return "\n".join(lines)


def spark_table_dir(spark_warehouse_dir: Path, schema: str, table: str) -> Path:
    """Where Spark keeps a managed table: ``<spark.sql.warehouse.dir>/<schema>.db/<table>/``."""
    return spark_warehouse_dir / f"{schema}.db" / table


def _normalized(column: str, data_type: str) -> str:
    quoted = f'"{column}"'
    kind = data_type.split("(")[0].upper()
    if kind in NUMERIC:
        # + 0.0 turns a rounded -0.0 (a tiny negative) into 0.0, which has another text.
        value = f"cast(round(cast({quoted} as double), {FLOAT_DECIMALS}) + cast(0 as double) as varchar)"
    elif kind.startswith("TIMESTAMP"):
        value = f"strftime(cast({quoted} as timestamp), '%Y-%m-%d %H:%M:%S.%f')"
    else:
        value = f"cast({quoted} as varchar)"
    # Null hashes apart from every value, including the text 'null'.
    return f"coalesce({value}, chr(0))"


def _checksums(con: duckdb.DuckDBPyConnection, relation: str, columns: list[tuple[str, str]]) -> dict[str, str]:
    sums = ", ".join(f"cast(sum(hash({_normalized(name, kind)})) as varchar)" for name, kind in columns)
    row = con.execute(f"select count(*), {sums} from {relation}").fetchone()
    return {ROWS: str(row[0]), **{name: str(value or 0) for (name, _), value in zip(columns, row[1:], strict=True)}}


def compare_marts(
    settings: Settings,
    schema: str = "marts",
    tables: list[str] | None = None,
    spark_warehouse_dir: Path | None = None,
) -> ParityReport:
    """Compare every table of ``schema`` (or ``tables``) in the DuckDB warehouse with Spark's copy (under
    ``spark_warehouse_dir``, by default the settings' Spark warehouse)."""
    spark_dir = spark_warehouse_dir or settings.spark_warehouse_dir
    con = duckdb.connect(config=settings.duckdb_config())
    try:
        con.execute(f"attach '{settings.warehouse_path}' as wh (read_only)")
        names = tables or [
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables where table_catalog = 'wh' and table_schema = ? "
                "order by 1",
                [schema],
            ).fetchall()
        ]
        differences: list[Difference] = []
        rows: dict[str, int] = {}
        for table in names:
            columns = con.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_catalog = 'wh' and table_schema = ? and table_name = ? order by ordinal_position",
                [schema, table],
            ).fetchall()
            files = sorted(spark_table_dir(spark_dir, schema, table).rglob("*.parquet"))
            if not columns or not files:
                where = "duckdb" if not columns else "spark"
                differences.append(Difference(table, "(table)", "missing" if where == "duckdb" else "present",
                                              "missing" if where == "spark" else "present"))  # fmt: skip
                continue
            file_list = ", ".join(f"'{f}'" for f in files)
            con.execute(
                f"create or replace temp view spark_side as select * from read_parquet([{file_list}], "
                "hive_partitioning = true, union_by_name = true)"
            )
            spark_columns = {r[0] for r in con.execute("describe spark_side").fetchall()}
            for name, _ in columns:
                if name not in spark_columns:
                    differences.append(Difference(table, name, "present", "missing"))
            extra = spark_columns - {name for name, _ in columns}
            differences += [Difference(table, name, "missing", "present") for name in sorted(extra)]
            shared = [(name, kind) for name, kind in columns if name in spark_columns]
            ours = _checksums(con, f'wh."{schema}"."{table}"', shared)
            theirs = _checksums(con, "spark_side", shared)
            rows[table] = int(ours[ROWS])
            differences += [Difference(table, key, ours[key], theirs[key]) for key in ours if ours[key] != theirs[key]]
        return ParityReport(names, rows, differences)
    finally:
        con.close()
