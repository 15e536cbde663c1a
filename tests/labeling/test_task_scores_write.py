"""The model's scores reach the queue through labeling's own write (COPY on PostgreSQL, bulk UPDATE elsewhere)."""

import pytest

from labeling.models import Task
from labeling.scores import task_scores_write
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
