"""Writes imported queries: upserted by external_id, one statement per batch."""

from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone

from datasets.importers.queries import QueryRow
from datasets.models import Dataset, Query
from datasets.services.write_lock import dataset_write_lock

FIELDS = ("text", "locale", "weight")
BATCH = 2000


def queries_upsert(*, dataset: Dataset, rows: Sequence[QueryRow], fields: Sequence[str] = FIELDS) -> tuple[int, int]:
    """Create or update `rows` (external_ids unique within them) by external_id, all or none; returns (created,
    updated). A query imported again takes the file's `fields`: its text, locale and weight from a queries file,
    only its text from a judgments file (which knows nothing of the others)."""
    ids = [row.external_id for row in rows]
    with transaction.atomic():
        dataset_write_lock(dataset)  # another import's batch of this dataset neither deadlocks nor skews the counts
        existing = 0
        for start in range(0, len(ids), BATCH):  # SQLite caps a statement's parameters
            existing += Query.objects.filter(dataset=dataset, external_id__in=ids[start : start + BATCH]).count()
        now = timezone.now()
        Query.objects.bulk_create(
            [
                Query(
                    dataset=dataset, external_id=row.external_id, text=row.text, locale=row.locale,
                    weight=row.weight, created_at=now, updated_at=now,
                )
                for row in rows
            ],
            batch_size=BATCH,
            update_conflicts=True,
            unique_fields=["dataset", "external_id"],
            update_fields=[*fields, "updated_at"],
        )
    return len(rows) - existing, existing
