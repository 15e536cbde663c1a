"""Shared pieces of the export writers: the one JSON encoding and the column order (`Columns`, the caller's).

A snapshot must re-download byte-identical, so every writer encodes JSON through `dumps` (sorted keys,
fixed separators) and nothing here reads a clock or depends on dict insertion order.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
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


@dataclass(frozen=True, slots=True)
class Columns:
    """The columns of an export and their order, given by the caller (the task kind) to every tabular writer.

    Written: `fixed` always; then the `optional` plain columns the first row has; then `json_objects` always
    (JSON objects, `{}` when missing: attributes); then the `json_lists` the first row has (suggestions).
    `types` names a column's Parquet type where its name alone would mislead: a pair's `label` is 1 or 0, not a
    path. Types are "decimal", "int", "float", "bool" or "string".
    """

    fixed: tuple[str, ...]
    optional: tuple[str, ...] = OPTIONAL_COLUMNS
    json_objects: tuple[str, ...] = ("attributes",)
    json_lists: tuple[str, ...] = ("suggestions",)
    types: tuple[tuple[str, str], ...] = ()

    def of(self, first: Row | None) -> list[str]:
        """The columns of a uniform row stream: the service passes uniform rows, so the first row decides."""
        present = first or {}
        columns = list(self.fixed)
        columns += [name for name in self.optional if name in present]
        columns += self.json_objects
        columns += [name for name in self.json_lists if name in present]
        return columns


# Rows of one product each (categorization): every writer's default.
PRODUCT_ROWS = Columns(fixed=BASE_COLUMNS)

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


def columns_of(first: Row | None, columns: Columns = PRODUCT_ROWS) -> list[str]:
    """Every column of a uniform row stream, in `columns`' order (see `Columns.of`)."""
    return columns.of(first)
