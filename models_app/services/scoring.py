"""Rescoring: the active model's top-3 suggestions and uncertainty for every open task, written in bulk."""

from collections.abc import Callable, Sequence

from datasets.models import Dataset
from labeling.scores import task_scores_write
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

    `check()` runs before each page is written, so a cancelled run stops between pages.
    """
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
            task_scores_write(dataset=dataset, rows=rows)
            scored += len(rows)
    return scored
