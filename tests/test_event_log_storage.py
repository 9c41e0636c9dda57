"""The Dagster event log with its SQLite connections kept open (orchestration/storage.py): what a run stores
reads back as Dagster's own storage would give it, from another instance too, and a watcher of a run (the
webserver following a run's log) sees each event as it is stored."""

import logging
import threading
import time

import dagster as dg
from dagster._core.events.log import EventLogEntry

from orchestration.storage import PooledSqliteEventLogStorage, local_instance


@dg.asset
def small_table() -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"rows": 3})


@dg.asset_check(asset=small_table)
def small_table_has_rows() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=True, metadata={"rows": 3})


def test_a_run_reads_back_from_the_pooled_event_log_and_from_a_new_instance(tmp_path):
    home = tmp_path / "dagster"
    with local_instance(home) as instance:
        assert isinstance(instance.event_log_storage, PooledSqliteEventLogStorage)
        result = dg.materialize([small_table, small_table_has_rows], instance=instance)
        assert result.success
        run_id, stored = result.run_id, len(instance.all_logs(result.run_id))
    check = dg.AssetCheckKey(dg.AssetKey("small_table"), "small_table_has_rows")
    # A second instance on the same folder (as the webserver beside a run): every event was committed.
    with local_instance(home) as instance:
        events = instance.all_logs(run_id)
        assert len(events) == stored > 10
        kinds = {e.dagster_event.event_type for e in events if e.dagster_event}
        expected = {"ASSET_MATERIALIZATION", "ASSET_CHECK_EVALUATION", "RUN_SUCCESS"}
        assert {dg.DagsterEventType[kind] for kind in expected} <= kinds
        latest = instance.get_latest_materialization_event(dg.AssetKey("small_table"))
        assert latest is not None and latest.run_id == run_id
        assert latest.asset_materialization.metadata["rows"].value == 3
        execution = instance.event_log_storage.get_latest_asset_check_execution_by_key([check])[check]
        assert execution.run_id == run_id and execution.status.value == "SUCCEEDED"


def test_a_watcher_of_a_run_sees_each_event_as_it_is_stored(tmp_path):
    """Dagster's SQLite watcher reacts to the run's database file changing; the pooled storage writes into
    the write-ahead log, so it must copy each write into the file (a checkpoint) for the watcher to see it."""
    run_id = "watched-run"

    def entry(message: str) -> EventLogEntry:
        return EventLogEntry(
            error_info=None, level=logging.INFO, user_message=message, run_id=run_id, timestamp=time.time()
        )

    with local_instance(tmp_path / "dagster") as instance:
        storage = instance.event_log_storage
        storage.store_event(entry("before the watch"))  # the run's database exists before it is watched
        seen: list[str] = []
        last = threading.Event()

        def callback(event: EventLogEntry, _cursor: str) -> None:
            seen.append(event.user_message)
            if event.user_message == "event 2":
                last.set()

        storage.watch(run_id, None, callback)
        try:
            for i in range(3):
                time.sleep(0.3)  # one event at a time, as a run writes them
                storage.store_event(entry(f"event {i}"))
            assert last.wait(timeout=15), f"the watcher saw only {seen}"
        finally:
            storage.end_watch(run_id, callback)
    assert [m for m in seen if m.startswith("event")] == ["event 0", "event 1", "event 2"]
