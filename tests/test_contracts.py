import json

import pytest
import yaml

from futuremart.settings import DBT_PROJECT_DIR
from ingestion.contracts import SUPPORTED_FORMATS, ContractError, load_contracts, parse_contract


def test_every_contract_parses_with_owner_keys_and_format():
    contracts = load_contracts()
    assert {c.source_system for c in contracts} == {
        "shop",
        "crm",
        "pim",
        "inventory",
        "marketing",
        "external",
        "security",
    }
    for c in contracts:
        assert c.owner.startswith("team:")
        assert set(c.primary_key) <= set(c.column_names)
        assert c.format in SUPPORTED_FORMATS


def test_pii_columns_are_declared_with_a_class():
    customers = next(c for c in load_contracts() if c.raw_table == "crm_customers")
    assert customers.pii_columns == {
        "email": "email",
        "first_name": "name",
        "last_name": "name",
        "phone": "phone",
        "street_address": "address",
        "birth_date": "birth_date",
    }


def test_a_bad_contract_is_rejected_with_its_location():
    doc = yaml.safe_load(
        """
        source_system: x
        owner: team:x
        entities:
          things:
            format: xml
            file_name: t.xml
            primary_key: [id]
            columns: [{name: id, type: varchar}]
        """
    )
    with pytest.raises(ContractError, match=r"x.yml: x.things: format 'xml'"):
        parse_contract(doc, "x.yml")


def test_every_contract_entity_is_a_dbt_source_linked_to_its_raw_asset():
    manifest = json.loads((DBT_PROJECT_DIR / "target" / "manifest.json").read_text())
    sources = {
        (s["source_name"], s["name"]): s for s in manifest["sources"].values() if s["package_name"] == "futuremart"
    }
    for c in load_contracts():
        source = sources[(c.source_system, c.entity)]
        assert source["schema"] == "raw"
        assert source["identifier"] == c.raw_table
        assert source["meta"]["dagster"]["asset_key"] == ["raw", c.raw_table]
        assert list(source["columns"]) == list(c.column_names), f"{c.raw_table}: source columns drifted"
        pii = {name: col["meta"].get("pii") for name, col in source["columns"].items() if col["meta"].get("pii")}
        assert pii == c.pii_columns
        # Its quarantine too, written by the same raw asset (the *_or_quarantined tests read it).
        held = sources[("quarantine", c.raw_table)]
        assert (held["schema"], held["meta"]["dagster"]["asset_key"]) == ("quarantine", ["raw", c.raw_table])
