"""The audit log: one row per run, load, publish, erasure and purge in ``governance.audit_log``.

Who did what to which data, when, and how it ended. Written by small helpers that the loaders, publishers,
erasure and purge call (Dagster-free; the Dagster run id is passed in when there is one). The details column
is JSON with the figures of the event (rows, files, tables); it never holds personal data: the callers pass
counts, hashes and table names, never values.

``event_type``: ``run`` (a Dagster run or a CLI run: start, end, status), ``load`` (one raw entity in one
run), ``publish`` (one role file), ``erasure`` (one request), ``purge`` (one retention purge of one table).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Mapping
from pathlib import Path

import duckdb

AUDIT_LOG_TABLE = "governance.audit_log"
EVENT_TYPES = ("run", "load", "publish", "erasure", "purge")


def ensure_audit_log(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists governance")
    con.execute(
        f"""create table if not exists {AUDIT_LOG_TABLE} (
            audit_id varchar not null primary key,
            event_type varchar not null,
            subject varchar not null,
            actor varchar not null,
            run_id varchar,
            status varchar not null,
            started_at timestamp,
            ended_at timestamp not null,
            details json
        )"""
    )


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def record_audit(
    con: duckdb.DuckDBPyConnection,
    event_type: str,
    subject: str,
    *,
    actor: str,
    status: str,
    run_id: str | None = None,
    started_at: dt.datetime | None = None,
    ended_at: dt.datetime | None = None,
    details: Mapping[str, object] | None = None,
) -> str:
    """Append one audit row through ``con`` (the caller's connection, so it joins the caller's transaction
    when there is one); return its id. ``subject`` names the data (``raw.shop_orders``,
    ``published/analyst.duckdb``), ``actor`` who or what acted (a person, ``dagster``, ``cli``)."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown audit event type {event_type!r}; expected one of {EVENT_TYPES}")
    ensure_audit_log(con)
    audit_id = str(uuid.uuid4())
    con.execute(
        f"insert into {AUDIT_LOG_TABLE} values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            audit_id,
            event_type,
            subject,
            actor,
            run_id,
            status,
            started_at,
            ended_at or utcnow(),
            json.dumps(dict(details or {}), sort_keys=True, default=str),
        ],
    )
    return audit_id


def record_audit_at(warehouse_path: Path, event_type: str, subject: str, **kwargs: object) -> str:
    """:func:`record_audit` through a short connection of its own to ``warehouse_path``."""
    warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(warehouse_path)) as con:
        return record_audit(con, event_type, subject, **kwargs)  # type: ignore[arg-type]
