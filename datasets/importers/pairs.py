"""Product pairs for matching tasks, in the layout of the public matching benchmarks (WDC Products, Ditto,
PriceRunner pairs): CSV, JSON Lines or a JSON array with `left_<field>` and `right_<field>` columns.

Each side's columns map to product fields as a product file's do (`left_title`, `left_brand`,
`left_price`, ..., `left_id` or `left_product_id` for its id); its other columns become that side's
attributes (`left_merchant_id` -> attribute `merchant_id`). A `label` column (or the one named) says
match or no match; every other column (`split`, `pair_id`, `category`) is kept on the pair.

A side with fields is a product: with no id column its id is a hash of its fields, so the same offer in
two pairs is one product. A side with an id and nothing else is a `ProductRef` to a product already in
the dataset (or described by another row of the file): the service checks that it exists.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, BinaryIO

from .files import ImportFormatError, RowError
from .lines import LineCount
from .mapping import suggest_mapping
from .products import FIELD_LIMITS, ProductRow, Upload, check_fields, open_upload
from .values import clean_text, normalize_column, quote

SIDES = ("left", "right")
HASH_PREFIX = "h:"
# Compared after casefolding, with "-" and "_" read as spaces ("No-Match", "non_match").
_MATCH = frozenset(("1", "1.0", "match", "true", "yes", "same", "duplicate"))
_NO_MATCH = frozenset(("0", "0.0", "no match", "non match", "nomatch", "false", "no"))
_HASHED_FIELDS = ("title", "brand", "description", "price", "currency", "image_url", "url")
_SHOWN_COLUMNS = 30


@dataclass(frozen=True, slots=True)
class ProductRef:
    """A side given by its id alone: the service must find the product in the dataset (or earlier in the file)."""

    external_id: str


PairSide = ProductRow | ProductRef


@dataclass(frozen=True, slots=True)
class PairRow:
    """One pair of the file. A ProductRow side has `line` = the pair's line and `label` = "".

    The same product (same external_id) may stand in many pairs; its first valid row describes it.
    """

    line: int  # 1-based: the line in CSV and JSON Lines, the item in a JSON array
    left: PairSide
    right: PairSide
    label: bool | None = None  # True: match, False: no match, None: not labeled
    attributes: dict[str, Any] = field(default_factory=dict)  # columns of the pair, not of a side

    @property
    def key(self) -> tuple[str, str]:
        return pair_key(self.left.external_id, self.right.external_id)


def pair_key(a: str, b: str) -> tuple[str, str]:
    """The two external ids in a fixed order, so (a, b) and (b, a) are the same pair."""
    return (a, b) if a <= b else (b, a)


def product_hash(product: ProductRow) -> str:
    """The id of a product the file gives none: "h:" and 16 hex digits of a hash of its fields and attributes
    present, casefolded and with whitespace collapsed.

    Stable across files and runs, so a product described again in a later import is found again.
    """
    parts = []
    for name in _HASHED_FIELDS:
        value = getattr(product, name)
        if value is not None and value != "":
            parts.append(f"{name}={_normalized(value)}")
    for key in sorted(product.attributes):
        parts.append(f"{_normalized(key)}={_normalized(product.attributes[key])}")
    # surrogatepass: a row with undecodable bytes is refused, but its sides are still read for their problems.
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()
    return HASH_PREFIX + digest[:16]


def _normalized(value: Any) -> str:
    if not isinstance(value, str):
        # Prices: 12.990 and 12.99 are one price. JSON attributes: one spelling of nested values.
        value = format(value.normalize(), "f") if isinstance(value, Decimal) else json.dumps(value, sort_keys=True)
    return " ".join(value.casefold().split())


@dataclass(frozen=True, slots=True)
class _Layout:
    fields: dict[str, str]  # "left:title" -> its column, as Upload.reduced takes them
    label: str  # the label column, "" for none
    read_labels: bool  # False: the label column is set aside unread (pairs to label afresh)
    sides: dict[str, tuple[str, str]]  # column -> (side or "" for the pair, attribute name)

    def side_of(self, column: str) -> tuple[str, str]:
        found = self.sides.get(column)
        if found is None:  # a key that first shows up past the peeked JSON objects
            found = self.sides[column] = _side_of(column)
        return found


def parse_pairs(
    stream: BinaryIO,
    *,
    filename: str = "",
    fmt: str | None = None,
    delimiter: str | None = None,
    label_column: str | None = None,
    read_labels: bool = True,
    counts: LineCount | None = None,
) -> Iterator[PairRow | RowError]:
    """Stream validated pairs; whole-file problems raise ImportFormatError from the call itself.

    `label_column`: None takes a column named "label" when there is one, "" reads no labels.
    `read_labels=False` sets the label column aside unread: no label, and no attribute that would show it.
    `counts` follows the physical lines (items of a JSON array), so rows + errors + counts.skipped == counts.read.
    Row errors: a side with fields but no title, bad field values, an unknown label, both sides the same
    product, and a pair already seen earlier in the file (in either order).
    """
    upload = open_upload(stream, filename=filename, fmt=fmt, delimiter=delimiter, counts=counts)
    try:
        layout = _layout(upload.columns, label_column, read_labels)
    except BaseException:
        upload.text.close()
        raise
    return _pairs(upload, layout)


def _side_of(column: str) -> tuple[str, str]:
    name = normalize_column(column)
    for side in SIDES:
        if name.startswith(side + "_") and len(name) > len(side) + 1:
            return side, name[len(side) + 1 :]
    return "", column


def _layout(columns: list[str], label_column: str | None, read_labels: bool = True) -> _Layout:
    shown = ", ".join(columns[:_SHOWN_COLUMNS]) + (", …" if len(columns) > _SHOWN_COLUMNS else "")
    if label_column is None:
        label = next((column for column in columns if normalize_column(column) == "label"), "")
    else:
        label = label_column.strip()
        if label and label not in columns:
            raise ImportFormatError(f"Label column '{label}' is not in the file: found columns {shown}.")
    sides = {column: _side_of(column) for column in columns if column != label}
    fields: dict[str, str] = {}
    for side in SIDES:
        by_rest = {rest: column for column, (where, rest) in sides.items() if where == side}
        for name, rest in suggest_mapping(list(by_rest)).items():
            fields[f"{side}:{name}"] = by_rest[rest]
        if f"{side}:title" not in fields and f"{side}:external_id" not in fields:
            raise ImportFormatError(
                f"No {side}_title or {side}_id column: found columns {shown}. A pairs file describes each "
                "product in left_ and right_ columns (left_title, left_brand, ...) or names it by left_id and right_id."
            )
    return _Layout(fields, label, read_labels, sides)


def _pairs(upload: Upload, layout: _Layout) -> Iterator[PairRow | RowError]:
    seen: dict[tuple[str, str], int] = {}  # the one structure that grows with the file
    try:
        for item in upload.reduced(layout.fields, layout.label):
            if item.__class__ is RowError:
                yield item
            else:
                yield _pair(*item, layout=layout, seen=seen, unit=upload.unit)
    finally:
        upload.text.close()


def _pair(
    line: int, values: dict[str, Any], attributes: dict[str, Any], label: str, bad: str, *,
    layout: _Layout, seen: dict[tuple[str, str], int], unit: str,
) -> PairRow | RowError:
    problems = [bad] if bad else []
    side_values: dict[str, dict[str, Any]] = {side: {} for side in SIDES}
    for name, value in values.items():
        side, _, field_name = name.partition(":")
        side_values[side][field_name] = value
    side_attributes: dict[str, dict[str, Any]] = {side: {} for side in SIDES}
    pair_attributes: dict[str, Any] = {}
    for column, value in attributes.items():
        side, name = layout.side_of(column)
        (side_attributes[side] if side else pair_attributes)[name] = value
    left = _side("left", line, side_values["left"], side_attributes["left"], problems)
    right = _side("right", line, side_values["right"], side_attributes["right"], problems)
    matched = _label(label, problems) if label and layout.read_labels else None
    if left is None or right is None or problems:
        return RowError(line, "; ".join(problems), _given_ids(side_values))
    if left.external_id == right.external_id:
        why = " (both sides have the same fields and no id)" if left.external_id.startswith(HASH_PREFIX) else ""
        return RowError(line, f"a product cannot match itself{why}", _given_ids(side_values))
    # Only rows that land claim their pair, so fixing a rejected row never turns a later one into a duplicate.
    key = pair_key(left.external_id, right.external_id)
    first = seen.setdefault(key, line)
    if first != line:
        return RowError(line, f"duplicate pair (first seen on {unit} {first})", _given_ids(side_values))
    return PairRow(line, left, right, matched, pair_attributes)


def _given_ids(side_values: dict[str, dict[str, Any]]) -> str:
    """The ids the file gives the two sides ("a1 / b7"), for the error list; hashed ids mean nothing there."""
    given = " / ".join(side_values[side].get("external_id", "") for side in SIDES).strip(" /")
    return clean_text(given[: FIELD_LIMITS["external_id"]])


def _side(
    side: str, line: int, values: dict[str, Any], attributes: dict[str, Any], problems: list[str]
) -> PairSide | None:
    """The side's product or reference; None with its problems appended ("left: missing title")."""
    external_id = values.get("external_id", "")
    own: list[str] = []
    if not attributes and not any(value for name, value in values.items() if name != "external_id"):
        if not external_id:
            problems.append(f"{side}: no product (neither an id nor any field)")
            return None
        check_fields({"external_id": external_id}, own)
        if own:
            problems.append(f"{side}: " + "; ".join(own))
            return None
        return ProductRef(external_id)
    title = values.get("title", "")
    if not title:
        own.append("missing title")
    price, currency = check_fields(values, own)
    if own:
        problems.append(f"{side}: " + "; ".join(own))
        return None
    get = values.get
    product = ProductRow(
        line, external_id, title, get("description", ""), get("brand", ""), price, currency,
        get("image_url", ""), get("url", ""), attributes,
    )
    return product if external_id else replace(product, external_id=product_hash(product))


def match_label(raw: str) -> bool | None:
    """A pair's answer as a file spells it: True for a match, False for no match, None when empty; ValueError for
    any other spelling (case, dashes and underscores aside: "No-Match" is "no match")."""
    spelled = " ".join(raw.casefold().replace("-", " ").replace("_", " ").split())
    if not spelled:
        return None
    if spelled in _MATCH:
        return True
    if spelled in _NO_MATCH:
        return False
    raise ValueError(f"not a match label: {raw!r}")


def _label(raw: str, problems: list[str]) -> bool | None:
    try:
        return match_label(raw)
    except ValueError:
        problems.append(f"invalid label {quote(raw)} (expected 1/0, match/no match, true/false or yes/no)")
        return None
