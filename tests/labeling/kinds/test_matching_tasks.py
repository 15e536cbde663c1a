import pytest
from django.db import IntegrityError

from config.errors import ApplicationError
from labeling.kinds.matching.tasks import PairSpec, pair_item_key, pair_tasks_upsert
from labeling.models import Task, TaskItem
from tests.factories import DatasetFactory, ProductFactory

pytestmark = pytest.mark.django_db


def test_pair_key_is_the_same_in_either_order():
    assert pair_item_key(45, 12) == pair_item_key(12, 45) == "12:45"


def test_each_pair_becomes_one_task_with_a_left_and_a_right_item():
    dataset = DatasetFactory(task_type="matching")
    a, b, c = ProductFactory.create_batch(3, dataset=dataset)

    tasks, created = pair_tasks_upsert(
        dataset=dataset, pairs=[PairSpec(a.pk, b.pk, {"split": "test"}), PairSpec(a.pk, c.pk)]
    )

    assert created == 2
    task = Task.objects.get(pk=tasks[pair_item_key(a.pk, b.pk)])
    assert task.product is None
    assert task.attributes == {"split": "test"}
    assert dict(TaskItem.objects.filter(task=task).values_list("role", "product_id")) == {"left": a.pk, "right": b.pk}


def test_a_pair_given_again_in_reverse_order_keeps_its_task_and_sides_and_takes_the_new_attributes():
    dataset = DatasetFactory(task_type="matching")
    a, b = ProductFactory.create_batch(2, dataset=dataset)
    first, _ = pair_tasks_upsert(dataset=dataset, pairs=[PairSpec(a.pk, b.pk, {"split": "train"})])

    again, created = pair_tasks_upsert(dataset=dataset, pairs=[PairSpec(b.pk, a.pk, {"split": "test"})])

    assert created == 0
    assert again == first
    assert Task.objects.get().attributes == {"split": "test"}
    assert TaskItem.objects.get(role="left").product_id == a.pk


def test_a_product_paired_with_itself_is_refused_and_nothing_is_written():
    dataset = DatasetFactory(task_type="matching")
    a, b = ProductFactory.create_batch(2, dataset=dataset)

    with pytest.raises(ApplicationError, match="itself"):
        pair_tasks_upsert(dataset=dataset, pairs=[PairSpec(a.pk, b.pk), PairSpec(a.pk, a.pk)])

    assert not Task.objects.exists()


def test_the_database_refuses_a_task_with_both_a_product_and_items_key():
    dataset = DatasetFactory(task_type="matching")
    product = ProductFactory(dataset=dataset)
    with pytest.raises(IntegrityError):
        Task.objects.create(dataset=dataset, product=product, item_key="1:2", random_key=1)
