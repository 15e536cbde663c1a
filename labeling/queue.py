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


def _open_tasks(*, dataset: Dataset, user: AbstractBaseUser, now: datetime) -> QuerySet[Task]:
    """Tasks this user has not answered that still have a free slot (overlap minus answers and others' leases)."""
    others_leases = (
        Lease.objects.filter(task=OuterRef("pk"), expires_at__gt=now)
        .exclude(user=user)
        .values("task")
        .annotate(n=Count("*"))
        .values("n")
    )
    return (
        Task.objects.filter(dataset=dataset, is_complete=False)
        .exclude(Exists(Annotation.objects.filter(task=OuterRef("pk"), user=user)))
        .annotate(leased=Coalesce(Subquery(others_leases, output_field=IntegerField()), Value(0)))
        .filter(leased__lt=dataset.overlap - F("annotation_count"))
    )


def _gold_tasks(*, dataset: Dataset, user: AbstractBaseUser) -> QuerySet[Task]:
    # Gold items measure every annotator, so overlap does not limit them.
    return Task.objects.filter(dataset=dataset, is_gold=True).exclude(
        Exists(Annotation.objects.filter(task=OuterRef("pk"), user=user))
    )


def _has_free_slot(*, task: Task, user: AbstractBaseUser, now: datetime) -> bool:
    if task.is_gold:
        return not Annotation.objects.filter(task=task, user=user).exists()
    if task.is_complete or Annotation.objects.filter(task=task, user=user).exists():
        return False
    leased = Lease.objects.filter(task=task, expires_at__gt=now).exclude(user=user).count()
    return task.annotation_count + leased < task.dataset.overlap


def _claim(candidates: QuerySet[Task], *, user: AbstractBaseUser, now: datetime) -> Task | None:
    rejected: list[int] = []
    for _ in range(CLAIM_ATTEMPTS):
        task = (
            candidates.exclude(pk__in=rejected)
            .select_for_update(skip_locked=True, of=("self",))
            .select_related("dataset")
            .first()
        )
        if task is None:
            return None
        if _has_free_slot(task=task, user=user, now=now):
            return task
        rejected.append(task.pk)
    return None


def _draw(*, dataset: Dataset, user: AbstractBaseUser) -> float:
    # Seeded by the user's progress, so a simulation replays the same mix of gold, random and priority.
    answered = Annotation.objects.filter(dataset=dataset, user=user).count()
    return random.Random(f"{dataset.seed}:{user.pk}:{answered}").random()


def task_lease_next(*, dataset: Dataset, user: AbstractBaseUser) -> Task | None:
    """Return the task this user should work on now, leased to them; None when nothing is left."""
    now = timezone.now()
    expires_at = now + timedelta(minutes=dataset.lease_minutes)
    with transaction.atomic():
        held = (
            Lease.objects.filter(dataset=dataset, user=user, expires_at__gt=now)
            .select_related("task__product")
            .order_by("-created_at", "-id")
            .first()
        )
        if held is not None:
            return held.task

        draw = _draw(dataset=dataset, user=user)
        task = None
        if draw < dataset.gold_fraction:
            task = _claim(_gold_tasks(dataset=dataset, user=user).order_by("random_key"), user=user, now=now)
        if task is None:
            open_tasks = _open_tasks(dataset=dataset, user=user, now=now)
            random_share = dataset.gold_fraction <= draw < dataset.gold_fraction + dataset.random_fraction
            order = ("random_key",) if random_share else ("-priority", "random_key")
            task = _claim(open_tasks.order_by(*order), user=user, now=now)
        if task is None:
            return None
        Lease.objects.update_or_create(
            task=task, user=user, defaults={"dataset": dataset, "expires_at": expires_at, "created_at": now}
        )
        return Task.objects.select_related("product").get(pk=task.pk)

