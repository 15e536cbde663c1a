"""The label history: append-only events, written by the services that change labels."""

from django.contrib.auth.models import AbstractBaseUser

from datasets.models import Label
from labeling.models import Annotation, AnswerValue, EventAction, LabelEvent, LabelSource, Task


def label_event_record(
    *,
    task: Task,
    action: EventAction,
    user: AbstractBaseUser | None,
    old_label: Label | None = None,
    new_label: Label | None = None,
    old_value: AnswerValue | None = None,
    new_value: AnswerValue | None = None,
    annotation: Annotation | None = None,
    flagged: bool = False,
    source: LabelSource = LabelSource.HUMAN,
    source_name: str = "",
) -> LabelEvent:
    return LabelEvent.objects.create(
        dataset_id=task.dataset_id,
        task=task,
        user=user,
        action=action,
        old_label=old_label,
        new_label=new_label,
        old_value=old_value,
        new_value=new_value,
        annotation_id=annotation.pk if annotation else None,
        flagged=flagged,
        source=source,
        source_name=source_name,
    )


def label_events_bulk_record(events: list[LabelEvent]) -> None:
    """Many events at once, for imports; the rows are final when written."""
    LabelEvent.objects.bulk_create(events, batch_size=2000)
