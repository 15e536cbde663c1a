"""Writes one batch of parsed products: upsert by external_id, a task for each new product, imported labels.

Called inside the batch's transaction; a few bulk statements per batch, never a query per row.
"""

import csv
import io
import json
from collections import Counter
from dataclasses import dataclass

from django.db import connection
from django.db.models import F, Q
from django.utils import timezone

from datasets.importers import ProductRow, RowError, split_path
from datasets.models import Dataset, Label, Product
from labeling.history import label_events_bulk_record
from labeling.models import Annotation, EventAction, LabelEvent, LabelSource, Task
from labeling.queue import random_key
from labeling.review import review_flags_refresh

UPDATE_FIELDS = ["title", "description", "brand", "price", "currency", "image_url", "url", "attributes", "updated_at"]


@dataclass
class BatchResult:
    created: int = 0
    updated: int = 0
    labels: int = 0


class LabelResolver:
    """Finds a taxonomy node from an imported label value: its full path, its code, or a unique leaf name."""

    def __init__(self, dataset: Dataset) -> None:
        all_labels = list(Label.objects.filter(dataset=dataset))
        names = Counter(label.name.casefold() for label in all_labels)
        self._by_key: dict[str, Label] = {}
        for label in all_labels:
            self._by_key[label.path.casefold()] = label
            if label.code:
                self._by_key.setdefault(label.code.casefold(), label)
            if names[label.name.casefold()] == 1:
                self._by_key[f"name:{label.name.casefold()}"] = label

    def __call__(self, value: str) -> Label | None:
        key = " > ".join(split_path(value)).casefold()
        return self._by_key.get(key) or self._by_key.get(f"name:{key}")


def product_batch_write(
    *, dataset: Dataset, rows: list[ProductRow], resolve_label: LabelResolver | None, label_source: str
) -> tuple[BatchResult, list[RowError]]:
    errors: list[RowError] = []
    labels: dict[str, Label] = {}
    if resolve_label is not None:
        kept = []
        for row in rows:
            if row.label:
                label = resolve_label(row.label)
                if label is None:
                    errors.append(RowError(row.line, f"unknown label {row.label!r}", row.external_id))
                    continue
                labels[row.external_id] = label
            kept.append(row)
        rows = kept
    if not rows:
        return BatchResult(), errors

    upsert = _upsert_postgres if connection.vendor == "postgresql" else _upsert_generic
    created = upsert(dataset=dataset, rows=rows)
    result = BatchResult(created=created, updated=len(rows) - created)
    if labels:
        result.labels = imported_labels_write(dataset=dataset, labels=labels, source_name=label_source)
    return result, errors


def _upsert_generic(*, dataset: Dataset, rows: list[ProductRow]) -> int:
    """Portable upsert with a task per new product; returns how many products it created."""
    ids = [row.external_id for row in rows]
    existing = set(Product.objects.filter(dataset=dataset, external_id__in=ids).values_list("external_id", flat=True))
    Product.objects.bulk_create(
        [_product(dataset, row) for row in rows],
        update_conflicts=True,
        unique_fields=["dataset", "external_id"],
        update_fields=UPDATE_FIELDS,
        batch_size=2000,
    )
    new_ids = [external_id for external_id in ids if external_id not in existing]
    new_products = Product.objects.filter(dataset=dataset, external_id__in=new_ids).values_list("pk", "external_id")
    Task.objects.bulk_create(
        [
            Task(dataset=dataset, product_id=pk, random_key=random_key(seed=dataset.seed, external_id=external_id))
            for pk, external_id in new_products
        ],
        batch_size=2000,
    )
    return len(new_ids)


def _product(dataset: Dataset, row: ProductRow) -> Product:
    return Product(
        dataset=dataset, external_id=row.external_id, title=row.title, description=row.description, brand=row.brand,
        price=row.price, currency=row.currency, image_url=row.image_url, url=row.url, attributes=row.attributes,
    )


_STAGE_TABLE = """
CREATE TEMP TABLE IF NOT EXISTS import_product_stage (
    external_id text, title text, description text, brand text, price numeric, currency text,
    image_url text, url text, attributes jsonb, random_key bigint
)
"""
# One statement upserts the products and gives each new one (xmax = 0: inserted, not updated) its task.
_UPSERT = """
WITH upserted AS (
    INSERT INTO datasets_product (
        dataset_id, external_id, title, description, brand, price, currency, image_url, url, attributes,
        created_at, updated_at
    )
    SELECT %(dataset)s, external_id, title, coalesce(description, ''), coalesce(brand, ''), price,
           coalesce(currency, ''), coalesce(image_url, ''), coalesce(url, ''), attributes, now(), now()
    FROM import_product_stage
    ON CONFLICT (dataset_id, external_id) DO UPDATE SET
        title = EXCLUDED.title, description = EXCLUDED.description, brand = EXCLUDED.brand, price = EXCLUDED.price,
        currency = EXCLUDED.currency, image_url = EXCLUDED.image_url, url = EXCLUDED.url,
        attributes = EXCLUDED.attributes, updated_at = EXCLUDED.updated_at
    RETURNING id, external_id, (xmax = 0) AS inserted
)
INSERT INTO labeling_task (
    dataset_id, product_id, is_gold, annotation_count, is_complete, priority, random_key, created_at
)
SELECT %(dataset)s, upserted.id, false, 0, false, 0, stage.random_key, now()
FROM upserted JOIN import_product_stage AS stage USING (external_id)
WHERE upserted.inserted
"""


def _upsert_postgres(*, dataset: Dataset, rows: list[ProductRow]) -> int:
    """COPY the batch into a staging table, then upsert products and add tasks in one statement."""
    buffer = io.StringIO()
    seed = dataset.seed
    csv.writer(buffer).writerows(
        (
            row.external_id, row.title, row.description, row.brand, row.price, row.currency, row.image_url, row.url,
            json.dumps(row.attributes, ensure_ascii=False), random_key(seed=seed, external_id=row.external_id),
        )
        for row in rows
    )
    buffer.seek(0)
    with connection.cursor() as cursor:
        cursor.execute(_STAGE_TABLE)
        # Emptied here, not ON COMMIT: batches may share one outer transaction.
        cursor.execute("TRUNCATE import_product_stage")
        cursor.cursor.copy_expert("COPY import_product_stage FROM STDIN WITH (FORMAT csv)", buffer)
        cursor.execute(_UPSERT, {"dataset": dataset.pk})
        return cursor.rowcount


def imported_labels_write(*, dataset: Dataset, labels: dict[str, Label], source_name: str) -> int:
    """Imported labels are annotations without a user, one per source; a re-import changes them in place."""
    tasks = dict(
        Task.objects.filter(dataset=dataset, product__external_id__in=list(labels)).values_list(
            "product__external_id", "pk"
        )
    )
    current = {
        annotation.task_id: annotation
        for annotation in Annotation.objects.filter(task_id__in=tasks.values(), user=None, source_name=source_name)
    }
    new, changed, events = [], [], []
    now = timezone.now()
    for external_id, label in labels.items():
        task_id = tasks[external_id]
        annotation = current.get(task_id)
        if annotation is None:
            new.append(
                Annotation(
                    dataset=dataset,
                    task_id=task_id,
                    user=None,
                    label=label,
                    source=LabelSource.IMPORT,
                    source_name=source_name,
                )
            )
            events.append((task_id, EventAction.IMPORT, None, label))
        elif annotation.label_id != label.pk:
            events.append((task_id, EventAction.CHANGE, annotation.label_id, label))
            annotation.label = label
            annotation.updated_at = now  # bulk_update skips auto_now
            changed.append(annotation)
    Annotation.objects.bulk_create(new)
    Annotation.objects.bulk_update(changed, ["label", "updated_at"])
    if new:
        counted = [annotation.task_id for annotation in new]
        Task.objects.filter(pk__in=counted).update(annotation_count=F("annotation_count") + 1)
        Task.objects.filter(pk__in=counted, annotation_count__gte=dataset.overlap).update(is_complete=True)
    touched = [annotation.task_id for annotation in new] + [annotation.task_id for annotation in changed]
    if touched:
        # Only tasks with several answers can disagree: a first import of labels costs no refresh.
        review_flags_refresh(
            task_ids=Task.objects.filter(Q(annotation_count__gt=1) | Q(needs_review=True), pk__in=touched)
            .values_list("pk", flat=True)
        )
    label_events_bulk_record(
        [
            LabelEvent(
                dataset=dataset,
                task_id=task_id,
                action=action,
                old_label_id=old_label_id,
                new_label=label,
                source=LabelSource.IMPORT,
                source_name=source_name,
            )
            for task_id, action, old_label_id, label in events
        ]
    )
    return len(new) + len(changed)
