"""Shared pieces of the export writers: the one JSON encoding and the fixed column order.

A snapshot must re-download byte-identical, so every writer encodes JSON through `dumps` (sorted keys,
fixed separators) and nothing here reads a clock or depends on dict insertion order.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any, BinaryIO

Row = dict[str, Any]

# The product fields first (as imported), then the label columns: the order training code expects.
BASE_COLUMNS: tuple[str, ...] = (
    "external_id", "title", "description", "brand", "price", "currency", "image_url", "url",
    "label", "label_id", "label_code", "split",
)


def dumps(value: Any) -> str:
    """The single JSON encoding of every format, so the same rows always give the same bytes."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def write_json_array(items: Iterable[Any], out: BinaryIO) -> int:
    """Write a JSON array one item at a time ("[" + items joined by ",\\n" + "]"), never the whole list."""
    count = 0
    out.write(b"[")
    for item in items:
        # The separator goes before every item but the first, so no look-ahead is needed.
        out.write((",\n" if count else "").encode() + dumps(item).encode("utf-8"))
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
