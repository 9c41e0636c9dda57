"""Baseline expectation suites generated from the source contracts, so every new contract gets a suite.

For each entity contract (``ingestion/contracts/*.yml``) this builds the suite of ``raw.<system>_<entity>``:

- the contract's columns are present;
- each typed column has the pandas dtype that the warehouse type reads as (see :data:`PANDAS_DTYPES`);
- ``required`` → not null, ``accepted_values`` → in set, ``min``/``max`` → between;
- the primary key is unique within each landed file (partition date + key: an entity lands one file per
  ``dt=`` folder), which is what the contract promises: a monthly catalog or a shipment re-exported as it
  moves repeats its key across files;
- freshness: the latest partition date (``dt=`` of the landed file) is within ``ceil(freshness_hours / 24)``
  days of the world's end date.

A hand-written suite of the same name in ``expectations/suites/`` adds expectations and may override the
freshness rule (``meta.freshness``); see :func:`expectations.runner.load_suite_doc`.
"""

from __future__ import annotations

import math
from typing import Any

from ingestion.contracts import Column, EntityContract, load_contracts

# What DuckDB's ``.df()`` turns each contract type into (decimals are read as doubles by the runner).
# varchar is left out on purpose: GX 1.24 resolves type names through numpy and pandas classes and cannot
# name pandas 3's default string dtype (``StringDtype(na_value=nan)``), so a varchar check could never pass.
PANDAS_DTYPES: dict[str, list[str]] = {
    "integer": ["int32", "Int32Dtype"],
    "bigint": ["int64", "Int64Dtype"],
    "double": ["float64"],
    "decimal": ["float64"],
    "boolean": ["bool", "BooleanDtype"],
    "date": ["datetime64[us]", "datetime64[ns]"],
    "timestamp": ["datetime64[us]", "datetime64[ns]"],
}

# The date of the landed file a raw row came from (``dt=`` in ``_source_file``), computed in SQL by the
# runner. It keys per-file uniqueness and is the business date of raw freshness, which the runner judges
# over the whole table: a run that back-fills an old day must not make the table look stale.
PARTITION_DATE = "partition_date"


def suite_name(contract: EntityContract) -> str:
    return f"raw_{contract.raw_table}"


def _expect(type_: str, **kwargs: Any) -> dict[str, Any]:
    return {"type": type_, "kwargs": kwargs}


def _typed_values(col: Column) -> list[Any]:
    """Accepted values as the column's values read into pandas (the contract stores them as text)."""
    if col.type in ("integer", "bigint"):
        return [int(v) for v in col.accepted_values or ()]
    if col.type == "double" or col.type.startswith("decimal"):
        return [float(v) for v in col.accepted_values or ()]
    return list(col.accepted_values or ())


def column_expectations(col: Column) -> list[dict[str, Any]]:
    """The expectations one contract column implies, in a stable order."""
    out = []
    dtypes = PANDAS_DTYPES.get(col.type.split("(")[0])
    if dtypes:
        out.append(_expect("expect_column_values_to_be_in_type_list", column=col.name, type_list=dtypes))
    if col.required:
        out.append(_expect("expect_column_values_to_not_be_null", column=col.name))
    if col.accepted_values:
        out.append(_expect("expect_column_values_to_be_in_set", column=col.name, value_set=_typed_values(col)))
    if col.min is not None or col.max is not None:
        out.append(_expect("expect_column_values_to_be_between", column=col.name, min_value=col.min, max_value=col.max))
    return out


def freshness_days(contract: EntityContract) -> int:
    """The contract's freshness in whole days (26 hours → 2 days: a nightly export may land a day late)."""
    return max(1, math.ceil(contract.freshness_hours / 24))


def contract_suite_doc(contract: EntityContract) -> dict[str, Any]:
    """The suite document (same shape as a JSON suite file) of ``raw.<system>_<entity>``."""
    expectations = [
        _expect("expect_table_row_count_to_be_between", min_value=1),
        _expect(
            "expect_table_columns_to_match_set",
            column_set=list(contract.column_names),
            exact_match=False,
        ),
        _expect("expect_column_values_to_not_be_null", column=PARTITION_DATE),
    ]
    for col in contract.columns:
        expectations.extend(column_expectations(col))
    expectations.append(
        _expect("expect_compound_columns_to_be_unique", column_list=[PARTITION_DATE, *contract.primary_key])
    )
    return {
        "name": suite_name(contract),
        "meta": {
            "dataset": f"raw.{contract.raw_table}",
            "owner": contract.owner,
            "layer": "raw",
            "contract": f"ingestion/contracts/{contract.source_system}.yml",
            "source_system": contract.source_system,
            "entity": contract.entity,
            "description": f"Generated from the {contract.source_system}.{contract.entity} contract.",
            "freshness": {"column": PARTITION_DATE, "max_lag_days": freshness_days(contract)},
        },
        "expectations": expectations,
    }


def contract_suite_docs() -> dict[str, dict[str, Any]]:
    """Every generated raw suite by name (``raw_<system>_<entity>``)."""
    return {suite_name(c): contract_suite_doc(c) for c in load_contracts()}
