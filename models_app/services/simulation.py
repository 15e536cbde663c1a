"""Active-learning simulation: an oracle labels through the real queue, training and rescoring, in-process.

This module holds the categorization parts and the dispatch on the dataset's kind (matching datasets run
simulation_matching.py, relevance datasets simulation_relevance.py, span datasets simulation_spans.py; the loop all
share is simulation_oracle.py).
The truth (external_id -> label) is split, seeded and stratified, into a held-out evaluation set and a pool.
Held-out products, and open products the truth does not know, are excluded from the queue for the run by marking
their tasks complete (so they are never served, never labeled and not rescored), and reopened at the end; skipping
them instead would cost a lease and a skip per product and leave annotations behind. After each checkpoint the
oracle asks for a training run (training_request + model_version_train, which rescores the open tasks and reorders
the queue), and the new version's artifact is measured on the fixed held-out set: that is the learning curve. The
dataset's settings and its tasks' random order are restored at the end, whatever happens; the oracle's annotations
stay.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from pathlib import Path

from config.errors import ApplicationError
from datasets.models import Dataset
from datasets.selectors import LabelResolver
from labeling.kinds import kind_get
from labeling.kinds.categorization.training import training_records
from labeling.kinds.relevance.grades import scale_get
from labeling.models import Task
from labeling.queue import random_key
from labeling.simulation import truth_read
from models_app import ml
from models_app.services import simulation_matching, simulation_relevance, simulation_spans
from models_app.services.examples import catalog_texts
from models_app.services.simulation_oracle import (
    ORACLE,
    SETTINGS,
    STRATEGIES,
    OracleRun,
    checkpoints,
    heldout_split,
    oracle_run,
    run_options_check,
    run_report,
)

__all__ = [
    "ORACLE",
    "SETTINGS",
    "STRATEGIES",
    "checkpoints",
    "heldout_split",
    "simulate_labeling",
    "simulate_labeling_check",
    "simulation_truth_read",
]
KINDS = ("categorization", "matching", "relevance", "spans")
FIGURES = ("accuracy", "macro_f1")
TEXT_CHUNK = 5000


def _texts(task_ids: list[int], fields: tuple[str, ...]) -> dict[int, str]:
    texts: dict[int, str] = {}
    for start in range(0, len(task_ids), TEXT_CHUNK):  # ids are one query's parameters
        ids, records = training_records(task_ids=task_ids[start : start + TEXT_CHUNK], fields=fields)
        texts.update((pk, ml.product_text(record, fields)) for pk, record in zip(ids, records, strict=True))
    return texts


def _measure(version, heldout: dict[int, str], truth_of: dict[int, str]) -> dict:
    """Accuracy and macro-F1 of the version's artifact on the held-out tasks."""
    started = time.perf_counter()
    version.artifact.open("rb")
    try:
        pipeline = ml.load_pipeline(version.artifact.read())
    finally:
        version.artifact.close()
    ids = sorted(heldout)
    predicted = [str(label) for label in pipeline.predict([heldout[pk] for pk in ids])]
    expected = [truth_of[pk] for pk in ids]
    metrics = ml.evaluate(y_true=expected, y_pred=predicted, classes=sorted({*expected, *predicted}))
    return {"accuracy": metrics["accuracy"], "macro_f1": metrics["macro_f1"], "eval_s": time.perf_counter() - started}


def simulate_labeling_check(*, dataset: Dataset) -> None:
    """The oracle's run trains the kind's model on its answers: a kind without a simulation is refused before
    anything is read or written."""
    kind = kind_get(dataset.task_type)
    if kind.name not in KINDS:
        raise ApplicationError(
            f"{dataset.name!r} is a dataset of {kind.title.lower()}; the active-learning simulation runs on "
            "categorization, product matching, search relevance and attribute span datasets only.",
            extra={"task_type": dataset.task_type},
        )


def simulation_truth_read(
    *,
    dataset: Dataset,
    path: Path | str,
    id_column: str = "external_id",
    label_column: str | None = None,
    left_column: str | None = None,
    right_column: str | None = None,
) -> dict:
    """The truth file as the dataset's kind reads it: external_id -> label for categorization, the order-free
    pair of external ids -> match (True) or not for matching, (query id, product id) -> grade for relevance (a
    judgments file, its columns found as the judgments import finds them), external_id -> token spans for spans
    (JSON Lines, `simulation_spans`)."""
    simulate_labeling_check(dataset=dataset)
    kind = kind_get(dataset.task_type).name
    if kind == "matching":
        return simulation_matching.pair_truth_read(
            path, left_column=left_column, right_column=right_column, label_column=label_column
        )
    if left_column or right_column:
        raise ApplicationError("--left-column and --right-column name the sides of pairs: matching datasets only.")
    if kind == "relevance":
        if label_column or id_column != "external_id":
            raise ApplicationError("A relevance truth is a judgments file (query_id, product_id, grade): no columns "
                                   "to name.")
        return simulation_relevance.grade_truth_read(path, scale=scale_get(dataset.grade_scale))
    if kind == "spans":
        if label_column or id_column != "external_id":
            raise ApplicationError("A span truth is JSON Lines (external_id, spans): no columns to name.")
        return simulation_spans.span_truth_read(path)
    return truth_read(path, id_column=id_column, label_column=label_column or "label")


def simulate_labeling(
    *,
    dataset: Dataset,
    truth: dict,
    labels: int,
    batch: int,
    strategy: str,
    seed: int,
    heldout: float = 0.2,
    random_share: float = 0.0,
    schedule: Iterable[int] = (),
    progress: Callable[[dict], None] | None = None,
    heldout_split_name: str | None = None,
    pool_split: str | None = None,
    compare_full: bool = False,
) -> dict:
    """Run the oracle to `labels` labels and return the report (see the module docstring); a matching dataset
    runs simulation_matching's, which alone takes the split options and `compare_full`, and a relevance dataset
    simulation_relevance's (`heldout` is then the share of its queries held out)."""
    simulate_labeling_check(dataset=dataset)
    run_options_check(strategy=strategy, labels=labels, batch=batch, heldout=heldout, random_share=random_share)
    options = {
        "labels": labels,
        "batch": batch,
        "strategy": strategy,
        "seed": seed,
        "random_share": random_share,
        "schedule": list(schedule),
        "progress": progress,
    }
    if kind_get(dataset.task_type).name == "matching":
        return simulation_matching.simulate_matching(
            dataset=dataset,
            truth=truth,
            heldout=heldout,
            heldout_split_name=heldout_split_name,
            pool_split=pool_split,
            compare_full=compare_full,
            **options,
        )
    if heldout_split_name or pool_split:
        raise ApplicationError("Splits (--heldout-split, --pool-split) are for matching datasets.")
    if kind_get(dataset.task_type).name in ("relevance", "spans"):
        if compare_full:
            raise ApplicationError("--compare-full is for categorization and matching datasets.")
        simulate = (simulation_relevance.simulate_relevance if kind_get(dataset.task_type).name == "relevance"
                    else simulation_spans.simulate_spans)
        return simulate(dataset=dataset, truth=truth, heldout=heldout, **options)
    return _simulate_categorization(dataset=dataset, truth=truth, heldout=heldout, compare_full=compare_full, **options)


def _simulate_categorization(
    *,
    dataset: Dataset,
    truth: dict[str, str],
    labels: int,
    batch: int,
    strategy: str,
    seed: int,
    heldout: float,
    random_share: float,
    schedule: list[int],
    progress: Callable[[dict], None] | None,
    compare_full: bool,
) -> dict:
    resolve = LabelResolver(dataset)
    label_of = {value: resolve(value) for value in set(truth.values())}
    unknown = sorted(value for value, label in label_of.items() if label is None)
    if unknown:
        raise ApplicationError(f"{len(unknown)} label(s) of the truth are not in the taxonomy: {unknown[:5]}")
    open_tasks = Task.objects.filter(dataset=dataset, is_complete=False)
    fresh = open_tasks.filter(is_gold=False, annotation_count=0).values_list("product__external_id", "pk")
    tasks = {external_id: pk for external_id, pk in fresh.iterator(chunk_size=5000) if external_id in truth}
    pool_truth = {external_id: truth[external_id] for external_id in tasks}
    held_ids = heldout_split(pool_truth, fraction=heldout, seed=seed)
    truth_of = {tasks[e]: str(label_of[v].pk) for e, v in pool_truth.items()}
    label_for = {tasks[e]: label_of[v] for e, v in pool_truth.items()}
    held_tasks = [tasks[e] for e in sorted(held_ids)]
    pool_tasks = [pk for e, pk in tasks.items() if e not in held_ids]
    pool_set = set(pool_tasks)
    excluded = [pk for pk in open_tasks.values_list("pk", flat=True).iterator(chunk_size=5000) if pk not in pool_set]
    if len(pool_tasks) < 2 or not held_tasks:
        raise ApplicationError(f"the truth matches {len(tasks)} open tasks: too few for a pool and a held-out set.")
    fields = ml.ModelConfig.from_dict(dataset.model_config).features.fields
    heldout_texts = _texts(held_tasks, fields)
    external = {pk: e for e, pk in tasks.items()}
    run = oracle_run(
        OracleRun(
            pool={pk: label_for[pk] for pk in pool_tasks},
            excluded=excluded,
            random_keys={pk: random_key(seed=seed, external_id=external[pk]) for pk in pool_tasks},
            measure=lambda version: _measure(version, heldout_texts, truth_of),
            figures=FIGURES,
        ),
        dataset=dataset,
        labels=labels,
        batch=batch,
        strategy=strategy,
        seed=seed,
        random_share=random_share,
        schedule=schedule,
        progress=progress,
    )
    report = run_report(
        run,
        heldout_size=len(held_tasks),
        pool_size=len(pool_tasks),
        excluded_other=len(excluded) - len(held_tasks),
    )
    if compare_full:
        report["full_pool"] = _full_pool(dataset, pool_tasks, truth_of, heldout_texts)
    return report


def _full_pool(dataset: Dataset, task_ids: list[int], truth_of: dict[int, str], heldout: dict[int, str]) -> dict:
    """The model the dataset's run would train (its settings, its catalog), fitted on the truth of the whole pool,
    on the held-out products."""
    started = time.perf_counter()
    config = ml.ModelConfig.from_dict(dataset.model_config)
    fields = config.features.fields
    texts = _texts(task_ids, fields)
    ids = sorted(texts)
    result = ml.train(
        texts=[texts[pk] for pk in ids],
        labels=[truth_of[pk] for pk in ids],
        config=config,
        catalog=catalog_texts(dataset=dataset, fields=fields),
    )
    trained = time.perf_counter()
    held = sorted(heldout)
    predicted = [str(label) for label in result.pipeline.predict([heldout[pk] for pk in held])]
    expected = [truth_of[pk] for pk in held]
    metrics = ml.evaluate(y_true=expected, y_pred=predicted, classes=sorted({*expected, *predicted}))
    return {
        "labels": len(ids),
        **{name: metrics[name] for name in FIGURES},
        "train_s": round(trained - started, 2),
    }
