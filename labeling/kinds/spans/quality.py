"""A span dataset's agreement figures for the quality report: span F1 between annotators (exact and
overlapping match, per type and per pair) and token-level kappa and alpha, over the tasks two or more people
(or imports) marked. The shared figures compare whole answers; these say how close two different ones are."""

from __future__ import annotations

from typing import Any

from datasets.models import Dataset, Label
from labeling.kinds.spans.agreement import span_agreement, token_agreement
from labeling.kinds.spans.answers import task_tokens
from labeling.models import Annotation, AnnotationStatus, LabelSource, Task

FETCH_ROWS = 5_000


def span_quality(
    *, dataset: Dataset, last_id: int, names: dict[int, str], sources: dict[str, int]
) -> dict[str, Any]:
    """{"spans": span_agreement's figures, with "tokens": token_agreement's}, raters named as in the report."""
    codes = dict(Label.objects.filter(dataset=dataset).values_list("pk", "code"))
    rows = (
        Annotation.objects.filter(
            dataset=dataset, status=AnnotationStatus.SUBMITTED, value__isnull=False, pk__lte=last_id,
            source__in=[LabelSource.HUMAN, LabelSource.IMPORT],
        )
        .order_by("task_id", "pk")
        .values_list("task_id", "user_id", "source_name", "value__value")
    )
    items: dict[int, dict[str, list[tuple[int, int, str]]]] = {}
    for task_id, user_id, source_name, value in rows.iterator(chunk_size=FETCH_ROWS):
        rater = user_id if user_id is not None else sources.get(source_name)
        name = names.get(rater) or f"user {rater}"
        spans = [(start, end, codes.get(label, str(label))) for start, end, label in value]
        items.setdefault(task_id, {})[name] = spans
    shared = {task_id: by_rater for task_id, by_rater in items.items() if len(by_rater) >= 2}
    lengths = {
        task.pk: len(task_tokens(task.product))
        for task in Task.objects.filter(pk__in=list(shared)).select_related("product").iterator(chunk_size=FETCH_ROWS)
    }
    shared = {task_id: by_rater for task_id, by_rater in shared.items() if task_id in lengths}
    return {"spans": {**span_agreement(shared), "tokens": token_agreement(shared, lengths)}}
