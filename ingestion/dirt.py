"""Realistic dirt in the landed extracts, at a configurable rate (``FUTUREMART_DIRT_RATE``; 0 turns it off).

Row kinds: exact duplicates, conflicting duplicates (same key, different values), malformed values, missing
required values (shop and CRM CSV extracts and the clickstream), and late-arriving rows (CSV extracts only:
landed one to three partitions after their business date). Every dirty row is written to
``truth/dirty_rows.csv`` with its file, line, kind and key, so quarantine can be graded for precision and
recall.

Schema changes (CSV extracts): on a few days chosen from the seed, one entity's file carries an added column
(the loader loads it and reports the column), and on another day one file has a required column renamed (the
loader rejects that file, naming the file, the column and the contract). Each such file is listed in
``truth/schema_changes.csv``; a rejected file carries no row-level dirt and receives no late rows, so the row
truth stays gradable.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa

from ingestion.contracts import EntityContract
from ingestion.world.random import rng_for

DIRTY_ENTITIES = {
    ("shop", "orders"),
    ("shop", "order_lines"),
    ("shop", "payments"),
    ("crm", "customers"),
    ("shop", "clickstream"),
}
# Entities whose files may change schema (the CSV extracts among the dirty ones), in a fixed order.
SCHEMA_CHANGE_ENTITIES = (("crm", "customers"), ("shop", "order_lines"), ("shop", "orders"), ("shop", "payments"))
ADDED_COLUMN_FILES = 2
ADDED_COLUMN = "export_batch_id"
ROW_KINDS = ("exact_duplicate", "conflicting_duplicate", "malformed_value", "missing_required")
GARBAGE = {
    "timestamp": ["2024-13-45 25:61:00", "yesterday", "N/A"],
    "date": ["31/02/2024", "n.a."],
    "decimal": ["12,50", "NaN$", "abc"],
    "integer": ["two", "1.5.3"],
    "bigint": ["many"],
    "double": ["1,5", "x"],
    "boolean": ["maybe", "2"],
}


@dataclass(frozen=True)
class SchemaChange:
    kind: str  # added_column | renamed_column
    column: str  # the added column, or the contract column that was renamed
    new_name: str | None = None  # what a renamed column is called in the file


@dataclass
class DirtInjector:
    rate: float
    seed: int
    records: list[dict] = field(default_factory=list)
    schema_records: list[dict] = field(default_factory=list)

    def __post_init__(self) -> None:
        # Which entities change schema, and where in their run of partitions (as a share of it): two files
        # with an added column and one with a renamed required column; never the same file twice.
        rng = rng_for(self.seed, "dirt-schema")
        picks = rng.choice(len(SCHEMA_CHANGE_ENTITIES), ADDED_COLUMN_FILES + 1)
        positions = rng.uniform(0.1, 0.9, ADDED_COLUMN_FILES + 1)
        self._schema_plan: dict[tuple[str, str], list[tuple[float, str]]] = {}
        for k, (pick, position) in enumerate(zip(picks, positions, strict=True)):
            kind = "renamed_column" if k == ADDED_COLUMN_FILES else "added_column"
            self._schema_plan.setdefault(SCHEMA_CHANGE_ENTITIES[pick], []).append((position, kind))

    def applies_to(self, contract: EntityContract) -> bool:
        return self.rate > 0 and (contract.source_system, contract.entity) in DIRTY_ENTITIES

    def _key(self, contract: EntityContract, row: dict) -> str:
        return "|".join(str(row.get(c)) for c in contract.primary_key)

    def schema_changes(self, contract: EntityContract, days: list) -> dict:
        """Schema changes of an entity's files, by partition day (``days``: its partition days in order)."""
        plan = self._schema_plan.get((contract.source_system, contract.entity), [])
        if not self.applies_to(contract) or not plan or not days:
            return {}
        rng = rng_for(self.seed, f"dirt-schema-{contract.raw_table}")
        changes: dict = {}
        for position, kind in plan:
            index = min(int(position * len(days)), len(days) - 1)
            while days[index] in changes:  # one change per file
                index = (index + 1) % len(days)
            if kind == "added_column":
                changes[days[index]] = SchemaChange(kind, ADDED_COLUMN)
            else:
                required = [c.name for c in contract.columns if c.required and c.name not in contract.primary_key]
                column = required[int(rng.integers(0, len(required)))]
                changes[days[index]] = SchemaChange(kind, column, f"{column}_v2")
        return changes

    def change_schema(self, contract: EntityContract, part: pa.Table, file: str, change: SchemaChange) -> pa.Table:
        """Apply ``change`` to one file's table and record it in the schema truth."""
        if change.kind == "added_column":
            # The source system started stamping its export batch on every row.
            batch = f"{file.split('dt=')[-1][:10]}-{int(rng_for(self.seed, f'batch-{file}').integers(1, 999)):03d}"
            part = part.append_column(change.column, pa.array([batch] * part.num_rows, pa.string()))
        else:
            names = [change.new_name if n == change.column else n for n in part.column_names]
            part = part.rename_columns(names)
        self.schema_records.append(
            {
                "entity": contract.raw_table,
                "file": file,
                "kind": change.kind,
                "column": change.column,
                "new_name": change.new_name,
                "rows": part.num_rows,
            }
        )
        return part

    def move_late(
        self, contract: EntityContract, data: pa.Table, days: np.ndarray, avoid: set | None = None
    ) -> np.ndarray:
        """Partition days with some rows moved one to three days later (never past the last day, never into
        a day in ``avoid``: files the loader will reject)."""
        rng = rng_for(self.seed, f"dirt-late-{contract.raw_table}")
        days = pd.to_datetime(pd.Series(days)).dt.date.to_numpy()
        last = max(days)
        late = np.flatnonzero(rng.random(len(days)) < self.rate)
        moved = days.copy()
        for i in late:
            target = days[i] + pd.Timedelta(days=int(rng.integers(1, 4)))
            if target <= last and target not in (avoid or ()):
                moved[i] = target
                self.records.append(
                    {
                        "entity": contract.raw_table,
                        "file": None,
                        "line": None,
                        "kind": "late_arriving",
                        "key": self._key(contract, data.slice(int(i), 1).to_pylist()[0]),
                        "true_date": days[i].isoformat(),
                        "landed_partition": target.isoformat(),
                    }
                )
        return moved

    def corrupt(self, contract: EntityContract, part: pa.Table, file: str) -> pa.Table:
        """Return ``part`` with row-level dirt (all columns then text); record each dirty row's final line in
        the file (CSV lines count the header)."""
        rng = rng_for(self.seed, f"dirt-{file}")
        picked = rng.random(part.num_rows) < self.rate
        if not picked.any():
            return part
        typed = [c for c in contract.columns if c.type.split("(")[0] in GARBAGE and c.name not in contract.primary_key]
        required = [c for c in contract.columns if c.required and c.name not in contract.primary_key]
        # A conflicting re-export differs in a value that is itself valid (an amount one unit higher), so
        # the conflict, not a broken value, is what gives it away.
        changeable = [
            c
            for c in contract.columns
            if c.name not in contract.primary_key
            and c.type.split("(")[0] in ("decimal", "double", "integer")
            and c.max is None
        ] or [
            c
            for c in contract.columns
            if c.name not in contract.primary_key and c.type == "varchar" and not c.accepted_values
        ]  # text only: an edited timestamp would be malformed, not conflicting
        out: list[tuple[dict, str | None]] = []
        for row, dirty in zip(part.to_pylist(), picked, strict=True):
            if not dirty:
                out.append((row, None))
                continue
            kind = ROW_KINDS[int(rng.integers(0, len(ROW_KINDS)))]
            if kind == "exact_duplicate":
                out += [(row, None), (dict(row), kind)]
            elif kind == "conflicting_duplicate" and (
                filled := [c.name for c in changeable if row.get(c.name) not in (None, "")]
            ):
                other = dict(row)
                col = filled[int(rng.integers(0, len(filled)))]
                other[col] = _different(row.get(col))
                out += [(row, kind), (other, kind)]
            elif kind == "malformed_value" and typed:
                row = dict(row)
                col = typed[int(rng.integers(0, len(typed)))]
                pool = GARBAGE[col.type.split("(")[0]]
                row[col.name] = pool[int(rng.integers(0, len(pool)))]
                out.append((row, kind))
            elif required:
                row = dict(row)
                row[required[int(rng.integers(0, len(required)))].name] = None
                out.append((row, "missing_required"))
            else:
                out.append((row, None))
        first_line = 2 if contract.format == "csv" else 1
        for line, (row, kind) in enumerate(out, start=first_line):
            if kind:
                self.records.append(
                    {
                        "entity": contract.raw_table,
                        "file": file,
                        "line": line,
                        "kind": kind,
                        "key": self._key(contract, row),
                        "true_date": None,
                        "landed_partition": None,
                    }
                )
        columns = {
            name: pa.array([None if r[name] is None else str(r[name]) for r, _ in out], pa.string())
            for name in part.column_names
        }
        return pa.table(columns)

    def truth(self) -> pd.DataFrame:
        columns = ["entity", "file", "line", "kind", "key", "true_date", "landed_partition"]
        return pd.DataFrame(self.records, columns=columns)

    def schema_truth(self) -> pd.DataFrame:
        columns = ["entity", "file", "kind", "column", "new_name", "rows"]
        return pd.DataFrame(self.schema_records, columns=columns)


def _different(value: object) -> object:
    """A plausible but different value (a conflicting re-export)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "x"
    text = str(value)
    try:
        return f"{float(text) + 1:.2f}"
    except ValueError:
        return text + "-2"
