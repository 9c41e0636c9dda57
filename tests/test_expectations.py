"""The Great Expectations suite through the CI runner: passes on a built warehouse, fails on a broken row."""

import shutil
import subprocess
import sys

import duckdb
import pytest

from expectations.runner import suite_names, validate_table


def run_runner(warehouse, home):
    return subprocess.run(
        [sys.executable, "-m", "expectations.runner", "--warehouse", str(warehouse)],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "FUTUREMART_HOME": str(home)},
    )


def test_every_suite_file_loads():
    assert "raw_shop_orders" in suite_names()


def test_the_runner_passes_on_the_built_warehouse(built, tmp_path):
    out = run_runner(built.settings.warehouse_path, tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "PASS raw_shop_orders" in out.stdout
    assert (tmp_path / "reports" / "validations" / "raw_shop_orders.json").exists()


@pytest.mark.parametrize(
    ("update", "expectation"),
    [
        ("channel = 'carrier-pigeon'", "expect_column_values_to_be_in_set"),
        ("order_total = -5", "expect_column_values_to_be_between"),
        ("customer_id = null", "expect_column_values_to_not_be_null"),
    ],
)
def test_a_deliberately_broken_row_fails_the_suite(built, tmp_path, update, expectation):
    warehouse = tmp_path / "broken.duckdb"
    shutil.copyfile(built.settings.warehouse_path, warehouse)
    with duckdb.connect(str(warehouse)) as con:
        con.execute(f"update raw.shop_orders set {update} where order_id = (select min(order_id) from raw.shop_orders)")
        result = validate_table(con, "raw_shop_orders")
    assert not result.success
    assert [f["expectation"] for f in result.failures] == [expectation]
    assert result.failures[0]["unexpected_count"] == 1

    out = run_runner(warehouse, tmp_path)
    assert out.returncode == 1
    assert "FAIL raw_shop_orders" in out.stdout and expectation in out.stdout
