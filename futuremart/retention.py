"""Retention: clickstream and security events older than their window are purged, with an audit record.

Behavioural and security logs are kept only as long as they serve their purpose (GDPR art. 5(1)(e), storage
limitation). :func:`purge_expired` deletes, per table of :data:`RETAINED_EVENTS`, the rows whose event time is
before ``as_of - window`` (windows from Settings), in the raw layer and in the incremental models that would
otherwise keep them (the clickstream's staging table, its sessionized events and ``marts.fct_web_events``; the
other web and security models are rebuilt from raw on the next run). The IP addresses in the vault that no
remaining row uses are deleted too. Each table purged gets one ``purge`` row in ``governance.audit_log``
(cutoff, rows deleted).

``as_of`` defaults to the last day of the settings' calendar, not today, so a rebuild of the synthetic world
purges the same rows. Landed files are not touched: a rebuild from landing reloads what was purged (the
landing zone has its own lifecycle rules, as an object store bucket would).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb

from futuremart.audit import record_audit, utcnow
from futuremart.privacy import VAULT_SCHEMA
from futuremart.settings import Settings
from futuremart.vault import Vault, attach_vault, vault_tables

# table -> (event time column, Settings field holding its retention window in days)
RETAINED_EVENTS: dict[str, tuple[str, str]] = {
    "raw.shop_clickstream": ("event_at", "clickstream_retention_days"),
    "staging.stg_shop__clickstream": ("event_at", "clickstream_retention_days"),
    "intermediate.int_web__sessionized_events": ("event_at", "clickstream_retention_days"),
    "marts.fct_web_events": ("event_at", "clickstream_retention_days"),
    "raw.security_login_events": ("attempted_at", "security_retention_days"),
    "raw.security_data_access_events": ("accessed_at", "security_retention_days"),
}


@dataclass(frozen=True)
class Purged:
    table: str
    cutoff: dt.datetime
    rows: int


def purge_expired(
    settings: Settings, as_of: dt.date | None = None, *, actor: str = "retention", run_id: str | None = None
) -> list[Purged]:
    """Delete the events older than their retention window; return what was purged per table (0 rows
    included: the audit says the purge ran). Idempotent."""
    as_of = as_of or settings.last_partition_date
    started = utcnow()
    purged: list[Purged] = []
    with duckdb.connect(str(settings.warehouse_path)) as con:
        present = {f"{s}.{t}" for s, t in con.execute("select schema_name, table_name from duckdb_tables()").fetchall()}
        con.execute("begin transaction")
        try:
            for table, (column, window_field) in RETAINED_EVENTS.items():
                if table not in present:
                    continue
                days = getattr(settings, window_field)
                cutoff = dt.datetime.combine(as_of - dt.timedelta(days=days - 1), dt.time())
                rows = con.execute(f"delete from {table} where {column} < ?", [cutoff]).fetchone()[0]
                purged.append(Purged(table, cutoff, rows))
                record_audit(
                    con,
                    "purge",
                    table,
                    actor=actor,
                    run_id=run_id,
                    status="success",
                    started_at=started,
                    details={"cutoff": cutoff.isoformat(), "retention_days": days, "rows_deleted": rows},
                )
            con.execute("commit")
        except Exception:
            con.execute("rollback")
            raise
        # The vault after raw (one database per transaction): a rerun finds the same unused addresses.
        attach_vault(con, Vault.from_settings(settings))
        in_vault = set(vault_tables(con))
        for table in ("shop_clickstream", "security_login_events"):
            if table in in_vault and f"raw.{table}" in present:
                rows = con.execute(
                    f"delete from {VAULT_SCHEMA}.{table} where column_name = 'ip_address' "
                    f"and token not in (select ip_address from raw.{table} where ip_address is not null)"
                ).fetchone()[0]
                cutoff = next(p.cutoff for p in purged if p.table == f"raw.{table}")
                purged.append(Purged(f"{VAULT_SCHEMA}.{table}", cutoff, rows))
                record_audit(
                    con,
                    "purge",
                    f"{VAULT_SCHEMA}.{table}",
                    actor=actor,
                    run_id=run_id,
                    status="success",
                    started_at=started,
                    details={"cutoff": cutoff.isoformat(), "ip_addresses_no_longer_used": rows},
                )
    return purged
