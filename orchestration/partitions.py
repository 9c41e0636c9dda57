"""Daily partitions of the loads and the incremental facts, and the run tags that select a range of them.

Every landed extract sits in a ``dt=YYYY-MM-DD`` folder; the high-volume feeds' raw assets are partitioned
by that day, and the dbt facts built incrementally by day rebuild the run's days
(``FUTUREMART_RUN_MIN_DATE/MAX_DATE``). The partitions run from the
start date to the end date plus the late-arrival window (``Settings.late_days``): they are fixed by the
settings, not by the wall clock, so a run of a given world selects the same partitions on any day.

A full build is one run over the whole range (``BackfillPolicy.single_run``): the loader takes every file
of the range in one transaction per entity and dbt builds each fact once, instead of 400 runs.

The days are a ``StaticPartitionsDefinition`` of ISO dates, not a ``DailyPartitionsDefinition``. With a
time-window definition, Dagster 1.13 stores the run's partition subset and writes a "planned" event for every
day of the range for every asset of the run, partitioned or not (146 assets x 366 days = 53k events, minutes
of SQLite writes per full build). With static keys a range run records its range as tags only, so each
unpartitioned asset gets one planned event. The keys are the same ``YYYY-MM-DD`` strings, so run tags, the
sensor's run keys and the loader's ``dt=`` folders do not change; the price is the UI's calendar view.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Mapping

import dagster as dg
import yaml
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
    PARTITION_NAME_TAG,
)

from futuremart.settings import DBT_PROJECT_DIR, Settings

SINGLE_RUN = dg.BackfillPolicy.single_run()
# Single-run backfills are what makes a full build one run; Dagster still labels the parameter beta.
warnings.filterwarnings("ignore", message="Parameter `backfill_policy`", category=dg.BetaWarning)


def partition_days(settings: Settings) -> list[dt.date]:
    """Every day from the start date through the last day extracts may arrive."""
    n_days = (settings.last_partition_date - settings.start_date).days + 1
    return [settings.start_date + dt.timedelta(days=i) for i in range(n_days)]


def daily_partitions(settings: Settings) -> dg.StaticPartitionsDefinition:
    """One partition per day (key ``YYYY-MM-DD``), in calendar order so key ranges are date ranges."""
    return dg.StaticPartitionsDefinition([day.isoformat() for day in partition_days(settings)])


# Read once when the code location loads; resources may not move the calendar (see check_calendar).
DAILY = daily_partitions(Settings.from_env())


def range_tags(first: dt.date, last: dt.date) -> dict[str, str]:
    """Run tags that make one run materialize partitions ``first``..``last`` of every partitioned asset."""
    return {ASSET_PARTITION_RANGE_START_TAG: first.isoformat(), ASSET_PARTITION_RANGE_END_TAG: last.isoformat()}


def full_range_tags(settings: Settings) -> dict[str, str]:
    """Run tags for a full build: every partition of the settings' calendar."""
    return range_tags(settings.start_date, settings.last_partition_date)


def partition_dates(context: dg.AssetExecutionContext) -> tuple[dt.date, dt.date]:
    """First and last day (inclusive) of the partitions a run materializes."""
    keys = context.partition_key_range
    return dt.date.fromisoformat(keys.start), dt.date.fromisoformat(keys.end)


def run_window(tags: Mapping[str, str]) -> tuple[dt.date, dt.date] | None:
    """The days a run covers, from its tags: one partition, a range, or None for a run without partitions.

    The dbt facts read it to rebuild exactly those days. They are not Dagster-partitioned themselves: a
    partitioned asset with dozens of dbt tests as checks makes Dagster record every check for every day
    of a full build (tens of thousands of events, minutes of bookkeeping), while the window is all dbt needs.
    """
    if PARTITION_NAME_TAG in tags:
        day = dt.date.fromisoformat(tags[PARTITION_NAME_TAG])
        return day, day
    if ASSET_PARTITION_RANGE_START_TAG in tags and ASSET_PARTITION_RANGE_END_TAG in tags:
        return (
            dt.date.fromisoformat(tags[ASSET_PARTITION_RANGE_START_TAG]),
            dt.date.fromisoformat(tags[ASSET_PARTITION_RANGE_END_TAG]),
        )
    return None


def check_calendar(settings: Settings) -> None:
    """The partitions come from the environment at load time; a resource with other dates would load a
    world the partitions do not cover. Fail loudly instead."""
    expected = daily_partitions(settings).get_partition_keys()
    keys = DAILY.get_partition_keys()
    if expected != keys:
        raise ValueError(
            f"The run's settings span {settings.start_date}..{settings.last_partition_date} but the code location's "
            f"daily partitions span {keys[0]}..{keys[-1]}: set "
            "FUTUREMART_START_DATE / FUTUREMART_END_DATE / FUTUREMART_LATE_DAYS in the environment of the code "
            "location instead of overriding them in a resource."
        )


def late_arrival_days() -> int:
    """dbt's ``late_arrival_days`` (dbt_project.yml), the one place it is set: how many days before a run's
    window its extracts may still hold rows of."""
    project = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text())
    return int(project["vars"]["late_arrival_days"])


def rebuilt_window(tags: Mapping[str, str]) -> tuple[dt.date, dt.date] | None:
    """The days a run's incremental facts were rebuilt: its window widened back by ``late_arrival_days``,
    as dbt's ``rebuild_window_start`` macro does; None for a run without partitions."""
    window = run_window(tags)
    if window is None:
        return None
    return window[0] - dt.timedelta(days=late_arrival_days()), window[1]
