"""``futuremart publish``: republishes the role copies from the current warehouse, with the same verification
and leak scan as the published assets, and exits non-zero (keeping the previous copy) when a copy fails.
Works on copies of the ``built`` data home (other tests read ``built`` itself)."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from futuremart.cli import app
from futuremart.publish import ROLE_COPIES


def copy_home(built, target: Path) -> Path:
    for folder in ("warehouse", "vault", "published"):
        shutil.copytree(built.settings.home / folder, target / folder)
    return target


def invoke(home: Path, built, *args: str):
    env = {
        "FUTUREMART_HOME": str(home),
        "FUTUREMART_SEED": str(built.settings.seed),
        "FUTUREMART_SCALE": str(built.settings.scale_factor),
    }
    return CliRunner().invoke(app, ["publish", *args], env=env)


def counts(path: Path, tables: list[str]) -> dict[str, int]:
    with duckdb.connect(str(path), read_only=True) as con:
        return {t: con.execute(f"select count(*) from {t}").fetchone()[0] for t in tables}


def test_publish_replaces_every_role_copy_with_the_current_warehouse(built, tmp_path):
    home = copy_home(built, tmp_path / "home")
    published = home / "published"
    # The role files; the activation audiences' folder is the personalization asset's, not this command's.
    before = {p.name: p.stat().st_ino for p in published.iterdir() if p.is_file()}
    # The warehouse moves on after the last publish: the command must publish what is there now.
    with duckdb.connect(str(home / "warehouse" / "futuremart.duckdb")) as con:
        con.execute("delete from marts.fct_orders where order_id in (select order_id from marts.fct_orders limit 5)")
        orders_now = con.execute("select count(*) from marts.fct_orders").fetchone()[0]
    result = invoke(home, built)
    assert result.exit_code == 0, result.output
    for role in ROLE_COPIES:
        assert f"{role}: " in result.output
    after = {p.name: p.stat().st_ino for p in published.iterdir() if p.is_file()}
    assert after.keys() == before.keys()  # same files, no staged leftovers
    assert all(after[name] != before[name] for name in before)  # each one renamed over, not edited in place
    assert counts(published / "analyst.duckdb", ["marts.fct_orders"])["marts.fct_orders"] == orders_now
    assert counts(published / "finance.duckdb", ["marts.fct_orders"])["marts.fct_orders"] == orders_now
    with duckdb.connect(str(home / "warehouse" / "futuremart.duckdb"), read_only=True) as con:
        audited = con.execute(
            "select subject from governance.audit_log where event_type = 'publish' and actor = 'cli' "
            "and status = 'success'"
        ).fetchall()
    assert sorted(s for (s,) in audited) == sorted(f"published/{r.file_name}" for r in ROLE_COPIES.values())


def test_a_leak_fails_the_command_and_keeps_the_previous_copy(built, tmp_path):
    home = copy_home(built, tmp_path / "home")
    analyst = home / "published" / "analyst.duckdb"
    digest = hashlib.sha256(analyst.read_bytes()).hexdigest()
    with duckdb.connect(str(home / "warehouse" / "futuremart.duckdb")) as con:
        column = con.execute(
            "select table_name, column_name from duckdb_columns() where schema_name = 'marts' "
            "and data_type = 'VARCHAR' order by table_name, column_name limit 1"
        ).fetchone()
        con.execute(f'update marts."{column[0]}" set "{column[1]}" = \'jane.doe@example.com\'')
    result = invoke(home, built, "--role", "analyst")
    assert result.exit_code == 1
    assert "leak scan failed" in result.output and "analyst" in result.output
    assert hashlib.sha256(analyst.read_bytes()).hexdigest() == digest
    assert not list(analyst.parent.glob("analyst.duckdb.tmp-*"))


@pytest.mark.parametrize("args", [("--role", "intern"), ()])
def test_bad_requests_exit_2(built, tmp_path, args):
    # An unknown role; a data home without a warehouse.
    home = copy_home(built, tmp_path / "home") if args else tmp_path / "empty"
    result = invoke(home, built, *args)
    assert result.exit_code == 2
    assert "intern" in result.output if args else "no warehouse" in result.output
