"""Read a landed extract as columns plus its line numbers, whatever its format.

Typing happens later, in SQL, so a malformed value becomes a quarantine row with a reason instead of an
exception that stops the whole load. Records that cannot even be split into fields (a CSV row with the wrong
number of fields, a line that is not JSON) come back separately as ``unreadable`` with their line and text.
"""

from __future__ import annotations

import csv
import gzip
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.json as pajson
import pyarrow.parquet as pq

if TYPE_CHECKING:
    from ingestion.contracts import EntityContract

LINE_COLUMN = "_source_line"


@dataclass(frozen=True)
class UnreadableRecord:
    line: int | None
    text: str
    reason: str


@dataclass(frozen=True)
class ReadResult:
    table: pa.Table  # text columns (typed for Parquet), plus ``_source_line``
    unreadable: list[UnreadableRecord]

    @property
    def rows_in(self) -> int:
        return self.table.num_rows + len(self.unreadable)


def read_extract(path: Path, contract: EntityContract) -> ReadResult:
    """Read ``path`` as ``contract`` declares it (format, and record path for nested JSON)."""
    fmt = contract.format
    if fmt == "csv":
        return _read_csv(path)
    if fmt == "jsonl":
        with path.open(encoding="utf-8") as handle:
            return _read_json_lines(handle)
    if fmt == "ndjson_gz":
        return _read_ndjson_gz(path, contract.column_names)
    if fmt == "parquet":
        return _read_parquet(path)
    if fmt == "json":
        return _read_json_document(path, contract.record_path, contract.column_names)
    raise ValueError(f"{path}: no reader for format {fmt!r}.")


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


def _read_json_lines(handle: Iterable[str]) -> ReadResult:
    records: list[dict[str, str | None]] = []
    lines: list[int] = []
    unreadable: list[UnreadableRecord] = []
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
        records.append(record)
        lines.append(number)
    return ReadResult(_text_table(records, lines), unreadable)


def _read_ndjson_gz(path: Path, columns: tuple[str, ...]) -> ReadResult:
    """Arrow's JSON reader when every value is text or null (the fast path for large clickstream files);
    line by line in Python otherwise, which also pins malformed lines to their line number."""
    try:
        with pa.input_stream(str(path), compression="gzip") as stream:
            table = pajson.read_json(
                stream,
                parse_options=pajson.ParseOptions(
                    explicit_schema=pa.schema([(name, pa.string()) for name in columns]),
                    unexpected_field_behavior="infer",
                    newlines_in_values=False,
                ),
            )
        if all(pa.types.is_string(f.type) or pa.types.is_null(f.type) for f in table.schema):
            table = pa.table({f.name: table[f.name].cast(pa.string()) for f in table.schema})
            return ReadResult(table.append_column(LINE_COLUMN, pa.array(range(1, table.num_rows + 1), pa.int64())), [])
    except pa.ArrowInvalid:
        pass
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return _read_json_lines(handle)


def _text_table(records: list[dict], lines: list[int]) -> pa.Table:
    columns: dict[str, None] = {}
    for record in records:
        columns.update(dict.fromkeys(record))
    data = {name: pa.array([_as_text(r.get(name)) for r in records], pa.string()) for name in columns}
    data[LINE_COLUMN] = pa.array(lines, pa.int64())
    return pa.table(data)


def _read_json_document(path: Path, record_path: tuple[str, ...], columns: tuple[str, ...]) -> ReadResult:
    """Records at ``record_path`` of one JSON document (e.g. products.variants). A nested record inherits
    the contract's columns it lacks from its parents (a variant its product_id); ``_source_line`` holds the
    record's position in the document, in document order."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as err:
        return ReadResult(_text_table([], []), [UnreadableRecord(None, path.name, f"malformed_json: {err}")])
    level: list[tuple[dict, dict]] = [({}, doc)]
    unreadable: list[UnreadableRecord] = []
    for depth, key in enumerate(record_path):
        nxt: list[tuple[dict, dict]] = []
        for inherited, node in level:
            children = node.get(key, []) if isinstance(node, dict) else []
            if not isinstance(children, list):
                unreadable.append(
                    UnreadableRecord(None, json.dumps(node)[:500], f"malformed_json: {key} is not a list")
                )
                continue
            scope = {**inherited, **{k: v for k, v in node.items() if k in columns}} if depth else inherited
            for child in children:
                if isinstance(child, dict):
                    nxt.append((scope, child))
                else:
                    unreadable.append(UnreadableRecord(None, json.dumps(child)[:500], "malformed_json: not an object"))
        level = nxt
    records = [{**inherited, **{k: v for k, v in node.items() if not isinstance(v, list)}} for inherited, node in level]
    return ReadResult(_text_table(records, list(range(1, len(records) + 1))), unreadable)


def _read_parquet(path: Path) -> ReadResult:
    """Parquet keeps its own types (the loader casts them to the contract's); line = row number."""
    table = pq.read_table(path)
    lines = pa.array(range(1, table.num_rows + 1), pa.int64())
    return ReadResult(table.append_column(LINE_COLUMN, lines), [])


def _as_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True)
    return str(value)
