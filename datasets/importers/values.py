"""Checks on single values: text the database cannot store, prices, column names."""

from __future__ import annotations

import itertools
import json
import re
from decimal import Decimal
from typing import Any

# Bytes the decoder could not map become lone surrogates; U+10FFFF stands in for
# them where text must be re-encoded for ijson (see records._Utf8Reader).
BROKEN_RE = re.compile("[\ud800-\udfff\U0010ffff]")
_SEP_RE = re.compile(r"[\s_\-]+")
_CAMEL_RE = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_PLAIN_PRICE_RE = re.compile(r"[0-9]+(?:\.[0-9]+)?")
# sign, prefix (symbol or code), sign, number, suffix: "$12.99", "EUR -3", "1 299,00 €", "12.99 EUR".
_PRICE_RE = re.compile(r"([-+]?)\s*([^\d\s.,+-]{1,4})?\s*([-+]?)\s*([0-9][0-9.,'\s]*?)\s*([^\d\s.,+-]{1,4})?")
_GROUPED_RE = {",": re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+"), ".": re.compile(r"[0-9]{1,3}(?:\.[0-9]{3})+")}
# What the products table holds (14 digits, 2 of them decimals); larger values would fail a whole batch.
MAX_PRICE = Decimal("999999999999.99")
_DIGIT_GROUPING = str.maketrans("", "", " '\u00a0\u202f\t")
# Product records need a few levels (attributes holding lists); Python's JSON reader and writer
# recurse once per level and give up near a thousand, so deeper nesting is refused well before.
MAX_JSON_DEPTH = 64
TOO_DEEP = f"nested more than {MAX_JSON_DEPTH} levels deep"
# A JSON string, its closing quote optional (a head sample may cut one).
_JSON_STRING_RE = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?', re.S)
_NOT_BRACKET_RE = re.compile(r"[^\[\]{}]+")
_DEPTH_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def bad_text_reason(text: str, encoding: str) -> str:
    """Why `text` cannot be stored ("" when it can): a NUL, or bytes the encoding could not decode."""
    if "\x00" in text:
        return "contains a NUL character"
    if not text.isascii() and BROKEN_RE.search(text):
        return f"broken encoding (bytes not valid {encoding})"
    return ""


def bad_value_reason(value: Any, encoding: str) -> str:
    """bad_text_reason for a decoded JSON value, nested containers included."""
    try:
        dumped = json.dumps(value, ensure_ascii=False)  # one C pass instead of walking the tree
    except RecursionError:
        return TOO_DEEP
    if too_deep(dumped):
        return TOO_DEEP
    if "\\u0000" in dumped:
        return "contains a NUL character"
    return bad_text_reason(dumped, encoding)


def too_deep(text: str) -> bool:
    """Whether JSON text (or the head of it) nests arrays and objects more than MAX_JSON_DEPTH levels."""
    # Counting brackets is cheap and settles nearly every record; only a bracket-heavy one is scanned.
    return text.count("[") + text.count("{") > MAX_JSON_DEPTH and json_depth(text) > MAX_JSON_DEPTH


def json_depth(text: str) -> int:
    """The deepest nesting of arrays and objects in JSON text, brackets inside strings aside."""
    brackets = _NOT_BRACKET_RE.sub("", _JSON_STRING_RE.sub("", text))
    return max(itertools.accumulate(map(_DEPTH_STEP.__getitem__, brackets), initial=0))


def clean_text(text: str) -> str:
    """Make text safe to show or store (messages, column names, samples)."""
    return BROKEN_RE.sub("\ufffd", text).replace("\x00", "")


def quote(value: str, limit: int = 60) -> str:
    short = value if len(value) <= limit else value[:limit] + "…"
    return "'" + clean_text(short) + "'"


def normalize_column(name: str) -> str:
    """'Product ID', 'product-id', 'productId' -> 'product_id'."""
    return _SEP_RE.sub("_", _CAMEL_RE.sub("_", name.strip())).strip("_").lower()


def parse_price(raw: Any, problems: list[str]) -> tuple[Decimal | None, str]:
    """(price, currency code written next to it); appends to `problems` when invalid."""
    if raw is None or raw == "":
        return None, ""
    code = ""
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        # repr is the shortest round-tripping form, so 12.99 stays 12.99.
        text = repr(raw)
        value = Decimal(text)
    else:
        text = raw if isinstance(raw, str) else str(raw)
        if _PLAIN_PRICE_RE.fullmatch(text):  # the common case, without the heavier pattern
            value = Decimal(text)
        else:
            match = _PRICE_RE.fullmatch(text)
            number = _to_decimal(match[4].translate(_DIGIT_GROUPING)) if match else None
            if match is None or number is None or (match[1] and match[3]):
                problems.append(f"invalid price {quote(text)}")
                return None, ""
            value = -number if "-" in (match[1], match[3]) else number
            codes = [a.upper() for a in (match[2], match[5]) if a and len(a) == 3 and a.isascii() and a.isalpha()]
            code = codes[0] if codes else ""
    if value < 0:
        problems.append(f"negative price {quote(text)}")
    elif not value.is_finite() or value > MAX_PRICE:
        problems.append(f"price too large {quote(text)} (at most {MAX_PRICE})")
    else:
        return value, code
    return None, ""


def _to_decimal(number: str) -> Decimal | None:
    """'1,299.00', '1.299,00', '12,99', '1,299' -> Decimal; None when malformed."""
    has_comma, has_dot = "," in number, "." in number
    if has_comma and has_dot:
        mark = "," if number.rfind(",") > number.rfind(".") else "."
    elif has_comma:
        # One comma before exactly three digits groups thousands ("1,299"); otherwise it is decimal ("12,99").
        mark = "," if number.count(",") == 1 and len(number) - number.find(",") != 4 else ""
    else:
        mark = "." if number.count(".") == 1 else ""
    whole, _, fraction = number.rpartition(mark) if mark else (number, "", "")
    if fraction and not fraction.isdigit():
        return None
    if not whole.isdigit():
        if not any(pattern.fullmatch(whole) for sep, pattern in _GROUPED_RE.items() if sep != mark):
            return None
        whole = whole.replace(",", "").replace(".", "")
    return Decimal(f"{whole}.{fraction}" if fraction else whole)
