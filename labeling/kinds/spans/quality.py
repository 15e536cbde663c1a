"""A span dataset's agreement figures for the quality report: span F1 between annotators (exact and
overlapping match, per type and per pair) and token-level kappa and alpha, over the tasks two or more people
(or imports) marked. The shared figures compare whole answers; these say how close two different ones are.

And how far the pre-annotation can be trusted: per type, how many products have a value for it, in how many
it is in the title, and, against the resolved answers, the share of its spans people kept (precision) and of
their spans it had found (recall)."""

from __future__ import annotations

from typing import Any

from datasets.models import Dataset, Label
from labeling.kinds.spans.agreement import span_agreement, token_agreement
from labeling.kinds.spans.answers import task_tokens
from labeling.kinds.spans.preannotate import attribute_labels, preannotate
from labeling.models import Annotation, AnnotationStatus, AnswerValue, LabelSource, Task
from labeling.resolve import LabelPolicy, resolved_labels

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
        task.pk: len(task_tokens(task.product, dataset=dataset))
        for task in Task.objects.filter(pk__in=list(shared)).select_related("product").iterator(chunk_size=FETCH_ROWS)
    }
    shared = {task_id: by_rater for task_id, by_rater in shared.items() if task_id in lengths}
    return {
        "spans": {
            **span_agreement(shared),
            "tokens": token_agreement(shared, lengths),
            "preannotation": preannotation_figures(dataset=dataset, codes=codes, last_id=last_id),
        }
    }


def preannotation_figures(*, dataset: Dataset, codes: dict[int, str], last_id: int) -> dict[str, Any]:
    """The pre-annotation of every product run again (the stored suggestions may be a model's by now), per type:
    products with a value, found in the title, and against the resolved answers precision and recall."""
    mapping = attribute_labels(list(codes.values()))
    resolved = dict(resolved_labels(dataset=dataset, policy=LabelPolicy.MAJORITY, answer="value",
                                    upto_annotation_id=last_id))
    values = dict(AnswerValue.objects.filter(pk__in=set(resolved.values())).values_list("pk", "value"))
    answers = {task_id: {(s, e, codes.get(label)) for s, e, label in values[value_id]}
               for task_id, value_id in resolved.items() if value_id in values}
    task_ids: list[int] = []

    def products():
        rows = Task.objects.filter(dataset=dataset).order_by("pk").values_list(
            "pk", "product__title", "product__description", "product__brand", "product__attributes"
        )
        for task_id, title, description, brand, attributes in rows.iterator(chunk_size=FETCH_ROWS):
            task_ids.append(task_id)
            yield {"title": title, "description": description, "brand": brand, "attributes": attributes or {}}

    found = preannotate(products(), mapping=mapping, with_description=dataset.span_description) if mapping else None
    kept = {label: [0, 0, 0] for label in dict.fromkeys(mapping.values())}  # suggested, kept, answered
    for task_id, suggestions in zip(task_ids, found.suggestions if found else [], strict=True):
        answer = answers.get(task_id)
        if answer is None:
            continue
        suggested = {(s.token_start, s.token_end, s.label) for s in suggestions}
        for label, counts in kept.items():
            mine = {span for span in suggested if span[2] == label}
            theirs = {span for span in answer if span[2] == label}
            counts[0] += len(mine)
            counts[1] += len(mine & theirs)
            counts[2] += len(theirs)
    return {
        "answered_tasks": len(answers),
        "types": [
            {
                "label": label,
                **(found.report[label].as_dict() if found else {}),
                "precision": counts[1] / counts[0] if counts[0] else None,
                "recall": counts[1] / counts[2] if counts[2] else None,
            }
            for label, counts in kept.items()
        ],
    }
