"""Run Great Expectations suites against warehouse tables; the CLI exits non-zero on any failure.

GX 1.x has no CLI and its SQLAlchemy route to DuckDB is broken, so tables are read through DuckDB into
pandas and validated there. A suite is a JSON file in ``expectations/suites/``; its ``meta.dataset`` names the
table it validates. Used by the Dagster asset checks and by CI (``python -m expectations.runner``).
"""

from __future__ import annotations

import json
import logging
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pandas as pd
import typer

from futuremart.settings import EXPECTATIONS_DIR, Settings

if TYPE_CHECKING:
    import great_expectations as gx


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

    def summary(self) -> str:
        head = f"{'PASS' if self.success else 'FAIL'} {self.suite} on {self.dataset} ({self.rows} rows, "
        head += f"{self.evaluated - len(self.failures)}/{self.evaluated} expectations met)"
        lines = [head] + [
            f"  - {f['expectation']} {f['kwargs']}: {f.get('unexpected_count', '?')} unexpected, "
            f"e.g. {f.get('examples', [])}"
            for f in self.failures
        ]
        return "\n".join(lines)


def suite_names(suites_dir: Path = EXPECTATIONS_DIR) -> list[str]:
    return sorted(p.stem for p in suites_dir.glob("*.json"))


def load_suite(name: str, suites_dir: Path = EXPECTATIONS_DIR) -> tuple[gx.ExpectationSuite, str]:
    """The suite called ``name`` and the table (``schema.table``) it validates."""
    path = suites_dir / f"{name}.json"
    if not path.exists():
        raise FileNotFoundError(f"No suite {name!r} in {suites_dir} (have: {', '.join(suite_names(suites_dir))}).")
    doc = json.loads(path.read_text())
    suite = _gx().ExpectationSuite(name=doc["name"], expectations=doc["expectations"], meta=doc.get("meta", {}))
    return suite, doc["meta"]["dataset"]


def read_table(con: duckdb.DuckDBPyConnection, dataset: str, where: str | None = None) -> pd.DataFrame:
    """Read ``dataset`` into pandas with decimals as floats (GX compares numbers, not Decimal objects)."""
    schema, table = dataset.split(".")
    columns = con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = ? and table_name = ? order by ordinal_position",
        [schema, table],
    ).fetchall()
    if not columns:
        raise LookupError(f"Table {dataset} does not exist in the warehouse; materialize it first.")
    select = ", ".join(
        f'cast("{name}" as double) as "{name}"' if dtype.upper().startswith("DECIMAL") else f'"{name}"'
        for name, dtype in columns
    )
    sql = f"select {select} from {dataset}" + (f" where {where}" if where else "")
    return con.execute(sql).df()


def validate_dataframe(frame: pd.DataFrame, suite: gx.ExpectationSuite, dataset: str) -> SuiteResult:
    """Validate ``frame`` with ``suite`` in an ephemeral GX context."""
    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    context = _gx().get_context(mode="ephemeral")
    context.variables.progress_bars = {"globally": False}
    batch = (
        context.data_sources.add_pandas("warehouse")
        .add_dataframe_asset(dataset)
        .add_batch_definition_whole_dataframe("whole_table")
        .get_batch(batch_parameters={"dataframe": frame})
    )
    result = batch.validate(context.suites.add(suite))
    failures = []
    for item in result.results:
        if item.success:
            continue
        details = item.result or {}
        failures.append(
            {
                "expectation": item.expectation_config.type,
                "kwargs": {k: v for k, v in item.expectation_config.kwargs.items() if k != "batch_id"},
                "unexpected_count": details.get("unexpected_count"),
                "examples": list(details.get("partial_unexpected_list", []) or [])[:5],
                "observed_value": details.get("observed_value"),
            }
        )
    return SuiteResult(
        suite=suite.name,
        dataset=dataset,
        success=bool(result.success),
        rows=len(frame),
        evaluated=len(result.results),
        failures=failures,
    )


def validate_table(con: duckdb.DuckDBPyConnection, suite_name: str, where: str | None = None) -> SuiteResult:
    """Run suite ``suite_name`` against the table its ``meta.dataset`` names (optionally a slice)."""
    suite, dataset = load_suite(suite_name)
    return validate_dataframe(read_table(con, dataset, where), suite, dataset)


def write_result(result: SuiteResult, settings: Settings) -> Path:
    out = settings.reports_dir / "validations" / f"{result.suite}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result.__dict__, indent=2, default=str) + "\n")
    return out


app = typer.Typer(add_completion=False, help=__doc__)


@app.command()
def main(
    suite: list[str] = typer.Option(None, "--suite", "-s", help="Suite name(s); default: every suite."),
    warehouse: Path = typer.Option(None, help="DuckDB file; default: the settings' warehouse path."),
) -> None:
    """Validate the warehouse with the expectation suites; exit 1 if any expectation fails."""
    settings = Settings.from_env()
    path = warehouse or settings.warehouse_path
    if not path.exists():
        typer.echo(f"Warehouse {path} does not exist: run `make run` (or set FUTUREMART_HOME).", err=True)
        raise typer.Exit(2)
    names = suite or suite_names()
    with duckdb.connect(str(path), read_only=True) as con:
        results = [validate_table(con, name) for name in names]
    for result in results:
        typer.echo(result.summary())
        write_result(result, settings)
    failed = [r.suite for r in results if not r.success]
    typer.echo(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    if failed:
        raise typer.Exit(1)


if __name__ == "__main__":
    sys.exit(app())
