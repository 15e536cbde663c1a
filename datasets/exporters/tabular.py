"""CSV, JSONL and JSON writers: one row in, one encoded chunk out, so memory stays flat."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any, BinaryIO

from .common import JSON_COLUMNS, Row, columns_of, dumpb, dumps, peek, write_json_array


def csv_columns(first: Row | None) -> list[str]:
    """The header: fixed base columns, optional plain columns, then the JSON-encoded columns."""
    return columns_of(first)


def _csv_cell(name: str, value: Any) -> str:
    if name in JSON_COLUMNS:
        # Nested values as one JSON cell: CSV has no nesting, and JSON round-trips exactly.
        return dumps(value if value is not None else ({} if name == "attributes" else []))
    if isinstance(value, bool):
        return "true" if value else "false"  # what pandas and most CSV readers take for booleans
    # None becomes an empty cell rather than the string "None".
    return "" if value is None else str(value)


def write_csv(rows: Iterable[Row], out: BinaryIO) -> int:
    first, stream = peek(rows)
    columns = csv_columns(first)
    # csv.writer needs a text file; a reused StringIO turns each row into bytes we write directly.
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")

    def flush() -> None:
        out.write(buffer.getvalue().encode("utf-8"))
        buffer.seek(0)
        buffer.truncate()

    writer.writerow(columns)
    flush()
    count = 0
    for row in stream:
        writer.writerow([_csv_cell(name, row.get(name)) for name in columns])
        flush()
        count += 1
    return count


def write_jsonl(rows: Iterable[Row], out: BinaryIO) -> int:
    count = 0
    for row in rows:
        out.write(dumpb(row) + b"\n")
        count += 1
    return count


def write_json(rows: Iterable[Row], out: BinaryIO) -> int:
    return write_json_array(rows, out)
