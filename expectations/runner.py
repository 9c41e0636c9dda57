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
same reason a mart suite whose ``meta.partition_column`` names the date an incremental fact is rebuilt by
validates only the days a partitioned run rebuilt (``window``); its row-count bounds still hold for the
whole table, counted in SQL and judged like freshness (:class:`WholeTable`).
Used by the Dagster asset checks and by CI (``python -m expectations.runner``).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import logging
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pandas as pd
import typer

from expectations.contract_suites import PARTITION_DATE, contract_suite_docs
from futuremart.settings import EXPECTATIONS_DIR, Settings

if TYPE_CHECKING:
    import great_expectations as gx

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


def load_suite(
    name: str, suites_dir: Path = EXPECTATIONS_DIR, settings: Settings | None = None
) -> tuple[gx.ExpectationSuite, str]:
    """The suite called ``name`` (placeholders resolved) and the table (``schema.table``) it validates."""
    doc = load_suite_doc(name, suites_dir)
    settings = settings or Settings.from_env()
    expectations = [
        {
            "type": e["type"],
            "kwargs": resolve_kwargs(e["kwargs"], settings),
            **({"meta": e["meta"]} if "meta" in e else {}),
        }
        for e in doc["expectations"]
    ]
    suite = _gx().ExpectationSuite(name=doc["name"], expectations=expectations, meta=doc.get("meta", {}))
    return suite, doc["meta"]["dataset"]


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


def read_table(
    con: duckdb.DuckDBPyConnection, dataset: str, where: str | None = None, columns: list[str] | None = None
) -> pd.DataFrame:
    """Read ``dataset`` (or only ``columns`` of it) into pandas with decimals as floats.

    GX compares numbers, not Decimal objects. ``partition_date``, when asked for and not a column of the
    table, is the date of the landed file (``dt=`` in ``_source_file``) a raw row was loaded from.
    """
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
    selected = []
    for name in columns if columns is not None else list(types):
        dtype = types.get(name)
        if dtype is None:
            if name == PARTITION_DATE and "_source_file" in types:
                selected.append(f'{PARTITION_DATE_SQL} as "{name}"')
            # A column missing from the table is left out: expect_table_columns_to_match_set reports it.
            continue
        selected.append(f'cast("{name}" as double) as "{name}"' if dtype.upper().startswith("DECIMAL") else f'"{name}"')
    sql = f"select {', '.join(selected) or 'null as _no_columns'} from {dataset}" + (f" where {where}" if where else "")
    return con.execute(sql).df()


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


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
                    "meta": {"whole_table_of": expectation["type"]},
                }
            )
        return converted

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame({"table_row_count": [self.rows]})


def split_row_counts(suite: gx.ExpectationSuite) -> tuple[gx.ExpectationSuite, list[dict[str, Any]]]:
    """The suite without its row-count expectations, and those expectations (type and kwargs)."""
    kept, counts = [], []
    for expectation in suite.expectations:
        config = expectation.configuration.to_json_dict()
        if config["type"] in TABLE_LEVEL:
            counts.append({"type": config["type"], "kwargs": config["kwargs"]})
        else:
            kept.append(config)
    sliced = _gx().ExpectationSuite(name=suite.name, expectations=kept, meta=suite.meta)
    return sliced, counts


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
                "examples": list(details.get("partial_unexpected_list", []) or [])[:5],
                "observed_value": details.get("observed_value"),
                "exception": (item.exception_info or {}).get("exception_message")
                if item.exception_info and item.exception_info.get("raised_exception")
                else None,
            }
        )
    return outcomes


def validate_dataframe(
    frame: pd.DataFrame,
    suite: gx.ExpectationSuite,
    dataset: str,
    freshness: Freshness | None = None,
    whole_table: WholeTable | None = None,
) -> SuiteResult:
    """Validate ``frame`` with ``suite`` in an ephemeral GX context.

    ``freshness`` is judged as one more expectation on a one-row batch holding the table's latest business
    date: it is a property of the whole table, not of the rows in ``frame``.
    """
    started = time.perf_counter()
    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    context = _gx().get_context(mode="ephemeral")
    context.variables.progress_bars = {"globally": False}
    source = context.data_sources.add_pandas("warehouse")

    def run(name: str, data: pd.DataFrame, gx_suite: gx.ExpectationSuite) -> Any:
        batch = (
            source.add_dataframe_asset(name)
            .add_batch_definition_whole_dataframe("whole")
            .get_batch(batch_parameters={"dataframe": data})
        )
        return batch.validate(context.suites.add(gx_suite), result_format=RESULT_FORMAT)

    result = run(dataset, frame, suite)
    outcomes = _outcomes(result)
    success = bool(result.success)
    if freshness is not None:
        fresh_suite = _gx().ExpectationSuite(name=f"{suite.name}__freshness", expectations=[freshness.expectation()])
        fresh_outcomes = _outcomes(run(f"{dataset}__freshness", freshness.frame(), fresh_suite))
        for outcome in fresh_outcomes:
            outcome["observed_value"] = str(freshness.latest) if freshness.latest else None
            outcome["success"] = outcome["success"] and freshness.latest is not None  # empty: stale
        outcomes += fresh_outcomes
        success = success and all(o["success"] for o in fresh_outcomes)
    if whole_table is not None and whole_table.row_count_expectations:
        count_suite = _gx().ExpectationSuite(name=f"{suite.name}__whole_table", expectations=whole_table.expectations())
        count_outcomes = _outcomes(run(f"{dataset}__whole_table", whole_table.frame(), count_suite))
        for outcome in count_outcomes:
            outcome["observed_value"] = whole_table.rows
        outcomes += count_outcomes
        success = success and all(o["success"] for o in count_outcomes)
    failures = [
        {k: o[k] for k in ("expectation", "kwargs", "unexpected_count", "examples", "observed_value", "exception")}
        for o in outcomes
        if not o["success"]
    ]
    return SuiteResult(
        suite=suite.name,
        dataset=dataset,
        success=success,
        rows=len(frame),
        evaluated=len(outcomes),
        failures=failures,
        expectations=outcomes,
        latest_business_date=str(freshness.latest) if freshness and freshness.latest else None,
        seconds=round(time.perf_counter() - started, 3),
    )


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
    """Run suite ``suite_name`` against the table its ``meta.dataset`` names.

    ``where`` validates a slice; ``run_id`` (raw suites only) validates the rows that run loaded, and passes
    with a note when it loaded nothing; ``window`` (suites with ``meta.partition_column``) validates the
    days from its first to its last, with the row-count bounds judged on the whole table. ``as_of`` is the day
    freshness is judged on (default the world's end date): a partitioned run's last day, since a run that
    builds up to day D knows nothing of the days after it.
    """
    started = time.perf_counter()
    settings = settings or Settings.from_env()
    doc = load_suite_doc(suite_name)
    meta = doc["meta"]
    suite, dataset = load_suite(suite_name, settings=settings)
    note = ""
    if run_id is not None and meta.get("layer") == "raw":
        run_filter = run_slice(con, meta, run_id)
        if run_filter is None:
            return SuiteResult(
                suite=suite.name,
                dataset=dataset,
                success=True,
                rows=0,
                evaluated=0,
                run_id=run_id,
                note=f"nothing loaded into {dataset} by run {run_id}: no rows to validate",
            )
        where = f"({where}) and {run_filter}" if where else run_filter
        note = f"rows loaded by run {run_id}"
    whole_table = None
    if window is not None and (column := meta.get("partition_column")):
        day_filter = f"\"{column}\" between date '{window[0].isoformat()}' and date '{window[1].isoformat()}'"
        where = f"({where}) and {day_filter}" if where else day_filter
        suite, counts = split_row_counts(suite)
        rows = con.execute(f"select count(*) from {dataset}").fetchone()[0]
        whole_table = WholeTable(rows, counts)
        note = f"days {window[0]}..{window[1]} of {column}; row count of the whole table"
    freshness = None
    if rule := meta.get("freshness"):
        latest = latest_business_date(con, dataset, rule["column"])
        anchor = min(as_of, settings.end_date) if as_of else settings.end_date
        freshness = Freshness(rule["column"], int(rule["max_lag_days"]), anchor, latest)
    frame = read_table(con, dataset, where, referenced_columns(doc["expectations"]))
    result = validate_dataframe(frame, suite, dataset, freshness, whole_table)
    return SuiteResult(
        **{**asdict(result), "run_id": run_id, "note": note, "seconds": round(time.perf_counter() - started, 3)}
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
