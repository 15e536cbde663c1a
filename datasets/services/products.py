"""Writes one batch of parsed products: upsert by external_id, a task for each new product, imported labels.

Called inside the batch's transaction; a few bulk statements per batch, never a query per row.
"""

from collections import Counter
from dataclasses import dataclass

from django.db.models import F

from datasets.importers import ProductRow, RowError
from datasets.models import Dataset, Label, Product
from labeling.history import label_events_bulk_record
from labeling.models import Annotation, EventAction, LabelEvent, LabelSource, Task
from labeling.queue import random_key

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
        key = " > ".join(part.strip() for part in value.split(">")).casefold()
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

    ids = [row.external_id for row in rows]
    existing = set(Product.objects.filter(dataset=dataset, external_id__in=ids).values_list("external_id", flat=True))
    Product.objects.bulk_create(
        [
            Product(
                dataset=dataset,
                external_id=row.external_id,
                title=row.title,
                description=row.description,
                brand=row.brand,
                price=row.price,
                currency=row.currency,
                image_url=row.image_url,
                url=row.url,
                attributes=row.attributes,
            )
            for row in rows
        ],
        update_conflicts=True,
        unique_fields=["dataset", "external_id"],
        update_fields=UPDATE_FIELDS,
    )
    new_ids = [external_id for external_id in ids if external_id not in existing]
    product_pks = dict(
        Product.objects.filter(dataset=dataset, external_id__in=new_ids).values_list("external_id", "pk")
    )
    Task.objects.bulk_create(
        [
            Task(
                dataset=dataset,
                product_id=product_pks[external_id],
                random_key=random_key(seed=dataset.seed, external_id=external_id),
            )
            for external_id in new_ids
        ],
        ignore_conflicts=True,
    )
    result = BatchResult(created=len(new_ids), updated=len(ids) - len(new_ids))
    if labels:
        result.labels = _labels_write(dataset=dataset, labels=labels, source_name=label_source)
    return result, errors


def _labels_write(*, dataset: Dataset, labels: dict[str, Label], source_name: str) -> int:
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
            changed.append(annotation)
    Annotation.objects.bulk_create(new)
    Annotation.objects.bulk_update(changed, ["label", "updated_at"])
    if new:
        counted = [annotation.task_id for annotation in new]
        Task.objects.filter(pk__in=counted).update(annotation_count=F("annotation_count") + 1)
        Task.objects.filter(pk__in=counted, annotation_count__gte=dataset.overlap).update(is_complete=True)
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
