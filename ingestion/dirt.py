"""Realistic dirt in the landed extracts, at a configurable rate (``FUTUREMART_DIRT_RATE``; 0 turns it off).

Kinds: exact duplicates, conflicting duplicates (same key, different values), malformed values, missing
required values, and late-arriving rows (landed one to three partitions after their business date). Every
dirty row is written to ``truth/dirty_rows.csv`` with its file, line, kind and key, so quarantine can be
graded for precision and recall.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ingestion.contracts import EntityContract
from ingestion.world.random import rng_for

DIRTY_ENTITIES = {("shop", "orders"), ("shop", "order_lines"), ("shop", "payments"), ("crm", "customers")}
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


@dataclass
class DirtInjector:
    rate: float
    seed: int
    records: list[dict] = field(default_factory=list)

    def applies_to(self, contract: EntityContract) -> bool:
        return self.rate > 0 and (contract.source_system, contract.entity) in DIRTY_ENTITIES

    def _key(self, contract: EntityContract, row: dict) -> str:
        return "|".join(str(row.get(c)) for c in contract.primary_key)

    def move_late(self, contract: EntityContract, data: pd.DataFrame, days: np.ndarray) -> np.ndarray:
        """Partition days with some rows moved one to three days later (never past the last day)."""
        rng = rng_for(self.seed, f"dirt-late-{contract.raw_table}")
        days = pd.to_datetime(pd.Series(days)).dt.date.to_numpy()
        last = max(days)
        late = np.flatnonzero(rng.random(len(days)) < self.rate)
        moved = days.copy()
        for i in late:
            target = days[i] + pd.Timedelta(days=int(rng.integers(1, 4)))
            if target <= last:
                moved[i] = target
                self.records.append(
                    {
                        "entity": contract.raw_table,
                        "file": None,
                        "line": None,
                        "kind": "late_arriving",
                        "key": self._key(contract, data.iloc[i].to_dict()),
                        "true_date": days[i].isoformat(),
                        "landed_partition": target.isoformat(),
                    }
                )
        return moved

    def corrupt(self, contract: EntityContract, part: pd.DataFrame, file: str) -> pd.DataFrame:
        """Return ``part`` with row-level dirt; record each dirty row's final line in the file."""
        rng = rng_for(self.seed, f"dirt-{file}")
        picked = rng.random(len(part)) < self.rate
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
        ] or [c for c in contract.columns if c.name not in contract.primary_key and not c.accepted_values]
        out: list[tuple[dict, str | None]] = []
        for row, dirty in zip(part.to_dict("records"), picked, strict=True):
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
        for line, (row, kind) in enumerate(out, start=2):
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
        return pd.DataFrame([r for r, _ in out], columns=part.columns)

    def truth(self) -> pd.DataFrame:
        columns = ["entity", "file", "line", "kind", "key", "true_date", "landed_partition"]
        return pd.DataFrame(self.records, columns=columns)


def _different(value: object) -> object:
    """A plausible but different value (a conflicting re-export)."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "x"
    text = str(value)
    try:
        return f"{float(text) + 1:.2f}"
    except ValueError:
        return text + "-2"
