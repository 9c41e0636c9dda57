"""The FutureMart Dagster code location: every asset, check, job and resource.

Loading this module does no data work: it reads the dbt manifest, the source contracts and the expectation
suites, nothing else.
"""

from __future__ import annotations

import dagster as dg

from orchestration.defs.ai_services import ai_service_assets
from orchestration.defs.audit import audit_sensors
from orchestration.defs.automation import (
    daily_refresh,
    daily_refresh_schedule,
    landed_file_sensor,
    weekly_model_training,
    weekly_model_training_schedule,
)
from orchestration.defs.dbt import dbt_asset_definitions, dbt_cli_resource
from orchestration.defs.governance import data_quality_scores
from orchestration.defs.ingestion import land_source_extracts, load_audit, raw_assets
from orchestration.defs.marketing import marketing_assets, marketing_checks
from orchestration.defs.ml import ml_assets, ml_checks
from orchestration.defs.personalization import personalization_assets, personalization_checks
from orchestration.defs.privacy import erase_customers_job, purge_expired_events_job
from orchestration.defs.publish import published_assets
from orchestration.defs.quality import gx_checks
from orchestration.defs.reports import report_assets, reports_index
from orchestration.resources import FutureMartResource

# DuckDB allows one writer per file, and dbt on a 2-core machine is faster without process start-up per
# step: the in-process executor runs steps one after another in a single process.
materialize_everything = dg.define_asset_job(
    "materialize_everything",
    selection=dg.AssetSelection.all(),
    description="Generate and land the extracts, load raw, build and test every dbt model, run the suites. "
    "Partitioned assets take a range: `futuremart run` passes the whole calendar (one run, not one per day).",
    executor_def=dg.in_process_executor,
)


def build_definitions(futuremart: FutureMartResource | None = None) -> dg.Definitions:
    """Assemble the code location; tests pass a resource pointing at a temporary data home."""
    return dg.Definitions(
        assets=[
            land_source_extracts,
            *raw_assets,
            load_audit,
            *dbt_asset_definitions,
            data_quality_scores,
            *published_assets,
            *report_assets,
            reports_index,
            *ml_assets,
            *ai_service_assets,
            *personalization_assets,
            *marketing_assets,
        ],
        asset_checks=[*gx_checks, *ml_checks, *personalization_checks, *marketing_checks],
        jobs=[
            materialize_everything,
            daily_refresh,
            weekly_model_training,
            erase_customers_job,
            purge_expired_events_job,
        ],
        schedules=[daily_refresh_schedule, weekly_model_training_schedule],
        sensors=[landed_file_sensor, *audit_sensors],
        resources={"futuremart": futuremart or FutureMartResource(), "dbt": dbt_cli_resource()},
        executor=dg.in_process_executor,
    )


def after_landing(definitions: dg.Definitions) -> list[dg.AssetKey]:
    """Every asset ``materialize_everything`` executes except the generator's landing: a full build (models
    trained too) on extracts already landed, as the first build of a real source feed would be."""
    executable = definitions.resolve_job_def("materialize_everything").asset_layer.executable_asset_keys
    return [s.key for s in definitions.resolve_all_asset_specs() if s.key in executable and s.group_name != "ingestion"]


defs = build_definitions()
