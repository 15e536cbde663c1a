"""A small two-shop catalog: each product sold by shop A and shop B under different titles, plus near-duplicates
within shop A, a GTIN two differently titled offers share, and a known match blocking cannot see."""

from dataclasses import dataclass

import pytest

from datasets.models import Dataset, Product
from labeling.models import Annotation, Task
from tests.factories import MatchingDatasetFactory, ProductFactory, member, pair_task

BRANDS = ["Lumen", "Kestrel", "Orbis", "Nadir", "Vexa", "Tarn", "Quill", "Sable", "Ferro", "Halden"]
TYPES = ["desk lamp", "kettle", "headphones", "blender", "router", "toaster", "speaker", "monitor", "drill", "fan"]
COLOURS = ["black", "white", "silver", "red", "blue"]


@dataclass
class Catalog:
    dataset: Dataset
    pairs: list[tuple[Product, Product]]  # the same product in shop A and shop B
    twins: list[tuple[Product, Product]]  # near-duplicates within shop A
    gtin_pair: tuple[Product, Product]
    hidden_match: tuple[Product, Product]  # labeled a match, but nothing in common blocking can see


def _code(i: int) -> str:
    letters = "abcdefghjkmnpqrstuvwxyz"
    return f"{letters[i % 23]}{letters[(i * 7 + 3) % 23]}{100 + i * 37}"


def build_catalog(name: str = "offers") -> Catalog:
    dataset = MatchingDatasetFactory(name=name)
    pairs = []
    for i in range(20):
        brand, kind, colour, code = BRANDS[i % 10], TYPES[(i * 3) % 10], COLOURS[i % 5], _code(i)
        left = ProductFactory(
            dataset=dataset, title=f"{brand} {kind} {code.upper()} {colour}", brand=brand, attributes={"shop": "A"}
        )
        right = ProductFactory(
            dataset=dataset,
            title=f"{kind.title()} {code} by {brand} ({colour})",
            brand=brand.upper(),
            attributes={"shop": "B"},
        )
        pairs.append((left, right))
    twins = []
    for i in range(3):
        left, _ = pairs[i]
        twin = ProductFactory(
            dataset=dataset, title=left.title + " refurbished", brand=left.brand, attributes={"shop": "A"}
        )
        twins.append((left, twin))
    gtin_pair = (
        ProductFactory(dataset=dataset, title="Zephyr travel mug", attributes={"shop": "A", "gtin": "0012345678905"}),
        ProductFactory(dataset=dataset, title="Insulated bottle 500ml", attributes={"shop": "B", "EAN": "12345678905"}),
    )
    hidden_match = (
        ProductFactory(dataset=dataset, title="Alpha widget", attributes={"shop": "A"}),
        ProductFactory(dataset=dataset, title="Omega gizmo", attributes={"shop": "B"}),
    )
    return Catalog(dataset, pairs, twins, gtin_pair, hidden_match)


def label_match(dataset: Dataset, left: Product, right: Product, **task_fields: object) -> Task:
    """An imported pair whose answer says match (the pair's task made if the dataset does not hold it yet)."""
    low, high = sorted((left.pk, right.pk))
    held = Task.objects.filter(dataset=dataset, product_id=low, other_product_id=high).first()
    task = held or pair_task(dataset, left, right, **task_fields)
    Annotation.objects.create(
        dataset=dataset, task=task, label=dataset.labels.get(code="1"), source="import", source_name="seed"
    )
    return task


@pytest.fixture
def shops(db: None) -> Catalog:
    return build_catalog()


@pytest.fixture
def lead(shops: Catalog):
    return member(shops.dataset, "lead", role="lead")


@pytest.fixture
def annotator(shops: Catalog):
    return member(shops.dataset, "ann")
