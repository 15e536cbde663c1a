"""Next-task logic: which task an annotator gets, and the lease that reserves it.

Safe under concurrent annotators: candidates are locked with SELECT ... FOR UPDATE SKIP LOCKED on
PostgreSQL, then re-checked in a fresh statement, because the lock is taken on the task row while the
slots it counts live in the lease table (a snapshot taken before another lease committed would be
stale). Every leaser locks the task row first, so the re-check sees every competing lease. On
SQLite the transaction takes the write lock up front (transaction_mode IMMEDIATE), which serializes
leasing and gives the same guarantees.
"""

import hashlib
import random
from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Count, Exists, F, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from datasets.models import Dataset
from labeling.models import Annotation, Lease, Task

CLAIM_ATTEMPTS = 5


def random_key(*, seed: int, external_id: str) -> int:
    """A stable pseudo-random rank: the same seed and id give the same place in the order everywhere."""
    digest = hashlib.blake2b(f"{seed}:{external_id}".encode(), digest_size=7).digest()
    return int.from_bytes(digest, "big")


def _others_leases(*, user: AbstractBaseUser, now: datetime) -> Subquery:
    """Live leases held by other users on the outer task."""
    leases = (
        Lease.objects.filter(task=OuterRef("pk"), expires_at__gt=now)
        .exclude(user=user)
        .values("task")
        .annotate(n=Count("*"))
        .values("n")
    )
    return Coalesce(Subquery(leases, output_field=IntegerField()), Value(0))


def _answered(*, user: AbstractBaseUser) -> Exists:
    return Exists(Annotation.objects.filter(task=OuterRef("pk"), user=user))


def _open_tasks(*, dataset: Dataset, user: AbstractBaseUser, now: datetime) -> QuerySet[Task]:
    """Tasks this user has not answered that still have a free slot (overlap minus answers and others' leases)."""
    return (
        Task.objects.filter(dataset=dataset, is_complete=False)
        .exclude(_answered(user=user))
        .annotate(leased=_others_leases(user=user, now=now))
        .filter(leased__lt=dataset.overlap - F("annotation_count"))
    )


def _gold_tasks(*, dataset: Dataset, user: AbstractBaseUser) -> QuerySet[Task]:
    # Gold items measure every annotator, so overlap does not limit them.
    return Task.objects.filter(dataset=dataset, is_gold=True).exclude(_answered(user=user))


def _warming_up(*, dataset: Dataset, user: AbstractBaseUser) -> bool:
    """Whether the user is still among their first `gold_warmup` answers, which go to gold items first.

    A bounded count (LIMIT warmup) on the (dataset, user) index: cheap for people with thousands of answers.
    """
    if not dataset.gold_warmup:
        return False
    return Annotation.objects.filter(dataset=dataset, user=user)[: dataset.gold_warmup].count() < dataset.gold_warmup


def _has_free_slot(*, task: Task, dataset: Dataset, user: AbstractBaseUser, now: datetime) -> bool:
    """Re-read, in a statement that starts after the row lock was taken, what the claim query saw."""
    leased, answered = (
        Task.objects.filter(pk=task.pk)
        .annotate(leased=_others_leases(user=user, now=now), answered=_answered(user=user))
        .values_list("leased", "answered")
        .get()
    )
    if answered:
        return False
    return task.is_gold or (not task.is_complete and task.annotation_count + leased < dataset.overlap)


def _claim(
    candidates: QuerySet[Task], *, dataset: Dataset, user: AbstractBaseUser, now: datetime
) -> Task | None:
    rejected: list[int] = []
    for _ in range(CLAIM_ATTEMPTS):
        task = (
            candidates.exclude(pk__in=rejected)
            .select_for_update(skip_locked=True, no_key=True, of=("self",))
            .select_related("product")
            .first()
        )
        if task is None:
            return None
        if _has_free_slot(task=task, dataset=dataset, user=user, now=now):
            return task
        rejected.append(task.pk)
    return None


def task_lease_next(*, dataset: Dataset, user: AbstractBaseUser) -> Task | None:
    """Return the task this user should work on now, leased to them; None when nothing is left."""
    now = timezone.now()
    with transaction.atomic():
        held = (
            Lease.objects.filter(dataset=dataset, user=user, expires_at__gt=now)
            .select_related("task__product")
            .order_by("-created_at", "-id")
            .first()
        )
        if held is not None:
            return held.task

        draw = random.random()
        task = None
        if draw < dataset.gold_fraction or _warming_up(dataset=dataset, user=user):
            gold = _gold_tasks(dataset=dataset, user=user).order_by("random_key")
            task = _claim(gold, dataset=dataset, user=user, now=now)
        if task is None:
            random_share = dataset.gold_fraction <= draw < dataset.gold_fraction + dataset.random_fraction
            order = ("random_key",) if random_share else ("-priority", "random_key")
            open_tasks = _open_tasks(dataset=dataset, user=user, now=now).order_by(*order)
            task = _claim(open_tasks, dataset=dataset, user=user, now=now)
        if task is None:
            return None
        lease_grant(dataset=dataset, task=task, user=user, now=now)
        return task


def lease_grant(*, dataset: Dataset, task: Task, user: AbstractBaseUser, now: datetime) -> None:
    """Create or renew the user's lease on a task, in one statement."""
    Lease.objects.bulk_create(
        [Lease(dataset=dataset, task=task, user=user, expires_at=now + timedelta(minutes=dataset.lease_minutes))],
        update_conflicts=True,
        unique_fields=["task", "user"],
        update_fields=["expires_at", "created_at"],
    )
