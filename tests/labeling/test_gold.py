"""Gold items through the real queue and services: warm-up of new annotators, promotion from imports."""

import pytest

from config.errors import ApplicationError
from labeling.gold import gold_demote, gold_promote_imported, gold_sources
from labeling.models import Annotation, LabelSource, Task
from labeling.queue import task_lease_next
from labeling.services import annotation_submit
from tests.factories import DatasetFactory, LabelFactory, TaskFactory, member

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(db):
    dataset = DatasetFactory(gold_fraction=0.0, gold_warmup=3)
    label = LabelFactory(dataset=dataset, name="A", path="A")
    TaskFactory.create_batch(20, dataset=dataset)
    # Reviewed items made gold: complete, so only the gold path serves them.
    gold = TaskFactory.create_batch(4, dataset=dataset, is_gold=True, gold_label=label, is_complete=True)
    return dataset, label, {task.pk for task in gold}


def answer_next(dataset, user, label) -> Task:
    task = task_lease_next(dataset=dataset, user=user)
    annotation_submit(task=task, user=user, label=label)
    return task


def test_a_new_annotator_first_gets_gold_items_then_the_queue(shop):
    dataset, label, gold = shop
    user = member(dataset, "new")
    served = [answer_next(dataset, user, label).pk for _ in range(6)]
    assert set(served[:3]) <= gold
    assert not set(served[3:]) & gold  # gold_fraction is 0: after the warm-up, no more gold


def test_no_warm_up_when_the_dataset_turns_it_off(shop):
    dataset, label, gold = shop
    dataset.gold_warmup = 0
    dataset.save()
    user = member(dataset, "new")
    assert not {answer_next(dataset, user, label).pk for _ in range(5)} & gold


def test_warm_up_without_gold_items_serves_the_queue(db):
    dataset = DatasetFactory(gold_warmup=3)
    label = LabelFactory(dataset=dataset)
    TaskFactory.create_batch(3, dataset=dataset)
    user = member(dataset, "new")
    assert answer_next(dataset, user, label) is not None


def import_labels(dataset, label, source: str, tasks) -> None:
    Annotation.objects.bulk_create(
        Annotation(dataset=dataset, task=task, label=label, source=LabelSource.IMPORT, source_name=source)
        for task in tasks
    )


def test_imported_labels_of_a_trusted_source_become_gold(db):
    dataset = DatasetFactory()
    a, b = LabelFactory(dataset=dataset, name="A"), LabelFactory(dataset=dataset, name="B")
    tasks = TaskFactory.create_batch(10, dataset=dataset)
    import_labels(dataset, a, "checked-2025", tasks[:6])
    import_labels(dataset, b, "vendor", tasks[4:])
    assert gold_sources(dataset=dataset) == [{"source": "checked-2025", "tasks": 6}, {"source": "vendor", "tasks": 6}]
    assert gold_promote_imported(dataset=dataset, source="checked-2025", limit=4) == 4
    gold = Task.objects.filter(dataset=dataset, is_gold=True)
    assert gold.count() == 4 and set(gold.values_list("gold_label", flat=True)) == {a.pk}
    assert gold_promote_imported(dataset=dataset, source="checked-2025") == 2  # the rest, not the same again
    assert gold_demote(dataset=dataset, task_ids=[tasks[0].pk]) == 1


def test_promoting_an_unknown_source_says_so(db):
    dataset = DatasetFactory()
    with pytest.raises(ApplicationError, match="No imported labels come from the source 'nobody'"):
        gold_promote_imported(dataset=dataset, source="nobody")
