import pytest
from django.db import IntegrityError, transaction

from config.errors import ApplicationError
from labeling.kinds.matching.tasks import PairSpec, pair_item_key, pair_tasks_upsert
from labeling.models import Task
from tests.factories import DatasetFactory, ProductFactory

pytestmark = pytest.mark.django_db


def test_pair_key_is_the_same_in_either_order():
    assert pair_item_key(45, 12) == pair_item_key(12, 45) == "12:45"


def test_each_pair_becomes_one_task_with_its_products_in_id_order_and_its_sides_kept():
    dataset = DatasetFactory(task_type="matching")
    a, b, c = ProductFactory.create_batch(3, dataset=dataset)

    tasks, created = pair_tasks_upsert(
        dataset=dataset, pairs=[PairSpec(a.pk, b.pk, {"split": "test"}), PairSpec(c.pk, a.pk)]
    )

    assert created == 2
    task = Task.objects.get(pk=tasks[pair_item_key(a.pk, b.pk)])
    assert (task.product_id, task.other_product_id, task.swapped) == (a.pk, b.pk, False)
    assert task.single_product is None
    assert task.attributes == {"split": "test"}
    assert (task.left_id, task.right_id) == (a.pk, b.pk)
    # The higher id first: stored in id order all the same, `swapped` keeps c on the left.
    reversed_pair = Task.objects.get(pk=tasks[pair_item_key(a.pk, c.pk)])
    assert (reversed_pair.product_id, reversed_pair.other_product_id, reversed_pair.swapped) == (a.pk, c.pk, True)
    assert reversed_pair.sides() == (c, a)


def test_a_pair_given_again_in_reverse_order_keeps_its_task_and_sides_and_takes_the_new_attributes():
    dataset = DatasetFactory(task_type="matching")
    a, b = ProductFactory.create_batch(2, dataset=dataset)
    first, _ = pair_tasks_upsert(dataset=dataset, pairs=[PairSpec(a.pk, b.pk, {"split": "train"})])

    again, created = pair_tasks_upsert(dataset=dataset, pairs=[PairSpec(b.pk, a.pk, {"split": "test"})])

    assert created == 0
    assert again == first
    task = Task.objects.get()
    assert task.attributes == {"split": "test"}
    assert (task.left_id, task.right_id, task.swapped) == (a.pk, b.pk, False)


def test_a_product_paired_with_itself_is_refused_and_nothing_is_written():
    dataset = DatasetFactory(task_type="matching")
    a, b = ProductFactory.create_batch(2, dataset=dataset)

    with pytest.raises(ApplicationError, match="itself"):
        pair_tasks_upsert(dataset=dataset, pairs=[PairSpec(a.pk, b.pk), PairSpec(a.pk, a.pk)])

    assert not Task.objects.exists()


@pytest.mark.parametrize(
    ("first", "second", "swapped"),
    [(1, 0, False), (0, 0, False), (0, None, True)],
    ids=["other-product-below", "same-product-twice", "swapped-without-other-product"],
)
def test_the_database_refuses_a_pair_out_of_id_order_or_swapped_without_a_pair(first, second, swapped):
    dataset = DatasetFactory(task_type="matching")
    products = sorted(ProductFactory.create_batch(2, dataset=dataset), key=lambda product: product.pk)
    other = None if second is None else products[second]
    with pytest.raises(IntegrityError), transaction.atomic():
        Task.objects.create(
            dataset=dataset, product=products[first], other_product=other, swapped=swapped, random_key=1
        )
    # The same rows in order are taken: what was refused is the order, not the products.
    Task.objects.create(dataset=dataset, product=products[0], other_product=products[1], swapped=True, random_key=1)
    Task.objects.create(dataset=dataset, product=products[0], random_key=2)
