"""The staging tables kept up to date by key (dbt_project/macros/latest_copies.sql) against their definition.

On DuckDB the clickstream and the four order-grain staging models are incremental: a build ranks again only
the copies of the keys loaded since the last build, and of the keys it took from a file loaded again since.
Whatever the loads did in between, the table must equal what a full build makes of the same raw tables (the
latest copy of every key): a later re-export wins, a corrected file that drops a key gives it back its older
copy or, when no copy is left, removes it, and a build that finds nothing new changes nothing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb

from futuremart.settings import DBT_PROJECT_DIR


@dataclass(frozen=True)
class ByKey:
    model: str
    raw_table: str
    key: str  # the column copies are matched on (an order's lines move together)
    entity: str  # folder of the extract in the landing zone


BY_KEY = (
    ByKey("stg_shop__clickstream", "shop_clickstream", "event_id", "clickstream"),
    ByKey("stg_shop__orders", "shop_orders", "order_id", "orders"),
    ByKey("stg_shop__order_lines", "shop_order_lines", "order_id", "order_lines"),
    ByKey("stg_shop__payments", "shop_payments", "payment_id", "payments"),
    ByKey("stg_shop__shipments", "shop_shipments", "shipment_id", "shipments"),
)
VANISHING_KEY = "TEST-VANISHING"


def _dbt(warehouse: Path, target: Path, settings, *args: str, models: tuple[str, ...] = ()) -> None:
    proc = _run_dbt(warehouse, target, settings, *args, models=models)
    assert proc.returncode == 0, proc.stdout[-3000:]


def _run_dbt(
    warehouse: Path, target: Path, settings, *args: str, models: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).with_name("dbt")), "run", "--select", *(models or [m.model for m in BY_KEY]), *args]
        + ["--profiles-dir", ".", "--target-path", str(target)],
        cwd=DBT_PROJECT_DIR,
        env={**os.environ, **settings.dbt_env(), "FUTUREMART_WAREHOUSE_PATH": str(warehouse)},
        capture_output=True,
        text=True,
    )


def _contents(con: duckdb.DuckDBPyConnection, model: str) -> tuple[int, int]:
    return con.execute(f"select count(*), coalesce(sum(hash(t)), 0) from staging.{model} as t").fetchone()


def test_by_key_staging_equals_a_full_build_after_reexports_and_a_corrected_file(built, tmp_path):
    # Same file name: dbt views refer to their catalog by name (futuremart).
    (tmp_path / "incremental").mkdir()
    warehouse = tmp_path / "incremental" / built.settings.warehouse_path.name
    shutil.copy(built.settings.warehouse_path, warehouse)
    target = tmp_path / "target"

    def file_of(spec: ByKey) -> str:
        return f"shop/{spec.entity}/dt=2999-01-01/{spec.entity}-corrected.csv"

    # A new file re-exports an old key (loaded later, so it wins) and brings a key never seen before.
    original: dict[str, tuple[str, str]] = {}
    with duckdb.connect(str(warehouse)) as con:
        for spec in BY_KEY:
            key_value, source_file = con.execute(
                f"select {spec.key}, _source_file from raw.{spec.raw_table} "
                f"order by _loaded_at, _source_file, _source_line limit 1"
            ).fetchone()
            original[spec.model] = (key_value, source_file)
            # One load stamp per file, as the loader writes it.
            stamp = con.execute(f"select max(_loaded_at) + interval 1 second from raw.{spec.raw_table}").fetchone()[0]
            for value, line in ((key_value, 1), (VANISHING_KEY, 1000)):
                con.execute(
                    f"insert into raw.{spec.raw_table} select * replace ("
                    f"  ? as {spec.key}, ? as _source_file, _source_line + ? as _source_line,"
                    "   'test-export' as _load_id, ? as _loaded_at"
                    f") from raw.{spec.raw_table} where {spec.key} = ?",
                    [value, file_of(spec), line, stamp, key_value],
                )
    _dbt(warehouse, target, built.settings)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for spec in BY_KEY:
            key_value, _ = original[spec.model]
            for value in (key_value, VANISHING_KEY):
                files = con.execute(
                    f"select distinct source_file from staging.{spec.model} where {spec.key} = ?", [value]
                ).fetchall()
                assert files == [(file_of(spec),)], (spec.model, value, files)

    # The file is corrected and loaded again, as the loader records it (rows replaced, one audit row): for
    # some extracts its rows are now held back, for the others it has no row at all (a header only), which
    # only the audit tells. Either way the re-exported key falls back to its older copy, and the new key has
    # no copy left and must go.
    with duckdb.connect(str(warehouse)) as con:
        for position, spec in enumerate(BY_KEY):
            stamp = con.execute(f"select max(_loaded_at) + interval 1 second from raw.{spec.raw_table}").fetchone()[0]
            con.execute(f"delete from raw.{spec.raw_table} where _source_file = ?", [file_of(spec)])
            held_back = position % 2 == 0
            if held_back:
                con.execute(
                    f"insert into quarantine.{spec.raw_table} "
                    "(_source_file, _source_line, reason, record, _load_id, quarantined_at) "
                    "values (?, 1, 'unexpected_value', '{}', 'test-correction', ?)",
                    [file_of(spec), stamp],
                )
            con.execute(
                "insert into governance.load_audit (load_id, source_system, entity, partition_date, file, "
                "file_sha256, status, rows_in, rows_loaded, rows_quarantined, loaded_at) "
                "values ('test-correction', 'shop', ?, date '2999-01-01', ?, 'corrected', 'loaded', ?, 0, ?, ?)",
                [spec.entity, file_of(spec), int(held_back), int(held_back), stamp],
            )
    _dbt(warehouse, target, built.settings)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for spec in BY_KEY:
            key_value, source_file = original[spec.model]
            assert con.execute(
                f"select distinct source_file from staging.{spec.model} where {spec.key} = ?", [key_value]
            ).fetchall() == [(source_file,)], spec.model
            assert con.execute(
                f"select count(*) from staging.{spec.model} where {spec.key} = ?", [VANISHING_KEY]
            ).fetchone() == (0,), spec.model
        incremental = {spec.model: _contents(con, spec.model) for spec in BY_KEY}

    # The same raw tables built whole give the same tables.
    (tmp_path / "full").mkdir()
    rebuilt = tmp_path / "full" / warehouse.name
    shutil.copy(warehouse, rebuilt)
    _dbt(rebuilt, target, built.settings, "--full-refresh")
    with duckdb.connect(str(rebuilt), read_only=True) as con:
        con.execute(f"attach '{warehouse}' as incremental (read_only)")
        for spec in BY_KEY:
            full, kept = f"staging.{spec.model}", f"incremental.staging.{spec.model}"
            for left, right in ((full, kept), (kept, full)):
                assert con.execute(
                    f"select count(*) from (select * from {left} except all select * from {right})"
                ).fetchone() == (0,), (spec.model, left)

    # Nothing new: nothing changes.
    _dbt(warehouse, target, built.settings)
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert {spec.model: _contents(con, spec.model) for spec in BY_KEY} == incremental


def test_a_staging_table_built_before_it_was_kept_by_key_asks_for_one_full_rebuild(built, tmp_path):
    """A warehouse built by an older version has these tables without the load stamp the incremental build
    reads: the build stops with a message that says how to rebuild them, not a binder error."""
    (tmp_path / "old").mkdir()
    warehouse = tmp_path / "old" / built.settings.warehouse_path.name
    shutil.copy(built.settings.warehouse_path, warehouse)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("alter table staging.stg_shop__payments drop column loaded_at")
    models = ("stg_shop__payments",)
    failed = _run_dbt(warehouse, tmp_path / "target", built.settings, models=models)
    assert failed.returncode != 0
    assert "dbt build --full-refresh --select stg_shop__payments" in failed.stdout, failed.stdout[-3000:]
    _dbt(warehouse, tmp_path / "target", built.settings, "--full-refresh", models=models)
    _dbt(warehouse, tmp_path / "target", built.settings, models=models)
