"""How a kind writes imported products: categorization makes a task per new product in the same statement,
matching stores the products alone (its tasks come from pairs)."""

import pytest

from datasets.importers import ProductRow
from datasets.models import Product
from labeling.kinds import KINDS
from labeling.kinds.categorization.tasks import product_tasks_upsert
from labeling.models import Task
from labeling.queue import random_key
from tests.factories import DatasetFactory, MatchingDatasetFactory

pytestmark = pytest.mark.django_db


def rows(*ids: str) -> list[ProductRow]:
    return [ProductRow(n, external_id, f"Product {external_id}") for n, external_id in enumerate(ids, start=1)]


def test_each_new_product_gets_one_task_with_its_seeded_random_key():
    dataset = DatasetFactory(seed=9)
    assert product_tasks_upsert(dataset=dataset, rows=rows("A1", "A2")) == 2
    tasks = {task.product.external_id: task for task in Task.objects.filter(dataset=dataset).select_related("product")}
    assert set(tasks) == {"A1", "A2"}
    assert tasks["A1"].random_key == random_key(seed=9, external_id="A1")
    assert (tasks["A1"].is_complete, tasks["A1"].annotation_count, tasks["A1"].needs_review) == (False, 0, False)


def test_products_imported_again_are_updated_without_new_tasks():
    dataset = DatasetFactory()
    product_tasks_upsert(dataset=dataset, rows=rows("A1"))
    again = [ProductRow(1, "A1", "Renamed"), *rows("A2")]
    assert product_tasks_upsert(dataset=dataset, rows=again) == 1
    assert Product.objects.get(dataset=dataset, external_id="A1").title == "Renamed"
    assert Task.objects.filter(dataset=dataset).count() == 2


def test_the_categorization_kind_writes_tasks_per_product_and_the_matching_kind_none():
    catalog, offers = DatasetFactory(), MatchingDatasetFactory()
    assert (KINDS["categorization"].tasks_per_product, KINDS["matching"].tasks_per_product) == (True, False)
    assert KINDS["categorization"].products_write(dataset=catalog, rows=rows("A1", "A2")) == 2
    assert KINDS["matching"].products_write(dataset=offers, rows=rows("A1", "A2")) == 2
    assert KINDS["matching"].products_write(dataset=offers, rows=rows("A2", "A3")) == 1
    assert Task.objects.filter(dataset=catalog).count() == 2
    assert Product.objects.filter(dataset=offers).count() == 3
    assert not Task.objects.filter(dataset=offers).exists()
