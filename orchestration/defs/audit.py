"""Run-level audit: every finished run (success or failure) becomes one ``governance.audit_log`` row.

Loads, publishes, erasures and purges write their own rows from the functions that do the work
(``futuremart/audit.py``); a run's start, end and status are only known to the Dagster instance, so a run
status sensor records them (the daemon evaluates it; ``futuremart run`` records its own run directly).
"""

import datetime as dt

import dagster as dg

from futuremart.audit import record_audit_at
from orchestration.resources import FutureMartResource

AUDITED_BY_TAG = "futuremart/audited_by"


def record_run(futuremart: FutureMartResource, context: dg.RunStatusSensorContext, status: str) -> None:
    """One audit row for the run of ``context``: job, start and end from the instance's run stats."""
    run = context.dagster_run
    if run.tags.get(AUDITED_BY_TAG) == "cli":
        return  # `futuremart run` wrote this run's row itself
    stats = context.instance.get_run_stats(run.run_id)
    started = dt.datetime.fromtimestamp(stats.start_time, dt.UTC).replace(tzinfo=None) if stats.start_time else None
    ended = dt.datetime.fromtimestamp(stats.end_time, dt.UTC).replace(tzinfo=None) if stats.end_time else None
    record_audit_at(
        futuremart.settings.warehouse_path,
        "run",
        run.job_name,
        actor=run.tags.get("user", "dagster"),
        run_id=run.run_id,
        status=status,
        started_at=started,
        ended_at=ended,
        details={
            "steps_succeeded": stats.steps_succeeded,
            "steps_failed": stats.steps_failed,
            "materializations": stats.materializations,
            "tags": {k: v for k, v in run.tags.items() if not k.startswith(".dagster")},
        },
    )


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    name="audit_successful_runs",
    monitor_all_code_locations=False,
    description="Records every successful run in governance.audit_log.",
)
def audit_successful_runs(context: dg.RunStatusSensorContext, futuremart: FutureMartResource) -> None:
    record_run(futuremart, context, "success")


@dg.run_failure_sensor(
    name="audit_failed_runs",
    monitor_all_code_locations=False,
    description="Records every failed run in governance.audit_log.",
)
def audit_failed_runs(context: dg.RunFailureSensorContext, futuremart: FutureMartResource) -> None:
    record_run(futuremart, context, "failure")


audit_sensors = [audit_successful_runs, audit_failed_runs]
