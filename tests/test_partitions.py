"""Daily partitions: which assets have them, the sensor on landed files, backfills, and a new day's run."""

import datetime as dt
import json
import os
import re
import shutil

import dagster as dg
import duckdb

from futuremart.settings import PROJECT_ROOT
from ingestion.contracts import load_contracts
from ingestion.raw_loader import landed_files
from orchestration.definitions import after_landing, build_definitions, defs
from orchestration.defs.automation import landed_file_sensor
from orchestration.partitions import DAILY, range_tags
from orchestration.resources import FutureMartResource
from tests.conftest import TEST_SCALE, TEST_SEED, mart_checksums


def test_high_volume_feeds_are_daily_partitioned_and_reference_data_is_not():
    specs = {s.key: s for s in defs.resolve_all_asset_specs()}
    for contract in load_contracts():
        spec = specs[dg.AssetKey(["raw", contract.raw_table])]
        assert (spec.partitions_def == DAILY) == contract.partitioned, contract.raw_table
        assert spec.freshness_policy is not None, contract.raw_table
    assert {c.raw_table for c in load_contracts() if c.partitioned} >= {"shop_orders", "shop_clickstream"}
    assert defs.resolve_job_def("daily_refresh").partitions_def == DAILY
    assert defs.resolve_schedule_def("daily_refresh_schedule").cron_schedule == "0 4 * * *"


def test_models_are_retrained_weekly_not_by_the_nightly_refresh():
    daily = defs.resolve_job_def("daily_refresh").asset_layer.executable_asset_keys
    weekly = defs.resolve_job_def("weekly_model_training").asset_layer.executable_asset_keys
    ml = {spec.key for spec in defs.resolve_all_asset_specs() if spec.group_name == "ml"}
    assert ml and ml <= weekly and not ml & daily
    published = {spec.key for spec in defs.resolve_all_asset_specs() if spec.group_name == "published"}
    assert published <= daily and published <= weekly  # both runs refresh what analysts read
    schedule = defs.resolve_schedule_def("weekly_model_training_schedule")
    assert schedule.cron_schedule == "0 6 * * 1" and schedule.job_name == "weekly_model_training"


def test_the_nightly_schedule_requests_the_previous_day_and_skips_outside_the_calendar():
    schedule = defs.resolve_schedule_def("daily_refresh_schedule")
    keys = DAILY.get_partition_keys()
    second_day = dt.datetime.fromisoformat(keys[1]).replace(hour=4, tzinfo=dt.UTC)
    [request] = schedule.evaluate_tick(
        dg.build_schedule_context(scheduled_execution_time=second_day, repository_def=defs.get_repository_def())
    ).run_requests
    assert request.partition_key == keys[0]
    first_day = dt.datetime.fromisoformat(keys[0]).replace(hour=4, tzinfo=dt.UTC)
    skipped = schedule.evaluate_tick(
        dg.build_schedule_context(scheduled_execution_time=first_day, repository_def=defs.get_repository_def())
    )
    assert not skipped.run_requests and "outside the daily partitions" in skipped.skip_message


def _move_day(landing, day: str, to) -> list[str]:
    moved = []
    for folder in landing.glob(f"*/*/dt={day}"):
        target = to / folder.relative_to(landing)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(folder, target)
        moved.append(folder.relative_to(landing).as_posix())
    return moved


def _move_last_row(source_day, target_day) -> str:
    """Move the last row of the day's CSV extract to the end of the same extract of another day."""
    (source,) = source_day.glob("*.csv")
    lines = source.read_text().splitlines(keepends=True)
    source.write_text("".join(lines[:-1]))
    target = target_day / source.name
    row = lines[-1].strip()
    target.write_text(target.read_text().rstrip("\n") + "\n" + row + "\n")
    return row


def day_clustered_models() -> dict[str, str]:
    """Models written in day order (``{{ cluster_by_day('<column>') }}``, macros/day_clustering.sql), read from
    their SQL: model name -> day column."""
    found = {}
    for path in (PROJECT_ROOT / "dbt_project" / "models").rglob("*.sql"):
        if call := re.search(r"cluster_by_day\('(\w+)'\)", path.read_text()):
            found[path.stem] = call.group(1)
    return found


def days_stored_apart(con: duckdb.DuckDBPyConnection, model: str, column: str) -> int:
    """How many more runs of one day's rows than days the table holds, in storage order (rowid): 0 when
    every day's rows are stored together."""
    (schema,) = con.execute("select schema_name from duckdb_tables() where table_name = ?", [model]).fetchone()
    return con.execute(
        f"select count(*) filter (where {column} is distinct from previous) - count(distinct {column}) "
        f'from (select {column}, lag({column}) over (order by rowid) as previous from "{schema}"."{model}")'
    ).fetchone()[0]


def test_a_new_day_lands_the_sensor_runs_it_and_the_result_equals_a_full_build(built, tmp_path, monkeypatch):
    settings = built.settings
    last_day = settings.end_date.isoformat()
    home = tmp_path / "home"
    shutil.copytree(settings.landing_dir, home / "landing")
    held_back = _move_day(home / "landing", last_day, tmp_path / "later")
    assert held_back, "the last day has landed files"
    # A line of an order two days old arrives late, in the last day's extract: the new day's run must put
    # it under its order's day (the full build read it from its own day's file).
    late_line = _move_last_row(
        home / "landing" / "shop" / "order_lines" / f"dt={settings.end_date - dt.timedelta(days=2)}",
        tmp_path / "later" / "shop" / "order_lines" / f"dt={last_day}",
    )

    # Build every day but the last in one run (the models trained too, as a first build does: the nightly job
    # reads their outputs), as the UI's single-run backfill does; the extracts are already landed.
    resource = FutureMartResource(home=str(home), seed=TEST_SEED, scale_factor=TEST_SCALE)
    definitions = build_definitions(resource)
    job = definitions.resolve_job_def("daily_refresh")
    before = definitions.resolve_job_def("materialize_everything").execute_in_process(
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
        asset_selection=after_landing(definitions),
        tags=range_tags(settings.start_date, settings.end_date - dt.timedelta(days=1)),
    )
    assert before.success
    partitions = {e.partition for e in before.get_asset_materialization_events() if e.partition}
    assert last_day not in partitions and len(partitions) == settings.n_days - 1

    # The sensor has seen everything landed so far; then the last day's files land.
    monkeypatch.setenv("FUTUREMART_HOME", str(home))
    instance = dg.DagsterInstance.ephemeral()
    first = landed_file_sensor(dg.build_sensor_context(instance=instance, definitions=defs))
    # One run per file and entity reading it (the PIM catalog file feeds three raw tables).
    landed_so_far = [f for c in load_contracts() for f in landed_files(c, home / "landing")]
    assert len(first.run_requests) == len(landed_so_far)
    assert last_day not in {r.partition_key for r in first.run_requests}
    _move_day(tmp_path / "later", last_day, home / "landing")
    for folder in (home / "landing").glob(f"*/*/dt={last_day}"):
        for f in folder.iterdir():
            os.utime(f)  # a file that lands now is newer than anything the sensor has seen
    second = landed_file_sensor(dg.build_sensor_context(instance=instance, cursor=first.cursor, definitions=defs))
    # File times are coarse (a few ms): files as new as the cursor come again, and Dagster drops a run
    # request whose run key it has seen, so only new keys start runs.
    seen = {r.run_key for r in first.run_requests}
    new_requests = [r for r in second.run_requests if r.run_key not in seen]
    requested = {
        json.dumps([r.partition_key, r.tags["futuremart/landed_file"], r.asset_selection[0].to_user_string()])
        for r in new_requests
    }
    day = settings.end_date
    expected = {
        json.dumps([last_day, f.relative_to(home / "landing").as_posix(), f"raw/{c.raw_table}"])
        for c in load_contracts()
        for f in landed_files(c, home / "landing", (day, day))
    }
    assert requested == expected
    assert len({r.run_key for r in new_requests}) == len(new_requests)

    # The nightly refresh of that one day brings the warehouse to exactly what a full build gives.
    new_day = job.execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), raise_on_error=False, partition_key=last_day
    )
    assert new_day.success
    with built.connect() as con:
        full_build = mart_checksums(con)
    # The analysts' copy, published from the previous one with only the new day rewritten, is the same.
    with duckdb.connect(str(resource.settings.published_dir / "analyst.duckdb"), read_only=True) as con:
        assert mart_checksums(con) == full_build
    with resource.warehouse(read_only=True) as con:
        order_id, line_number = late_line.split(",")[:2]
        assert con.execute(
            "select count(*) from marts.fct_order_lines where order_id = ? and line_number = ?",
            [order_id.strip('"'), int(line_number.strip('"'))],
        ).fetchone() == (1,)
        assert mart_checksums(con) == full_build
        # The facts rebuilt by day keep each day's rows together: a night deletes its days and appends them.
        clustered = day_clustered_models()
        assert {"fct_web_events", "int_web__sessionized_events", "fct_inventory_daily"} <= set(clustered)
        apart = {model: days_stored_apart(con, model, column) for model, column in clustered.items()}
        assert apart == dict.fromkeys(clustered, 0)
        loaded_today = con.execute(
            "select count(*) from governance.load_audit where run_id = ? and status = 'loaded'", [new_day.run_id]
        ).fetchone()[0]
    assert loaded_today == len(expected)

    # Running the same day again changes nothing: files are skipped, facts rebuilt identically.
    again = job.execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), raise_on_error=False, partition_key=last_day
    )
    assert again.success
    with resource.warehouse(read_only=True) as con:
        assert mart_checksums(con) == full_build
