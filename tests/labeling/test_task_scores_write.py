"""The model's scores reach the queue through labeling's own write (COPY on PostgreSQL, bulk UPDATE elsewhere)."""

import numpy as np
import pytest

from labeling.models import Task
from labeling.scores import TaskScoresWriter, task_scores_write, task_scores_write_arrays
from tests.factories import DatasetFactory, TaskFactory

pytestmark = pytest.mark.django_db


def test_scores_are_written_to_the_datasets_tasks_only():
    dataset = DatasetFactory()
    mine, untouched = TaskFactory(dataset=dataset), TaskFactory(dataset=dataset)
    foreign = TaskFactory(dataset=DatasetFactory())
    task_scores_write(dataset=dataset, rows=[(mine.pk, [[7, 0.9]], 0.1, 0.1), (foreign.pk, [[8, 0.5]], 0.5, 0.5)])
    scores = {
        pk: (suggestions, uncertainty, priority)
        for pk, suggestions, uncertainty, priority in Task.objects.values_list(
            "pk", "suggestions", "uncertainty", "priority"
        )
    }
    assert scores[mine.pk] == ([[7, 0.9]], 0.1, 0.1)
    assert scores[untouched.pk] == scores[foreign.pk] == (None, None, 0.0)


def _scores(*tasks: Task) -> list[tuple]:
    rows = Task.objects.filter(pk__in=[task.pk for task in tasks]).order_by("pk")
    return list(rows.values_list("suggestions", "uncertainty", "priority"))


def test_scores_as_arrays_are_written_as_the_rows_would_be():
    dataset = DatasetFactory()
    tasks = TaskFactory.create_batch(3, dataset=dataset)
    foreign = TaskFactory(dataset=DatasetFactory())
    probabilities = np.array([[0.7969, 0.2031], [1.0, 0.0], [0.1, 0.9]])
    task_scores_write_arrays(
        dataset=dataset,
        task_ids=np.array([task.pk for task in tasks] + [foreign.pk]),
        labels=[7, 8],
        probabilities=np.vstack([probabilities, [[0.5, 0.5]]]),
        uncertainty=np.array([0.406133, 0.0, 0.2, 0.5]),
        priority=np.array([0.406133, 0.0, 0.0, 0.5]),
    )
    arrays = _scores(*tasks)
    task_scores_write(
        dataset=dataset,
        rows=[(task.pk, [[7, p], [8, q]], u, r) for task, (p, q), u, r in
              zip(tasks, probabilities.tolist(), [0.406133, 0.0, 0.2], [0.406133, 0.0, 0.0], strict=True)],
    )
    assert arrays == _scores(*tasks)
    assert arrays[1][0] == [[7, 1.0], [8, 0.0]] and isinstance(arrays[1][0][0][1], float)  # 1.0 stays a float
    assert _scores(foreign) == [(None, None, 0.0)]


def test_scores_as_arrays_take_a_label_row_per_task():
    dataset = DatasetFactory()
    first, second = TaskFactory.create_batch(2, dataset=dataset)
    task_scores_write_arrays(
        dataset=dataset,
        task_ids=np.array([first.pk, second.pk]),
        labels=np.array([[3, 1, 2], [2, 3, 1]]),
        probabilities=np.array([[0.6, 0.3, 0.1], [0.5, 0.25, 0.25]]),
        uncertainty=np.array([0.4, 0.5]),
        priority=np.array([0.4, 0.5]),
    )
    assert _scores(first, second) == [([[3, 0.6], [1, 0.3], [2, 0.1]], 0.4, 0.4),
                                      ([[2, 0.5], [3, 0.25], [1, 0.25]], 0.5, 0.5)]


def test_the_writer_writes_pages_in_the_callers_transaction(postgres):
    dataset = DatasetFactory()
    task = TaskFactory(dataset=dataset)
    with TaskScoresWriter(dataset=dataset) as writer:
        assert not writer.background  # the test's transaction holds the task: another connection would not see it
        writer.write(task_ids=[task.pk], labels=[1], probabilities=np.array([[0.25]]),
                     uncertainty=np.array([0.5]), priority=np.array([0.5]))
    assert _scores(task) == [([[1, 0.25]], 0.5, 0.5)]


@pytest.mark.django_db(transaction=True)
def test_the_writer_writes_pages_beside_the_caller_on_postgresql(postgres):
    dataset = DatasetFactory()
    tasks = TaskFactory.create_batch(4, dataset=dataset)
    with TaskScoresWriter(dataset=dataset) as writer:
        assert writer.background
        for page in (tasks[:2], tasks[2:]):
            writer.write(task_ids=[task.pk for task in page], labels=[1], probabilities=np.array([[0.25], [0.75]]),
                         uncertainty=np.array([0.5, 0.5]), priority=np.array([0.1, 0.2]))
    assert _scores(*tasks) == [([[1, 0.25]], 0.5, 0.1), ([[1, 0.75]], 0.5, 0.2)] * 2


@pytest.mark.django_db(transaction=True)
def test_a_failed_page_stops_the_writer_and_reaches_the_caller(postgres):
    dataset = DatasetFactory()
    tasks = TaskFactory.create_batch(3, dataset=dataset)
    page = {"probabilities": np.array([[0.5]]), "uncertainty": np.zeros(1), "priority": np.zeros(1)}
    with pytest.raises(ValueError, match="broadcast"), TaskScoresWriter(dataset=dataset) as writer:
        for task, labels in zip(tasks, [[1], [1, 2], [1]], strict=True):  # the second page's labels do not fit
            writer.write(task_ids=[task.pk], labels=labels, **page)
    # The third page may be written meanwhile by the other writer, or dropped.
    assert [suggestions for suggestions, _, _ in _scores(*tasks)][:2] == [[[1, 0.5]], None]


@pytest.mark.django_db(transaction=True)
def test_flush_waits_for_every_page_handed_over(postgres):
    dataset = DatasetFactory()
    tasks = TaskFactory.create_batch(6, dataset=dataset)
    with TaskScoresWriter(dataset=dataset, writers=3) as writer:
        for task in tasks:
            writer.write(task_ids=[task.pk], labels=[1], probabilities=np.array([[0.25]]),
                         uncertainty=np.array([0.5]), priority=np.array([0.1]))
        writer.flush()
        assert _scores(*tasks) == [([[1, 0.25]], 0.5, 0.1)] * 6
        writer.write(task_ids=[tasks[0].pk], labels=[2], probabilities=np.array([[0.75]]),
                     uncertainty=np.array([0.5]), priority=np.array([1.5]))
    assert _scores(tasks[0]) == [([[2, 0.75]], 0.5, 1.5)]
