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
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from functools import partial
from itertools import repeat
from operator import methodcaller

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Count, Exists, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from config.errors import ApplicationError
from datasets.models import Dataset
from labeling.models import Annotation, Lease, Task

CLAIM_ATTEMPTS = 5


def random_key(*, seed: int, external_id: str) -> int:
    """A stable pseudo-random rank: the same seed and id give the same place in the order everywhere."""
    digest = hashlib.blake2b(f"{seed}:{external_id}".encode(), digest_size=7).digest()
    return int.from_bytes(digest, "big")


def random_keys(*, seed: int, external_ids: Iterable[str]) -> Iterator[int]:
    """random_key of each id, by C iterators alone: an import stages a million of them."""
    prefixed = map(f"{seed}:".__add__, external_ids)
    digests = map(methodcaller("digest"), map(partial(hashlib.blake2b, digest_size=7), map(str.encode, prefixed)))
    return map(int.from_bytes, digests, repeat("big"))


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


def _with_free_slots(
    tasks: list[Task], *, dataset: Dataset, user: AbstractBaseUser, now: datetime
) -> list[Task]:
    """Re-read, in a statement that starts after the row locks were taken, what the claim query saw: the tasks
    the user may still take, in their order."""
    if not tasks:
        return []
    seen = dict(
        Task.objects.filter(pk__in=[task.pk for task in tasks])
        .annotate(leased=_others_leases(user=user, now=now), answered=_answered(user=user))
        .values_list("pk", "leased")
        .filter(answered=False)
    )
    return [
        task
        for task in tasks
        if task.pk in seen
        and (task.is_gold or (not task.is_complete and task.annotation_count + seen[task.pk] < dataset.overlap))
    ]


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
        if _with_free_slots([task], dataset=dataset, user=user, now=now):
            return task
        rejected.append(task.pk)
    return None


def _held(*, dataset: Dataset, user: AbstractBaseUser, now: datetime) -> Task | None:
    """The task of the user's newest live lease: what they were working on."""
    held = (
        Lease.objects.filter(dataset=dataset, user=user, expires_at__gt=now)
        .select_related("task__product")
        .order_by("-created_at", "-id")
        .first()
    )
    return held.task if held is not None else None


def _pick(*, dataset: Dataset, user: AbstractBaseUser, now: datetime) -> Task | None:
    """Claim the task the queue's order gives this user now: gold at its rate (or while warming up), a random
    share at random, the others by priority; inside the caller's transaction, not yet leased."""
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
    return task


def task_lease_next(*, dataset: Dataset, user: AbstractBaseUser) -> Task | None:
    """Return the task this user should work on now, leased to them; None when nothing is left."""
    now = timezone.now()
    with transaction.atomic():
        held = _held(dataset=dataset, user=user, now=now)
        if held is not None:
            return held
        task = _pick(dataset=dataset, user=user, now=now)
        if task is None:
            return None
        lease_grant(dataset=dataset, task=task, user=user, now=now)
        return task


def query_lease_next(*, dataset: Dataset, user: AbstractBaseUser) -> list[Task]:
    """Lease to this user every task of one query they may still judge, in the queue's seeded order; [] when
    nothing is left. The query is the one they hold a lease in, else the one of the task the queue would give
    them next (`task_lease_next`'s order, gold rate included). Each task is claimed as the queue claims one:
    others' leases and the overlap are respected, gold items of the query come along."""
    now = timezone.now()
    with transaction.atomic():
        first = _held(dataset=dataset, user=user, now=now) or _pick(dataset=dataset, user=user, now=now)
        if first is None:
            return []
        if first.query_id is None:
            raise ApplicationError("Only a search relevance dataset has queries to judge in a list.")
        # Narrowed before the slots are counted, so the subqueries read one query's tasks (task_query index).
        query = {"query_id": first.query_id}
        open_tasks = _open_tasks(dataset=dataset, user=user, now=now).filter(**query).values("pk")
        gold = _gold_tasks(dataset=dataset, user=user).filter(**query).values("pk")
        candidates = list(
            Task.objects.filter(Q(pk__in=open_tasks) | Q(pk__in=gold))
            .select_for_update(skip_locked=True, no_key=True, of=("self",))
            .select_related("product", "query")
            .order_by("random_key", "pk")
        )
        tasks = _with_free_slots(candidates, dataset=dataset, user=user, now=now)
        leases_grant(dataset=dataset, tasks=tasks, user=user, now=now)
        return tasks


def lease_grant(*, dataset: Dataset, task: Task, user: AbstractBaseUser, now: datetime) -> None:
    """Create or renew the user's lease on a task, in one statement."""
    leases_grant(dataset=dataset, tasks=[task], user=user, now=now)


def leases_grant(*, dataset: Dataset, tasks: list[Task], user: AbstractBaseUser, now: datetime) -> None:
    """Create or renew the user's leases on tasks, in one statement."""
    expires_at = now + timedelta(minutes=dataset.lease_minutes)
    Lease.objects.bulk_create(
        [Lease(dataset=dataset, task=task, user=user, expires_at=expires_at) for task in tasks],
        update_conflicts=True,
        unique_fields=["task", "user"],
        update_fields=["expires_at", "created_at"],
    )
