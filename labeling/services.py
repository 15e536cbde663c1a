"""The only way annotations change: submit, skip, undo. Each owns its transaction and writes history."""

from functools import partial

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from config.errors import ApplicationError
from datasets.models import Dataset, Label
from labeling.history import label_event_record
from labeling.kinds.matching.checks import pair_conflicts_check_request
from labeling.models import Annotation, AnnotationStatus, EventAction, Lease, Task
from labeling.queue import lease_grant
from labeling.review import review_flags_refresh
from labeling.signals import answers_submitted

MAX_ACTIVE_SECONDS = 24 * 3600


def _lock_task(task: Task) -> Task:
    # Only the task row, and NO KEY: locking the dataset row too would queue every submit of a dataset
    # behind one lock, and a plain FOR UPDATE would block the foreign-key checks of other writers.
    return Task.objects.select_for_update(no_key=True, of=("self",)).select_related("dataset").get(pk=task.pk)


def _check_slot(*, task: Task, user: AbstractBaseUser) -> None:
    """A late answer is welcome while the task still needs one; otherwise the lease had to be live."""
    now = timezone.now()
    if Lease.objects.filter(task=task, user=user, expires_at__gt=now).exists():
        return
    if task.is_gold:
        return
    leased = Lease.objects.filter(task=task, expires_at__gt=now).exclude(user=user).count()
    if task.is_complete or task.annotation_count + leased >= task.dataset.overlap:
        raise ApplicationError(
            "This task is no longer yours: its lease expired and other annotators completed it.",
            extra={"task": task.pk},
        )


def _answer_of(*, task: Task, user: AbstractBaseUser) -> tuple[Annotation, bool]:
    """The user's annotation of the (locked) task, or a new one if they may still answer it."""
    annotation = Annotation.objects.filter(task=task, user=user).select_related("label").first()
    if annotation is not None:
        return annotation, False
    _check_slot(task=task, user=user)
    return Annotation(task=task, dataset_id=task.dataset_id, user=user), True


def _clean_seconds(active_seconds: float | None) -> float | None:
    if active_seconds is None:
        return None
    if active_seconds < 0:
        raise ApplicationError("active_seconds cannot be negative.")
    return min(float(active_seconds), MAX_ACTIVE_SECONDS)


def _recount(task: Task, delta: int) -> None:
    task.annotation_count += delta
    task.is_complete = task.annotation_count >= task.dataset.overlap
    task.save(update_fields=["annotation_count", "is_complete"])


def annotation_submit(
    *,
    task: Task,
    user: AbstractBaseUser,
    label: Label | None,
    flagged: bool = False,
    active_seconds: float | None = None,
    suggestions_shown: bool = False,
) -> Annotation:
    """Record the user's answer for a task; answering again changes it (history keeps both)."""
    if label is None and not flagged:
        raise ApplicationError("Choose a label, or flag the task.")
    if label is not None and label.dataset_id != task.dataset_id:
        raise ApplicationError("This label belongs to another dataset.", extra={"label": label.pk})
    seconds = _clean_seconds(active_seconds)
    with transaction.atomic():
        task = _lock_task(task)
        annotation, is_new = _answer_of(task=task, user=user)
        old_label = annotation.label
        action = EventAction.CREATE if is_new else EventAction.CHANGE
        counted_before = not is_new and annotation.status == AnnotationStatus.SUBMITTED
        annotation.status = AnnotationStatus.SUBMITTED
        annotation.label = label
        annotation.flagged = flagged
        annotation.active_seconds = seconds
        annotation.suggestions_shown = suggestions_shown
        annotation.save()
        if not counted_before:
            _recount(task, +1)
        if flagged or task.annotation_count > 1 or task.needs_review:  # a lone clean answer cannot disagree
            review_flags_refresh(task_ids=[task.pk])
        Lease.objects.filter(task=task, user=user).delete()
        transaction.on_commit(partial(answers_submitted.send, sender=Annotation, dataset=task.dataset))
        pair_conflicts_check_request(dataset=task.dataset)
        label_event_record(
            task=task,
            action=action,
            user=user,
            old_label=old_label,
            new_label=label,
            annotation=annotation,
            flagged=flagged,
        )
    return annotation


def annotation_skip(*, task: Task, user: AbstractBaseUser, active_seconds: float | None = None) -> Annotation:
    """Pass on a task: it never comes back to this user, and stays open for others."""
    seconds = _clean_seconds(active_seconds)
    with transaction.atomic():
        task = _lock_task(task)
        annotation, is_new = _answer_of(task=task, user=user)
        old_label = annotation.label
        if not is_new and annotation.status == AnnotationStatus.SUBMITTED:
            _recount(task, -1)
        annotation.status = AnnotationStatus.SKIPPED
        annotation.label = None
        annotation.flagged = False
        annotation.active_seconds = seconds
        annotation.save()
        if task.needs_review:  # removing an answer can only settle a disagreement, never start one
            review_flags_refresh(task_ids=[task.pk])
        Lease.objects.filter(task=task, user=user).delete()
        label_event_record(task=task, action=EventAction.SKIP, user=user, old_label=old_label, annotation=annotation)
    return annotation


def annotation_undo(*, dataset: Dataset, user: AbstractBaseUser) -> Task:
    """Reopen the user's most recent answer (submit or skip): it is removed and the task leased back to them."""
    with transaction.atomic():
        last = (
            Annotation.objects.filter(dataset=dataset, user=user)
            .order_by("-updated_at", "-id")
            .values_list("pk", "task_id")
            .first()
        )
        if last is None:
            raise ApplicationError("Nothing to undo.")
        task = _lock_task(Task(pk=last[1]))
        annotation = Annotation.objects.select_related("label").get(pk=last[0])
        if annotation.status == AnnotationStatus.SUBMITTED:
            _recount(task, -1)
        label_event_record(
            task=task,
            action=EventAction.UNDO,
            user=user,
            old_label=annotation.label,
            annotation=annotation,
            flagged=annotation.flagged,
        )
        annotation.delete()
        if task.needs_review:
            review_flags_refresh(task_ids=[task.pk])
        lease_grant(dataset=dataset, task=task, user=user, now=timezone.now())
        pair_conflicts_check_request(dataset=dataset)
    return task
