"""What a matcher reads of pairs: both offers' fields, one query a page whatever the page's size."""

import pytest

from labeling.kinds.matching.training import open_pair_records, pair_records, training_pairs
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


def test_open_pairs_come_in_keyset_pages_of_one_query_each(pairs, django_assert_num_queries):
    dataset, tasks = pairs
    Task.objects.filter(pk=tasks[0].pk).update(is_complete=True)
    with django_assert_num_queries(3):  # two pages and the empty one that ends them
        pages = list(open_pair_records(dataset=dataset, chunk_size=3))
    ids = [task_id for page_ids, _, _ in pages for task_id in page_ids]
    assert ids == [task.pk for task in tasks[1:]]
    _, left, right = pages[0]
    assert (left[0]["title"], right[0]["title"], right[0]["brand"]) == ("left 1", "right 1", "Acme")
    assert set(left[0]) == {"title", "brand", "description", "attributes", "price", "currency"}


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
