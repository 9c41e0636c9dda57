"""Read a landed extract as text columns plus its line numbers, whatever its format.

Typing happens later, in SQL, so a malformed value becomes a quarantine row with a reason instead of an
exception that stops the whole load. Records that cannot even be split into fields (a CSV row with the wrong
number of fields, a line that is not JSON) come back separately as ``unreadable`` with their line and text.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv

LINE_COLUMN = "_source_line"


@dataclass(frozen=True)
class UnreadableRecord:
    line: int | None
    text: str
    reason: str


@dataclass(frozen=True)
class ReadResult:
    table: pa.Table  # every column a string, plus ``_source_line``
    unreadable: list[UnreadableRecord]

    @property
    def rows_in(self) -> int:
        return self.table.num_rows + len(self.unreadable)


def read_extract(path: Path, fmt: str) -> ReadResult:
    if fmt == "csv":
        return _read_csv(path)
    if fmt == "jsonl":
        return _read_jsonl(path)
    raise ValueError(f"{path}: no reader for format {fmt!r} (known: csv, jsonl).")


def _read_csv(path: Path) -> ReadResult:
    with path.open(newline="", encoding="utf-8") as handle:
        header = next(csv.reader(handle), None)
    if not header:
        return ReadResult(pa.table({LINE_COLUMN: pa.array([], pa.int64())}), [])
    unreadable: list[UnreadableRecord] = []

    def on_invalid(row) -> str:  # noqa: ANN001 - pyarrow's InvalidRow
        unreadable.append(
            UnreadableRecord(
                line=row.number,
                text=row.text,
                reason=f"malformed_row: expected {row.expected_columns} fields, got {row.actual_columns}",
            )
        )
        return "skip"

    table = pacsv.read_csv(
        path,
        # Single-threaded so pyarrow knows each row's physical line number for the quarantine.
        read_options=pacsv.ReadOptions(use_threads=False),
        parse_options=pacsv.ParseOptions(invalid_row_handler=on_invalid, newlines_in_values=False),
        convert_options=pacsv.ConvertOptions(
            column_types={name: pa.string() for name in header},
            strings_can_be_null=True,
            null_values=[""],
        ),
    )
    lines = _csv_line_numbers(path, table.num_rows, {r.line for r in unreadable if r.line})
    return ReadResult(table.append_column(LINE_COLUMN, pa.array(lines, pa.int64())), unreadable)


def _csv_line_numbers(path: Path, n_rows: int, skipped: set[int]) -> list[int]:
    """Physical line of each parsed row: line 1 is the header, skipped (unreadable) lines are left out."""
    if not skipped:
        return list(range(2, n_rows + 2))
    lines, line = [], 2
    while len(lines) < n_rows:
        if line not in skipped:
            lines.append(line)
        line += 1
    return lines


def _read_jsonl(path: Path) -> ReadResult:
    records: list[dict[str, str | None]] = []
    lines: list[int] = []
    unreadable: list[UnreadableRecord] = []
    columns: dict[str, None] = {}
    with path.open(encoding="utf-8") as handle:
        for number, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                record = json.loads(text)
                if not isinstance(record, dict):
                    raise ValueError("not a JSON object")
            except ValueError as err:
                unreadable.append(UnreadableRecord(number, text.rstrip("\n"), f"malformed_json: {err}"))
                continue
            records.append({k: _as_text(v) for k, v in record.items()})
            columns.update(dict.fromkeys(record))
            lines.append(number)
    data = {name: pa.array([r.get(name) for r in records], pa.string()) for name in columns}
    data[LINE_COLUMN] = pa.array(lines, pa.int64())
    return ReadResult(pa.table(data), unreadable)


def _as_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    return str(value)
