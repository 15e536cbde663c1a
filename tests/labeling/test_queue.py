import hashlib
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from datasets.models import Role
from labeling.models import Task
from labeling.queue import random_key, random_keys, task_lease_next
from labeling.services import annotation_skip, annotation_submit
from tests.factories import LabelFactory, TaskFactory, member

pytestmark = pytest.mark.django_db


def test_random_key_is_stable_and_seeded():
    assert random_key(seed=1, external_id="A") == random_key(seed=1, external_id="A")
    assert random_key(seed=1, external_id="A") != random_key(seed=2, external_id="A")


def test_the_keys_an_import_stages_at_once_are_each_ids_random_key():
    ids = ["A", "SKU-001", "é中", "", "12 3"]
    assert list(random_keys(seed=7, external_ids=iter(ids))) == [random_key(seed=7, external_id=i) for i in ids]
    # Both are the stored orders' definition: 7 bytes of a blake2b of "seed:id" (existing tasks keep their keys).
    expected = [int.from_bytes(hashlib.blake2b(f"7:{i}".encode(), digest_size=7).digest(), "big") for i in ids]
    assert list(random_keys(seed=7, external_ids=ids)) == expected


def test_cold_start_serves_tasks_in_seeded_random_order(catalog):
    user = member(catalog, "ann")
    expected = list(Task.objects.filter(dataset=catalog).order_by("random_key").values_list("pk", flat=True))
    label = catalog.labels.first()
    served = []
    while task := task_lease_next(dataset=catalog, user=user):
        served.append(task.pk)
        annotation_submit(task=task, user=user, label=label)
    assert served == expected


def test_the_same_task_is_returned_while_the_lease_is_held(catalog):
    user = member(catalog, "ann")
    assert task_lease_next(dataset=catalog, user=user) == task_lease_next(dataset=catalog, user=user)


def test_a_leased_task_is_not_given_to_a_second_annotator_when_overlap_is_one(catalog):
    first = task_lease_next(dataset=catalog, user=member(catalog, "a"))
    second = task_lease_next(dataset=catalog, user=member(catalog, "b"))
    assert first != second


def test_overlap_two_gives_a_task_to_two_annotators_and_no_third(catalog):
    catalog.overlap = 2
    catalog.save()
    Task.objects.filter(dataset=catalog).exclude(pk=Task.objects.filter(dataset=catalog).first().pk).delete()
    a, b, c = (member(catalog, name) for name in "abc")
    assert task_lease_next(dataset=catalog, user=a) == task_lease_next(dataset=catalog, user=b)
    assert task_lease_next(dataset=catalog, user=c) is None


def test_an_expired_lease_returns_the_task_to_the_queue(catalog):
    Task.objects.filter(dataset=catalog).exclude(pk=Task.objects.filter(dataset=catalog).first().pk).delete()
    a, b = member(catalog, "a"), member(catalog, "b")
    task = task_lease_next(dataset=catalog, user=a)
    assert task_lease_next(dataset=catalog, user=b) is None
    with time_machine.travel(timezone.now() + timedelta(minutes=catalog.lease_minutes, seconds=1)):
        assert task_lease_next(dataset=catalog, user=b) == task


def test_an_abandoned_lease_frees_its_slot_when_the_tasks_newest_lease_expires(catalog):
    catalog.overlap = 2
    catalog.save()
    Task.objects.filter(dataset=catalog).exclude(pk=Task.objects.filter(dataset=catalog).first().pk).delete()
    a, b, c, d = (member(catalog, name) for name in "abcd")
    start = timezone.now()
    task = task_lease_next(dataset=catalog, user=a)
    with time_machine.travel(start + timedelta(minutes=1)):
        assert task_lease_next(dataset=catalog, user=b) == task
        annotation_skip(task=task, user=b)  # given back: one live lease (a's) on the row
        assert task_lease_next(dataset=catalog, user=c) == task
    # a's lease expired but c's still runs: the row counts both until c's expires (it never counts fewer).
    with time_machine.travel(start + timedelta(minutes=catalog.lease_minutes, seconds=1)):
        assert task_lease_next(dataset=catalog, user=d) is None
    with time_machine.travel(start + timedelta(minutes=catalog.lease_minutes + 1, seconds=1)):
        assert task_lease_next(dataset=catalog, user=d) == task


def test_a_skipped_task_never_comes_back_to_the_same_user(catalog):
    user = member(catalog, "ann")
    skipped = task_lease_next(dataset=catalog, user=user)
    annotation_skip(task=skipped, user=user)
    served = set()
    while task := task_lease_next(dataset=catalog, user=user):
        served.add(task.pk)
        annotation_skip(task=task, user=user)
    assert skipped.pk not in served
    assert len(served) == 4


def test_a_skipped_task_stays_open_for_others(catalog):
    a, b = member(catalog, "a"), member(catalog, "b")
    skipped = task_lease_next(dataset=catalog, user=a)
    annotation_skip(task=skipped, user=a)
    served = []
    while task := task_lease_next(dataset=catalog, user=b):
        served.append(task.pk)
        annotation_skip(task=task, user=b)
    assert skipped.pk in served


def test_higher_priority_is_served_first(catalog):
    urgent = Task.objects.filter(dataset=catalog).order_by("-random_key").first()
    urgent.priority = 5
    urgent.save()
    assert task_lease_next(dataset=catalog, user=member(catalog, "ann")) == urgent


def test_gold_tasks_are_mixed_in_at_the_configured_rate(catalog):
    catalog.gold_fraction = 1.0
    catalog.save()
    gold = TaskFactory(dataset=catalog, is_gold=True, gold_label=LabelFactory(dataset=catalog))
    assert task_lease_next(dataset=catalog, user=member(catalog, "ann", Role.ANNOTATOR)) == gold


def test_an_empty_queue_returns_none(db):
    from tests.factories import DatasetFactory

    dataset = DatasetFactory()
    assert task_lease_next(dataset=dataset, user=member(dataset, "ann")) is None
