"""Shared pieces of the export writers: the one JSON encoding and the fixed column order.

A snapshot must re-download byte-identical, so every writer encodes JSON through `dumps` (sorted keys,
fixed separators) and nothing here reads a clock or depends on dict insertion order.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any, BinaryIO

import orjson

Row = dict[str, Any]

# The product fields first (as imported), then the label columns: the order training code expects.
PRODUCT_COLUMNS: tuple[str, ...] = (
    "external_id", "title", "description", "brand", "price", "currency", "image_url", "url",
)
BASE_COLUMNS: tuple[str, ...] = (*PRODUCT_COLUMNS, "label", "label_id", "label_code", "split", "gold")
# Present only when the export asks for them (raw annotations, vote counts, flagged items, suggestions).
OPTIONAL_COLUMNS: tuple[str, ...] = ("annotator", "source", "votes", "agreement", "flagged")
JSON_COLUMNS: tuple[str, ...] = ("attributes", "suggestions")
_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)  # exact, as stored; a float would round
    raise TypeError(f"Cannot encode {type(value).__name__} in an export.")


def dumpb(value: Any) -> bytes:
    """The single JSON encoding of every format (sorted keys, compact, UTF-8): the same rows give the same bytes.

    orjson rather than json: at a million rows the encoding is most of an export's time.
    """
    return orjson.dumps(value, option=_OPTIONS, default=_default)


def dumps(value: Any) -> str:
    return dumpb(value).decode("utf-8")


def write_json_array(items: Iterable[Any], out: BinaryIO) -> int:
    """Write a JSON array one item at a time ("[" + items joined by ",\\n" + "]"), never the whole list."""
    count = 0
    out.write(b"[")
    for item in items:
        # The separator goes before every item but the first, so no look-ahead is needed.
        out.write((b",\n" if count else b"") + dumpb(item))
        count += 1
    out.write(b"]")
    return count


def peek(rows: Iterable[Row]) -> tuple[Row | None, Iterator[Row]]:
    """The first row (to choose optional columns) and an iterator that still yields it."""
    iterator = iter(rows)
    first = next(iterator, None)
    if first is None:
        return None, iterator

    def chained() -> Iterator[Row]:
        yield first
        yield from iterator

    return first, chained()


def columns_of(first: Row | None) -> list[str]:
    """Every column of a uniform row stream, in the fixed order: base, optional, then JSON-valued.

    The service passes uniform rows, so the first row decides (a stream cannot look ahead).
    """
    present = first or {}
    columns = list(BASE_COLUMNS)
    columns += [name for name in OPTIONAL_COLUMNS if name in present]
    columns += [name for name in JSON_COLUMNS if name == "attributes" or name in present]
    return columns
