"""Demo attributes (issue 14): product titles whose attribute values the generator knows.

Each product is a demo catalog product (workspace.demo's categories, brands, product lines, nouns and attribute
values) whose title is put together piece by piece, so the characters of its brand, model number, color, size,
capacity, material, quantity and gender in the title are known: its true spans, the truth simulations measure
against. Its structured values (the brand column, the attributes) are what a product file would carry: some
missing, some spelled otherwise than in the title ("Gray" for "Grey", "1500 ml" for "1.5 L", "X-Large" for
"XL"), so pre-annotation from them is as imperfect as on a real catalog. The true spans are in the title only.

Standard library only (no Django). The same (count, seed) gives the same products on every machine: all
randomness comes from one random.Random(seed).
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from typing import Any

from workspace.demo import SUFFIXES, _allocate, _description, _model, _price
from workspace.demo_vocab import LEAVES, MERCHANTS

LABELS = ("BRAND", "MODEL", "COLOR", "SIZE", "CAPACITY", "MATERIAL", "QUANTITY", "GENDER")
# The demo vocabulary's attributes that are span types; the others (power, weight...) may be in a title too,
# as words no type covers.
ATTRIBUTE_LABELS = {
    "color": "COLOR", "size": "SIZE", "screen_size": "SIZE", "capacity": "CAPACITY", "volume": "CAPACITY",
    "storage": "CAPACITY", "material": "MATERIAL", "pack_size": "QUANTITY", "pieces": "QUANTITY",
}
PREFIXES = ("NEW ", "Bestseller: ", "2024 ", "Original ")
SEPARATORS = (", ", " - ", " | ", " ")

MISSING_RATE = 0.15  # a structured value the file does not have
RESPELLED_RATE = 0.2  # a structured value spelled otherwise than in the title
OTHER_ATTRIBUTE_RATE = 0.3  # an attribute without a span type that is in the title all the same

SIZE_NAMES = {"XS": "Extra Small", "S": "Small", "M": "Medium", "L": "Large", "XL": "X-Large", "XXL": "2XL"}
GENDERS = {"Men's": ("Men", "male", "Mens"), "Women's": ("Women", "female", "Womens"), "Unisex": ("unisex", "U")}
# How the vocabulary's adjectives and nouns word a gender ("T-Shirt for Men"), and the gender each means.
GENDER_WORDS = {"Men's": "Men's", "Women's": "Women's", "Mens": "Men's", "Men": "Men's", "Women": "Women's",
                "Unisex": "Unisex"}
# Values free wording holds wherever they are ("Stainless Steel Toaster", "Jeans for Men"): every color and
# material of the vocabulary, and the gender words.
KNOWN_WORDS = {
    **{value: ATTRIBUTE_LABELS[key] for _path, spec in LEAVES.values() for key, choices in spec["at"].items()
       if ATTRIBUTE_LABELS.get(key) in ("COLOR", "MATERIAL") for value in choices},
    **dict.fromkeys(GENDER_WORDS, "GENDER"),
}
_KNOWN = re.compile(r"\b(" + "|".join(map(re.escape, sorted(KNOWN_WORDS, key=len, reverse=True))) + r")(?!\w)")
_GENDER = re.compile(r"\b(" + "|".join(sorted(GENDER_WORDS, key=len, reverse=True)) + r")(?!\w)")
_NUMBER_UNIT = re.compile(r"^(\d+(?:\.\d+)?) (L|ml|GB|cm|TB)\b(.*)$")


def demo_attribute_products(count: int = 1000, *, seed: int = 11) -> Iterator[dict[str, Any]]:
    """`count` products, each a product record (external_id, title, description, brand, price, currency,
    image_url, url, attributes, category) and "spans": its true spans in the title, {"start", "end" (exclusive,
    in characters), "label"} in order."""
    rng = random.Random(seed)
    for number, code in enumerate(_allocate(count, rng), start=1):
        yield _product(rng, number, code)


class _Title:
    """A title put together piece by piece, the offsets of its labeled pieces kept. Free wording (an adjective,
    a noun) may hold KNOWN_WORDS ("Men's" in "Men's Jeans"): they are spans wherever they are, as an annotator
    would mark them."""

    def __init__(self) -> None:
        self.text = ""
        self.spans: list[dict[str, Any]] = []

    def add(self, text: str, label: str | None = None) -> None:
        if label:
            self.spans.append({"start": len(self.text), "end": len(self.text) + len(text), "label": label})
        self.text += text

    def add_words(self, text: str) -> None:
        done = 0
        for match in _KNOWN.finditer(text):
            self.add(text[done:match.start()])
            self.add(match.group(), KNOWN_WORDS[match.group()])
            done = match.end()
        self.add(text[done:])


def _product(rng: random.Random, number: int, code: str) -> dict[str, Any]:
    path, spec = LEAVES[code]
    external_id = f"DEMO-ATTR-{number:06d}"
    values: dict[str, tuple[str, str]] = {}  # attribute -> (label, value as the title writes it)
    if rng.random() > 0.05:
        values["brand"] = ("BRAND", rng.choice(spec["b"]))
    pattern = rng.choice(spec["l"]) if rng.random() < 0.6 else ""
    line = _model(rng, pattern)
    # A model number has digits; "Slim Fit" is a product line and "for Galaxy-S4" names the phone a case fits.
    if "#" in pattern and not line.startswith("for "):
        values["model"] = ("MODEL", line)
    adjective = rng.choice(spec["a"]) if rng.random() < 0.8 else ""
    noun = rng.choice(spec["n"])
    worded = _GENDER.search(f"{adjective} {noun}")
    worded = GENDER_WORDS[worded.group()] if worded else ""
    gender = worded or _gender(rng, code)
    if gender:
        values["gender"] = ("GENDER", gender)
    others = {}
    for key, choices in spec["at"].items():
        if rng.random() < 0.85:
            value = rng.choice(choices)
            if key in ATTRIBUTE_LABELS:
                values[key] = (ATTRIBUTE_LABELS[key], value)
            else:
                others[key] = value
    title = _Title()
    _title(rng, title, adjective, noun, line, values, others, gender_worded=bool(worded))
    attributes = _structured(rng, values, others)
    brand = attributes.pop("brand", "")
    if rng.random() < 0.7:
        attributes["merchant"] = rng.choice(MERCHANTS)
    return {
        "external_id": external_id,
        "title": title.text,
        "description": _description(rng, brand, noun, spec, attributes),
        "brand": brand,
        "price": _price(rng, spec["p"], values.get("pack_size", ("", ""))[1]),
        "currency": "EUR",
        "image_url": "",
        "url": f"https://shop.example/p/{external_id}",
        "attributes": attributes,
        "category": path,
        "spans": title.spans,
    }


def _gender(rng: random.Random, code: str) -> str:
    if code.startswith("A-MEN"):
        return "Men's"
    if code.startswith("A-WMN"):
        return "Women's"
    if code.startswith("A-SHO"):
        return rng.choice(list(GENDERS))
    return ""


def _title(rng: random.Random, title: _Title, adjective: str, noun: str, line: str,
           values: dict[str, tuple[str, str]], others: dict[str, str], *, gender_worded: bool) -> None:
    tail = [key for key in values if key not in ("brand", "model") and not (key == "gender" and gender_worded)]
    rng.shuffle(tail)
    front = [key for key in ("gender", "material") if key in tail and rng.random() < 0.4]
    tail = [key for key in tail if key not in front]
    pack = re.fullmatch(r"(\d+)-Pack", values.get("pack_size", ("", ""))[1])
    if pack and "pack_size" in tail and rng.random() < 0.15:
        title.add("[")
        title.add(values["pack_size"][1], "QUANTITY")
        title.add("] ")
        tail.remove("pack_size")
    elif rng.random() < 0.05:
        title.add(rng.choice(PREFIXES))
    brand_first = "brand" in values and rng.random() < 0.85
    if brand_first:
        title.add(values["brand"][1], "BRAND")
        title.add(" ")
    model_first = line and rng.random() < 0.6
    if model_first:
        _add_line(title, line, values)
        title.add(" ")
    for key in front:
        title.add(values[key][1], values[key][0])
        title.add(" ")
    if adjective:
        title.add_words(adjective + " ")
    title.add_words(noun)
    if line and not model_first:
        title.add(" ")
        _add_line(title, line, values)
    if "brand" in values and not brand_first and rng.random() < 0.7:  # else the title leaves the brand out
        title.add(" by ")
        title.add(values["brand"][1], "BRAND")
    pieces: list[tuple[str, str | None]] = [(values[key][1], values[key][0]) for key in tail]
    pieces += [(value, None) for value in others.values() if rng.random() < OTHER_ATTRIBUTE_RATE]
    rng.shuffle(pieces)
    separator = rng.choice(SEPARATORS)
    for text, label in pieces:
        title.add(separator)
        if pack and text == pack.group(0) and rng.random() < 0.4:
            title.add(f"Pack of {pack.group(1)}", label)
        else:
            title.add(text, label)
    if rng.random() < 0.04:
        title.add(rng.choice(SUFFIXES))
    roll = rng.random()
    cased = title.text.upper() if roll < 0.04 else title.text.lower() if roll < 0.07 else title.text
    if len(cased) == len(title.text):  # offsets hold only if no letter changes length with its case
        title.text = cased


def _add_line(title: _Title, line: str, values: dict[str, tuple[str, str]]) -> None:
    if "model" in values:
        title.add(line, "MODEL")
    else:
        title.add_words(line)


def _structured(rng: random.Random, values: dict[str, tuple[str, str]], others: dict[str, str]) -> dict[str, str]:
    """The values as a product file carries them: some missing, some spelled otherwise. A model number is in
    the file half of the time."""
    attributes = {}
    for key, (label, value) in values.items():
        if rng.random() < MISSING_RATE or (key == "model" and rng.random() < 0.5):
            continue
        attributes[key] = _respelled(rng, label, value) if rng.random() < RESPELLED_RATE else value
    attributes.update(others)
    return attributes


def _respelled(rng: random.Random, label: str, value: str) -> str:
    """The value as another shop would write it; a value without another spelling is written in lower case,
    which pre-annotation still finds."""
    if label == "GENDER":
        return rng.choice(GENDERS[value])
    if label == "SIZE" and value in SIZE_NAMES:
        return SIZE_NAMES[value]
    if label == "MODEL" and "-" in value:
        return value.replace("-", "")
    if label == "QUANTITY" and value.endswith("-Pack"):
        return value.removesuffix("-Pack")
    if "Grey" in value:
        return value.replace("Grey", "Gray")
    if label == "MATERIAL" and " " in value:
        return value.replace(" ", "-")
    if label == "BRAND" and " & " in value:
        return value.replace(" & ", " and ")
    unit = _NUMBER_UNIT.match(value)
    if unit:
        amount, symbol, rest = unit.groups()
        if symbol == "L" and rng.random() < 0.5:
            return f"{float(amount) * 1000:g} ml{rest}"
        return f"{amount}{symbol}{rest}"
    return value.lower()
