"""How categorization tasks are made: one task per product, created with the product by its import.

On PostgreSQL one statement does it all: datasets' product upsert (its WITH clause) followed by the
task INSERT below, which only labeling writes. A million products import at COPY speed this way.
"""

from collections.abc import Sequence
from operator import attrgetter

from django.db import connection

from datasets.importers import ProductRow
from datasets.models import Dataset
from datasets.selectors import product_ids
from datasets.services.products import PRODUCTS_UPSERT_CTE, StageExtra, products_stage, products_upsert
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
"""


def product_tasks_upsert(*, dataset: Dataset, rows: Sequence[ProductRow]) -> int:
    """Create or update `rows` by external_id (unique within `rows`) and give each new product its task;
    returns how many products are new."""
    if not rows:
        return 0
    if connection.vendor == "postgresql":
        seed = dataset.seed
        key = StageExtra(
            "random_key bigint",
            lambda staged: zip(random_keys(seed=seed, external_ids=map(attrgetter("external_id"), staged))),
        )
        with connection.cursor() as cursor:
            products_stage(cursor=cursor, dataset=dataset, rows=rows, extra=key)
            cursor.execute(PRODUCTS_UPSERT_CTE + _TASKS_INSERT, {"dataset": dataset.pk})
            return cursor.rowcount
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
