"""GDPR/CCPA erasure: remove a customer from every layer, keep them out of every rebuild, and prove it.

What :func:`erase_customers` does for a request (one or more customer ids):

1. **Register** each customer in ``governance.erasure_register`` (customer id, a random anonymous reference,
   the request's hash, who asked, when). The raw loader reads the register on every load
   (:func:`apply_register`), so a rebuild from landing, a re-export or a late file never brings them back.
2. **Raw**: every row of theirs in a table with a customer column (``customer_id``, or the table's entry in
   :data:`SUBJECT_COLUMNS`) is deleted, except in :data:`KEEP_DEIDENTIFIED`: orders and promotion
   redemptions are financial records the retailer must keep (bookkeeping and tax law outrank the right to
   erasure, GDPR art. 17(3)(b)), and so is the profile row they point to, so that revenue, tax and the
   order -> customer keys stay whole. Those rows stay *de-identified*: the customer id becomes the anonymous
   reference (unlinkable to the old id without the register), every personal column is blanked
   (``[erased]`` where the contract requires a value, null otherwise), the birth date is dropped.
3. **Quarantine**: their rejected rows (and whole unreadable lines naming them) are deleted.
4. **Vault**: the clear values behind their tokens are deleted, with the tokens. A token another person
   still carries (a common first name, a shared IP address) is kept: it identifies nobody by itself and the
   other person's record still needs it.
5. **Derived tables** (staging, intermediate, marts, ``ml`` and every other schema but raw, quarantine, the
   vault and the register): rows of an ``ml`` table with their ``customer_id`` are deleted (scores and
   recommendations about a person are personal data through and through); elsewhere their id becomes the
   anonymous reference and their tokens ``[erased]``, in every text column of every table, so nothing waits
   for a rebuild. With ``rebuild=True`` dbt then rebuilds every model from raw (``--full-refresh``: the
   incremental facts must forget the deleted rows too).
6. **Published copies**: every role file is republished (with its leak scan) from the cleaned warehouse.
7. **Proof**: one row per table touched in ``governance.erasure_proofs`` (erasure id, request hash, table,
   action, rows, time). The proof names no customer: the request hash ties it to the request the steward
   keeps, the register to the ids.

The register holds the customer ids in clear on purpose: it is the suppression list the loader needs, the
only place they remain, and readable only by the steward (their published copy). A keyed hash would be lost
at the first rotation of the pseudonymization key, and the erased people would silently come back.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import subprocess
import sys
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from futuremart.audit import record_audit
from futuremart.privacy import FREE_TEXT_CLASS, TOKENIZED_CLASSES, VAULT_SCHEMA
from futuremart.settings import DBT_BUILD_ARGS, DBT_PROJECT_DIR, Settings
from futuremart.vault import Vault, attach_vault, vault_tables

log = logging.getLogger(__name__)

REGISTER_TABLE = "governance.erasure_register"
PROOFS_TABLE = "governance.erasure_proofs"
ERASED_MARKER = "[erased]"
ANONYMOUS_PREFIX = "ERASED-"
# The customer column of raw tables that do not call it customer_id (sign-ins are keyed by account).
SUBJECT_COLUMNS = {"security_login_events": "account_id"}
# Raw tables whose rows of an erased customer stay, de-identified (see the module docstring); the customer
# profile stays because the orders reference it (fct_orders.customer_id -> dim_customer).
KEEP_DEIDENTIFIED = frozenset({"crm_customers", "shop_orders", "marketing_promo_redemptions"})
# Schemas the derived pass leaves alone: the loader's layers and the vault are handled table by table above.
SOURCE_SCHEMAS = frozenset({"raw", "quarantine", VAULT_SCHEMA})
REGISTER_TABLES = frozenset({"erasure_register", "erasure_proofs"})
# Schemas whose rows about a person are deleted, not de-identified: model outputs about individuals.
DELETE_SCHEMAS = frozenset({"ml"})


class ErasureError(ValueError):
    """An erasure request cannot be carried out as given; the message says why and what to do."""


@dataclass(frozen=True)
class TouchedTable:
    table: str  # schema.table, or published/<file>
    action: str  # deleted | deidentified | republished | rebuilt
    rows: int


@dataclass
class ErasureProof:
    """What one erasure request did: its ids, hash and every table touched with row counts."""

    erasure_id: str
    request_hash: str
    customers: int
    erased_at: dt.datetime
    touched: list[TouchedTable] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.touched if t.action in ("deleted", "deidentified"))


def ensure_register(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists governance")
    con.execute(
        f"""create table if not exists {REGISTER_TABLE} (
            customer_id varchar not null primary key,
            anonymous_ref varchar not null,
            erasure_id varchar not null,
            request_hash varchar not null,
            requested_by varchar not null,
            reason varchar,
            registered_at timestamp not null
        )"""
    )
    con.execute(
        f"""create table if not exists {PROOFS_TABLE} (
            erasure_id varchar not null,
            request_hash varchar not null,
            customers integer not null,
            table_name varchar not null,
            action varchar not null,
            rows_affected bigint not null,
            erased_at timestamp not null
        )"""
    )


def read_register(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """``{customer_id: anonymous_ref}`` of every erased customer; empty when nobody was ever erased."""
    exists = con.execute(
        "select count(*) from duckdb_tables() where database_name = current_database() "
        "and schema_name = 'governance' and table_name = 'erasure_register'"
    ).fetchone()[0]
    if not exists:
        return {}
    return dict(con.execute(f"select customer_id, anonymous_ref from {REGISTER_TABLE}").fetchall())


def subject_column(raw_table: str, columns: Iterable[str]) -> str | None:
    """The column naming the customer in ``raw_table`` (given its columns), or ``None``."""
    columns = list(columns)
    name = SUBJECT_COLUMNS.get(raw_table, "customer_id")
    return name if name in columns else None


@dataclass(frozen=True)
class RegisterOutcome:
    """An incoming table after the register was applied: rows dropped and rows de-identified."""

    table: pa.Table
    erased: int = 0
    anonymized: int = 0


def apply_register(
    table: pa.Table, raw_table: str, pii_columns: dict[str, str], required: set[str], register: dict[str, str]
) -> RegisterOutcome:
    """Drop or de-identify the rows of erased customers in an incoming (landed, still clear) table.

    Called by the raw loader *before* pseudonymization, so an erased person's values never reach the vault.
    Tables in :data:`KEEP_DEIDENTIFIED` keep the rows with the anonymous reference and blanked personal
    columns; other tables lose them.
    """
    column = subject_column(raw_table, table.column_names)
    if not register or column is None or table.num_rows == 0:
        return RegisterOutcome(table)
    ids = table.column(column).cast(pa.string())
    erased_ids = pa.array(list(register), pa.string())
    mask = pc.fill_null(pc.is_in(ids, value_set=erased_ids), False)
    hits = pc.sum(mask).as_py() or 0
    if not hits:
        return RegisterOutcome(table)
    if raw_table not in KEEP_DEIDENTIFIED:
        return RegisterOutcome(table.filter(pc.invert(mask)), erased=hits)
    refs = pa.array([register.get(v) for v in ids.to_pylist()], pa.string())
    for name in table.column_names:
        index = table.column_names.index(name)
        values = table.column(name)
        if name == column:
            new = pc.if_else(mask, refs, values.cast(pa.string()))
        elif name in pii_columns:
            blank = ERASED_MARKER if name in required and pii_columns[name] != "birth_date" else None
            new = pc.if_else(mask, pa.scalar(blank, pa.string()), values.cast(pa.string()))
        else:
            continue
        table = table.set_column(index, pa.field(name, pa.string()), new)
    return RegisterOutcome(table, anonymized=hits)


def line_names_erased(text: str, register: dict[str, str]) -> bool:
    """Whether a landed line too broken to parse names an erased customer (as any of its fields)."""
    return any(part in register for part in _fields(text))


def _fields(text: str) -> set[str]:
    out: set[str] = set()
    for sep in (",", '"', ":", " ", "\t", "{", "}", "\\"):
        text = text.replace(sep, "\x00")
    out.update(p for p in text.split("\x00") if p)
    return out


def request_hash(customer_ids: Sequence[str], requested_by: str, reason: str, requested_at: dt.datetime) -> str:
    """SHA-256 of the request as canonical JSON: the steward keeps the request, the proof its hash."""
    body = {
        "customer_ids": sorted(customer_ids),
        "requested_by": requested_by,
        "reason": reason,
        "requested_at": requested_at.isoformat(),
    }
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def erase_customers(
    settings: Settings,
    customer_ids: Sequence[str],
    requested_by: str,
    reason: str,
    *,
    rebuild: bool = True,
    republish: bool = True,
    run_id: str | None = None,
) -> ErasureProof:
    """Erase ``customer_ids`` from the warehouse of ``settings`` (see the module docstring); return the proof.

    ``rebuild`` runs ``dbt build --full-refresh`` afterwards (minutes at full scale; the derived tables are
    already cleaned without it), ``republish`` writes every role's published file again. Needs the warehouse
    to itself (one writer). Raises :class:`ErasureError` for an empty request or an unknown customer.
    """
    ids = sorted({c.strip() for c in customer_ids if c and c.strip()})
    if not ids:
        raise ErasureError("no customer id given: pass at least one --customer-id")
    if not requested_by.strip():
        raise ErasureError("requested_by is empty: say who asked for the erasure (a ticket or a steward)")
    if not settings.warehouse_path.exists():
        raise ErasureError(f"no warehouse at {settings.warehouse_path}: nothing to erase from")
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    digest = request_hash(ids, requested_by, reason, now)
    proof = ErasureProof(str(uuid.uuid4()), digest, len(ids), now)
    with duckdb.connect(str(settings.warehouse_path)) as con:
        con.execute("set enable_progress_bar = false")
        from ingestion.raw_loader import ensure_schemas  # late: the loader imports this module

        ensure_schemas(con)  # a warehouse loaded before the register gets load_audit.rows_erased for dbt
        ensure_register(con)
        _check_known(con, ids)
        attach_vault(con, Vault.from_settings(settings))
        contracts = _contracts()
        _collect_tokens(con, ids, contracts)
        # The vault first: if the warehouse step then fails, a rerun collects the same tokens from raw.
        _erase_vault(con, proof)
        con.execute("begin transaction")
        try:
            register = _register(con, ids, proof, requested_by, reason)
            _erase_sources(con, register, contracts, proof)
            _erase_derived(con, proof)
            _record_proof(con, proof)
            con.execute("commit")
        except Exception:
            con.execute("rollback")
            raise
        record_audit(
            con,
            "erasure",
            "erase_customers",
            actor=requested_by,
            run_id=run_id,
            status="success",
            started_at=now,
            details={
                "erasure_id": proof.erasure_id,
                "request_hash": digest,
                "customers": len(ids),
                "rows": proof.rows,
                "tables": len(proof.touched),
            },
        )
    if rebuild:
        rebuild_derived(settings)
        _append_proof(settings, proof, TouchedTable("dbt:all models", "rebuilt", 0))
    if republish:
        from futuremart.publish import ROLE_COPIES, publish_role

        for role in ROLE_COPIES:
            published = publish_role(
                settings.warehouse_path,
                settings.published_dir,
                role,
                tag=proof.erasure_id,
                run_id=run_id,
                actor=requested_by,
                vault=Vault.from_settings(settings),
            )
            for copy in (published.published, published.vault_copy):
                if copy is not None:
                    _append_proof(
                        settings, proof, TouchedTable(f"published/{copy.path.name}", "republished", copy.rows)
                    )
    # Exported activation audiences lose the customers now, republish or not: they are sent from, not read.
    from futuremart.activation import remove_erased

    removed = remove_erased(settings.published_dir, set(ids), tag=proof.erasure_id)
    _append_proof(settings, proof, TouchedTable("published/activation", "deleted", removed))
    log.info(
        "erasure %s: %d customer(s), %d rows in %d tables", proof.erasure_id, len(ids), proof.rows, len(proof.touched)
    )
    return proof


def _check_known(con: duckdb.DuckDBPyConnection, ids: list[str]) -> None:
    # An id that names nobody is most likely a typo: erasing "nothing" and writing a proof would mislead.
    known = {
        r[0]
        for r in con.execute(
            "select customer_id from raw.crm_customers where customer_id in (select unnest(?)) "
            f"union select customer_id from {REGISTER_TABLE} where customer_id in (select unnest(?))",
            [ids, ids],
        ).fetchall()
    }
    if unknown := sorted(set(ids) - known):
        raise ErasureError(f"unknown customer id(s) {unknown}: not in raw.crm_customers nor already erased")


def _register(
    con: duckdb.DuckDBPyConnection, ids: list[str], proof: ErasureProof, requested_by: str, reason: str
) -> dict[str, str]:
    existing = read_register(con)
    for customer_id in ids:
        if customer_id in existing:
            continue  # erased before: keep their reference, so the rows already de-identified still match
        con.execute(
            f"insert into {REGISTER_TABLE} values (?, ?, ?, ?, ?, ?, ?)",
            [
                customer_id,
                ANONYMOUS_PREFIX + uuid.uuid4().hex[:16],
                proof.erasure_id,
                proof.request_hash,
                requested_by,
                reason,
                proof.erased_at,
            ],
        )
    return {c: r for c, r in read_register(con).items() if c in ids}


def _contracts() -> dict[str, object]:
    from ingestion.contracts import load_contracts

    return {c.raw_table: c for c in load_contracts()}


def _tables(con: duckdb.DuckDBPyConnection, schema: str | None = None) -> list[tuple[str, str]]:
    sql = "select schema_name, table_name from duckdb_tables() where database_name = current_database()"
    params: list[object] = []
    if schema is not None:
        sql += " and schema_name = ?"
        params.append(schema)
    return [tuple(r) for r in con.execute(sql + " order by 1, 2", params).fetchall()]


def _columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> dict[str, str]:
    return dict(
        con.execute(
            "select column_name, data_type from duckdb_columns() where database_name = current_database() "
            "and schema_name = ? and table_name = ?",
            [schema, table],
        ).fetchall()
    )


def _collect_tokens(con: duckdb.DuckDBPyConnection, ids: list[str], contracts: dict[str, object]) -> None:
    """Temp tables, before anything changes: ``erasure_ids``; ``erasure_tokens``, every token the customers
    carry in raw and quarantine (with the tokens of whole unreadable lines naming them); and
    ``erasure_tokens_shared``, those of them that other rows carry too."""
    con.execute("create or replace temp table erasure_ids as select unnest(?::varchar[]) as customer_id", [ids])
    con.execute("create or replace temp table erasure_tokens (token varchar)")
    con.execute("create or replace temp table erasure_tokens_shared (token varchar)")
    con.execute("create or replace temp table erasure_record_tokens (token varchar)")
    for _, table in _tables(con, "raw"):
        contract = contracts.get(table)
        columns = _columns(con, "raw", table)
        column = subject_column(table, columns)
        theirs = f'"{column}" in (select customer_id from erasure_ids)' if column else "false"
        pii = {n: k for n, k in (contract.pii_columns.items() if contract else ()) if n in columns}
        for name, pii_class in pii.items():
            if pii_class in TOKENIZED_CLASSES:
                con.execute(f'insert into erasure_tokens select distinct "{name}" from raw.{table} where {theirs}')
    for _, table in _tables(con, "quarantine"):
        column = SUBJECT_COLUMNS.get(table, "customer_id")
        con.execute(
            f"insert into erasure_tokens select distinct t.value from quarantine.{table} q, "
            f"unnest(json_extract_string(q.record, '$.*')) as t(value) "
            f"where json_extract_string(q.record, '$.{column}') in (select customer_id from erasure_ids)"
        )
        lines = _vault_lines_naming(con, table, ids)
        if lines:
            con.execute("insert into erasure_record_tokens select unnest(?::varchar[])", [lines])
            con.execute("insert into erasure_tokens select unnest(?::varchar[])", [lines])
    con.execute(
        "create or replace temp table erasure_tokens as select distinct token from erasure_tokens where token <> ''"
    )
    # Shared: the same token on a row of someone else (a common first name, an IP address of a household).
    for _, table in _tables(con, "raw"):
        contract = contracts.get(table)
        if contract is None:
            continue
        columns = _columns(con, "raw", table)
        column = subject_column(table, columns)
        others = (
            f'("{column}" is null or "{column}" not in (select customer_id from erasure_ids))' if column else "true"
        )
        for name, pii_class in contract.pii_columns.items():
            if pii_class in TOKENIZED_CLASSES and name in columns:
                con.execute(
                    f'insert into erasure_tokens_shared select distinct "{name}" from raw.{table} '
                    f'where "{name}" in (select token from erasure_tokens) and {others}'
                )
    for _, table in _tables(con, "quarantine"):
        column = SUBJECT_COLUMNS.get(table, "customer_id")
        con.execute(
            f"insert into erasure_tokens_shared select distinct t.value from quarantine.{table} q, "
            f"unnest(json_extract_string(q.record, '$.*')) as t(value) "
            f"where t.value in (select token from erasure_tokens) and coalesce(json_extract_string(q.record, "
            f"'$.{column}'), '') not in (select customer_id from erasure_ids)"
        )


def _erase_vault(con: duckdb.DuckDBPyConnection, proof: ErasureProof) -> None:
    """Delete the clear values of the customers' exclusive tokens from the vault, in its own transaction
    (DuckDB commits one database per transaction). Idempotent: a rerun finds them gone."""
    con.execute("begin transaction")
    try:
        for table in vault_tables(con):
            rows = con.execute(
                f"delete from {VAULT_SCHEMA}.{table} where token in (select token from erasure_tokens) "
                "and token not in (select token from erasure_tokens_shared)"
            ).fetchone()[0]
            if rows:
                proof.touched.append(TouchedTable(f"{VAULT_SCHEMA}.{table}", "deleted", rows))
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise


def _erase_sources(
    con: duckdb.DuckDBPyConnection, register: dict[str, str], contracts: dict[str, object], proof: ErasureProof
) -> None:
    """Raw and quarantine: delete or de-identify the customers' rows (inside the caller's transaction)."""
    con.execute(
        "create or replace temp table erasure_refs as "
        "select unnest(?::varchar[]) as customer_id, unnest(?::varchar[]) as anonymous_ref",
        [list(register), list(register.values())],
    )
    for _, table in _tables(con, "raw"):
        contract = contracts.get(table)
        columns = _columns(con, "raw", table)
        column = subject_column(table, columns)
        if column is None:
            continue
        where = f'"{column}" in (select customer_id from erasure_ids)'
        pii = {n: k for n, k in (contract.pii_columns.items() if contract else ()) if n in columns}
        if table in KEEP_DEIDENTIFIED:
            required = {c.name for c in contract.columns if c.required} if contract else set()
            sets = [f'"{column}" = (select anonymous_ref from erasure_refs r where r.customer_id = "{column}")']
            sets += [f'"{name}" = {_erased_value(pii_class, name in required)}' for name, pii_class in pii.items()]
            rows = con.execute(f"update raw.{table} set {', '.join(sets)} where {where}").fetchone()[0]
            action = "deidentified"
        else:
            rows = con.execute(f"delete from raw.{table} where {where}").fetchone()[0]
            action = "deleted"
        if rows:
            proof.touched.append(TouchedTable(f"raw.{table}", action, rows))
    # Quarantine keeps the original record as JSON; an unreadable line is quarantined as its vault token.
    for _, table in _tables(con, "quarantine"):
        column = SUBJECT_COLUMNS.get(table, "customer_id")
        rows = con.execute(
            f"delete from quarantine.{table} where json_extract_string(record, '$.{column}') in "
            "(select customer_id from erasure_ids) "
            "or record in (select '[record ' || token || ']' from erasure_record_tokens)"
        ).fetchone()[0]
        if rows:
            proof.touched.append(TouchedTable(f"quarantine.{table}", "deleted", rows))


def _erased_value(pii_class: str, required: bool) -> str:
    if pii_class == "birth_date" or not required:
        return "null"
    if pii_class in TOKENIZED_CLASSES or pii_class == FREE_TEXT_CLASS:
        return f"'{ERASED_MARKER}'"
    return "null"


def _vault_lines_naming(con: duckdb.DuckDBPyConnection, table: str, ids: list[str]) -> list[str]:
    """Tokens of whole unreadable lines (vault class ``record``) that name one of ``ids``."""
    if table not in vault_tables(con):
        return []
    lines = con.execute(f"select token, clear_value from {VAULT_SCHEMA}.{table} where pii_class = 'record'").fetchall()
    wanted = set(ids)
    return [token for token, text in lines if _fields(text) & wanted]


def _erase_derived(con: duckdb.DuckDBPyConnection, proof: ErasureProof) -> None:
    """Every table outside raw, quarantine and the vault: delete (``ml``) or de-identify their rows, and blank
    their tokens in every text column, so the warehouse is clean before (or without) a rebuild."""
    # Everywhere: their ids become their references, their exclusive tokens the marker. On their own rows
    # (found by reference once mapped) the shared tokens go too: "John" + "Smith" + a city is a person.
    con.execute(
        "create or replace temp table erasure_map as "
        "select customer_id as value, anonymous_ref as replacement from erasure_refs "
        f"union all select token, '{ERASED_MARKER}' from erasure_tokens "
        "where token not in (select token from erasure_tokens_shared)"
    )
    for schema, table in _tables(con):
        if schema in SOURCE_SCHEMAS or (schema == "governance" and table in REGISTER_TABLES):
            continue
        columns = _columns(con, schema, table)
        relation = f'"{schema}"."{table}"'
        touched = 0
        if schema in DELETE_SCHEMAS and "customer_id" in columns:
            touched += con.execute(
                f"delete from {relation} where customer_id in (select customer_id from erasure_refs)"
            ).fetchone()[0]
            action = "deleted"
        else:
            action = "deidentified"
        for name, data_type in columns.items():
            if data_type != "VARCHAR":
                continue
            # As a substring too: derived keys embed the id (customer_version_key = id + version, visitor_id).
            # One replacement per row and statement, so a value naming two erased customers takes two rounds.
            while changed := con.execute(
                f'update {relation} set "{name}" = replace({relation}."{name}", m.value, m.replacement) '
                f'from erasure_map m where contains({relation}."{name}", m.value)'
            ).fetchone()[0]:
                touched += changed
        if "customer_id" in columns:
            for name, data_type in columns.items():
                if data_type == "VARCHAR" and name != "customer_id":
                    touched += con.execute(
                        f'update {relation} set "{name}" = ? where "{name}" in (select token from erasure_tokens) '
                        "and customer_id in (select anonymous_ref from erasure_refs)",
                        [ERASED_MARKER],
                    ).fetchone()[0]
        if touched:
            proof.touched.append(TouchedTable(f"{schema}.{table}", action, touched))


def _record_proof(con: duckdb.DuckDBPyConnection, proof: ErasureProof) -> None:
    rows = [
        [proof.erasure_id, proof.request_hash, proof.customers, t.table, t.action, t.rows, proof.erased_at]
        for t in proof.touched
    ]
    if rows:
        con.executemany(f"insert into {PROOFS_TABLE} values (?, ?, ?, ?, ?, ?, ?)", rows)


def _append_proof(settings: Settings, proof: ErasureProof, touched: TouchedTable) -> None:
    proof.touched.append(touched)
    with duckdb.connect(str(settings.warehouse_path)) as con:
        con.execute(
            f"insert into {PROOFS_TABLE} values (?, ?, ?, ?, ?, ?, ?)",
            [
                proof.erasure_id,
                proof.request_hash,
                proof.customers,
                touched.table,
                touched.action,
                touched.rows,
                dt.datetime.now(dt.UTC).replace(tzinfo=None),
            ],
        )


def rebuild_derived(settings: Settings, dbt_executable: Path | None = None) -> None:
    """``dbt build --full-refresh`` of every model against the settings' warehouse (incremental facts must
    drop the deleted rows too, which an incremental run would not). Raises on a failed build."""
    dbt = dbt_executable or Path(sys.executable).with_name("dbt")
    env = {**os.environ, **settings.dbt_env()}
    completed = subprocess.run(
        [str(dbt), *DBT_BUILD_ARGS, "--full-refresh", "--quiet", "--profiles-dir", str(DBT_PROJECT_DIR)],
        cwd=DBT_PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise ErasureError(
            "dbt build --full-refresh failed after the erasure (the warehouse is already cleaned; fix dbt and "
            f"run it again):\n{completed.stdout[-4000:]}\n{completed.stderr[-2000:]}"
        )
