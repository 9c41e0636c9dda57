"""Frames read through Arrow are the frames DuckDB's ``.df()`` gives: dtypes, nulls and values."""

import uuid

import duckdb
import pandas as pd

from futuremart.frames import arrow_to_frame, read_frame, read_frames

MIXED = """
    select
        'a' || i as text, case when i % 3 = 0 then null else 'b' end as some_null_text,
        null::varchar as null_text, i::integer as whole, nullif(i, 4)::smallint as whole_with_null,
        (i * 1000000000000)::ubigint as big, nullif(i, 2)::utinyint as small_with_null,
        i % 2 = 0 as flag, case when i = 1 then null else i > 3 end as flag_with_null,
        (i / 3)::float as ratio, case when i = 5 then null else i / 7 end as share,
        date '2024-02-28' + i::integer as day,
        case when i = 0 then null else timestamp '2024-01-01 10:00' + to_hours(i::integer) end as seen_at,
        i::decimal(12, 2) as amount,
        -- Arrow carries a UUID as text; .df() gives uuid.UUID objects.
        ('00000000-0000-0000-0000-00000000000' || i)::uuid as visitor_uuid
    from range(9) as r(i)
"""


def test_a_result_reads_as_df_gives_it_whatever_its_types_and_nulls():
    con = duckdb.connect()
    expected = con.execute(MIXED).df()
    pd.testing.assert_frame_equal(read_frame(con, MIXED), expected, check_exact=True)
    # The decimal and the UUID are read by .df() itself, the all-null text through DuckDB from its Arrow
    # buffers; without them Arrow reads everything.
    arrow_only = f"select * exclude (amount, null_text, visitor_uuid) from ({MIXED})"
    assert arrow_to_frame(con.execute(arrow_only).to_arrow_table()) is not None
    assert (
        arrow_to_frame(con.execute(f"select * exclude (amount, visitor_uuid) from ({MIXED})").to_arrow_table()) is None
    )
    assert isinstance(read_frame(con, MIXED).visitor_uuid[0], uuid.UUID)
    pd.testing.assert_frame_equal(read_frame(con, arrow_only), con.execute(arrow_only).df(), check_exact=True)
    empty = f"{arrow_only} where false"
    pd.testing.assert_frame_equal(read_frame(con, empty), con.execute(empty).df(), check_exact=True)

    # In frames: at most the rows asked for, together the whole result, one empty frame for no rows.
    frames = list(read_frames(con, arrow_only, 4))
    assert [len(f) for f in frames] == [4, 4, 1]
    pd.testing.assert_frame_equal(pd.concat(frames, ignore_index=True), con.execute(arrow_only).df(), check_exact=True)
    (none,) = read_frames(con, empty, 4)
    pd.testing.assert_frame_equal(none, con.execute(empty).df(), check_exact=True)
    # Batches with all-null text, or with a type left to .df(), still read as .df() gives them.
    with_null_text = f"select * exclude (amount, visitor_uuid) from ({MIXED})"
    pd.testing.assert_frame_equal(
        list(read_frames(con, with_null_text, 5))[0], con.execute(with_null_text).df().iloc[:5], check_exact=True
    )
    mixed_frames = list(read_frames(con, MIXED, 5))
    pd.testing.assert_frame_equal(pd.concat(mixed_frames, ignore_index=True), expected, check_exact=True)


def test_every_table_of_the_warehouse_reads_as_df_gives_it(built):
    with built.connect() as con:
        tables = con.execute(
            "select schema_name, table_name from duckdb_tables() where database_name = current_database()"
        ).fetchall()
        assert len(tables) > 100
        for schema, table in tables:
            sql = f'select * from "{schema}"."{table}"'
            pd.testing.assert_frame_equal(read_frame(con, sql), con.execute(sql).df(), check_exact=True, obj=sql)
