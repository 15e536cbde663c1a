"""The one-statement claim (PostgreSQL) picks what the queue's candidate querysets pick, in every order and state:
the rule is written twice (the ORM's for SQLite and the list mode, SQL for the hot path), so both are held to it."""

from datetime import timedelta

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone

from labeling.queue import GOLD, PRIORITY, RANDOM, _candidates, _claim_one_statement, task_lease_next
from labeling.services import annotation_skip, annotation_submit
from tests.factories import DatasetFactory, LabelFactory, TaskFactory, member

pytestmark = pytest.mark.postgres


class _Rollback(Exception):
    pass


def _picks(dataset, users, now) -> list[tuple]:
    """(order, user, the queryset's first task, the statement's task) for each order and user, claims rolled back."""
    found = []
    for order in (GOLD, RANDOM, PRIORITY):
        for user in users:
            expected = _candidates(order, dataset=dataset, user=user, now=now).values_list("pk", flat=True).first()
            try:
                with transaction.atomic():
                    claimed = _claim_one_statement(order, dataset=dataset, user=user, now=now)
                    raise _Rollback
            except _Rollback:
                pass
            found.append((order, user.username, expected, claimed.pk if claimed else None))
    return found


def _agree(dataset, users, now) -> None:
    for order, name, expected, claimed in _picks(dataset, users, now):
        assert claimed == expected, f"{order} for {name}: the statement took {claimed}, the queryset {expected}"


def test_the_statement_and_the_querysets_pick_the_same_task_in_every_state(postgres):
    dataset = DatasetFactory(overlap=2, lease_minutes=10)
    label = LabelFactory(dataset=dataset)
    tasks = TaskFactory.create_batch(12, dataset=dataset)
    for n, task in enumerate(tasks):
        task.priority = (n * 7) % 5 / 4
        task.is_gold, task.gold_label = (n % 4 == 0), (label if n % 4 == 0 else None)
        task.save()
    ann, ben, cay = (member(dataset, name) for name in ("ann", "ben", "cay"))
    fresh = member(dataset, "fresh")  # holds nothing, answered nothing
    users = [ann, ben, cay, fresh]
    start = timezone.now()
    _agree(dataset, users, start)

    # Answers and skips: answered tasks drop out for their user, full tasks for everyone.
    for _ in range(3):
        annotation_submit(task=task_lease_next(dataset=dataset, user=ann), user=ann, label=label)
    annotation_skip(task=task_lease_next(dataset=dataset, user=ben), user=ben)
    annotation_submit(task=task_lease_next(dataset=dataset, user=ben), user=ben, label=label)
    _agree(dataset, [cay, fresh], timezone.now())

    # Live leases take slots: ann and ben hold one each now (the statement returns a held task for its holder,
    # the querysets do not, so only users without one are compared).
    task_lease_next(dataset=dataset, user=ann)
    task_lease_next(dataset=dataset, user=ben)
    _agree(dataset, [cay, fresh], timezone.now())
    dataset.overlap = 1  # one live lease now fills a task
    dataset.save()
    _agree(dataset, [cay, fresh], timezone.now())

    # Leases expired: their slots are free again, for both rules alike.
    later = start + timedelta(minutes=dataset.lease_minutes + 1)
    with time_machine.travel(later):
        _agree(dataset, users, timezone.now())
