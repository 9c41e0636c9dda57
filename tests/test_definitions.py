"""The Dagster code location: loads without data work; every asset has a group, an owner and a description;
the asset graph matches its snapshot so a renamed key or a lost dependency shows up in review."""

import json
import os
import subprocess
import sys
from functools import cached_property
from pathlib import Path

from dagster_dbt import DbtCliResource

from futuremart.settings import PROJECT_ROOT
from orchestration.definitions import defs
from orchestration.defs.dbt import dbt_cli_resource

SNAPSHOT = Path(__file__).parent / "snapshots" / "asset_graph.json"


def asset_graph() -> dict:
    graph = {}
    repo = defs.get_repository_def()
    for assets_def in repo.assets_defs_by_key.values():
        for spec in assets_def.specs:
            graph[spec.key.to_user_string()] = {
                "group": spec.group_name,
                "owners": sorted(spec.owners),
                "kinds": sorted(spec.kinds),
                "deps": sorted(d.asset_key.to_user_string() for d in spec.deps),
                "checks": sorted(c.name for c in assets_def.check_specs if c.asset_key == spec.key),
            }
    # Keyed by check: a multi-asset check (the raw suites) is listed once per check it holds.
    for check_key in repo.asset_checks_defs_by_key:
        graph[check_key.asset_key.to_user_string()]["checks"].append(check_key.name)
    return dict(sorted(graph.items()))


def test_every_asset_has_a_group_an_owner_and_a_description():
    specs = defs.resolve_all_asset_specs()
    assert len(specs) >= 20
    for spec in specs:
        assert spec.group_name and spec.group_name != "default", spec.key
        assert spec.owners, spec.key
        assert spec.description, spec.key
        assert spec.kinds, spec.key


def test_the_job_materializes_everything_in_process():
    job = defs.resolve_job_def("materialize_everything")
    assert job.executor_def.name == "in_process"
    selected = {k.to_user_string() for k in job.asset_layer.selected_asset_keys}
    assert {"landing/shop_orders", "raw/shop_orders", "marts/fct_orders"} <= selected


def test_asset_graph_matches_snapshot():
    graph = asset_graph()
    if os.environ.get("UPDATE_SNAPSHOTS"):
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(json.dumps(graph, indent=2) + "\n")
    assert graph == json.loads(SNAPSHOT.read_text()), "asset graph changed: review, then UPDATE_SNAPSHOTS=1"


def test_raw_assets_feed_the_dbt_sources():
    graph = asset_graph()
    assert graph["staging/stg_shop__orders"]["deps"] == ["raw/shop_orders"]
    assert graph["raw/shop_orders"]["deps"] == ["landing/shop_orders"]
    assert "gx_raw_shop_orders" in graph["raw/shop_orders"]["checks"]
    assert any(c.startswith("unique_fct_orders") for c in graph["marts/fct_orders"]["checks"])


def test_the_workspace_loads_with_the_venv_binaries_only(tmp_path):
    """What `make dev` loads: workspace.yaml through the venv's dagster, with no venv on PATH."""
    out = subprocess.run(
        [str(Path(sys.executable).with_name("dagster")), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "DAGSTER_HOME": str(tmp_path), "HOME": str(tmp_path)},
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "futuremart" in out.stdout + out.stderr


def test_the_dbt_resource_knows_the_version_of_the_dbt_it_runs():
    """The resource reads dbt's version from the installed package instead of running ``dbt --version``
    every run: the two must agree, or dagster-dbt would drive the executable as another dbt."""
    # The name overridden is dagster-dbt's own: were it renamed, the override would quietly stop saving time.
    assert isinstance(DbtCliResource.__dict__.get("_cli_version"), cached_property)
    resource = dbt_cli_resource()
    out = subprocess.run([resource.dbt_executable, "--version"], capture_output=True, text=True, check=True).stdout
    assert str(resource._cli_version) in out, out
