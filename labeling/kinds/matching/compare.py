"""What differs between the two offers of a pair: pure Python (no Django), so its tests are fast and exact.

Titles are cut into tokens, and a token is marked when the other title has no token with the same key.
Keys make equal what only looks different: case, hyphens ("WH-1000XM4" and "WH1000XM4"), the space
between a number and its unit ("16GB" and "16 GB") and the units of one dimension ("1 TB" and "1000 GB").
Model numbers, sizes, brands, prices and attributes that disagree are also listed as conflicts, so the
page says in words what the marks show.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from datasets.offers import Token, measure_key, measures, model_numbers, price_value, text_key, title_tokens
from datasets.product_images import attributes_without_images


class Offer(Protocol):
    """What is compared of a product: `datasets.models.Product` has these fields."""

    title: str
    brand: str
    price: Decimal | None
    currency: str
    attributes: Mapping[str, Any]


@dataclass(frozen=True)
class Span:
    """A piece of a title: `differs` when the other title has nothing equal to it."""

    text: str
    differs: bool = False
    kind: str = ""  # "word", "model" (a model number) or "measure" (a size, a capacity, a quantity)


@dataclass(frozen=True)
class Conflict:
    """A field on which the two offers disagree, in words: 'capacity: 16GB / 32 GB'."""

    what: str
    left: str
    right: str


@dataclass(frozen=True)
class AttributeRow:
    name: str
    left: str | None
    right: str | None
    differs: bool


@dataclass(frozen=True)
class Comparison:
    left_title: tuple[Span, ...]
    right_title: tuple[Span, ...]
    brand_differs: bool
    price_differs: bool
    attributes: tuple[AttributeRow, ...]
    conflicts: tuple[Conflict, ...]


def offers_compare(left: Offer, right: Offer) -> Comparison:
    """Mark what differs between two offers and list their conflicts."""
    left_tokens, right_tokens = title_tokens(left.title or ""), title_tokens(right.title or "")
    conflicts = [*_model_conflicts(left_tokens, right_tokens), *_measure_conflicts(left_tokens, right_tokens)]
    brand_differs = bool(left.brand and right.brand and text_key(left.brand) != text_key(right.brand))
    if brand_differs:
        conflicts.append(Conflict("brand", left.brand, right.brand))
    price_differs = _prices_differ(left, right)
    if price_differs:
        conflicts.append(Conflict("price", _price_text(left), _price_text(right)))
    # Image columns are shown as photos, never compared as text.
    attributes = _attribute_rows(
        attributes_without_images(left.attributes), attributes_without_images(right.attributes)
    )
    conflicts += [Conflict(row.name, row.left or "", row.right or "") for row in attributes if row.differs]
    return Comparison(
        left_title=_spans(left.title or "", left_tokens, _keys(right_tokens)),
        right_title=_spans(right.title or "", right_tokens, _keys(left_tokens)),
        brand_differs=brand_differs,
        price_differs=price_differs,
        attributes=attributes,
        conflicts=tuple(conflicts),
    )


def _keys(tokens: list[Token]) -> set[str]:
    return {key for token in tokens for key in (token.key, *token.parts)}


def _present(token: Token, other_keys: set[str]) -> bool:
    return token.key in other_keys or (bool(token.parts) and all(part in other_keys for part in token.parts))


def _spans(title: str, tokens: list[Token], other_keys: set[str]) -> tuple[Span, ...]:
    spans, position = [], 0
    for token in tokens:
        if token.start > position:
            spans.append(Span(title[position : token.start]))
        spans.append(Span(token.text, not _present(token, other_keys), token.kind))
        position = token.end
    if position < len(title):
        spans.append(Span(title[position:]))
    return tuple(spans)


def _model_conflicts(left: list[Token], right: list[Token]) -> list[Conflict]:
    """Each side names a model number the other does not: different products, or a typo worth a look."""
    left_models, right_models = model_numbers(left), model_numbers(right)
    left_only = [text for key, text in left_models.items() if key not in right_models]
    right_only = [text for key, text in right_models.items() if key not in left_models]
    if left_only and right_only:
        return [Conflict("model number", ", ".join(left_only), ", ".join(right_only))]
    return []


def _measure_conflicts(left: list[Token], right: list[Token]) -> list[Conflict]:
    """A dimension both titles give (capacity, size, quantity...) with different values."""
    conflicts = []
    right_measures = measures(right)
    for dimension, left_values in measures(left).items():
        right_values = right_measures.get(dimension, {})
        if right_values and left_values.keys() != right_values.keys():
            conflicts.append(Conflict(dimension, ", ".join(left_values.values()), ", ".join(right_values.values())))
    return conflicts


def _prices_differ(left: Offer, right: Offer) -> bool:
    if left.price is None or right.price is None:
        return False
    currencies = (left.currency or "").upper(), (right.currency or "").upper()
    return price_value(left.price) != price_value(right.price) or (all(currencies) and currencies[0] != currencies[1])


def _price_text(offer: Offer) -> str:
    return f"{offer.price} {offer.currency}".strip()


def _attribute_rows(left: Mapping[str, Any], right: Mapping[str, Any]) -> tuple[AttributeRow, ...]:
    """The union of both offers' attributes, names matched whatever their case, the left's order first."""
    right_by_key = {text_key(name): (name, value) for name, value in right.items()}
    rows, seen = [], set()
    for name, value in left.items():
        key = text_key(name)
        seen.add(key)
        other = right_by_key.get(key)
        rows.append(_attribute_row(name, _display(value), None if other is None else _display(other[1])))
    for key, (name, value) in right_by_key.items():
        if key not in seen:
            rows.append(AttributeRow(name, None, _display(value), differs=False))
    return tuple(rows)


def _attribute_row(name: str, left: str, right: str | None) -> AttributeRow:
    differs = right is not None and _value_key(left) != _value_key(right)
    return AttributeRow(name, left, right, differs)


def _value_key(value: str) -> str:
    return measure_key(value) or text_key(value)


def _display(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(_display(item) for item in value)
    return "" if value is None else str(value)
