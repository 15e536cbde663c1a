"""Deterministic demo pairs for product matching, in the pairs-file layout `datasets.importers.parse_pairs` reads.

Half the pairs are two shop offers of the same product, written the way shops differ: word order,
abbreviated nouns, units spelled "16GB" or "16 GB", model numbers with or without a hyphen, colours
and shop noise ("NEW", "Free shipping"). The other half are hard non-matches: two products of the same
brand and line that differ in the model number or the capacity / size only. Products and offers are
invented; the vocabulary is kept here because `workspace` (where the catalog demo's vocabulary lives)
sits above `labeling` and may not be imported from it.

No database. All randomness comes from one `random.Random(seed)`, so the same `(count, seed)`
gives the same rows on every machine.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass, field

from datasets.importers import pair_key


@dataclass(frozen=True, slots=True)
class _Family:
    category: str
    brands: tuple[str, ...]
    lines: tuple[str, ...]
    prefix: str  # of the model numbers
    nouns: tuple[str, ...]  # with the shop abbreviations
    variants: tuple[str, ...]  # capacities or sizes, cheapest first
    price: int


_FAMILIES = (
    _Family("Laptops", ("Vertex", "Northbyte", "Lumina"), ("ZenSlim 14", "Aero 15", "Book Pro 13"), "UX",
            ("Laptop", "Notebook", "Notebook PC", "NB"), ("8GB RAM", "16GB RAM", "32GB RAM"), 749),
    _Family("Smartphones", ("Novaphone", "Kestrel", "Orbix"), ("Nova", "Edge", "Pulse"), "NP",
            ("Smartphone", "5G Smartphone", "Mobile Phone", "Phone"), ("64GB", "128GB", "256GB"), 399),
    _Family("Memory cards", ("Memora", "Flashpoint"), ("Extreme", "Ultra", "Endurance"), "SDX",
            ("microSDXC Memory Card", "Micro SD Card", "microSD Card", "Mem. Card"),
            ("64GB", "128GB", "256GB", "512GB"), 14),
    _Family("SSDs", ("Memora", "Keyforge"), ("Velocity", "Blaze"), "MZ",
            ("Internal SSD", "NVMe SSD", "Solid State Drive", "SSD"), ("500GB", "1TB", "2TB"), 59),
    _Family("Monitors", ("Vertex", "Lumina"), ("View", "UltraSharp", "Q"), "VW",
            ("Monitor", "LED Monitor", "Computer Monitor", "Display"), ('24"', '27"', '32"'), 189),
)
_COLORS = ("Black", "Silver", "Space Grey", "White", "Midnight Blue")
_PREFIXES = ("NEW ", "NEW! ", "[Sale] ", "Original ")
_SUFFIXES = (" - Free shipping", " | Free Shipping", " (fast delivery)", " *SALE*", " - EU version")
# {B}rand {L}ine {M}odel {N}oun {V}ariant {C}olour; empty parts are dropped.
_TEMPLATES = (
    "{B} {L} {M} {N} {V} {C}",
    "{B} {L} {V} {N} ({M}) {C}",
    "{N} {B} {L} {M}, {V}, {C}",
    "{B} {M} {L} - {V} - {C} {N}",
    "{L} {M} {N} - {B} {V}",
    "{V} {B} {L} {N} {M}",
)
_OFFER_REUSE = 0.5


@dataclass(slots=True)
class _Product:
    family: _Family
    brand: str
    line: str
    model: str  # the model number: hard non-matches of one line differ here or in the variant
    variant: str  # capacity or size
    color: str
    price: float
    offers: list[dict[str, str]] = field(default_factory=list)

    @property
    def mpn(self) -> str:
        """The manufacturer part number: one per model and variant, as real part numbers are."""
        code = "".join(ch for ch in self.variant.split()[0] if ch.isalnum())
        return f"{self.model}-{code}"


def demo_pairs(*, count: int, seed: int) -> list[dict[str, object]]:
    """`count` pairs as rows of `left_<field>` / `right_<field>` (id, title, brand, price, description, mpn),
    `label` (1 match, 0 no match) and `category`; half of them (rounded up) are matches.

    An offer can stand in several pairs, with the same id and fields each time; no pair repeats.
    """
    rng = random.Random(seed)
    lines = _catalog(rng, count)
    matches = (count + 1) // 2
    labels = [1] * matches + [0] * (count - matches)
    rng.shuffle(labels)
    seen: set[tuple[str, str]] = set()
    numbering = itertools.count(1)
    rows = []
    for label in labels:
        siblings = rng.choice(lines)
        first = rng.choice(siblings)
        second = first if label else rng.choice([p for p in siblings if p is not first])
        reuse = True
        while True:
            left = _offer(rng, first, numbering, reuse=reuse)
            right = _offer(rng, second, numbering, reuse=reuse, avoid=left["id"])
            key = pair_key(left["id"], right["id"])
            if key not in seen:
                break
            reuse = False  # new offers always make a new pair
        seen.add(key)
        if rng.random() < 0.5:
            left, right = right, left
        rows.append({
            **{f"left_{name}": value for name, value in left.items()},
            **{f"right_{name}": value for name, value in right.items()},
            "label": label,
            "category": first.family.category,
        })
    return rows


def _catalog(rng: random.Random, count: int) -> list[list[_Product]]:
    """Product lines (one brand, one line, one colour), each with two or more products: models and variants."""
    lines = []
    for _ in range(max(2, count // 8)):
        family = rng.choice(_FAMILIES)
        brand, name, color = rng.choice(family.brands), rng.choice(family.lines), rng.choice(_COLORS)
        # Close model numbers (UX3402, UX3405): what makes a non-match hard to tell.
        stem = rng.randint(10, 99) * 100
        models = [f"{family.prefix}{stem + n}" for n in rng.sample(range(1, 10), rng.randint(1, 3))]
        products = []
        for model in models:
            factor = rng.uniform(0.85, 1.25)
            for variant in rng.sample(family.variants, rng.randint(1 if len(models) > 1 else 2, 3)):
                price = family.price * factor * (1 + 0.35 * family.variants.index(variant))
                products.append(_Product(family, brand, name, model, variant, color, price))
        lines.append(products)
    return lines


def _offer(
    rng: random.Random, product: _Product, numbering: Iterator[int], *, reuse: bool, avoid: str = ""
) -> dict[str, str]:
    """An offer of `product`: one already made (when `reuse`), or a new shop's listing of it."""
    existing = [offer for offer in product.offers if offer["id"] != avoid]
    if reuse and existing and rng.random() < _OFFER_REUSE:
        return rng.choice(existing)
    offer = {
        "id": f"demo-offer-{next(numbering):05d}",
        "title": _title(rng, product),
        "brand": product.brand if rng.random() < 0.8 else "",
        "price": f"{product.price * rng.uniform(0.94, 1.06):.2f}",
        "description": _description(rng, product),
        "mpn": _spelled_model(rng, product.mpn) if rng.random() < 0.8 else "",
    }
    product.offers.append(offer)
    return offer


def _title(rng: random.Random, product: _Product) -> str:
    parts = {
        "B": product.brand if rng.random() < 0.9 else "",
        "L": product.line,
        "M": _spelled_model(rng, product.model),
        "N": rng.choice(product.family.nouns),
        "V": _spelled_variant(rng, product.variant),
        "C": product.color if rng.random() < 0.5 else "",
    }
    title = " ".join(rng.choice(_TEMPLATES).format(**parts).split()).strip(" ,-")
    roll = rng.random()
    if roll < 0.15:
        title = rng.choice(_PREFIXES) + title
    elif roll < 0.35:
        title += rng.choice(_SUFFIXES)
    roll = rng.random()
    if roll < 0.08:
        title = title.upper()
    elif roll < 0.14:
        title = title.lower()
    return title


def _spelled_model(rng: random.Random, model: str) -> str:
    """UX3402 as shops write it: UX3402, UX-3402, ux3402."""
    split = next(i for i, ch in enumerate(model) if ch.isdigit())
    return rng.choice((model, f"{model[:split]}-{model[split:]}", model.lower()))


def _spelled_variant(rng: random.Random, variant: str) -> str:
    """'16GB RAM' as "16GB", "16 GB RAM", "16gb"; '27"' as "27 inch", "27-Inch"."""
    amount, _, rest = variant.partition(" ")
    if amount.endswith('"'):
        size = amount[:-1]
        return rng.choice((amount, f"{size} inch", f"{size}-Inch", f"{size}in"))
    number = amount.rstrip("GTB")
    unit = amount[len(number) :]
    spelled = rng.choice((amount, f"{number} {unit}", f"{number}{unit.lower()}", f"{number} {unit.capitalize()}"))
    return f"{spelled} {rest}" if rest and rng.random() < 0.6 else spelled


def _description(rng: random.Random, product: _Product) -> str:
    if rng.random() < 0.3:
        return ""
    features = (
        product.variant,
        f"colour: {product.color}",
        f"model {product.model}",
        "2-year manufacturer warranty",
    )
    chosen = rng.sample(features, rng.randint(2, 4))
    return f"{product.brand} {product.line}. " + "; ".join(chosen) + "."
