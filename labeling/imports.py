"""Imported answers: labels that arrive with a file (a labeled column, a Label Studio or Prodigy export), or values
(a Prodigy span file's spans).

An imported answer is an annotation without a user, one per source and task; importing the source again
changes it in place. Set-based: a few statements per batch, never a query per answer.
"""

from django.db.models import F, Q
from django.utils import timezone

from datasets.models import Dataset, Label
from labeling.history import label_events_bulk_record
from labeling.kinds.matching.checks import pair_conflicts_check_request
from labeling.models import Annotation, EventAction, LabelEvent, LabelSource, Task
from labeling.review import review_flags_refresh


def imported_answers_write(*, dataset: Dataset, answers: dict[int, Label], source_name: str) -> int:
    """Record `answers` (task id -> label) from import source `source_name`; returns how many were new or changed."""
    new, changed = _imported_write(
        dataset=dataset, answers={task_id: label.pk for task_id, label in answers.items()}, source_name=source_name,
        answer="label",
    )
    return new + changed


def imported_values_write(*, dataset: Dataset, values: dict[int, int], source_name: str) -> tuple[int, int]:
    """Record `values` (task id -> `AnswerValue` id, `labeling.answer_values`) from import source `source_name`, for
    a kind answered with values (spans); returns how many answers were (new, changed)."""
    return _imported_write(dataset=dataset, answers=values, source_name=source_name, answer="value")


def _imported_write(*, dataset: Dataset, answers: dict[int, int], source_name: str, answer: str) -> tuple[int, int]:
    """`answers` (task id -> the id in the `answer` column: "label" or "value") as the source's annotations."""
    column = f"{answer}_id"
    current = {
        annotation.task_id: annotation
        for annotation in Annotation.objects.filter(task_id__in=list(answers), user=None, source_name=source_name)
    }
    new, changed, events = [], [], []
    now = timezone.now()
    for task_id, answer_id in answers.items():
        annotation = current.get(task_id)
        if annotation is None:
            new.append(
                Annotation(
                    dataset=dataset, task_id=task_id, user=None, source=LabelSource.IMPORT, source_name=source_name,
                    **{column: answer_id},
                )
            )
            events.append((task_id, EventAction.IMPORT, None, answer_id))
        elif getattr(annotation, column) != answer_id:
            events.append((task_id, EventAction.CHANGE, getattr(annotation, column), answer_id))
            setattr(annotation, column, answer_id)
            annotation.updated_at = now  # bulk_update skips auto_now
            changed.append(annotation)
    Annotation.objects.bulk_create(new)
    Annotation.objects.bulk_update(changed, [answer, "updated_at"])
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
    if touched:
        pair_conflicts_check_request(dataset=dataset)
    label_events_bulk_record(
        [
            LabelEvent(
                dataset=dataset, task_id=task_id, action=action, source=LabelSource.IMPORT, source_name=source_name,
                **{f"old_{column}": old_id, f"new_{column}": new_id},
            )
            for task_id, action, old_id, new_id in events
        ]
    )
    return len(new), len(changed)


def task_ids_by_external_id(*, dataset: Dataset, external_ids: list[str]) -> dict[str, int]:
    """The task of each single-product task's product, by the product's external id."""
    return dict(
        Task.objects.filter(dataset=dataset, product__external_id__in=external_ids).values_list(
            "product__external_id", "pk"
        )
    )
