"""Rescoring: the active model's top-3 suggestions and uncertainty for every open task, written in bulk."""

import csv
import io
import json
from collections.abc import Callable, Sequence

from django.db import connection, transaction

from datasets.models import Dataset
from labeling.models import Task
from models_app.ml import score
from models_app.services.examples import open_task_texts

SUGGESTIONS = 3

_STAGE = """
CREATE TEMP TABLE IF NOT EXISTS task_score_stage (
    task_id bigint PRIMARY KEY, suggestions jsonb, uncertainty double precision, priority double precision
)
"""
_APPLY = """
UPDATE labeling_task AS task
SET suggestions = stage.suggestions, uncertainty = stage.uncertainty, priority = stage.priority
FROM task_score_stage AS stage
WHERE task.id = stage.task_id
"""


def _write_postgres(rows: Sequence[tuple[int, list, float, float]]) -> None:
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
        cursor.execute(_APPLY)


def _write_generic(rows: Sequence[tuple[int, list, float, float]]) -> None:
    Task.objects.bulk_update(
        [Task(pk=task_id, suggestions=s, uncertainty=u, priority=p) for task_id, s, u, p in rows],
        ["suggestions", "uncertainty", "priority"],
        batch_size=1000,
    )


def tasks_rescore(
    *,
    dataset: Dataset,
    pipeline: object,
    fields: Sequence[str],
    strategy: str,
    prioritize: bool,
    check: Callable[[], None] = lambda: None,
) -> int:
    """Score every open task; priorities follow uncertainty unless the model is still in its cold start.

    `check()` runs before each page is written, so a cancelled run stops between pages.
    """
    write = _write_postgres if connection.vendor == "postgresql" else _write_generic
    scored = 0
    for task_ids, texts in open_task_texts(dataset=dataset, fields=fields):
        for chunk in score(pipeline=pipeline, texts=texts, k=SUGGESTIONS, strategy=strategy, chunk_size=len(texts)):
            rows = [
                (
                    task_id,
                    [[int(label), round(float(p), 4)] for label, p in zip(labels, probs, strict=True)],
                    round(float(uncertainty), 6),
                    round(float(uncertainty), 6) if prioritize else 0.0,
                )
                for task_id, labels, probs, uncertainty in zip(
                    task_ids, chunk.top_labels, chunk.top_probs, chunk.uncertainty, strict=True
                )
            ]
            check()
            with transaction.atomic():
                write(rows)
            scored += len(rows)
    return scored
