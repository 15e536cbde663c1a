"""Ditto's text format for entity matching (Li et al., "Deep Entity Matching with Pre-Trained Language
Models", VLDB 2021): one pair a line, each product serialized as `COL <name> VAL <text>` runs,
`<left>\\t<right>\\t<label>`, as in Ditto's `data/wdc/*/train.txt`.

A row is a dict of `left_<field>`, `right_<field>` and `label` (1 match, 0 no match, None unlabeled);
`left_attributes` / `right_attributes`, when given as dicts, add their entries as columns.
Column order: title, brand, price, then every other column sorted by name. The leading three identify
an offer and come first so that they survive Ditto's truncation of long inputs (256 tokens by default);
sorting the rest keeps the bytes independent of dict order. Ids (`id`, `external_id`) are left out: they
would give away which pairs are the same product. Empty values are left out, and whitespace inside a
value (tabs and line breaks included) becomes one space, so a pair is always one line of three fields.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, BinaryIO

from .common import Row, dumps

EXTENSION = "txt"
CONTENT_TYPE = "text/plain; charset=utf-8"
LEADING_COLUMNS: tuple[str, ...] = ("title", "brand", "price")
_IDS = ("id", "external_id")


def serialize_side(row: Row, side: str) -> str:
    """`COL title VAL ... COL brand VAL ...` for the `side` ("left" or "right") of a pair row."""
    prefix = side + "_"
    fields = {key[len(prefix) :]: value for key, value in row.items() if key.startswith(prefix)}
    attributes = fields.pop("attributes", None)
    # A product field wins over an attribute of the same name.
    columns = {**(attributes if isinstance(attributes, dict) else {}), **fields}
    for name in _IDS:
        columns.pop(name, None)
    names = [name for name in LEADING_COLUMNS if name in columns]
    names += sorted(name for name in columns if name not in LEADING_COLUMNS)
    parts = []
    for name in names:
        text = _text(columns[name])
        if text:
            parts.append(f"COL {_text(name)} VAL {text}")
    return " ".join(parts)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        value = dumps(value)
    # split() with no separator breaks on every Unicode whitespace, line and record separators included.
    return " ".join(str(value).split())


def write_ditto(rows: Iterable[Row], out: BinaryIO) -> int:
    """Write the labeled pairs; returns how many were written.

    Unlabeled rows are skipped: Ditto reads a label on every line of its training and test files.
    A label other than 1/0 (True/False) raises ValueError.
    """
    count = 0
    for row in rows:
        label = row.get("label")
        if label is None:
            continue
        if label not in (0, 1):
            raise ValueError(f"Row has label {label!r}; Ditto's labels are 1 (match) and 0 (no match).")
        line = f"{serialize_side(row, 'left')}\t{serialize_side(row, 'right')}\t{int(label)}\n"
        out.write(line.encode("utf-8"))
        count += 1
    return count
