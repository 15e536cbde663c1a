"""On PostgreSQL a next and a first clean answer are single statements, each its own transaction (no BEGIN and
COMMIT round trips); an answer that needs the task's review flags recounted still commits with the recount."""

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.db import connection

from config.sql_rows import statement_source
from labeling.models import Annotation, LabelEvent, Lease, Task
from labeling.queue import task_lease_next
from labeling.selectors import task_get
from labeling.services import annotation_submit
from tests.factories import DatasetFactory, LabelFactory, TaskFactory, member


@contextmanager
def statements() -> Iterator[list[tuple[str, bool]]]:
    """Each statement run inside the block, and whether it ran inside a transaction."""
    seen: list[tuple[str, bool]] = []

    def record(execute, sql, params, many, context):
        seen.append((statement_source(sql), connection.in_atomic_block))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        yield seen


def _writes(seen: list[tuple[str, bool]], table: str) -> list[bool]:
    return [in_transaction for sql, in_transaction in seen if f"INSERT INTO {table}" in sql]


@pytest.fixture
def two_answers(postgres, transactional_db):
    """A task that wants two answers, two labels, two annotators."""
    dataset = DatasetFactory(overlap=2, gold_fraction=0, gold_warmup=0)
    labels = [LabelFactory(dataset=dataset, name=name, path=name) for name in ("Audio", "Phones")]
    task = TaskFactory(dataset=dataset)
    return dataset, labels, task, member(dataset, "ann"), member(dataset, "bob")


@pytest.mark.postgres
def test_a_next_and_a_first_clean_answer_run_outside_any_transaction(two_answers):
    dataset, labels, task, ann, _ = two_answers
    with statements() as seen:
        served = task_lease_next(dataset=dataset, user=ann)
        annotation_submit(task=task_get(user=ann, task_id=served.pk), user=ann, label=labels[0])
    assert served.pk == task.pk
    assert seen and not any(in_transaction for _, in_transaction in seen)
    # The lone statements did the whole of their work: the lease given and given back, the answer counted, its event.
    task.refresh_from_db()
    assert (task.annotation_count, task.is_complete, task.needs_review, task.lease_count) == (1, False, False, 0)
    assert not Lease.objects.filter(task=task).exists()
    assert Annotation.objects.get(task=task, user=ann).label_id == labels[0].pk
    assert LabelEvent.objects.filter(task=task, user=ann, new_label=labels[0]).count() == 1


@pytest.mark.postgres
def test_a_second_answer_read_before_the_first_landed_commits_with_its_review_recount(two_answers):
    """Bob's task was read while it had no answer, so his answer is tried alone; Ann's answer landed meanwhile and
    the two disagree. The lone statement must refuse it, and the transaction then writes it with the recount."""
    dataset, labels, task, ann, bob = two_answers
    bobs_task = task_get(user=bob, task_id=task.pk)
    task_lease_next(dataset=dataset, user=ann)
    task_lease_next(dataset=dataset, user=bob)
    annotation_submit(task=task_get(user=ann, task_id=task.pk), user=ann, label=labels[0])
    assert bobs_task.annotation_count == 0  # as read: no answer yet
    with statements() as seen:
        annotation_submit(task=bobs_task, user=bob, label=labels[1])
    assert _writes(seen, "labeling_annotation")[-1] is True
    recounts = [in_transaction for sql, in_transaction in seen if "UPDATE labeling_task SET needs_review" in sql]
    assert recounts == [True]
    task.refresh_from_db()
    assert (task.annotation_count, task.is_complete, task.needs_review) == (2, True, True)
    assert Annotation.objects.filter(task=task).count() == 2


@pytest.mark.postgres
def test_a_flagged_answer_is_written_in_a_transaction(two_answers):
    dataset, _, task, ann, _ = two_answers
    task_lease_next(dataset=dataset, user=ann)
    with statements() as seen:
        annotation_submit(task=task_get(user=ann, task_id=task.pk), user=ann, label=None, flagged=True)
    assert _writes(seen, "labeling_annotation") == [True]
    task = Task.objects.get(pk=task.pk)
    assert (task.annotation_count, task.needs_review) == (1, True)
