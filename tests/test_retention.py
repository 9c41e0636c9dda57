"""Retention purge: events older than their window leave raw, the incremental models and the vault, with an
audit record per table; a second purge finds nothing more. On a copy of the ``built`` warehouse and vault."""

import datetime as dt
import json
import shutil

import duckdb

from futuremart.retention import purge_expired
from futuremart.vault import connect_with_vault

EVENT_TABLES = {
    "raw.shop_clickstream": "event_at",
    "staging.stg_shop__clickstream": "event_at",
    "intermediate.int_web__sessionized_events": "event_at",
    "marts.fct_web_events": "event_at",
    "raw.security_login_events": "attempted_at",
    "raw.security_data_access_events": "accessed_at",
}


def counts(con, cutoffs: dict[str, dt.datetime]) -> dict[str, tuple[int, int]]:
    """(rows before the table's cutoff, rows on or after it) per table."""
    out = {}
    for table, column in EVENT_TABLES.items():
        out[table] = con.execute(
            f"select count(*) filter (where {column} < ?), count(*) filter (where {column} >= ?) from {table}",
            [cutoffs[table], cutoffs[table]],
        ).fetchone()
    return out


def test_expired_events_are_purged_with_an_audit_record(built, tmp_path):
    home = tmp_path / "home"
    for folder in ("warehouse", "vault"):
        shutil.copytree(built.settings.home / folder, home / folder)
    settings = built.settings.with_overrides(home=home, clickstream_retention_days=200, security_retention_days=90)
    last = settings.last_partition_date
    click_cutoff = dt.datetime.combine(last - dt.timedelta(days=199), dt.time())
    security_cutoff = dt.datetime.combine(last - dt.timedelta(days=89), dt.time())
    cutoffs = {t: click_cutoff if "click" in t or "web" in t else security_cutoff for t in EVENT_TABLES}
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        before = counts(con, cutoffs)
    assert all(old > 0 and kept > 0 for old, kept in before.values()), before

    purged = {p.table: p for p in purge_expired(settings, actor="test")}

    with connect_with_vault(settings) as con:
        after = counts(con, cutoffs)
        audit = con.execute(
            "select subject, actor, details from governance.audit_log where event_type = 'purge'"
        ).fetchall()
        # No IP address stays in the vault that no remaining event uses.
        orphans = con.execute(
            "select count(*) from pii.shop_clickstream where column_name = 'ip_address' "
            "and token not in (select ip_address from raw.shop_clickstream)"
        ).fetchone()[0]
    assert after == {t: (0, kept) for t, (_, kept) in before.items()}
    for table, (old, _) in before.items():
        assert purged[table].rows == old and purged[table].cutoff == cutoffs[table]
    assert purged["pii.shop_clickstream"].rows > 0 and orphans == 0
    details = {subject: json.loads(d) for subject, actor, d in audit if actor == "test"}
    assert {t: d["rows_deleted"] for t, d in details.items() if t in EVENT_TABLES} == {
        t: old for t, (old, _) in before.items()
    }
    assert "pii.shop_clickstream" in details
    # Idempotent: nothing left to purge, and the second run is audited as well.
    assert all(p.rows == 0 for p in purge_expired(settings, actor="test"))
