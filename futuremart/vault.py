"""The ``pii`` vault in its own encrypted DuckDB file (``<home>/vault/pii.duckdb``).

The clear values behind the tokens are the most sensitive data the platform holds, so they live apart from
the warehouse, in a file encrypted with DuckDB's database encryption (AES-GCM; duckdb 1.5.5 with the httpfs
extension, which brings OpenSSL: without it DuckDB would fall back to an implementation it calls insecure,
see /work/shared/FACTS.md). Without the key the file does not open: not with the DuckDB CLI, not by
attaching it, not with a wrong key.

The vault is attached to a connection as the catalog ``pii``, so ``pii.<raw_table>`` names the same table
whether a legacy warehouse still holds the schema ``pii`` or the vault file is attached. DuckDB commits one
database per transaction: the loader commits the vault first, then raw (a rerun after a failure in between
reloads the file, and the vault's insert skips the tokens it already holds). dbt never reads the vault.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from futuremart.privacy import VAULT_SCHEMA
from futuremart.settings import Settings

log = logging.getLogger(__name__)

# Fixed and public: only for laptops and tests; the warning below says so on first use.
DEVELOPMENT_VAULT_KEY = "futuremart-development-vault-key-do-not-use-in-production"
_warned = False


class VaultError(RuntimeError):
    """The vault cannot be opened (missing extension, wrong key); the message says what to do."""


def httpfs_extension() -> Path:
    """The httpfs extension binary of the pinned ``duckdb-extension-httpfs`` package (DuckDB's signed build)."""
    try:
        import duckdb_extension_httpfs
    except ImportError:
        raise VaultError(
            "the encrypted vault needs the httpfs extension: pip install duckdb-extension-httpfs==" + duckdb.__version__
        ) from None
    path = (
        Path(duckdb_extension_httpfs.__file__).parent
        / "extensions"
        / f"v{duckdb.__version__}"
        / "httpfs.duckdb_extension"
    )
    if not path.exists():
        raise VaultError(f"{path} is missing: duckdb-extension-httpfs must match duckdb {duckdb.__version__}")
    return path


@dataclass(frozen=True)
class Vault:
    """Where the vault file is and the key that opens it (never printed)."""

    path: Path
    key: str = field(repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> Vault:
        global _warned
        key = settings.read_vault_key()
        if key is None:
            if not _warned:
                log.warning(
                    "NO VAULT KEY CONFIGURED: the pii vault is encrypted with the public development key, so "
                    "anyone can open it. Set FUTUREMART_VAULT_KEY_FILE (or FUTUREMART_VAULT_KEY) before "
                    "loading real data."
                )
                _warned = True
            key = DEVELOPMENT_VAULT_KEY
        return cls(settings.vault_path, key)


def attach_vault(
    con: duckdb.DuckDBPyConnection, vault: Vault, *, read_only: bool = False, alias: str = VAULT_SCHEMA
) -> None:
    """Attach the encrypted vault file to ``con`` as catalog ``alias`` (created when missing, unless
    ``read_only``). A warehouse still holding the vault as its schema ``pii`` (built before the vault had its
    own file) has it moved into the file first, then dropped."""
    con.execute(f"load {_literal(str(httpfs_extension()))}")
    attached = {r[0] for r in con.execute("select database_name from duckdb_databases()").fetchall()}
    if alias in attached:
        return
    if not read_only:
        vault.path.parent.mkdir(parents=True, exist_ok=True)
        legacy = _legacy_vault_tables(con) if alias == VAULT_SCHEMA else []
    else:
        legacy = []
    options = f"encryption_key {_literal(vault.key)}" + (", read_only" if read_only else "")
    if legacy:
        # The legacy schema and the catalog would share the name "pii": copy under another alias first.
        con.execute(f"attach {_literal(str(vault.path))} as pii_migration ({options})")
        for table in legacy:
            con.execute(
                f"create table if not exists pii_migration.main.{table} as select * from {VAULT_SCHEMA}.{table} limit 0"
            )
            con.execute(f"insert into pii_migration.main.{table} select * from {VAULT_SCHEMA}.{table}")
        con.execute("detach pii_migration")
        con.execute(f"drop schema {VAULT_SCHEMA} cascade")
        log.warning("moved the legacy pii schema (%d tables) out of the warehouse into %s", len(legacy), vault.path)
    try:
        con.execute(f"attach {_literal(str(vault.path))} as {alias} ({options})")
    except duckdb.Error as err:
        raise VaultError(
            f"cannot open the vault {vault.path}: {err}. Is FUTUREMART_VAULT_KEY(_FILE) the key it was written with?"
        ) from err


def _legacy_vault_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [
        r[0]
        for r in con.execute(
            "select table_name from duckdb_tables() where database_name = current_database() and schema_name = ?",
            [VAULT_SCHEMA],
        ).fetchall()
    ]


def vault_tables(con: duckdb.DuckDBPyConnection, alias: str = VAULT_SCHEMA) -> list[str]:
    """Tables of the attached vault (one per raw table with personal data)."""
    return [
        r[0]
        for r in con.execute(
            "select table_name from duckdb_tables() where database_name = ? order by 1", [alias]
        ).fetchall()
    ]


@contextlib.contextmanager
def connect_with_vault(settings: Settings, *, read_only: bool = True) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection whose default catalog is the warehouse and whose catalog ``pii`` is the vault: the
    steward's way to resolve tokens (``select ... from raw.crm_customers join pii.crm_customers ...``)."""
    with duckdb.connect() as con:
        con.execute("set enable_progress_bar = false")
        ro = " (read_only)" if read_only else ""
        con.execute(f"attach {_literal(str(settings.warehouse_path))} as futuremart{ro}")
        con.execute("use futuremart")
        attach_vault(con, Vault.from_settings(settings), read_only=read_only)
        yield con


def copy_vault(vault: Vault, target: Path) -> dict[str, int]:
    """Write a new encrypted file ``target`` (same key) holding every vault table; return rows per table.
    The caller verifies and renames it (see ``futuremart.publish``)."""
    if target.exists():
        raise VaultError(f"{target} already exists; refusing to overwrite it")
    counts: dict[str, int] = {}
    with duckdb.connect() as con:
        con.execute("set enable_progress_bar = false")
        attach_vault(con, vault, read_only=True, alias="src")
        con.execute(f"attach {_literal(str(target))} as dst (encryption_key {_literal(vault.key)})")
        for table in vault_tables(con, "src"):
            con.execute(f'create table dst.main."{table}" as select * from src.main."{table}"')
            counts[table] = con.execute(f'select count(*) from dst.main."{table}"').fetchone()[0]
        con.execute("detach dst")
    return counts


def vaulted_up_to(vault: Vault) -> dt.datetime | None:
    """The latest ``_vaulted_at`` of the vault (``None`` when it is empty or absent). The loader's stamps never
    only grow and one process at a time writes the vault, so every value vaulted later carries a later
    stamp: a leak scan that matched rows against the vault as of this stamp need match them later only
    against values stamped since (``futuremart.privacy.scan_for_clear_pii``'s ``vault_checked``)."""
    if not vault.path.exists():
        return None
    with duckdb.connect() as con:
        attach_vault(con, vault, read_only=True, alias="v")
        return latest_stamp(con, [f'v.main."{t}"' for t in vault_tables(con, "v")])


def latest_stamp(con: duckdb.DuckDBPyConnection, relations: list[str]) -> dt.datetime | None:
    """The latest ``_vaulted_at`` of the vault tables ``relations`` (qualified names), ``None`` if none."""
    if not relations:
        return None
    return con.execute(
        "select max(stamp) from ("
        + " union all ".join(f"select max(_vaulted_at) as stamp from {r}" for r in relations)
        + ")"
    ).fetchone()[0]


def count_rows(vault: Vault, path: Path | None = None) -> dict[str, int]:
    """Rows per table of the vault at ``path`` (default: the vault's own file), opened with its key."""
    with duckdb.connect() as con:
        attach_vault(con, Vault(path or vault.path, vault.key), read_only=True, alias="v")
        return {t: con.execute(f'select count(*) from v.main."{t}"').fetchone()[0] for t in vault_tables(con, "v")}


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
