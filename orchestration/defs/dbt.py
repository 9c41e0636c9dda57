"""Every dbt seed, model and test as Dagster assets and asset checks (dagster-dbt)."""

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from orchestration.defs.dbt_project import dbt_project
from orchestration.resources import FutureMartResource, scoped_environ

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


def dbt_cli_resource() -> DbtCliResource:
    # The venv's dbt, found next to this interpreter: dagster-dbt looks it up on PATH, which an
    # un-activated venv (make, CI, `.venv/bin/dagster dev`) does not have.
    return DbtCliResource(
        project_dir=dbt_project,
        profiles_dir=str(dbt_project.profiles_dir),
        dbt_executable=str(Path(sys.executable).with_name("dbt")),
    )


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=translator,
    pool="duckdb_writer",
)
def futuremart_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, futuremart: FutureMartResource):
    """``dbt build`` of the selected seeds and models with their tests, against the settings' warehouse."""
    with scoped_environ(futuremart.settings.dbt_env()):
        invocation = dbt.cli(["build"], context=context)
    yield from invocation.stream()
