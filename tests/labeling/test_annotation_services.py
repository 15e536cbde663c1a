from datetime import timedelta

import pytest
import time_machine
from django.db import DatabaseError, transaction
from django.utils import timezone

from config.errors import ApplicationError
from labeling.models import Annotation, EventAction, LabelEvent, Lease
from labeling.queue import task_lease_next
from labeling.services import annotation_skip, annotation_submit, annotation_undo
from tests.factories import LabelFactory, member

pytestmark = pytest.mark.django_db


def test_submit_records_the_annotation_completes_the_task_and_writes_history(catalog):
    user = member(catalog, "ann")
    task = task_lease_next(dataset=catalog, user=user)
    label = catalog.labels.first()
    annotation = annotation_submit(task=task, user=user, label=label, active_seconds=3.5)
    task.refresh_from_db()
    assert (annotation.label, annotation.active_seconds, task.is_complete) == (label, 3.5, True)
    assert not Lease.objects.filter(task=task).exists()
    assert list(LabelEvent.objects.filter(task=task).values_list("action", "new_label")) == [
        (EventAction.CREATE, label.pk)
    ]


def test_submit_without_label_or_flag_is_refused(catalog):
    user = member(catalog, "ann")
    with pytest.raises(ApplicationError, match="Choose a label"):
        annotation_submit(task=task_lease_next(dataset=catalog, user=user), user=user, label=None)


def test_a_flag_alone_is_a_valid_answer(catalog):
    user = member(catalog, "ann")
    annotation = annotation_submit(
        task=task_lease_next(dataset=catalog, user=user), user=user, label=None, flagged=True
    )
    assert annotation.flagged


def test_a_label_of_another_dataset_is_refused(catalog):
    user = member(catalog, "ann")
    with pytest.raises(ApplicationError, match="another dataset"):
        annotation_submit(task=task_lease_next(dataset=catalog, user=user), user=user, label=LabelFactory())


def test_undo_reopens_the_last_task_for_the_same_user(catalog):
    user = member(catalog, "ann")
    label = catalog.labels.first()
    first = task_lease_next(dataset=catalog, user=user)
    annotation_submit(task=first, user=user, label=label)
    second = task_lease_next(dataset=catalog, user=user)
    annotation_submit(task=second, user=user, label=label)
    reopened = annotation_undo(dataset=catalog, user=user)
    reopened.refresh_from_db()
    assert reopened == second
    assert (reopened.annotation_count, reopened.is_complete) == (0, False)
    assert task_lease_next(dataset=catalog, user=user) == second


def test_undo_keeps_every_step_in_the_history(catalog):
    user = member(catalog, "ann")
    labels = list(catalog.labels.all())
    task = task_lease_next(dataset=catalog, user=user)
    annotation_submit(task=task, user=user, label=labels[0])
    annotation_undo(dataset=catalog, user=user)
    annotation_submit(task=task, user=user, label=labels[1])
    history = list(LabelEvent.objects.filter(task=task).values_list("action", "old_label", "new_label"))
    assert history == [
        (EventAction.CREATE, None, labels[0].pk),
        (EventAction.UNDO, labels[0].pk, None),
        (EventAction.CREATE, None, labels[1].pk),
    ]


def test_undo_with_nothing_to_undo_is_a_clear_error(catalog):
    with pytest.raises(ApplicationError, match="Nothing to undo"):
        annotation_undo(dataset=catalog, user=member(catalog, "ann"))


def test_skip_then_undo_serves_the_skipped_task_again(catalog):
    user = member(catalog, "ann")
    task = task_lease_next(dataset=catalog, user=user)
    annotation_skip(task=task, user=user)
    assert annotation_undo(dataset=catalog, user=user) == task
    assert not Annotation.objects.filter(task=task, user=user).exists()


def test_a_late_answer_for_a_task_completed_by_others_is_refused(catalog):
    a, b = member(catalog, "a"), member(catalog, "b")
    task = task_lease_next(dataset=catalog, user=a)
    with time_machine.travel(timezone.now() + timedelta(minutes=catalog.lease_minutes, seconds=1)):
        annotation_submit(task=task, user=b, label=catalog.labels.first())  # a's lease expired: the slot is free
        with pytest.raises(ApplicationError, match="no longer yours"):
            annotation_submit(task=task, user=a, label=catalog.labels.first())


def test_negative_active_time_is_refused(catalog):
    user = member(catalog, "ann")
    with pytest.raises(ApplicationError, match="negative"):
        annotation_submit(
            task=task_lease_next(dataset=catalog, user=user), user=user, label=catalog.labels.first(), active_seconds=-1
        )


def test_label_events_cannot_be_updated(catalog):
    user = member(catalog, "ann")
    annotation_submit(task=task_lease_next(dataset=catalog, user=user), user=user, label=catalog.labels.first())
    with pytest.raises(DatabaseError), transaction.atomic():
        LabelEvent.objects.update(action=EventAction.REVIEW)
