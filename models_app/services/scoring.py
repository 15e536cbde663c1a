"""Rescoring: the active model's top-3 suggestions and uncertainty for every open task, written in bulk."""

from collections.abc import Callable, Sequence

import numpy as np

from datasets.models import Dataset
from labeling.scores import TaskScoresWriter
from models_app.ml import score
from models_app.services.examples import open_task_texts

SUGGESTIONS = 3


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

    `check()` runs before each page is handed to the writer, so a cancelled run stops between pages. Pages are
    written (all or nothing each) on the writer's thread while the next is scored.
    """
    scored = 0
    with TaskScoresWriter(dataset=dataset) as writer:
        for task_ids, texts in open_task_texts(dataset=dataset, fields=fields):
            for chunk in score(pipeline=pipeline, texts=texts, k=SUGGESTIONS, strategy=strategy, chunk_size=len(texts)):
                # As round(float(p), 4) and round(float(u), 6) per task: exact on float32 values scaled by 10^k.
                uncertainty = np.round(chunk.uncertainty.astype(np.float64), 6)
                check()
                writer.write(
                    task_ids=np.asarray(task_ids, dtype=np.int64),
                    labels=np.asarray(chunk.top_labels, dtype=np.int64),
                    probabilities=np.round(chunk.top_probs.astype(np.float64), 4),
                    uncertainty=uncertainty,
                    priority=uncertainty if prioritize else np.zeros(len(task_ids)),
                )
                scored += len(task_ids)
    return scored
