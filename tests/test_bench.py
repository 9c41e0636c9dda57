"""``make bench``'s machinery on tiny inputs: the process-tree measurement and the table writer (the full
benchmark takes far too long for a test; it records figures, it asserts none)."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.side_by_side import TARGETS, Phase, measure, run_bench, spark_missing, table_rows, tree_rss_bytes
from futuremart.settings import Settings

HOLD_MIB = 200
# A child that starts a grandchild holding HOLD_MIB resident for 2 s, then exits 3.
GRANDCHILD = f"import time; b = bytearray({HOLD_MIB} << 20); b[::4096] = b'x' * len(b[::4096]); time.sleep(2)"
CHILD = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {GRANDCHILD!r}]); sys.exit(3)"


def test_the_sampled_tree_includes_grandchildren():
    child = subprocess.Popen([sys.executable, "-c", CHILD])
    peak, own = 0, 0
    while child.poll() is None:
        peak = max(peak, tree_rss_bytes(child.pid))
        with contextlib.suppress(OSError):  # the child itself, without its descendants
            own = max(own, int(Path(f"/proc/{child.pid}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE"))
        time.sleep(0.1)
    assert own < HOLD_MIB << 20 <= peak  # the memory was the grandchild's, and the tree counted it
    assert tree_rss_bytes(child.pid) == 0  # gone


def test_measure_reports_exit_code_clocks_and_peaks(tmp_path):
    measured = measure(
        [sys.executable, "-c", CHILD], env=os.environ, cwd=tmp_path, stdout=tmp_path / "o", stderr=tmp_path / "e"
    )
    assert measured.returncode == 3 and not measured.ok
    # The grandchild's memory counts as the largest process (rusage of waited-for descendants).
    assert measured.peak_rss_process_mib >= HOLD_MIB
    assert measured.peak_rss_tree_mib >= measured.peak_rss_process_mib
    assert measured.wall_s >= 2 and measured.cpu_s > 0


def test_generation_part_at_a_tiny_scale_writes_json_and_table(tmp_path):
    settings = Settings(home=tmp_path, seed=7)
    results, json_path, md_path = run_bench([0.02], settings, faker_rows=2_000, parts=["generation"])
    assert json.loads(json_path.read_text()) == results
    generation = results[0]["generation"]
    assert generation["process"]["returncode"] == 0
    assert generation["rows_all_tables"] > generation["orders"] > 0
    # The table shows the measured speed-up next to the target, judged on both clocks.
    limit = TARGETS["generation"][0].limit
    wall, cpu = generation["speedup_all_rows_wall"], generation["speedup_all_rows_cpu"]
    row = next(line for line in md_path.read_text().splitlines() if "generation speed-up, all rows" in line)
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert float(cells[1].rstrip("x").replace(",", "")) == wall
    assert float(cells[2].rstrip("x").replace(",", "")) == cpu
    assert cells[3] == f"≥ {limit:g}x"
    assert cells[4] == ("yes" if wall >= limit and cpu >= limit else "no")
    # Parts not run show dashes, not zeros; the work folders are gone.
    overhead = next(line for line in md_path.read_text().splitlines() if "orchestration overhead" in line)
    assert "| — | — |" in overhead
    assert results[0]["peak_rss_tree_mib"]["generation.process"] > 0
    assert f"duckdb_memory_limit {Settings.from_env().duckdb_memory_limit}" in md_path.read_text()
    assert not (Path(tmp_path) / "bench" / "work").exists()


def test_children_get_the_callers_resource_settings_and_the_benchs_own_home(tmp_path, monkeypatch):
    """A memory cap set for the bench reaches every measured child (dbt reads it from the environment), and the
    caller's data home or run window does not."""
    monkeypatch.setenv("FUTUREMART_DUCKDB_MEMORY_LIMIT", "2GiB")
    monkeypatch.setenv("FUTUREMART_GX_BATCH_ROWS", "1000")
    monkeypatch.setenv("FUTUREMART_HOME", "/somewhere/else")
    monkeypatch.setenv("FUTUREMART_RUN_MAX_DATE", "2024-06-01")
    env = Phase(tmp_path, 10, 42).env(tmp_path / "home")
    assert env["FUTUREMART_DUCKDB_MEMORY_LIMIT"] == "2GiB" and env["FUTUREMART_GX_BATCH_ROWS"] == "1000"
    assert env["FUTUREMART_HOME"] == str(tmp_path / "home") and env["FUTUREMART_SCALE"] == "10"
    assert "FUTUREMART_RUN_MAX_DATE" not in env
    child = subprocess.run(
        [
            sys.executable,
            "-c",
            "from futuremart.settings import Settings; print(Settings.from_env().duckdb_memory_limit)",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert child.stdout.strip() == "2GiB"


def test_the_engines_part_says_why_it_did_not_compare(monkeypatch):
    # Without the Spark extra the part is skipped with its reason, not measured against a failed build.
    monkeypatch.setenv("PATH", "/nonexistent")
    assert "java" in spark_missing()
    skipped = table_rows(
        {"scale_factor": 1.0, "engines": {"skipped": "Spark not installed: pyspark (make setup-spark)"}}
    )
    assert ("DuckDB vs Spark builds", "Spark not installed: pyspark (make setup-spark)", "—", "", "—") in skipped
    failed = table_rows({"scale_factor": 1.0, "engines": {"spark": {"seconds": 2.2, "returncode": 2}}})
    assert any(row[1] == "the Spark build failed (exit 2)" for row in failed)
    assert not any(row[0].startswith("parity") and row[1] != "—" for row in failed)
