"""The analysts' published copy: exactly the analyst tables, read-only, swapped in atomically, and a failed
build or publish leaves the previous copy byte-identical."""

import datetime as dt
import hashlib
import os
import shutil
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest

from futuremart.privacy import VAULT_SCHEMA
from futuremart.publish import (
    _CHANGED_ROWS,
    ANALYST_COPY,
    ANALYST_SCHEMAS,
    ANALYST_TABLES,
    DAY_COLUMNS,
    PERSONAL_DATA_SCHEMAS,
    ROLE_COPIES,
    LeakFound,
    PublishError,
    publish_role,
    publish_tables,
)
from futuremart.settings import DBT_PROJECT_DIR
from futuremart.vault import Vault, attach_vault, vaulted_up_to
from ingestion.raw_loader import _vault_stamp
from tests.conftest import TEST_SEED, mart_checksums, materialize

CLI = Path(sys.executable).with_name("duckdb")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tables_of(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    names = con.execute("select schema_name, table_name from duckdb_tables() order by 1, 2").fetchall()
    return {f"{s}.{t}": con.execute(f'select count(*) from "{s}"."{t}"').fetchone()[0] for s, t in names}


def publish(warehouse: Path, target: Path, tag: str = "test", **kwargs):
    return publish_tables(warehouse, target, schemas=ANALYST_SCHEMAS, tables=ANALYST_TABLES, tag=tag, **kwargs)


def test_the_copy_holds_exactly_the_analyst_tables_with_the_warehouse_rows(built):
    copy = built.settings.published_dir / ANALYST_COPY
    with built.connect() as con:
        source = tables_of(con)
        marts = mart_checksums(con)
    expected = {n: rows for n, rows in source.items() if n.split(".")[0] in ANALYST_SCHEMAS or n in ANALYST_TABLES}
    assert len([n for n in expected if n.startswith("marts.")]) > 20 and "reference.regions" in expected
    with duckdb.connect(str(copy), read_only=True) as con:
        assert tables_of(con) == expected
        assert mart_checksums(con) == marts
        schemas = {r[0] for r in con.execute("select schema_name from duckdb_schemas() where not internal").fetchall()}
        views = con.execute("select count(*) from duckdb_views() where not internal").fetchone()[0]
    assert schemas - {"main"} == {"marts", "reference", "ml", "governance"}
    assert not schemas & PERSONAL_DATA_SCHEMAS and views == 0
    # The asset reports what it published.
    event = next(
        e
        for e in built.result.get_asset_materialization_events()
        if e.asset_key.to_user_string() == "published/analyst_warehouse"
    )
    meta = event.materialization.metadata
    assert meta["tables"].value == len(expected) and meta["rows"].value == sum(expected.values())
    assert meta["bytes"].value == copy.stat().st_size and meta["path"].value == str(copy)
    # One file per role, no staged file left behind (the activation audiences have their own folder).
    names = [n for r in ROLE_COPIES.values() for n in (r.file_name, r.vault_file_name) if n]
    assert sorted(p.name for p in copy.parent.iterdir() if p.is_file()) == sorted(names)
    assert [p.name for p in copy.parent.iterdir() if p.is_dir()] == ["activation"]


def test_the_copy_opens_read_only_in_the_duckdb_cli(built):
    copy = built.settings.published_dir / ANALYST_COPY
    with built.connect() as con:
        orders = con.execute("select count(*) from marts.fct_orders").fetchone()[0]
    read = subprocess.run(
        [str(CLI), "-readonly", "-csv", "-noheader", str(copy), "-c", "select count(*) from marts.fct_orders"],
        capture_output=True,
        text=True,
    )
    assert read.returncode == 0, read.stderr
    assert int(read.stdout.strip()) == orders
    write = subprocess.run(
        [str(CLI), "-readonly", str(copy), "-c", "create table marts.scratch as select 1 as x"],
        capture_output=True,
        text=True,
    )
    assert write.returncode != 0 and "read-only" in (write.stdout + write.stderr).lower()
    assert copy.stat().st_mode & 0o222 == 0  # no write bit either


READER = textwrap.dedent(
    """
    import os, sys, duckdb
    path, stop = sys.argv[1], sys.argv[2]
    while not os.path.exists(stop):
        try:
            with duckdb.connect(path, read_only=True) as con:
                tables = con.execute("select count(*) from duckdb_tables()").fetchone()[0]
                rows, digest = con.execute(
                    "select count(*), coalesce(sum(hash(t)), 0)::varchar from marts.fct_orders as t"
                ).fetchone()
                lines = con.execute("select count(*) from marts.fct_order_lines").fetchone()[0]
            print(f"ok {tables} {rows} {digest} {lines}", flush=True)
        except Exception as err:
            print("error " + repr(err).replace(chr(10), " "), flush=True)
    """
)


@contextmanager
def reader_of(target: Path, stop: Path) -> Iterator[list[str]]:
    """A process querying ``target`` in a loop (:data:`READER`) while the block runs; after it, the list holds
    what each read saw (``ok <tables> <orders> <checksum> <lines>``), and no read failed."""
    observations: list[str] = []
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(target), str(stop)], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        yield observations
    finally:
        stop.touch()
        out, err = reader.communicate(timeout=60)
    assert reader.returncode == 0, err.decode()
    observations.extend(out.decode().splitlines())
    assert [o for o in observations if not o.startswith("ok ")] == []


def test_readers_only_ever_see_a_complete_copy_while_it_is_republished(built, tmp_path):
    # Two versions of the warehouse that differ in their marts: the built one and a copy with orders removed.
    version_a = built.settings.warehouse_path
    version_b = tmp_path / "b" / "futuremart.duckdb"
    version_b.parent.mkdir()
    shutil.copyfile(version_a, version_b)
    with duckdb.connect(str(version_b)) as con:
        con.execute("delete from marts.fct_orders where order_id in (select order_id from marts.fct_orders limit 500)")
        con.execute("delete from marts.fct_order_lines where order_id not in (select order_id from marts.fct_orders)")
    target = tmp_path / "published" / ANALYST_COPY
    published = {}
    for version in (version_a, version_b):
        with duckdb.connect(str(version), read_only=True) as con:
            rows, digest = con.execute(
                "select count(*), coalesce(sum(hash(t)), 0)::varchar from marts.fct_orders as t"
            ).fetchone()
            lines = con.execute("select count(*) from marts.fct_order_lines").fetchone()[0]
        published[version] = (rows, digest, lines)
    n_tables = {len(publish(version_a, target, tag="first").tables)}

    with reader_of(target, tmp_path / "stop") as observations:
        started = time.monotonic()
        for i in range(6):
            publish(version_b if i % 2 == 0 else version_a, target, tag=f"run{i}")
        elapsed = time.monotonic() - started
    seen = set()
    for line in observations:
        _, tables, rows, digest, lines = line.split()
        assert {int(tables)} == n_tables, line
        seen.add((int(rows), digest, int(lines)))
    assert seen <= set(published.values()), "a reader saw a copy that was never published"
    assert seen == set(published.values()), f"the reader ({len(observations)} reads in {elapsed:.0f}s) saw one version"
    assert len(observations) >= 20
    print(f"{len(observations)} reads during 6 publishes in {elapsed:.1f}s")


def test_a_reader_queries_the_published_copy_throughout_a_full_build_and_its_publish(built, tmp_path):
    """Analysts read the published copy, never the warehouse: a reader querying it in a loop while a full
    `dbt build --full-refresh` rewrites every model of the warehouse, and while the result is published,
    never fails, never waits on the build, and sees the copy before or the copy after, whole."""
    warehouse = tmp_path / "warehouse" / "futuremart.duckdb"
    warehouse.parent.mkdir()
    shutil.copyfile(built.settings.warehouse_path, warehouse)
    with duckdb.connect(str(warehouse)) as con:
        # The build reads staging and raw: dropping orders from the mart only makes the copies differ.
        con.execute("delete from marts.fct_orders where order_id in (select order_id from marts.fct_orders limit 300)")
    target = tmp_path / "published" / ANALYST_COPY
    n_tables = len(publish(warehouse, target, tag="before").tables)
    with reader_of(target, tmp_path / "stop") as observations:
        build = subprocess.run(
            [str(Path(sys.executable).with_name("dbt")), "build", "--full-refresh", "--exclude-resource-type"]
            + ["unit_test", "--profiles-dir", ".", "--target-path", str(tmp_path / "target")],
            cwd=DBT_PROJECT_DIR,
            env={**os.environ, **built.settings.dbt_env(), "FUTUREMART_WAREHOUSE_PATH": str(warehouse)},
            capture_output=True,
            text=True,
        )
        assert build.returncode == 0, build.stdout[-3000:]
        publish(warehouse, target, tag="after")
    with duckdb.connect(str(target), read_only=True) as con:
        after = con.execute("select count(*) from marts.fct_orders").fetchone()[0]
    with built.connect() as con:
        assert after == con.execute("select count(*) from marts.fct_orders").fetchone()[0], "rebuilt whole"
    seen_rows = [int(line.split()[2]) for line in observations]
    assert {int(line.split()[1]) for line in observations} == {n_tables}
    assert set(seen_rows) <= {after - 300, after}
    # The reader started with the build: its reads of the copy before are reads during the build.
    assert seen_rows.count(after - 300) >= 20, f"{len(observations)} reads, {seen_rows.count(after)} after"
    print(f"{seen_rows.count(after - 300)} reads during the build, {seen_rows.count(after)} after its publish")


def corrupt_middle(path: Path) -> None:
    with open(path, "r+b") as f:
        f.seek(path.stat().st_size // 2)
        f.write(os.urandom(1 << 20))


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ({"before_verify": corrupt_middle}, "does not open or read back cleanly"),
        ({"before_verify": lambda p: p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])}, "read back"),
        ({"tables": (*ANALYST_TABLES, "governance.no_such_table")}, "is not in the warehouse"),
        ({"schemas": (*ANALYST_SCHEMAS, "staging")}, "hold personal data in clear"),
    ],
    ids=["corrupted-block", "truncated", "missing-table", "personal-data"],
)
def test_a_failed_publish_keeps_the_previous_copy_byte_identical(built, tmp_path, fault, message):
    target = tmp_path / "published" / ANALYST_COPY
    publish(built.settings.warehouse_path, target, tag="good")
    before = sha256(target)
    kwargs = {"schemas": ANALYST_SCHEMAS, "tables": ANALYST_TABLES, **fault}
    with pytest.raises(PublishError, match=message):
        publish_tables(built.settings.warehouse_path, target, tag="bad", **kwargs)
    assert sha256(target) == before
    assert [p.name for p in target.parent.iterdir()] == [ANALYST_COPY]


def test_a_staged_file_left_by_a_crashed_publisher_is_cleaned_up(built, tmp_path):
    target = tmp_path / ANALYST_COPY
    leftover = tmp_path / f"{ANALYST_COPY}.tmp-crashed"
    leftover.write_bytes(b"half a copy")
    result = publish(built.settings.warehouse_path, target, tag="next")
    assert not leftover.exists() and target.exists() and result.bytes == target.stat().st_size


def test_a_failed_build_does_not_publish(built, tmp_path):
    home = tmp_path / "home"
    shutil.copytree(built.settings.landing_dir, home / "landing")
    shutil.copytree(built.settings.published_dir, home / "published")
    before = sha256(home / "published" / ANALYST_COPY)
    failed = materialize(home, seed=TEST_SEED + 5)  # refused at landing: another world lives here
    assert not failed.result.success
    started = {e.step_key for e in failed.result.all_events if e.event_type_value == "STEP_START"}
    assert started and not any("analyst_warehouse" in step for step in started)
    assert sha256(home / "published" / ANALYST_COPY) == before


def _assert_leak_refused(target: Path, warehouse: Path, vault: Vault, table: str, window=None) -> None:
    """Publishing the analyst copy from ``warehouse`` finds a leak in ``table``, and the copy at ``target``
    stays byte-identical."""
    before = sha256(target)
    with pytest.raises(LeakFound, match=table):
        publish_role(warehouse, target.parent, "analyst", tag=f"leak-{warehouse.stem}", vault=vault, window=window)
    assert sha256(target) == before


def _warehouse_copy(built, path: Path, *statements: str) -> Path:
    shutil.copyfile(built.settings.warehouse_path, path)
    with duckdb.connect(str(path)) as con:
        for statement in statements:
            con.execute(statement)
    return path


def test_a_nightly_publish_rewrites_only_the_new_day_and_equals_a_whole_copy(built, tmp_path):
    """The previous copy lacks the last day of the day-partitioned marts: the publish for that day keeps
    every other table, rewrites only that day of those marts, scans only what it wrote, and the result is
    what a copy from scratch holds; another day changed, a table is copied whole; a leak in the new day is
    caught."""
    with built.connect() as con:
        day = con.execute("select max(event_date) from marts.fct_web_events").fetchone()[0]
        day_tables = {
            name: column
            for name, column in DAY_COLUMNS.items()
            if con.execute(f"select count(*) from {name} where {column} = date '{day}'").fetchone()[0]
        }
    assert {"marts.fct_web_events", "marts.fct_order_lines", "marts.fct_inventory_daily"} <= set(day_tables)
    window = (day, day)
    older = _warehouse_copy(
        built,
        tmp_path / "older.duckdb",
        *(f"delete from {name} where {column} = date '{day}'" for name, column in day_tables.items()),
    )
    target, vault = tmp_path / "published" / ANALYST_COPY, Vault.from_settings(built.settings)
    publish_role(older, target.parent, "analyst", tag="yesterday", vault=vault)
    scopes = []

    result = publish_tables(
        built.settings.warehouse_path,
        target,
        schemas=ANALYST_SCHEMAS,
        tables=ANALYST_TABLES,
        optional_schemas=("ml",),
        tag="today",
        window=window,
        before_replace=lambda _, scope, _checked: scopes.append(scope),
    )
    assert set(result.window_rewritten) == set(day_tables)
    assert "reference.regions" in result.reused and "marts.dim_date" in result.reused
    [scope] = scopes
    assert set(scope) == set(day_tables)  # nothing else was written, so nothing else needs a scan
    assert all(f"date '{day}'" in rows for rows in scope.values())
    whole = publish(built.settings.warehouse_path, tmp_path / "whole" / ANALYST_COPY, optional_schemas=("ml",))
    assert result.tables == whole.tables
    with duckdb.connect(str(target), read_only=True) as a, duckdb.connect(str(whole.path), read_only=True) as b:
        assert tables_of(a) == tables_of(b) and mart_checksums(a) == mart_checksums(b)

    # A row of an older day of a day-partitioned mart changed too: rewriting the window is not enough, that
    # row is rewritten as well, and scanned: an email address there is caught.
    older_row = (
        "where rowid = (select min(rowid) from marts.fct_web_events "
        f"where event_date < date '{day}' and channel = 'web')"
    )
    changed = _warehouse_copy(
        built, tmp_path / "changed.duckdb", f"update marts.fct_web_events set channel = 'app' {older_row}"
    )
    again = publish_role(changed, target.parent, "analyst", tag="changed", vault=vault, window=window)
    assert "marts.fct_web_events" in again.published.rows_rewritten
    assert "marts.fct_web_events" not in again.published.window_rewritten + again.published.reused
    with duckdb.connect(str(changed), read_only=True) as con:
        expected = mart_checksums(con)
    with duckdb.connect(str(target), read_only=True) as con:
        assert mart_checksums(con) == expected
    older_leak = _warehouse_copy(
        built,
        tmp_path / "older_leak.duckdb",
        f"update marts.fct_web_events set visitor_id = 'x@example.com' {older_row}",
    )
    _assert_leak_refused(target, older_leak, vault, "fct_web_events", window)

    # A clear email address in the rewritten day: the scan of what was written finds it, the copy stays.
    leaky = _warehouse_copy(
        built,
        tmp_path / "leaky.duckdb",
        f"update marts.fct_web_events set visitor_id = 'someone@example.com' where rowid = (select min(rowid) "
        f"from marts.fct_web_events where event_date = date '{day}')",
    )
    _assert_leak_refused(target, leaky, vault, "fct_web_events", window)


def test_a_table_rebuilt_whole_gets_only_its_changed_rows_rewritten_and_scanned(built, tmp_path):
    """dbt rebuilds fct_orders whole, but a night changes a few of its orders: the publish deletes and
    inserts only those rows in the previous copy's table, scans only the rows it inserted, and the result is
    what a copy from scratch holds; a leak in a changed row is caught and the previous copy stays."""
    target, vault = tmp_path / "published" / ANALYST_COPY, Vault.from_settings(built.settings)
    for role in ("analyst", "finance"):
        publish_role(built.settings.warehouse_path, target.parent, role, tag="yesterday", vault=vault)
    first = "(select min(order_id) from marts.fct_orders)"
    changed = _warehouse_copy(
        built,
        tmp_path / "changed.duckdb",
        f"update marts.fct_orders set order_status = order_status || '-changed' where order_id = {first}",
        "delete from marts.fct_orders where order_id = (select max(order_id) from marts.fct_orders)",
    )
    scopes = []
    result = publish(
        changed, target, tag="today", optional_schemas=("ml",), before_replace=lambda _, s, _c: scopes.append(s)
    )
    assert result.rows_rewritten == ("marts.fct_orders",) and not result.window_rewritten
    [scope] = scopes
    assert set(scope) == {"marts.fct_orders"}
    with duckdb.connect(str(target), read_only=True) as con:
        scoped = con.execute(f"select order_status from marts.fct_orders where {scope['marts.fct_orders']}").fetchall()
    assert len(scoped) == 1 and scoped[0][0].endswith("-changed")
    whole = publish(changed, tmp_path / "whole" / ANALYST_COPY, optional_schemas=("ml",))
    assert result.tables == whole.tables
    with duckdb.connect(str(target), read_only=True) as a, duckdb.connect(str(whole.path), read_only=True) as b:
        assert tables_of(a) == tables_of(b) and mart_checksums(a) == mart_checksums(b)
    # The finance copy holds fct_orders with the same figures: the same rows are rewritten there, found once.
    want = result.tables["marts.fct_orders"]
    assert [key for key in _CHANGED_ROWS if key[0] == 'src."marts"."fct_orders"' and key[2] == want]
    finance = publish_role(changed, target.parent, "finance", tag="today", vault=vault)
    assert "marts.fct_orders" in finance.published.rows_rewritten
    orders = "select * from marts.fct_orders order by order_id"
    with duckdb.connect(str(finance.published.path), read_only=True) as a, duckdb.connect(str(changed)) as b:
        assert a.execute(orders).fetchall() == b.execute(orders).fetchall()

    leaky = _warehouse_copy(
        built,
        tmp_path / "leaky.duckdb",
        f"update marts.fct_orders set order_status = 'someone@example.com' where order_id = {first}",
    )
    _assert_leak_refused(target, leaky, vault, "fct_orders")


def test_changed_rows_are_found_by_their_counts_and_exact_duplicates_fall_back_to_a_whole_copy(tmp_path):
    """The rows a night changed are found in one pass that counts each row hash on both sides: the copy gets
    the changed and new rows. A change that involves exact duplicate rows (rows are deleted and inserted by
    their hash, which takes every copy of the row) makes the table copied whole instead; either way the
    copy holds what the source holds."""
    warehouse, target = tmp_path / "warehouse.duckdb", tmp_path / "published" / "copy.duckdb"
    query = "select id, label, count(*) from marts.t group by all order by all"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema marts")
        con.execute("create table marts.t as select i as id, 'item ' || i as label from range(100) as r(i)")
    publish_tables(warehouse, target, schemas=("marts",), tag="first")
    for tag, changes, rewritten in (
        (
            "changed",
            ["update marts.t set label = 'changed' where id = 3", "insert into marts.t values (100, 'new')"],
            True,
        ),
        ("duplicated", ["insert into marts.t values (7, 'item 7')"], False),
        ("deduplicated", ["delete from marts.t where id = 7", "insert into marts.t values (7, 'item 7')"], False),
    ):
        with duckdb.connect(str(warehouse)) as con:
            for change in changes:
                con.execute(change)
            expected = con.execute(query).fetchall()
        result = publish_tables(warehouse, target, schemas=("marts",), tag=tag)
        assert result.rows_rewritten == (("marts.t",) if rewritten else ()), tag
        assert result.reused == ()
        with duckdb.connect(str(target), read_only=True) as con:
            assert con.execute(query).fetchall() == expected, tag


def test_what_a_nightly_publish_keeps_is_matched_against_the_vault_as_it_is_now(built, tmp_path):
    """A kept table passed the leak scan when its copy was published, against the vault of that day. A clear
    value the vault learns later (a street address, which no pattern recognises) sitting in a kept table is
    still found: kept rows are matched against the vault again."""
    vault = Vault.from_settings(built.settings)
    with duckdb.connect() as con:
        attach_vault(con, vault, read_only=True, alias="v")
        street = con.execute(
            "select clear_value from ("
            + " union all ".join(
                f'select clear_value, pii_class from v.main."{t}"'
                for (t,) in con.execute("select table_name from duckdb_tables() where database_name = 'v'").fetchall()
            )
            + ") where pii_class = 'address' order by 1 limit 1"
        ).fetchone()[0]
    warehouse = _warehouse_copy(
        built,
        tmp_path / "planted.duckdb",
        "update marts.dim_product set product_name = " + "'" + street.replace("'", "''") + "' "
        "where rowid = (select min(rowid) from marts.dim_product)",
    )
    target = tmp_path / "published" / ANALYST_COPY
    publish_role(warehouse, target.parent, "analyst", tag="before-the-vault-knew")  # no vault: patterns only
    with pytest.raises(LeakFound, match="dim_product"):
        publish_role(
            warehouse, target.parent, "analyst", tag="today", vault=vault, window=(built.settings.end_date,) * 2
        )


def test_kept_rows_are_matched_against_the_values_vaulted_since_their_last_scan(built, tmp_path):
    """A copy published with the vault records, per table, the vault stamp it was scanned against. The next
    publish matches the rows it keeps against the values vaulted since: a clear value the vault learns
    afterwards (a street no pattern recognises) sitting in a kept table is found; the tables say which stamp
    their kept rows were last checked against."""
    vault = Vault(tmp_path / "vault" / built.settings.vault_path.name, Vault.from_settings(built.settings).key)
    shutil.copytree(built.settings.vault_path.parent, vault.path.parent)
    street = "17 Quarry Hollow Lane"
    warehouse = _warehouse_copy(
        built,
        tmp_path / "planted.duckdb",
        f"update marts.dim_product set product_name = '{street}' "
        "where rowid = (select min(rowid) from marts.dim_product)",
    )
    target = tmp_path / "published" / ANALYST_COPY
    first = publish_role(warehouse, target.parent, "analyst", tag="first", vault=vault)  # the vault lacks it
    assert first.scan.clean
    stamp = vaulted_up_to(vault)
    with duckdb.connect(str(target), read_only=True) as con:
        comments = dict(con.execute("select schema_name || '.' || table_name, comment from duckdb_tables()").fetchall())
    assert all(c.endswith(f"vault_checked={stamp.isoformat()}") for c in comments.values()), comments

    # The same warehouse again: every table is kept, and was checked against the vault as of the stamp.
    checked = []
    publish_tables(
        warehouse,
        target,
        schemas=ANALYST_SCHEMAS,
        tables=ANALYST_TABLES,
        optional_schemas=("ml",),
        tag="again",
        before_replace=lambda _, scope, vault_checked: checked.append((scope, vault_checked)),
        vault_stamp=stamp,
    )
    [(scope, vault_checked)] = checked
    assert scope == {} and vault_checked == dict.fromkeys(comments, stamp)

    # A customer's street is vaulted later (by the loader, whose stamps only grow): the kept table holds it.
    with duckdb.connect() as con:
        attach_vault(con, vault, alias="v")
        con.execute(
            "insert into v.main.crm_customers values ('t-new', 'address', 'street', ?, 'crm/customers.csv', ?)",
            [street, stamp + dt.timedelta(seconds=1)],
        )
    with pytest.raises(LeakFound, match="dim_product") as leak:
        publish_role(
            warehouse, target.parent, "analyst", tag="today", vault=vault, window=(built.settings.end_date,) * 2
        )
    assert leak.value.scan.hits == {"marts.dim_product.product_name": {"vault": 1}}


def test_the_loader_never_stamps_a_vault_value_earlier_than_the_vault_holds(built, tmp_path):
    """A clock set back (or not yet moved on) must not stamp new vault values at or before a scan's recorded
    stamp: the stamp is the later of the clock and just after the vault's latest."""
    vault = Vault(tmp_path / "vault.duckdb", Vault.from_settings(built.settings).key)
    shutil.copyfile(built.settings.vault_path, vault.path)
    latest = vaulted_up_to(vault)
    with duckdb.connect() as con:
        attach_vault(con, vault, alias=VAULT_SCHEMA)
        assert _vault_stamp(con, latest - dt.timedelta(days=400)) == latest + dt.timedelta(microseconds=1)
        assert _vault_stamp(con, latest) == latest + dt.timedelta(microseconds=1)
        assert _vault_stamp(con, latest + dt.timedelta(hours=1)) == latest + dt.timedelta(hours=1)
