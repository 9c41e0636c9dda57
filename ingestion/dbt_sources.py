"""Write dbt source definitions (``models/staging/<system>/_<system>__sources.yml``) from the contracts.

The contracts are the single definition of the raw layer; run ``python -m ingestion.dbt_sources`` after
changing one. ``tests/test_contracts.py`` fails when the two drift apart.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import yaml

from futuremart.settings import DBT_PROJECT_DIR
from ingestion.contracts import EntityContract, load_contracts

DESCRIPTIONS = {
    "shop": "E-commerce platform (order management) exports. Rows that break the contract are in quarantine.shop_*.",
    "crm": "CRM change feed of customer profiles and consent events. Holds personal data (email, name, phone, "
    "street address, birth date): it never reaches the marts in clear.",
    "pim": "Product information management: monthly nested catalog export (products, variants, channel prices) "
    "and the list-price change feed.",
    "inventory": "Warehouse management system: end-of-day stock snapshots, purchase orders, receipts, suppliers "
    "and warehouses.",
    "marketing": "Marketing platform: price promotions, campaigns and their audiences, email events, ad spend, "
    "promo codes and redemptions.",
    "external": "Third-party feeds: daily weather per region and scraped competitor prices.",
}


def source_document(system: str, contracts: list[EntityContract]) -> dict:
    tables = []
    for c in contracts:
        columns = []
        for col in c.columns:
            entry: dict = {
                "name": col.name,
                "description": f"{col.type}{', required' if col.required else ''}.",
                "data_type": col.type,
            }
            if col.pii:
                entry["config"] = {"meta": {"pii": col.pii}}
            columns.append(entry)
        tables.append(
            {
                "name": c.entity,
                "identifier": c.raw_table,
                "description": " ".join(c.description.split()),
                "config": {"meta": {"dagster": {"asset_key": ["raw", c.raw_table]}}},
                "columns": columns,
            }
        )
    description = DESCRIPTIONS.get(system, f"{system} exports.")
    return {
        "version": 2,
        "sources": [
            {
                "name": system,
                "description": f"{description} Loaded by ingestion/raw_loader.py through "
                f"ingestion/contracts/{system}.yml.",
                "schema": "raw",
                "config": {"meta": {"owner": contracts[0].owner}},
                "tables": tables,
            }
        ],
    }


QUARANTINE_COLUMNS = {
    "_source_file": "Landed file the record came from (path under the landing zone).",
    "_source_line": "Line of the record in that file (CSV lines count the header).",
    "reason": "Why the loader held it back: missing_required, malformed, unexpected_value, out_of_range, "
    "duplicate_key_conflict, duplicate_exact, unparsable, or file_rejected (the whole file broke the contract).",
    "record": "The original record as JSON text of the contract's columns (personal values as tokens).",
    "_load_id": "Load that wrote it.",
    "quarantined_at": "When it was quarantined (UTC).",
}


def quarantine_document(contracts: list[EntityContract]) -> dict:
    """The ``quarantine`` source: one table per contract entity, written by the raw load of that entity (the
    same Dagster asset as its raw table). dbt tests read the keys held back there to tell an expected orphan
    (its parent was quarantined) from a broken one."""
    tables = [
        {
            "name": c.raw_table,
            "description": f"Records of {c.source_system}.{c.entity} held back by the raw loader, with the reason.",
            "config": {"meta": {"dagster": {"asset_key": ["raw", c.raw_table]}}},
            "columns": [{"name": name, "description": text} for name, text in QUARANTINE_COLUMNS.items()],
        }
        for c in contracts
    ]
    return {
        "version": 2,
        "sources": [
            {
                "name": "quarantine",
                "description": "Rows the raw loader (ingestion/raw_loader.py) held back, per raw table, with the "
                "reason, source file and line. Holds tokens, never personal data in clear.",
                "schema": "quarantine",
                "config": {"meta": {"owner": "team:data-platform"}},
                "tables": tables,
            }
        ],
    }


def write_sources(models_dir: Path = DBT_PROJECT_DIR / "models" / "staging") -> list[Path]:
    by_system: dict[str, list[EntityContract]] = defaultdict(list)
    for contract in load_contracts():
        by_system[contract.source_system].append(contract)
    written = []
    for system, contracts in by_system.items():
        path = models_dir / system / f"_{system}__sources.yml"
        path.parent.mkdir(parents=True, exist_ok=True)
        header = (
            f"# Written by `python -m ingestion.dbt_sources` from ingestion/contracts/{system}.yml: "
            "edit the contract.\n"
        )
        path.write_text(header + yaml.safe_dump(source_document(system, contracts), sort_keys=False, width=110))
        written.append(path)
    path = models_dir / "quarantine" / "_quarantine__sources.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    header = "# Written by `python -m ingestion.dbt_sources` from ingestion/contracts/*.yml: edit the contracts.\n"
    document = quarantine_document([c for contracts in by_system.values() for c in contracts])
    path.write_text(header + yaml.safe_dump(document, sort_keys=False, width=110))
    written.append(path)
    return written


if __name__ == "__main__":
    for written_path in write_sources():
        print(written_path)
