"""The list mode's claim: a judge leases the open tasks of one query, the queue's next, as the queue leases one."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from config.errors import ApplicationError
from labeling.models import Lease, Task
from labeling.queue import query_lease_next, task_lease_next
from labeling.services import annotation_submit
from tests.factories import TaskFactory, member
from tests.labeling.kinds.relevance.judging import search_dataset

pytestmark = pytest.mark.django_db


def queries_of(tasks):
    return {task.query_id for task in tasks}


def test_a_judge_leases_every_product_of_one_query_in_the_queues_seeded_order():
    dataset = search_dataset()
    judge = member(dataset, "judge")
    tasks = query_lease_next(dataset=dataset, user=judge)
    assert len(tasks) == 10 and len(queries_of(tasks)) == 1
    assert [task.random_key for task in tasks] == sorted(task.random_key for task in tasks)
    leased = set(Lease.objects.filter(user=judge).values_list("task_id", flat=True))
    assert leased == {task.pk for task in tasks}


def test_the_query_is_the_one_of_the_best_ranked_open_task():
    dataset = search_dataset(random_fraction=0)
    best = Task.objects.filter(dataset=dataset, query__external_id="q3").order_by("pk").first()
    Task.objects.filter(pk=best.pk).update(priority=5)
    tasks = query_lease_next(dataset=dataset, user=member(dataset, "judge"))
    assert queries_of(tasks) == {best.query_id}


def test_the_held_query_comes_back_until_it_is_answered():
    dataset = search_dataset()
    judge = member(dataset, "judge")
    first = query_lease_next(dataset=dataset, user=judge)
    assert query_lease_next(dataset=dataset, user=judge) == first


def test_a_single_task_held_brings_its_query_into_the_list():
    dataset = search_dataset()
    judge = member(dataset, "judge")
    held = task_lease_next(dataset=dataset, user=judge)
    tasks = query_lease_next(dataset=dataset, user=judge)
    assert held in tasks and queries_of(tasks) == {held.query_id} and len(tasks) == 10


def test_two_judges_never_share_a_task_when_one_answer_is_needed():
    dataset = search_dataset()
    first = query_lease_next(dataset=dataset, user=member(dataset, "a"))
    second = query_lease_next(dataset=dataset, user=member(dataset, "b"))
    assert len(second) == 10 and not set(first) & set(second)


def test_others_single_leases_are_respected_within_the_query():
    dataset = search_dataset(random_fraction=0)
    query_tasks = list(Task.objects.filter(dataset=dataset, query__external_id="q1"))
    Task.objects.filter(pk__in=[task.pk for task in query_tasks]).update(priority=5)
    taken = task_lease_next(dataset=dataset, user=member(dataset, "single"))
    tasks = query_lease_next(dataset=dataset, user=member(dataset, "lister"))
    assert queries_of(tasks) == {taken.query_id} and len(tasks) == 9 and taken not in tasks


def test_with_an_overlap_of_two_two_judges_share_a_query_and_a_third_gets_another():
    dataset = search_dataset(overlap=2)
    first = query_lease_next(dataset=dataset, user=member(dataset, "a"))
    second = query_lease_next(dataset=dataset, user=member(dataset, "b"))
    third = query_lease_next(dataset=dataset, user=member(dataset, "c"))
    assert first == second
    assert len(third) == 10 and not set(third) & set(first)


def test_expired_leases_return_the_query_to_the_queue():
    dataset = search_dataset(queries=1)
    first = query_lease_next(dataset=dataset, user=member(dataset, "a"))
    other = member(dataset, "b")
    assert query_lease_next(dataset=dataset, user=other) == []
    with time_machine.travel(timezone.now() + timedelta(minutes=dataset.lease_minutes, seconds=1)):
        assert query_lease_next(dataset=dataset, user=other) == first


def test_answered_products_are_not_leased_again_and_a_judged_query_is_done():
    dataset = search_dataset(queries=1)
    judge = member(dataset, "judge")
    exact = dataset.labels.get(code="E")
    tasks = query_lease_next(dataset=dataset, user=judge)
    for task in tasks[:4]:
        annotation_submit(task=task, user=judge, label=exact)
    assert query_lease_next(dataset=dataset, user=judge) == tasks[4:]
    for task in tasks[4:]:
        annotation_submit(task=task, user=judge, label=exact)
    assert query_lease_next(dataset=dataset, user=judge) == []


def test_a_gold_product_of_the_query_comes_along_though_complete():
    dataset = search_dataset(queries=1, overlap=1)
    gold = Task.objects.filter(dataset=dataset).order_by("pk").first()
    Task.objects.filter(pk=gold.pk).update(
        is_gold=True, gold_label=dataset.labels.get(code="E"), annotation_count=1, is_complete=True
    )
    tasks = query_lease_next(dataset=dataset, user=member(dataset, "judge"))
    assert gold in tasks and len(tasks) == 10


def test_a_dataset_without_queries_has_no_list():
    dataset = TaskFactory().dataset
    with pytest.raises(ApplicationError, match="Only a search relevance dataset"):
        query_lease_next(dataset=dataset, user=member(dataset, "judge"))
