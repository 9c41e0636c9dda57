"""Source contracts: one YAML file per source system in ``ingestion/contracts/``.

A contract declares, for each entity a source system exports, its format, columns and types, primary key,
PII class per column, owner and expected freshness. Loaders, the Dagster raw assets and the tests all read
contracts through this module, so adding an entity to a YAML file is enough to land and load it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from futuremart.settings import CONTRACTS_DIR

SUPPORTED_FORMATS = ("csv", "jsonl", "ndjson_gz", "json", "parquet")
SUPPORTED_TYPES = ("varchar", "integer", "bigint", "double", "boolean", "date", "timestamp")
PII_CLASSES = ("email", "name", "phone", "address", "ip", "birth_date", "free_text")


class ContractError(ValueError):
    """A contract file is malformed."""


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    required: bool = False
    pii: str | None = None
    accepted_values: tuple[str, ...] | None = None
    min: float | None = None
    max: float | None = None


@dataclass(frozen=True)
class EntityContract:
    source_system: str
    entity: str
    description: str
    format: str
    file_name: str
    primary_key: tuple[str, ...]
    columns: tuple[Column, ...]
    owner: str
    freshness_hours: int
    folder: str  # landing folder under the source system; entities read from one file share it
    record_path: tuple[str, ...] = ()  # for nested JSON: keys from the document down to the records
    # High-volume event and transaction feeds (`partitioned: true`) load by day, as Dagster daily
    # partitions, so a new day or a backfill touches only its days. Dagster records every partition of every
    # partitioned asset on each full build, which costs seconds per asset at a year of days: the small feeds
    # and the reference data load every new file on each run instead (loaded files are skipped by hash).
    partitioned: bool = False

    @property
    def raw_table(self) -> str:
        """Table name in the ``raw`` (and ``quarantine``) schema, e.g. ``shop_orders``."""
        return f"{self.source_system}_{self.entity}"

    @property
    def landing_subdir(self) -> Path:
        """Folder of this entity under the landing zone, e.g. ``shop/orders`` or ``pim/catalog``."""
        return Path(self.source_system) / self.folder

    @property
    def landing_name(self) -> str:
        """Name of the landed dataset this entity is read from, e.g. ``shop_orders`` or ``pim_catalog``."""
        return f"{self.source_system}_{self.folder}"

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def pii_columns(self) -> dict[str, str]:
        return {c.name: c.pii for c in self.columns if c.pii}


def _parse_type(raw: str, where: str) -> str:
    base = raw.lower().split("(")[0].strip()
    if base != "decimal" and base not in SUPPORTED_TYPES:
        raise ContractError(f"{where}: type {raw!r} is not one of {SUPPORTED_TYPES} or decimal(p,s).")
    return raw.lower()


def parse_contract(doc: dict, origin: str) -> list[EntityContract]:
    """Turn one parsed YAML contract document into entity contracts, validating as it goes."""
    try:
        system = doc["source_system"]
        owner = doc["owner"]
        entities = doc["entities"]
    except KeyError as missing:
        raise ContractError(f"{origin}: missing top-level key {missing}.") from None
    out = []
    for entity, spec in entities.items():
        where = f"{origin}: {system}.{entity}"
        fmt = spec.get("format")
        if fmt not in SUPPORTED_FORMATS:
            raise ContractError(f"{where}: format {fmt!r} is not one of {SUPPORTED_FORMATS}.")
        columns = []
        for col in spec["columns"]:
            if col.get("pii") and col["pii"] not in PII_CLASSES:
                raise ContractError(f"{where}.{col['name']}: pii class {col['pii']!r} not in {PII_CLASSES}.")
            accepted = col.get("accepted_values")
            columns.append(
                Column(
                    name=col["name"],
                    type=_parse_type(col["type"], f"{where}.{col['name']}"),
                    required=bool(col.get("required", False)),
                    pii=col.get("pii"),
                    accepted_values=tuple(str(v) for v in accepted) if accepted else None,
                    min=col.get("min"),
                    max=col.get("max"),
                )
            )
        names = {c.name for c in columns}
        if fmt == "json" and not spec.get("record_path"):
            raise ContractError(f"{where}: a json entity needs a record_path (e.g. products.variants).")
        pk = tuple(spec["primary_key"])
        if not set(pk) <= names:
            raise ContractError(f"{where}: primary key {pk} names columns that are not declared.")
        out.append(
            EntityContract(
                source_system=system,
                entity=entity,
                description=spec.get("description", ""),
                format=fmt,
                file_name=spec["file_name"],
                primary_key=pk,
                columns=tuple(columns),
                owner=spec.get("owner", owner),
                freshness_hours=int(spec.get("freshness_hours", doc.get("freshness_hours", 24))),
                folder=spec.get("folder", entity),
                record_path=tuple(spec["record_path"].split(".")) if spec.get("record_path") else (),
                partitioned=bool(spec.get("partitioned", False)),
            )
        )
    return out


@cache
def load_contracts(contracts_dir: Path = CONTRACTS_DIR) -> tuple[EntityContract, ...]:
    """Every entity contract, ordered by source system then entity."""
    contracts: list[EntityContract] = []
    for path in sorted(contracts_dir.glob("*.yml")):
        contracts.extend(parse_contract(yaml.safe_load(path.read_text()), path.name))
    return tuple(sorted(contracts, key=lambda c: (c.source_system, c.entity)))


def get_contract(source_system: str, entity: str) -> EntityContract:
    for contract in load_contracts():
        if contract.source_system == source_system and contract.entity == entity:
            return contract
    raise KeyError(f"No contract for {source_system}.{entity} in {CONTRACTS_DIR}.")
