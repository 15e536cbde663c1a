"""The model's scores of open tasks (suggestions, uncertainty, queue priority), written in bulk by labeling alone."""

import csv
import io
import json
from collections.abc import Sequence

from django.db import connection, transaction

from datasets.models import Dataset
from labeling.models import Task

# (task id, suggestions [[label id, probability], ...], uncertainty, priority)
TaskScore = tuple[int, list[list[float]], float, float]

_STAGE = """
CREATE TEMP TABLE IF NOT EXISTS task_score_stage (
    task_id bigint PRIMARY KEY, suggestions jsonb, uncertainty double precision, priority double precision
)
"""
_APPLY = """
UPDATE labeling_task AS task
SET suggestions = stage.suggestions, uncertainty = stage.uncertainty, priority = stage.priority
FROM task_score_stage AS stage
WHERE task.id = stage.task_id AND task.dataset_id = %s
"""


def _write_postgres(dataset: Dataset, rows: Sequence[TaskScore]) -> None:
    # COPY into a staging table and one UPDATE: a page of 20,000 scores in one round trip, not 20,000.
    buffer = io.StringIO()
    csv.writer(buffer).writerows(
        (task_id, json.dumps(suggestions), uncertainty, priority)
        for task_id, suggestions, uncertainty, priority in rows
    )
    buffer.seek(0)
    with connection.cursor() as cursor:
        cursor.execute(_STAGE)
        cursor.execute("TRUNCATE task_score_stage")
        cursor.cursor.copy_expert("COPY task_score_stage FROM STDIN WITH (FORMAT csv)", buffer)
        cursor.execute(_APPLY, [dataset.pk])


def _write_generic(dataset: Dataset, rows: Sequence[TaskScore]) -> None:
    Task.objects.filter(dataset=dataset).bulk_update(
        [Task(pk=task_id, suggestions=s, uncertainty=u, priority=p) for task_id, s, u, p in rows],
        ["suggestions", "uncertainty", "priority"],
        batch_size=1000,
    )


def task_scores_write(*, dataset: Dataset, rows: Sequence[TaskScore]) -> None:
    """Set the scores of the dataset's tasks in `rows`, all or none; ids of other datasets' tasks are ignored."""
    write = _write_postgres if connection.vendor == "postgresql" else _write_generic
    with transaction.atomic():
        write(dataset, rows)
