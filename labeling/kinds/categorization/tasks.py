"""How categorization tasks are made: one task per product, created with the product by its import.

On PostgreSQL new products go in by COPY (datasets' `products_insert`) and their tasks by a second COPY, which
only labeling writes; a labeled file's new tasks come counted, their answers and events by COPY too
(`labeling.imports.new_tasks_labels_copy`). A batch with products the dataset holds already is upserted
instead, and one statement does it all: datasets' product upsert (its WITH clause) followed by the task INSERT
below; its labels then go through `product_labels_write`, which compares them with the answers held.
"""

from collections.abc import Mapping, Sequence
from operator import attrgetter
from typing import Any

import numpy as np
from django.db import connection

from config.copy import copy_in, sequence_ids
from datasets.importers import ProductRow
from datasets.models import Dataset
from datasets.selectors import product_ids
from datasets.services.products import (
    PRODUCTS_UPSERT_CTE,
    StageExtra,
    products_insert,
    products_stage,
    products_upsert,
)
from labeling.imports import new_tasks_labels_copy, product_labels_write
from labeling.models import Task
from labeling.queue import random_key, random_keys

# Every new product (inserted, not updated, by the upsert) gets its task.
_TASKS_INSERT = """
INSERT INTO labeling_task (
    dataset_id, product_id, is_gold, annotation_count, is_complete, priority, random_key, created_at
)
SELECT %(dataset)s, upserted.id, false, 0, false, 0, stage.random_key, now()
FROM upserted JOIN import_product_stage AS stage USING (external_id)
WHERE upserted.inserted
ORDER BY stage.random_key
"""
# The columns a new task sets; the others keep their database defaults. New tasks go in in random_key order, the
# order of the two queue indexes (task_queue_random, task_queue_priority, whose new entries all have priority 0):
# a batch's entries then reach their pages in sequence instead of at random. A million tasks COPYed in batches of
# 20,000 sorted so took 7.5 to 7.7 s instead of 8.5 to 10.1 s (Dec 2026); their ids still ascend.
_TASKS_COPY = (
    "COPY labeling_task (dataset_id, product_id, is_gold, annotation_count, is_complete, priority, random_key, "
    "created_at) FROM STDIN"
)
_COUNTED_TASKS_COPY = (
    "COPY labeling_task (id, dataset_id, product_id, is_gold, annotation_count, is_complete, priority, random_key, "
    "created_at) FROM STDIN"
)


def product_tasks_upsert(*, dataset: Dataset, rows: Sequence[ProductRow]) -> int:
    """Create or update `rows` by external_id (unique within `rows`) and give each new product its task;
    returns how many products are new."""
    if not rows:
        return 0
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            ids = products_insert(cursor=cursor, dataset=dataset, rows=rows)
            if ids is None:
                return _upsert_staged(cursor, dataset, rows)
            line = f"{dataset.pk}\t%d\tf\t0\tf\t0\t%d\tnow\n"
            keys, pks, _ = _in_key_order(dataset, rows, ids)
            copy_in(cursor, _TASKS_COPY, "".join(map(line.__mod__, zip(pks, keys, strict=True))))
            return len(ids)
    existing = product_ids(dataset=dataset, external_ids=[row.external_id for row in rows])
    ids = products_upsert(dataset=dataset, rows=rows)
    Task.objects.bulk_create(
        [
            Task(dataset=dataset, product_id=pk, random_key=random_key(seed=dataset.seed, external_id=external_id))
            for external_id, pk in ids.items()
            if external_id not in existing
        ],
        batch_size=2000,
    )
    return len(ids) - len(existing)


def labeled_product_tasks_upsert(
    *, dataset: Dataset, rows: Sequence[ProductRow], labels: Mapping[str, int], source_name: str
) -> tuple[int, int]:
    """`product_tasks_upsert`, with `labels` (external id -> label id, for some of `rows`) recorded as source
    `source_name`'s imported answers to the products' tasks; returns (new products, answers new or changed).

    A new product's task is written with its answer counted (and complete when the dataset wants one answer),
    where an answer to a task that exists would update it after the fact: a new version of the row and of its
    index entries, for each labeled row of a million-row file."""
    if rows and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            ids = products_insert(cursor=cursor, dataset=dataset, rows=rows)
            if ids is not None:
                task_ids = sequence_ids(cursor, "labeling_task", len(ids))
                answers = [labels.get(external_id) for external_id in map(attrgetter("external_id"), rows)]
                complete = "t" if dataset.overlap <= 1 else "f"
                line = f"%d\t{dataset.pk}\t%d\tf\t%s\t%s\t0\t%d\tnow\n"
                # In random_key order, as product_tasks_upsert writes them; the task ids ascend in it.
                keys, pks, order = _in_key_order(dataset, rows, ids)
                answers = [answers[at] for at in order.tolist()]
                lines = map(
                    line.__mod__,
                    zip(
                        task_ids, pks, ["0" if label is None else "1" for label in answers],
                        ["f" if label is None else complete for label in answers], keys,
                        strict=True,
                    ),
                )
                copy_in(cursor, _COUNTED_TASKS_COPY, "".join(lines))
                answered = [(task, label) for task, label in zip(task_ids, answers, strict=True) if label is not None]
                return len(ids), new_tasks_labels_copy(
                    cursor=cursor, dataset=dataset, answers=answered, source_name=source_name
                )
            created = _upsert_staged(cursor, dataset, rows)
    else:
        created = product_tasks_upsert(dataset=dataset, rows=rows)
    return created, product_labels_write(dataset=dataset, labels=dict(labels), source_name=source_name)


def _keys(dataset: Dataset, rows: Sequence[ProductRow]) -> list[int]:
    return list(random_keys(seed=dataset.seed, external_ids=map(attrgetter("external_id"), rows)))


def _in_key_order(dataset: Dataset, rows: Sequence[ProductRow], ids: Sequence[int]) -> tuple[list, list, np.ndarray]:
    """The rows' random keys and their products' `ids`, both in key order, and that order (positions in `rows`).
    numpy sorts a batch in a millisecond, where sorting (key, id) tuples took a fortieth of the import's time."""
    keys = np.array(_keys(dataset, rows), dtype=np.int64)
    order = np.argsort(keys, kind="stable")
    return keys[order].tolist(), np.asarray(ids, dtype=np.int64)[order].tolist(), order


def _upsert_staged(cursor: Any, dataset: Dataset, rows: Sequence[ProductRow]) -> int:
    """The rows upserted through the staging table, each new product given its task; how many are new."""
    key = StageExtra("random_key bigint", lambda staged: zip(_keys(dataset, staged)))
    products_stage(cursor=cursor, dataset=dataset, rows=rows, extra=key)
    cursor.execute(PRODUCTS_UPSERT_CTE + _TASKS_INSERT, {"dataset": dataset.pk})
    return cursor.rowcount
