"""CSV, JSONL and JSON writers: one row in, one encoded chunk out, so memory stays flat."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from typing import Any, BinaryIO

from .common import PRODUCT_ROWS, Columns, Row, columns_of, dumpb, dumps, peek, write_json_array


def csv_columns(first: Row | None, columns: Columns = PRODUCT_ROWS) -> list[str]:
    """The header: fixed base columns, optional plain columns, then the JSON-encoded columns."""
    return columns_of(first, columns)


# Spreadsheets run a cell that starts with one of these as a formula (OWASP "CSV injection"); tab and
# carriage return also start one in some of them. The fullwidth forms count too:
# some spreadsheets (Excel with East Asian input) take them for their ASCII twins.
_FORMULA_STARTS = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20")
# A cell that is nothing but a plain number (a price of -3.50, a score of -1e-05) is never a formula, and
# a quote in front of it would turn a numeric column into text, so such cells are written as they are.
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)


def neutralize_formula(text: str) -> str:
    """`text` with a leading single quote if a spreadsheet would evaluate it (OWASP's rule).

    Leading whitespace is looked through: some spreadsheets trim it before deciding.
    """
    if not text or _PLAIN_NUMBER.fullmatch(text):
        return text
    if text[0] in _FORMULA_STARTS or text.lstrip()[:1] in _FORMULA_STARTS:
        return "'" + text
    return text


def _csv_cell(value: Any, empty_json: Any) -> str:
    if empty_json is not None:
        # Nested values as one JSON cell: CSV has no nesting, and JSON round-trips exactly.
        return dumps(value if value is not None else empty_json)
    if isinstance(value, bool):
        return "true" if value else "false"  # what pandas and most CSV readers take for booleans
    # None becomes an empty cell rather than the string "None".
    return "" if value is None else neutralize_formula(str(value))


def write_csv(rows: Iterable[Row], out: BinaryIO, columns: Columns = PRODUCT_ROWS) -> int:
    first, stream = peek(rows)
    header = csv_columns(first, columns)
    # Each column's JSON for a missing value ({} or []), None for a plain column.
    empty = {name: {} for name in columns.json_objects} | {name: [] for name in columns.json_lists}
    cells_of = [(name, empty.get(name)) for name in header]
    # csv.writer needs a text file; a reused StringIO turns each row into bytes we write directly.
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    # csv quotes a field only for the characters of its line terminator, so a bare "\r" would go out
    # unquoted and split the row when read back; a row holding one is written fully quoted instead.
    quoting_writer = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_ALL)

    def flush() -> None:
        out.write(buffer.getvalue().encode("utf-8"))
        buffer.seek(0)
        buffer.truncate()

    writer.writerow(header)
    flush()
    count = 0
    for row in stream:
        cells = [_csv_cell(row.get(name), empty_json) for name, empty_json in cells_of]
        (quoting_writer if any("\r" in cell for cell in cells) else writer).writerow(cells)
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
