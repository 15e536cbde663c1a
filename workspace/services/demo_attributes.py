"""A span dataset of the demo attributes (`workspace.demo_attributes`) and its truth, for the active-learning
simulation: the products go in as a product file would bring them, their true spans into a truth file."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from datasets.importers import ProductRow
from datasets.models import Dataset, TaskType
from labeling.kinds import kind_get
from labeling.kinds.spans.tokens import char_to_token, product_text, tokenize
from workspace.demo_attributes import LABELS, demo_attribute_products
from workspace.services.datasets import dataset_create


def demo_attribute_row(line: int, product: Mapping[str, Any]) -> ProductRow:
    """The product as its file's row: no label, no spans (the truth is apart)."""
    return ProductRow(
        line=line, external_id=product["external_id"], title=product["title"], description=product["description"],
        brand=product["brand"], price=Decimal(product["price"]) if product["price"] else None,
        currency=product["currency"], url=product["url"],
        attributes={**product["attributes"], "category": product["category"]},
    )


def demo_attribute_truth(product: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The product's true spans on the tokens of the text an annotator marks: {"token_start", "token_end"
    (inclusive), "label"}. The generator's titles are that text already (single spaces, none at the ends), so
    its character offsets hold."""
    text = product_text({"title": product["title"]})
    if text != product["title"]:
        raise ValueError(f"{product['external_id']}: its title is not the text an annotator marks")
    tokens = tokenize(text)
    return [
        dict(zip(("token_start", "token_end"), char_to_token(tokens, span["start"], span["end"]), strict=True),
             label=span["label"])
        for span in product["spans"]
    ]


def truth_write(path: Path | str, products: Iterable[Mapping[str, Any]]) -> int:
    """Write the span truth file (JSON Lines: {"external_id", "spans": [{"token_start", "token_end",
    "label"}]}, as `simulate_labeling` reads it); returns how many products it holds."""
    count = 0
    with Path(path).open("w", encoding="utf-8") as handle:
        for product in products:
            record = {"external_id": product["external_id"], "spans": demo_attribute_truth(product)}
            handle.write(json.dumps(record) + "\n")
            count += 1
    return count


def demo_attributes_load(
    *, user: AbstractBaseUser, name: str, count: int, seed: int, truth_path: Path | str | None = None,
    **settings: Any,
) -> Dataset:
    """A span dataset of `count` demo attribute products (their pre-annotations suggested as an import's are),
    with the demo's types; its truth written to `truth_path` when given."""
    products = list(demo_attribute_products(count, seed=seed))
    with transaction.atomic():
        dataset = dataset_create(
            user=user, name=name, task_type=TaskType.SPANS, span_types=list(LABELS),
            description="Generated product titles: mark the attributes in each (brand, model, color, size...).",
            **settings,
        )
        rows = [demo_attribute_row(line, product) for line, product in enumerate(products, start=1)]
        kind_get(TaskType.SPANS).products_write(dataset=dataset, rows=rows)
    if truth_path is not None:
        truth_write(truth_path, products)
    return dataset
