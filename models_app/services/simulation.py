"""Active-learning simulation: an oracle labels through the real queue, training and rescoring, in-process.

The truth (external_id -> label) is split, seeded and stratified, into a held-out evaluation set and a
pool. Held-out products, and open products the truth does not know, are excluded from the queue for the
run by marking their tasks complete (so they are never served, never labeled and not rescored), and
reopened at the end; skipping them instead would cost a lease and a skip per product and leave
annotations behind. After each checkpoint the oracle asks for a training run (training_request +
model_version_train, which rescores the open tasks and reorders the queue), and the new version's
artifact is measured on the fixed held-out set: that is the learning curve. The dataset's settings and
its tasks' random order are restored at the end, whatever happens; the oracle's annotations stay.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable

import numpy as np
from django.contrib.auth import get_user_model

from config.errors import ApplicationError
from datasets.models import Dataset, Role
from datasets.selectors import LabelResolver
from datasets.services.datasets import dataset_settings_write, membership_set
from labeling.kinds import kind_get
from labeling.kinds.categorization.training import training_records
from labeling.models import Task
from labeling.queue import random_key, task_lease_next
from labeling.services import annotation_submit
from labeling.simulation import tasks_completion_set, tasks_random_keys_set
from models_app import ml
from models_app.models import TrainingTrigger, VersionStatus
from models_app.services import training

ORACLE = "simulation-oracle"
STRATEGIES = ("margin", "entropy", "least_confidence", "random")
SETTINGS = ("retrain_every", "random_fraction", "gold_fraction", "uncertainty_strategy", "seed")


def heldout_split(truth: dict[str, str], *, fraction: float, seed: int) -> set[str]:
    """Seeded, stratified: round(fraction * n) ids of each label, keeping at least one of each for the pool."""
    rng = np.random.default_rng(seed)
    by_label: dict[str, list[str]] = {}
    for external_id in sorted(truth):
        by_label.setdefault(truth[external_id], []).append(external_id)
    held: set[str] = set()
    for label in sorted(by_label):
        members = by_label[label]
        take = min(len(members) - 1, int(len(members) * fraction + 0.5))
        held.update(members[i] for i in rng.permutation(len(members))[:take])
    return held


def checkpoints(*, labels: int, batch: int, schedule: Iterable[int] = ()) -> list[int]:
    """Label counts after which a model is trained: the schedule's, then every `batch`, and `labels` itself."""
    points = {n for n in schedule if 0 < n <= labels} | set(range(batch, labels + 1, batch)) | {labels}
    return sorted(points)


def _texts(task_ids: list[int], fields: tuple[str, ...]) -> dict[int, str]:
    ids, records = training_records(task_ids=task_ids, fields=fields)
    return {pk: ml.product_text(record, fields) for pk, record in zip(ids, records, strict=True)}


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
    """The oracle's run trains categorizers on its answers: another kind (matching) is refused before anything
    is read or written."""
    kind = kind_get(dataset.task_type)
    if kind.name != "categorization":
        raise ApplicationError(
            f"{dataset.name!r} is a {kind.title.lower()} dataset; "
            "the active-learning simulation runs on categorization datasets only.",
            extra={"task_type": dataset.task_type},
        )


def simulate_labeling(
    *,
    dataset: Dataset,
    truth: dict[str, str],
    labels: int,
    batch: int,
    strategy: str,
    seed: int,
    heldout: float = 0.2,
    random_share: float = 0.0,
    schedule: Iterable[int] = (),
    progress: Callable[[dict], None] | None = None,
) -> dict:
    """Run the oracle to `labels` labels and return the report (see the module docstring)."""
    simulate_labeling_check(dataset=dataset)
    if strategy not in STRATEGIES:
        raise ApplicationError(f"strategy must be one of {', '.join(STRATEGIES)}.")
    if labels < 1 or batch < 1 or not 0 < heldout < 1 or not 0 <= random_share <= 1:
        raise ApplicationError("labels and batch must be positive, heldout in (0, 1), random share in [0, 1].")
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

    saved = {name: getattr(dataset, name) for name in SETTINGS}
    saved_keys = dict(Task.objects.filter(pk__in=pool_tasks).values_list("pk", "random_key"))
    oracle = get_user_model().objects.get_or_create(username=ORACLE)[0]
    membership_set(dataset=dataset, username=ORACLE, role=Role.ANNOTATOR)
    curve: list[dict] = []
    started = time.perf_counter()
    labeled, label_s = 0, 0.0
    try:
        dataset.retrain_every, dataset.gold_fraction, dataset.seed = 0, 0.0, seed
        dataset.random_fraction = 1.0 if strategy == "random" else random_share
        if strategy != "random":
            dataset.uncertainty_strategy = strategy
        dataset_settings_write(dataset=dataset, fields=SETTINGS)
        tasks_completion_set(task_ids=excluded, complete=True)
        external = {pk: e for e, pk in tasks.items()}
        tasks_random_keys_set(keys={pk: random_key(seed=seed, external_id=external[pk]) for pk in pool_tasks})
        random.seed(seed)  # task_lease_next draws gold / random share with the module's generator
        for target in checkpoints(labels=labels, batch=batch, schedule=schedule):
            step = time.perf_counter()
            while labeled < target:
                task = task_lease_next(dataset=dataset, user=oracle)
                if task is None:
                    break
                annotation_submit(task=task, user=oracle, label=label_for[task.pk])
                labeled += 1
            label_s += time.perf_counter() - step
            if curve and curve[-1]["labels"] == labeled:
                break  # the pool ran dry: nothing new to train on
            curve.append(_train_point(dataset, oracle, labeled, heldout_texts, truth_of))
            if progress:
                progress(curve[-1])
            if labeled < target:
                break
    finally:
        for name, value in saved.items():
            setattr(dataset, name, value)
        dataset_settings_write(dataset=dataset, fields=SETTINGS)
        # All were open before, and none could be served meanwhile.
        tasks_completion_set(task_ids=excluded, complete=False)
        tasks_random_keys_set(keys=saved_keys)
    last = curve[-1] if curve else {}
    return {
        "dataset": dataset.pk,
        "strategy": strategy,
        "seed": seed,
        "batch": batch,
        "schedule": sorted(set(schedule)),
        "labels_target": labels,
        "heldout_size": len(held_tasks),
        "pool_size": len(pool_tasks),
        "excluded_other": len(excluded) - len(held_tasks),
        "curve": curve,
        "totals": {
            "labels": labeled,
            "trainings": len(curve),
            "accuracy": last.get("accuracy"),
            "macro_f1": last.get("macro_f1"),
            "label_s": round(label_s, 2),
            "train_s": round(sum(point["train_s"] or 0 for point in curve), 2),
            "rescore_s": round(sum(point["rescore_s"] or 0 for point in curve), 2),
            "eval_s": round(sum(point["eval_s"] or 0 for point in curve), 2),
            "wall_s": round(time.perf_counter() - started, 2),
        },
    }


def _train_point(dataset: Dataset, oracle, labeled: int, heldout: dict[int, str], truth_of: dict[int, str]) -> dict:
    version = training.training_request(dataset=dataset, trigger=TrainingTrigger.MANUAL, user=oracle, enqueue=False)
    version = training.model_version_train(version_id=version.pk)
    point = {"labels": labeled, "version": version.number, "status": version.status, "accuracy": None,
             "macro_f1": None, "train_s": version.timings.get("train_s"), "rescore_s": version.timings.get("rescore_s"),
             "eval_s": None, "cold_start": version.timings.get("cold_start")}
    if version.status == VersionStatus.SUCCEEDED:
        measured = _measure(version, heldout, truth_of)
        point.update(accuracy=measured["accuracy"], macro_f1=measured["macro_f1"], eval_s=round(measured["eval_s"], 3))
    else:
        point["error"] = version.message[:300]
    return point

