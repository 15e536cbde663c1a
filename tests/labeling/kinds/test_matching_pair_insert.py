"""pair_tasks_insert: generated candidates written in bulk, new pairs only, on both databases."""

import numpy as np
import pytest
from django.db import DataError

from config.errors import ApplicationError
from labeling.kinds.matching.candidates import _PairAttributes
from labeling.kinds.matching.tasks import (
    PairSpec,
    _csv_json,
    _insert_postgresql,
    pair_item_key,
    pair_tasks_insert,
    pair_tasks_upsert,
)
from labeling.models import Task
from tests.factories import DatasetFactory, ProductFactory

pytestmark = pytest.mark.django_db


def _sides(dataset) -> dict[str, dict[str, int]]:
    """Each pair task's sides by its pair key, read back from the row's id-ordered columns and `swapped`."""
    return {
        pair_item_key(task.product_id, task.other_product_id): {"left": task.left_id, "right": task.right_id}
        for task in Task.objects.filter(dataset=dataset, other_product__isnull=False)
    }


def _pair(a: int, b: int) -> Task:
    return Task.objects.get(product_id=min(a, b), other_product_id=max(a, b))


def _keys(dataset) -> set[str]:
    rows = Task.objects.filter(dataset=dataset).values_list("product_id", "other_product_id")
    return {pair_item_key(low, high) for low, high in rows}


def _every_pair(dataset, count: int) -> tuple[list[int], list[int]]:
    """`count` new products of the dataset and every pair of them, as left and right ids."""
    products = [p.pk for p in ProductFactory.create_batch(count, dataset=dataset)]
    pairs = [(products[i], products[j]) for i in range(count) for j in range(i + 1, count)]
    return [a for a, _ in pairs], [b for _, b in pairs]


def test_new_pairs_get_a_task_with_their_products_in_id_order_and_the_upsert_random_key():
    dataset = DatasetFactory(task_type="matching", seed=7)
    a, b, c = ProductFactory.create_batch(3, dataset=dataset)
    reference = DatasetFactory(task_type="matching", seed=7)
    x, y = ProductFactory.create_batch(2, dataset=reference)

    created = pair_tasks_insert(dataset=dataset, left_ids=np.array([c.pk, a.pk]), right_ids=[a.pk, b.pk])

    assert created == 2
    assert _sides(dataset) == {
        pair_item_key(a.pk, c.pk): {"left": c.pk, "right": a.pk},
        pair_item_key(a.pk, b.pk): {"left": a.pk, "right": b.pk},
    }
    task = _pair(a.pk, b.pk)
    assert (task.product_id, task.other_product_id, task.swapped) == (a.pk, b.pk, False)
    assert (task.attributes, task.is_gold, task.annotation_count) == (None, False, 0)
    # Given higher id first, the pair is stored the same way round, with its roles kept by `swapped`.
    assert (_pair(c.pk, a.pk).product_id, _pair(c.pk, a.pk).swapped) == (a.pk, True)
    assert (task.is_complete, task.priority, task.needs_review, task.uncertainty) == (False, 0.0, False, None)
    assert task.created_at is not None
    # The same key as the upsert of imported pairs gives: the queue's order does not depend on the path.
    tasks, _ = pair_tasks_upsert(dataset=reference, pairs=[PairSpec(x.pk, y.pk)])
    expected = Task.objects.get(pk=tasks[pair_item_key(x.pk, y.pk)]).random_key
    Task.objects.filter(dataset=reference).delete()
    pair_tasks_insert(dataset=reference, left_ids=[x.pk], right_ids=[y.pk])
    assert Task.objects.get(dataset=reference).random_key == expected


def test_a_pair_already_held_in_either_order_keeps_its_task_sides_and_attributes():
    dataset = DatasetFactory(task_type="matching")
    a, b, c = ProductFactory.create_batch(3, dataset=dataset)
    pair_tasks_upsert(dataset=dataset, pairs=[PairSpec(a.pk, b.pk, {"split": "train"})])
    before = Task.objects.get()

    created = pair_tasks_insert(
        dataset=dataset,
        left_ids=[b.pk, c.pk, a.pk],
        right_ids=[a.pk, b.pk, b.pk],
        attributes=[{"source": "blocking"}, {"score": 0.5}, None],
    )

    assert created == 1
    after = Task.objects.get(pk=before.pk)
    assert after.attributes == before.attributes
    assert (after.random_key, after.created_at) == (before.random_key, before.created_at)
    sides = _sides(dataset)
    assert sides[pair_item_key(a.pk, b.pk)] == {"left": a.pk, "right": b.pk}
    assert sides[pair_item_key(b.pk, c.pk)] == {"left": c.pk, "right": b.pk}
    assert _pair(b.pk, c.pk).attributes == {"score": 0.5}
    assert Task.objects.count() == 2  # the held pair (given twice, once each way round) and the new one
    assert pair_tasks_insert(dataset=dataset, left_ids=[a.pk, b.pk], right_ids=[b.pk, c.pk]) == 0


def test_a_pair_repeated_in_the_input_counts_once_its_first_occurrence_wins():
    dataset = DatasetFactory(task_type="matching")
    a, b = ProductFactory.create_batch(2, dataset=dataset)

    created = pair_tasks_insert(dataset=dataset, left_ids=[b.pk, a.pk, b.pk], right_ids=[a.pk, b.pk, a.pk])

    assert created == 1
    assert _sides(dataset) == {pair_item_key(a.pk, b.pk): {"left": b.pk, "right": a.pk}}


def test_batches_each_write_their_pairs():
    dataset = DatasetFactory(task_type="matching")
    left, right = _every_pair(dataset, 6)

    assert pair_tasks_insert(dataset=dataset, left_ids=left, right_ids=right, batch_size=4) == 15

    assert Task.objects.filter(dataset=dataset).count() == 15
    assert _sides(dataset) == {pair_item_key(a, b): {"left": a, "right": b} for a, b in zip(left, right, strict=True)}


def test_a_product_paired_with_itself_is_refused_and_nothing_is_written():
    dataset = DatasetFactory(task_type="matching")
    a, b = ProductFactory.create_batch(2, dataset=dataset)

    with pytest.raises(ApplicationError, match="itself"):
        pair_tasks_insert(dataset=dataset, left_ids=[a.pk, b.pk], right_ids=[b.pk, b.pk], batch_size=1)

    assert not Task.objects.exists()


def test_ids_of_another_dataset_are_refused_and_nothing_is_written():
    dataset = DatasetFactory(task_type="matching")
    a, b = ProductFactory.create_batch(2, dataset=dataset)
    stranger = ProductFactory(dataset=DatasetFactory(task_type="matching"))

    with pytest.raises(ApplicationError, match="not products of this dataset"):
        pair_tasks_insert(dataset=dataset, left_ids=[a.pk, a.pk], right_ids=[b.pk, stranger.pk], batch_size=1)

    assert not Task.objects.exists()


def test_lengths_must_agree():
    dataset = DatasetFactory(task_type="matching")
    a, b = ProductFactory.create_batch(2, dataset=dataset)
    with pytest.raises(ApplicationError, match="same length"):
        pair_tasks_insert(dataset=dataset, left_ids=[a.pk], right_ids=[b.pk, a.pk])
    with pytest.raises(ApplicationError, match="one entry per pair"):
        pair_tasks_insert(dataset=dataset, left_ids=[a.pk], right_ids=[b.pk], attributes=[])
    assert pair_tasks_insert(dataset=dataset, left_ids=[], right_ids=[]) == 0


class _Cancelled(Exception):
    pass


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_batches_are_written_by_parallel_writers_each_whole():
    # transaction=True: the writers' own connections see the committed dataset and products, as in the worker.
    dataset = DatasetFactory(task_type="matching")
    left, right = _every_pair(dataset, 8)
    fractions: list[float] = []

    created = pair_tasks_insert(
        dataset=dataset,
        left_ids=left,
        right_ids=right,
        batch_size=5,
        writers=2,
        progress=fractions.append,
        attributes=[{"n": i} for i in range(len(left))],
    )

    assert created == 28
    assert fractions[-1] == 1.0 and len(fractions) == 6 and fractions == sorted(fractions)
    sides = _sides(dataset)
    assert len(sides) == 28
    assert all(sides[pair_item_key(a, b)] == {"left": a, "right": b} for a, b in zip(left, right, strict=True))
    assert _pair(left[27], right[27]).attributes == {"n": 27}
    # Again: every pair is held, nothing is new.
    assert pair_tasks_insert(dataset=dataset, left_ids=right, right_ids=left, batch_size=5, writers=2) == 0


@pytest.mark.django_db(transaction=True)
def test_a_cancel_between_parallel_batches_keeps_the_batches_written_whole():
    dataset = DatasetFactory(task_type="matching")
    left, right = _every_pair(dataset, 8)
    calls = []

    def check() -> None:
        calls.append(1)
        if len(calls) == 4:
            raise _Cancelled

    with pytest.raises(_Cancelled):
        pair_tasks_insert(dataset=dataset, left_ids=left, right_ids=right, batch_size=5, writers=2, check=check)

    tasks = Task.objects.filter(dataset=dataset).count()
    # Two or three batches went before the fourth check (the third may be cancelled before it starts); none of
    # the rest, and each that went is whole.
    assert tasks in (10, 15)
    keys = _keys(dataset)
    batches = [
        {pair_item_key(a, b) for a, b in zip(left[i : i + 5], right[i : i + 5], strict=True)}
        for i in range(0, len(left), 5)
    ]
    assert all(batch <= keys or not batch & keys for batch in batches)


@pytest.mark.django_db(transaction=True)
def test_a_failing_parallel_batch_is_raised_and_leaves_nothing_of_itself(postgres):
    dataset = DatasetFactory(task_type="matching")
    left, right = _every_pair(dataset, 4)  # six pairs, batches of two
    # NaN is no JSON PostgreSQL takes: the batch holding it fails in the database, as a whole.
    attributes = [{"n": 0}, {"n": 1}, {"n": float("nan")}, {"n": 3}, {"n": 4}, {"n": 5}]

    with pytest.raises(DataError):
        pair_tasks_insert(
            dataset=dataset, left_ids=left, right_ids=right, attributes=attributes, batch_size=2, writers=2
        )

    keys = _keys(dataset)
    assert not keys & {pair_item_key(left[2], right[2]), pair_item_key(left[3], right[3])}
    assert pair_item_key(left[0], right[0]) in keys  # the first batch went before the failure
    # Whole batches only: the first, and the third if it started before the second failed.
    first, third = ({pair_item_key(left[i], right[i]) for i in batch} for batch in ((0, 1), (4, 5)))
    assert keys in (first, first | third)


def test_a_pair_another_writer_took_after_the_write_began_keeps_that_task_and_the_rest_is_written(postgres):
    # The dataset held no pair when the write began, so the batch is not looked up; meanwhile another writer
    # (an import) took one of its pairs: the COPY is refused by the unique index and the batch goes again.
    dataset = DatasetFactory(task_type="matching")
    a, b, c = ProductFactory.create_batch(3, dataset=dataset)
    pair_tasks_upsert(dataset=dataset, pairs=[PairSpec(b.pk, a.pk, {"split": "test"})])
    taken = Task.objects.get()

    created = _insert_postgresql(
        dataset, np.array([a.pk, a.pk]), np.array([b.pk, c.pk]), [_csv_json({"n": 1}), _csv_json({"n": 2})], probe=False
    )

    assert created == 1
    assert Task.objects.get(pk=taken.pk).attributes == {"split": "test"}
    assert _sides(dataset) == {
        pair_item_key(a.pk, b.pk): {"left": b.pk, "right": a.pk},
        pair_item_key(a.pk, c.pk): {"left": a.pk, "right": c.pk},
    }
    assert _pair(a.pk, c.pk).attributes == {"n": 2}


def test_attributes_with_quotes_commas_and_line_breaks_arrive_as_they_were():
    dataset = DatasetFactory(task_type="matching")
    a, b, c = ProductFactory.create_batch(3, dataset=dataset)
    odd = {"note": 'a "quoted", comma\nand a line break', "größe": "1,5 l", "n": [1, None, True]}

    pair_tasks_insert(dataset=dataset, left_ids=[a.pk, a.pk], right_ids=[b.pk, c.pk], attributes=[odd, {}])

    assert _pair(a.pk, b.pk).attributes == odd
    assert _pair(a.pk, c.pk).attributes is None


def test_a_candidate_runs_attributes_written_by_the_array_are_what_the_json_encoder_writes():
    similarity = np.array([0, 1, 0.5, 0.1, 0.30000001, 0.12345, 0.9995, 1e-4, 0.83399999], dtype=np.float32)
    attributes = _PairAttributes(similarity, np.arange(len(similarity)) % 3 == 0)
    indices = np.array([8, 0, 3, 5, 1, 2, 4, 6, 7, 3])

    assert attributes.csv_texts(indices) == [_csv_json(attributes[i]) for i in indices.tolist()]
    assert attributes[0] == {"similarity": 0.0, "by_key": True}
