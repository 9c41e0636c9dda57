"""Pseudonymization, free-text scrubbing and the leak scan (DLP) of published files.

Personal data is replaced where it enters the warehouse: the raw loader (``ingestion/raw_loader.py``) is the
only code that sees the key. For every column its contract classes as ``email``, ``name``, ``phone``,
``address`` or ``ip``, it writes a keyed token (HMAC-SHA256 of the class and the value, hex) to ``raw``
and the clear value, once per token, to the vault (schema ``pii``, one table per raw table). Free text
(``free_text``: reviews, support transcripts, social posts) keeps its words but loses every email address and
phone number, which go to the vault as well. So nothing downstream of the loader (raw, quarantine, staging,
marts, published copies) holds a clear identifier; only the steward's published copy carries the vault.

Tokens are deterministic for one key (the same email gives the same token in every table and every load, so
joins and counts of distinct people still work) and unrelated across keys (rotating the key re-keys
everything). A token cannot be reversed without the vault, and cannot be recomputed from a guessed value
without the key (a plain hash of an email could).

:func:`scan_for_clear_pii` is the leak scan a published file must pass before it replaces the previous one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from futuremart.settings import Settings

if TYPE_CHECKING:
    from futuremart.vault import Vault

log = logging.getLogger(__name__)

# Classes replaced by tokens; ``birth_date`` is generalized to an age band in the marts, ``free_text`` scrubbed.
TOKENIZED_CLASSES = frozenset({"email", "name", "phone", "address", "ip"})
FREE_TEXT_CLASS = "free_text"
VAULT_SCHEMA = "pii"
# Fixed, public and therefore worthless as a secret: it only lets a laptop or a test run without setup.
DEVELOPMENT_KEY = b"futuremart-development-pii-key-do-not-use-in-production"

# One set of patterns for the Python scrubber and the SQL scan (RE2 and Python's re agree on this subset).
EMAIL_PATTERN = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
# +1-555-123-4567, (555) 123-4567, 555.123.4567: three groups of digits split by separators. Dates
# (2024-01-31), ids (O000000123) and amounts do not have that shape.
PHONE_PATTERN = r"(\+\d{1,3}[-. ]?)?(\(\d{3}\)|\b\d{3})[-. ]\d{3}[-. ]\d{4}\b"
# A dotted quad that is not part of a longer dotted number (a version such as Chrome/120.0.0.0 is preceded
# by a slash, which the class excludes).
IP_PATTERN = r"(^|[^0-9./])(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])){3}($|[^0-9.])"
LEAK_PATTERNS = {"email": EMAIL_PATTERN, "phone": PHONE_PATTERN, "ip": IP_PATTERN}
SCRUB_PATTERNS = {"email": re.compile(EMAIL_PATTERN), "phone": re.compile(PHONE_PATTERN)}

_warned_development_key = False


class PrivacyError(RuntimeError):
    """Personal data was found where it must not be; the message says where."""


@dataclass(frozen=True)
class Pseudonymizer:
    """Keyed tokens for personal values. Build it with :meth:`from_settings`; the key is not printable."""

    key: bytes = field(repr=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> Pseudonymizer:
        """The pseudonymizer of the configured key; without one, the development key and a loud warning
        (logged once per process)."""
        global _warned_development_key
        key = settings.read_pii_key()
        if key is None:
            if not _warned_development_key:
                log.warning(
                    "NO PSEUDONYMIZATION KEY CONFIGURED: personal data is tokenized with the public development "
                    "key, so anyone can recompute the tokens of a guessed email. Set FUTUREMART_PII_KEY_FILE "
                    "(or FUTUREMART_PII_KEY) before loading real data."
                )
                _warned_development_key = True
            key = DEVELOPMENT_KEY
        return cls(key)

    def token(self, value: str, pii_class: str) -> str:
        """Hex HMAC-SHA256 of ``<class>:<value>``: the class separates an ``ip`` from a ``name`` that happen to
        be spelled alike."""
        return hmac.new(self.key, f"{pii_class}:{value}".encode(), hashlib.sha256).hexdigest()

    def tokenize(self, values: pa.Array | pa.ChunkedArray, pii_class: str) -> tuple[pa.Array, dict[str, str]]:
        """Tokens for ``values`` (text; nulls and blanks stay null) and the vault entries ``{token: clear}``.

        Each distinct value is hashed once (a clickstream day has thousands of events per IP address).
        """
        cleaned = _blank_to_null(values)
        encoded = pc.dictionary_encode(cleaned).combine_chunks() if isinstance(cleaned, pa.ChunkedArray) else None
        encoded = encoded if encoded is not None else pc.dictionary_encode(cleaned)
        clear = encoded.dictionary.to_pylist()
        tokens = [self.token(v, pii_class) for v in clear]
        out = pa.array(tokens, pa.string()).take(encoded.indices)
        return out, dict(zip(tokens, clear, strict=True))

    def scrub(self, text: str) -> tuple[str, list[tuple[str, str, str]]]:
        """``text`` with every email address and phone number replaced by ``[email]``/``[phone]``; and the
        ``(token, class, clear value)`` of each one removed, for the vault."""
        found: list[tuple[str, str, str]] = []
        for pii_class, pattern in SCRUB_PATTERNS.items():

            def _replace(match: re.Match[str], pii_class: str = pii_class) -> str:
                found.append((self.token(match.group(0), pii_class), pii_class, match.group(0)))
                return f"[{pii_class}]"

            text = pattern.sub(_replace, text)
        return text, found


def _blank_to_null(values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    # The loader trims text and treats an empty field as missing: tokenize what it would keep, not "".
    values = pc.utf8_trim_whitespace(values.cast(pa.string()))
    return pc.if_else(pc.equal(values, ""), pa.scalar(None, pa.string()), values)


@dataclass(frozen=True)
class LeakScan:
    """Outcome of :func:`scan_for_clear_pii`: how many values were looked at and what looked personal."""

    tables: int
    columns: int
    values_scanned: int
    hits: dict[str, dict[str, int]]  # "schema.table.column" -> {"email"|"phone"|"ip"|"vault": count}
    examples: dict[str, str]  # "schema.table.column" -> one offending value, masked

    @property
    def clean(self) -> bool:
        return not self.hits

    @property
    def hit_count(self) -> int:
        return sum(sum(kinds.values()) for kinds in self.hits.values())


def scan_for_clear_pii(
    path: Path,
    vault: Vault | None = None,
    *,
    key: str | None = None,
    scope: Mapping[str, str | None] | None = None,
    vault_checked: Mapping[str, dt.datetime] | None = None,
) -> LeakScan:
    """Scan every text column of every table of the DuckDB file ``path`` (opened read-only) for values that
    look like an email address, a phone number or an IP address, or that equal a clear value of ``vault``
    (the encrypted vault file, opened with its key; names only when they are handles). Returns counts per
    column; never raises on a hit (the caller decides), raises :class:`duckdb.Error` when a file cannot be
    read. ``key`` opens ``path`` itself when it is encrypted (the steward's copy of the vault).

    ``scope`` (``schema.table`` -> a SQL row filter, or ``None`` for every row) limits the full scan to those
    tables and rows: a publisher that reused tables and rows of an already scanned copy scans only what it
    wrote (see futuremart.publish); the rest is matched against ``vault`` only. ``None`` scans everything.
    ``vault_checked`` (``schema.table`` -> a vault stamp, see :func:`futuremart.vault.vaulted_up_to`) says
    that the rows of a table outside ``scope`` were matched against the vault as of that stamp when they were
    scanned before: they are matched only against the values vaulted since (stamped after it).
    """
    from futuremart.vault import Vault, attach_vault  # the vault module builds on this one

    # Capped like the warehouse connections: grouping every text column of a copy is big at scale.
    with duckdb.connect(config=Settings.from_env().duckdb_config()) as con:
        con.execute("set enable_progress_bar = false")
        if key is not None:
            attach_vault(con, Vault(path, key), read_only=True, alias="scanned")
        else:
            con.execute(f"attach {_literal(str(path))} as scanned (read_only)")
        if vault is not None:
            attach_vault(con, vault, read_only=True, alias="vault_source")
            vault_tables = con.execute(
                "select table_name from duckdb_tables() where database_name = 'vault_source'"
            ).fetchall()
            # A given or family name alone names nobody (and surnames are brand names too: "Williams"), so a
            # name matches only as a handle; the tokens keep names out, the patterns catch the rest.
            union = " union all ".join(
                f'select clear_value, _vaulted_at from vault_source.main."{t}" '
                "where pii_class <> 'name' or clear_value like '@%'"
                for (t,) in vault_tables
            )
            con.execute(
                "create temp table vault_values as "
                + (
                    f"select clear_value, min(_vaulted_at) as vaulted_at from ({union}) group by clear_value"
                    if union
                    else "select null::varchar as clear_value, null::timestamp as vaulted_at"
                )
            )
        else:
            con.execute("create temp table vault_values (clear_value varchar, vaulted_at timestamp)")
        columns = con.execute(
            "select schema_name, table_name, column_name from duckdb_columns() "
            "where database_name = 'scanned' and data_type = 'VARCHAR' order by 1, 2, 3"
        ).fetchall()
        tables = con.execute("select count(*) from duckdb_tables() where database_name = 'scanned'").fetchone()[0]
        # Rows outside the scope were kept from a copy that passed this scan when it was published: the
        # patterns would find there what they found then, but the vault may have grown since, so those rows
        # are matched against the vault again (a hash probe per value, no pattern), against the values
        # vaulted since their last scan when it is known: probing every text value of a copy against the whole
        # vault took most of a nightly publish (SF10 analyst copy: 243 columns, 1.2M vault values).
        kept: list[tuple[str, str, str]] = []
        if scope is not None:
            if vault is not None:
                # Every row of those tables: the rows in scope are matched by the full scan too, and probing
                # them again costs less than a row filter (by row hashes) evaluated for each column.
                kept = [
                    (schema, table, column)
                    for schema, table, column in columns
                    if f"{schema}.{table}" not in scope or scope[f"{schema}.{table}"]
                ]
            columns = [c for c in columns if f"{c[0]}.{c[1]}" in scope]
        scanned = 0
        hits: dict[str, dict[str, int]] = {}
        examples: dict[str, str] = {}

        def record(schema: str, table: str, column: str, relation: str, found: dict[str, int]) -> None:
            name, col = f"{schema}.{table}.{column}", f'"{column}"'
            for kind, n in found.items():
                hits.setdefault(name, {})[kind] = hits.get(name, {}).get(kind, 0) + n
            conditions = " or ".join(
                [f"regexp_matches({col}, {_literal(p)})" for p in LEAK_PATTERNS.values()]
                + [f"{col} in (select clear_value from vault_values)"]
            )
            example = con.execute(f"select {col} from {relation} where {conditions} limit 1").fetchone()
            if example and name not in examples:
                examples[name] = _mask(example[0])

        scoped_table = None
        for schema, table, column in columns:
            relation, col = f'scanned."{schema}"."{table}"', f'"{column}"'
            if scope is not None and (rows := scope[f"{schema}.{table}"]):
                # The rows in scope, taken once per table: a filter by row hashes (the rows a publish
                # rewrote) costs a pass over the whole table each time it is evaluated.
                if scoped_table != (schema, table):
                    con.execute(f"create or replace temp table scan_scoped as select * from {relation} where {rows}")
                    scoped_table = (schema, table)
                relation = "scan_scoped"
            # Each distinct value is matched once and weighted by its count: most text columns repeat their
            # values (statuses, categories, tokens of repeat customers), and the patterns cost more than
            # the grouping (analyst copy at SF1: 4.2 s per row, 2.5 s per distinct value, without the vault).
            checks = [
                f"coalesce(sum(n) filter (where regexp_matches(v, {_literal(p)})), 0)" for p in LEAK_PATTERNS.values()
            ]
            # The vault by a join (one row per clear value): `v in (select ...)` built a hash table of the
            # whole vault for every column, most of the scan of a nightly publish's few rewritten rows.
            checks.append(
                "coalesce((select sum(counted.n) from counted "
                "inner join vault_values on counted.v = vault_values.clear_value), 0)"
            )
            row = con.execute(
                f"with counted as materialized "
                f"(select {col} as v, count(*) as n from {relation} where {col} is not null group by 1) "
                f"select coalesce(sum(n), 0), {', '.join(checks)} from counted"
            ).fetchone()
            scanned += row[0]
            if found := {kind: n for kind, n in zip([*LEAK_PATTERNS, "vault"], row[1:], strict=True) if n}:
                record(schema, table, column, relation, found)
        # Kept rows passed the patterns when they were scanned, so a vault value the patterns match (an email,
        # a phone number, an IP address) cannot be in them: they are matched against the other values only (the
        # handles and addresses). Those sort into a narrow range, and DuckDB skips the row groups of a column
        # whose min/max lies outside a probe's: at SF10 the analysts' kept rows took 3.1-3.8 s against a
        # night's 2,424 vaulted values and 0.4 s against a narrow set of the same size.
        unmatched = " and ".join(f"not regexp_matches(clear_value, {_literal(p)})" for p in LEAK_PATTERNS.values())
        probes: dict[dt.datetime | None, str] = {}
        for since in sorted(
            {(vault_checked or {}).get(f"{s}.{t}") for s, t, _ in kept}, key=lambda d: (d is not None, d)
        ):
            probes[since] = name = f"vault_values_{len(probes)}"
            newer = "" if since is None else "and vaulted_at > ?"
            con.execute(
                f"create temp table {name} as select clear_value from vault_values where {unmatched} {newer}",
                [] if since is None else [since],
            )
        empty = {name for name in probes.values() if not con.execute(f"select count(*) from {name}").fetchone()[0]}
        for schema, table, column in kept:
            probe = probes[(vault_checked or {}).get(f"{schema}.{table}")]
            if probe in empty:
                continue
            relation, col = f'scanned."{schema}"."{table}"', f'"{column}"'
            n = con.execute(
                f"select count(*) from {relation} where {col} in (select clear_value from {probe})"
            ).fetchone()[0]
            if n:
                record(schema, table, column, relation, {"vault": n})
    return LeakScan(tables, len(columns), scanned, hits, examples)


def _mask(value: str) -> str:
    # Reports and logs name the leak without repeating it.
    return value[:2] + "…" + f"({len(value)} chars)"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def vault_table_name(raw_table: str) -> str:
    """The vault table holding the clear values of ``raw.<raw_table>``."""
    return f"{VAULT_SCHEMA}.{raw_table}"


@dataclass
class PseudonymizedTable:
    """A landed table with its personal values replaced, and what goes to the vault for it."""

    table: pa.Table
    # (token, pii_class, column_name, clear_value), one per distinct token and column
    vault: list[tuple[str, str, str, str]]

    def vault_table(self, source_file: str) -> pa.Table:
        entries = list({(t, k, c): v for t, k, c, v in self.vault}.items())
        return pa.table(
            {
                "token": pa.array([t for (t, _, _), _ in entries], pa.string()),
                "pii_class": pa.array([k for (_, k, _), _ in entries], pa.string()),
                "column_name": pa.array([c for (_, _, c), _ in entries], pa.string()),
                "clear_value": pa.array([v for _, v in entries], pa.string()),
                "_source_file": pa.array([source_file] * len(entries), pa.string()),
            }
        )


def pseudonymize_table(
    table: pa.Table, pii_columns: dict[str, str], pseudonymizer: Pseudonymizer
) -> PseudonymizedTable:
    """Replace the values of ``pii_columns`` (name -> class) present in ``table``: tokens for the
    :data:`TOKENIZED_CLASSES`, scrubbed text for ``free_text``; other classes (``birth_date``) pass as they are.
    """
    vault: list[tuple[str, str, str, str]] = []
    for name, pii_class in pii_columns.items():
        if name not in table.column_names:
            continue
        index = table.column_names.index(name)
        if pii_class in TOKENIZED_CLASSES:
            tokens, entries = pseudonymizer.tokenize(table.column(name), pii_class)
            vault.extend((t, pii_class, name, v) for t, v in entries.items())
            table = table.set_column(index, pa.field(name, pa.string()), tokens)
        elif pii_class == FREE_TEXT_CLASS:
            values = table.column(name).cast(pa.string()).to_pylist()
            scrubbed = []
            for value in values:
                if value is None:
                    scrubbed.append(None)
                    continue
                text, found = pseudonymizer.scrub(value)
                vault.extend((t, k, name, v) for t, k, v in found)
                scrubbed.append(text)
            table = table.set_column(index, pa.field(name, pa.string()), pa.array(scrubbed, pa.string()))
    return PseudonymizedTable(table, vault)
