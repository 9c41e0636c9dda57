"""Load landed extracts into the ``raw`` schema through their contracts, with quarantine and audit.

For each file: read it as text (``ingestion.readers``), type and check every row against the contract in one
SQL pass, then, in one transaction, replace that file's rows in ``raw.<table>``, its rejects in
``quarantine.<table>`` (with reasons, file and line) and append a row to ``governance.load_audit``.
Every load reconciles: ``rows_in = rows_loaded + rows_quarantined + rows_erased``, where ``rows_erased``
counts the rows of customers in the erasure register that were dropped (``futuremart.erasure``; the rows
kept de-identified are counted as loaded and in ``rows_anonymized``). A file already loaded with the same
content (by SHA-256, under any path) is skipped, so re-running a load or landing a file twice loads it once.

Personal data never gets past this module in clear: before any check, the columns a contract classes as
email, name, phone, address or IP are replaced by keyed tokens and free text is scrubbed of emails and phone
numbers (``futuremart.privacy``); the clear values go, in the same transaction, to the vault
``pii.<table>`` (token, class, column, clear value, first file). Raw, quarantine and everything built from
them hold tokens only; a line too broken to split into fields is vaulted whole and quarantined as a token.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from futuremart.audit import record_audit, utcnow
from futuremart.erasure import apply_register, line_names_erased, read_register
from futuremart.privacy import (
    FREE_TEXT_CLASS,
    TOKENIZED_CLASSES,
    VAULT_SCHEMA,
    Pseudonymizer,
    pseudonymize_table,
)
from futuremart.settings import Settings
from futuremart.vault import Vault, attach_vault, latest_stamp
from ingestion.contracts import Column, EntityContract
from ingestion.readers import LINE_COLUMN, read_extract

FILE_COLUMN = "_source_file"

AUDIT_TABLE = "governance.load_audit"
_PARTITION = re.compile(r"dt=(\d{4}-\d{2}-\d{2})")
# Vault class of a whole landed line that could not be split into fields (it may hold anything).
UNREADABLE_RECORD_CLASS = "record"
# Written next to a rejected file so whoever looks at the landing zone sees why it was not loaded;
# removed when a later load of that path succeeds.
REJECTED_MARKER_SUFFIX = ".REJECTED.txt"
# Quarantine reason of every record of a file rejected for its columns (followed by the rejection message).
FILE_REJECTED_REASON = "file_rejected"
# Internal column of the incoming extract: the rejection of its file, null for a file that loads.
REJECTION_COLUMN = "_file_rejection"


def rejected_marker(path: Path) -> Path:
    return path.with_name(path.name + REJECTED_MARKER_SUFFIX)


class SchemaContractError(ValueError):
    """A landed file lacks a column its contract requires; the file is rejected, nothing is loaded."""


@dataclass(frozen=True)
class FileLoad:
    file: str
    partition: str | None
    status: str  # loaded | skipped_unchanged | duplicate_file | rejected
    rows_in: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    columns_added: tuple[str, ...] = ()
    message: str = ""
    # Rows of customers in the erasure register: dropped (erased) or kept de-identified (anonymized, and
    # then counted in rows_loaded or rows_quarantined too). rows_in = loaded + quarantined + erased.
    rows_erased: int = 0
    rows_anonymized: int = 0


@dataclass(frozen=True)
class _PendingFile:
    file: str
    partition: str | None
    digest: str
    table: pa.Table
    rows_in: int
    added: tuple[str, ...]
    unreadable: list[tuple[str, int | None, str, str]]
    vault: pa.Table | None = None
    erased: int = 0
    anonymized: int = 0
    rejection: str | None = None  # the quarantine reason of every row of a rejected file


@dataclass
class EntityLoad:
    contract: EntityContract
    files: list[FileLoad] = field(default_factory=list)

    def total(self, attr: str) -> int:
        return sum(getattr(f, attr) for f in self.files)

    @property
    def rejected(self) -> list[FileLoad]:
        return [f for f in self.files if f.status == "rejected"]


def ensure_schemas(con: duckdb.DuckDBPyConnection) -> None:
    # The vault is its own encrypted file (futuremart.vault), attached as catalog "pii"; only a loader given
    # no vault (unit tests on an in-memory database) keeps it as a schema of the same database.
    for schema in ("raw", "quarantine", "governance"):
        con.execute(f"create schema if not exists {schema}")
    con.execute(
        f"""
        create table if not exists {AUDIT_TABLE} (
            load_id varchar not null,
            run_id varchar,
            source_system varchar not null,
            entity varchar not null,
            partition_date date,
            file varchar not null,
            file_sha256 varchar not null,
            status varchar not null,
            rows_in bigint not null,
            rows_loaded bigint not null,
            rows_quarantined bigint not null,
            columns_added varchar,
            message varchar,
            loaded_at timestamp not null,
            rows_erased bigint not null default 0,
            rows_anonymized bigint not null default 0
        )
        """
    )
    # Warehouses built before the erasure register: the columns are appended (existing rows: 0).
    for column in ("rows_erased", "rows_anonymized"):
        con.execute(f"alter table {AUDIT_TABLE} add column if not exists {column} bigint default 0")


def landed_files(
    contract: EntityContract, landing_dir: Path, dates: tuple[dt.date, dt.date] | None = None
) -> list[Path]:
    """Landed files of an entity in partition order; with ``dates``, only partitions in [first, last]."""
    files = sorted((landing_dir / contract.landing_subdir).glob(f"dt=*/{contract.file_name}"))
    if dates is None:
        return files
    first, last = (d.isoformat() for d in dates)
    return [f for f in files if first <= f.parent.name.removeprefix("dt=") <= last]


def load_entity(
    con: duckdb.DuckDBPyConnection,
    contract: EntityContract,
    landing_dir: Path,
    run_id: str | None = None,
    dates: tuple[dt.date, dt.date] | None = None,
    pseudonymizer: Pseudonymizer | None = None,
    strict: bool = True,
    vault: Vault | None = None,
    chunk_rows: int | None = None,
) -> EntityLoad:
    """Load the landed files of ``contract``'s entity (those of partitions ``dates``, default all) that are
    not loaded yet (see :func:`load_files`)."""
    paths = landed_files(contract, landing_dir, dates)
    return load_files(con, contract, paths, landing_dir, run_id, pseudonymizer, strict, vault, chunk_rows)


def is_personal(contract: EntityContract) -> bool:
    """Whether the loader pseudonymizes or scrubs some column of ``contract``."""
    return any(c in TOKENIZED_CLASSES or c == FREE_TEXT_CLASS for c in contract.pii_columns.values())


def load_files(
    con: duckdb.DuckDBPyConnection,
    contract: EntityContract,
    paths: list[Path],
    landing_dir: Path,
    run_id: str | None = None,
    pseudonymizer: Pseudonymizer | None = None,
    strict: bool = True,
    vault: Vault | None = None,
    chunk_rows: int | None = None,
) -> EntityLoad:
    """Load ``paths`` (files of one entity); idempotent (see the module docstring).

    Files load in chunks of whole files, each chunk in one transaction with its files' audit rows, so memory
    stays bounded by ``chunk_rows`` (default: the settings' ``load_chunk_rows``) whatever the history's size.
    A crash leaves whole files loaded and audited or not at all; the rerun skips the loaded ones by hash.

    Files whose header lacks a required column are rejected: audited, marked in landing with a
    ``<file>.REJECTED.txt`` beside them, never deleted, and every record of them goes to quarantine with the
    reason ``file_rejected: <message>`` (the columns the contract knows, pseudonymized like any record), so
    the file reconciles (rows in = rows quarantined) and the keys it held back are known to the warehouse
    (dbt's ``*_or_quarantined`` tests explain orphans by them). A fixed re-export of the same path replaces
    them. The other files still load. Then, when ``strict``,
    a :class:`SchemaContractError` naming every rejected file is raised; otherwise the caller reads
    :attr:`EntityLoad.rejected` (the pipeline reports them as a failed check and goes on).
    ``pseudonymizer`` holds the key of the tokens; by default the one the settings (the environment) configure.
    ``vault`` is the encrypted vault file the clear values go to (the pipeline passes the settings' one); without
    it they go to the schema ``pii`` of ``con`` itself.
    """
    if chunk_rows is None:
        chunk_rows = Settings.from_env().load_chunk_rows
    if pseudonymizer is None and is_personal(contract):
        pseudonymizer = Pseudonymizer.from_settings(Settings.from_env())
    if vault is not None and is_personal(contract):
        attach_vault(con, vault)
    ensure_schemas(con)
    started = utcnow()
    result = EntityLoad(contract)
    # Customers erased on request (governance.erasure_register) never come back from landing.
    register = read_register(con)
    required = {c.name for c in contract.columns if c.required}
    loaded_digests = dict(
        con.execute(
            f"select file_sha256, min(file) from {AUDIT_TABLE} where status = 'loaded' "
            "and source_system = ? and entity = ? group by 1",
            [contract.source_system, contract.entity],
        ).fetchall()
    )
    batch: list[_PendingFile] = []
    for path in paths:
        rel = path.relative_to(landing_dir).as_posix()
        match = _PARTITION.search(rel)
        partition = match.group(1) if match else None
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest in loaded_digests:
            same = loaded_digests[digest] == rel
            outcome = FileLoad(
                rel,
                partition,
                "skipped_unchanged" if same else "duplicate_file",
                message=f"same content as {loaded_digests[digest]}",
            )
            if not same:
                _audit(con, contract, outcome, digest, run_id)
            result.files.append(outcome)
            continue
        loaded_digests[digest] = rel  # the same content twice in one batch loads once
        read = read_extract(path, contract)
        header = [c for c in read.table.column_names if c != LINE_COLUMN]
        missing = [c.name for c in contract.columns if c.required and c.name not in header]
        if missing:
            message = (
                f"{rel}: required column(s) {', '.join(missing)} of contract {contract.source_system}.yml "
                f"entity '{contract.entity}' missing (file has: {', '.join(header)}). The file stays in "
                f"landing unloaded, its records held in quarantine.{contract.raw_table}; fix the export or the "
                "contract, then re-run the load."
            )
            rejected_marker(path).write_text(message + "\n")
            del loaded_digests[digest]
        declared = set(contract.column_names)
        # A rejected file loads nothing: only the columns its contract knows go to quarantine (a renamed
        # column's values stay in landing: the contract cannot say whether they are personal data).
        added = () if missing else tuple(c for c in header if c not in declared)
        table = read.table
        if missing:
            table = table.select([c for c in table.column_names if c in declared or c == LINE_COLUMN])
        for col in contract.columns:  # optional columns absent from this file load as nulls
            if col.name not in header:
                table = table.append_column(col.name, pa.nulls(table.num_rows, pa.string()))
        unreadable = [(rel, r.line, r.reason, r.text) for r in read.unreadable]
        erased = anonymized = 0
        if register:
            applied = apply_register(table, contract.raw_table, contract.pii_columns, required, register)
            table, erased, anonymized = applied.table, applied.erased, applied.anonymized
            kept = [u for u in unreadable if not line_names_erased(u[3], register)]
            erased += len(unreadable) - len(kept)
            unreadable = kept
        vault = None
        if pseudonymizer is not None:
            personal = pseudonymize_table(table, contract.pii_columns, pseudonymizer)
            table = personal.table
            for i, (file, line, reason, text) in enumerate(unreadable):
                token = pseudonymizer.token(text, UNREADABLE_RECORD_CLASS)
                personal.vault.append((token, UNREADABLE_RECORD_CLASS, "_record", text))
                unreadable[i] = (file, line, reason, f"[record {token}]")
            vault = personal.vault_table(rel)
        table = table.append_column(FILE_COLUMN, pa.array([rel] * table.num_rows, pa.string()))
        rejection = f"{FILE_REJECTED_REASON}: {message}" if missing else None
        table = table.append_column(REJECTION_COLUMN, pa.array([rejection] * table.num_rows, pa.string()))
        batch.append(
            _PendingFile(
                rel, partition, digest, table, read.rows_in, added, unreadable, vault, erased, anonymized, rejection
            )
        )
        if sum(pending.table.num_rows for pending in batch) >= chunk_rows:
            _flush(con, contract, batch, landing_dir, run_id, result)
            batch = []

    _flush(con, contract, batch, landing_dir, run_id, result)
    _audit_load(con, contract, result, run_id, started)
    if result.rejected and strict:
        raise SchemaContractError("\n".join(f.message for f in result.rejected))
    return result


def _flush(
    con: duckdb.DuckDBPyConnection,
    contract: EntityContract,
    batch: list[_PendingFile],
    landing_dir: Path,
    run_id: str | None,
    result: EntityLoad,
) -> None:
    if not batch:
        return
    result.files.extend(_load_batch(con, contract, batch, run_id))
    for pending in batch:
        if pending.rejection is None:
            rejected_marker(landing_dir / pending.file).unlink(missing_ok=True)


def _load_batch(
    con: duckdb.DuckDBPyConnection, contract: EntityContract, batch: list[_PendingFile], run_id: str | None
) -> list[FileLoad]:
    added = tuple(dict.fromkeys(c for pending in batch for c in pending.added))
    table = pa.concat_tables([pending.table for pending in batch], promote_options="default")
    unreadable = [u for pending in batch for u in pending.unreadable]
    files = [pending.file for pending in batch]
    load_id = str(uuid.uuid4())
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    vaults = [pending.vault for pending in batch if pending.vault is not None]
    separate_vault = _vault_attached(con)
    if vaults and separate_vault:
        # One database per transaction: the vault commits first. If raw then fails, nothing references the
        # new tokens yet, and the rerun's insert skips the ones already vaulted.
        con.execute("begin transaction")
        try:
            _vault(con, contract, pa.concat_tables(vaults), now)
            con.execute("commit")
        except Exception:
            con.execute("rollback")
            raise
    con.execute("begin transaction")
    try:
        _ensure_tables(con, contract, added)
        con.register("incoming_extract", table)
        text_columns = {f.name for f in table.schema if pa.types.is_string(f.type)}
        con.execute(_checked_sql(contract, added, text_columns))
        con.unregister("incoming_extract")
        # Every record of a rejected file is held back for that one reason (not the missing column's
        # missing_required on each row): the file, not the row, broke the contract.
        con.execute(f"update checked_extract set reasons = [{REJECTION_COLUMN}] where {REJECTION_COLUMN} is not null")
        con.execute(f"delete from raw.{contract.raw_table} where _source_file in (select unnest(?))", [files])
        con.execute(f"delete from quarantine.{contract.raw_table} where _source_file in (select unnest(?))", [files])
        out_cols = ", ".join(f'"{c}"' for c in (*contract.column_names, *added))
        con.execute(
            f"insert into raw.{contract.raw_table} ({out_cols}, _source_file, _source_line, _load_id, _loaded_at) "
            f"select {out_cols}, {FILE_COLUMN}, {LINE_COLUMN}, ?, ? from checked_extract "
            f"where len(reasons) = 0 order by {FILE_COLUMN}, {LINE_COLUMN}",
            [load_id, now],
        )
        con.execute(
            f"insert into quarantine.{contract.raw_table} "
            f"select {FILE_COLUMN}, {LINE_COLUMN}, array_to_string(reasons, '; '), "
            f"{_record_json(contract, added)}, ?, ? "
            f"from checked_extract where len(reasons) > 0 order by {FILE_COLUMN}, {LINE_COLUMN}",
            [load_id, now],
        )
        if unreadable:
            con.executemany(
                f"insert into quarantine.{contract.raw_table} values (?, ?, ?, ?, ?, ?)",
                [[*u, load_id, now] for u in unreadable],
            )
        counts = dict(
            (f, (ok, bad))
            for f, ok, bad in con.execute(
                f"select {FILE_COLUMN}, count(*) filter (where len(reasons) = 0), "
                f"count(*) filter (where len(reasons) > 0) from checked_extract group by 1"
            ).fetchall()
        )
        outcomes = []
        for pending in batch:
            ok, bad = counts.get(pending.file, (0, 0))
            if pending.rejection is not None:
                message = pending.rejection.removeprefix(f"{FILE_REJECTED_REASON}: ")
            else:
                message = f"added column(s): {', '.join(pending.added)}" if pending.added else ""
            outcome = FileLoad(
                pending.file,
                pending.partition,
                "loaded" if pending.rejection is None else "rejected",
                pending.rows_in,
                ok,
                bad + len(pending.unreadable),
                pending.added,
                message=message,
                rows_erased=pending.erased,
                rows_anonymized=pending.anonymized,
            )
            _audit(con, contract, outcome, pending.digest, run_id, load_id=load_id, loaded_at=now)
            outcomes.append(outcome)
        con.execute("drop table checked_extract")
        if vaults and not separate_vault:
            _vault(con, contract, pa.concat_tables(vaults), now)
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return outcomes


def _vault(con: duckdb.DuckDBPyConnection, contract: EntityContract, entries: pa.Table, now: dt.datetime) -> None:
    """Add the clear values behind new tokens to ``pii.<table>``; a token already vaulted for that column is
    kept as it is (its first file stays recorded)."""
    vault = f"{VAULT_SCHEMA}.{contract.raw_table}"
    # Its own table per raw table (not a column of raw): the same name whether "pii" is the attached
    # encrypted vault (catalog) or, without one, a schema of the loader's database.
    if not _vault_attached(con):
        con.execute(f"create schema if not exists {VAULT_SCHEMA}")
    con.execute(
        f"""create table if not exists {vault} (
            token varchar not null,
            pii_class varchar not null,
            column_name varchar not null,
            clear_value varchar not null,
            _source_file varchar not null,
            _vaulted_at timestamp not null
        )"""
    )
    con.register("incoming_vault", entries)
    con.execute(
        f"""insert into {vault}
            select distinct on (token, column_name) token, pii_class, column_name, clear_value, _source_file, ?
            from incoming_vault as incoming
            where not exists (
                select 1 from {vault} as v where v.token = incoming.token and v.column_name = incoming.column_name
            )
            order by token, column_name, _source_file""",
        [_vault_stamp(con, now)],
    )
    con.unregister("incoming_vault")


def _vault_stamp(con: duckdb.DuckDBPyConnection, now: dt.datetime) -> dt.datetime:
    """``now``, or just after the vault's latest stamp if the clock reads no later: stamps grow from one load
    to the next. The leak scan of a published copy matches the rows it kept against the values vaulted since
    the copy's last scan (``futuremart.publish``), so a load stamped before that scan would be missed."""
    tables = con.execute(
        "select database_name, schema_name, table_name from duckdb_tables() where (database_name = ? "
        "and schema_name = 'main') or (schema_name = ? and database_name = current_database())",
        [VAULT_SCHEMA, VAULT_SCHEMA],
    ).fetchall()
    latest = latest_stamp(con, [f'"{d}"."{s}"."{t}"' for d, s, t in tables])
    return max(now, latest + dt.timedelta(microseconds=1)) if latest is not None else now


def _vault_attached(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(
        con.execute("select count(*) from duckdb_databases() where database_name = ?", [VAULT_SCHEMA]).fetchone()[0]
    )


def _ensure_tables(con: duckdb.DuckDBPyConnection, contract: EntityContract, added: tuple[str, ...]) -> None:
    cols = ",\n".join(f'"{c.name}" {c.type}' for c in contract.columns)
    con.execute(
        f"""create table if not exists raw.{contract.raw_table} (
            {cols},
            _source_file varchar not null,
            _source_line bigint,
            _load_id varchar not null,
            _loaded_at timestamp not null
        )"""
    )
    existing = {
        r[0]
        for r in con.execute(
            "select column_name from information_schema.columns where table_schema = 'raw' and table_name = ?",
            [contract.raw_table],
        ).fetchall()
    }
    for name in added:  # schema drift: an added column is kept as text and reported
        if name not in existing:
            con.execute(f'alter table raw.{contract.raw_table} add column "{name}" varchar')
    con.execute(
        f"""create table if not exists quarantine.{contract.raw_table} (
            _source_file varchar not null,
            _source_line bigint,
            reason varchar not null,
            record varchar,
            _load_id varchar not null,
            quarantined_at timestamp not null
        )"""
    )


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _column_checks(col: Column) -> list[str]:
    raw, typed = f'"{col.name}__raw"', f'"{col.name}"'
    checks = []
    if col.required:
        checks.append(f"case when {raw} is null then 'missing_required: {col.name}' end")
    if col.type != "varchar":
        checks.append(
            f"case when {raw} is not null and {typed} is null then 'malformed: {col.name} is not {col.type}' end"
        )
    if col.accepted_values:
        values = ", ".join(_quote(v) for v in col.accepted_values)
        checks.append(f"case when {typed} not in ({values}) then 'unexpected_value: {col.name}' end")
    if col.min is not None:
        checks.append(f"case when {typed} < {col.min} then 'out_of_range: {col.name} < {col.min}' end")
    if col.max is not None:
        checks.append(f"case when {typed} > {col.max} then 'out_of_range: {col.name} > {col.max}' end")
    return checks


def _record_json(contract: EntityContract, added: tuple[str, ...]) -> str:
    """SQL for the original record as JSON text (kept with every quarantined row)."""
    fields = [f'{_quote(c)}: "{c}__raw"' for c in contract.column_names]
    fields += [f'{_quote(c)}: "{c}"' for c in added]
    return f"to_json({{{', '.join(fields)}}})::varchar"


def _checked_sql(contract: EntityContract, added: tuple[str, ...], text_columns: set[str]) -> str:
    """SQL creating ``checked_extract``: raw and typed columns and a list of reasons per row.

    Text columns (CSV, JSON) are trimmed and empty strings count as missing; typed columns (Parquet) are
    cast as they are.
    """
    typed = []
    for col in contract.columns:
        raw = f"nullif(trim(\"{col.name}\"), '')" if col.name in text_columns else f'"{col.name}"'
        typed.append(f'{raw} as "{col.name}__raw"')
        typed.append(f'try_cast({raw} as {col.type}) as "{col.name}"')
    typed.extend(f'"{name}"' for name in added)
    row_checks = [check for col in contract.columns for check in _column_checks(col)]
    pk_cols = [f'"{c}"' for c in contract.primary_key]
    pk = ", ".join(pk_cols)
    all_raw = ", ".join(f'"{c.name}__raw"' for c in contract.columns)
    return f"""
        create or replace temp table checked_extract as
        with typed as (
            select {FILE_COLUMN}, {LINE_COLUMN}, {REJECTION_COLUMN}, {", ".join(typed)}
            from incoming_extract
        ),
        row_checked as (
            select *, list_filter([{", ".join(row_checks)}], r -> r is not null) as row_reasons
            from typed
        ),
        keyed as (
            select *,
                row_number() over (partition by {FILE_COLUMN}, {pk} order by {LINE_COLUMN}) as key_rank,
                count(*) over (partition by {FILE_COLUMN}, {pk}) as key_count
            from row_checked
            where len(row_reasons) = 0
        ),
        repeated_keys as (
            -- Duplicate keys are judged among rows that pass the row checks: identical copies load once,
            -- differing rows for one key are all held back because no one can tell which is right.
            select {FILE_COLUMN}, {pk},
                count(distinct md5(concat_ws('|', {all_raw}))) as key_versions,
                min({LINE_COLUMN}) as key_first_line
            from keyed
            where key_count > 1
            group by {FILE_COLUMN}, {pk}
        )
        select * exclude (row_reasons), row_reasons as reasons from row_checked where len(row_reasons) > 0
        union all by name
        select keyed.* exclude (key_rank, key_count, row_reasons),
            case
                when repeated_keys.key_versions > 1
                    then ['duplicate_key_conflict: {"+".join(contract.primary_key)}']
                when keyed.key_rank > 1 then ['duplicate_exact: same as line ' || repeated_keys.key_first_line]
                else []::varchar[]
            end as reasons
        from keyed
        left join repeated_keys using ({FILE_COLUMN}, {pk})
    """


def _audit(
    con: duckdb.DuckDBPyConnection,
    contract: EntityContract,
    outcome: FileLoad,
    digest: str,
    run_id: str | None,
    *,
    load_id: str | None = None,
    loaded_at: dt.datetime | None = None,
) -> None:
    con.execute(
        f"insert into {AUDIT_TABLE} (load_id, run_id, source_system, entity, partition_date, file, file_sha256, "
        "status, rows_in, rows_loaded, rows_quarantined, columns_added, message, loaded_at, rows_erased, "
        "rows_anonymized) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            load_id or str(uuid.uuid4()),
            run_id,
            contract.source_system,
            contract.entity,
            outcome.partition,
            outcome.file,
            digest,
            outcome.status,
            outcome.rows_in,
            outcome.rows_loaded,
            outcome.rows_quarantined,
            ", ".join(outcome.columns_added) or None,
            outcome.message or None,
            loaded_at or dt.datetime.now(dt.UTC).replace(tzinfo=None),
            outcome.rows_erased,
            outcome.rows_anonymized,
        ],
    )


def _audit_load(
    con: duckdb.DuckDBPyConnection,
    contract: EntityContract,
    result: EntityLoad,
    run_id: str | None,
    started: dt.datetime,
) -> None:
    """One ``governance.audit_log`` row per entity load (the per-file detail is in the load audit)."""
    statuses: dict[str, int] = {}
    for f in result.files:
        statuses[f.status] = statuses.get(f.status, 0) + 1
    record_audit(
        con,
        "load",
        f"raw.{contract.raw_table}",
        actor="dagster" if run_id else "raw_loader",
        run_id=run_id,
        status="rejected_files" if result.rejected else "success",
        started_at=started,
        details={
            "files_by_status": statuses,
            "rows_in": sum(f.rows_in for f in result.files if f.status == "loaded"),
            "rows_loaded": result.total("rows_loaded"),
            "rows_quarantined": result.total("rows_quarantined"),
            "rows_erased": result.total("rows_erased"),
            "rows_anonymized": result.total("rows_anonymized"),
        },
    )
