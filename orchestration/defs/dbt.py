"""Every dbt seed, model and test as Dagster assets and asset checks (dagster-dbt), in one ``dbt build``.

A partitioned run (a day from the schedule or the sensor, a range in a backfill or a full build) passes its
first and last day to dbt (environment variables, see window_env): the models tagged ``daily_fact``
(fct_order_lines, fct_web_events, fct_inventory_daily, the sessions and their clickstream staging) rebuild
exactly those days, the order-grain models the orders their extracts touched, and the rest is rebuilt whole
or from its own incremental state (see orchestration/partitions.py on why the facts are not partitioned).

One invocation, not one per layer: no Dagster asset sits between two dbt models, and each dbt process costs
its start and the load of the parsed project (4.3 s at SF10), and each step Dagster's bookkeeping.
"""

import os
import shutil
import sys
from collections.abc import Iterator, Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets
from dagster_dbt.compat import DBT_PYTHON_VERSION

from futuremart.settings import DBT_BUILD_ARGS
from orchestration.defs.dbt_project import dbt_project
from orchestration.partitions import run_window
from orchestration.resources import FutureMartResource, scoped_environ

if TYPE_CHECKING:
    from packaging.version import Version  # dagster-dbt's dependency, for the annotation only

DEFAULT_OWNER = "team:data-platform"


class FutureMartDbtTranslator(DagsterDbtTranslator):
    """Groups by warehouse layer (the model's folder), owners from ``meta.owner``."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "reference"
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else "dbt"

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> Sequence[str] | None:
        meta = dbt_resource_props.get("config", {}).get("meta", {}) or dbt_resource_props.get("meta", {})
        return [meta.get("owner", DEFAULT_OWNER)]


translator = FutureMartDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


class VenvDbtCliResource(DbtCliResource):
    """dagster-dbt's resource for the dbt of this interpreter's venv.

    dagster-dbt asks the executable its version (``dbt --version``, a second dbt process: 2.7 s at the first
    dbt step of every run) in case it is dbt Fusion; this one is the dbt-core package installed beside
    dagster-dbt, whose version it already knows. Nor does it build an in-process dbt adapter per invocation.
    """

    @cached_property
    def _cli_version(self) -> "Version":
        return DBT_PYTHON_VERSION

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:  # ty: ignore[invalid-method-override]
        # dagster-dbt loads the project's macros and a dbt adapter in this process before every invocation
        # (1.3 s at SF10, py-spy), only for DbtCliInvocation.fetch_column_metadata and fetch_row_counts,
        # which these assets do not call; without it the invocation has no adapter, as for dbt Fusion.
        return None


def dbt_cli_resource() -> DbtCliResource:
    # The venv's dbt, found next to this interpreter: dagster-dbt looks it up on PATH, which an
    # un-activated venv (make, CI, `.venv/bin/dagster dev`) does not have.
    return VenvDbtCliResource(
        project_dir=dbt_project,
        profiles_dir=str(dbt_project.profiles_dir),
        dbt_executable=str(Path(sys.executable).with_name("dbt")),
    )


PARTIAL_PARSE = "partial_parse.msgpack"


RUN_WINDOW_ENV = ("FUTUREMART_RUN_MIN_DATE", "FUTUREMART_RUN_MAX_DATE")


def window_env(tags: Mapping[str, str]) -> dict[str, str]:
    """The run's days for dbt (macro ``run_window_bound``), empty strings for a run without partitions.

    Environment variables, not ``--vars``: dbt re-parses the whole project when the vars differ from its
    last parse (every new day: ~5 s CPU at SF1, longer on a busy machine), while an environment variable the
    macros read only when executing leaves partial parsing valid. Always set, so a variable left in the
    caller's environment cannot leak a window into a run without one.
    """
    window = run_window(tags)
    return dict(zip(RUN_WINDOW_ENV, (d.isoformat() for d in window) if window else ("", ""), strict=True))


def build(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, futuremart: FutureMartResource, args: list[str]
) -> Iterator[Any]:
    """Run one dbt invocation against the run's warehouse and stream its results as Dagster events.

    dagster-dbt seeds each invocation with the project's ``target/partial_parse.msgpack``, but dbt discards
    it when the profile differs, and the warehouse path is part of the profile (``make manifest`` parses
    against a throwaway file). Handing the invocation's own parse back lets the run's next invocations, and
    the next runs on the same warehouse, skip a full parse (seconds each). Replaced atomically, since
    another run may be copying it.
    """
    with scoped_environ({**futuremart.settings.dbt_env(), **window_env(context.run.tags)}):
        invocation = dbt.cli(args, context=context)
    yield from invocation.stream()
    parsed = invocation.target_path / PARTIAL_PARSE
    if parsed.exists():
        shared = dbt_project.project_dir / "target" / PARTIAL_PARSE
        staged = shared.with_name(f"{PARTIAL_PARSE}.{context.run_id}")
        shutil.copyfile(parsed, staged)
        os.replace(staged, shared)


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=translator,
    pool="duckdb_writer",
    name="futuremart_dbt",
)
def futuremart_dbt(context: dg.AssetExecutionContext, dbt: DbtCliResource, futuremart: FutureMartResource):
    """``dbt build`` of the seeds and models with their tests; the incremental facts rebuild the run's days
    (see window_env), or without partitions the last days already built and anything newer (see
    incremental_window)."""
    if window := run_window(context.run.tags):
        context.log.info(f"rebuilding days {window[0]}..{window[1]} of the incremental facts")
    yield from build(context, dbt, futuremart, list(DBT_BUILD_ARGS))


dbt_asset_definitions = [futuremart_dbt]
