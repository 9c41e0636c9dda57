"""The production instance (deploy/dagster.yaml) on a real PostgreSQL server, with the run queue and the daemon.

A throwaway PostgreSQL 15 cluster (Debian's binaries, `make postgres`) is created in a temporary folder and
started on a free port; the deployment steps of the README run against it: the instance config copied into
DAGSTER_HOME, the code location's gRPC server and the daemon started (deploy/workspace.yaml), the writer
pool's limit set. Three daily partitions of two raw feeds are then submitted at once through GraphQL (as the
UI does), so all three wait in the queue; the daemon must start them one after another, since each writes
the DuckDB warehouse.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
import psycopg2
import pytest

from futuremart.settings import PROJECT_ROOT, Settings
from ingestion.contracts import get_contract
from ingestion.landing import land_world
from ingestion.world import generate_world
from orchestration.defs.ingestion import FILES_CONFORM_CHECK, RECONCILES_CHECK
from tests.conftest import TEST_SCALE, TEST_SEED

# Debian's postgresql-15 package (`make postgres`); its server refuses to run as root.
PG_BIN = Path("/usr/lib/postgresql/15/bin")
PG_SYSTEM_USER = "postgres"
VENV_BIN = Path(sys.executable).parent
DEPLOY_DIR = PROJECT_ROOT / "deploy"
# A short calendar keeps the world tiny (the generator needs about a month of days to place price changes).
START, END = "2024-01-01", "2024-02-15"
DAYS = ["2024-01-02", "2024-01-03", "2024-01-04"]
FEEDS = ("orders", "order_lines")  # shop extracts, partitioned by day
FEED_TABLES = [get_contract("shop", entity).raw_table for entity in FEEDS]
LOAD_CHECKS = (FILES_CONFORM_CHECK, RECONCILES_CHECK)
SERVER_TIMEOUT_S = 120
RUNS_TIMEOUT_S = 150


@dataclass(frozen=True)
class Postgres:
    port: int
    user: str = "dagster"
    password: str = "throwaway-test-password"
    db: str = "dagster"

    def env(self) -> dict[str, str]:
        """The variables deploy/dagster.yaml reads."""
        return {
            "DAGSTER_PG_HOST": "127.0.0.1",
            "DAGSTER_PG_PORT": str(self.port),
            "DAGSTER_PG_USER": self.user,
            "DAGSTER_PG_PASSWORD": self.password,
            "DAGSTER_PG_DB": self.db,
        }

    def connect(self) -> psycopg2.extensions.connection:
        return psycopg2.connect(
            host="127.0.0.1", port=self.port, user=self.user, password=self.password, dbname=self.db
        )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def postgres() -> Iterator[Postgres]:
    """A PostgreSQL server of its own: initdb in a temporary folder, password authentication, a free port."""
    if not (PG_BIN / "initdb").exists():
        pytest.fail(f"{PG_BIN} is missing: run `make postgres` (apt-get install postgresql) as root")
    # Not under pytest's tmp_path: its parents are private to the user running pytest, and the server may
    # have to run as another user.
    root = Path(tempfile.mkdtemp(prefix="futuremart-pg-"))
    as_server_user: list[str] = []
    if os.geteuid() == 0:
        # initdb and postgres refuse to run as root: run them as the package's system account.
        shutil.chown(root, PG_SYSTEM_USER, PG_SYSTEM_USER)
        as_server_user = ["runuser", "-u", PG_SYSTEM_USER, "--"]
    server = Postgres(port=_free_port())
    password_file = root / "password"
    password_file.write_text(server.password + "\n")
    password_file.chmod(0o644)
    data = root / "data"

    def pg(*args: str) -> None:
        done = subprocess.run([*as_server_user, *args], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"

    pg(
        str(PG_BIN / "initdb"),
        f"--pgdata={data}",
        f"--username={server.user}",
        f"--pwfile={password_file}",
        "--auth=scram-sha-256",
        "--encoding=UTF8",
        "--locale=C",
        "--no-sync",  # a throwaway cluster: no need to wait for the disk
    )
    password_file.unlink()
    options = f"-p {server.port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
    pg(str(PG_BIN / "pg_ctl"), "start", "--wait", f"--pgdata={data}", f"--log={root / 'server.log'}", "-o", options)
    try:
        # CREATE DATABASE cannot run in a transaction, and psycopg2's `with connection` opens one.
        con = psycopg2.connect(
            host="127.0.0.1", port=server.port, user=server.user, password=server.password, dbname="postgres"
        )
        con.autocommit = True
        con.cursor().execute(f"create database {server.db}")
        con.close()
        yield server
    finally:
        pg(str(PG_BIN / "pg_ctl"), "stop", "--wait", "--mode=fast", f"--pgdata={data}")
        shutil.rmtree(root, ignore_errors=True)


def _launch_mutation(days: list[str]) -> str:
    """One GraphQL document launching, for each day, the two feeds' loads of ``daily_refresh`` with the checks
    the load itself evaluates (the Great Expectations suites judge a whole calendar, not three days)."""
    keys = [f'{{path: ["raw", "{table}"]}}' for table in FEED_TABLES]
    checks = [f'{{assetKey: {key}, name: "{check}"}}' for key in keys for check in LOAD_CHECKS]
    launches = "\n".join(
        f"""  day{i}: launchRun(executionParams: {{
    selector: {{repositoryLocationName: "futuremart", repositoryName: "__repository__", jobName: "daily_refresh",
                assetSelection: [{", ".join(keys)}], assetCheckSelection: [{", ".join(checks)}]}}
    executionMetadata: {{tags: [{{key: "dagster/partition", value: "{day}"}}]}}
  }}) {{ __typename ... on LaunchRunSuccess {{ run {{ runId status }} }} ... on Error {{ message }} }}"""
        for i, day in enumerate(days)
    )
    return "mutation {\n" + launches + "\n}"


def _cli(name: str, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [str(VENV_BIN / name), *args], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=180
    )
    assert result.returncode == 0, f"{name} {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result


@contextlib.contextmanager
def _service(name: str, *args: str, env: dict[str, str], log: Path) -> Iterator[subprocess.Popen]:
    """A long-running Dagster process, stopped with the processes it started (its own process group)."""
    with log.open("w") as out:
        process = subprocess.Popen(
            [str(VENV_BIN / name), *args],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield process
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _wait_for_port(port: int, server: subprocess.Popen, log: Path) -> None:
    """The gRPC server listens once the code location has loaded."""
    deadline = time.monotonic() + SERVER_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"the code server exited with {server.returncode}:\n{log.read_text()[-4000:]}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.5)
    pytest.fail(f"the code server did not listen within {SERVER_TIMEOUT_S} s:\n{log.read_text()[-4000:]}")


def _wait_for_runs(instance: dg.DagsterInstance, run_ids: list[str], daemon_log: Path) -> list[dg.RunRecord]:
    deadline = time.monotonic() + RUNS_TIMEOUT_S
    while time.monotonic() < deadline:
        records = instance.get_run_records(dg.RunsFilter(run_ids=run_ids))
        if len(records) == len(run_ids) and all(r.dagster_run.is_finished for r in records):
            return records
        time.sleep(1)
    statuses = {r.dagster_run.run_id: r.dagster_run.status for r in instance.get_run_records(dg.RunsFilter())}
    pytest.fail(f"runs not finished after {RUNS_TIMEOUT_S} s: {statuses}\n{daemon_log.read_text()[-4000:]}")


def test_queued_runs_on_postgres_write_the_warehouse_one_at_a_time(postgres, tmp_path, monkeypatch):
    home, dagster_home = tmp_path / "home", tmp_path / "dagster_home"
    code_server_port = _free_port()
    env = {
        **os.environ,
        **postgres.env(),
        "DAGSTER_HOME": str(dagster_home),
        "DAGSTER_CODE_SERVER_HOST": "127.0.0.1",
        "DAGSTER_CODE_SERVER_PORT": str(code_server_port),
        "FUTUREMART_HOME": str(home),
        "FUTUREMART_SEED": str(TEST_SEED),
        "FUTUREMART_SCALE": str(TEST_SCALE),
        "FUTUREMART_START_DATE": START,
        "FUTUREMART_END_DATE": END,
    }
    for key, value in postgres.env().items():
        monkeypatch.setenv(key, value)  # this process reads the instance too
    # Deployment, as the README describes it: the instance file in DAGSTER_HOME, the code location's gRPC
    # server, the writer pool's limit, the daemon.
    dagster_home.mkdir()
    shutil.copy(DEPLOY_DIR / "dagster.yaml", dagster_home / "dagster.yaml")
    workspace = ("-w", str(DEPLOY_DIR / "workspace.yaml"))
    server_log, daemon_log = tmp_path / "code_server.log", tmp_path / "daemon.log"
    code_server = (
        *("api", "grpc", "-h", "127.0.0.1", "-p", str(code_server_port), "--location-name", "futuremart"),
        *("-m", "orchestration.definitions", "-d", str(PROJECT_ROOT), "--use-python-environment-entry-point"),
    )
    with _service("dagster", *code_server, env=env, log=server_log) as server:
        # The source systems' side, while the code location loads: the extracts land (no Dagster involved).
        settings = Settings.from_env(env)
        land_world(generate_world(settings), settings)
        _cli("dagster", "instance", "concurrency", "set", "duckdb_writer", "1", env=env)
        _wait_for_port(code_server_port, server, server_log)
        with _service("dagster-daemon", "run", *workspace, env=env, log=daemon_log):
            # All days at once, as from the UI's launchpad (--output: the command logs on stdout too).
            response_file = tmp_path / "launched.json"
            _cli("dagster-graphql", *workspace, "-t", _launch_mutation(DAYS), "-o", str(response_file), env=env)
            launched = json.loads(response_file.read_text())["data"]
            assert all(r["__typename"] == "LaunchRunSuccess" for r in launched.values()), launched
            run_ids = [launched[f"day{i}"]["run"]["runId"] for i in range(len(DAYS))]
            instance = dg.DagsterInstance.from_config(str(dagster_home))
            records = _wait_for_runs(instance, run_ids, daemon_log)

    storages = (instance.run_storage, instance.event_log_storage, instance.schedule_storage)
    assert [type(s).__name__ for s in storages] == [
        "PostgresRunStorage",
        "PostgresEventLogStorage",
        "PostgresScheduleStorage",
    ]
    by_day = {r.dagster_run.tags["dagster/partition"]: r for r in records}
    assert sorted(by_day) == DAYS
    assert all(r.dagster_run.status == dg.DagsterRunStatus.SUCCESS for r in records), daemon_log.read_text()[-4000:]
    assert all(r.dagster_run.run_op_concurrency.all_pools == {"duckdb_writer"} for r in records)

    # All three were waiting in the queue at once (created before the first one finished), and yet each
    # started only after the previous one had ended: one DuckDB writer at a time. (Without the pool's limit
    # the daemon launches the three together and their spans overlap: tried once, this assertion failed.)
    spans = sorted((r.start_time, r.end_time) for r in records)
    assert max(r.create_timestamp.timestamp() for r in records) < spans[0][1]
    for (_, previous_end), (next_start, _) in zip(spans, spans[1:], strict=False):
        assert next_start >= previous_end, spans
    instance.dispose()

    # The runs, their events and their materializations are rows in Postgres.
    with postgres.connect() as con, con.cursor() as cur:
        cur.execute("select run_id, status from runs where run_id = any(%s)", (run_ids,))
        assert dict(cur.fetchall()) == dict.fromkeys(run_ids, "SUCCESS")
        cur.execute(
            "select asset_key, partition, run_id from event_logs "
            "where dagster_event_type = 'ASSET_MATERIALIZATION' and run_id = any(%s)",
            (run_ids,),
        )
        materialized = {(json.loads(key)[-1], partition, run_id) for key, partition, run_id in cur.fetchall()}
        assert materialized == {(table, day, by_day[day].dagster_run.run_id) for table in FEED_TABLES for day in DAYS}
        cur.execute("select dagster_event_type, count(*) from event_logs where run_id = any(%s) group by 1", (run_ids,))
        events = dict(cur.fetchall())
        # Each run was queued (by the submission), launched by the daemon, started and succeeded once.
        run_events = ("RUN_ENQUEUED", "RUN_STARTING", "RUN_START", "RUN_SUCCESS")
        counts = [events.get(dg.DagsterEventType[name].value) for name in run_events]
        assert counts == [len(DAYS)] * len(run_events), str(events)
        assert events["ASSET_CHECK_EVALUATION"] == len(LOAD_CHECKS) * len(FEEDS) * len(DAYS)
        cur.execute('select concurrency_key, "limit" from concurrency_limits')
        assert ("duckdb_writer", 1) in cur.fetchall()
        # The daemon ran the loops the deployment relies on, heartbeating into the same database.
        cur.execute("select daemon_type from daemon_heartbeats")
        assert {"SCHEDULER", "SENSOR", "QUEUED_RUN_COORDINATOR", "BACKFILL"} <= {r[0] for r in cur.fetchall()}

    # The warehouse holds exactly those days of the two feeds, each day's files loaded by that day's run.
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        audit = con.execute(
            "select entity, partition_date, run_id, rows_in, rows_loaded + rows_quarantined + rows_erased "
            "from governance.load_audit where status = 'loaded'"
        ).fetchall()
        raw_rows = {table: con.execute(f"select count(*) from raw.{table}").fetchone()[0] for table in FEED_TABLES}
    assert sorted((entity, day.isoformat(), run_id) for entity, day, run_id, *_ in audit) == sorted(
        (entity, day, by_day[day].dagster_run.run_id) for entity in FEEDS for day in DAYS
    )
    assert all(rows_in == accounted for *_, rows_in, accounted in audit)
    assert all(rows > 0 for rows in raw_rows.values()), raw_rows
