"""What the annotation-export parsers (Label Studio, Prodigy) share: the row, the record stream, value checks.

A labeled import must land whole or not at all, so unlike `products` these parsers never yield a row
error: the first problem raises ImportFormatError("<Item|Line> N: ...") and the service imports nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO, TextIO

import ijson

from .files import ImportFormatError, check_head, detect_format, open_text, read_head
from .products import FIELD_LIMITS, ProductRow
from .records import IJSON_READ_CHARS, _first_line, _Utf8Reader
from .values import TOO_DEEP, bad_text_reason, bad_value_reason, clean_text, parse_price, quote, too_deep

# The product fields both tools can carry next to the text; title and external_id have their own rules.
OPTIONAL_FIELDS = ("description", "brand", "price", "currency", "image_url", "url")
_LENGTH_LIMITS = {name: limit for name, limit in FIELD_LIMITS.items() if name != "currency"}
# ("Item 3" or "Line 7" for messages, that number, the decoded value): one record of an export.
Record = tuple[str, int, Any]


@dataclass(frozen=True, slots=True)
class AnnotatedRow:
    """One product and the labels given to it; several rows may share an external_id (the service merges them)."""

    line: int  # 1-based: item number in a JSON array, line number in JSON Lines
    product: ProductRow  # product.label is always ""
    labels: tuple[tuple[str, str], ...]  # (annotator or "", label value), in file order


def record_error(where: str, message: str) -> ImportFormatError:
    """ImportFormatError("Item 3: message."); `where` is "Item 3" or "Line 7"."""
    return ImportFormatError(f"{where}: {message}.")


def read_records(stream: BinaryIO, filename: str, accepted: str) -> tuple[str, Iterator[Record]]:
    """(encoding, records) from a JSON array, JSON Lines or a single JSON object.

    Binary, empty and non-JSON files raise here; syntax errors and an empty array raise from the iterator.
    """
    head = read_head(stream)
    first = check_head(head, accepted).lstrip()[:1]
    if first not in "[{":
        raise ImportFormatError(f"This file is not JSON; expected {accepted}.")
    fmt = detect_format(head, filename)
    text, encoding = open_text(stream)
    return encoding, _records(text, fmt, first, accepted)


def _records(text: TextIO, fmt: str, first: str, accepted: str) -> Iterator[Record]:
    empty = True
    try:
        if fmt == "jsonl":
            records = _jsonl(text)
        elif first == "[":
            records = _array(text)
        else:
            records = _document(text)
        for record in records:
            empty = False
            yield record
    finally:
        text.close()
    if empty:
        raise ImportFormatError(f"The file contains no records; expected {accepted}.")


def _jsonl(text: TextIO) -> Iterator[Record]:
    for number, line in enumerate(text, 1):
        stripped = line.strip()
        if not stripped:
            continue
        if too_deep(stripped):
            raise record_error(f"Line {number}", TOO_DEEP)
        try:
            value = _DECODER.decode(stripped)
        except json.JSONDecodeError as exc:
            raise record_error(f"Line {number}", f"not valid JSON: {exc.msg} (column {exc.colno})") from exc
        except ValueError as exc:  # NaN or Infinity
            raise record_error(f"Line {number}", f"not valid JSON: {exc}") from exc
        yield f"Line {number}", number, value


def _array(text: TextIO) -> Iterator[Record]:
    # Streamed item by item: exports of large projects run to gigabytes.
    count = 0
    try:
        items = ijson.items(_Utf8Reader(text), "item", use_float=True, buf_size=IJSON_READ_CHARS)
        for count, value in enumerate(items, 1):
            yield f"Item {count}", count, value
    except (ijson.JSONError, UnicodeDecodeError) as exc:
        if not count:
            raise ImportFormatError(f"The file is not valid JSON: {_first_line(exc)}.") from exc
        raise record_error(f"Item {count + 1}", f"not valid JSON: {_first_line(exc)}") from exc


def _document(text: TextIO) -> Iterator[Record]:
    # A single object (one task saved on its own) is small enough to read whole.
    document = text.read().lstrip("\ufeff")
    if too_deep(document):
        raise record_error("Item 1", TOO_DEEP)
    try:
        value = _DECODER.decode(document)
    except ValueError as exc:
        raise ImportFormatError(f"The file is not valid JSON: {_first_line(exc)}.") from exc
    yield "Item 1", 1, value


def _reject_constant(name: str) -> None:
    # NaN/Infinity are not JSON, and PostgreSQL's jsonb refuses them.
    raise ValueError(f"{name} is not allowed")


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def as_text(value: Any, where: str, name: str) -> str:
    """A scalar as stripped text ("" for null); numbers become their JSON spelling."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, (dict, list)):
        kind = "an object" if isinstance(value, dict) else "a list"
        raise record_error(where, f"{name} must be text, not {kind}")
    return json.dumps(value)  # 12 -> "12", true -> "true", as the file spells it


def optional_values(source: dict[str, Any], where: str, prefix: str) -> dict[str, Any]:
    """The OPTIONAL_FIELDS present in `source`; a numeric price stays a number for parse_price."""
    values: dict[str, Any] = {}
    for name in OPTIONAL_FIELDS:
        value = source.get(name)
        if name == "price" and isinstance(value, (int, float)) and not isinstance(value, bool):
            values[name] = value
        elif value is not None:
            values[name] = as_text(value, where, prefix + name)
    return values


def extra_attributes(source: dict[str, Any], skip: set[str] | frozenset[str]) -> dict[str, Any]:
    """Every key not in `skip`, as products.py keeps unmapped columns: stripped, empty values dropped."""
    attributes: dict[str, Any] = {}
    for raw_key, value in source.items():
        if raw_key in skip or value is None:
            continue
        if isinstance(value, str):
            value = value.strip()
            if not value:
                continue
        attributes[clean_text(raw_key).strip()] = value
    return attributes


def build_product(
    where: str, line: int, values: dict[str, Any], attributes: dict[str, Any], encoding: str, prefix: str
) -> ProductRow:
    """Validate like products.py, but raise: `values` holds external_id, title and any OPTIONAL_FIELDS."""
    problems = []
    for name, value in values.items():
        if not isinstance(value, str):
            continue  # a numeric price
        limit = _LENGTH_LIMITS.get(name)
        if limit and len(value) > limit:
            problems.append(f"{prefix}{name} longer than {limit} characters")
        bad = bad_text_reason(value, encoding)
        if bad:
            problems.append(f"{prefix}{name}: {bad}")
    price, price_currency = parse_price(values.get("price"), problems)
    currency = values.get("currency", "").upper()
    if currency and (len(currency) != 3 or not (currency.isascii() and currency.isalpha())):
        problems.append(f"invalid currency {quote(currency)} (expected a 3-letter code such as EUR)")
    bad = bad_value_reason(attributes, encoding) if attributes else ""
    if bad:
        problems.append(f"attributes: {bad}")
    if problems:
        raise record_error(where, "; ".join(problems))
    get = values.get
    return ProductRow(
        line, values["external_id"], values["title"], get("description", ""), get("brand", ""), price,
        currency or price_currency, get("image_url", ""), get("url", ""), attributes,
    )


def check_label(where: str, annotator: str, label: str, encoding: str) -> tuple[str, str]:
    for what, value in (("annotator", annotator), ("label", label)):
        bad = bad_text_reason(value, encoding)
        if bad:
            raise record_error(where, f"{what} {quote(value)}: {bad}")
    return annotator, label
