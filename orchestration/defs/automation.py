"""What starts runs without a person: the daily schedule and the sensor on newly landed files."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from futuremart.settings import Settings
from ingestion.contracts import EntityContract, load_contracts
from orchestration.defs.ingestion import raw_key
from orchestration.partitions import DAILY

# The models are retrained weekly, not with every day's data: a day moves their estimates little, and
# training (most of the ml group's time) would otherwise dominate the nightly run. The models report
# shows the training, so it goes with it. The published copies carry the latest trained outputs.
MODEL_TRAINING = dg.AssetSelection.groups("ml") | dg.AssetSelection.assets(
    dg.AssetKey(["reports", "models_report"]), dg.AssetKey(["ml", "customer_recommendations"])
)

# Everything after landing but the model training: the loads of the day's files, dbt, checks, scores,
# reports, publish. Landing itself is the source systems' job (here the generator); the sensor reacts to
# what they drop.
daily_refresh = dg.define_asset_job(
    "daily_refresh",
    selection=dg.AssetSelection.all() - dg.AssetSelection.groups("ingestion") - MODEL_TRAINING,
    partitions_def=DAILY,
    description="Load a day's landed extracts into raw, rebuild that day of the incremental facts and "
    "everything downstream, run the checks. Backfill a date range from the UI (one run per range).",
    executor_def=dg.in_process_executor,
)


weekly_model_training = dg.define_asset_job(
    "weekly_model_training",
    selection=MODEL_TRAINING
    | dg.AssetSelection.groups("published")
    | dg.AssetSelection.assets(dg.AssetKey(["reports", "index"])),
    description="Retrain and score every model on the marts as they are (demand forecast, pricing, "
    "segments), rebuild the models report and republish the copies that carry their outputs.",
    executor_def=dg.in_process_executor,
)


@dg.schedule(
    job=weekly_model_training,
    cron_schedule="0 6 * * 1",
    execution_timezone="UTC",
    description="Every Monday at 06:00 UTC, after the nightly refresh: retrain the models.",
)
def weekly_model_training_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    return dg.RunRequest(run_key=context.scheduled_execution_time.date().isoformat())


def previous_day_request(scheduled_for: dt.datetime, partition_keys: list[str]) -> dg.RunRequest | dg.SkipReason:
    """The run for the day before the tick, if that day is one of the partitions."""
    day = (scheduled_for.date() - dt.timedelta(days=1)).isoformat()
    if day not in partition_keys:
        return dg.SkipReason(f"{day} is outside the daily partitions {partition_keys[0]}..{partition_keys[-1]}.")
    return dg.RunRequest(run_key=day, partition_key=day)


# A cron schedule rather than build_schedule_from_partitioned_job: the days are static keys (see partitions.py).
@dg.schedule(
    job=daily_refresh,
    cron_schedule="0 4 * * *",
    execution_timezone="UTC",
    description="Every night at 04:00 UTC, refresh the previous day's partition.",
)
def daily_refresh_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest | dg.SkipReason:
    return previous_day_request(context.scheduled_execution_time, DAILY.get_partition_keys())


@dataclass(frozen=True)
class LandedFile:
    contract: EntityContract
    path: Path
    relative: str
    partition: str
    mtime_ns: int
    size: int

    @property
    def run_key(self) -> str:
        """One run per file version: a re-export of the same file (new mtime or size) runs again."""
        return f"{self.relative}@{self.mtime_ns}:{self.size}"


def landed_since(landing_dir: Path, mtime_ns: int) -> list[LandedFile]:
    """Extracts in the landing zone modified at or after ``mtime_ns``, oldest first."""
    found = []
    for contract in load_contracts():
        for path in (landing_dir / contract.landing_subdir).glob(f"dt=*/{contract.file_name}"):
            stat = path.stat()
            if stat.st_mtime_ns < mtime_ns:
                continue
            found.append(
                LandedFile(
                    contract,
                    path,
                    path.relative_to(landing_dir).as_posix(),
                    path.parent.name.removeprefix("dt="),
                    stat.st_mtime_ns,
                    stat.st_size,
                )
            )
    return sorted(found, key=lambda f: (f.mtime_ns, f.relative))


@dg.sensor(
    job=daily_refresh,
    minimum_interval_seconds=60,
    description="Starts a run loading the partition of every newly landed extract into its raw table "
    "(run key per file and version); marts follow with the nightly refresh or a manual run.",
)
def landed_file_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    settings = Settings.from_env()
    cursor = json.loads(context.cursor) if context.cursor else {"mtime_ns": 0}
    files = landed_since(settings.landing_dir, cursor["mtime_ns"])
    partitions = set(DAILY.get_partition_keys())
    requests, skipped = [], []
    for landed in files:
        if landed.partition not in partitions:
            skipped.append(landed.relative)
            continue
        requests.append(
            dg.RunRequest(
                run_key=landed.run_key,
                partition_key=landed.partition,
                asset_selection=[raw_key(landed.contract)],
                tags={"futuremart/landed_file": landed.relative},
            )
        )
    if skipped:
        context.log.warning(f"{len(skipped)} landed file(s) outside the daily partitions, not loaded: {skipped[:5]}")
    new_cursor = {"mtime_ns": max((f.mtime_ns for f in files), default=cursor["mtime_ns"])}
    return dg.SensorResult(run_requests=requests, cursor=json.dumps(new_cursor))
