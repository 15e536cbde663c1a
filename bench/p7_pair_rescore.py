"""P7: rescore 1M open candidate pairs with a trained matcher (`pairs_rescore`, what a matching training runs).

Setup (not measured): the first P7_PRODUCTS rows of the scaled catalog in a matching dataset (COPY, as P2),
their candidate pairs by blocking (k=10), of which P7_PAIRS + P7_LABELS are written as tasks
(`pair_tasks_insert`); P7_LABELS of them (half matches, half not, by the generator's truth: the same base
title is the same product) get one answer each and are complete; a matcher is trained on them
(`train_matcher`, the default config) exactly as a training run gathers them (`training_pairs`).
Measured, in this process: `pairs_rescore` over every open pair (read the pairs page by page as product ids and
each product's fields once, featurize, predict, write suggestions, uncertainty and priority on a writer thread
while the next page is scored), with the time inside `score_pair_ids` (featurization + prediction: the ML part),
the reads and the writes (overlapped with the rest) apart. Target: under 60 s for 1M pairs.
"""

from __future__ import annotations

import inspect
import io
import itertools
import os
import threading
import time
from pathlib import Path

import numpy as np

from bench.common import env_int, log
from bench.p6_blocking import base_position

TARGET_SECONDS = 60.0


class Timer:
    """A function that adds up the seconds spent in the one it wraps (generators: producing each item); `wrapped`
    is the original. Thread-safe enough for one writer thread beside the caller (each adds its own spans)."""

    def __init__(self, wrapped) -> None:
        self.wrapped, self.seconds = wrapped, 0.0
        self._lock = threading.Lock()

    def __call__(self, *args, **kwargs):
        started = time.perf_counter()
        result = self.wrapped(*args, **kwargs)
        self._add(time.perf_counter() - started)
        return self._items(result) if inspect.isgenerator(result) else result

    def _items(self, items):
        while True:
            started = time.perf_counter()
            item = next(items, None)
            self._add(time.perf_counter() - started)
            if item is None:
                return
            yield item

    def _add(self, seconds: float) -> None:
        with self._lock:
            self.seconds += seconds


def _load(path: Path, products: int) -> int:
    """A matching dataset with the first `products` rows of `path`; returns its id."""
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from bench import p2_setup
    from workspace.services.datasets import dataset_create

    p2_setup.reset()
    user = get_user_model().objects.create(username="bench-lead")
    with path.open("rb") as handle:
        head = io.BytesIO(b"".join(itertools.islice(handle, products + 1)))  # the header and `products` rows
    with transaction.atomic():
        dataset = dataset_create(user=user, name=f"bench rescore {path.stem}", task_type="matching")
        dataset.retrain_every = 0
        dataset.save(update_fields=["retrain_every"])
        with connection.cursor() as cursor:
            p2_setup.copy_products(cursor, dataset.pk, head)
    return dataset.pk


def _pairs(dataset, *, pairs: int, labels: int, seed: int) -> tuple[int, int]:
    """Blocking's candidates written as tasks, `labels` of them answered; (open pairs, labeled pairs)."""
    from django.db import connection

    from datasets.models import Label, Product
    from labeling.kinds.matching.blocking import BlockingConfig, candidate_pairs
    from labeling.kinds.matching.tasks import pair_tasks_insert

    products = Product.objects.filter(dataset=dataset).order_by("pk")
    rows = list(products.values_list("pk", "external_id", "title", "brand"))
    ids = np.asarray([row[0] for row in rows], dtype=np.int64)
    positions = np.asarray([base_position(row[1]) for row in rows], dtype=np.int64)
    found = candidate_pairs([{"title": row[2], "brand": row[3]} for row in rows], BlockingConfig(k=10))
    truth = positions[found.left] == positions[found.right]
    rng = np.random.default_rng(seed)
    chosen = np.concatenate([
        rng.choice(np.flatnonzero(truth), labels // 2, replace=False),
        rng.choice(np.flatnonzero(~truth), labels - labels // 2, replace=False),
    ])
    rest = np.setdiff1d(np.arange(len(found)), chosen)[:pairs]
    keep = np.concatenate([chosen, rest])
    pair_tasks_insert(dataset=dataset, left_ids=ids[found.left[keep]], right_ids=ids[found.right[keep]])
    label_of = dict(Label.objects.filter(dataset=dataset).values_list("code", "pk"))
    lefts, rights = ids[found.left[chosen]], ids[found.right[chosen]]
    lows, highs = np.minimum(lefts, rights).tolist(), np.maximum(lefts, rights).tolist()
    answers = [label_of["1" if match else "0"] for match in truth[chosen].tolist()]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO labeling_annotation (dataset_id, task_id, user_id, status, label_id, flagged, source,
                                             source_name, suggestions_shown, created_at, updated_at)
            SELECT t.dataset_id, t.id, NULL, 'submitted', answer.label_id, false, 'import', 'bench', false,
                   now(), now()
            FROM unnest(%(lows)s::bigint[], %(highs)s::bigint[], %(labels)s::bigint[]) AS answer (low, high, label_id)
            JOIN labeling_task t ON t.dataset_id = %(dataset)s AND t.product_id = answer.low
                                 AND COALESCE(t.other_product_id, 0) = answer.high
            """,
            {"lows": lows, "highs": highs, "labels": answers, "dataset": dataset.pk},
        )
        cursor.execute(
            "UPDATE labeling_task SET annotation_count = 1, is_complete = true WHERE dataset_id = %s AND id IN "
            "(SELECT task_id FROM labeling_annotation WHERE dataset_id = %s)",
            [dataset.pk, dataset.pk],
        )
        cursor.execute("VACUUM (ANALYZE) datasets_product, labeling_task, labeling_annotation")
        cursor.execute("CHECKPOINT")
    return len(rest), len(chosen)


def run(path: Path, scale: int) -> dict:
    from datasets.models import Dataset
    from labeling import scores
    from labeling.kinds.matching.training import catalog_records, training_pairs
    from labeling.label_stats import annotation_last_id
    from models_app.ml import MatcherConfig, train_matcher
    from models_app.services import matching

    products = min(env_int("P7_PRODUCTS", 155_000), scale)
    started = time.perf_counter()
    dataset = Dataset.objects.get(pk=_load(path, products))
    open_pairs, labeled = _pairs(
        dataset, pairs=env_int("P7_PAIRS", 1_000_000), labels=env_int("P7_LABELS", 400), seed=env_int("BENCH_SEED", 42)
    )
    left, right, labels = training_pairs(dataset=dataset, upto_annotation_id=annotation_last_id(dataset=dataset))
    catalog = catalog_records(dataset=dataset)
    trained = train_matcher(
        left=left, right=right, labels=labels, config=MatcherConfig(), seed=dataset.seed, catalog=catalog
    )
    setup_seconds = time.perf_counter() - started
    log(f"P7 setup: {products:,} products, {open_pairs:,} open pairs, matcher on {len(labels)} labels "
        f"(holdout F1 {trained.metrics.get('f1')}) in {setup_seconds:.0f} s")

    # The parts, timed where pairs_rescore calls them: the model (read products parsed, pairs featurized and
    # predicted), the reads (pair ids, products' fields) and the writes, which run on the writer's thread
    # while the next page is scored (so the parts add up to more than the wall time).
    timers = {
        "ml": (matching, "score_pair_ids"),
        "read_pairs": (matching, "open_pair_ids"),
        "read_products": (matching, "product_records"),
        "write": (scores, "task_scores_write_arrays"),
    }
    wrapped = {name: Timer(getattr(*where)) for name, where in timers.items()}
    for name, (module, attribute) in timers.items():
        setattr(module, attribute, wrapped[name])
    try:
        started, cpu = time.perf_counter(), time.process_time()
        scored = matching.pairs_rescore(dataset=dataset, matcher=trained.matcher, prioritize=True)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    finally:
        for name, (module, attribute) in timers.items():
            setattr(module, attribute, wrapped[name].wrapped)
    parts = {name: round(timer.seconds, 2) for name, timer in wrapped.items()}
    read = parts["read_pairs"] + parts["read_products"]
    log(f"P7: {scored:,} pairs rescored in {seconds:.1f} s ({scored / seconds:,.0f} pairs/s); featurize + predict "
        f"{parts['ml']:.1f} s, read {read:.1f} s, write {parts['write']:.1f} s (beside the next pages)")
    return {
        "products": products,
        "labels": labeled,
        "scored": scored,
        "setup_seconds": round(setup_seconds, 1),
        "seconds": round(seconds, 2),
        "pairs_per_s": round(scored / seconds),
        "ml_s": parts["ml"],
        "db_s": round(seconds - parts["ml"], 2),
        "read_s": round(read, 2),
        # In the writer's thread, beside the scoring of the next page: the write's own duration, not a share of the
        # wall time.
        "write_s": parts["write"],
        # This process's CPU seconds (not the database's): on a shared machine wall time also counts the others.
        "cpu_s": round(cpu, 1),
        "load": " ".join(f"{value:.1f}" for value in os.getloadavg()),
        "matcher": {"f1": trained.metrics.get("f1"), "precision": trained.metrics.get("precision"),
                    "recall": trained.metrics.get("recall"), "threshold": trained.matcher.threshold},
        "target_s": TARGET_SECONDS,
        "pass": scored >= 1_000_000 and seconds < TARGET_SECONDS,
    }
