"""Demo search queries over the demo catalog, for "Demo search" (`make run`): what shoppers type, built from the
generated products themselves so that each query has real answers in the catalog, near misses (the same kind
of product from another brand or in another colour) and complements (a case for a phone query).

No database. All randomness comes from one `random.Random(seed)`: the same products and seed give the same
queries on every machine.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from typing import Any

from datasets.importers.queries import QueryRow
from workspace.demo_vocab import LEAVES

# Each leaf category's product nouns ("Over-Ear Headphones", "Headphones"), longest first.
_NOUNS = {path: sorted(spec["n"], key=len, reverse=True) for path, spec in LEAVES.values()}

# Attributes a shopper puts in a query beside the kind of product, in the order they come to mind.
_QUERY_ATTRIBUTES = ("color", "size", "storage", "capacity", "screen_size", "material", "connectivity")
# Words a query may start with instead of a brand or an attribute: they fit any kind of product.
_INTENTS = ("cheap", "best", "new", "gift")


def demo_queries(products: Iterable[dict[str, Any]], *, count: int = 60, seed: int = 13) -> list[QueryRow]:
    """`count` distinct queries (fewer if the products cannot give as many), each "what" (the noun of a
    product's title, else its leaf category; lowercase) with a brand, an attribute value or an intent word; the
    first are the most frequent, as a shop's query log is (weights fall as 1/rank)."""
    rng = random.Random(seed)
    pool = [product for product in products if product.get("category")]
    texts: list[str] = []
    seen: set[str] = set()
    for _ in range(count * 20):
        if len(texts) >= count or not pool:
            break
        text = _query(rng, rng.choice(pool))
        if text not in seen:
            seen.add(text)
            texts.append(text)
    return [
        QueryRow(line=rank, external_id=f"DQ-{rank:03d}", text=text, weight=round(100 / rank, 2))
        for rank, text in enumerate(texts, start=1)
    ]


def _query(rng: random.Random, product: dict[str, Any]) -> str:
    title = product["title"].lower()
    nouns = [noun.lower() for noun in _NOUNS.get(product["category"], ())]
    what = next((noun for noun in nouns if noun in title), product["category"].split(" > ")[-1].lower())
    attributes = product.get("attributes") or {}
    values = [str(attributes[key]) for key in _QUERY_ATTRIBUTES if attributes.get(key)]
    roll = rng.random()
    if roll < 0.35 and product.get("brand"):
        text = f"{product['brand']} {what}"
    elif roll < 0.75 and values:
        value = rng.choice(values)
        text = f"{value} {what}" if rng.random() < 0.6 else f"{what} {value}"
    elif roll < 0.9:
        text = f"{rng.choice(_INTENTS)} {what}"
    else:
        text = what
    return " ".join(text.lower().split())
