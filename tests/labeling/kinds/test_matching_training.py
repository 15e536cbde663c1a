"""What a matcher reads of pairs: both offers' fields, one query a page whatever the page's size."""

import pytest

from datasets.models import Product
from labeling.kinds.matching.training import (
    catalog_records,
    open_pair_ids,
    pair_records,
    product_records,
    training_pairs,
)
from labeling.models import Annotation, Task
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


def test_pair_records_give_a_pair_that_came_higher_id_first_its_sides_as_it_came(pairs):
    dataset, _ = pairs
    lower, higher = ProductFactory(dataset=dataset, title="lower"), ProductFactory(dataset=dataset, title="higher")
    task = pair_task(dataset, higher, lower)
    single = Task.objects.create(dataset=dataset, product=lower, random_key=1)  # no pair: left out

    ids, left, right = pair_records(task_ids=[task.pk, single.pk])

    assert (ids, [r["title"] for r in left], [r["title"] for r in right]) == ([task.pk], ["higher"], ["lower"])


def test_open_pair_ids_come_in_keyset_pages_of_one_query_each(pairs, django_assert_num_queries):
    dataset, tasks = pairs
    Task.objects.filter(pk=tasks[0].pk).update(is_complete=True)
    # A pair whose left is the higher id: its sides come back as the pair came, not in id order.
    lower, higher = ProductFactory.create_batch(2, dataset=dataset)
    swapped = pair_task(dataset, higher, lower)
    tasks = [*tasks, swapped]
    with django_assert_num_queries(3):  # two pages (the tasks with their products' ids) and the empty one after
        pages = list(open_pair_ids(dataset=dataset, chunk_size=3))
    assert [len(task_ids) for task_ids, _, _ in pages] == [3, 2]
    expected = [(t.pk, t.left_id, t.right_id) for t in tasks[1:]]
    assert expected[-1] == (swapped.pk, higher.pk, lower.pk)
    found = [row for page in pages for row in zip(*(ids.tolist() for ids in page), strict=True)]
    assert found == expected


def test_open_pair_ids_leave_out_other_datasets_tasks_between_and_single_product_tasks(pairs):
    dataset, tasks = pairs
    other = MatchingDatasetFactory()
    between = pair_task(other, ProductFactory(dataset=other), ProductFactory(dataset=other))
    single = Task.objects.create(dataset=dataset, product=ProductFactory(dataset=dataset), random_key=1)
    first, second = ProductFactory.create_batch(2, dataset=dataset)
    last = pair_task(dataset, second, first)
    assert tasks[-1].pk < between.pk < single.pk < last.pk  # both lie inside the page's id range

    (task_ids, left, right), = open_pair_ids(dataset=dataset)

    assert task_ids.tolist() == [task.pk for task in tasks] + [last.pk]
    assert (left[-1], right[-1]) == (second.pk, first.pk)


def test_deleting_one_product_of_a_pair_deletes_its_task(pairs):
    dataset, tasks = pairs
    # Through either column: Django's cascade, as the database has no foreign key to do it.
    Product.objects.filter(pk=tasks[2].other_product_id).delete()
    Product.objects.filter(pk=tasks[3].product_id).delete()

    assert not Task.objects.filter(pk__in=[tasks[2].pk, tasks[3].pk]).exists()
    assert Product.objects.filter(pk__in=[tasks[2].product_id, tasks[3].other_product_id]).count() == 2
    (task_ids, _, _), = open_pair_ids(dataset=dataset)
    assert task_ids.tolist() == [tasks[0].pk, tasks[1].pk, tasks[4].pk]


def test_product_records_give_the_fields_a_matcher_reads_of_the_datasets_products_only(pairs):
    dataset, tasks = pairs
    wanted = [tasks[1].right_id, tasks[1].left_id]
    foreign = ProductFactory(dataset=MatchingDatasetFactory())

    ids, records = product_records(dataset=dataset, product_ids=[*wanted, foreign.pk, 10**9])

    assert ids == sorted(wanted)
    by_id = dict(zip(ids, records, strict=True))
    left, right = by_id[tasks[1].left_id], by_id[wanted[0]]
    assert (left["title"], right["title"], right["brand"]) == ("left 1", "right 1", "Acme")
    assert set(left) == {"title", "brand", "description", "attributes", "price", "currency"}
    assert [left] == pair_records(task_ids=[tasks[1].pk])[1]  # the same record as the joined read gives


@pytest.mark.parametrize("attributes", [{}, {"colour": "black", "sizes": [1, 2], "n": {"a": None}}, "plain", [1, "x"]])
def test_product_records_read_as_the_orm_does_page_by_page(pairs, attributes, monkeypatch):
    dataset, tasks = pairs
    monkeypatch.setattr("labeling.kinds.matching.training.PRODUCT_PAGE", 3)
    Product.objects.filter(dataset=dataset).update(attributes=attributes, description="a  description")
    wanted = [product_id for task in tasks for product_id in (task.right_id, task.left_id)]

    ids, records = product_records(dataset=dataset, product_ids=wanted)

    assert ids == sorted(wanted) and len(ids) == 10  # four pages of three
    by_task = dict(zip(*pair_records(task_ids=[task.pk for task in tasks])[:2], strict=True))
    for task in tasks:
        left = by_task[task.pk]
        assert records[ids.index(task.left_id)] == left
        assert left["attributes"] == attributes and left["price"] is not None


def test_catalog_records_are_every_product_of_the_dataset_or_a_seeded_sample(pairs):
    dataset, _ = pairs
    ProductFactory(dataset=dataset, title="in no pair")
    ProductFactory(dataset=MatchingDatasetFactory(), title="another dataset's")
    titles = sorted(record["title"] for record in catalog_records(dataset=dataset))
    assert titles == sorted(["in no pair", *(f"{side} {i}" for side in ("left", "right") for i in range(5))])
    sample = [record["title"] for record in catalog_records(dataset=dataset, limit=4)]
    assert len(set(sample)) == 4 and set(sample) < set(titles)
    assert [record["title"] for record in catalog_records(dataset=dataset, limit=4)] == sample  # the dataset's seed
