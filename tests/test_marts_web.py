"""Web marts (clickstream): funnel against orders, no event lost, the sessionization rule, no personal data.

The generator (ingestion/world/clickstream.py) gives every web and app order exactly one tracker session
ending in a ``purchase`` event that carries the order id at the order's timestamp; marketplace orders leave
no clickstream. The tests hold the marts to that, and reconcile events from the landed files to the fact.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb

from futuremart.settings import DBT_PROJECT_DIR
from ingestion.contracts import load_contracts
from ingestion.raw_loader import landed_files
from orchestration.partitions import late_arrival_days

WEB_MARTS = ("fct_web_events", "fct_sessions", "agg_funnel_daily", "agg_product_views_daily", "agg_kpis_hourly")
SESSION_GAP_SECONDS = 30 * 60
IPV4 = r"(^|[^0-9])[0-9]{1,3}([.][0-9]{1,3}){3}($|[^0-9])"


def _rows(con, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def test_every_clickstream_order_maps_to_exactly_one_converted_session(built):
    with built.connect() as con:
        bad = _rows(
            con,
            """
            with purchased as (
                select distinct order_id from marts.fct_web_events where event_type = 'purchase'
            )
            select orders.order_id, count(sessions.session_key) as converted_sessions
            from marts.fct_orders as orders
            inner join purchased on orders.order_id = purchased.order_id
            left join marts.fct_sessions as sessions
                on sessions.order_id = orders.order_id
                and sessions.is_converted
                and sessions.channel = orders.channel
                and sessions.customer_id = orders.customer_id
            group by orders.order_id
            having count(sessions.session_key) <> 1
            """,
        )
        assert bad == [], f"orders without exactly one matching converted session: {bad[:5]}"
        # A converted session places one order, and every order id of a session is a real purchase event.
        assert _rows(con, "select count(*) from marts.fct_sessions where is_converted and order_id is null") == [(0,)]
        assert _rows(con, "select max(purchase_count) from marts.fct_sessions") == [(1,)]


def test_converted_sessions_per_day_equal_purchased_orders_per_day(built):
    with built.connect() as con:
        # The purchase is a session's last event (it closes the session), so a session converts on the day
        # it ends; raw purchase events are counted independently of the sessionization.
        diff = _rows(
            con,
            """
            with from_sessions as (
                select cast(session_ended_at as date) as day, count(*) as n
                from marts.fct_sessions where is_converted group by 1
            ),
            from_events as (
                select cast(event_at as date) as day, count(distinct order_id) as n
                from raw.shop_clickstream where event_type = 'purchase' group by 1
            )
            select coalesce(s.day, e.day), s.n, e.n
            from from_sessions as s full outer join from_events as e on s.day = e.day
            where s.n is distinct from e.n
            """,
        )
        assert diff == []
        # The daily funnel carries the same sessions and conversions as the session fact.
        funnel = _rows(
            con,
            """
            with s as (
                select session_date, channel, count(*) as sessions,
                    sum(case when is_converted then 1 else 0 end) as converted
                from marts.fct_sessions group by 1, 2
            )
            select count(*) from s
            full outer join marts.agg_funnel_daily as f using (session_date, channel)
            where f.sessions is distinct from s.sessions or f.converted_sessions is distinct from s.converted
            """,
        )
        assert funnel == [(0,)]


def test_share_of_orders_with_a_clickstream_session(built):
    with built.connect() as con:
        shares = dict(
            (channel, (orders, with_session))
            for channel, orders, with_session in _rows(
                con,
                """
                select orders.channel, count(*), count(sessions.order_id)
                from marts.fct_orders as orders
                left join marts.fct_sessions as sessions on orders.order_id = sessions.order_id
                group by 1
                """,
            )
        )
    total = sum(n for n, _ in shares.values())
    with_session = sum(s for _, s in shares.values())
    print(f"orders with a clickstream session: {with_session}/{total} = {with_session / total:.3f} {shares}")
    assert set(shares) <= {"web", "app", "marketplace"}
    for channel in ("web", "app"):
        orders, matched = shares[channel]
        assert orders > 0 and matched == orders, f"{channel}: {matched}/{orders} orders have a session"
    if "marketplace" in shares:
        assert shares["marketplace"][1] == 0, "marketplace orders are placed off-site and have no session"


def test_no_event_is_lost_between_landing_raw_and_the_fact(built):
    contract = next(c for c in load_contracts() if c.raw_table == "shop_clickstream")
    landed = 0
    for path in landed_files(contract, built.settings.landing_dir):
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            landed += sum(1 for line in handle if line.strip())
    with built.connect() as con:
        ((raw_rows, raw_keys),) = _rows(con, "select count(*), count(distinct event_id) from raw.shop_clickstream")
        (quarantined,) = con.execute("select count(*) from quarantine.shop_clickstream").fetchone()
        (fact_rows,) = con.execute("select count(*) from marts.fct_web_events").fetchone()
        (missing,) = con.execute(
            "select count(*) from (select event_id from raw.shop_clickstream "
            "except select event_id from marts.fct_web_events)"
        ).fetchone()
        (extra,) = con.execute(
            "select count(*) from (select event_id from marts.fct_web_events "
            "except select event_id from raw.shop_clickstream)"
        ).fetchone()
    assert landed == raw_rows + quarantined
    # Staging keeps one row per event_id (latest export wins): the duplicates it drops are the only loss.
    assert fact_rows == raw_rows - (raw_rows - raw_keys)
    assert missing == 0 and extra == 0
    dropped = raw_rows - raw_keys
    print(f"events: landed {landed}, quarantined {quarantined}, duplicates dropped {dropped}, fact {fact_rows}")


def test_sessions_follow_the_30_minute_rule(built):
    with built.connect() as con:
        # Inside a session, no two consecutive events are more than 30 minutes apart.
        (too_long_gaps,) = con.execute(
            f"""
            select count(*) from (
                select date_diff('second', lag(event_at) over w, event_at) as gap
                from marts.fct_web_events
                window w as (partition by session_key order by event_at, event_id)
            ) where gap > {SESSION_GAP_SECONDS}
            """
        ).fetchone()
        assert too_long_gaps == 0
        # One visitor, one customer and one channel per session.
        (mixed,) = con.execute(
            """
            select count(*) from (
                select session_key from marts.fct_web_events group by 1
                having count(distinct visitor_id) > 1 or count(distinct channel) > 1
                    or count(distinct coalesce(customer_id, '')) > 1
            )
            """
        ).fetchone()
        assert mixed == 0
        # Consecutive sessions of a visitor are more than 30 minutes apart, unless the earlier one ended with
        # a purchase (an order closes the session), and they never overlap.
        rows = _rows(
            con,
            """
            select
                date_diff('second', lag(session_ended_at) over w, session_started_at) as gap,
                lag(is_converted) over w as previous_converted
            from marts.fct_sessions
            window w as (partition by visitor_id order by session_started_at, session_key)
            """,
        )
    gaps = [(gap, converted) for gap, converted in rows if gap is not None]
    assert gaps, "no visitor has two sessions"
    assert all(gap >= 0 for gap, _ in gaps), "sessions of a visitor overlap"
    assert all(gap > SESSION_GAP_SECONDS for gap, converted in gaps if not converted)
    closed_by_purchase = sum(1 for gap, converted in gaps if converted and gap <= SESSION_GAP_SECONDS)
    print(f"returning-visitor sessions: {len(gaps)}, of which {closed_by_purchase} split by a purchase")


def test_product_purchases_match_online_order_lines(built):
    with built.connect() as con:
        (from_clicks,) = con.execute("select sum(purchasing_sessions) from marts.agg_product_views_daily").fetchone()
        (from_orders,) = con.execute(
            """
            select count(*) from (
                select distinct lines.order_id, lines.product_id
                from marts.fct_order_lines as lines
                inner join marts.fct_sessions as sessions on lines.order_id = sessions.order_id
            )
            """
        ).fetchone()
    # Every bought product is added to the cart in its buying session; a browse session merged into a
    # buying one (same visitor within 30 minutes) can add a few products that were not bought.
    assert from_orders > 0
    assert from_orders <= from_clicks <= from_orders * 1.01 + 5


def test_no_web_mart_holds_ip_addresses_user_agents_or_search_text(built):
    with built.connect() as con:
        raw_values = {
            r[0]
            for column in ("ip_address", "user_agent", "search_query")
            for r in con.execute(
                f"select distinct {column} from raw.shop_clickstream where {column} is not null"
            ).fetchall()
        }
        columns = _rows(
            con,
            "select table_name, column_name, data_type from information_schema.columns "
            f"where table_schema = 'marts' and table_name in {WEB_MARTS}",
        )
        assert {t for t, _, _ in columns} == set(WEB_MARTS)
        names = {c for _, c, _ in columns}
        assert not names & {"ip_address", "user_agent", "search_query", "ip", "useragent"}
        for table, column, data_type in columns:
            if data_type != "VARCHAR":
                continue
            (looks_like_ip, looks_like_agent) = con.execute(
                f"""
                select
                    count(*) filter (where regexp_matches("{column}", '{IPV4}')),
                    count(*) filter (where "{column}" ilike '%mozilla/%' or "{column}" ilike '%futuremartapp/%')
                from marts.{table}
                """
            ).fetchone()
            assert looks_like_ip == 0, f"marts.{table}.{column} holds IP addresses"
            assert looks_like_agent == 0, f"marts.{table}.{column} holds user agents"
            values = {r[0] for r in con.execute(f'select distinct "{column}" from marts.{table}').fetchall()}
            assert not values & raw_values, f"marts.{table}.{column} holds an IP, user agent or search text"


def test_the_incremental_clickstream_staging_takes_a_reexport_and_equals_its_definition(built, tmp_path):
    """stg_shop__clickstream is an incremental table on DuckDB (the one extract too big to deduplicate on
    every read): a build takes the rows loaded since the last one and every copy of their events. A re-export
    of an old event, loaded later, must replace its earlier copy, and the table must stay what its definition
    says: the latest copy of every event in raw. A build that finds nothing new changes nothing."""
    # Same file name: dbt views refer to their catalog by name (futuremart).
    copy = tmp_path / built.settings.warehouse_path.name
    shutil.copy(built.settings.warehouse_path, copy)
    with duckdb.connect(str(copy)) as con:
        event_id, channel = con.execute(
            "select event_id, channel from raw.shop_clickstream order by _loaded_at, _source_file, _source_line limit 1"
        ).fetchone()
        con.execute(
            "insert into raw.shop_clickstream select * replace ("
            "  case channel when 'web' then 'app' else 'web' end as channel,"
            "  'shop/clickstream/dt=2999-01-01/events.ndjson.gz' as _source_file, 1 as _source_line,"
            "  'test-reexport' as _load_id,"
            "  (select max(_loaded_at) from raw.shop_clickstream) + interval 1 second as _loaded_at"
            ") from raw.shop_clickstream where event_id = ?",
            [event_id],
        )

    def build() -> None:
        proc = subprocess.run(
            [str(Path(sys.executable).with_name("dbt")), "build", "--select", "stg_shop__clickstream"]
            + ["--profiles-dir", ".", "--target-path", str(tmp_path / "target")],
            cwd=DBT_PROJECT_DIR,
            env={**os.environ, **built.settings.dbt_env(), "FUTUREMART_WAREHOUSE_PATH": str(copy)},
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 0, proc.stdout[-3000:]

    definition = (
        "select event_id, session_id, customer_id, event_type, event_at, channel, product_id, search_query,"
        " order_id, ip_address, user_agent, _source_file, _loaded_at from ("
        "  select *, row_number() over (partition by event_id order by _source_file desc, _source_line desc) as r"
        "  from raw.shop_clickstream) as ranked where r = 1"
    )
    staged = (
        "select event_id, session_id, customer_id, event_type, event_at, channel, product_id, search_query,"
        " order_id, ip_address_token, user_agent, source_file, loaded_at from staging.stg_shop__clickstream"
    )
    build()
    with duckdb.connect(str(copy), read_only=True) as con:
        assert con.execute(
            "select channel, source_file from staging.stg_shop__clickstream where event_id = ?", [event_id]
        ).fetchall() == [("app" if channel == "web" else "web", "shop/clickstream/dt=2999-01-01/events.ndjson.gz")]
        assert con.execute(f"select count(*) from (({definition}) except all ({staged}))").fetchone() == (0,)
        assert con.execute(f"select count(*) from (({staged}) except all ({definition}))").fetchone() == (0,)
        before = con.execute(f"select count(*), sum(hash(s)) from ({staged}) as s").fetchone()
    build()
    with duckdb.connect(str(copy), read_only=True) as con:
        assert con.execute(f"select count(*), sum(hash(s)) from ({staged}) as s").fetchone() == before


def _dbt_test_failures(
    built, warehouse: Path, target: Path, window: dict[str, str], model: str = "fct_web_events"
) -> dict[str, int]:
    """Failing rows per test of ``model`` on ``warehouse``, for a run whose window reaches dbt as Dagster
    passes it (environment variables)."""
    proc = subprocess.run(
        [str(Path(sys.executable).with_name("dbt")), "test", "--select", model]
        + ["--profiles-dir", ".", "--target-path", str(target)],
        cwd=DBT_PROJECT_DIR,
        env={**os.environ, **built.settings.dbt_env(), "FUTUREMART_WAREHOUSE_PATH": str(warehouse), **window},
        capture_output=True,
        text=True,
    )
    results = json.loads((target / "run_results.json").read_text())["results"]
    assert results, proc.stdout[-2000:]
    return {r["unique_id"].split(".")[2]: r["failures"] or 0 for r in results}


def test_a_windowed_run_tests_its_days_and_still_catches_a_key_repeated_from_an_older_day(built, tmp_path):
    """fct_web_events' tests check the days a partitioned run rebuilt (``meta.run_window_column``); its
    ``unique`` on event_id reads every day's rows that share a key with the window's, so an event of an older
    day repeated in the window fails it, while a bad value on an older day waits for a run without a window."""
    copy = tmp_path / built.settings.warehouse_path.name
    shutil.copy(built.settings.warehouse_path, copy)
    last = built.settings.end_date
    old_day = last - dt.timedelta(days=30)
    with duckdb.connect(str(copy)) as con:
        repeated, changed = con.execute(
            "select min(event_id), max(event_id) from marts.fct_web_events where event_date < ?", [old_day]
        ).fetchone()
        con.execute(
            "insert into marts.fct_web_events select * replace (cast(? as date) as event_date) "
            "from marts.fct_web_events where event_id = ?",
            [last, repeated],
        )
        con.execute("update marts.fct_web_events set channel = 'kiosk' where event_id = ?", [changed])
    unique, channel = "unique_fct_web_events_event_id", "accepted_values_fct_web_events_channel__web__app"

    day = {"FUTUREMART_RUN_MIN_DATE": last.isoformat(), "FUTUREMART_RUN_MAX_DATE": last.isoformat()}
    windowed = _dbt_test_failures(built, copy, tmp_path / "windowed", day)
    assert windowed[unique] == 1 and windowed[channel] == 0, windowed
    everything = _dbt_test_failures(built, copy, tmp_path / "whole", dict.fromkeys(day, ""))
    assert everything[unique] == 1 and everything[channel] == 1, everything


def test_a_windowed_run_tests_the_sessions_reaching_into_its_days(built, tmp_path):
    """fct_sessions' tests check the sessions that overlap the days a run rebuilt
    (``meta.run_window_end_column``): one started the day before the first rebuilt day and ending in it is
    tested with them, one ended before them is not; ``unique`` still reads an older day's copy of a key."""
    copy = tmp_path / built.settings.warehouse_path.name
    shutil.copy(built.settings.warehouse_path, copy)
    last = built.settings.end_date
    first_rebuilt = last - dt.timedelta(days=late_arrival_days())
    with duckdb.connect(str(copy)) as con:
        # A session of the day before the window made to run past midnight into it.
        crossing = con.execute(
            "select min(session_key) from marts.fct_sessions where session_date = ?",
            [first_rebuilt - dt.timedelta(days=1)],
        ).fetchone()[0]
        con.execute(
            "update marts.fct_sessions set channel = 'kiosk', session_ended_at = cast(? as timestamp) "
            "+ interval 10 minute where session_key = ?",
            [first_rebuilt, crossing],
        )
        ended_before, repeated = con.execute(
            "select min(session_key), max(session_key) from marts.fct_sessions where session_ended_at < ?",
            [first_rebuilt - dt.timedelta(days=1)],
        ).fetchone()
        # Another bad value than the crossing session's: accepted_values counts failing values, not rows.
        con.execute("update marts.fct_sessions set channel = 'phone' where session_key = ?", [ended_before])
        con.execute(
            "insert into marts.fct_sessions select * replace (cast(? as date) as session_date, "
            "cast(? as timestamp) as session_started_at, cast(? as timestamp) as session_ended_at, "
            "0 as duration_seconds) from marts.fct_sessions where session_key = ?",
            [last, last, last, repeated],
        )
    unique, channel = "unique_fct_sessions_session_key", "accepted_values_fct_sessions_channel__web__app"

    day = {"FUTUREMART_RUN_MIN_DATE": last.isoformat(), "FUTUREMART_RUN_MAX_DATE": last.isoformat()}
    windowed = _dbt_test_failures(built, copy, tmp_path / "windowed", day, "fct_sessions")
    assert windowed[unique] == 1 and windowed[channel] == 1, windowed
    everything = _dbt_test_failures(built, copy, tmp_path / "whole", dict.fromkeys(day, ""), "fct_sessions")
    assert everything[unique] == 1 and everything[channel] == 2, everything
