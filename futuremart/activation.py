"""Activation audiences: who may be sent which products, per campaign and channel, exported as files.

One campaign per customer segment (``ml.customer_segments``: "products picked for <segment>"), each on two
channels, email and push. A customer is in a channel's audience only when, as of the run date, their latest
consent event for that channel (``staging.stg_crm__consents``, the CRM's consent log) is a grant *and* no
later event withdrew or denied it (an audience exported for a past day is still sent today), and when they
are not in the erasure register. Each row carries the customer id, the email token (email audiences: the
sending platform resolves it through the vault; never the clear address) and the customer's top three
recommended products (``ml.customer_recommendations``).

Files: ``<published>/activation/<campaign_id>__<channel>.csv`` and ``manifest.json`` (per file: campaign,
channel, row count, consent basis, run date, created at, SHA-256). Each file is written beside its target and
renamed over it (atomic), the manifest last, so a reader never sees half a file; files no campaign produces
any more are removed after the manifest. :func:`remove_erased` filters the files already exported against the
erasure register (the erasure calls it), so an erased customer leaves the files without waiting for a run.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb
import pandas as pd

from futuremart.publish import STAGED_INFIX, replace_atomically

ACTIVATION_DIR = "activation"
MANIFEST = "manifest.json"
CHANNELS = ("email", "push")
RECOMMENDED_IN_FILE = 3
# Columns a file may hold: identifiers and tokens, never a clear personal value.
COLUMNS = {
    "email": ["customer_id", "email_token", "segment_name", "product_1", "product_2", "product_3"],
    "push": ["customer_id", "segment_name", "product_1", "product_2", "product_3"],
}
CONSENT_BASIS = "explicit opt-in (GDPR art. 6(1)(a)): latest CRM consent event for the channel is 'granted'"
# Tables the audiences are built from: the Dagster asset declares them as dependencies.
AUDIENCE_SOURCES = ("staging/stg_crm__consents", "staging/stg_crm__customers")


@dataclass(frozen=True)
class AudienceFile:
    """What the manifest says about one exported audience file."""

    file: str
    campaign_id: str
    campaign_name: str
    segment_name: str
    channel: str
    count: int
    consent_basis: str
    as_of_date: str
    created_at: str
    sha256: str


def activation_dir(published_dir: Path) -> Path:
    return Path(published_dir) / ACTIVATION_DIR


def consented_customers(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> pd.DataFrame:
    """``customer_id, channel`` of every customer who may be contacted on the channel as of ``as_of``
    (end of that day): the latest consent event up to then is a grant and none after it says otherwise.
    Erased customers (in ``governance.erasure_register``) are left out."""
    register = _has_register(con)
    return con.execute(
        f"""
        with events as (
            select customer_id, channel, consent_status, recorded_at,
                row_number() over (
                    partition by customer_id, channel order by recorded_at desc, consent_event_id desc
                ) as recency_rank
            from staging.stg_crm__consents
            where channel in ('email', 'push')
        ),
        as_of as (
            select customer_id, channel, consent_status,
                row_number() over (
                    partition by customer_id, channel order by recorded_at desc, recency_rank
                ) as rank_as_of
            from events
            where recorded_at < ?::date + interval 1 day
        ),
        latest as (select customer_id, channel, consent_status from events where recency_rank = 1)
        select a.customer_id, a.channel
        from as_of as a
        join latest as l using (customer_id, channel)
        where a.rank_as_of = 1 and a.consent_status = 'granted' and l.consent_status = 'granted'
            {"and a.customer_id not in (select customer_id from governance.erasure_register)" if register else ""}
            and a.customer_id not like 'ERASED-%'
        order by a.customer_id, a.channel
        """,
        [as_of],
    ).df()


def build_audiences(con: duckdb.DuckDBPyConnection, as_of: dt.date) -> dict[tuple[str, str], pd.DataFrame]:
    """``{(segment_name, channel): audience}``: consented customers of each segment with their email token
    and top recommendations, sorted by customer id."""
    consented = consented_customers(con, as_of)
    con.register("_consented", consented)
    try:
        members = con.execute(
            f"""
            with tokens as (
                select customer_id, arg_max(email_token, profile_updated_at) as email_token
                from staging.stg_crm__customers group by customer_id
            ),
            picks as (
                select customer_id,
                    max(case when rank = 1 then product_id end) as product_1,
                    max(case when rank = 2 then product_id end) as product_2,
                    max(case when rank = 3 then product_id end) as product_3
                from ml.customer_recommendations
                where rank <= {RECOMMENDED_IN_FILE}
                group by customer_id
            )
            select k.channel, s.segment_name, k.customer_id, t.email_token, p.product_1, p.product_2, p.product_3
            from _consented as k
            join ml.customer_segments as s using (customer_id)
            join picks as p using (customer_id)
            left join tokens as t using (customer_id)
            order by s.segment_name, k.channel, k.customer_id
            """
        ).df()
    finally:
        con.unregister("_consented")
    return {
        (segment, channel): group[COLUMNS[channel]].reset_index(drop=True)
        for (segment, channel), group in members.groupby(["segment_name", "channel"], sort=True)
    }


def campaign_id(segment_name: str) -> str:
    """A stable file-safe id per segment: ``reco-high-value-regulars``."""
    return "reco-" + re.sub(r"[^a-z0-9]+", "-", segment_name.lower()).strip("-")


def export_audiences(
    published_dir: Path,
    audiences: dict[tuple[str, str], pd.DataFrame],
    as_of: dt.date,
    *,
    tag: str,
    created_at: dt.datetime | None = None,
) -> list[AudienceFile]:
    """Write every audience file and the manifest atomically (``tag`` names the staged files); remove files
    of campaigns that no longer exist. Returns the manifest entries."""
    created = (created_at or dt.datetime.now(dt.UTC)).replace(tzinfo=None).isoformat(timespec="seconds")
    folder = activation_dir(published_dir)
    folder.mkdir(parents=True, exist_ok=True)
    entries = []
    for (segment, channel), frame in sorted(audiences.items()):
        unexpected = set(frame.columns) - set(COLUMNS[channel])
        if unexpected:
            raise ValueError(f"audience {segment}/{channel} has columns outside the allowed list: {unexpected}")
        cid = campaign_id(segment)
        name = f"{cid}__{channel}.csv"
        digest = _write_csv(folder / name, frame, tag)
        entries.append(
            AudienceFile(
                name,
                cid,
                f"Products picked for {segment}",
                segment,
                channel,
                len(frame),
                CONSENT_BASIS,
                as_of.isoformat(),
                created,
                digest,
            )
        )
    _write_manifest(folder, entries, tag)
    keep = {e.file for e in entries} | {MANIFEST}
    for path in folder.glob("*.csv"):
        if path.name not in keep:
            path.unlink()
    return entries


def read_manifest(published_dir: Path) -> list[AudienceFile]:
    """The manifest's entries (empty when nothing was exported yet)."""
    path = activation_dir(published_dir) / MANIFEST
    if not path.exists():
        return []
    return [AudienceFile(**entry) for entry in json.loads(path.read_text())["files"]]


def remove_erased(published_dir: Path, erased_ids: set[str], *, tag: str) -> int:
    """Rewrite every exported audience without the customers in ``erased_ids`` (atomically, the manifest's
    counts and digests updated); returns the rows removed."""
    entries = read_manifest(published_dir)
    folder = activation_dir(published_dir)
    removed, updated = 0, []
    for entry in entries:
        frame = pd.read_csv(folder / entry.file, dtype=str, keep_default_na=False)
        kept = frame[~frame["customer_id"].isin(erased_ids)]
        if len(kept) != len(frame):
            removed += len(frame) - len(kept)
            digest = _write_csv(folder / entry.file, kept, tag)
            entry = AudienceFile(**(asdict(entry) | {"count": len(kept), "sha256": digest}))
        updated.append(entry)
    if removed:
        _write_manifest(folder, updated, tag)
    return removed


def _write_csv(target: Path, frame: pd.DataFrame, tag: str) -> str:
    staged = target.with_name(f"{target.name}{STAGED_INFIX}{tag}")
    try:
        frame.to_csv(staged, index=False)
        _fsync_file(staged)
        digest = hashlib.sha256(staged.read_bytes()).hexdigest()
        replace_atomically(staged, target)
    finally:
        staged.unlink(missing_ok=True)
    return digest


def _write_manifest(folder: Path, entries: list[AudienceFile], tag: str) -> None:
    target = folder / MANIFEST
    staged = target.with_name(f"{MANIFEST}{STAGED_INFIX}{tag}")
    try:
        staged.write_text(json.dumps({"files": [asdict(e) for e in entries]}, indent=2) + "\n")
        _fsync_file(staged)
        replace_atomically(staged, target)
    finally:
        staged.unlink(missing_ok=True)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _has_register(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(
        con.execute(
            "select count(*) from duckdb_tables() where database_name = current_database() "
            "and schema_name = 'governance' and table_name = 'erasure_register'"
        ).fetchone()[0]
    )


def audit_audiences(con: duckdb.DuckDBPyConnection, published_dir: Path, as_of: dt.date) -> dict[str, int]:
    """Re-read the exported files and count what must be zero: rows of customers without consent for the
    file's channel as of ``as_of``, rows of erased customers, columns outside the allowed list, files whose
    row count or digest differs from the manifest. Also ``rows`` and ``files`` (what was read)."""
    consented = consented_customers(con, as_of)
    allowed = set(zip(consented["customer_id"], consented["channel"], strict=True))
    erased = set(_erased_ids(con))
    folder = activation_dir(published_dir)
    out = {"rows": 0, "files": 0, "without_consent": 0, "erased": 0, "unexpected_columns": 0, "manifest_mismatch": 0}
    for entry in read_manifest(published_dir):
        path = folder / entry.file
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        out["files"] += 1
        out["rows"] += len(frame)
        out["without_consent"] += sum((c, entry.channel) not in allowed for c in frame["customer_id"])
        out["erased"] += int(frame["customer_id"].isin(erased).sum())
        out["unexpected_columns"] += len(set(frame.columns) - set(COLUMNS[entry.channel]))
        out["manifest_mismatch"] += int(
            len(frame) != entry.count or hashlib.sha256(path.read_bytes()).hexdigest() != entry.sha256
        )
    return out


def _erased_ids(con: duckdb.DuckDBPyConnection) -> list[str]:
    if not _has_register(con):
        return []
    return [r[0] for r in con.execute("select customer_id from governance.erasure_register").fetchall()]
