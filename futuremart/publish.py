"""Publish read-only copies of chosen warehouse tables, swapped into place atomically.

Readers never open the warehouse itself: DuckDB allows one writer per file, and a reader holding the file
blocks the next build (and the other way round). They open a published copy instead, which no build ever
writes in place. :func:`publish_tables` writes a *new* file next to the target, copies the chosen tables into
it, checkpoints and closes it, verifies it (reopened read-only: the same tables, and per table the same row
count and content checksum as the source), then renames it over the target (``os.replace``, atomic on
POSIX) and fsyncs the folder so the rename survives a power cut. A reader that opened the old copy keeps its
open file; the next reader opens the new one; nobody sees a half-written copy. Any failure before the rename
removes the staged file and leaves the previous copy untouched.

Roles: one copy per role (:data:`ROLE_COPIES`, the one place that says which role reads what):
``analyst.duckdb`` (every mart, the reference seeds, the governance catalog), ``marketing.duckdb`` (campaign,
email, promotion, customer and web marts), ``finance.duckdb`` (sales, payments, returns, purchasing and
spend marts) and ``steward.duckdb`` (the ``pii`` vault of clear values, governance including the load audit,
the reference seeds). DuckDB has no GRANT: the boundary is which file a role is given. A role opens its file
read-only with external access disabled and the configuration locked, so it cannot attach another file::

    con = duckdb.connect("data/published/marketing.duckdb", read_only=True,
                         config={"enable_external_access": False, "lock_configuration": True})

(in the CLI: ``duckdb -readonly file -cmd "SET enable_external_access=false; SET lock_configuration=true"``).

Every copy but the steward's passes a leak scan (:func:`futuremart.privacy.scan_for_clear_pii`: no text
value that looks like an email, phone or IP address or equals a vault value) *before* the rename: a copy
with a leak is deleted and the previous one stays. Schemas that hold personal data (:data:`PERSONAL_DATA_SCHEMAS`)
are refused unless the caller says so explicitly (the steward's copy).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from futuremart.audit import record_audit_at, utcnow
from futuremart.privacy import VAULT_SCHEMA, LeakScan, scan_for_clear_pii
from futuremart.settings import Settings
from futuremart.vault import Vault, copy_vault, count_rows, vaulted_up_to

ANALYST_COPY = "analyst.duckdb"
# Analyst-facing: the star schema, the reference seeds and the models' predictions (ml), whole.
ANALYST_SCHEMAS = ("marts", "reference", "ml")
# ... and the governance tables that describe them (catalog, quality scores, test results, reconciliation).
# governance.load_audit stays out: it is the loaders' operational log (file paths, run ids), not analysis data.
ANALYST_TABLES = (
    "governance.gov_catalog_models",
    "governance.gov_catalog_columns",
    "governance.data_quality_scores",
    "governance.dbt_test_results",
    "governance.gov_load_reconciliation",
)
# Published when the warehouse has them (the ML schema is built by an optional part of the graph).
OPTIONAL_SCHEMAS = ("ml",)
# The vault holds names, emails, streets, IPs in clear; raw to intermediate hold their tokens, exact birth
# dates and unscrubbed operational detail: no copy for readers takes them by accident.
# The security alerts name customer accounts and IP-address tokens of people under attack: the steward's alone.
PERSONAL_DATA_SCHEMAS = frozenset({"raw", "quarantine", "staging", "intermediate", "security", VAULT_SCHEMA})
# The catalog and quality tables every role may read: they describe the data, they hold none of it.
CATALOG_TABLES = (
    "governance.gov_catalog_models",
    "governance.gov_catalog_columns",
    "governance.data_quality_scores",
)


@dataclass(frozen=True)
class RoleCopy:
    """What one role's published file holds: whole schemas, single tables (``schema.table``), schemas taken
    when present, and whether it may hold personal data (then it is not leak-scanned)."""

    role: str
    schemas: tuple[str, ...] = ()
    tables: tuple[str, ...] = ()
    optional_schemas: tuple[str, ...] = ()
    personal_data: bool = False
    # With the role's file, an encrypted copy of the vault (<role>_vault.duckdb, same key as the vault).
    vault: bool = False

    @property
    def file_name(self) -> str:
        return f"{self.role}.duckdb"

    @property
    def vault_file_name(self) -> str | None:
        """The encrypted copy of the vault published with the role's file, if the role gets one."""
        return f"{self.role}_vault.duckdb" if self.vault else None


def _marts(*names: str) -> tuple[str, ...]:
    return tuple(f"marts.{n}" for n in names)


# The one role -> data map. A mart added later reaches marketing or finance only when listed here
# (deny by default); the analysts read every mart.
ROLE_COPIES: dict[str, RoleCopy] = {
    "analyst": RoleCopy("analyst", ANALYST_SCHEMAS, ANALYST_TABLES, OPTIONAL_SCHEMAS),
    "marketing": RoleCopy(
        "marketing",
        ("reference",),
        (
            *_marts(
                "dim_date",
                "dim_product",
                "dim_customer",
                "fct_customer_lifetime",
                "fct_reviews",
                "dim_campaign",
                "agg_campaign_performance",
                "agg_email_engagement_daily",
                "fct_ad_spend",
                "fct_promo_redemptions",
                "fct_sessions",
                "agg_funnel_daily",
                "agg_product_views_daily",
                "dim_loyalty_member",
                "fct_loyalty_points_ledger",
            ),
            *CATALOG_TABLES,
        ),
        OPTIONAL_SCHEMAS,
    ),
    "finance": RoleCopy(
        "finance",
        ("reference",),
        (
            *_marts(
                "dim_date",
                "dim_product",
                "dim_supplier",
                "dim_warehouse",
                "fct_orders",
                "fct_order_lines",
                "fct_payments",
                "fct_returns",
                "agg_sales_daily",
                "fct_ad_spend",
                "fct_promo_redemptions",
                "fct_purchase_orders",
            ),
            *CATALOG_TABLES,
        ),
    ),
    # The steward resolves tokens (the vault) and looks after the data (governance, with the load audit), and
    # follows up the security alerts (when the monitoring ran), which only the vault can resolve to a person.
    # The vault is copied as its own encrypted file (steward_vault.duckdb): never in clear on disk.
    "steward": RoleCopy(
        "steward", ("governance", "reference"), optional_schemas=("security",), personal_data=True, vault=True
    ),
}
STAGED_INFIX = ".tmp-"
# The day-partitioned facts a nightly run rebuilds day by day (incremental dbt models) and the daily
# aggregates that grow by a day: a publish for a run window rewrites only the window's days of these in the
# previous copy. Only a speed-up: if any other day differs, the table's checksum says so and it is copied
# whole (see stage_from_previous).
DAY_COLUMNS: dict[str, str] = {
    "marts.fct_order_lines": "order_date",
    "marts.fct_web_events": "event_date",
    "marts.fct_inventory_daily": "snapshot_date",
    "marts.fct_product_prices_daily": "price_date",
    "marts.agg_product_views_daily": "event_date",
    "marts.agg_sales_daily": "order_date",
    "marts.fct_sessions": "session_date",
}
# A table dbt rebuilds whole but a night changes in a few rows (the orders its extracts touched, their
# customers, shipments and payments): the previous copy's table gets only the rows that changed, deleted and
# inserted, when they are few. At SF10 copying and rescanning such tables whole was most of a nightly publish.
# More than this share of the table changed: it is copied whole, which costs no more.
ROWS_REWRITE_MAX_SHARE = 0.2
# The leak scan is then limited to the inserted rows by a list of their row hashes: at most this many.
ROWS_REWRITE_MAX_ROWS = 100_000


class PublishError(RuntimeError):
    """The copy could not be built or did not verify; the previously published copy is unchanged."""


class LeakFound(PublishError):
    """The staged copy holds values that look personal; it was deleted, the previous copy is unchanged."""

    def __init__(self, message: str, scan: LeakScan) -> None:
        super().__init__(message)
        self.scan = scan


@dataclass(frozen=True)
class TableFigures:
    """Row count and an order-independent content checksum of one table."""

    rows: int
    checksum: str


@dataclass(frozen=True)
class PublishResult:
    """What was published: the target, its tables (``schema.table`` -> figures), its size and timing."""

    path: Path
    tables: dict[str, TableFigures]
    bytes: int
    seconds: float
    # Tables kept as they were in the previous copy, tables of which only the run's days were rewritten, and
    # tables of which only the changed rows were (all empty when the copy was written from scratch); the rest
    # were copied whole.
    reused: tuple[str, ...] = ()
    window_rewritten: tuple[str, ...] = ()
    rows_rewritten: tuple[str, ...] = ()

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables.values())


@dataclass(frozen=True)
class RolePublishResult:
    """One role's published file and the leak scan it passed (``None`` for the steward's)."""

    role: str
    published: PublishResult
    scan: LeakScan | None
    vault_copy: PublishResult | None = None


@contextlib.contextmanager
def staged_file(target: Path, tag: str) -> Iterator[Path]:
    """The new file to write beside ``target`` (``<target>.tmp-<tag>``), after removing crashed publishers'
    leftovers. On any failure inside the block the staged file goes and a :class:`PublishError` says the
    previous copy was kept; the block renames it into place itself when all is verified."""
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_staged(target)
    staged = target.with_name(f"{target.name}{STAGED_INFIX}{tag}")
    try:
        yield staged
    except BaseException as err:
        _unlink(staged)
        _unlink(_wal(staged))
        if isinstance(err, PublishError):
            raise
        if isinstance(err, Exception):
            raise PublishError(f"publishing {target.name} failed, previous copy kept: {err}") from err
        raise


def publish_vault_copy(vault: Vault, target: Path, *, tag: str) -> PublishResult:
    """Publish an encrypted copy of the vault (same key) to ``target``: written new, reopened with the key
    and compared (row count per table), then renamed over the previous copy; the previous copy stays on any
    failure."""
    started = time.perf_counter()
    with staged_file(target, tag) as staged:
        expected = copy_vault(vault, staged)
        got = count_rows(vault, staged)
        if got != expected:
            raise PublishError(f"{staged.name} differs from the vault (expected, found): {expected}, {got}")
        _fsync(staged)
        staged.chmod(0o444)
        replace_atomically(staged, target)
    tables = {f"{VAULT_SCHEMA}.{t}": TableFigures(n, "") for t, n in expected.items()}
    return PublishResult(target, tables, target.stat().st_size, time.perf_counter() - started)


def publish_role(
    warehouse_path: Path,
    published_dir: Path,
    role: str,
    *,
    tag: str,
    before_verify: Callable[[Path], None] | None = None,
    run_id: str | None = None,
    actor: str = "publisher",
    vault: Vault | None = None,
    window: tuple[dt.date, dt.date] | None = None,
    reuse_previous: bool = True,
) -> RolePublishResult:
    """Publish ``role``'s copy (:data:`ROLE_COPIES`) to ``published_dir/<role>.duckdb``.

    A copy without personal data is scanned for leaks (against the warehouse's vault too) after it verifies
    and before it replaces the previous one; a hit raises :class:`LeakFound` and the previous copy stays.
    Every attempt, published or not, is recorded in ``governance.audit_log`` (``run_id`` and ``actor`` say
    who published).
    """
    spec = ROLE_COPIES[role]
    scans: list[LeakScan] = []
    started = utcnow()
    subject = f"published/{spec.file_name}"

    def scan(staged: Path, written: Mapping[str, str | None] | None, vault_checked: Mapping[str, dt.datetime]) -> None:
        # What was kept from the previous copy passed this scan when that copy was published.
        result = scan_for_clear_pii(staged, vault=vault, scope=written, vault_checked=vault_checked)
        scans.append(result)
        if not result.clean:
            raise LeakFound(
                f"{spec.file_name}: {result.hit_count} value(s) look like personal data in {sorted(result.hits)} "
                f"(e.g. {result.examples}); not published, the previous copy stays",
                result,
            )

    try:
        # Read before the copy is staged and scanned: the scan sees at least the values vaulted up to it.
        stamp = vaulted_up_to(vault) if vault is not None and not spec.personal_data else None
        published = publish_tables(
            warehouse_path,
            Path(published_dir) / spec.file_name,
            schemas=spec.schemas,
            tables=spec.tables,
            optional_schemas=spec.optional_schemas,
            tag=tag,
            allow_personal_data=spec.personal_data,
            before_verify=before_verify,
            before_replace=None if spec.personal_data else scan,
            window=window,
            reuse_previous=reuse_previous,
            vault_stamp=stamp,
        )
    except PublishError as err:
        # The message names tables and masked examples only, never a value.
        record_audit_at(
            Path(warehouse_path),
            "publish",
            subject,
            actor=actor,
            run_id=run_id,
            started_at=started,
            status="leak_found" if isinstance(err, LeakFound) else "failed",
            details={"error": str(err)[:1000]},
        )
        raise
    vault_copy = None
    if spec.vault:
        if vault is None:
            raise PublishError(f"{spec.file_name} comes with the vault: pass the vault (futuremart.vault.Vault)")
        vault_copy = publish_vault_copy(vault, Path(published_dir) / spec.vault_file_name, tag=tag)
    result = RolePublishResult(role, published, scans[0] if scans else None, vault_copy)
    details: dict[str, object] = {
        "tables": len(published.tables),
        "rows": published.rows,
        "bytes": published.bytes,
        "tables_reused": len(published.reused),
        "tables_window_rewritten": len(published.window_rewritten),
        "tables_rows_rewritten": len(published.rows_rewritten),
    }
    if vault_copy is not None:
        details["vault_copy_rows"] = vault_copy.rows
    if result.scan is not None:
        details.update(values_scanned=result.scan.values_scanned, leak_hits=result.scan.hit_count)
    record_audit_at(
        Path(warehouse_path),
        "publish",
        subject,
        actor=actor,
        run_id=run_id,
        status="success",
        started_at=started,
        details=details,
    )
    return result


def publish_tables(
    warehouse_path: Path,
    target_path: Path,
    *,
    schemas: Sequence[str] = (),
    tables: Sequence[str] = (),
    optional_schemas: Sequence[str] = (),
    tag: str,
    allow_personal_data: bool = False,
    before_verify: Callable[[Path], None] | None = None,
    before_replace: Callable[[Path, Mapping[str, str | None] | None, Mapping[str, dt.datetime]], None] | None = None,
    window: tuple[dt.date, dt.date] | None = None,
    reuse_previous: bool = True,
    vault_stamp: dt.datetime | None = None,
) -> PublishResult:
    """Publish every table of ``schemas`` plus ``tables`` (``schema.table``) of the warehouse to ``target_path``.

    ``tag`` names the staged file (``<target>.tmp-<tag>``, e.g. the run id). ``before_verify`` is called with
    the staged, closed file just before verification (a hook for fault-injection tests and for operators who
    want to keep a copy); ``before_replace`` with the verified file, what was written into it (the ``scope``
    of :func:`futuremart.privacy.scan_for_clear_pii`, ``None`` for everything) and the vault stamps up to
    which the rows kept from the previous copy were scanned (its ``vault_checked``) just before the rename
    (the leak scan: raising :class:`PublishError` there keeps the previous copy). ``vault_stamp`` (given when
    ``before_replace`` scans against the vault as of that stamp or later) is recorded on every table.

    With ``reuse_previous`` and a previous copy at ``target_path``, the new file starts as a byte copy of it
    (see :func:`stage_from_previous`): tables whose rows and checksum equal the warehouse's are kept, and with
    a run ``window`` the day-partitioned tables (:data:`DAY_COLUMNS`) get only the window's days rewritten;
    everything else is copied whole. Either way the new file is verified whole before the rename.

    ``optional_schemas`` are copied when the warehouse has them. One publisher per target at a time (the
    orchestrator's ``duckdb_writer`` pool): staged files of earlier publishers that crashed are removed
    first. The warehouse is attached read-only, so no other process may hold it read-write meanwhile. Raises
    :class:`PublishError` on any failure, after removing the staged file; the previous copy at
    ``target_path`` is then untouched.
    """
    started = time.perf_counter()
    warehouse_path, target_path = Path(warehouse_path), Path(target_path)
    _refuse_personal_data((*schemas, *optional_schemas), tables, allow_personal_data)
    if not warehouse_path.exists():
        raise PublishError(f"no warehouse at {warehouse_path}: build it first (futuremart run).")
    with staged_file(target_path, tag) as staged:
        delta: StagedDelta | None = None
        if reuse_previous and target_path.exists():
            delta = stage_from_previous(
                warehouse_path,
                target_path,
                staged,
                schemas=schemas,
                tables=tables,
                optional_schemas=optional_schemas,
                window=window,
                vault_stamp=vault_stamp,
            )
            expected = delta.expected
            if before_verify is not None:
                before_verify(staged)
            try:
                verify_copy(staged, expected)
            except PublishError:
                # The previous copy is not what its recorded figures say (changed by hand?): start afresh.
                delta = None
                _unlink(staged)
        if delta is None:
            expected = stage_copy(
                warehouse_path,
                staged,
                schemas=schemas,
                tables=tables,
                optional_schemas=optional_schemas,
                vault_stamp=vault_stamp,
            )
            if before_verify is not None:
                before_verify(staged)
            verify_copy(staged, expected)
        if before_replace is not None:
            before_replace(staged, delta.written if delta else None, delta.vault_checked if delta else {})
        staged.chmod(0o444)  # read-only for non-root readers too: the copy is for reading only
        replace_atomically(staged, target_path)
    return PublishResult(
        target_path,
        expected,
        target_path.stat().st_size,
        time.perf_counter() - started,
        reused=delta.reused if delta else (),
        window_rewritten=tuple(n for n, rows in delta.written.items() if rows and n not in delta.rows_rewritten)
        if delta
        else (),
        rows_rewritten=delta.rows_rewritten if delta else (),
    )


def resolve_tables(
    con: duckdb.DuckDBPyConnection,
    catalog: str,
    schemas: Iterable[str],
    tables: Iterable[str],
    optional_schemas: Iterable[str] = (),
) -> list[tuple[str, str]]:
    """``(schema, table)`` of every base table of ``schemas`` and ``optional_schemas`` in ``catalog``, plus
    ``tables``, sorted.

    Raises :class:`PublishError` when a named schema has no table or a named table does not exist.
    """
    present = {
        (s, t)
        for s, t in con.execute(
            "select schema_name, table_name from duckdb_tables() where database_name = ?", [catalog]
        ).fetchall()
    }
    chosen: set[tuple[str, str]] = set()
    for schema in schemas:
        in_schema = {(s, t) for s, t in present if s == schema}
        if not in_schema:
            raise PublishError(f"schema {schema!r} has no table in the warehouse: was the dbt build run?")
        chosen |= in_schema
    for schema in optional_schemas:
        chosen |= {(s, t) for s, t in present if s == schema}
    for name in tables:
        schema, _, table = name.partition(".")
        if (schema, table) not in present:
            raise PublishError(f"table {name!r} is not in the warehouse: was the dbt build run?")
        chosen.add((schema, table))
    return sorted(chosen)


def stage_copy(
    warehouse_path: Path,
    staged: Path,
    *,
    schemas: Sequence[str] = (),
    tables: Sequence[str] = (),
    optional_schemas: Sequence[str] = (),
    vault_stamp: dt.datetime | None = None,
) -> dict[str, TableFigures]:
    """Write a new DuckDB file ``staged`` holding the chosen tables; return the source's figures per table.

    The file is checkpointed and closed when this returns (no write-ahead log left beside it) and fsynced.
    """
    if staged.exists():
        raise PublishError(f"{staged} already exists; refusing to overwrite it")
    expected: dict[str, TableFigures] = {}
    with _connect(staged) as con:
        con.execute("set enable_progress_bar = false")
        con.execute(f"attach {_literal(str(warehouse_path))} as src (read_only)")
        for schema, table in resolve_tables(con, "src", schemas, tables, optional_schemas):
            con.execute(f'create schema if not exists "{schema}"')
            con.execute(f'create table "{schema}"."{table}" as select * from src."{schema}"."{table}"')
            expected[f"{schema}.{table}"] = _figures(con, f'src."{schema}"."{table}"')
            _record_figures(con, f'"{schema}"."{table}"', expected[f"{schema}.{table}"], vault_stamp)
        con.execute("detach src")
        con.execute("checkpoint")
    if _wal(staged).exists():
        raise PublishError(f"{staged} left a write-ahead log after closing; the copy is not self-contained")
    _fsync(staged)
    return expected


@dataclass(frozen=True)
class StagedDelta:
    """A staged file built from the previous copy: the source's figures per table, the tables kept as they
    were, the tables written (``schema.table`` -> the SQL filter of the rows written, ``None`` when whole),
    and for tables kept in whole or in part the vault stamp their kept rows were last scanned against."""

    expected: dict[str, TableFigures]
    reused: tuple[str, ...]
    written: dict[str, str | None]
    vault_checked: dict[str, dt.datetime] = field(default_factory=dict)
    rows_rewritten: tuple[str, ...] = ()


def stage_from_previous(
    warehouse_path: Path,
    previous: Path,
    staged: Path,
    *,
    schemas: Sequence[str] = (),
    tables: Sequence[str] = (),
    optional_schemas: Sequence[str] = (),
    window: tuple[dt.date, dt.date] | None = None,
    vault_stamp: dt.datetime | None = None,
) -> StagedDelta:
    """Write ``staged`` as a copy of the published file ``previous`` brought up to the warehouse.

    A nightly run changes a few tables, and of the biggest only the new day: rewriting and re-scanning a
    whole copy for that took most of the publish step. Per chosen table: equal rows and checksum (the
    figures the verification uses) keep the previous copy's table; a table of :data:`DAY_COLUMNS` with the
    same columns has the ``window``'s days deleted and inserted from the warehouse, and is kept so if its
    figures then equal the warehouse's (no other day changed), else also gets the few other rows that
    changed deleted and inserted (:func:`_rewrite_changed_rows`); any other table with the same columns of
    which few rows changed gets those rows deleted and inserted; anything else is dropped and copied whole.
    Tables no longer chosen are dropped. Checkpointed, closed and fsynced like :func:`stage_copy`.
    Every table's comment gets ``vault_stamp`` when one is given (the caller scans the kept rows against the
    values vaulted since the stamp recorded before, returned as ``vault_checked``).
    """
    if staged.exists():
        raise PublishError(f"{staged} already exists; refusing to overwrite it")
    shutil.copyfile(previous, staged)  # a new inode: the published file's readers keep theirs
    staged.chmod(0o644)
    expected: dict[str, TableFigures] = {}
    reused: list[str] = []
    written: dict[str, str | None] = {}
    vault_checked: dict[str, dt.datetime] = {}
    rows_rewritten: list[str] = []
    with _connect(staged) as con:
        con.execute("set enable_progress_bar = false")
        con.execute(f"attach {_literal(str(warehouse_path))} as src (read_only)")
        chosen = resolve_tables(con, "src", schemas, tables, optional_schemas)
        present = set(
            con.execute(
                "select schema_name, table_name from duckdb_tables() where database_name = current_database()"
            ).fetchall()
        )
        for schema, table in sorted(present - set(chosen)):
            con.execute(f'drop table "{schema}"."{table}"')
        recorded = _recorded_figures(con)
        stamps = _recorded_vault_stamps(con)
        for schema, table in chosen:
            name, source, target = f"{schema}.{table}", f'src."{schema}"."{table}"', f'"{schema}"."{table}"'
            expected[name] = want = _figures(con, source)
            if (schema, table) in present:
                if name in stamps:
                    vault_checked[name] = stamps[name]
                # The figures the previous publish verified, or (a copy without them) counted again.
                if (recorded[name] if name in recorded else _figures(con, target)) == want:
                    reused.append(name)
                    if vault_stamp is not None:
                        _record_figures(con, target, want, vault_stamp)
                    continue
                columns = _columns(con, "src", schema, table)
                same_columns = columns == _columns(con, current_database(con), schema, table)
                # The scan's filter for changed rows names the row by the table's name: not when a column
                # has that name.
                rows_by_hash = table not in {column for column, _ in columns}
                if (rows := _window_filter(name, window)) and same_columns:
                    # The checksum is a sum over rows: the table's is the previous one less the deleted
                    # rows' plus the inserted rows', so only the window is hashed here (the verification
                    # still reads every row). Rehashing the rewritten marts whole took a third of the step.
                    before = recorded[name] if name in recorded else _figures(con, target)
                    removed = _figures(con, f"(select * from {target} where {rows})")
                    con.execute(f"delete from {target} where {rows}")
                    con.execute(f"insert into {target} select * from {source} where {rows}")
                    added = _figures(con, f"(select * from {target} where {rows})")
                    if (rewritten := _combined(before, removed, added)) == want:
                        _record_figures(con, target, want, vault_stamp)
                        written[name] = rows
                        continue
                    # Rows of older days changed too (agg_sales_daily: a return lands on the day its line
                    # was sold): those few rows, rather than the whole table (1.3M rows at SF10).
                    if (
                        rows_by_hash
                        and (changed := _rewrite_changed_rows(con, target, table, source, rewritten, want)) is not None
                    ):
                        _record_figures(con, target, want, vault_stamp)
                        written[name] = f"({rows}) or ({changed})"
                        rows_rewritten.append(name)
                        continue
                elif same_columns and rows_by_hash:
                    before = recorded[name] if name in recorded else _figures(con, target)
                    if (rows := _rewrite_changed_rows(con, target, table, source, before, want)) is not None:
                        _record_figures(con, target, want, vault_stamp)
                        written[name] = rows
                        rows_rewritten.append(name)
                        continue
                con.execute(f"drop table {target}")
            vault_checked.pop(name, None)  # copied whole: every row is scanned
            con.execute(f'create schema if not exists "{schema}"')
            con.execute(f"create table {target} as select * from {source}")
            _record_figures(con, target, want, vault_stamp)
            written[name] = None
        con.execute("detach src")
        con.execute("checkpoint")
    if _wal(staged).exists():
        raise PublishError(f"{staged} left a write-ahead log after closing; the copy is not self-contained")
    _fsync(staged)
    return StagedDelta(expected, tuple(reused), written, vault_checked, tuple(rows_rewritten))


# The rows a night changed in a table, by (warehouse table, figures of the previous copy's table, figures of
# the warehouse's): the role copies share tables (fct_orders is the analysts' and finance's), and copies of a
# table with the same figures need the same rows deleted and inserted. Found for the first role, reused by the
# next ones (at SF10 the finance copy spent 1.6 s finding again what the analyst copy had found). What is
# deleted and inserted is still counted against these figures, and the copy verified whole.
_CHANGED_ROWS: dict[tuple[str, TableFigures, TableFigures], pa.Table] = {}
CHANGED_ROWS_KEPT = 64


def _rewrite_changed_rows(
    con: duckdb.DuckDBPyConnection, target: str, table: str, source: str, before: TableFigures, want: TableFigures
) -> str | None:
    """Bring the previous copy's ``target`` (figures ``before``) to the warehouse's ``source`` (``want``) by
    deleting the rows only it has and inserting the rows only the source has, found by row hash (comparing
    whole rows cost more than copying the table); return the leak scan's filter for the inserted rows (their
    row hashes), or ``None`` when too many rows changed (:data:`ROWS_REWRITE_MAX_SHARE`,
    :data:`ROWS_REWRITE_MAX_ROWS`) or the rows deleted or inserted are not exactly those (exact duplicate
    rows): the caller then copies the table whole."""
    known = (source, before, want)
    if (changed := _CHANGED_ROWS.get(known)) is not None:
        con.register("publish_changed_known", changed)
        con.execute("create or replace temp table publish_changed as select * from publish_changed_known")
        con.unregister("publish_changed_known")
    else:
        # One pass over both sides: a row hash counted +1 per row of the copy and -1 per row of the source
        # nets to the rows only the copy has (> 0, to delete) and those only the source has (< 0, to insert).
        # Two EXCEPT ALLs hashed each side twice (twice the time at SF10).
        con.execute(
            "create or replace temp table publish_changed as "
            "select h, sum(side)::bigint as n from ("
            f"select hash(kept) as h, 1 as side from {target} as kept "
            f"union all select hash(wanted) as h, -1 as side from {source} as wanted"
            ") group by h having sum(side) <> 0"
        )
    try:
        figures = (
            "select coalesce(sum(abs(n)), 0), coalesce(sum(h::hugeint * abs(n)), 0)::varchar "
            "from publish_changed where {}"
        )
        removed = TableFigures(*con.execute(figures.format("n > 0")).fetchone())
        added = TableFigures(*con.execute(figures.format("n < 0")).fetchone())
        if (
            added.rows > ROWS_REWRITE_MAX_ROWS
            or removed.rows + added.rows > ROWS_REWRITE_MAX_SHARE * want.rows
            or _combined(before, removed, added) != want
        ):
            return None
        deleted = con.execute(
            f"delete from {target} as kept where hash(kept) in (select h from publish_changed where n > 0)"
        ).fetchone()[0]
        if deleted != removed.rows:
            return None
        inserted = con.execute(
            f"insert into {target} select * from {source} as wanted "
            "where hash(wanted) in (select h from publish_changed where n < 0)"
        ).fetchone()[0]
        if inserted != added.rows:
            return None
        hashes = sorted(h for (h,) in con.execute("select h from publish_changed where n < 0").fetchall())
        if known not in _CHANGED_ROWS:
            while len(_CHANGED_ROWS) >= CHANGED_ROWS_KEPT:
                del _CHANGED_ROWS[next(iter(_CHANGED_ROWS))]
            _CHANGED_ROWS[known] = con.execute("select h, n from publish_changed").fetch_arrow_table()
    finally:
        con.execute("drop table if exists publish_changed")
    # The scanner reads the table by its name (scanned.<schema>.<table>): the row is that name as a struct.
    return f'hash("{table}") in ({", ".join(map(str, hashes))})' if hashes else "false"


FIGURES_COMMENT = "futuremart.publish rows={rows} checksum={checksum}"


def _record_figures(
    con: duckdb.DuckDBPyConnection, relation: str, figures: TableFigures, vault_stamp: dt.datetime | None = None
) -> None:
    """Keep a table's source figures as its comment, so the next publish knows them without a scan; the
    copy is verified against the source's figures before it is published, so the comment is what it holds.
    With ``vault_stamp``, the comment also says the rows were leak-scanned against the vault as of then."""
    text = FIGURES_COMMENT.format(rows=figures.rows, checksum=figures.checksum)
    if vault_stamp is not None:
        text += f" vault_checked={vault_stamp.isoformat()}"
    con.execute(f"comment on table {relation} is {_literal(text)}")


def _recorded_words(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, str]]:
    recorded = {}
    for schema, table, comment in con.execute(
        "select schema_name, table_name, comment from duckdb_tables() where database_name = current_database()"
    ).fetchall():
        if (comment or "").startswith("futuremart.publish "):
            recorded[f"{schema}.{table}"] = dict(w.split("=", 1) for w in comment.split()[1:] if "=" in w)
    return recorded


def _recorded_figures(con: duckdb.DuckDBPyConnection) -> dict[str, TableFigures]:
    return {
        name: TableFigures(int(words["rows"]), words["checksum"])
        for name, words in _recorded_words(con).items()
        if {"rows", "checksum"} <= words.keys()
    }


def _recorded_vault_stamps(con: duckdb.DuckDBPyConnection) -> dict[str, dt.datetime]:
    return {
        name: dt.datetime.fromisoformat(words["vault_checked"])
        for name, words in _recorded_words(con).items()
        if "vault_checked" in words
    }


def _window_filter(name: str, window: tuple[dt.date, dt.date] | None) -> str | None:
    if window is None or name not in DAY_COLUMNS:
        return None
    column = DAY_COLUMNS[name]
    return f"\"{column}\" between date '{window[0].isoformat()}' and date '{window[1].isoformat()}'"


def _columns(con: duckdb.DuckDBPyConnection, catalog: str, schema: str, table: str) -> list[tuple[str, str]]:
    return con.execute(
        "select column_name, data_type from duckdb_columns() "
        "where database_name = ? and schema_name = ? and table_name = ? order by column_index",
        [catalog, schema, table],
    ).fetchall()


def current_database(con: duckdb.DuckDBPyConnection) -> str:
    return con.execute("select current_database()").fetchone()[0]


def _connect(path: Path, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """A connection capped like every warehouse connection (``Settings.duckdb_memory_limit``): copying and
    checksumming a whole warehouse otherwise lets DuckDB take 80% of the machine (SF10: 3.4 GB)."""
    return duckdb.connect(str(path), read_only=read_only, config=Settings.from_env().duckdb_config())


def verify_copy(staged: Path, expected: Mapping[str, TableFigures]) -> None:
    """Reopen ``staged`` read-only and check it holds exactly ``expected``: the same tables, no other
    relation, and per table the same row count and content checksum. Reading every row also makes DuckDB
    check every block's checksum. Raises :class:`PublishError` naming what differs."""
    try:
        with _connect(staged, read_only=True) as con:
            con.execute("set enable_progress_bar = false")
            relations = {
                f"{s}.{t}"
                for s, t in con.execute(
                    "select schema_name, table_name from duckdb_tables() where not internal "
                    "union all select schema_name, view_name from duckdb_views() where not internal"
                ).fetchall()
            }
            if relations != set(expected):
                raise PublishError(
                    f"{staged.name} holds {sorted(relations - set(expected))} it should not and lacks "
                    f"{sorted(set(expected) - relations)}"
                )
            wrong = {}
            for name, want in expected.items():
                schema, _, table = name.partition(".")
                got = _figures(con, f'"{schema}"."{table}"')
                if got != want:
                    wrong[name] = (want, got)
    except duckdb.Error as err:
        raise PublishError(f"{staged.name} does not open or read back cleanly: {err}") from err
    if wrong:
        raise PublishError(f"{staged.name} differs from the warehouse (expected, found): {wrong}")


def replace_atomically(staged: Path, target: Path) -> None:
    """Rename ``staged`` over ``target`` (atomic on one file system) and fsync the folder."""
    os.replace(staged, target)
    _fsync(target.parent, directory=True)


def remove_staged(target: Path) -> list[Path]:
    """Remove staged files (and their logs) left beside ``target`` by publishers that died; return them."""
    stale = sorted(target.parent.glob(f"{target.name}{STAGED_INFIX}*"))
    for path in stale:
        _unlink(path)
    return stale


def _refuse_personal_data(schemas: Sequence[str], tables: Sequence[str], allowed: bool) -> None:
    touched = set(schemas) | {t.partition(".")[0] for t in tables}
    if (risky := sorted(touched & PERSONAL_DATA_SCHEMAS)) and not allowed:
        raise PublishError(
            f"schemas {risky} hold personal data in clear and are not published for readers; pass "
            "allow_personal_data=True only for a copy whose readers may see it"
        )


def _figures(con: duckdb.DuckDBPyConnection, relation: str) -> TableFigures:
    rows, checksum = con.execute(f"select count(*), coalesce(sum(hash(t)), 0)::varchar from {relation} as t").fetchone()
    return TableFigures(rows, checksum)


def _combined(before: TableFigures, removed: TableFigures, added: TableFigures) -> TableFigures:
    """The figures of a table after deleting rows with figures ``removed`` and inserting ``added``."""
    checksum = int(before.checksum) - int(removed.checksum) + int(added.checksum)
    return TableFigures(before.rows - removed.rows + added.rows, str(checksum))


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _wal(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


def _unlink(path: Path) -> None:
    path.unlink(missing_ok=True)


def _fsync(path: Path, *, directory: bool = False) -> None:
    fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if directory else 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
