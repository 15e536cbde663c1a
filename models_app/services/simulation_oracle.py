"""What every kind's active-learning simulation shares: the held-out split, the checkpoints, and the oracle's loop.

The kind-specific parts (which tasks the truth names, what the oracle answers, how a version is measured)
live in `simulation.py` (categorization), `simulation_matching.py` (pairs), `simulation_relevance.py` and
`simulation_spans.py`; both hand this loop a pool of
tasks, the tasks to keep out of the queue, and a measure of a trained version.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np
from django.contrib.auth import get_user_model

from config.errors import ApplicationError
from datasets.models import Dataset, Label, Role
from datasets.services.datasets import dataset_settings_write, membership_set
from labeling.models import Task
from labeling.queue import task_lease_next
from labeling.services import annotation_submit
from labeling.simulation import tasks_completion_set, tasks_random_keys_set
from models_app.models import ModelVersion, TrainingTrigger, VersionStatus
from models_app.services import training

ORACLE = "simulation-oracle"
STRATEGIES = ("margin", "entropy", "least_confidence", "random")
K = TypeVar("K", bound=Hashable)
SETTINGS = ("retrain_every", "random_fraction", "gold_fraction", "uncertainty_strategy", "seed")


def heldout_split(truth: dict[K, str], *, fraction: float, seed: int) -> set[K]:
    """Seeded, stratified: round(fraction * n) keys of each label, keeping at least one of each for the pool."""
    rng = np.random.default_rng(seed)
    by_label: dict[str, list[K]] = {}
    for key in sorted(truth):
        by_label.setdefault(truth[key], []).append(key)
    held: set[K] = set()
    for label in sorted(by_label):
        members = by_label[label]
        take = min(len(members) - 1, int(len(members) * fraction + 0.5))
        held.update(members[i] for i in rng.permutation(len(members))[:take])
    return held


def checkpoints(*, labels: int, batch: int, schedule: Iterable[int] = ()) -> list[int]:
    """Label counts after which a model is trained: the schedule's, then every `batch`, and `labels` itself."""
    points = {n for n in schedule if 0 < n <= labels} | set(range(batch, labels + 1, batch)) | {labels}
    return sorted(points)


def run_options_check(*, strategy: str, labels: int, batch: int, heldout: float, random_share: float) -> None:
    if strategy not in STRATEGIES:
        raise ApplicationError(f"strategy must be one of {', '.join(STRATEGIES)}.")
    if labels < 1 or batch < 1 or not 0 < heldout < 1 or not 0 <= random_share <= 1:
        raise ApplicationError("labels and batch must be positive, heldout in (0, 1), random share in [0, 1].")


@dataclass
class OracleRun:
    """What the oracle does: label `pool` (task id -> the true Label, or the true value of a kind answered with
    values: a title's spans) in queue order, with the queue's random
    order given by `random_keys` (task id -> key), and keep `excluded` (task ids) out of the queue meanwhile.

    `measure(version)` gives the figures of a trained version on the held-out set (and "eval_s");
    `figures` names them, so a failed training reports them as None.
    """

    pool: dict[int, Label | list]
    excluded: list[int]
    random_keys: dict[int, int]
    measure: Callable[[ModelVersion], dict]
    figures: tuple[str, ...]
    curve: list[dict] = field(default_factory=list)
    labeled: int = 0
    label_s: float = 0.0
    settings: dict = field(default_factory=dict)  # what oracle_run was asked, for the report
    started: float = field(default_factory=time.perf_counter)


def oracle_run(
    run: OracleRun,
    *,
    dataset: Dataset,
    labels: int,
    batch: int,
    strategy: str,
    seed: int,
    random_share: float,
    schedule: Iterable[int],
    progress: Callable[[dict], None] | None,
) -> OracleRun:
    """Label through the real queue and train at each checkpoint (training_request + model_version_train,
    which rescores the open tasks and reorders the queue), measuring each version.

    The dataset's settings, the excluded tasks' state and the pool's random order are restored at the end,
    whatever happens; the oracle's annotations stay.
    """
    run.settings = {
        "dataset": dataset.pk,
        "task_type": dataset.task_type,
        "strategy": strategy,
        "seed": seed,
        "batch": batch,
        "schedule": sorted(set(schedule)),
        "labels_target": labels,
    }
    saved = {name: getattr(dataset, name) for name in SETTINGS}
    saved_keys = _random_keys(list(run.random_keys))
    oracle = get_user_model().objects.get_or_create(username=ORACLE)[0]
    membership_set(dataset=dataset, username=ORACLE, role=Role.ANNOTATOR)
    try:
        dataset.retrain_every, dataset.gold_fraction, dataset.seed = 0, 0.0, seed
        dataset.random_fraction = 1.0 if strategy == "random" else random_share
        if strategy != "random":
            dataset.uncertainty_strategy = strategy
        dataset_settings_write(dataset=dataset, fields=SETTINGS)
        tasks_completion_set(task_ids=run.excluded, complete=True)
        tasks_random_keys_set(keys=run.random_keys)
        random.seed(seed)  # task_lease_next draws gold / random share with the module's generator
        for target in checkpoints(labels=labels, batch=batch, schedule=schedule):
            step = time.perf_counter()
            while run.labeled < target:
                task = task_lease_next(dataset=dataset, user=oracle)
                if task is None:
                    break
                answer = run.pool[task.pk]
                if isinstance(answer, Label):
                    annotation_submit(task=task, user=oracle, label=answer)
                else:
                    annotation_submit(task=task, user=oracle, label=None, value=answer)
                run.labeled += 1
            run.label_s += time.perf_counter() - step
            if run.curve and run.curve[-1]["labels"] == run.labeled:
                break  # the pool ran dry: nothing new to train on
            run.curve.append(_train_point(dataset, oracle, run))
            if progress:
                progress(run.curve[-1])
            if run.labeled < target:
                break
    finally:
        for name, value in saved.items():
            setattr(dataset, name, value)
        dataset_settings_write(dataset=dataset, fields=SETTINGS)
        # All were open before, and none could be served meanwhile.
        tasks_completion_set(task_ids=run.excluded, complete=False)
        tasks_random_keys_set(keys=saved_keys)
    return run


def _random_keys(task_ids: list[int]) -> dict[int, int]:
    keys: dict[int, int] = {}
    for start in range(0, len(task_ids), 5000):
        keys.update(Task.objects.filter(pk__in=task_ids[start : start + 5000]).values_list("pk", "random_key"))
    return keys


def _train_point(dataset: Dataset, oracle, run: OracleRun) -> dict:
    version = training.training_request(dataset=dataset, trigger=TrainingTrigger.MANUAL, user=oracle, enqueue=False)
    version = training.model_version_train(version_id=version.pk, batch=run.settings["batch"])
    point = {"labels": run.labeled, "version": version.number, "status": version.status}
    point.update(dict.fromkeys(run.figures))
    point.update(
        train_s=version.timings.get("train_s"),
        rescore_s=version.timings.get("rescore_s"),
        eval_s=None,
        cold_start=version.timings.get("cold_start"),
    )
    if version.status == VersionStatus.SUCCEEDED:
        measured = run.measure(version)
        point.update({name: measured[name] for name in run.figures}, eval_s=round(measured["eval_s"], 3))
    else:
        point["error"] = version.message[:300]
    return point


def run_report(run: OracleRun, **kind_figures: object) -> dict:
    """The report of a finished run: what it was asked, the kind's own figures, the curve and the totals."""
    return {**run.settings, **kind_figures, "curve": run.curve, "totals": run_totals(run, started=run.started)}


def run_totals(run: OracleRun, *, started: float) -> dict:
    """The report's totals: labels, trainings, the last point's figures, and the time each part took."""
    last = run.curve[-1] if run.curve else {}
    return {
        "labels": run.labeled,
        "trainings": len(run.curve),
        **{name: last.get(name) for name in run.figures},
        "label_s": round(run.label_s, 2),
        "train_s": round(sum(point["train_s"] or 0 for point in run.curve), 2),
        "rescore_s": round(sum(point["rescore_s"] or 0 for point in run.curve), 2),
        "eval_s": round(sum(point["eval_s"] or 0 for point in run.curve), 2),
        "wall_s": round(time.perf_counter() - started, 2),
    }
