"""Rescoring: the active model's top-3 suggestions and uncertainty for every open task, written in bulk; and the
next batch to serve, made diverse and raised above the rest."""

from collections.abc import Callable, Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.pipeline import Pipeline

from datasets.models import RETRAIN_EVERY, Dataset
from labeling.kinds.categorization.training import open_task_products
from labeling.scores import TaskScoresWriter
from models_app.ml import batches
from models_app.ml.catalog_matrix import CatalogMatrix, score_matrix

SUGGESTIONS = 3
# The batch made diverse when the dataset retrains only on demand: the default cadence's.
DIVERSE_BATCH = RETRAIN_EVERY
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
    writer.flush()  # the pages holding these tasks are written first: a later write would undo the raise
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
    pipeline: Pipeline,
    matrix: CatalogMatrix,
    strategy: str,
    prioritize: bool,
    check: Callable[[], None] = lambda: None,
    batch: int = DIVERSE_BATCH,
) -> int:
    """Score every open task from the kept catalog matrix (no text is featurized: a sparse product with the
    model's coefficients, a segment at a time); priorities follow uncertainty unless the model is still in its
    cold start. A task whose product has no row (written after the matrix was caught up) keeps its scores until
    the next training.

    Out of the cold start, the next `batch` tasks to serve are made diverse (``batch_raise``) when more tasks are
    open than that: k-means over the matrix rows of the most uncertain ones (``batches.diverse_batch``).

    `check()` runs between pages, so a cancelled run stops there. Pages are written (by short transactions:
    ``labeling.scores``) by the writer's threads while the next is
    looked up.
    """
    scores = score_matrix(model=pipeline[1:], matrix=matrix, k=SUGGESTIONS, strategy=strategy, check=check)
    # Label ids as the suggestions store them; probabilities as round(float(p), 4), uncertainty as
    # round(float(u), 6): exact on float32 values scaled by 10^k.
    classes = np.asarray(pipeline.classes_).astype(np.int64)
    scored = 0
    candidates = batches.MostUncertain(batches.candidate_count(batch) if prioritize else 0)
    with TaskScoresWriter(dataset=dataset) as writer:
        for task_ids, product_ids in open_task_products(dataset=dataset):
            check()
            at, found = scores.lookup(product_ids)
            page_ids = np.asarray(task_ids, dtype=np.int64)[found]
            at = at[found]
            uncertainty = np.round(scores.uncertainty[at].astype(np.float64), 6)
            top_labels = classes[scores.columns[at]]
            probabilities = np.round(scores.probabilities[at].astype(np.float64), 4)
            writer.write(
                task_ids=page_ids,
                labels=top_labels,
                probabilities=probabilities,
                uncertainty=uncertainty,
                priority=uncertainty if prioritize else np.zeros(len(page_ids)),
            )
            candidates.add(
                uncertainty, task_ids=page_ids, labels=top_labels, probabilities=probabilities,
                products=np.asarray(product_ids, dtype=np.int64)[found],
            )
            scored += len(page_ids)
        if scored > batch and len(candidates) > 1:
            # The rows the classifier reads: the matrix's (ml.features.fit_classifier keeps the vectorizers).
            features = matrix.rows(candidates.items["products"])
            batch_raise(
                writer, candidates, features, size=batch, seed=dataset.seed, check=check,
                labels=candidates.items["labels"], probabilities=candidates.items["probabilities"],
            )
    return scored
