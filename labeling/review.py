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
from labeling.history import label_event_record
from labeling.kinds.matching.checks import pair_conflicts_check_request
from labeling.models import AnnotationStatus, EventAction, LabelSource, Lease, Review, Task

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
        OR (
            SELECT COUNT(DISTINCT a.label_id) FROM labeling_annotation a
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
    *, task: Task, reviewer: AbstractBaseUser, label: Label, note: str = "", gold: bool = False
) -> Review:
    """Record the reviewer's label as the task's final one (again if it was reviewed before).

    `gold` also makes the task a gold item with this label, so annotators are measured against it from now
    on (answers given before do not count: they were not given blind, and the item was disputed).
    """
    if label.dataset_id != task.dataset_id:
        raise ApplicationError("This label belongs to another dataset.", extra={"label": label.pk})
    if len(note) > 500:
        raise ApplicationError("A review note takes at most 500 characters.", extra={"note": len(note)})
    with transaction.atomic():
        task = Task.objects.select_for_update(no_key=True, of=("self",)).get(pk=task.pk)
        review = Review.objects.filter(task=task).select_related("label").first()
        old_label = review.label if review else None
        if review is None:
            review = Review(dataset_id=task.dataset_id, task=task)
        review.reviewer = reviewer
        review.label = label
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
            task.gold_label = label
            fields.append("gold_label")
        task.save(update_fields=fields)
        Lease.objects.filter(task=task).delete()  # decided: nobody needs to finish answering it
        label_event_record(
            task=task,
            action=EventAction.REVIEW,
            user=reviewer,
            old_label=old_label,
            new_label=label,
            source=LabelSource.REVIEW,
            source_name=reviewer.get_username(),
        )
        pair_conflicts_check_request(dataset=task.dataset)
    return review
