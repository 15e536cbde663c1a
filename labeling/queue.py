"""Next-task logic: which task an annotator gets, and the lease that reserves it.

Safe under concurrent annotators with one row lock per claim. A task's live leases are counted on its own row
(`Task.lease_count`, `lease_until`), so the claim's check of the free slots reads the row it locks: on
PostgreSQL the claim is SELECT ... FOR NO KEY UPDATE SKIP LOCKED, and a row that another claim changed after
this statement's snapshot is checked again on its newest version before it is locked (READ COMMITTED's
re-check), where a count in the lease table would be read from the old snapshot. The claim, the lease and the
task's product are one statement. On SQLite the transaction takes the write lock up front (transaction_mode
IMMEDIATE), which serializes leasing and gives the same guarantees in a few statements.
"""

import hashlib
import random
import threading
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime, timedelta
from functools import partial
from itertools import repeat
from operator import methodcaller

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.db.models import Case, Exists, F, OuterRef, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from config.errors import ApplicationError
from config.sql_rows import columns, instances, one_row
from datasets.models import Dataset, Product, Query
from labeling.models import Annotation, Lease, Task

CLAIM_ATTEMPTS = 5
WARM_KEYS_KEPT = 100_000


def random_key(*, seed: int, external_id: str) -> int:
    """A stable pseudo-random rank: the same seed and id give the same place in the order everywhere."""
    return next(random_keys(seed=seed, external_ids=[external_id]))


def random_keys(*, seed: int, external_ids: Iterable[str]) -> Iterator[int]:
    """random_key of each id (7 bytes of a blake2b of seed and id), by C iterators alone: an import stages a
    million of them."""
    prefixed = map(f"{seed}:".__add__, external_ids)
    digests = map(methodcaller("digest"), map(partial(hashlib.blake2b, digest_size=7), map(str.encode, prefixed)))
    return map(int.from_bytes, digests, repeat("big"))


def _leased(now: datetime) -> Case:
    """The task's slots taken by live leases, as its row counts them (its own user's lease included)."""
    return Case(When(lease_until__gt=now, then=F("lease_count")), default=Value(0))


def _answered(*, user: AbstractBaseUser) -> Exists:
    return Exists(Annotation.objects.filter(task=OuterRef("pk"), user=user))


def _held_leases(*, dataset: Dataset, user: AbstractBaseUser, now: datetime) -> QuerySet[Lease]:
    return Lease.objects.filter(dataset=dataset, user=user, expires_at__gt=now)


def _open_tasks(*, dataset: Dataset, user: AbstractBaseUser, now: datetime) -> QuerySet[Task]:
    """Tasks this user has not answered that still have a free slot (overlap minus answers and live leases)."""
    return (
        Task.objects.filter(dataset=dataset, is_complete=False)
        .exclude(_answered(user=user))
        .alias(leased=_leased(now))
        .filter(leased__lt=dataset.overlap - F("annotation_count"))
    )


def _gold_tasks(*, dataset: Dataset, user: AbstractBaseUser) -> QuerySet[Task]:
    # Gold items measure every annotator, so overlap does not limit them.
    return Task.objects.filter(dataset=dataset, is_gold=True).exclude(_answered(user=user))


# (dataset, its creation, user, their joining, warm-up length) of users past their warm-up in this process: a
# user's answers only grow (an undo aside), so once past they stay past, and their next task needs no count.
_warm: set[tuple] = set()
_warm_lock = threading.Lock()


def _warming_up(*, dataset: Dataset, user: AbstractBaseUser) -> bool:
    """Whether the user is still among their first `gold_warmup` answers, which go to gold items first.

    A bounded count (LIMIT warmup) on the (dataset, user) index, until it first says no.
    """
    if not dataset.gold_warmup:
        return False
    key = (dataset.pk, dataset.created_at, user.pk, getattr(user, "date_joined", None), dataset.gold_warmup)
    if key in _warm:
        return False
    answers = Annotation.objects.filter(dataset=dataset, user=user)[: dataset.gold_warmup].count()
    if answers < dataset.gold_warmup:
        return True
    with _warm_lock:
        if len(_warm) >= WARM_KEYS_KEPT:
            _warm.clear()
        _warm.add(key)
    return False


def _with_free_slots(
    tasks: list[Task], *, dataset: Dataset, user: AbstractBaseUser, now: datetime
) -> list[Task]:
    """Of tasks locked by a claim, those the user may still take, in their order: read again, in a statement that
    starts after the row locks were taken."""
    if not tasks:
        return []
    seen = dict(
        Task.objects.filter(pk__in=[task.pk for task in tasks])
        .annotate(answered=_answered(user=user), leased=_leased(now))
        .filter(answered=False)
        .values_list("pk", "leased")
    )
    return [
        task
        for task in tasks
        if task.pk in seen
        and (task.is_gold or (not task.is_complete and task.annotation_count + seen[task.pk] < dataset.overlap))
    ]


def _held(*, dataset: Dataset, user: AbstractBaseUser, now: datetime) -> Task | None:
    """The task of the user's newest live lease: what they were working on."""
    held = (
        _held_leases(dataset=dataset, user=user, now=now)
        .select_related("task__product", "task__other_product", "task__query")
        .order_by("-created_at", "-id")
        .first()
    )
    return held.task if held is not None else None


# The queue's three orders, each read from its partial index: gold items (task_queue_gold), the random share
# (task_queue_random) and the rest by priority (task_queue_priority).
GOLD, RANDOM, PRIORITY = "gold", "random", "priority"


def _candidates(order: str, *, dataset: Dataset, user: AbstractBaseUser, now: datetime) -> QuerySet[Task]:
    """The tasks the user may take, in the order's sequence: the rule `_CANDIDATES_SQL` writes out by hand."""
    if order == GOLD:
        return _gold_tasks(dataset=dataset, user=user).order_by("random_key")
    open_tasks = _open_tasks(dataset=dataset, user=user, now=now)
    return open_tasks.order_by("random_key") if order == RANDOM else open_tasks.order_by("-priority", "random_key")


# `_candidates` in SQL, for the one-statement claim: compiling the queryset took a millisecond per next, ten times
# the claim's own time. A test checks that both pick the same tasks.
_CANDIDATES_SQL = {
    GOLD: """
    SELECT t.id FROM labeling_task t
    WHERE t.dataset_id = %(dataset)s AND t.is_gold
      AND NOT EXISTS (SELECT 1 FROM labeling_annotation a WHERE a.task_id = t.id AND a.user_id = %(user)s)
      AND NOT EXISTS (SELECT 1 FROM held)
    ORDER BY t.random_key
    LIMIT 1
    FOR NO KEY UPDATE OF t SKIP LOCKED""",
    **{
        order: f"""
    SELECT t.id FROM labeling_task t
    WHERE t.dataset_id = %(dataset)s AND NOT t.is_complete
      AND CASE WHEN t.lease_until > %(now)s THEN t.lease_count ELSE 0 END < %(overlap)s - t.annotation_count
      AND NOT EXISTS (SELECT 1 FROM labeling_annotation a WHERE a.task_id = t.id AND a.user_id = %(user)s)
      AND NOT EXISTS (SELECT 1 FROM held)
    ORDER BY {sequence}
    LIMIT 1
    FOR NO KEY UPDATE OF t SKIP LOCKED"""  # noqa: S608 - only the order's columns are interpolated
        for order, sequence in ((RANDOM, "t.random_key"), (PRIORITY, "t.priority DESC, t.random_key"))
    },
}

# The user's live lease, else one claim of the candidates (locked FOR NO KEY UPDATE SKIP LOCKED): its row counts
# the new lease, the lease is written, and the task comes back with its products (a pair's two), its query (a
# relevance task's) and the ids of its dataset's first `labels` labels (a span dataset's types), in one statement.
# The claim's condition is checked again on a row changed since the snapshot, so a full task is never taken.
_CLAIM_SQL = """
WITH held AS (
    SELECT task_id AS id FROM labeling_lease
    WHERE dataset_id = %(dataset)s AND user_id = %(user)s AND expires_at > %(now)s
    ORDER BY created_at DESC, id DESC
    LIMIT 1
), picked AS ({candidates}
), slot AS (
    UPDATE labeling_task
    SET lease_count = CASE WHEN lease_until > %(now)s THEN lease_count + 1 ELSE 1 END,
        lease_until = GREATEST(COALESCE(lease_until, %(expires)s), %(expires)s)
    WHERE id IN (SELECT id FROM picked)
    RETURNING id
), lease AS (
    INSERT INTO labeling_lease (dataset_id, task_id, user_id, expires_at, created_at)
    SELECT %(dataset)s, id, %(user)s, %(expires)s, %(now)s FROM slot
    ON CONFLICT (task_id, user_id) DO UPDATE SET expires_at = EXCLUDED.expires_at, created_at = EXCLUDED.created_at
)
SELECT {task_columns}, {product_columns}, {other_columns}, {query_columns},
       ARRAY(SELECT l.id FROM datasets_label l WHERE l.dataset_id = t.dataset_id ORDER BY l.id LIMIT %(labels)s)
FROM labeling_task t
JOIN datasets_product p ON p.id = t.product_id
LEFT JOIN datasets_product o ON o.id = t.other_product_id
LEFT JOIN datasets_query q ON q.id = t.query_id
WHERE t.id IN (SELECT id FROM held UNION ALL SELECT id FROM picked)
"""
_CLAIMS_SQL = {
    order: _CLAIM_SQL.format(
        candidates=candidates,
        task_columns=columns(Task, "t"),
        product_columns=columns(Product, "p"),
        other_columns=columns(Product, "o"),
        query_columns=columns(Query, "q"),
    )
    for order, candidates in _CANDIDATES_SQL.items()
}


def _labels_with_task(dataset: Dataset) -> int:
    from labeling.kinds import kind_get  # the kinds import the selectors, which import the queue

    return kind_get(dataset.task_type).labels_with_task


def _claim_one_statement(order: str, *, dataset: Dataset, user: AbstractBaseUser, now: datetime) -> Task | None:
    labels = _labels_with_task(dataset)
    params = {
        "dataset": dataset.pk,
        "user": user.pk,
        "now": now,
        "expires": now + timedelta(minutes=dataset.lease_minutes),
        "overlap": dataset.overlap,
        "labels": labels,
    }
    row = one_row(_CLAIMS_SQL[order], params)
    if row is None:
        return None
    (task, task.product, other, query), (label_ids,) = instances(row, Task, Product, Product, Query)
    task.other_product = other if task.other_product_id is not None else None
    task.query = query if task.query_id is not None else None
    if labels:
        task.dataset_label_ids = label_ids
    return task


def _claim_in_steps(order: str, *, dataset: Dataset, user: AbstractBaseUser, now: datetime) -> Task | None:
    """What the one statement does, where the transaction already holds the database's only write lock."""
    held = _held(dataset=dataset, user=user, now=now)
    if held is not None:
        return held
    candidates = _candidates(order, dataset=dataset, user=user, now=now)
    task = candidates.select_related("product", "other_product", "query").first()
    if task is not None:
        leases_grant(dataset=dataset, tasks=[task], user=user, now=now)
    return task


def _claim(order: str, *, dataset: Dataset, user: AbstractBaseUser, now: datetime) -> Task | None:
    """The user's held task, else the first candidate of `order` they may take, leased to them."""
    claim = _claim_one_statement if connection.features.has_select_for_update_skip_locked else _claim_in_steps
    return claim(order, dataset=dataset, user=user, now=now)


def _next_leased(*, dataset: Dataset, user: AbstractBaseUser, now: datetime) -> Task | None:
    """The user's held task, else the task the queue's order gives them now, leased: gold at its rate (or while
    warming up), a random share at random, the others by priority. Inside the caller's transaction."""
    draw = random.random()
    if draw < dataset.gold_fraction or _warming_up(dataset=dataset, user=user):
        task = _claim(GOLD, dataset=dataset, user=user, now=now)
        if task is not None:
            return task
    random_share = dataset.gold_fraction <= draw < dataset.gold_fraction + dataset.random_fraction
    return _claim(RANDOM if random_share else PRIORITY, dataset=dataset, user=user, now=now)


def _claims_transaction() -> AbstractContextManager:
    """Where a claim is one statement (PostgreSQL), each claim is a transaction of its own: a gold claim that
    finds nothing wrote nothing, so the next claim needs no shared transaction, and the request is spared the
    round trips of BEGIN and COMMIT. The steps of the other backends share one."""
    if not connection.features.has_select_for_update_skip_locked:
        return transaction.atomic()
    return nullcontext()


def task_lease_next(*, dataset: Dataset, user: AbstractBaseUser) -> Task | None:
    """Return the task this user should work on now, leased to them; None when nothing is left."""
    with _claims_transaction():
        task = _next_leased(dataset=dataset, user=user, now=timezone.now())
    if task is not None:
        task.dataset = dataset  # the caller's, with the user's role: not read again
    return task


def query_lease_next(*, dataset: Dataset, user: AbstractBaseUser) -> list[Task]:
    """Lease to this user every task of one query they may still judge, in the queue's seeded order; [] when
    nothing is left. The query is the one they hold a lease in, else the one of the task the queue would give
    them next (`task_lease_next`'s order, gold rate included). Each task is claimed as the queue claims one:
    others' leases and the overlap are respected, gold items of the query come along."""
    now = timezone.now()
    with transaction.atomic():
        first = _next_leased(dataset=dataset, user=user, now=now)
        if first is None:
            return []
        if first.query_id is None:
            raise ApplicationError("Only a search relevance dataset has queries to judge in a list.")
        # Narrowed before the slots are counted, so the subqueries read one query's tasks (task_query index).
        query = {"query_id": first.query_id}
        # A task's row counts every live lease, the user's own too: what they hold is theirs without a free slot.
        held = _held_leases(dataset=dataset, user=user, now=now).filter(task__query_id=first.query_id)
        mine = {first.pk, *held.values_list("task_id", flat=True)}
        open_tasks = _open_tasks(dataset=dataset, user=user, now=now).filter(**query).values("pk")
        gold = _gold_tasks(dataset=dataset, user=user).filter(**query).values("pk")
        candidates = list(
            Task.objects.filter(Q(pk__in=open_tasks) | Q(pk__in=gold) | Q(pk__in=mine))
            .select_for_update(skip_locked=True, no_key=True, of=("self",))
            .select_related("product", "query")
            .order_by("random_key", "pk")
        )
        free = {
            task.pk
            for task in _with_free_slots(
                [task for task in candidates if task.pk not in mine], dataset=dataset, user=user, now=now
            )
        }
        tasks = [task for task in candidates if task.pk in mine or task.pk in free]
        leases_grant(dataset=dataset, tasks=tasks, user=user, now=now)
        return tasks


def lease_grant(*, dataset: Dataset, task: Task, user: AbstractBaseUser, now: datetime) -> None:
    """Create or renew the user's lease on a task."""
    leases_grant(dataset=dataset, tasks=[task], user=user, now=now)


def leases_grant(*, dataset: Dataset, tasks: list[Task], user: AbstractBaseUser, now: datetime) -> None:
    """Create or renew the user's leases on tasks, and count the new ones on their rows (a renewal of a live
    lease takes no other slot)."""
    if not tasks:
        return
    expires_at = now + timedelta(minutes=dataset.lease_minutes)
    task_ids = [task.pk for task in tasks]
    live = set(
        Lease.objects.filter(task_id__in=task_ids, user=user, expires_at__gt=now).values_list("task_id", flat=True)
    )
    Lease.objects.bulk_create(
        [Lease(dataset=dataset, task=task, user=user, expires_at=expires_at) for task in tasks],
        update_conflicts=True,
        unique_fields=["task", "user"],
        update_fields=["expires_at", "created_at"],
    )
    until = Greatest(Coalesce("lease_until", Value(expires_at)), Value(expires_at))
    fresh = [task_id for task_id in task_ids if task_id not in live]
    if fresh:
        Task.objects.filter(pk__in=fresh).update(
            lease_count=Case(When(lease_until__gt=now, then=F("lease_count") + 1), default=Value(1)),
            lease_until=until,
        )
    if live:
        Task.objects.filter(pk__in=live).update(lease_until=until)


def leases_release(*, task_ids: list[int], user: AbstractBaseUser, now: datetime) -> None:
    """Give back the user's leases on tasks (answered or passed on): each live one frees its slot on the row."""
    live = list(
        Lease.objects.filter(task_id__in=task_ids, user=user, expires_at__gt=now).values_list("task_id", flat=True)
    )
    Lease.objects.filter(task_id__in=task_ids, user=user).delete()
    if live:
        Task.objects.filter(pk__in=live, lease_count__gt=0).update(lease_count=F("lease_count") - 1)


def task_leases_end(*, task: Task) -> None:
    """End every lease on a task (decided by a reviewer: nobody needs to finish answering it)."""
    Lease.objects.filter(task=task).delete()
    Task.objects.filter(pk=task.pk).update(lease_count=0)
