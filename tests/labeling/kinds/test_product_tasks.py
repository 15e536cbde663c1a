"""How a kind writes imported products: categorization makes a task per new product with it (with a labeled file's
answers, counted), matching stores the products alone (its tasks come from pairs)."""

import pytest

from datasets.importers import ProductRow
from datasets.models import Product
from labeling.kinds import KINDS
from labeling.kinds.categorization.tasks import labeled_product_tasks_upsert, product_tasks_upsert
from labeling.models import Annotation, AnnotationStatus, EventAction, LabelEvent, Task
from labeling.queue import random_key
from tests.factories import DatasetFactory, LabelFactory, MatchingDatasetFactory

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


def answers_of(dataset) -> dict[str, tuple]:
    return {
        annotation.task.product.external_id: (annotation.label_id, annotation.source_name, annotation.status)
        for annotation in Annotation.objects.filter(dataset=dataset, user=None).select_related("task__product")
    }


def test_labeled_new_products_get_their_tasks_counted_with_the_answers_and_their_events():
    dataset = DatasetFactory(overlap=2)
    shoes = LabelFactory(dataset=dataset, name="Shoes")
    source = "shop%s\tfeed"  # a name with a % and a tab is still the name
    written = labeled_product_tasks_upsert(
        dataset=dataset, rows=rows("A1", "A2", "A3"), labels={"A1": shoes.pk, "A3": shoes.pk}, source_name=source
    )
    assert written == (3, 2)
    submitted = (shoes.pk, source, AnnotationStatus.SUBMITTED)
    assert answers_of(dataset) == {"A1": submitted, "A3": submitted}
    counts = dict(Task.objects.filter(dataset=dataset).values_list("product__external_id", "annotation_count"))
    assert counts == {"A1": 1, "A2": 0, "A3": 1}
    assert not Task.objects.filter(dataset=dataset, is_complete=True).exists()  # two answers wanted
    events = LabelEvent.objects.filter(dataset=dataset).values_list("action", "old_label", "new_label", "source_name")
    assert sorted(events) == [(EventAction.IMPORT, None, shoes.pk, source)] * 2


def test_labels_of_a_batch_with_a_known_product_are_compared_with_the_answers_held():
    dataset = DatasetFactory()
    shoes, hats = LabelFactory(dataset=dataset, name="Shoes"), LabelFactory(dataset=dataset, name="Hats")
    labeled_product_tasks_upsert(dataset=dataset, rows=rows("A1"), labels={"A1": shoes.pk}, source_name="feed")
    written = labeled_product_tasks_upsert(
        dataset=dataset, rows=rows("A1", "A2"), labels={"A1": hats.pk, "A2": hats.pk}, source_name="feed"
    )
    assert written == (1, 2)  # A2 is new, A1's answer changed
    assert answers_of(dataset) == {
        "A1": (hats.pk, "feed", AnnotationStatus.SUBMITTED), "A2": (hats.pk, "feed", AnnotationStatus.SUBMITTED)
    }
    assert set(Task.objects.filter(dataset=dataset).values_list("annotation_count", "is_complete")) == {(1, True)}
    assert LabelEvent.objects.filter(dataset=dataset, action=EventAction.CHANGE).count() == 1



@pytest.mark.parametrize("labeled", [False, True])
def test_a_new_batchs_tasks_are_written_in_random_key_order(postgres, labeled):
    """Both queue indexes are keyed on random_key: a batch COPYed in their order reaches their pages in sequence.
    The task ids then ascend with the keys, and each task keeps its own product (and its answer)."""
    dataset = DatasetFactory(seed=3)
    batch = rows(*(f"SKU-{n}" for n in range(40)))
    if labeled:
        shoes = LabelFactory(dataset=dataset, name="Shoes")
        labels = {"SKU-7": shoes.pk, "SKU-30": shoes.pk}
        labeled_product_tasks_upsert(dataset=dataset, rows=batch, labels=labels, source_name="feed")
        assert set(answers_of(dataset)) == set(labels)
    else:
        product_tasks_upsert(dataset=dataset, rows=batch)
    tasks = list(Task.objects.filter(dataset=dataset).order_by("pk").select_related("product"))
    keys = [task.random_key for task in tasks]
    assert keys == [random_key(seed=3, external_id=task.product.external_id) for task in tasks]
    assert len(keys) == 40
    assert keys == sorted(keys)
