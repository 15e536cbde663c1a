"""What an offer's text says about the product: model numbers, sizes with their units, prices.

Pure Python (no Django), shared by the pair comparison people read (labeling.kinds.matching.compare)
and the matcher that learns from their answers (models_app.ml.pair_features), so both see the same
model numbers and the same sizes. Keys make equal what only looks different: case, hyphens
("WH-1000XM4" and "WH1000XM4"), the space between a number and its unit ("16GB" and "16 GB") and the
units of one dimension ("1 TB" and "1000 GB").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

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
_THOUSANDS = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?")
# A price as written: "$1,299.99", "1.299,99 EUR", "199": digits with "." and "," anywhere inside.
_PRICE = re.compile(r"(?<!-)\d[\d.,]*")
_DECIMALS = re.compile(r"(.*?)[.,](\d{1,2})")


@dataclass(frozen=True)
class Token:
    """A word, model number or size of a title, with its place in the title and its comparison key."""

    start: int
    end: int
    text: str
    kind: str  # "word", "model" (a model number) or "measure" (a size, a capacity, a quantity)
    key: str  # equal for equal things: "wh1000xm4", "capacity:16000000000"
    dimension: str = ""  # a measure's: "capacity", "size", "quantity"...
    parts: tuple[str, ...] = ()  # a compound's words: "noise-cancelling" is also "noise" and "cancelling"


def title_tokens(title: str) -> list[Token]:
    """The title's tokens in order; what lies between them (spaces, punctuation) is not a token."""
    tokens = []
    for match in _TOKEN.finditer(title):
        text = match.group(0)
        if match.group("measure"):
            key, dimension = _measure(match)
            tokens.append(Token(match.start(), match.end(), text, "measure", key, dimension))
        else:
            kind = "model" if is_model_number(text) else "word"
            parts = tuple(word_key(part) for part in text.split("-")) if kind == "word" and "-" in text else ()
            tokens.append(Token(match.start(), match.end(), text, kind, word_key(text), parts=parts))
    return tokens


# Token text -> (kind, key, dimension), by which alternative matched it: catalogs repeat their words heavily,
# so blocking and the matcher, which read a million titles, classify each distinct word once.
_TOKEN_KEYS: dict[tuple[bool, str], tuple[str, str, str]] = {}
_TOKEN_KEYS_MAX = 1_000_000


def title_keys(title: str) -> list[tuple[str, str, str]]:
    """(kind, key, dimension) of each of `title_tokens(title)`, in order: the same values, much faster
    (no Token objects, each distinct token text classified once per process)."""
    found = []
    cache = _TOKEN_KEYS
    for match in _TOKEN.finditer(title):
        text = match.group(0)
        measure = match.group("measure") is not None
        value = cache.get((measure, text))
        if value is None:
            if len(cache) >= _TOKEN_KEYS_MAX:
                cache.clear()
            if measure:
                key, dimension = _measure(match)
                value = ("measure", key, dimension)
            else:
                value = ("model" if is_model_number(text) else "word", word_key(text), "")
            cache[(measure, text)] = value
        found.append(value)
    return found


def model_numbers(tokens: Iterable[Token]) -> dict[str, str]:
    """Key -> text of each model number, in title order ("WH-1000XM4" and "WH1000XM4" are one)."""
    return {token.key: token.text for token in tokens if token.kind == "model"}


def measures(tokens: Iterable[Token]) -> dict[str, dict[str, str]]:
    """Dimension -> {key: text} of each size, in title order: {"capacity": {"capacity:16000000000": "16GB"}}."""
    found: dict[str, dict[str, str]] = {}
    for token in tokens:
        if token.kind == "measure":
            found.setdefault(token.dimension, {})[token.key] = token.text
    return found


def measure_key(text: str) -> str | None:
    """'16 GB' -> 'capacity:16000000000': the key of a text that is exactly one size, or None."""
    match = _TOKEN.fullmatch(text.strip())
    if match is None or not match.group("measure"):
        return None
    return _measure(match)[0]


def is_model_number(text: str) -> bool:
    """Letters and digits together, at least 3 of them, and no ordinal: "WH-1000XM4", "A1234", not "3rd"."""
    bare = text.replace("-", "").replace("/", "").replace(".", "")
    has_both = any(c.isdigit() for c in bare) and any(c.isalpha() for c in bare)
    return has_both and len(bare) >= 3 and not _ORDINAL.fullmatch(bare)


def word_key(text: str) -> str:
    return text.casefold().replace("-", "")


def text_key(text: str) -> str:
    """Case folded and whitespace collapsed: how brands and attribute names are compared."""
    return " ".join(text.casefold().split())


def price_value(value: Any) -> Decimal | None:
    """A price as a Decimal: numbers as they are, text as written ("$1,299.99", "1.299,99 €", "19,90").

    None for what is no price: empty, not a number, negative, infinite. In text, the last "." or ","
    followed by one or two digits is the decimal point; every other separator groups thousands.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, Decimal | int | float):
        number = _decimal(str(value))
    else:
        match = _PRICE.search(str(value))
        number = _decimal(_price_digits(match.group(0).rstrip(".,"))) if match else None
    return number if number is not None and number.is_finite() and number >= 0 else None


def _price_digits(text: str) -> str:
    match = _DECIMALS.fullmatch(text)
    head, tail = (match.group(1), "." + match.group(2)) if match else (text, "")
    return head.replace(",", "").replace(".", "") + tail


def _decimal(text: str) -> Decimal | None:
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


def _measure(match: re.Match[str]) -> tuple[str, str]:
    number = match.group("number")
    unit = re.sub(r"[\s-]", "", match.group("measure")[len(number) :]).casefold()
    dimension, factor = _UNITS[unit]
    value = _number(number) * factor
    return f"{dimension}:{value.normalize():f}", dimension


def _number(text: str) -> Decimal:
    # "1,000" is a thousand, "1,5" one and a half.
    if _THOUSANDS.fullmatch(text):
        text = text.replace(",", "")
    return Decimal(text.replace(",", "."))


def product_text(record: Mapping[str, Any], fields: Sequence[str]) -> str:
    """Join the record's fields in order with single spaces, skipping missing and empty values.

    The "attributes" field is a mapping: its values (not its keys) are joined, because values like
    "Samsung" or "Freezers" carry the signal while keys repeat on every product.
    """
    parts: list[str] = []
    for name in fields:
        value = record.get(name)
        values = value.values() if name == "attributes" and isinstance(value, Mapping) else [value]
        parts.extend(text for text in (_plain(v) for v in values) if text)
    return " ".join(parts)


def _plain(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return " ".join(filter(None, map(_plain, value)))
    return " ".join(str(value).split())
