"""Rescoring: the active model's top-3 suggestions and uncertainty for every open task, written in bulk; and the
next batch to serve, made diverse and raised above the rest."""

from collections.abc import Callable, Sequence

import numpy as np
import scipy.sparse as sp

from datasets.models import Dataset
from labeling.scores import TaskScoresWriter
from models_app.ml import batches, score
from models_app.services.examples import open_task_texts

SUGGESTIONS = 3
# The batch made diverse when the dataset retrains only on demand (the simulation's batch by default).
DIVERSE_BATCH = 50
# Added to the priority of the diverse batch's tasks, which puts them before every other open task (priorities
# are uncertainties, at most 1). The next training rescores every open task, which ends the raise.
BATCH_BOOST = 1.0


def next_batch_size(dataset: Dataset) -> int:
    """The labels the queue serves before the next training: the dataset's retrain_every, or DIVERSE_BATCH."""
    return dataset.retrain_every or DIVERSE_BATCH


def batch_raise(
    writer: TaskScoresWriter,
    candidates: batches.MostUncertain,
    features: np.ndarray | sp.spmatrix,
    *,
    size: int,
    seed: int,
    labels: np.ndarray | Sequence[int],
    probabilities: np.ndarray,
    check: Callable[[], None],
) -> None:
    """Rewrite the scores of the diverse batch chosen among `candidates` (``batches.diverse_batch``) with their
    priority raised by BATCH_BOOST. `features`, `labels` (one list for all, or one row per candidate) and
    `probabilities` are the candidates'; the task ids are ``candidates.items["task_ids"]``."""
    picked = batches.diverse_batch(features, candidates.uncertainty, size=size, seed=seed)
    labels = np.asarray(labels, dtype=np.int64)
    uncertainty = candidates.uncertainty[picked]
    check()
    writer.write(
        task_ids=candidates.items["task_ids"][picked].astype(np.int64),
        labels=labels[picked] if labels.ndim == 2 else labels,
        probabilities=probabilities[picked],
        uncertainty=uncertainty,
        priority=uncertainty + BATCH_BOOST,
    )


def tasks_rescore(
    *,
    dataset: Dataset,
    pipeline: object,
    fields: Sequence[str],
    strategy: str,
    prioritize: bool,
    check: Callable[[], None] = lambda: None,
    batch: int = DIVERSE_BATCH,
) -> int:
    """Score every open task; priorities follow uncertainty unless the model is still in its cold start.

    Out of the cold start, the next `batch` tasks to serve are made diverse (``batch_raise``) when more tasks are
    open than that: k-means over the features of the most uncertain ones (``batches.diverse_batch``).

    `check()` runs before each page is handed to the writer, so a cancelled run stops between pages. Pages are
    written (all or nothing each) on the writer's thread while the next is scored.
    """
    scored = 0
    candidates = batches.MostUncertain(batches.candidate_count(batch) if prioritize else 0)
    with TaskScoresWriter(dataset=dataset) as writer:
        for task_ids, texts in open_task_texts(dataset=dataset, fields=fields):
            for chunk in score(pipeline=pipeline, texts=texts, k=SUGGESTIONS, strategy=strategy, chunk_size=len(texts)):
                # As round(float(p), 4) and round(float(u), 6) per task: exact on float32 values scaled by 10^k.
                uncertainty = np.round(chunk.uncertainty.astype(np.float64), 6)
                check()
                page_ids = np.asarray(task_ids, dtype=np.int64)
                top_labels = np.asarray(chunk.top_labels, dtype=np.int64)
                probabilities = np.round(chunk.top_probs.astype(np.float64), 4)
                writer.write(
                    task_ids=page_ids,
                    labels=top_labels,
                    probabilities=probabilities,
                    uncertainty=uncertainty,
                    priority=uncertainty if prioritize else np.zeros(len(task_ids)),
                )
                candidates.add(
                    uncertainty, task_ids=page_ids, labels=top_labels, probabilities=probabilities, texts=texts
                )
                scored += len(task_ids)
        if scored > batch and len(candidates) > 1:
            # The rows the classifier reads are step 0's output (ml.features.fit_classifier).
            features = pipeline[0].transform(list(candidates.items["texts"]))
            batch_raise(
                writer, candidates, features, size=batch, seed=dataset.seed, check=check,
                labels=candidates.items["labels"], probabilities=candidates.items["probabilities"],
            )
    return scored
