"""What differs between the two offers of a pair: pure Python (no Django), so its tests are fast and exact.

Titles are cut into tokens, and a token is marked when the other title has no token with the same key.
Keys make equal what only looks different: case, hyphens ("WH-1000XM4" and "WH1000XM4"), the space
between a number and its unit ("16GB" and "16 GB") and the units of one dimension ("1 TB" and "1000 GB").
Model numbers, sizes, brands, prices and attributes that disagree are also listed as conflicts, so the
page says in words what the marks show.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

# A unit's spellings -> (what it measures, its factor to that dimension's base unit).
_UNITS: dict[str, tuple[str, Decimal]] = {}
for _names, _dimension, _factor in (
    (("kb",), "capacity", "1e3"),
    (("mb",), "capacity", "1e6"),
    (("gb",), "capacity", "1e9"),
    (("tb",), "capacity", "1e12"),
    (("mah",), "battery", "1"),
    (("w", "watt", "watts"), "power", "1"),
    (("kw",), "power", "1e3"),
    (("v", "volt", "volts"), "voltage", "1"),
    (("hz",), "frequency", "1"),
    (("khz",), "frequency", "1e3"),
    (("mhz",), "frequency", "1e6"),
    (("ghz",), "frequency", "1e9"),
    (("mm",), "size", "1"),
    (("cm",), "size", "10"),
    (("m",), "size", "1e3"),
    (("in", "inch", "inches", '"'), "size", "25.4"),
    (("ml",), "volume", "1"),
    (("cl",), "volume", "10"),
    (("l", "litre", "liter", "litres", "liters"), "volume", "1e3"),
    (("mg",), "weight", "1e-3"),
    (("g",), "weight", "1"),
    (("kg",), "weight", "1e3"),
    (("lb", "lbs"), "weight", "453.59237"),
    (("oz",), "weight", "28.349523125"),
    (("pack", "pk", "pcs", "pc", "pieces", "count", "ct"), "quantity", "1"),
):
    for _name in _names:
        _UNITS[_name] = (_dimension, Decimal(_factor))

# Longest spellings first, so "mah" wins over "m"; "in" only right after the number ("2 in 1" is no size).
_UNIT_PATTERN = "|".join(re.escape(name) for name in sorted(_UNITS, key=len, reverse=True) if name != "in")
_NUMBER = r"\d+(?:[.,]\d+)*"
_TOKEN = re.compile(
    rf"(?P<measure>(?<![\w.,])(?P<number>{_NUMBER})(?:in|\s?-?\s?(?:{_UNIT_PATTERN}))(?![\w]))"
    r"|(?P<word>[^\W_](?:[\w.\-/]*[^\W_])?)",
    re.IGNORECASE,
)
_ORDINAL = re.compile(r"\d+(?:st|nd|rd|th)", re.IGNORECASE)


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


@dataclass(frozen=True)
class _Token:
    start: int
    end: int
    text: str
    kind: str
    key: str
    dimension: str = ""
    parts: tuple[str, ...] = ()  # a compound's words: "noise-cancelling" is also "noise" and "cancelling"


def offers_compare(left: Offer, right: Offer) -> Comparison:
    """Mark what differs between two offers and list their conflicts."""
    left_tokens, right_tokens = _tokens(left.title or ""), _tokens(right.title or "")
    conflicts = [*_model_conflicts(left_tokens, right_tokens), *_measure_conflicts(left_tokens, right_tokens)]
    brand_differs = bool(left.brand and right.brand and _text_key(left.brand) != _text_key(right.brand))
    if brand_differs:
        conflicts.append(Conflict("brand", left.brand, right.brand))
    price_differs = _prices_differ(left, right)
    if price_differs:
        conflicts.append(Conflict("price", _price_text(left), _price_text(right)))
    attributes = _attribute_rows(left.attributes or {}, right.attributes or {})
    conflicts += [Conflict(row.name, row.left or "", row.right or "") for row in attributes if row.differs]
    return Comparison(
        left_title=_spans(left.title or "", left_tokens, _keys(right_tokens)),
        right_title=_spans(right.title or "", right_tokens, _keys(left_tokens)),
        brand_differs=brand_differs,
        price_differs=price_differs,
        attributes=attributes,
        conflicts=tuple(conflicts),
    )


def measure_key(text: str) -> str | None:
    """'16 GB' -> 'capacity:16000000000': the key of a text that is exactly one size, or None."""
    match = _TOKEN.fullmatch(text.strip())
    if match is None or not match.group("measure"):
        return None
    return _measure(match)[0]


def _tokens(title: str) -> list[_Token]:
    tokens = []
    for match in _TOKEN.finditer(title):
        text = match.group(0)
        if match.group("measure"):
            key, dimension = _measure(match)
            tokens.append(_Token(match.start(), match.end(), text, "measure", key, dimension))
        else:
            kind = "model" if _is_model_number(text) else "word"
            parts = tuple(_word_key(part) for part in text.split("-")) if kind == "word" and "-" in text else ()
            tokens.append(_Token(match.start(), match.end(), text, kind, _word_key(text), parts=parts))
    return tokens


def _keys(tokens: list[_Token]) -> set[str]:
    return {key for token in tokens for key in (token.key, *token.parts)}


def _present(token: _Token, other_keys: set[str]) -> bool:
    return token.key in other_keys or (bool(token.parts) and all(part in other_keys for part in token.parts))


def _measure(match: re.Match[str]) -> tuple[str, str]:
    number = match.group("number")
    unit = re.sub(r"[\s-]", "", match.group("measure")[len(number) :]).casefold()
    dimension, factor = _UNITS[unit]
    value = _number(number) * factor
    return f"{dimension}:{value.normalize():f}", dimension


def _number(text: str) -> Decimal:
    # "1,000" is a thousand, "1,5" one and a half.
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?", text):
        text = text.replace(",", "")
    return Decimal(text.replace(",", "."))


def _is_model_number(text: str) -> bool:
    bare = text.replace("-", "").replace("/", "").replace(".", "")
    has_both = any(c.isdigit() for c in bare) and any(c.isalpha() for c in bare)
    return has_both and len(bare) >= 3 and not _ORDINAL.fullmatch(bare)


def _word_key(text: str) -> str:
    return text.casefold().replace("-", "")


def _text_key(text: str) -> str:
    return " ".join(text.casefold().split())


def _spans(title: str, tokens: list[_Token], other_keys: set[str]) -> tuple[Span, ...]:
    spans, position = [], 0
    for token in tokens:
        if token.start > position:
            spans.append(Span(title[position : token.start]))
        spans.append(Span(token.text, not _present(token, other_keys), token.kind))
        position = token.end
    if position < len(title):
        spans.append(Span(title[position:]))
    return tuple(spans)


def _model_conflicts(left: list[_Token], right: list[_Token]) -> list[Conflict]:
    """Each side names a model number the other does not: different products, or a typo worth a look."""
    left_models = {t.key: t.text for t in left if t.kind == "model"}
    right_models = {t.key: t.text for t in right if t.kind == "model"}
    left_only = [text for key, text in left_models.items() if key not in right_models]
    right_only = [text for key, text in right_models.items() if key not in left_models]
    if left_only and right_only:
        return [Conflict("model number", ", ".join(left_only), ", ".join(right_only))]
    return []


def _measure_conflicts(left: list[_Token], right: list[_Token]) -> list[Conflict]:
    """A dimension both titles give (capacity, size, quantity...) with different values."""
    conflicts = []
    for dimension in _unique(t.dimension for t in left if t.kind == "measure"):
        left_values = {t.key: t.text for t in left if t.dimension == dimension}
        right_values = {t.key: t.text for t in right if t.dimension == dimension}
        if right_values and left_values.keys() != right_values.keys():
            conflicts.append(Conflict(dimension, ", ".join(left_values.values()), ", ".join(right_values.values())))
    return conflicts


def _prices_differ(left: Offer, right: Offer) -> bool:
    if left.price is None or right.price is None:
        return False
    currencies = (left.currency or "").upper(), (right.currency or "").upper()
    return _decimal(left.price) != _decimal(right.price) or (all(currencies) and currencies[0] != currencies[1])


def _decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _price_text(offer: Offer) -> str:
    return f"{offer.price} {offer.currency}".strip()


def _attribute_rows(left: Mapping[str, Any], right: Mapping[str, Any]) -> tuple[AttributeRow, ...]:
    """The union of both offers' attributes, names matched whatever their case, the left's order first."""
    right_by_key = {_text_key(name): (name, value) for name, value in right.items()}
    rows, seen = [], set()
    for name, value in left.items():
        key = _text_key(name)
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
    return measure_key(value) or _text_key(value)


def _display(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(_display(item) for item in value)
    return "" if value is None else str(value)


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))
