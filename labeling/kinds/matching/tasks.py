"""How matching tasks are made: one task per pair of products, whatever order the pair comes in."""

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, as_completed, wait
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np
from django.db import IntegrityError, connection, connections, transaction
from django.utils import timezone

from config.copy import copy_in
from config.errors import ApplicationError
from datasets.models import Dataset, Product
from labeling.models import Task
from labeling.queue import random_key


@dataclass(frozen=True)
class PairSpec:
    left_id: int
    right_id: int
    attributes: dict[str, Any] = field(default_factory=dict)  # the pair's own columns (a benchmark's split)


def pair_item_key(left_id: int, right_id: int) -> str:
    """The order-free identity of a pair: 'a:b' with a < b (its task's `product` and `other_product`)."""
    low, high = sorted((left_id, right_id))
    return f"{low}:{high}"


def _pair_random_key(*, seed: int, low: int, high: int) -> int:
    return random_key(seed=seed, external_id=f"pair:{low}:{high}")


def _pair_task(dataset: Dataset, left_id: int, right_id: int, attributes: dict[str, Any] | None) -> Task:
    low, high = min(left_id, right_id), max(left_id, right_id)
    return Task(
        dataset=dataset,
        product_id=low,
        other_product_id=high,
        swapped=left_id > right_id,
        attributes=attributes or None,
        random_key=_pair_random_key(seed=dataset.seed, low=low, high=high),
    )


def pair_task_rows(
    *, dataset: Dataset, pairs: Iterable[tuple[int, int]], fields: Sequence[str]
) -> Iterator[tuple[tuple[int, int], tuple[Any, ...]]]:
    """The dataset's tasks of these pairs ((low, high) product ids) as ((low, high), their `fields`' values): one
    query a chunk of low ids, the pairs picked from each product's pairs."""
    wanted = set(pairs)
    lows = sorted({low for low, _ in wanted})
    for start in range(0, len(lows), _SQLITE_CHUNK):
        rows = Task.objects.filter(
            dataset=dataset, product_id__in=lows[start : start + _SQLITE_CHUNK], other_product__isnull=False
        ).values_list("product_id", "other_product_id", *fields)
        for low, high, *values in rows:
            if (low, high) in wanted:
                yield (low, high), tuple(values)


def _held_pairs(dataset: Dataset, pairs: Iterable[tuple[int, int]]) -> dict[tuple[int, int], int]:
    """The task ids of the pairs ((low, high)) the dataset holds."""
    return {pair: pk for pair, (pk,) in pair_task_rows(dataset=dataset, pairs=pairs, fields=["pk"])}


def _ids(left_id: int, right_id: int) -> tuple[int, int]:
    return (left_id, right_id) if left_id < right_id else (right_id, left_id)


def pair_tasks_upsert(*, dataset: Dataset, pairs: Sequence[PairSpec]) -> tuple[dict[str, int], int]:
    """Tasks for pairs of products, a few statements for the whole batch.

    A pair the dataset already holds, in either order, keeps its task and its sides; its attributes are
    replaced by the new ones when it brings any (a re-import, as for products). Returns each pair's task id
    by `pair_item_key`, and how many tasks are new.
    """
    wanted: dict[tuple[int, int], PairSpec] = {}
    for pair in pairs:
        if pair.left_id == pair.right_id:
            raise ApplicationError("A product cannot be paired with itself.", extra={"product": pair.left_id})
        wanted[_ids(pair.left_id, pair.right_id)] = pair
    with transaction.atomic():
        existing = _held_pairs(dataset, wanted)
        new = [ids for ids in wanted if ids not in existing]
        Task.objects.bulk_update(
            [Task(pk=pk, attributes=wanted[ids].attributes) for ids, pk in existing.items() if wanted[ids].attributes],
            ["attributes"],
            batch_size=2000,
        )
        # Conflicts are ignored, not raised: a concurrent import of the same pair keeps the task it made.
        Task.objects.bulk_create(
            [_pair_task(dataset, pair.left_id, pair.right_id, pair.attributes) for pair in map(wanted.get, new)],
            ignore_conflicts=True,
            batch_size=2000,
        )
        created = _held_pairs(dataset, new)
    return {pair_item_key(*ids): pk for ids, pk in (existing | created).items()}, len(new)


# Generated candidates come by the million: one transaction per batch keeps locks, WAL and memory bounded. Large
# batches all the same: a batch's index entries go in its order, and more of them share each leaf page.
PAIR_INSERT_BATCH = 250_000
# Batches written at once, each on its own connection: the database's work per pair (a task row, its index
# entries) is most of the cost, and two backends use both cores of a small server.
PAIR_WRITERS = 2
_SQLITE_CHUNK = 5_000  # stays under SQLite's bound-variable limit in the IN lookups

# The way round a batch goes when another writer took some of its pairs meanwhile (`_insert_staged`): a pair
# the dataset holds (in either order, imported or generated) keeps its task, sides and attributes.
_PAIR_STAGE = """
CREATE TEMP TABLE pair_task_stage (
    product_id bigint, other_product_id bigint, swapped boolean, random_key bigint, attributes jsonb
)
"""
_PAIR_TASKS_INSERT = """
INSERT INTO labeling_task (
    dataset_id, product_id, other_product_id, swapped, attributes, is_gold, annotation_count, is_complete,
    priority, random_key, needs_review, created_at
)
SELECT %(dataset)s, stage.product_id, stage.other_product_id, stage.swapped, stage.attributes, false, 0, false,
       0, stage.random_key, false, now()
FROM pair_task_stage AS stage
ORDER BY stage.random_key  -- the two queue indexes are read in this order: filled in it, their pages stay full
ON CONFLICT DO NOTHING
"""


def pair_tasks_insert(
    *,
    dataset: Dataset,
    left_ids: Sequence[int] | np.ndarray,
    right_ids: Sequence[int] | np.ndarray,
    attributes: Sequence[dict[str, Any] | None] | None = None,
    batch_size: int = PAIR_INSERT_BATCH,
    ids_checked: bool = False,
    writers: int = PAIR_WRITERS,
    progress: Callable[[float], None] | None = None,
    check: Callable[[], None] | None = None,
) -> int:
    """Tasks for the pairs (left_ids[i], right_ids[i]) the dataset does not hold yet, in either order.

    Made for generated candidates (millions of pairs): existing pairs are left as they are (their task, sides
    and attributes), a pair repeated in the input counts once (its first occurrence wins), and the pairs go
    in batches of `batch_size`, each its own transaction (on PostgreSQL, COPY straight into the task table).
    The whole input is checked before anything is written: a product paired with itself or an
    id that is not a product of the dataset refuses it (`ids_checked=True` skips the second check, for ids just
    read from the dataset's own products: at a million products it costs an index probe per id and batch; the
    caller then vouches for them, as a task's products have no foreign-key constraint to catch a wrong one).

    On PostgreSQL, outside a transaction, up to `writers` batches are written at once on connections of
    their own; inside one (the caller's atomic block, a test) every batch goes through the caller's connection,
    which alone sees what the caller has not committed. `check()` runs before each batch (a cancelled job
    stops there; the batches written stay, each whole) and `progress(fraction)` after each. Returns how many
    tasks are new.
    """
    left = np.asarray(left_ids, dtype=np.int64).ravel()
    right = np.asarray(right_ids, dtype=np.int64).ravel()
    if left.shape != right.shape:
        raise ApplicationError("left_ids and right_ids must have the same length.")
    if attributes is not None and len(attributes) != len(left):
        raise ApplicationError("attributes must have one entry per pair.")
    if not len(left):
        return 0
    same = np.flatnonzero(left == right)
    if len(same):
        raise ApplicationError("A product cannot be paired with itself.", extra={"product": int(left[same[0]])})
    order = _first_occurrences(np.minimum(left, right), np.maximum(left, right))
    if not ids_checked:
        _check_products(dataset=dataset, ids=np.unique(np.concatenate((left, right))))

    # A dataset with no pair yet (a first candidate run) has none to look up: the batches are disjoint, and a
    # concurrent writer's pair is caught by the unique index.
    probe = (
        connection.vendor == "postgresql" and Task.objects.filter(dataset=dataset, other_product__isnull=False).exists()
    )

    def write(chosen: np.ndarray) -> int:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                texts = _attribute_texts(attributes, chosen)
                return _insert_postgresql(dataset, left[chosen], right[chosen], texts, probe=probe)
            batch_attributes = None if attributes is None else [attributes[i] for i in chosen.tolist()]
            return _insert_orm(dataset, left[chosen], right[chosen], batch_attributes)

    batches = [order[start : start + batch_size] for start in range(0, len(order), batch_size)]
    parallel = writers > 1 and len(batches) > 1 and connection.vendor == "postgresql" and not connection.in_atomic_block
    if parallel:
        return _write_parallel(batches, write, writers=writers, progress=progress, check=check)
    created = 0
    for done, chosen in enumerate(batches, start=1):
        if check:
            check()
        created += write(chosen)
        if progress:
            progress(done / len(batches))
    return created


def _write_parallel(
    batches: list[np.ndarray],
    write: Callable[[np.ndarray], int],
    *,
    writers: int,
    progress: Callable[[float], None] | None,
    check: Callable[[], None] | None,
) -> int:
    """`write` each batch on one of `writers` threads, at most `writers` in flight; the first error stops the
    rest (batches already written stay) and is raised here."""

    def on_own_connection(chosen: np.ndarray) -> int:
        try:
            return write(chosen)
        finally:
            connections.close_all()  # this thread's connections only: Django keeps them per thread

    created, done = 0, 0
    with ThreadPoolExecutor(max_workers=writers, thread_name_prefix="pair-writer") as pool:
        running: set[Future[int]] = set()
        try:
            for chosen in batches:
                if check:
                    check()
                if len(running) >= writers:
                    finished, running = wait(running, return_when=FIRST_COMPLETED)
                    for future in finished:
                        created += future.result()
                        done += 1
                        if progress:
                            progress(done / len(batches))
                running.add(pool.submit(on_own_connection, chosen))
            for future in as_completed(running):
                created += future.result()
                done += 1
                if progress:
                    progress(done / len(batches))
        except BaseException:
            for future in running:
                future.cancel()
            raise
    return created


def _first_occurrences(low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Indexes of the first occurrence of each distinct (low, high), in input order."""
    if int(low.min()) >= 0 and int(high.max()) < 2**31:
        _, first = np.unique((low << 32) | high, return_index=True)
    else:
        _, first = np.unique(np.stack((low, high), axis=1), axis=0, return_index=True)
    first.sort()
    return first


# The ids are looked up by the primary key: `dataset_id + 0` is no column an index holds. Planned from statistics
# that predate the dataset's products, `dataset_id = %s` read all of them through the (dataset, external id) index
# and tested each against the whole array: 137 s for 50,000 ids among 300,000 products, 79 ms by the key.
_PRODUCTS_OF_DATASET = "SELECT count(*) FROM datasets_product WHERE id = ANY(%s::bigint[]) AND dataset_id + 0 = %s"


def _check_products(*, dataset: Dataset, ids: np.ndarray) -> None:
    """Refuse ids that are not products of the dataset (the foreign key alone would accept another dataset's)."""
    if connection.vendor == "postgresql":
        # One array parameter, not one placeholder per id: a batch names a hundred thousand products.
        with connection.cursor() as cursor:
            cursor.execute(_PRODUCTS_OF_DATASET, [ids.tolist(), dataset.pk])
            found = cursor.fetchone()[0]
    else:
        found = sum(
            Product.objects.filter(dataset=dataset, pk__in=ids[start : start + _SQLITE_CHUNK].tolist()).count()
            for start in range(0, len(ids), _SQLITE_CHUNK)
        )
    if found != len(ids):
        missing = len(ids) - found
        raise ApplicationError(
            f"{missing} of the paired ids are not products of this dataset.", extra={"missing": missing}
        )


def _insert_postgresql(
    dataset: Dataset, left: np.ndarray, right: np.ndarray, texts: list[str], *, probe: bool = True
) -> int:
    """One batch, straight into the task table by COPY when it can: COPY fills heap pages many rows at a time
    where INSERT ... SELECT ... ON CONFLICT writes and checks row by row. Pairs the dataset holds are dropped
    first (`probe`: one index lookup per pair; skipped when the dataset held no pair before this write began). If
    a concurrent writer adds one of these pairs in between, the unique index refuses the COPY and the batch goes
    again through a staging table with ON CONFLICT DO NOTHING, which keeps whichever task came first."""
    low, high = np.minimum(left, right), np.maximum(left, right)
    with connection.cursor() as cursor:
        # Generated candidates can be generated again: a batch need not wait for its WAL to reach the disk
        # (a crash loses at most the last moment's batches, never part of one).
        cursor.execute("SET LOCAL synchronous_commit TO OFF")
        chosen = np.arange(len(low))
        if probe:
            cursor.execute(
                "SELECT t.product_id, t.other_product_id FROM labeling_task AS t "
                "JOIN unnest(%s::bigint[], %s::bigint[]) AS pair (low, high) "
                "ON t.product_id = pair.low AND COALESCE(t.other_product_id, 0) = pair.high",
                [low.tolist(), high.tolist()],
            )
            held = set(cursor.fetchall())
            if held:
                pairs = zip(low.tolist(), high.tolist(), strict=True)
                chosen = np.asarray([i for i, pair in enumerate(pairs) if pair not in held], dtype=np.int64)
        if not len(chosen):
            return 0
        seed = dataset.seed
        order_keys = np.asarray(
            [
                _pair_random_key(seed=seed, low=a, high=b)
                for a, b in zip(low[chosen].tolist(), high[chosen].tolist(), strict=True)
            ],
            dtype=np.int64,
        )
        # In random_key order the two queue indexes fill in the order they are read, and the ids the rows draw
        # as COPY reads them append to the primary key.
        by_key = np.argsort(order_keys, kind="stable")
        chosen, order_keys = chosen[by_key], order_keys[by_key]
        texts = [texts[i] for i in chosen.tolist()]
        lines = _pairs_csv(low[chosen], high[chosen], left[chosen] > right[chosen], order_keys, texts)
        try:
            with transaction.atomic():
                copy_in(
                    cursor,
                    f"COPY labeling_task ({_TASK_COLUMNS}) FROM STDIN WITH (FORMAT csv)",
                    _with_task_columns(dataset, lines),
                )
        except IntegrityError:
            return _insert_staged(cursor, dataset, "\n".join(lines) + "\n")
    return len(chosen)


_TASK_COLUMNS = (
    "product_id, other_product_id, swapped, random_key, attributes, dataset_id, is_gold, annotation_count, "
    "is_complete, priority, needs_review, created_at"
)


def _pairs_csv(
    low: np.ndarray, high: np.ndarray, swapped: np.ndarray, order_keys: np.ndarray, texts: list[str]
) -> list[str]:
    """The staging columns of each pair as COPY csv fields (product, other product, swapped, random_key,
    attributes), without the line end: the task COPY adds the columns every task shares.

    By hand, not csv.writer: only the attributes (`_csv_json`) can need quoting, and at ten million pairs the
    writer and one json.dumps (a new encoder) per pair were most of the process's time while the database wrote.
    """
    flags = np.where(swapped, "t", "f").tolist()
    return [
        f"{a},{b},{flag},{key},{text}"
        for a, b, flag, key, text in zip(low.tolist(), high.tolist(), flags, order_keys.tolist(), texts, strict=True)
    ]


def _with_task_columns(dataset: Dataset, lines: list[str]) -> str:
    shared = f",{dataset.pk},f,0,f,0,f,{timezone.now().isoformat()}\n"
    return shared.join(lines) + shared


_JSON = json.JSONEncoder(ensure_ascii=False)


@runtime_checkable
class EncodedAttributes(Protocol):
    """Attributes that can write a batch's COPY fields at once (`csv_texts`): a candidate run's ten million are
    numbers, formatted by the array, where a dict and a JSON encoding a pair were a third of the write."""

    def __len__(self) -> int: ...

    def __getitem__(self, i: int) -> dict[str, Any] | None: ...

    def csv_texts(self, indices: np.ndarray) -> list[str]: ...


def _attribute_texts(attributes: Sequence[dict[str, Any] | None] | None, indices: np.ndarray) -> list[str]:
    """The attributes of the pairs at `indices` as COPY csv fields."""
    if attributes is None:
        return [""] * len(indices)
    if isinstance(attributes, EncodedAttributes):
        return attributes.csv_texts(indices)
    return [_csv_json(attributes[i]) for i in indices.tolist()]


def _csv_json(value: dict[str, Any] | None) -> str:
    """A jsonb field of COPY's csv format: quoted, its quotes doubled; empty attributes are NULL (unquoted empty),
    as the ORM writes them."""
    return '"' + _JSON.encode(value).replace('"', '""') + '"' if value else ""


def _insert_staged(cursor: Any, dataset: Dataset, rows: str) -> int:
    """The batch's `rows` (`_pairs_csv` lines) by a staging table and INSERT ... ON CONFLICT DO NOTHING: a pair
    another writer holds by now keeps that writer's task."""
    cursor.execute("DROP TABLE IF EXISTS pg_temp.pair_task_stage")
    cursor.execute(_PAIR_STAGE)
    copy_in(
        cursor,
        "COPY pair_task_stage (product_id, other_product_id, swapped, random_key, attributes) "
        "FROM STDIN WITH (FORMAT csv)",
        rows,
    )
    cursor.execute(_PAIR_TASKS_INSERT, {"dataset": dataset.pk})
    created = cursor.rowcount
    cursor.execute("DROP TABLE pg_temp.pair_task_stage")
    return created


def _insert_orm(
    dataset: Dataset, left: np.ndarray, right: np.ndarray, attributes: list[dict[str, Any] | None] | None
) -> int:
    left_list, right_list = left.tolist(), right.tolist()
    held = _held_pairs(dataset, map(_ids, left_list, right_list))
    new = [i for i, ids in enumerate(map(_ids, left_list, right_list)) if ids not in held]
    Task.objects.bulk_create(
        [
            _pair_task(dataset, left_list[i], right_list[i], attributes[i] if attributes is not None else None)
            for i in new
        ],
        ignore_conflicts=True,
        batch_size=2000,
    )
    return len(new)
