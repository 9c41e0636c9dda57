"""The reports package without a browser: each report reads only analyst-facing tables, declares what it
reads (the Dagster deps and the dbt exposure follow from it), and the `built` run wrote every page."""

import inspect
import json
import re

import pytest

from orchestration.defs.dbt_project import dbt_project
from orchestration.defs.reports import report_assets, reports_index, table_asset_keys
from reports import REPORTS
from reports.render import INDEX_PAGE, ReportSpec, format_value

TABLE_REFERENCE = re.compile(r"\b(raw|quarantine|staging|intermediate|reference|marts|governance|ml)\.([a-z_0-9]+)\b")


@pytest.mark.parametrize("spec", REPORTS, ids=lambda s: s.slug)
def test_a_report_reads_exactly_the_tables_it_declares(spec: ReportSpec):
    source = inspect.getsource(inspect.getmodule(spec.charts))
    referenced = {f"{schema}.{table}" for schema, table in TABLE_REFERENCE.findall(source)}
    assert referenced == set(spec.reads)
    assert {t.split(".")[0] for t in referenced} <= {"marts", "governance", "ml"}, "reports never read personal data"


def test_a_report_cannot_declare_a_table_with_personal_data():
    with pytest.raises(ValueError, match="read only"):
        ReportSpec("x", "X", "", "team:x", ("staging.stg_crm__customers",), (), lambda con: [])


@pytest.mark.parametrize("spec", REPORTS, ids=lambda s: s.slug)
def test_each_report_is_a_dbt_exposure_on_the_dbt_tables_it_reads(spec: ReportSpec):
    manifest = json.loads(dbt_project.manifest_path.read_text())
    relations = {
        f"{node['schema']}.{node.get('alias') or node['name']}": unique_id
        for unique_id, node in [*manifest["nodes"].items(), *manifest["sources"].items()]
        if node["resource_type"] in ("model", "seed", "source")
    }
    exposure = manifest["exposures"][f"exposure.futuremart.{spec.slug}_report"]
    assert set(exposure["depends_on"]["nodes"]) == {relations[t] for t in spec.reads if t in relations}
    assert exposure["owner"]["name"]


def test_report_assets_depend_on_what_they_read():
    for spec, asset in zip(REPORTS, report_assets, strict=True):
        deps = {dep.asset_key for dep in asset.specs_by_key[asset.key].deps}
        assert deps == {k for t in spec.reads for k in table_asset_keys(t)}
        assert asset.specs_by_key[asset.key].group_name == "reports"
    index_deps = {dep.asset_key for dep in reports_index.specs_by_key[reports_index.key].deps}
    assert index_deps == {asset.key for asset in report_assets}


def test_the_build_wrote_every_report_and_records_its_headlines(built):
    for spec, asset in zip(REPORTS, report_assets, strict=True):
        assert (built.settings.reports_dir / spec.filename).stat().st_size > 1_000_000, "plotly.js is inlined"
        [event] = built.result.asset_materializations_for_node(asset.node_def.name)
        recorded = {k.removeprefix("headline/") for k in event.metadata if k.startswith("headline/")}
        assert recorded == {h.key for h in spec.headlines}
    assert (built.settings.reports_dir / INDEX_PAGE).exists()


@pytest.mark.parametrize(
    ("value", "unit", "shown"),
    [
        (19811835.47, "usd", "$19,811,835"),
        (309.5801, "usd", "$309.58"),
        (72513.0, "count", "72,513"),
        (0.46184, "pct", "46.2%"),
        (14.19, "hours", "14.2 h"),
        (-0.1212, "number", "-0.12"),
        (None, "pct", "n/a"),
    ],
)
def test_headline_formats(value, unit, shown):
    assert format_value(value, unit) == shown
