"""What a matcher reads of pairs: both offers' fields, one query a page whatever the page's size."""

import pytest

from datasets.models import Product
from labeling.kinds.matching.training import (
    open_pair_ids,
    pair_records,
    product_records,
    training_pairs,
)
from labeling.models import Annotation, Task, TaskItem
from tests.factories import MatchingDatasetFactory, ProductFactory, pair_task

pytestmark = pytest.mark.django_db


@pytest.fixture
def pairs():
    dataset = MatchingDatasetFactory()
    tasks = [
        pair_task(
            dataset,
            ProductFactory(dataset=dataset, title=f"left {i}", price="10.00"),
            ProductFactory(dataset=dataset, title=f"right {i}", brand="Acme"),
        )
        for i in range(5)
    ]
    return dataset, tasks


def test_training_pairs_carry_the_resolved_answer_as_1_or_0(pairs):
    dataset, tasks = pairs
    for task, code in zip(tasks[:3], "101", strict=True):
        Annotation.objects.create(
            dataset=dataset, task=task, label=dataset.labels.get(code=code), source="import", source_name="seed"
        )
    left, right, labels = training_pairs(dataset=dataset, upto_annotation_id=10**9)
    assert [record["brand"] for record in right] == ["Acme"] * 3
    assert ([record["title"] for record in left], labels) == (["left 0", "left 1", "left 2"], [1, 0, 1])
    assert pair_records(task_ids=[tasks[4].pk, 10**9])[0] == [tasks[4].pk]  # a task gone is left out


def test_open_pair_ids_come_in_keyset_pages_of_three_queries_each(pairs, django_assert_num_queries):
    dataset, tasks = pairs
    Task.objects.filter(pk=tasks[0].pk).update(is_complete=True)
    with django_assert_num_queries(7):  # two pages (tasks, left items, right items) and the empty one that ends them
        pages = list(open_pair_ids(dataset=dataset, chunk_size=3))
    assert [len(task_ids) for task_ids, _, _ in pages] == [3, 1]
    expected = [(t.pk, t.items.get(role="left").product_id, t.items.get(role="right").product_id) for t in tasks[1:]]
    found = [row for page in pages for row in zip(*(ids.tolist() for ids in page), strict=True)]
    assert found == expected


def test_open_pair_ids_leave_out_other_datasets_tasks_between_and_a_task_missing_a_side(pairs):
    dataset, tasks = pairs
    other = MatchingDatasetFactory()
    between = pair_task(other, ProductFactory(dataset=other), ProductFactory(dataset=other))
    last = pair_task(dataset, ProductFactory(dataset=dataset), ProductFactory(dataset=dataset))
    TaskItem.objects.filter(task=tasks[2], role="right").delete()
    assert tasks[-1].pk < between.pk < last.pk  # the other dataset's task lies inside the page's id range

    (task_ids, left, right), = open_pair_ids(dataset=dataset)

    assert task_ids.tolist() == [task.pk for task in tasks if task != tasks[2]] + [last.pk]
    assert (left[-1], right[-1]) == tuple(last.items.order_by("role").values_list("product_id", flat=True))


def test_product_records_give_the_fields_a_matcher_reads_of_the_datasets_products_only(pairs):
    dataset, tasks = pairs
    wanted = [item.product_id for item in TaskItem.objects.filter(task=tasks[1]).order_by("-role")]  # right, left
    foreign = ProductFactory(dataset=MatchingDatasetFactory())

    ids, records = product_records(dataset=dataset, product_ids=[*wanted, foreign.pk, 10**9])

    assert ids == sorted(wanted)
    by_id = dict(zip(ids, records, strict=True))
    left, right = by_id[tasks[1].items.get(role="left").product_id], by_id[wanted[0]]
    assert (left["title"], right["title"], right["brand"]) == ("left 1", "right 1", "Acme")
    assert set(left) == {"title", "brand", "description", "attributes", "price", "currency"}
    assert [left] == pair_records(task_ids=[tasks[1].pk])[1]  # the same record as the joined read gives


@pytest.mark.parametrize("attributes", [{}, {"colour": "black", "sizes": [1, 2], "n": {"a": None}}, "plain", [1, "x"]])
def test_product_records_read_as_the_orm_does_page_by_page(pairs, attributes, monkeypatch):
    dataset, tasks = pairs
    monkeypatch.setattr("labeling.kinds.matching.training.PRODUCT_PAGE", 3)
    Product.objects.filter(dataset=dataset).update(attributes=attributes, description="a  description")
    wanted = list(TaskItem.objects.filter(task__dataset=dataset).values_list("product_id", flat=True))

    ids, records = product_records(dataset=dataset, product_ids=wanted)

    assert ids == sorted(wanted) and len(ids) == 10  # four pages of three
    by_task = dict(zip(*pair_records(task_ids=[task.pk for task in tasks])[:2], strict=True))
    for task in tasks:
        left = by_task[task.pk]
        assert records[ids.index(task.items.get(role="left").product_id)] == left
        assert left["attributes"] == attributes and left["price"] is not None
