"""Dagster's SQLite event log, with its connections kept open.

Dagster's own SQLite event log storage builds a new SQLAlchemy engine, connects and closes again for every
statement group: an asset check evaluation opens the run's database and the index database three or four
times. Closing the last connection to a WAL database checkpoints it and fsyncs. A run of this project stores
about 2,400 events (every dbt test is an asset check), and that cost the nightly run about 25 s of its 140 s
at SF10 (py-spy: ``SqliteEventLogStorage.store_event``), as much in the full build: a fixed cost of every run.

:class:`PooledSqliteEventLogStorage` is the same storage (same files, same schema, same queries) with one
engine per database kept open and ``synchronous = NORMAL``, the setting SQLite documents for WAL mode: a
commit no longer waits for an fsync, the database cannot be corrupted by a crash, and a power cut may lose
the last events written before it (the data itself lives in the warehouse, and a run is rerun from its
files). A write to a run's database is checkpointed into its file straight away, as closing the last
connection did: the webserver follows a running run's log by watching that file. Only a few run databases
stay open (:data:`OPEN_RUN_DATABASES`): a webserver that shows many runs does not keep a handle per run.

dagster.yaml names it (``event_log_storage``); :func:`local_instance` makes an on-disk instance with it for
the benchmarks' in-process runs.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from dagster._core.storage.sql import create_engine
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import QueuePool

from futuremart.settings import PROJECT_ROOT

# Besides the index database: the run databases whose engines stay open (least recently used one closes).
OPEN_RUN_DATABASES = 4
# Dagster's busy timeout for SQLite (seconds): a second process (the webserver, the daemon) may hold a lock.
BUSY_TIMEOUT_SECONDS = 30
INDEX_SHARD = "index"


def _tune(connection: sqlite3.Connection, _record: Any) -> None:
    connection.execute("pragma synchronous = normal")


class PooledSqliteEventLogStorage(SqliteEventLogStorage):
    """SQLite event log storage (Dagster's layout: a database per run plus the index) over engines kept open.

    Configured in dagster.yaml as::

        event_log_storage:
          module: orchestration.storage
          class: PooledSqliteEventLogStorage
          config:
            base_dir: data/dagster/storage/history/runs
    """

    def __init__(self, base_dir: str, inst_data: dg.ConfigurableClassData | None = None) -> None:
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        self._engines_lock = threading.Lock()
        self._tables_seen: set[str] = set()
        super().__init__(base_dir, inst_data)

    @classmethod
    def from_config_value(  # ty: ignore[invalid-method-override]
        cls, inst_data: dg.ConfigurableClassData | None, config_value: dict[str, Any]
    ) -> PooledSqliteEventLogStorage:
        return cls(inst_data=inst_data, **config_value)

    def _engine(self, shard: str) -> Engine:
        with self._engines_lock:
            engine = self._engines.get(shard)
            if engine is not None:
                self._engines.move_to_end(shard)
                return engine
            engine = create_engine(
                self.conn_string_for_shard(shard),
                poolclass=QueuePool,
                pool_size=1,
                max_overflow=4,
                connect_args={"timeout": BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
            )
            event.listen(engine, "connect", _tune)
            self._engines[shard] = engine
            runs = [name for name in self._engines if name != INDEX_SHARD]
            for name in runs[: max(0, len(runs) - OPEN_RUN_DATABASES)]:
                self._engines.pop(name).dispose()
            return engine

    @contextlib.contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock:
            engine = self._engine(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn:
                raw = conn.connection.dbapi_connection
                changes = raw.total_changes
                with conn.begin():
                    yield conn
                # The webserver follows a run's log by watching its database file (Dagster's watchdog),
                # which a write into the WAL does not touch: copy the run's new events into the file.
                if shard != INDEX_SHARD and raw.total_changes != changes:
                    conn.exec_driver_sql("pragma wal_checkpoint(passive)")

    def has_table(self, table_name: str) -> bool:
        # Asked before storing every asset event's tags (Dagster's builds an engine for it each time). Not
        # under the storage's lock: the caller may hold it. A table, once there, stays.
        if table_name in self._tables_seen:
            return True
        engine = self._engine(INDEX_SHARD)
        with engine.connect() as conn:
            present = bool(engine.dialect.has_table(conn, table_name))
        if present:
            self._tables_seen.add(table_name)
        return present

    def _dispose_engines(self) -> None:
        # Closing an engine's connections checkpoints its database and removes the write-ahead log.
        with self._engines_lock:
            for engine in self._engines.values():
                engine.dispose()
            self._engines.clear()

    def wipe(self) -> None:
        self._dispose_engines()
        self._tables_seen.clear()
        super().wipe()

    def dispose(self) -> None:
        self._dispose_engines()
        super().dispose()


PROJECT_INSTANCE_YAML = PROJECT_ROOT / "dagster.yaml"


def project_instance_yaml(storage_root: Path | str) -> str:
    """The repository's dagster.yaml (``make run``'s and ``make dev``'s instance) with its folders under
    ``storage_root`` instead of ``data/dagster``: for a Dagster home elsewhere (benchmarks, tests)."""
    return PROJECT_INSTANCE_YAML.read_text().replace("data/dagster", os.fspath(storage_root))


def event_log_config(dagster_home: Path | str) -> dict[str, Any]:
    """The ``event_log_storage`` entry of an instance stored in ``dagster_home``, at the folder Dagster's
    default SQLite storage uses there (``history/runs``)."""
    return {
        "module": PooledSqliteEventLogStorage.__module__,
        "class": PooledSqliteEventLogStorage.__name__,
        "config": {"base_dir": os.path.join(os.fspath(dagster_home), "history", "runs")},
    }


@contextlib.contextmanager
def local_instance(dagster_home: Path | str) -> Iterator[dg.DagsterInstance]:
    """An on-disk Dagster instance in ``dagster_home`` (created when missing) with this project's event log,
    for in-process runs (the benchmarks; the CLI uses DAGSTER_HOME's dagster.yaml when set)."""
    Path(dagster_home).mkdir(parents=True, exist_ok=True)
    overrides = {"event_log_storage": event_log_config(dagster_home), "telemetry": {"enabled": False}}
    with dg.DagsterInstance.local_temp(os.fspath(dagster_home), overrides=overrides) as instance:
        yield instance
