"""governance.audit_log: the real materialization of ``built`` recorded every load and every publish."""

import json

import duckdb
import pytest

from futuremart.audit import record_audit
from futuremart.publish import ROLE_COPIES
from ingestion.contracts import load_contracts


def test_a_materialization_records_each_load_and_publish(built):
    run_id = built.result.run_id
    with built.connect() as con:
        rows = con.execute(
            "select event_type, subject, actor, status, started_at, ended_at, details from governance.audit_log "
            "where run_id = ?",
            [run_id],
        ).fetchall()
        rows_in = dict(
            con.execute(
                "select 'raw.' || source_system || '_' || entity, sum(rows_in) from governance.load_audit "
                "where run_id = ? and status = 'loaded' group by 1",
                [run_id],
            ).fetchall()
        )
    loads = {r[1]: r for r in rows if r[0] == "load"}
    publishes = {r[1]: r for r in rows if r[0] == "publish"}
    # One row per entity load (the raw assets of a full build run once each) and per role file.
    assert set(loads) == {f"raw.{c.raw_table}" for c in load_contracts()}
    assert set(publishes) == {f"published/{spec.file_name}" for spec in ROLE_COPIES.values()}
    for _, subject, actor, status, started, ended, _ in [*loads.values(), *publishes.values()]:
        assert actor == "dagster" and status == "success" and started <= ended, subject
    # The details carry the figures of the event, equal to the loaders' own per-file audit.
    for subject, row in loads.items():
        assert json.loads(row[6])["rows_in"] == rows_in.get(subject, 0), subject
    analyst = json.loads(publishes["published/analyst.duckdb"][6])
    assert analyst["rows"] > 0 and analyst["values_scanned"] > 0 and analyst["leak_hits"] == 0
    assert "values_scanned" not in json.loads(publishes["published/steward.duckdb"][6])


def test_unknown_event_types_are_refused():
    with duckdb.connect() as con, pytest.raises(ValueError, match="unknown audit event type"):
        record_audit(con, "export", "marts.fct_orders", actor="someone", status="success")
