"""The pii vault is its own encrypted DuckDB file: it opens with its key only, holds the clear values the
warehouse does not, and the steward's published copy is encrypted too. dbt never reads it."""

import json
import logging
import shutil

import duckdb
import pytest

import futuremart.vault as vault_module
from futuremart.settings import DBT_PROJECT_DIR, Settings, SettingsError
from futuremart.vault import DEVELOPMENT_VAULT_KEY, Vault, VaultError, attach_vault, count_rows


def open_with(path, key=None) -> dict[str, int]:
    """Rows per table of an encrypted file opened as a reader would (attach with the key, or without)."""
    with duckdb.connect() as con:
        con.execute(f"load '{vault_module.httpfs_extension()}'")
        option = f" (encryption_key '{key}', read_only)" if key else " (read_only)"
        con.execute(f"attach '{path}' as v{option}")
        tables = [
            r[0] for r in con.execute("select table_name from duckdb_tables() where database_name = 'v'").fetchall()
        ]
        return {t: con.execute(f"select count(*) from v.main.{t}").fetchone()[0] for t in tables}


@pytest.mark.parametrize("which", ["vault", "steward copy"])
def test_the_vault_opens_only_with_its_key(built, tmp_path, which):
    settings = built.settings
    source = settings.vault_path if which == "vault" else settings.published_dir / "steward_vault.duckdb"
    path = tmp_path / "copy.duckdb"  # a copy: a failed open must not leave anything beside the real file
    shutil.copyfile(source, path)
    key = Vault.from_settings(settings).key
    rows = open_with(path, key)
    assert rows["crm_customers"] > 100 and rows["shop_clickstream"] > 100
    assert rows == count_rows(Vault.from_settings(settings))  # the steward's copy holds all of it
    with pytest.raises(duckdb.Error, match="without a key"):
        open_with(path)
    with pytest.raises(duckdb.Error, match="[Ww]rong encryption key"):
        open_with(path, "not-the-key-of-this-vault")
    with pytest.raises(duckdb.Error):
        duckdb.connect(str(path), read_only=True).execute("select 1")
    with pytest.raises(VaultError, match="FUTUREMART_VAULT_KEY"):
        attach_vault(duckdb.connect(), Vault(path, "not-the-key-of-this-vault"), read_only=True)
    # Encrypted, not just unreadable by DuckDB: no clear email of the vault appears in the file's bytes.
    with duckdb.connect() as con:
        attach_vault(con, Vault(path, key), read_only=True, alias="v")
        emails = [
            r[0]
            for r in con.execute(
                "select clear_value from v.main.crm_customers where pii_class = 'email' limit 50"
            ).fetchall()
        ]
    data = path.read_bytes()
    assert len(emails) == 50 and not any(e.encode() in data for e in emails)


def test_the_warehouse_holds_no_vault_and_dbt_does_not_read_it(built):
    with built.connect() as con:
        schemas = {r[0] for r in con.execute("select schema_name from duckdb_tables()").fetchall()}
    assert "pii" not in schemas and {"raw", "marts"} <= schemas
    manifest = json.loads((DBT_PROJECT_DIR / "target" / "manifest.json").read_text())
    assert not [s for s in manifest["sources"].values() if s["schema"] == "pii" or s["source_name"] == "pii"]


def test_the_vault_key_comes_from_a_secret_file_or_a_loud_default(tmp_path, caplog, monkeypatch):
    secret = tmp_path / "vault.key"
    secret.write_text("v" * 32 + "\n")
    settings = Settings.from_env({"FUTUREMART_VAULT_KEY_FILE": str(secret), "FUTUREMART_VAULT_KEY": "x" * 20})
    assert Vault.from_settings(settings).key == "v" * 32
    assert "v" * 32 not in str(settings.describe()) + repr(settings) + repr(Vault.from_settings(settings))
    with pytest.raises(SettingsError, match="at least 16"):
        Settings.from_env({"FUTUREMART_VAULT_KEY": "short"})
    monkeypatch.setattr(vault_module, "_warned", False)
    with caplog.at_level(logging.WARNING, logger="futuremart.vault"):
        assert Vault.from_settings(Settings.from_env({})).key == DEVELOPMENT_VAULT_KEY
        Vault.from_settings(Settings.from_env({}))
    assert len([r for r in caplog.records if "NO VAULT KEY" in r.getMessage()]) == 1
