"""Run Great Expectations suites against warehouse tables; the CLI exits non-zero on any failure.

GX 1.x has no CLI and its SQLAlchemy route to DuckDB is broken, so tables are read through DuckDB into
pandas and validated there. Suites come from two places, merged by name:

- every source contract generates the baseline suite of its raw table (``expectations.contract_suites``);
- a JSON file in ``expectations/suites/`` adds hand-written expectations to a raw suite of the same name, or
  is a suite of its own (the marts). Its ``meta.dataset`` names the table it validates.

Suite ``meta`` may also carry ``freshness`` (``{"column": ..., "max_lag_days": N}``, or ``null`` for a feed
whose latest business date says nothing about its freshness): the latest date in the whole table must be
within N days of the world's end date (``Settings.end_date``, not the wall clock). Expectation kwargs may use
placeholders resolved against the settings: ``{"$scaled": n}`` (n × scale factor) and ``{"$days": n}``
(n × days in the world), for row-count bounds, and ``{"$date": "start" | "end", "days": k}`` (a real
timestamp k days after the start or end date; GX compares a date given as a string to a datetime column
wrongly without saying so).

A raw check in a Dagster run validates only the rows that run loaded (``run_id``, see
:func:`run_slice`): GX on pandas is slow, and older rows were validated by the run that loaded them. For the
same reason a mart suite whose ``meta.partition_column`` names the day its new rows land by validates only
the days a partitioned run rebuilt (``window``); its row-count bounds still hold for the whole table, counted
in SQL and judged like freshness (:class:`WholeTable`). That day is the one an incremental fact is rebuilt by
(``fct_order_lines``), or the order day of a mart whose nightly change is mostly the new days' rows
(``fct_orders``, rebuilt by order; ``agg_sales_daily``, rebuilt whole). The older rows a night changes there
(a late payment or a return on an old order) are left to the model's dbt tests, which read the whole table on
every run, and to the suite's next run without partitions (a full build): at SF10 those two marts hold 2.1M
rows, 8.9 s of validation every night against 0.5 s for a night's four days. An expectation a window would
misjudge, a share over the whole table (``fct_shipments``: most shipments delivered, which a night's new
shipments are not yet), is marked ``"meta": {"whole_table": true}`` and reads the columns it names of every
row. Whatever the slice, rows are validated in batches of at most ``Settings.gx_batch_rows`` (see "batching"
below), so memory stays bounded.
Used by the Dagster asset checks and by CI (``python -m expectations.runner``).
"""

from __future__ import annotations

import copy
import ctypes
import ctypes.util
import datetime as dt
import gc
import json
import logging
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import typer

from expectations.contract_suites import PARTITION_DATE, contract_suite_docs
from futuremart.frames import read_frame, read_frames
from futuremart.settings import EXPECTATIONS_DIR, Settings

# Enough to judge and show a failure (unexpected count and examples) without GX's costly value counts.
RESULT_FORMAT = "BASIC"


def _gx():  # noqa: ANN202
    """Import GX on first use: it takes seconds, and the Dagster code location must load fast."""
    # GX would otherwise try to send usage analytics, which this offline platform cannot reach.
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations

    return great_expectations


@dataclass(frozen=True)
class SuiteResult:
    suite: str
    dataset: str
    success: bool
    rows: int
    evaluated: int
    failures: list[dict] = field(default_factory=list)
    expectations: list[dict] = field(default_factory=list)  # every expectation evaluated, for Data Docs
    run_id: str | None = None
    note: str = ""  # why nothing was validated, or which slice was
    latest_business_date: str | None = None
    seconds: float = 0.0

    def summary(self) -> str:
        head = f"{'PASS' if self.success else 'FAIL'} {self.suite} on {self.dataset} ({self.rows} rows, "
        head += f"{self.evaluated - len(self.failures)}/{self.evaluated} expectations met)"
        if self.note:
            head += f": {self.note}"
        lines = [head] + [
            f"  - {f['expectation']} {f['kwargs']}: {f.get('unexpected_count', '?')} unexpected, "
            f"e.g. {f.get('examples', [])}; observed {f.get('observed_value')}"
            for f in self.failures
        ]
        return "\n".join(lines)


# -- suites ------------------------------------------------------------------------------------------------


def _file_docs(suites_dir: Path) -> dict[str, dict[str, Any]]:
    return {p.stem: json.loads(p.read_text()) for p in sorted(suites_dir.glob("*.json"))}


def _merge(generated: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """A generated suite with a hand-written one's meta (which wins) and expectations (deduplicated)."""
    merged = copy.deepcopy(generated)
    merged["meta"].update(extra.get("meta", {}))
    seen = {json.dumps(e, sort_keys=True) for e in merged["expectations"]}
    for expectation in extra.get("expectations", []):
        if json.dumps(expectation, sort_keys=True) not in seen:
            merged["expectations"].append(expectation)
    return merged


def suite_docs(suites_dir: Path = EXPECTATIONS_DIR) -> dict[str, dict[str, Any]]:
    """Every suite document by name: generated raw suites merged with the JSON files of ``suites_dir``."""
    generated = contract_suite_docs()
    files = _file_docs(suites_dir)
    docs = {name: _merge(doc, files.get(name, {})) for name, doc in generated.items()}
    docs.update({name: doc for name, doc in files.items() if name not in generated})
    return dict(sorted(docs.items()))


def suite_names(suites_dir: Path = EXPECTATIONS_DIR) -> list[str]:
    return list(suite_docs(suites_dir))


def load_suite_doc(name: str, suites_dir: Path = EXPECTATIONS_DIR) -> dict[str, Any]:
    docs = suite_docs(suites_dir)
    if name not in docs:
        raise FileNotFoundError(f"No suite {name!r} (contracts or {suites_dir}); have: {', '.join(docs)}.")
    return docs[name]


def resolve_kwargs(value: Any, settings: Settings) -> Any:
    """Replace the ``$scaled`` and ``$date`` placeholders (see the module docstring) with real values."""
    if isinstance(value, dict):
        if "$scaled" in value:
            return round(value["$scaled"] * settings.scale_factor)
        if "$days" in value:
            return round(value["$days"] * settings.n_days)
        if "$date" in value:
            anchor = {"start": settings.start_date, "end": settings.end_date}[value["$date"]]
            return pd.Timestamp(anchor + dt.timedelta(days=value.get("days", 0)))
        return {k: resolve_kwargs(v, settings) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_kwargs(v, settings) for v in value]
    return value


def resolved_expectations(doc: dict[str, Any], settings: Settings) -> list[dict[str, Any]]:
    """The expectations of a suite document, placeholders resolved, as GX takes them (type, kwargs, meta)."""
    return [
        {
            "type": e["type"],
            "kwargs": resolve_kwargs(e["kwargs"], settings),
            **({"meta": e["meta"]} if "meta" in e else {}),
        }
        for e in doc["expectations"]
    ]


# -- reading -----------------------------------------------------------------------------------------------


# Table-level expectations that read no column: a suite made of these and column expectations reads only
# the columns it names (reading every column of a 5M-row table into pandas costs more than validating it).
TABLE_LEVEL = {"expect_table_row_count_to_be_between", "expect_table_row_count_to_equal"}
PARTITION_DATE_SQL = r"try_cast(regexp_extract(_source_file, 'dt=(\d{4}-\d{2}-\d{2})', 1) as date)"


def referenced_columns(expectations: list[dict[str, Any]]) -> list[str] | None:
    """Columns the expectations read, in first-use order; ``None`` if one of them needs the whole table."""
    columns: dict[str, None] = {}
    for expectation in expectations:
        kwargs = expectation["kwargs"]
        named = [kwargs[k] for k in ("column", "column_A", "column_B") if k in kwargs]
        named += [c for k in ("column_list", "column_set") for c in kwargs.get(k, [])]
        if not named and expectation["type"] not in TABLE_LEVEL:
            return None
        columns.update(dict.fromkeys(named))
    return list(columns)


def column_types(con: duckdb.DuckDBPyConnection, dataset: str) -> dict[str, str]:
    schema, table = dataset.split(".")
    types = dict(
        con.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = ? and table_name = ? order by ordinal_position",
            [schema, table],
        ).fetchall()
    )
    if not types:
        raise LookupError(f"Table {dataset} does not exist in the warehouse; materialize it first.")
    return types


def select_sql(types: dict[str, str], dataset: str, where: str | None, columns: list[str] | None) -> str:
    """The query reading ``dataset`` (or only ``columns`` of it) with decimals as doubles.

    GX compares numbers, not Decimal objects. ``partition_date``, when asked for and not a column of the
    table, is the date of the landed file (``dt=`` in ``_source_file``) a raw row was loaded from.
    """
    selected = []
    for name in columns if columns is not None else list(types):
        dtype = types.get(name)
        if dtype is None:
            if name == PARTITION_DATE and "_source_file" in types:
                selected.append(f'{PARTITION_DATE_SQL} as "{name}"')
            # A column missing from the table is left out: expect_table_columns_to_match_set reports it.
            continue
        selected.append(f'cast("{name}" as double) as "{name}"' if dtype.upper().startswith("DECIMAL") else f'"{name}"')
    return f"select {', '.join(selected) or 'null as _no_columns'} from {dataset}" + (
        f" where {where}" if where else ""
    )


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _literal(value: Any) -> str:
    """A key value as a SQL literal of its own type (dates as dates: a string would compare as text)."""
    if isinstance(value, dt.datetime):
        return f"timestamp '{value.isoformat(sep=' ')}'"
    if isinstance(value, dt.date):
        return f"date '{value.isoformat()}'"
    if isinstance(value, (int, float)):
        return repr(value)
    return _quote(str(value))


def _and(*filters: str | None) -> str | None:
    present = [f"({f})" for f in filters if f]
    return " and ".join(present) or None


def run_slice(con: duckdb.DuckDBPyConnection, meta: dict[str, Any], run_id: str) -> str | None:
    """SQL filter on the rows of a raw table loaded by run ``run_id``; ``None`` when it loaded none.

    Rows are matched by ``_source_file`` against ``governance.load_audit`` (status ``loaded``), not by
    partition keys: a run may load any set of landed files.
    """
    exists = con.execute(
        "select count(*) from information_schema.tables where table_schema = 'governance' and table_name = 'load_audit'"
    ).fetchone()[0]
    if not exists:
        return None
    loaded = con.execute(
        "select count(*) from governance.load_audit where run_id = ? and status = 'loaded' "
        "and source_system = ? and entity = ?",
        [run_id, meta["source_system"], meta["entity"]],
    ).fetchone()[0]
    if not loaded:
        return None
    return (
        "_source_file in (select file from governance.load_audit where status = 'loaded' "
        f"and run_id = {_quote(run_id)} and source_system = {_quote(meta['source_system'])} "
        f"and entity = {_quote(meta['entity'])})"
    )


def latest_business_date(con: duckdb.DuckDBPyConnection, dataset: str, column: str) -> dt.date | None:
    """The latest date of ``column`` over the whole table (``partition_date``: the landed file's ``dt=``)."""
    if column == PARTITION_DATE:
        sql = f"select max({PARTITION_DATE_SQL}) from (select distinct _source_file from {dataset})"
    else:
        sql = f'select max(cast("{column}" as date)) from {dataset}'
    return con.execute(sql).fetchone()[0]


# -- batching ----------------------------------------------------------------------------------------------
#
# GX on pandas holds the rows it validates in memory, several times over while it computes: a full build's
# 14.5M clickstream rows at scale 10 took 16 GB in one frame. So a suite is validated in batches of at most
# ``Settings.gx_batch_rows`` rows, and only expectations whose verdict on the table follows from their
# verdicts on its batches are batched: a row-wise one (each row passes or fails alone), or a uniqueness
# whose key holds the batch key (a batch holds every row of its key values). The rest (uniqueness across
# the table, min/max/mean, anything with ``mostly``, whose share is of the whole) are validated once, on a
# frame of only their columns; row counts on a frame of no columns with the slice's row count.

ROW_WISE = {
    "expect_column_to_exist",
    "expect_table_columns_to_match_set",
    "expect_table_columns_to_match_ordered_list",
    "expect_column_values_to_not_be_null",
    "expect_column_values_to_be_null",
    "expect_column_values_to_be_in_type_list",
    "expect_column_values_to_be_of_type",
    "expect_column_values_to_be_in_set",
    "expect_column_values_to_not_be_in_set",
    "expect_column_values_to_be_between",
    "expect_column_values_to_match_regex",
    "expect_column_values_to_not_match_regex",
    "expect_column_pair_values_a_to_be_greater_than_b",
    "expect_column_pair_values_to_be_equal",
}
UNIQUE_WITHIN_KEY = {"expect_compound_columns_to_be_unique", "expect_column_values_to_be_unique"}


def batchable(expectation: dict[str, Any], key: str | None) -> bool:
    """Whether the expectation's verdict on a table is the conjunction of its verdicts on batches cut at
    whole values of ``key``."""
    kind, kwargs = expectation["type"], expectation["kwargs"]
    if "mostly" in kwargs and kwargs["mostly"] is not None and kwargs["mostly"] < 1:
        return False
    if kind in ROW_WISE:
        return True
    if kind in UNIQUE_WITHIN_KEY and key is not None:
        columns = kwargs.get("column_list") or [kwargs.get("column")]
        return key in columns
    return False


def batch_key(meta: dict[str, Any], types: dict[str, str]) -> str | None:
    """The column a suite's batches are cut at: a raw table's landed day (keys are unique per file), a
    mart's partition column; ``None`` (batches of any rows) when the table has neither."""
    if meta.get("layer") == "raw" and "_source_file" in types:
        return PARTITION_DATE
    column = meta.get("partition_column")
    return column if column in types else None


@dataclass(frozen=True)
class KeyGroup:
    """The rows of one value of a batch key: how to select them, how many, and their rowid span."""

    where: str
    rows: int
    first_rowid: int | None
    last_rowid: int | None
    value: Any = None  # the key's value (not for a raw day, which is selected by its files)


def key_groups(con: duckdb.DuckDBPyConnection, dataset: str, where: str | None, key: str) -> list[KeyGroup]:
    """The rows matching ``where`` grouped by ``key``, in key order (a raw day: its landed files)."""
    is_table = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ? "
        "and table_type = 'BASE TABLE'",
        dataset.split("."),
    ).fetchone()[0]
    # A view has no rowid: its batches filter on the key's values.
    span = "min(rowid) as lo, max(rowid) as hi" if is_table else "null as lo, null as hi"
    filtered = f"{dataset}" + (f" where {where}" if where else "")
    if key == PARTITION_DATE:
        sql = (
            f"with files as (select _source_file, count(*) as n, {span} from {filtered} group by 1) "
            f"select {PARTITION_DATE_SQL} as d, list(_source_file order by _source_file), sum(n)::bigint, "
            "min(lo), max(hi) from files group by 1 order by 1 nulls last"
        )
        return [
            KeyGroup(
                f"_source_file in ({', '.join(_quote(f) for f in files)})"
                if None not in files
                else "_source_file is null",
                rows,
                lo,
                hi,
            )
            for _, files, rows, lo, hi in con.execute(sql).fetchall()
        ]
    sql = f'select "{key}", count(*), {span} from {filtered} group by 1 order by 1 nulls last'
    return [
        KeyGroup(f'"{key}" = {_literal(value)}' if value is not None else f'"{key}" is null', rows, lo, hi, value)
        for value, rows, lo, hi in con.execute(sql).fetchall()
    ]


def key_batches(
    con: duckdb.DuckDBPyConnection, dataset: str, where: str | None, key: str, max_rows: int
) -> list[tuple[str, int]]:
    """Filters (and row counts) of batches of at most ``max_rows`` rows, cut at whole values of ``key`` (a
    value with more rows is a batch alone).

    When the groups' rowid spans do not overlap (a table written a day or a file at a time, as the raw
    loader and the incremental models write), a batch is a rowid range: DuckDB seeks to it, where a filter
    on the key's values would scan the whole table once per batch. Otherwise batches filter on the values.
    """
    groups = key_groups(con, dataset, where, key)
    by_rowid = sorted(groups, key=lambda g: g.first_rowid if g.first_rowid is not None else -1)
    disjoint = all(g.first_rowid is not None for g in groups) and all(
        a.last_rowid < b.first_rowid for a, b in zip(by_rowid, by_rowid[1:], strict=False)
    )
    packed: list[list[KeyGroup]] = []
    for group in by_rowid if disjoint else groups:
        if packed and sum(g.rows for g in packed[-1]) + group.rows <= max_rows:
            packed[-1].append(group)
        else:
            packed.append([group])
    if disjoint:
        return [
            (
                _and(where, f"rowid between {batch[0].first_rowid} and {batch[-1].last_rowid}"),
                sum(g.rows for g in batch),
            )
            for batch in packed
        ]
    return [(_and(where, _values_filter(key, batch)), sum(g.rows for g in batch)) for batch in packed]


def _values_filter(key: str, batch: list[KeyGroup]) -> str:
    """The rows of consecutive key values: a range when they are values (zone maps skip the rest)."""
    if key == PARTITION_DATE or len(batch) == 1 or any(g.value is None for g in batch):
        return " or ".join(g.where for g in batch)
    return f'"{key}" between {_literal(batch[0].value)} and {_literal(batch[-1].value)}'


def merge_outcomes(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """One expectation's outcome on a table from its outcomes on the table's batches."""
    failing = [p for p in parts if not p["success"]]
    merged = dict(failing[0] if failing else parts[0])
    merged["success"] = not failing
    counts = [p["unexpected_count"] for p in parts if p["unexpected_count"] is not None]
    merged["unexpected_count"] = sum(counts) if counts else None
    elements = sum(p.get("element_count") or 0 for p in parts)
    merged["element_count"] = elements
    if counts:
        # GX's share is of the rows the expectation considers: missing values are not judged, except by the
        # null expectations, which report no missing count.
        considered = elements - sum(p.get("missing_count") or 0 for p in parts)
        merged["unexpected_percent"] = 100 * merged["unexpected_count"] / considered if considered else 0.0
    merged["examples"] = [x for p in failing + [p for p in parts if p["success"]] for x in p["examples"]][:5]
    merged["exception"] = next((p["exception"] for p in parts if p["exception"]), None)
    return merged


# -- validating --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Freshness:
    """A suite's freshness rule with the table's latest business date (``None`` for an empty table)."""

    column: str
    max_lag_days: int
    end_date: dt.date
    latest: dt.date | None

    @property
    def oldest_allowed(self) -> dt.date:
        return self.end_date - dt.timedelta(days=self.max_lag_days)

    def expectation(self) -> dict[str, Any]:
        return {
            "type": "expect_column_values_to_be_between",
            # A real timestamp: GX compares a string bound to a datetime column wrongly, without saying so.
            "kwargs": {"column": "latest_business_date", "min_value": pd.Timestamp(self.oldest_allowed)},
            "meta": {"freshness_of": self.column, "max_lag_days": self.max_lag_days},
        }

    def frame(self) -> pd.DataFrame:
        latest = pd.Timestamp(self.latest) if self.latest else pd.NaT
        return pd.DataFrame({"latest_business_date": pd.Series([latest], dtype="datetime64[us]")})


@dataclass(frozen=True)
class WholeTable:
    """A suite's row-count expectations with the whole table's row count, for a suite run on a slice."""

    rows: int
    row_count_expectations: list[dict[str, Any]]

    def expectations(self) -> list[dict[str, Any]]:
        converted = []
        for expectation in self.row_count_expectations:
            kwargs = expectation["kwargs"]
            bounds = (
                {"min_value": kwargs["value"], "max_value": kwargs["value"]}
                if expectation["type"] == "expect_table_row_count_to_equal"
                else {k: kwargs[k] for k in ("min_value", "max_value") if k in kwargs}
            )
            converted.append(
                {
                    "type": "expect_column_values_to_be_between",
                    "kwargs": {"column": "table_row_count", **bounds},
                    "meta": {**expectation.get("meta", {}), "whole_table_of": expectation["type"]},
                }
            )
        return converted

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame({"table_row_count": [self.rows]})


def _outcomes(result: Any) -> list[dict]:
    outcomes = []
    for item in result.results:
        details = item.result or {}
        outcomes.append(
            {
                "expectation": item.expectation_config.type,
                "kwargs": {k: v for k, v in item.expectation_config.kwargs.items() if k != "batch_id"},
                "success": bool(item.success),
                "unexpected_count": details.get("unexpected_count"),
                "unexpected_percent": details.get("unexpected_percent"),
                "element_count": details.get("element_count"),
                "missing_count": details.get("missing_count"),
                "examples": list(details.get("partial_unexpected_list", []) or [])[:5],
                "observed_value": details.get("observed_value"),
                "exception": (item.exception_info or {}).get("exception_message")
                if item.exception_info and item.exception_info.get("raised_exception")
                else None,
                "index": (item.expectation_config.meta or {}).get("_index"),
            }
        )
    return outcomes


# Rows validated between two collections of what their GX contexts left (a full collection takes ~0.2 s in a
# process that has imported GX, Dagster and dbt; collecting every 250,000-row batch cost more than the frames).
RELEASE_ROWS = 1_000_000


def _release_memory() -> None:
    """Hand freed memory back to the system between batches (glibc keeps it otherwise, and the process's
    resident size is what a memory budget sees)."""
    gc.collect()
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


_LIBC = (
    ctypes.CDLL(ctypes.util.find_library("c")) if sys.platform == "linux" and ctypes.util.find_library("c") else None
)


# GX's pandas "between" compares in a vector only for int64, float64 and nanosecond-datetime columns; any
# other dtype goes through a Python call per row. DuckDB reads INTEGER as int32, an integer column with nulls
# as a nullable Int32, DATE and TIMESTAMP as datetime64[us]: fct_inventory_daily's suite made 14M such calls
# at SF1, about 4 of its 15 s. So a between expectation on such a column reads a widened copy of it, under a
# name of its own: the type expectations still judge the column as DuckDB reads it, and outcomes name the
# real column. The copies are extra columns of the frame: outcomes listing the frame's columns leave them
# out, and a run with an expectation an extra column would fail (an exact column set, a column count) widens
# nothing.
BETWEEN = "expect_column_values_to_be_between"
WIDENED_SUFFIX = " (widened for GX)"
COLUMN_SET = "expect_table_columns_to_match_set"
COUNTS_COLUMNS = {
    "expect_table_columns_to_match_ordered_list",
    "expect_table_column_count_to_equal",
    "expect_table_column_count_to_be_between",
}


def _counts_columns(expectation: dict[str, Any]) -> bool:
    """Whether a column more in the frame could fail the expectation (GX's ``exact_match`` defaults to true)."""
    kind = expectation["type"]
    return kind in COUNTS_COLUMNS or (
        kind == COLUMN_SET and expectation["kwargs"].get("exact_match", True) is not False
    )


def _widened_dtype(dtype: Any) -> str | None:
    """The dtype GX compares ``dtype``'s values in a vector at, or ``None`` if it already does (or cannot)."""
    if pd.api.types.is_extension_array_dtype(dtype):
        # DuckDB reads an integer column with nulls as a nullable Int32 (or Int8, Int16...): as doubles, exact
        # up to 32 bits, its nulls become NaN, which GX leaves out as it leaves out NA. Strings stay.
        return "float64" if dtype.kind in "iu" and dtype.itemsize <= 4 else None
    if not isinstance(dtype, np.dtype):
        return None
    if dtype.kind in "iu" and dtype not in (np.int64, np.uint64):  # a uint64 may not fit an int64
        return "int64"
    if dtype.kind == "f" and dtype != np.float64:
        return "float64"
    if dtype.kind == "M" and dtype != np.dtype("datetime64[ns]"):
        return "datetime64[ns]"
    return None


def widen_for_between(
    frame: pd.DataFrame, expectations: list[dict[str, Any]]
) -> tuple[pd.DataFrame, list[dict[str, Any]], dict[str, str]]:
    """``frame`` with a widened copy of each column a between expectation reads in a slow dtype, the
    expectations reading those copies, and each copy's name mapped to its column's."""
    widened: dict[str, pd.Series] = {}
    aliases: dict[str, str] = {}
    if any(_counts_columns(e) for e in expectations):
        return frame, expectations, aliases
    rewritten = []
    for expectation in expectations:
        column = expectation["kwargs"].get("column")
        is_between = expectation["type"] == BETWEEN and column in frame.columns
        if is_between and column not in widened and (dtype := _widened_dtype(frame[column].dtype)):
            try:
                widened[column] = frame[column].astype(dtype)
            except (OverflowError, pd.errors.OutOfBoundsDatetime):
                pass  # a date beyond 2262 keeps its dtype and GX's per-row path
            else:
                aliases[column + WIDENED_SUFFIX] = column
        if is_between and column in widened:
            expectation = {**expectation, "kwargs": {**expectation["kwargs"], "column": column + WIDENED_SUFFIX}}
        rewritten.append(expectation)
    if not widened:
        return frame, expectations, {}
    copies = pd.DataFrame({column + WIDENED_SUFFIX: series for column, series in widened.items()}, index=frame.index)
    return pd.concat([frame, copies], axis=1), rewritten, aliases


class _Validator:
    """Validates frames of one suite; each expectation carries its index in the suite (``meta._index``) so
    outcomes of batches and parts fall back into the suite's order.

    Each frame gets an ephemeral GX context of its own (about 5 ms): a context keeps every batch it
    validated reachable, so one context per suite held the whole table by its last batch (SF10 clickstream:
    5.6 GB in 64 batches of 250,000 rows, against 1.3 GB with a context per batch).
    """

    def __init__(self, name: str) -> None:
        logging.getLogger("great_expectations").setLevel(logging.ERROR)
        self.name = name
        self.runs = 0

    def run(self, frame: pd.DataFrame, expectations: list[tuple[int, dict[str, Any]]]) -> list[dict]:
        if not expectations:
            return []
        self.runs += 1
        context = _gx().get_context(mode="ephemeral")
        context.variables.progress_bars = {"globally": False}
        tagged = [{**e, "meta": {**e.get("meta", {}), "_index": i}} for i, e in expectations]
        frame, tagged, aliases = widen_for_between(frame, tagged)
        suite = _gx().ExpectationSuite(name=f"{self.name}__{self.runs}", expectations=tagged)
        batch = (
            context.data_sources.add_pandas("warehouse")
            .add_dataframe_asset(f"{self.name}__{self.runs}")
            .add_batch_definition_whole_dataframe("whole")
            .get_batch(batch_parameters={"dataframe": frame})
        )
        outcomes = _outcomes(batch.validate(context.suites.add(suite), result_format=RESULT_FORMAT))
        for outcome in outcomes:
            if (column := outcome["kwargs"].get("column")) in aliases:
                outcome["kwargs"]["column"] = aliases[column]
            if outcome["expectation"] == COLUMN_SET and isinstance(outcome["observed_value"], list):
                outcome["observed_value"] = [c for c in outcome["observed_value"] if c not in aliases]
        return outcomes


def _frames(
    con: duckdb.DuckDBPyConnection,
    types: dict[str, str],
    dataset: str,
    where: str | None,
    columns: list[str] | None,
    key: str | None,
    max_rows: int,
) -> Iterator[pd.DataFrame]:
    """The rows of ``dataset`` matching ``where``, in frames of at most ``max_rows`` (see :func:`key_batches`);
    one empty frame when there are none, so every expectation is still judged. Read through Arrow
    (:mod:`futuremart.frames`): the frames ``.df()`` gives, in a third of the time for text columns."""
    if key is not None:
        batches = key_batches(con, dataset, where, key, max_rows)
        for batch_filter, _ in batches or [("false", 0)]:
            yield read_frame(con, select_sql(types, dataset, batch_filter, columns))
        return
    yield from read_frames(con, select_sql(types, dataset, where, columns), max_rows)


def validate_table(
    con: duckdb.DuckDBPyConnection,
    suite_name: str,
    where: str | None = None,
    *,
    run_id: str | None = None,
    window: tuple[dt.date, dt.date] | None = None,
    settings: Settings | None = None,
    as_of: dt.date | None = None,
) -> SuiteResult:
    """Run suite ``suite_name`` against the table its ``meta.dataset`` names, in batches (see above).

    ``where`` validates a slice; ``run_id`` (raw suites only) validates the rows that run loaded, and passes
    with a note when it loaded nothing; ``window`` (suites with ``meta.partition_column``) validates the
    days from its first to its last, with the row-count bounds judged on the whole table. ``as_of`` is the day
    freshness is judged on (default the world's end date): a partitioned run's last day, since a run that
    builds up to day D knows nothing of the days after it.
    """
    started = time.perf_counter()
    settings = settings or Settings.from_env()
    doc = load_suite_doc(suite_name)
    meta, dataset, name = doc["meta"], doc["meta"]["dataset"], doc["name"]
    expectations = resolved_expectations(doc, settings)
    note = ""
    if run_id is not None and meta.get("layer") == "raw":
        run_filter = run_slice(con, meta, run_id)
        if run_filter is None:
            return SuiteResult(
                suite=name,
                dataset=dataset,
                success=True,
                rows=0,
                evaluated=0,
                run_id=run_id,
                note=f"nothing loaded into {dataset} by run {run_id}: no rows to validate",
            )
        where = _and(where, run_filter)
        note = f"rows loaded by run {run_id}"
    whole_table_rows = None
    unwindowed = where
    if window is not None and (column := meta.get("partition_column")):
        where = _and(where, f"\"{column}\" between date '{window[0].isoformat()}' and date '{window[1].isoformat()}'")
        whole_table_rows = con.execute(f"select count(*) from {dataset}").fetchone()[0]
        note = f"days {window[0]}..{window[1]} of {column}; row count of the whole table"
    freshness = None
    if rule := meta.get("freshness"):
        latest = latest_business_date(con, dataset, rule["column"])
        anchor = min(as_of, settings.end_date) if as_of else settings.end_date
        freshness = Freshness(rule["column"], int(rule["max_lag_days"]), anchor, latest)

    types = column_types(con, dataset)
    key = batch_key(meta, types)
    counts = [(i, e) for i, e in enumerate(expectations) if e["type"] in TABLE_LEVEL]
    # A share over the whole table (most shipments delivered) is not one over a night's days (their
    # shipments are not yet): expectations marked ``whole_table`` read their columns of every row.
    pinned = [
        (i, e)
        for i, e in enumerate(expectations)
        if whole_table_rows is not None and e["type"] not in TABLE_LEVEL and e.get("meta", {}).get("whole_table")
    ]
    rest = [(i, e) for i, e in enumerate(expectations) if e["type"] not in TABLE_LEVEL and (i, e) not in pinned]
    batched = [(i, e) for i, e in rest if batchable(e, key)]
    whole = [(i, e) for i, e in rest if not batchable(e, key)]
    validator = _Validator(name)
    parts: dict[int, list[dict]] = {}
    rows, batches, unreleased = 0, 0, 0
    if batched:
        for frame in _frames(
            con, types, dataset, where, referenced_columns([e for _, e in batched]), key, settings.gx_batch_rows
        ):
            rows, batches = rows + len(frame), batches + 1
            for outcome in validator.run(frame, batched):
                parts.setdefault(outcome["index"], []).append(outcome)
            unreleased += len(frame)
            del frame
            if unreleased >= RELEASE_ROWS:
                _release_memory()
                unreleased = 0
    else:
        rows = con.execute(f"select count(*) from {dataset}" + (f" where {where}" if where else "")).fetchone()[0]
    for selected, rows_of in ((whole, where), (pinned, unwindowed)):
        if not selected:
            continue
        frame = read_frame(con, select_sql(types, dataset, rows_of, referenced_columns([e for _, e in selected])))
        for outcome in validator.run(frame, selected):
            parts.setdefault(outcome["index"], []).append(outcome)
        unreleased += len(frame)
        del frame
    if unreleased >= RELEASE_ROWS // 4:
        _release_memory()
    if counts and whole_table_rows is not None:
        table = WholeTable(whole_table_rows, [e for _, e in counts])
        converted = list(zip([i for i, _ in counts], table.expectations(), strict=True))
        for outcome in validator.run(table.frame(), converted):
            outcome["observed_value"] = whole_table_rows
            parts.setdefault(outcome["index"], []).append(outcome)
    elif counts:
        # A frame of no columns costs nothing and gives GX the slice's row count to judge.
        for outcome in validator.run(pd.DataFrame(index=pd.RangeIndex(rows)), counts):
            parts.setdefault(outcome["index"], []).append(outcome)
    outcomes = [merge_outcomes(parts[i]) for i in sorted(parts)]
    if freshness is not None:
        fresh = validator.run(freshness.frame(), [(len(expectations), freshness.expectation())])
        for outcome in fresh:
            outcome["observed_value"] = str(freshness.latest) if freshness.latest else None
            outcome["success"] = outcome["success"] and freshness.latest is not None  # empty: stale
        outcomes += fresh
    for outcome in outcomes:
        del outcome["index"]
    if batches > 1:
        note = "; ".join(filter(None, [note, f"{batches} batches of at most {settings.gx_batch_rows} rows"]))
    failures = [
        {k: o[k] for k in ("expectation", "kwargs", "unexpected_count", "examples", "observed_value", "exception")}
        for o in outcomes
        if not o["success"]
    ]
    return SuiteResult(
        suite=name,
        dataset=dataset,
        success=not failures,
        rows=rows,
        evaluated=len(outcomes),
        failures=failures,
        expectations=outcomes,
        run_id=run_id,
        note=note,
        latest_business_date=str(freshness.latest) if freshness and freshness.latest else None,
        seconds=round(time.perf_counter() - started, 3),
    )


def write_result(result: SuiteResult, settings: Settings) -> Path:
    out = settings.reports_dir / "validations" / f"{result.suite}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(asdict(result), indent=2, default=str) + "\n")
    return out


app = typer.Typer(add_completion=False, help=__doc__)


@app.command()
def main(
    suite: list[str] = typer.Option(None, "--suite", "-s", help="Suite name(s); default: every suite."),
    warehouse: Path = typer.Option(None, help="DuckDB file; default: the settings' warehouse path."),
    run_id: str = typer.Option(None, help="Validate only the raw rows this Dagster run loaded."),
) -> None:
    """Validate the warehouse with the expectation suites; exit 1 if any expectation fails."""
    from expectations.data_docs import build_data_docs

    settings = Settings.from_env()
    path = warehouse or settings.warehouse_path
    if not path.exists():
        typer.echo(f"Warehouse {path} does not exist: run `make run` (or set FUTUREMART_HOME).", err=True)
        raise typer.Exit(2)
    names = suite or suite_names()
    with duckdb.connect(str(path), read_only=True) as con:
        results = [validate_table(con, name, run_id=run_id, settings=settings) for name in names]
    for result in results:
        typer.echo(result.summary())
        write_result(result, settings)
    docs = build_data_docs(settings)
    failed = [r.suite for r in results if not r.success]
    typer.echo(f"Data Docs: {docs}")
    typer.echo(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    if failed:
        raise typer.Exit(1)


if __name__ == "__main__":
    sys.exit(app())
