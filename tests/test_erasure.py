"""GDPR/CCPA erasure: after erasing customers and rebuilding everything from landing, none of their ids,
clear values or tokens remain anywhere but the erasure register; the proof record exists; loads reconcile.

Works on a copy of the ``built`` data home (other tests read ``built`` itself). One customer is erased with
the CLI, another with the Dagster job; then every table but the register, proofs and audit log is dropped and
the real ``materialize_everything`` job rebuilds the warehouse and the published files from landing.
"""

import re
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from typer.testing import CliRunner

from futuremart.cli import app
from futuremart.erasure import PROOFS_TABLE, REGISTER_TABLE, ErasureError, erase_customers
from futuremart.privacy import Pseudonymizer
from futuremart.publish import ROLE_COPIES
from futuremart.settings import Settings
from futuremart.vault import Vault, attach_vault, connect_with_vault
from ingestion.contracts import get_contract
from ingestion.raw_loader import landed_files
from ingestion.readers import read_extract
from orchestration.definitions import build_definitions
from orchestration.defs.audit import audit_successful_runs
from orchestration.resources import FutureMartResource
from tests.conftest import materialize

KEPT_TABLES = {"erasure_register", "erasure_proofs", "audit_log"}


def pick_customers(con: duckdb.DuckDBPyConnection, n: int) -> list[str]:
    """Customers with orders, reviews, support conversations, web sessions and sign-ins: every layer holds them."""
    return [
        r[0]
        for r in con.execute(
            f"""
            select customer_id from raw.shop_orders
            where customer_id in (select customer_id from raw.crm_reviews)
              and customer_id in (select customer_id from raw.crm_support_conversations)
              and customer_id in (select customer_id from raw.shop_clickstream)
              and customer_id in (select account_id from raw.security_login_events)
            group by 1 order by count(*) desc, 1 limit {n}
            """
        ).fetchall()
    ]


def identifiers_of(settings: Settings, con: duckdb.DuckDBPyConnection, customer_id: str) -> dict[str, str]:
    """What identifies the customer, read before the erasure: their id; every email, phone and street of their
    CRM profile versions as landed (clear) and as tokens; the IP addresses only they used (clear and token).
    Names are left out: a first or last name alone is shared by other customers and identifies nobody."""
    key = Pseudonymizer.from_settings(settings)
    contract = get_contract("crm", "customers")
    found = {"id": customer_id}
    for path in landed_files(contract, settings.landing_dir):
        for row in read_extract(path, contract).table.to_pylist():
            if row["customer_id"] != customer_id:
                continue
            for column, pii_class in (("email", "email"), ("phone", "phone"), ("street_address", "address")):
                if row[column]:
                    found[f"{column}:{row[column]}"] = row[column]
                    found[f"{column} token:{row[column]}"] = key.token(row[column], pii_class)
    ips = con.execute(
        """
        with uses as (
            select customer_id, ip_address from raw.shop_clickstream
            union all select account_id, ip_address from raw.security_login_events
        )
        select ip_address from uses group by 1
        having bool_and(customer_id is not distinct from ?)
        """,
        [customer_id],
    ).fetchall()
    vault = dict(
        con.execute(
            "select token, clear_value from pii.shop_clickstream union all "
            "select token, clear_value from pii.security_login_events"
        ).fetchall()
    )
    for (token,) in ips:
        found[f"ip token:{token}"] = token
        found[f"ip:{vault[token]}"] = vault[token]
    assert len(found) >= 7, found  # id, email, phone, street (clear + token), an IP: the scan has targets
    return found


def find_anywhere(path: Path, needles: dict[str, str], key: str | None = None) -> dict[str, int]:
    """Rows per ``schema.table.column`` of the DuckDB file ``path`` (encrypted with ``key`` if given) whose
    text contains any needle (as a substring: a JSON record, a message or a free text holding it counts too)."""
    pattern = "|".join(re.sub(r"([^A-Za-z0-9])", r"\\\1", v) for v in needles.values())
    hits: dict[str, int] = {}
    with duckdb.connect() as con:
        if key:
            attach_vault(con, Vault(path, key), read_only=True, alias="f")
        else:
            con.execute(f"attach '{path}' as f (read_only)")
        columns = con.execute(
            # Base tables: views over them (staging) hold nothing of their own.
            "select c.schema_name, c.table_name, c.column_name from duckdb_columns() c "
            "join duckdb_tables() t using (database_name, schema_name, table_name) "
            "where c.database_name = 'f' and c.data_type in ('VARCHAR', 'JSON') and not c.internal"
        ).fetchall()
        for schema, table, column in columns:
            n = con.execute(
                f'select count(*) from f."{schema}"."{table}" where regexp_matches("{column}"::varchar, ?)', [pattern]
            ).fetchone()[0]
            if n:
                hits[f"{schema}.{table}.{column}"] = n
    return hits


def everywhere(settings: Settings, needles: dict[str, str]) -> dict[str, int]:
    """Hits in the warehouse, the vault and every published file, except in the erasure register."""
    key = Vault.from_settings(settings).key
    files = [settings.warehouse_path, settings.vault_path, *sorted(settings.published_dir.glob("*.duckdb"))]
    assert len(files) == 2 + len(ROLE_COPIES) + 1  # every role's file and the steward's copy of the vault
    hits = {}
    for path in files:
        encrypted = path == settings.vault_path or path.name.endswith("_vault.duckdb")
        for name, n in find_anywhere(path, needles, key if encrypted else None).items():
            if name != f"{REGISTER_TABLE}.customer_id":
                hits[f"{path.name}:{name}"] = n
    return hits


@pytest.fixture(scope="module")
def erased_home(built, tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("erased_home")
    for folder in ("warehouse", "vault", "landing", "truth", "published"):
        shutil.copytree(built.settings.home / folder, home / folder)
    return home


def test_erase_then_rebuild_from_landing_leaves_no_trace(built, erased_home, monkeypatch):
    settings = built.settings.with_overrides(home=erased_home)
    with connect_with_vault(settings) as con:
        first, second = pick_customers(con, 2)
        needles = {**identifiers_of(settings, con, first), **identifiers_of(settings, con, second)}
        orders_before = dict(
            con.execute(
                "select customer_id, count(*) from marts.fct_orders where customer_id in (?, ?) group by 1",
                [first, second],
            ).fetchall()
        )
        revenue_before = con.execute("select sum(order_total) from marts.fct_orders").fetchone()[0]
    assert everywhere(settings, needles), "the scan must find the customers before they are erased"

    # 1. The CLI erases the first customer (without the dbt rebuild: the derived tables are cleaned directly).
    monkeypatch.setenv("FUTUREMART_HOME", str(erased_home))
    cli = CliRunner().invoke(
        app,
        ["erase", "--customer-id", first, "--requested-by", "steward: ticket 1", "--reason", "art. 17", "--no-rebuild"],
    )
    assert cli.exit_code == 0, cli.output
    assert "raw.shop_orders" in cli.output and "published/analyst.duckdb" in cli.output

    # 2. The Dagster job erases the second, with its request as run config.
    resource = FutureMartResource(home=str(erased_home))
    defs = build_definitions(resource)
    instance = dg.DagsterInstance.ephemeral()
    job = defs.resolve_job_def("erase_customers").execute_in_process(
        instance=instance,
        run_config={
            "ops": {
                "apply_erasure_request": {
                    "config": {"customer_ids": [second], "requested_by": "steward: ticket 2", "rebuild": False}
                }
            }
        },
    )
    assert job.success
    # The daemon's run status sensor records the run in the audit log (evaluated here as the daemon would).
    success = next(e for e in job.all_events if e.event_type_value == "PIPELINE_SUCCESS")
    audit_successful_runs(
        dg.build_run_status_sensor_context(
            sensor_name="audit_successful_runs",
            dagster_event=success,
            dagster_instance=instance,
            dagster_run=job.dagster_run,
            resources={"futuremart": resource},
        )
    )

    # In place: gone from every table of the warehouse and every published file, financial facts kept.
    assert everywhere(settings, needles) == {}
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        refs = dict(con.execute(f"select customer_id, anonymous_ref from {REGISTER_TABLE}").fetchall())
        assert set(refs) == {first, second}
        proofs = con.execute(
            f"select erasure_id, request_hash, table_name, action, rows_affected from {PROOFS_TABLE}"
        ).fetchall()
        revenue_after = con.execute("select sum(order_total) from marts.fct_orders").fetchone()[0]
    assert len({p[0] for p in proofs}) == 2 and all(len(p[1]) == 64 for p in proofs)
    touched = {(p[2], p[3]) for p in proofs}
    assert {("raw.shop_orders", "deidentified"), ("raw.crm_reviews", "deleted")} <= touched
    assert any(t.startswith("pii.") for t, _ in touched) and ("published/steward.duckdb", "republished") in touched
    assert all(p[4] > 0 for p in proofs if p[3] in ("deleted", "deidentified"))
    assert revenue_after == revenue_before

    # 3. Rebuild everything from landing: only the register, the proofs and the audit log survive.
    with duckdb.connect(str(settings.warehouse_path)) as con:
        for (schema,) in con.execute("select schema_name from duckdb_schemas() where not internal").fetchall():
            if schema not in ("governance", "main"):
                con.execute(f'drop schema "{schema}" cascade')
        for (table,) in con.execute(
            "select table_name from duckdb_tables() where schema_name = 'governance'"
        ).fetchall():
            if table not in KEPT_TABLES:
                con.execute(f"drop table governance.{table}")
        for (view,) in con.execute(
            "select view_name from duckdb_views() where schema_name = 'governance' and not internal"
        ).fetchall():
            con.execute(f"drop view governance.{view}")
    for path in [settings.vault_path, *settings.published_dir.glob("*.duckdb")]:
        path.unlink()
    rebuilt = materialize(erased_home, seed=settings.seed, scale=settings.scale_factor)
    assert rebuilt.result.success

    assert everywhere(settings, needles) == {}
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        # The loader dropped their personal records on purpose and says so; every load still reconciles.
        erased = con.execute("select sum(rows_erased), sum(rows_anonymized) from governance.load_audit").fetchone()
        assert erased[0] > 0 and erased[1] > 0
        assert con.execute("select bool_and(is_reconciled) from governance.gov_load_reconciliation").fetchone()[0]
        # Their orders are still there, under the anonymous reference the register gave them.
        orders_after = dict(
            con.execute(
                "select customer_id, count(*) from marts.fct_orders where customer_id in (?, ?) group by 1",
                [refs[first], refs[second]],
            ).fetchall()
        )
        assert orders_after == {refs[c]: n for c, n in orders_before.items()}
        assert con.execute("select sum(order_total) from marts.fct_orders").fetchone()[0] == revenue_before
        assert con.execute(f"select count(*) from {PROOFS_TABLE} where rows_affected > 0").fetchone()[0] > 10
        events = dict(con.execute("select event_type, count(*) from governance.audit_log group by 1").fetchall())
        run = con.execute(
            "select subject, status, started_at <= ended_at, details->>'steps_succeeded' from governance.audit_log "
            "where event_type = 'run' and run_id = ?",
            [job.run_id],
        ).fetchall()
    assert run == [("erase_customers", "success", True, "1")]
    assert events["erasure"] == 2 and events["load"] >= 32 and events["publish"] >= 8


def test_an_unknown_customer_is_refused(built, erased_home):
    settings = built.settings.with_overrides(home=erased_home)
    with pytest.raises(ErasureError, match="unknown customer"):
        erase_customers(settings, ["C9999999"], "steward", "typo", rebuild=False, republish=False)
