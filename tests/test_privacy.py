"""Pseudonymization, the vault, role-scoped published files and the leak scan, on the built warehouse."""

import logging
import re
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest

import futuremart.privacy as privacy
from futuremart.privacy import DEVELOPMENT_KEY, Pseudonymizer, scan_for_clear_pii
from futuremart.publish import ROLE_COPIES, LeakFound, publish_role
from futuremart.settings import Settings, SettingsError
from futuremart.vault import Vault, connect_with_vault
from ingestion.contracts import get_contract
from ingestion.raw_loader import load_entity
from orchestration.defs.publish import LEAK_CHECK, build_published_asset
from orchestration.resources import FutureMartResource

TOKEN = re.compile(r"[0-9a-f]{64}")
CUSTOMERS = get_contract("crm", "customers")
READER_CONFIG = {"enable_external_access": False, "lock_configuration": True}
SCANNED_ROLES = [r for r, spec in ROLE_COPIES.items() if not spec.personal_data]


def open_as_role(path: Path) -> duckdb.DuckDBPyConnection:
    """How a role opens its file: read-only, no access to other files, configuration locked."""
    return duckdb.connect(str(path), read_only=True, config=READER_CONFIG)


def relations(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {f"{s}.{t}" for s, t in con.execute("select schema_name, table_name from duckdb_tables()").fetchall()}


@pytest.mark.parametrize("role", SCANNED_ROLES)
def test_role_files_hold_no_clear_personal_data(built, role):
    path = built.settings.published_dir / ROLE_COPIES[role].file_name
    scan = scan_for_clear_pii(path, vault=Vault.from_settings(built.settings))
    print(f"{role}: {scan.values_scanned} text values in {scan.columns} columns of {scan.tables} tables, 0 hits")
    assert scan.clean, scan.hits
    assert scan.tables > 5 and scan.values_scanned > 1000


def test_the_scan_finds_the_clear_values_the_steward_file_holds(built):
    # The same scan on the steward's copy of the vault must light up for every class: it is not blind.
    vault = Vault.from_settings(built.settings)
    scan = scan_for_clear_pii(built.settings.published_dir / "steward_vault.duckdb", key=vault.key)
    assert {"email", "phone", "ip"} <= {kind for kinds in scan.hits.values() for kind in kinds}
    assert "main.crm_customers.clear_value" in scan.hits


def test_raw_staging_and_marts_hold_tokens_and_the_vault_the_clear_values(built):
    key = Pseudonymizer(DEVELOPMENT_KEY)  # the test build runs without a configured key
    with connect_with_vault(built.settings) as con:
        raw = con.execute(
            "select email, first_name, last_name, phone, street_address from raw.crm_customers"
        ).fetchall()
        assert raw and all(v is None or TOKEN.fullmatch(v) for row in raw for v in row)
        vault = con.execute("select token, pii_class, column_name, clear_value from pii.crm_customers").fetchall()
        assert {c for _, c, _, _ in vault} == {"email", "name", "phone", "address"}
        assert all(key.token(clear, cls) == token for token, cls, _, clear in vault)
        unresolved = con.execute(
            "select count(*) from raw.crm_customers where email not in (select token from pii.crm_customers)"
        ).fetchone()[0]
        assert unresolved == 0
        assert con.execute("select count(*) from pii.shop_clickstream where pii_class = 'ip'").fetchone()[0] > 0
        # Free text: the planted contact details went to the vault, the text keeps a placeholder.
        scrubbed = con.execute(
            "select count(*) from raw.crm_support_conversations where transcript like '%[email]%' "
            "or transcript like '%[phone]%'"
        ).fetchone()[0]
        vaulted = con.execute(
            "select count(*) from pii.crm_support_conversations where column_name = 'transcript'"
        ).fetchone()[0]
        assert scrubbed > 0 and vaulted > 0
        # No text value outside the vault equals a clear value or looks like an email or phone number.
        # (Given and family names alone are left out: surnames are also brand names, "Wilson".)
        clear = (
            "select clear_value from pii.crm_customers where pii_class <> 'name' "
            "union select clear_value from pii.shop_clickstream "
            "union select clear_value from pii.security_login_events "
            "union select clear_value from pii.crm_support_conversations union select clear_value from pii.crm_reviews"
        )
        columns = con.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "where table_schema in ('raw', 'quarantine', 'staging', 'intermediate', 'marts') "
            "and data_type = 'VARCHAR'"
        ).fetchall()
        leaks = {}
        for schema, table, column in columns:
            col = f'"{column}"'
            n = con.execute(
                f'select count(*) from "{schema}"."{table}" where {col} in ({clear}) '
                f"or regexp_matches({col}, ?) or regexp_matches({col}, ?)",
                [privacy.EMAIL_PATTERN, privacy.PHONE_PATTERN],
            ).fetchone()[0]
            if n:
                leaks[f"{schema}.{table}.{column}"] = n
    assert len(columns) > 100
    assert leaks == {}


@pytest.mark.parametrize("role", list(ROLE_COPIES))
def test_each_role_reads_its_tables_and_nothing_else(built, role):
    files = {r: built.settings.published_dir / spec.file_name for r, spec in ROLE_COPIES.items()}
    held = {}
    for other, path in files.items():
        with open_as_role(path) as con:
            held[other] = relations(con)
    others = set().union(*(tables for r, tables in held.items() if r != role)) - held[role]
    assert others, f"every table of the other roles is also in {role}'s file"
    with open_as_role(files[role]) as con:
        for name in sorted(held[role]):
            con.execute(f"select count(*) from {name}").fetchone()
        for name in sorted(others):
            with pytest.raises(duckdb.CatalogException):
                con.execute(f"select count(*) from {name}")
        # No way out of the file: attaching the warehouse or another role's file is refused, and so is
        # turning external access back on.
        for path in (built.settings.warehouse_path, *(p for r, p in files.items() if r != role)):
            with pytest.raises(duckdb.Error):
                con.execute(f"attach '{path}' as other (read_only)")
        with pytest.raises(duckdb.Error):
            con.execute("set enable_external_access = true")
        with pytest.raises(duckdb.Error):
            con.execute("create table marts.scratch as select 1 as x")
        # The vault is in no role's file: the steward gets it as an encrypted file of its own.
        assert not any(name.startswith("pii.") for name in held[role])
    if role == "marketing":
        assert "marts.fct_payments" in others and "marts.agg_email_engagement_daily" in held[role]
    if role == "finance":
        assert "marts.agg_email_engagement_daily" in others and "marts.fct_payments" in held[role]


def test_tokens_are_stable_for_a_key_and_change_with_it(built, tmp_path):
    landing = built.settings.landing_dir

    def load(key: bytes) -> tuple[list, set]:
        with duckdb.connect() as con:
            load_entity(con, CUSTOMERS, landing, pseudonymizer=Pseudonymizer(key))
            tokens = con.execute(
                "select customer_id, updated_at, email, phone from raw.crm_customers order by 1, 2"
            ).fetchall()
            clear = set(con.execute("select pii_class, clear_value from pii.crm_customers").fetchall())
        return tokens, clear

    first, clear_first = load(b"k" * 32)
    again, clear_again = load(b"k" * 32)
    other, clear_other = load(b"another-key-entirely-32-bytes!!!")
    assert first == again and clear_first == clear_again
    assert len(first) > 50 and clear_first == clear_other
    assert all(a[2] != b[2] for a, b in zip(first, other, strict=True))  # every email token changes
    # The build used the development key: the same clear values, other tokens than a real key gives.
    with built.connect() as con:
        built_tokens = con.execute(
            "select customer_id, updated_at, email, phone from raw.crm_customers order by 1, 2"
        ).fetchall()
    assert [r[:2] for r in built_tokens] == [r[:2] for r in first] and built_tokens != first

    # The key comes from a secret file (which wins over the variable), never shows in describe().
    secret = tmp_path / "pii.key"
    secret.write_text("k" * 32 + "\n")
    settings = Settings.from_env({"FUTUREMART_PII_KEY_FILE": str(secret), "FUTUREMART_PII_KEY": "x" * 20})
    assert Pseudonymizer.from_settings(settings) == Pseudonymizer(b"k" * 32)
    assert "k" * 32 not in str(settings.describe()) + repr(settings)
    assert settings.describe()["pii_key_source"] == "file"
    with pytest.raises(SettingsError, match="at least 16"):
        Settings.from_env({"FUTUREMART_PII_KEY": "short"})


def test_without_a_key_the_development_key_is_used_with_a_warning_once(caplog, monkeypatch):
    monkeypatch.setattr(privacy, "_warned_development_key", False)
    with caplog.at_level(logging.WARNING, logger="futuremart.privacy"):
        first = Pseudonymizer.from_settings(Settings.from_env({}))
        Pseudonymizer.from_settings(Settings.from_env({}))
    assert first == Pseudonymizer(DEVELOPMENT_KEY)
    warnings = [r for r in caplog.records if "NO PSEUDONYMIZATION KEY" in r.getMessage()]
    assert len(warnings) == 1


def test_the_scan_catches_a_planted_email_in_a_mart_copy(built, tmp_path):
    copy = tmp_path / "analyst.duckdb"
    shutil.copyfile(built.settings.published_dir / ROLE_COPIES["analyst"].file_name, copy)
    copy.chmod(0o644)
    with duckdb.connect(str(copy)) as con:
        con.execute(
            "update marts.dim_customer set city = 'jane.doe@example.org' where customer_version_key = "
            "(select min(customer_version_key) from marts.dim_customer)"
        )
    scan = scan_for_clear_pii(copy)
    assert scan.hits == {"marts.dim_customer.city": {"email": 1}}
    assert "jane.doe" not in str(scan.examples)  # the report names the leak without repeating it


def test_a_leak_blocks_the_publish_and_keeps_the_previous_file(built, tmp_path):
    # A warehouse copy whose mart carries a clear street address from the vault (no pattern would see it).
    home = tmp_path / "home"
    warehouse = home / "warehouse" / built.settings.warehouse_path.name
    warehouse.parent.mkdir(parents=True)
    shutil.copyfile(built.settings.warehouse_path, warehouse)
    shutil.copytree(built.settings.vault_path.parent, home / "vault")
    vault = Vault.from_settings(built.settings.with_overrides(home=home))
    published = home / "published"
    published.mkdir()
    previous = published / ROLE_COPIES["finance"].file_name
    shutil.copyfile(built.settings.published_dir / previous.name, previous)
    before = previous.read_bytes()
    with connect_with_vault(built.settings) as con:
        street = con.execute("select min(clear_value) from pii.crm_customers where pii_class = 'address'").fetchone()[0]
    with duckdb.connect(str(warehouse)) as con:
        con.execute(
            "update marts.dim_supplier set supplier_name = ? where supplier_id = "
            "(select min(supplier_id) from marts.dim_supplier)",
            [street],
        )

    with pytest.raises(LeakFound) as leak:
        publish_role(warehouse, published, "finance", tag="leaky", vault=vault)
    assert leak.value.scan.hits == {"marts.dim_supplier.supplier_name": {"vault": 1}}

    # The Dagster asset: its blocking check fails and the step fails, the previous file stays byte for byte.
    asset = build_published_asset(ROLE_COPIES["finance"])
    result = dg.materialize([asset], resources={"futuremart": FutureMartResource(home=str(home))}, raise_on_error=False)
    assert not result.success
    checks = result.get_asset_check_evaluations()
    assert [(c.check_name, c.passed) for c in checks] == [(LEAK_CHECK, False)]
    assert checks[0].metadata["hits"].value == 1
    assert previous.read_bytes() == before
    assert sorted(p.name for p in published.iterdir()) == [previous.name]
