"""Gold items: tasks whose answer is known, served unannounced to measure each annotator.

A task becomes gold from a reviewer's decision (`review_decide(gold=True)`) or, in bulk, from a trusted
import source: the answers a team brings from an earlier, checked labeling round.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Count, OuterRef, Subquery
from django.utils import timezone

from config.errors import ApplicationError
from datasets.models import Dataset
from labeling.kinds import kind_get
from labeling.models import Annotation, AnnotationStatus, LabelSource, Task


def gold_item_count(*, dataset: Dataset) -> int:
    return Task.objects.filter(dataset=dataset, is_gold=True).count()


def gold_sources(*, dataset: Dataset) -> list[dict]:
    """The import sources whose labels could become gold, with how many labeled tasks each has."""
    rows = (
        Annotation.objects.filter(
            dataset=dataset, user=None, source=LabelSource.IMPORT, status=AnnotationStatus.SUBMITTED,
            **{f"{kind_get(dataset.task_type).answer_column}__isnull": False},
        )
        .values("source_name")
        .annotate(tasks=Count("task_id"))
        .order_by("source_name")
    )
    return [{"source": row["source_name"], "tasks": row["tasks"]} for row in rows]


def gold_promote_imported(*, dataset: Dataset, source: str, limit: int | None = None) -> int:
    """Make tasks labeled by import `source` gold items with that label (or value: spans); returns how many
    became gold.

    With `limit`, a sample in the dataset's seeded random order (`random_key`) rather than the first
    imported, so the gold set spreads over the catalog.
    """
    if limit is not None and limit < 1:
        raise ApplicationError("limit must be at least 1.")
    answer = kind_get(dataset.task_type).answer_column
    answers = Annotation.objects.filter(
        dataset=dataset, user=None, source=LabelSource.IMPORT, source_name=source,
        status=AnnotationStatus.SUBMITTED, **{f"{answer}__isnull": False},
    )
    if not answers.exists():
        raise ApplicationError(f"No imported labels come from the source {source!r}.", extra={"source": source})
    candidates = Task.objects.filter(dataset=dataset, is_gold=False, pk__in=answers.values("task_id"))
    task_ids = list(candidates.order_by("random_key").values_list("pk", flat=True)[:limit])
    known = answers.filter(task=OuterRef("pk")).values(f"{answer}_id")[:1]
    with transaction.atomic():
        return Task.objects.filter(pk__in=task_ids).update(
            is_gold=True, gold_since=timezone.now(), **{f"gold_{answer}_id": Subquery(known)}
        )


def gold_demote(*, dataset: Dataset, task_ids: list[int]) -> int:
    """Turn gold items back into ordinary tasks (their answers stay)."""
    return Task.objects.filter(dataset=dataset, pk__in=task_ids, is_gold=True).update(
        is_gold=False, gold_label=None, gold_value=None, gold_since=None
    )
