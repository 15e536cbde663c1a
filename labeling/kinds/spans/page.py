"""What the span partials need: the tokens of the title, the dataset's span types with their keys, the
suggestions (pre-annotations or the model's) and, after an undo, the spans the annotator had given."""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth.models import AbstractBaseUser

from datasets.models import Dataset
from datasets.selectors import label_list
from labeling.kinds.spans.answers import task_tokens
from labeling.models import EventAction, LabelEvent, Task
from labeling.selectors import suggestions_visible

TYPE_KEYS = 9  # keys 1-9 give a type; a dataset has at most that many
# A type's colour by its key: hues far apart in order, each dark enough for white text and a 3:1 border.
COLORS = ("#1f6fd1", "#c2410c", "#15803d", "#9333ea", "#b91c1c", "#0e7490", "#a16207", "#be185d", "#4d5b6b")


def span_types(*, dataset: Dataset) -> list[dict[str, Any]]:
    """The dataset's span types in their order (the labels', by id: the order they were set), keyed 1-9."""
    labels = sorted(label_list(dataset=dataset), key=lambda label: label.pk)[:TYPE_KEYS]
    return [
        {"id": label.pk, "name": label.name, "code": label.code, "key": str(i), "color": COLORS[i - 1]}
        for i, label in enumerate(labels, start=1)
    ]


def item_context(*, task: Task) -> dict[str, Any]:
    tokens = task_tokens(task.product, dataset=task.dataset)
    return {
        "product": task.product,
        "tokens": [{"i": token.id, "text": token.text, "ws": token.ws} for token in tokens],
    }


def suggested_spans(*, dataset: Dataset, task: Task, types: list[dict[str, Any]] | None = None) -> list[dict]:
    """The task's suggested spans of the dataset's types (token_end inclusive), unless hidden for this task."""
    if not suggestions_visible(dataset=dataset, task=task):
        return []
    if types is not None:
        known = {span_type["id"] for span_type in types}
    elif hasattr(task, "dataset_label_ids"):  # read by next's claim with the task (labels_with_task)
        known = set(task.dataset_label_ids)
    else:
        known = {span_type["id"] for span_type in span_types(dataset=dataset)}
    return [
        {"start": start, "end": end, "label_id": label, "probability": probability}
        for start, end, label, probability in (entry for entry in task.suggestions or [] if len(entry) == 4)
        if label in known
    ]


def page_context(*, dataset: Dataset, task: Task, user: AbstractBaseUser) -> dict[str, Any]:
    types = span_types(dataset=dataset)
    suggestions = suggested_spans(dataset=dataset, task=task, types=types)
    return {
        **item_context(task=task),
        "span_types": types,
        "suggested_spans": suggestions,
        "given_spans": undone_spans(task=task, user=user),
        "suggestions_shown": bool(suggestions),
    }


def undone_spans(*, task: Task, user: AbstractBaseUser) -> list[dict[str, int]]:
    """The spans of the user's answer that an undo just reopened, to mend rather than mark again; [] when the
    task was not reopened by their undo."""
    last = (
        LabelEvent.objects.filter(task=task, user=user)
        .order_by("-created_at", "-id")
        .select_related("old_value")
        .first()
    )
    if last is None or last.action != EventAction.UNDO or last.old_value is None:
        return []
    return [{"start": start, "end": end, "label_id": label} for start, end, label in last.old_value.value]


def posted_spans(raw: Any) -> list[dict[str, int]]:
    """The spans of a refused answer as the editor gives them back: its well-formed triples, as they were (the
    refusal said what is wrong with them); [] when it could not be read."""
    try:
        spans = json.loads(raw or "[]")
    except (TypeError, ValueError):
        return []
    if not isinstance(spans, list):
        return []
    return [
        {"start": span[0], "end": span[1], "label_id": span[2]}
        for span in spans
        if isinstance(span, list) and len(span) == 3 and all(type(part) is int for part in span)
    ]
