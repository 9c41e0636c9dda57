"""The governance schema: a complete catalog built from the dbt manifest and data-quality scores."""

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import yaml

from futuremart.quality_scores import WEIGHT_ROWS, compute_quality_scores
from futuremart.settings import DBT_PROJECT_DIR
from ingestion.contracts import load_contracts

MODEL_SCHEMAS = ("staging", "intermediate", "marts", "governance")


def _python_written_governance_tables() -> dict[str, dict[str, str]]:
    """Governance tables the platform's Python writes, declared as dbt sources: table -> column descriptions."""
    doc = yaml.safe_load((DBT_PROJECT_DIR / "models" / "governance" / "_governance__sources.yml").read_text())
    [source] = doc["sources"]
    return {t["name"]: {c["name"]: c.get("description", "") for c in t.get("columns", [])} for t in source["tables"]}


def test_catalog_documents_every_column_of_every_model(built):
    python_written = _python_written_governance_tables()
    # Written by Python outside dbt's sources file: the dbt hooks' test results and the quality scores.
    outside_dbt = {*python_written, "dbt_test_results", "data_quality_scores"}
    with built.connect() as con:
        in_warehouse = set(
            con.execute(
                "select table_schema, table_name, column_name from information_schema.columns "
                f"where table_schema in {MODEL_SCHEMAS}"
            ).fetchall()
        )
        for schema, table, column in sorted(in_warehouse):
            if schema == "governance" and table in python_written and table != "load_audit":
                assert python_written[table].get(column), f"governance.{table}.{column} undocumented in sources"
        in_warehouse = {key for key in in_warehouse if key[1] not in outside_dbt}
        catalogued = {
            (schema, table, column): description
            for schema, table, column, description in con.execute(
                "select schema_name, table_name, column_name, description from governance.gov_catalog_columns"
            ).fetchall()
        }
    undocumented = sorted(key for key in in_warehouse if not catalogued.get(key))
    assert undocumented == []
    assert len(in_warehouse) > 200


def test_every_model_has_owner_steward_grain_tests_and_marts_enforce_contracts(built):
    with built.connect() as con:
        models = con.execute(
            "select table_name, layer, owner, steward, description, tests, contract_enforced "
            "from governance.gov_catalog_models where resource_type = 'model'"
        ).fetchall()
    assert len(models) > 20
    for name, layer, owner, steward, description, tests, enforced in models:
        assert owner and steward and description, name
        if not name.startswith("gov_catalog"):  # the catalog's own tests are counted from the graph it reads
            assert tests > 0, f"{name} has no tests"
        assert enforced == (layer == "marts"), name


def test_catalog_carries_the_pii_classes_of_the_contracts(built):
    expected = {(c.raw_table, col, pii) for c in load_contracts() for col, pii in c.pii_columns.items()}
    with built.connect() as con:
        catalogued = set(
            con.execute(
                "select table_name, column_name, pii_class from governance.gov_catalog_columns "
                "where schema_name = 'raw' and pii_class is not null"
            ).fetchall()
        )
        marts_pii = con.execute(
            "select count(*) from governance.gov_catalog_columns where schema_name = 'marts' and is_pii"
        ).fetchone()[0]
    assert catalogued == expected
    assert marts_pii == 0


def test_quality_scores_cover_every_table_and_drop_when_a_test_fails(built, tmp_path):
    with built.connect() as con:
        scores = con.execute(
            "select table_name, layer, tests_run, tests_failed, is_fresh, score from governance.data_quality_scores"
        ).fetchall()
    by_table = {s[0]: s for s in scores}
    assert {"fct_orders", "dim_customer", "dim_date", "stg_shop__orders"} <= by_table.keys()
    for name, layer, run, failed, fresh, score in scores:
        if layer == "marts":
            assert run > 0 and failed == 0 and fresh and score == 100.0, name

    # Break the grain of a copy of the warehouse, run its tests with dbt, and score the copy again.
    # Same file name: dbt views refer to their catalog by name (futuremart).
    copy = tmp_path / built.settings.warehouse_path.name
    shutil.copy(built.settings.warehouse_path, copy)
    with duckdb.connect(str(copy)) as con:
        con.execute("insert into marts.dim_date select * from marts.dim_date limit 1")
    dbt = Path(sys.executable).with_name("dbt")
    proc = subprocess.run(
        [str(dbt), "test", "--select", "dim_date", "--profiles-dir", ".", "--target-path", str(tmp_path / "target")],
        cwd=DBT_PROJECT_DIR,
        env={**os.environ, **built.settings.dbt_env(), "FUTUREMART_WAREHOUSE_PATH": str(copy)},
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1, proc.stdout[-2000:]
    manifest = json.loads((DBT_PROJECT_DIR / "target" / "manifest.json").read_text())
    with duckdb.connect(str(copy)) as con:
        rescored = {
            s.table_name: s for s in compute_quality_scores(con, manifest, dt.datetime.now(dt.UTC).replace(tzinfo=None))
        }
    assert rescored["dim_date"].tests_failed == 1
    assert rescored["dim_date"].score < by_table["dim_date"][5]
    assert rescored["fct_orders"].score == 100.0

    # A view is not counted (null row count); it "has rows" when the raw tables it reads do: emptied, its
    # score drops by the rows weight and nothing else moves.
    view = rescored["stg_shop__returns"]
    assert view.row_count is None and rescored["fct_orders"].row_count > 0
    with duckdb.connect(str(copy)) as con:
        con.execute("delete from raw.shop_returns")
        emptied = {
            s.table_name: s for s in compute_quality_scores(con, manifest, dt.datetime.now(dt.UTC).replace(tzinfo=None))
        }
    assert emptied["stg_shop__returns"].score == round(view.score - 100 * WEIGHT_ROWS, 1)
    assert emptied["stg_crm__customers"].score == rescored["stg_crm__customers"].score


def test_dbt_docs_generate_works_offline_and_its_catalog_covers_every_model(built, tmp_path):
    copy = tmp_path / built.settings.warehouse_path.name
    shutil.copy(built.settings.warehouse_path, copy)
    target = tmp_path / "target"
    dbt = Path(sys.executable).with_name("dbt")
    proc = subprocess.run(
        [str(dbt), "docs", "generate", "--profiles-dir", ".", "--target-path", str(target)],
        cwd=DBT_PROJECT_DIR,
        env={**os.environ, **built.settings.dbt_env(), "FUTUREMART_WAREHOUSE_PATH": str(copy)},
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout[-2000:]
    manifest = json.loads((target / "manifest.json").read_text())
    catalog = json.loads((target / "catalog.json").read_text())
    models = {uid for uid, n in manifest["nodes"].items() if n["resource_type"] in ("model", "seed")}
    assert models - catalog["nodes"].keys() == set()
    for uid in models:
        documented = set(manifest["nodes"][uid]["columns"])
        actual = {c.lower() for c in catalog["nodes"][uid]["columns"]}
        assert actual <= documented, f"{uid}: undocumented columns {sorted(actual - documented)}"
    assert (target / "index.html").exists()


def test_dbt_unit_tests_pass_in_ci(built, tmp_path):
    """The pipeline's builds leave dbt's unit tests out (DBT_BUILD_ARGS); CI runs every one of them here."""
    copy = tmp_path / built.settings.warehouse_path.name
    shutil.copy(built.settings.warehouse_path, copy)
    target = tmp_path / "target"
    proc = subprocess.run(
        [str(Path(sys.executable).with_name("dbt")), "test", "--select", "test_type:unit"]
        + ["--profiles-dir", ".", "--target-path", str(target)],
        cwd=DBT_PROJECT_DIR,
        env={**os.environ, **built.settings.dbt_env(), "FUTUREMART_WAREHOUSE_PATH": str(copy)},
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout[-3000:]
    defined = set(json.loads((target / "manifest.json").read_text())["unit_tests"])
    results = json.loads((target / "run_results.json").read_text())["results"]
    ran = {r["unique_id"]: r["status"] for r in results if r["unique_id"].startswith("unit_test.")}
    assert len(defined) >= 5
    assert ran.keys() == defined
    assert set(ran.values()) == {"pass"}
