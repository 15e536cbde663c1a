"""Deterministic demo catalog: a product taxonomy and plausible shop listings.

Standard library only (no Django), so it can be used from management commands,
tests and scripts alike. The same ``(count, seed)`` always yields exactly the
same products on every machine: all randomness comes from one
``random.Random(seed)`` and nothing depends on ``hash()`` or set ordering.

The vocabulary (brands, product lines, attributes, prices) lives in
``workspace.demo_vocab``; everything there is invented.
"""

from __future__ import annotations

import csv
import io
import math
import random
import re
from collections.abc import Iterator

from workspace.demo_vocab import BRANCHES, LEAVES, MERCHANTS, NEIGHBOURS, SELLING_POINTS, UNSAFE_SNIPPETS

# Share of titles using a noun that also fits a neighbouring category
# ("Smartphone Case", "Trail Running Shoes"), and share of listings that a
# merchant filed under a sibling category's wording (label noise).
AMBIGUOUS_RATE = 0.22
MISFILED_RATE = 0.06
UNSAFE_RATE = 1 / 50
USD_RATE = 0.1

CSV_BASE_COLUMNS = [
    "external_id",
    "title",
    "description",
    "brand",
    "price",
    "currency",
    "image_url",
    "url",
    "category",
]

# {B}rand, {L}ine (model), {A}djective, {N}oun, {C} first attribute, {X} other attributes.
# " - ", " | " and ", " separate segments; empty segments are dropped by _tidy().
TITLE_TEMPLATES = [
    "{B} {L} {A} {N}, {C}",
    "{B} {L} {A} {N}, {C}, {X}",
    "{B} {A} {N} {L} - {C} {X}",
    "{A} {N} by {B}, {C}",
    "{B} {N} {L} {X} {C}",
    "{N} {B} {L} ({C})",
    "{B} {L} | {A} {N} | {C} | {X}",
    "{X} {B} {A} {N} - {C}",
    "{A} {N} - {B} {L}",
    "{B} {A} {N}",
]
PREFIXES = ["NEW ", "[2-Pack] ", "Bestseller: ", "2024 ", "Original "]
SUFFIXES = [
    " - Free Shipping",
    " (2024 Model)",
    " - Gift Idea",
    " *SALE*",
    " - EU Version",
]


def demo_taxonomy() -> list[tuple[str, str]]:
    """All categories as ``(code, path)``; every parent precedes its children."""
    nodes = list(BRANCHES) + [(code, path) for code, (path, _spec) in LEAVES.items()]
    return sorted(nodes, key=lambda node: node[1].split(" > "))


def demo_products(count: int = 3000, *, seed: int = 7) -> Iterator[dict[str, object]]:
    """Yield ``count`` deterministic demo products (see module docstring)."""
    rng = random.Random(seed)
    for number, code in enumerate(_allocate(count, rng), start=1):
        yield _product(rng, number, code)


def demo_catalog_csv(count: int = 3000, *, seed: int = 7, with_category: bool = True) -> str:
    """The products of ``demo_products(count, seed=seed)`` as an uploadable CSV.

    with_category=False leaves out the true label: what annotators are shown must not give it away.
    """
    products = list(demo_products(count, seed=seed))
    attr_keys = sorted({key for product in products for key in product["attributes"]})
    columns = [c for c in CSV_BASE_COLUMNS if with_category or c != "category"]
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
    writer.writerow(columns + attr_keys)
    for product in products:
        attrs = product["attributes"]
        writer.writerow([product[column] for column in columns] + [attrs.get(key, "") for key in attr_keys])
    return buffer.getvalue()


# --------------------------------------------------------------------------- internals


def _allocate(count: int, rng: random.Random) -> list[str]:
    """Category codes for ``count`` products, in proportion to the leaf weights.

    Quotas use the largest-remainder method (so frequencies are exactly skewed
    and every leaf is represented at realistic sizes), then get shuffled.
    """
    codes = list(LEAVES)
    weights = [LEAVES[code][1]["w"] for code in codes]
    total = sum(weights)
    shares = [count * weight / total for weight in weights]
    quotas = [math.floor(share) for share in shares]
    by_remainder = sorted(range(len(codes)), key=lambda i: (quotas[i] - shares[i], i))
    for i in by_remainder[: count - sum(quotas)]:
        quotas[i] += 1
    sequence = [code for code, quota in zip(codes, quotas, strict=False) for _ in range(quota)]
    rng.shuffle(sequence)
    return sequence


def _neighbours(code: str) -> list[str]:
    """Leaves a shop could confuse with ``code``: its siblings, or NEIGHBOURS."""
    if code in NEIGHBOURS:
        return NEIGHBOURS[code]
    parent = code.rsplit("-", 1)[0]
    return [c for c in LEAVES if c != code and c.rsplit("-", 1)[0] == parent]


def _model(rng: random.Random, pattern: str) -> str:
    """Expand a product-line pattern: '#' -> digit, '@' -> capital letter."""
    out = []
    for char in pattern:
        if char == "#":
            out.append(str(rng.randint(1, 9)))
        elif char == "@":
            out.append(rng.choice("ABCDEFGHKLMNPRSTXZ"))
        else:
            out.append(char)
    return "".join(out)


def _product(rng: random.Random, number: int, code: str) -> dict[str, object]:
    path, spec = LEAVES[code]
    external_id = f"DEMO-{number:06d}"
    brand = rng.choice(spec["b"]) if rng.random() > 0.05 else ""
    line = _model(rng, rng.choice(spec["l"])) if rng.random() < 0.7 else ""
    adjective = rng.choice(spec["a"]) if rng.random() < 0.8 else ""
    roll = rng.random()
    if roll < AMBIGUOUS_RATE:
        # Borderline wording, half of the time borrowed from a neighbour's
        # borderline wording, so the same phrase shows up on both sides.
        source = (
            spec if rng.random() < 0.5 else LEAVES[rng.choice(_neighbours(code))][1]
        )
        noun = rng.choice(source["amb"])
    elif roll < AMBIGUOUS_RATE + MISFILED_RATE:
        noun = rng.choice(LEAVES[rng.choice(_neighbours(code))][1]["n"])
    else:
        noun = rng.choice(spec["n"])
    attributes: dict[str, str] = {
        key: rng.choice(values)
        for key, values in spec["at"].items()
        if rng.random() < 0.85
    }
    if rng.random() < 0.7:
        attributes["merchant"] = rng.choice(MERCHANTS)
    return {
        "external_id": external_id,
        "title": _title(rng, brand, line, adjective, noun, attributes),
        "description": _description(rng, brand, noun, spec, attributes),
        "brand": brand,
        "price": _price(rng, spec["p"], attributes.get("pack_size", "")),
        "currency": "USD" if rng.random() < USD_RATE else "EUR",
        "image_url": "",
        "url": f"https://shop.example/p/{external_id}",
        "attributes": attributes,
        "category": path,
    }


def _title(rng, brand, line, adjective, noun, attributes) -> str:
    values = [value for key, value in attributes.items() if key != "merchant"]
    first, rest = (values[0], values[1:]) if values else ("", [])
    extra = " ".join(rng.sample(rest, k=min(len(rest), rng.randint(0, 2))))
    template = rng.choice(TITLE_TEMPLATES)
    title = _tidy(
        template.format(B=brand, L=line, A=adjective, N=noun, C=first, X=extra)
    )
    roll = rng.random()
    if roll < 0.04:
        title = rng.choice(PREFIXES) + title
    elif roll < 0.08:
        title += rng.choice(SUFFIXES)
    roll = rng.random()
    if roll < 0.05:
        title = title.upper()
    elif roll < 0.08:
        title = title.lower()
    return title[:300]


def _tidy(title: str) -> str:
    """Drop empty segments and stray spaces left by missing template parts."""
    parts = re.split(r"(\s[|-]\s|,\s)", title.replace("()", ""))
    kept: list[str] = []
    for i in range(0, len(parts), 2):
        segment = " ".join(parts[i].split()).replace("( ", "(").replace(" )", ")")
        segment = re.sub(r"(^|\s)by$", "", segment).strip()
        if segment in ("", "()"):
            continue
        if kept:
            kept.append(parts[i - 1])
        kept.append(segment)
    return "".join(kept).replace(" ()", "")


def _description(rng, brand, noun, spec, attributes) -> str:
    name = f"{brand} {noun}".strip()
    features = rng.sample(spec["f"], k=2)
    opener = rng.choice(
        [
            "<p>The <b>{name}</b> comes with {f0} and {f1}.</p>",
            "<p>Discover the {name}: {f0}, plus {f1}.</p>",
            "<p><b>{name}</b> - designed with {f0}.</p>",
        ]
    )
    sentences = [opener.format(name=name, f0=features[0], f1=features[1])]
    shown = [(key, value) for key, value in attributes.items() if key != "merchant"]
    if shown and rng.random() < 0.6:
        items = "".join(
            f"<li><b>{key.replace('_', ' ').capitalize()}</b>: {value}</li>"
            for key, value in shown[:3]
        )
        sentences.append(f"<ul>{items}</ul>")
    if rng.random() < 0.5:
        sentences.append(f"<p>{rng.choice(SELLING_POINTS)}</p>")
    if rng.random() < UNSAFE_RATE:
        sentences.insert(rng.randint(1, len(sentences)), rng.choice(UNSAFE_SNIPPETS))
    return "".join(sentences)


def _price(rng: random.Random, median: float, pack_size: str) -> str:
    """Log-normal price around the category median, with shop-like endings."""
    match = re.match(r"(\d+)-Pack", pack_size)
    packs = int(match.group(1)) if match else 1
    value = median * packs**0.8 * math.exp(rng.gauss(0.0, 0.35))
    if value >= 10:
        cents = rng.choice(("99", "99", "95", "49", "00"))
        return f"{int(value)}.{cents}"
    return f"{max(0.5, math.floor(value * 10) / 10 + 0.09):.2f}"
