"""Review: tasks whose answers disagree or carry a flag wait for a reviewer, whose decision is the final label.

`Task.needs_review` is kept by every write that changes a task's answers (submit, skip, undo, imports)
and cleared by a decision, so the review queue is a partial-index lookup, not a scan of the answers.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.utils import timezone

from config.errors import ApplicationError
from datasets.models import Label
from labeling.answer_values import answer_value_intern
from labeling.history import label_event_record
from labeling.kinds.matching.checks import pair_conflicts_check_request
from labeling.models import AnnotationStatus, EventAction, LabelSource, Review, Task
from labeling.queue import task_leases_end

# A task needs review when nobody decided yet and its submitted answers disagree or include a flag, or it is part
# of an open pair conflict (labeling/kinds/matching/models.py).
# Portable SQL: SQLite and PostgreSQL both take the correlated subqueries and the boolean result.
REFRESH_SQL = f"""
UPDATE labeling_task SET needs_review = (
    NOT EXISTS (SELECT 1 FROM labeling_review r WHERE r.task_id = labeling_task.id)
    AND (
        EXISTS (
            SELECT 1 FROM labeling_annotation a
            WHERE a.task_id = labeling_task.id AND a.status = '{AnnotationStatus.SUBMITTED}' AND a.flagged
        )
        -- Two labels, or two values (a span kind's answers: a task has one or the other, never both).
        OR (
            SELECT COUNT(DISTINCT a.label_id) + COUNT(DISTINCT a.value_id) FROM labeling_annotation a
            WHERE a.task_id = labeling_task.id AND a.status = '{AnnotationStatus.SUBMITTED}'
        ) > 1
        -- A pair in an open contradiction (A = B, B = C, A != C) waits for a reviewer too.
        OR EXISTS (
            SELECT 1 FROM labeling_pairconflict c WHERE c.task_id = labeling_task.id AND c.resolved_at IS NULL
        )
    )
)
WHERE labeling_task.id IN ({{ids}})
"""  # noqa: S608 - only placeholders are interpolated
_CHUNK = 500


def review_flags_refresh(*, task_ids: Iterable[int]) -> None:
    """Recompute `needs_review` for these tasks, after their answers changed."""
    ids = sorted(set(task_ids))
    with connection.cursor() as cursor:
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            cursor.execute(REFRESH_SQL.format(ids=", ".join(["%s"] * len(chunk))), chunk)


def review_decide(
    *,
    task: Task,
    reviewer: AbstractBaseUser,
    label: Label | None,
    note: str = "",
    gold: bool = False,
    value: list | None = None,
) -> Review:
    """Record the reviewer's label as the task's final one (again if it was reviewed before); for a kind
    answered with values, the reviewer's `value` (checked by the kind's `value_clean`) instead of a label.

    `gold` also makes the task a gold item with this label, so annotators are measured against it from now
    on (answers given before do not count: they were not given blind, and the item was disputed).
    """
    if (label is None) == (value is None):
        raise ApplicationError("A decision is a label, or for spans a value: one of them.")
    if label is not None and label.dataset_id != task.dataset_id:
        raise ApplicationError("This label belongs to another dataset.", extra={"label": label.pk})
    if label is not None and label.deprecated:
        raise ApplicationError(label.deprecated_reason(), extra={"label": label.pk})
    if len(note) > 500:
        raise ApplicationError("A review note takes at most 500 characters.", extra={"note": len(note)})
    with transaction.atomic():
        task = Task.objects.select_for_update(no_key=True, of=("self",)).get(pk=task.pk)
        review = Review.objects.filter(task=task).select_related("label", "value").first()
        old_label, old_value = (review.label, review.value) if review else (None, None)
        decided = None if value is None else answer_value_intern(task=task, value=value)
        if review is None:
            review = Review(dataset_id=task.dataset_id, task=task)
        review.reviewer = reviewer
        review.label = label
        review.value = decided
        review.note = note
        review.save()
        task.needs_review = False
        task.is_complete = True  # decided: the queue need not ask anyone else
        fields = ["needs_review", "is_complete"]
        if gold and not task.is_gold:
            task.is_gold, task.gold_since = True, timezone.now()
            fields += ["is_gold", "gold_since"]
        if task.is_gold:
            # The decision is the truth: a gold task's known answer follows it, or it would outrank it.
            task.gold_label, task.gold_value = label, decided
            fields += ["gold_label", "gold_value"]
        task.save(update_fields=fields)
        task_leases_end(task=task)  # decided: nobody needs to finish answering it
        label_event_record(
            task=task,
            action=EventAction.REVIEW,
            user=reviewer,
            old_label=old_label,
            new_label=label,
            old_value=old_value,
            new_value=decided,
            source=LabelSource.REVIEW,
            source_name=reviewer.get_username(),
        )
        pair_conflicts_check_request(dataset=task.dataset)
    return review
