"""P3: one training run on 10,000 labels that rescores every open task of SCALE products and reorders the queue.

Setup (not timed): the scaled catalog loaded with COPY (p2_setup.load_dataset), then 10,000 tasks (the first
by random_key) labeled with their true category by one bulk INSERT of annotations, and marked complete.
Then the catalog's feature matrix is built as the worker builds it after an import (`catalog_matrix_refresh`),
timed apart: it is not part of a training.
Timed: `training_request` + `model_version_train` in this process against the bench database, exactly what
the Celery worker runs. The version's own timings split it (gather, which catches the matrix up; train;
rescore); the time spent inside `score_matrix` (predict_proba of the kept rows + top-k + uncertainty) is
measured by wrapping that function here, so the rescore splits into ML and database work.
"""

from __future__ import annotations

import time
from pathlib import Path

from bench.common import log

LABELS = 10_000
# Issue 12's target (the spec's is 120 s).
TARGET_SECONDS = 30.0

ANNOTATE = """
INSERT INTO labeling_annotation (dataset_id, task_id, user_id, status, label_id, flagged, source, source_name,
                                 active_seconds, suggestions_shown, created_at, updated_at)
SELECT picked.dataset_id, picked.id, %(user)s, 'submitted', label.id, false, 'human', '', NULL, false, now(), now()
FROM (SELECT id, dataset_id, product_id FROM labeling_task WHERE dataset_id = %(dataset)s
      ORDER BY random_key LIMIT %(labels)s) AS picked
JOIN datasets_product AS product ON product.id = picked.product_id
JOIN datasets_label AS label ON label.dataset_id = %(dataset)s AND label.name = product.attributes->>'category'
"""
COMPLETE = """
UPDATE labeling_task SET annotation_count = 1, is_complete = true
WHERE id IN (SELECT task_id FROM labeling_annotation WHERE dataset_id = %(dataset)s)
"""


def setup(path: Path) -> tuple[int, int, float]:
    """(dataset id, labels, seconds): the catalog loaded and 10,000 of its products labeled (the matrix apart)."""
    from django.db import connection

    from bench import p2_setup

    started = time.perf_counter()
    p2_setup.reset()
    users = p2_setup.annotators()[:1]
    loaded = p2_setup.load_dataset(path, users)
    with connection.cursor() as cursor:
        params = {"user": users[0].pk, "dataset": loaded.dataset_id, "labels": LABELS}
        cursor.execute(ANNOTATE, params)
        labeled = cursor.rowcount
        cursor.execute(COMPLETE, params)
        cursor.execute("UPDATE datasets_dataset SET retrain_every = 0 WHERE id = %s", [loaded.dataset_id])
        cursor.execute("VACUUM (ANALYZE) labeling_task, labeling_annotation")
        cursor.execute("CHECKPOINT")
    seconds = time.perf_counter() - started
    log(f"P3 setup: {loaded.products:,} products, {labeled:,} labeled, in {seconds:.1f} s")
    return loaded.dataset_id, labeled, seconds


class CallTimer:
    """Wraps a function and adds up the seconds spent in it; `wrapped` is the original."""

    def __init__(self, wrapped) -> None:
        self.wrapped, self.seconds = wrapped, 0.0

    def __call__(self, **kwargs):
        started = time.perf_counter()
        try:
            return self.wrapped(**kwargs)
        finally:
            self.seconds += time.perf_counter() - started


def matrix_build(dataset_id: int) -> dict:
    """Build the catalog matrix as the worker does after an import: seconds, rows, size on disk, peak memory."""
    from datasets.models import Dataset
    from models_app.ml import ModelConfig
    from models_app.services.catalog_features import catalog_matrix_current, catalog_matrix_refresh

    started = time.perf_counter()
    rows = catalog_matrix_refresh(dataset_id=dataset_id)
    seconds = time.perf_counter() - started
    dataset = Dataset.objects.get(pk=dataset_id)
    matrix = catalog_matrix_current(dataset=dataset, config=ModelConfig.from_dict(dataset.model_config))
    size = sum(path.stat().st_size for path in matrix.directory.iterdir())
    log(f"P3 setup: catalog matrix of {rows:,} rows built in {seconds:.1f} s, {size / 1e6:,.0f} MB on disk")
    return {"seconds": round(seconds, 1), "rows": rows, "disk_mb": round(size / 1e6)}


def timed_training(dataset) -> tuple:
    """(the version, its wall seconds, seconds inside `score_matrix`) of one training run as the worker runs it;
    RuntimeError if it failed."""
    from models_app.services import scoring
    from models_app.services.training import model_version_train, training_request

    timer = CallTimer(scoring.score_matrix)
    scoring.score_matrix = timer
    try:
        started = time.perf_counter()
        version = model_version_train(version_id=training_request(dataset=dataset).pk)
        total = time.perf_counter() - started
    finally:
        scoring.score_matrix = timer.wrapped
    if version.status != "succeeded":
        raise RuntimeError(f"the training run failed: {version.message}")
    return version, total, timer.seconds


def run(path: Path, scale: int) -> dict:
    from datasets.models import Dataset

    dataset_id, labeled, setup_seconds = setup(path)
    matrix = matrix_build(dataset_id)
    version, total, score_seconds = timed_training(Dataset.objects.get(pk=dataset_id))
    timings = version.timings
    train_s, rescore_s = timings["train_s"], timings["rescore_s"]
    ml_s = train_s + score_seconds
    log(f"P3: {total:.1f} s in all (train {train_s:.1f} s, rescore {rescore_s:.1f} s of which score_matrix "
        f"{score_seconds:.1f} s); {version.scored_count:,} tasks rescored")
    return {
        "products": scale,
        "labels": labeled,
        "scored": version.scored_count,
        "setup_seconds": round(setup_seconds, 1),
        "matrix": matrix,
        "total_s": round(total, 2),
        "gather_s": timings["gather_s"],
        "train_s": train_s,
        "rescore_s": rescore_s,
        "rescore_ml_s": round(score_seconds, 2),
        "rescore_db_s": round(rescore_s - score_seconds, 2),
        "ml_s": round(ml_s, 2),
        "ml_share": round(ml_s / total, 3),
        "other_s": round(total - timings["total_s"], 2),
        "version_timings": timings,
        "holdout_accuracy": version.metrics.get("accuracy"),
        "config": version.config,
        "target_s": TARGET_SECONDS,
        "pass": scale >= 1_000_000 and total < TARGET_SECONDS,
    }
