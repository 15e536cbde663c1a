"""Product records from CSV, JSON Lines or JSON arrays, validated row by row."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, BinaryIO, TextIO

from .files import ImportFormatError, RowError, check_depth, check_head, detect_format, open_text, read_head
from .lines import LineCount
from .mapping import resolve_mapping, suggest_mapping
from .records import open_csv, open_json
from .values import bad_text_reason, clean_text, parse_price, quote

FIELD_LIMITS: dict[str, int] = {
    "external_id": 255, "title": 1000, "description": 100_000, "brand": 255,
    "currency": 3, "image_url": 2048, "url": 2048,
}
FORMATS = ("csv", "json", "jsonl")
# Currency gets its own 3-letter check, which says more than a length limit would.
_LENGTH_LIMITS = {name: limit for name, limit in FIELD_LIMITS.items() if name != "currency"}
_PEEK_RECORDS = 5

# (line, field values, attributes, label, bad-text reason): what both formats reduce a record to.
_Record = tuple[int, dict[str, Any], dict[str, Any], str, str]


@dataclass(frozen=True, slots=True)
class ProductRow:
    line: int
    external_id: str
    title: str
    description: str = ""
    brand: str = ""
    price: Decimal | None = None
    currency: str = ""
    image_url: str = ""
    url: str = ""
    attributes: dict[str, Any] = field(default_factory=dict)
    label: str = ""  # raw value of the pre-labeled column, "" when none


def read_header(
    stream: BinaryIO, filename: str = "", *, delimiter: str | None = None, sample_rows: int = 5
) -> dict:
    """Columns, a few sample records and a suggested mapping, for the column-mapping page; rewinds `stream`."""
    fmt = detect_format(read_head(stream), filename)
    text, encoding = open_text(stream)
    try:
        if fmt == "csv":
            delimiter, columns, records = open_csv(text, delimiter)
            rows = (item[1] for item in records if not isinstance(item, RowError))
            sample = [
                {column: clean_text(value.strip()) for column, value in zip(columns, row, strict=False)}
                for row in itertools.islice(rows, sample_rows)
            ]
        else:
            delimiter = None
            columns, objects, _ = open_json(text, fmt, encoding, sample_rows)
            sample = [
                {clean_text(k).strip(): clean_text(v) if isinstance(v, str) else v for k, v in obj.items()}
                for obj in objects
            ]
    finally:
        text.close()
        stream.seek(0)
    return {
        "format": fmt,
        "encoding": encoding,
        "delimiter": delimiter,
        "columns": columns,
        "sample": sample,
        "suggested_mapping": suggest_mapping(columns),
    }


def parse_products(
    stream: BinaryIO,
    *,
    filename: str = "",
    fmt: str | None = None,
    delimiter: str | None = None,
    mapping: dict[str, str] | None = None,
    label_column: str | None = None,
    counts: LineCount | None = None,
) -> Iterator[ProductRow | RowError]:
    """Stream validated products; whole-file problems raise ImportFormatError from the call itself.

    `counts` follows the physical lines (items of a JSON array) behind the records yielded so far.
    """
    upload = open_upload(stream, filename=filename, fmt=fmt, delimiter=delimiter, counts=counts)
    try:
        fields, label = resolve_mapping(upload.columns, mapping, label_column)
    except BaseException:
        upload.text.close()
        raise
    return _validated(upload.text, upload.reduced(fields, label), upload.encoding, upload.unit)


@dataclass(frozen=True, slots=True)
class Upload:
    """An upload opened for reading: its header (or the keys of its first objects) and its raw records.

    Whoever reads the records closes `text` when done, or on giving up before reading them.
    """

    text: TextIO
    encoding: str
    fmt: str
    columns: list[str]
    records: Iterator

    @property
    def unit(self) -> str:
        """What a record's number counts, for messages: lines, or items of a JSON array."""
        return "item" if self.fmt == "json" else "line"

    def validated(self, fields: dict[str, str], build: Callable[[int, dict[str, Any], str], Any]) -> Iterator:
        """The records' mapped values, each made a row by `build(line, values, bad-text reason)`, or a
        RowError; closes `text` when done (a queries or judgments file: no label, no attributes)."""
        try:
            for item in self.reduced(fields, ""):
                if item.__class__ is RowError:
                    yield item
                else:
                    line, values, _, _, bad = item
                    yield build(line, values, bad)
        finally:
            self.text.close()

    def reduced(self, fields: dict[str, str], label: str) -> Iterator[_Record | RowError]:
        """The records as (line, values by field name, other columns, label, bad-text reason) or RowError.

        `fields` maps a name to a column; `values` holds the mapped ones (stripped text, a JSON number
        stays a number for a field named "price"); every other non-empty column lands in the attributes.
        """
        if self.fmt == "csv":
            return _csv_records(self.records, self.columns, fields, label, self.encoding)
        return _json_records(self.records, fields, label)


def open_upload(
    stream: BinaryIO, *, filename: str = "", fmt: str | None = None, delimiter: str | None = None,
    counts: LineCount | None = None,
) -> Upload:
    """Sniff, decode and open a CSV, JSON or JSON Lines upload; whole-file problems raise ImportFormatError."""
    head = read_head(stream)
    if fmt is None:
        fmt = detect_format(head, filename)
    elif fmt not in FORMATS:
        raise ImportFormatError(f"Unknown product file format '{fmt}'; choose csv, json or jsonl.")
    elif fmt == "csv":
        check_head(head)
    else:
        check_depth(check_head(head))
    text, encoding = open_text(stream)
    try:
        if fmt == "csv":
            _, columns, records = open_csv(text, delimiter, counts)
        else:
            columns, _, records = open_json(text, fmt, encoding, _PEEK_RECORDS, counts)
    except BaseException:
        text.close()
        raise
    return Upload(text, encoding, fmt, columns, records)


def _csv_records(
    records: Iterable, columns: list[str], fields: dict[str, str], label: str, encoding: str
) -> Iterator[_Record | RowError]:
    width = len(columns)
    positions = [(name, columns.index(column)) for name, column in fields.items()]
    label_at = columns.index(label) if label else -1
    taken = {position for _, position in positions} | {label_at}
    # Unmapped columns are kept as attributes, never dropped.
    extra = [(i, name) for i, name in enumerate(columns) if i not in taken]
    id_at = columns.index(fields["external_id"]) if "external_id" in fields else -1
    for item in records:
        if item.__class__ is RowError:
            yield item
            continue
        line, row = item
        if len(row) != width:
            # Trailing empty cells ("a,b,c,") are a common export quirk, not extra data.
            if len(row) > width and any(value.strip() for value in row[width:]):
                external_id = clean_text(row[id_at].strip()[: FIELD_LIMITS["external_id"]]) if id_at >= 0 else ""
                yield RowError(line, f"row has {len(row)} fields, header has {width}", external_id)
                continue
            row = row[:width] + [""] * (width - len(row))
        attributes = {}
        for i, name in extra:
            value = row[i].strip()
            if value:
                attributes[name] = value
        values = {name: row[i].strip() for name, i in positions}
        label_value = row[label_at].strip() if label_at >= 0 else ""
        yield line, values, attributes, label_value, bad_text_reason("".join(row), encoding)


def _json_records(records: Iterable, fields: dict[str, str], label: str) -> Iterator[_Record | RowError]:
    targets: dict[str, list[str]] = {}
    for name, column in fields.items():
        targets.setdefault(column, []).append(name)
    keys: dict[str, str] = {}  # raw key -> stripped key, so each distinct key is cleaned once
    for item in records:
        if item.__class__ is RowError:
            yield item
            continue
        line, obj, bad = item
        values: dict[str, Any] = {}
        attributes: dict[str, Any] = {}
        label_value = ""
        for raw_key, value in obj.items():
            key = keys.get(raw_key)
            if key is None:
                key = keys[raw_key] = clean_text(raw_key).strip()
            names = targets.get(key)
            if names:
                for name in names:
                    # Numbers stay numbers for the price; everything else is text.
                    numeric = name == "price" and isinstance(value, (int, float)) and not isinstance(value, bool)
                    values[name] = value if numeric else _as_text(value)
            if label and key == label:
                label_value = _as_text(value)
            elif not names and value is not None:
                if isinstance(value, str):
                    value = value.strip()
                if value != "":
                    attributes[key] = value  # nested values stay as they are
        yield line, values, attributes, label_value, bad


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    return (value if isinstance(value, str) else str(value)).strip()


def _validated(
    text: TextIO, records: Iterable[_Record | RowError], encoding: str, unit: str
) -> Iterator[ProductRow | RowError]:
    seen: dict[str, int] = {}  # the one structure that grows with the file
    try:
        for item in records:
            if item.__class__ is RowError:
                yield item
            else:
                yield _build(*item, seen=seen, unit=unit)
    finally:
        text.close()


def _build(
    line: int, values: dict[str, Any], attributes: dict[str, Any], label: str, bad: str, *,
    seen: dict[str, int], unit: str,
) -> ProductRow | RowError:
    get = values.get
    external_id: str = get("external_id", "")
    title: str = get("title", "")
    problems = [bad] if bad else []
    if not external_id:
        problems.append("missing external_id")
    if not title:
        problems.append("missing title")
    price, currency = check_fields(values, problems)
    if problems:
        return RowError(line, "; ".join(problems), clean_text(external_id[: FIELD_LIMITS["external_id"]]))
    # Only rows that land claim their id, so fixing a rejected row never turns a later one into a duplicate.
    first = seen.setdefault(external_id, line)
    if first != line:
        return RowError(line, f"duplicate external_id {quote(external_id)} (first seen on {unit} {first})", external_id)
    return ProductRow(
        line, external_id, title, get("description", ""), get("brand", ""), price, currency,
        get("image_url", ""), get("url", ""), attributes, label,
    )


def check_fields(values: dict[str, Any], problems: list[str]) -> tuple[Decimal | None, str]:
    """(price, currency) of a record's field values, appending to `problems` what is wrong with them.

    Checks the length limits, the price and the currency code; the currency written next to the price
    ("12.99 EUR") stands in when there is no currency value.
    """
    for name, value in values.items():  # only the mapped fields, usually few
        limit = _LENGTH_LIMITS.get(name)
        if limit and len(value) > limit:
            problems.append(f"{name} longer than {limit} characters")
    price, price_currency = parse_price(values.get("price"), problems)
    currency: str = values.get("currency", "")
    if currency:
        currency = currency.upper()
        if len(currency) != 3 or not (currency.isascii() and currency.isalpha()):
            problems.append(f"invalid currency {quote(currency)} (expected a 3-letter code such as EUR)")
    else:
        currency = price_currency
    return price, currency
