"""Training runs: requested (coalesced per dataset), run in the worker, activated only when complete.

Invariants held by the database: one queued and one running version per dataset, one active version.
A run that fails or is killed leaves the active version as it was and records why.
"""

import logging
import time
from collections import Counter

from django.contrib.auth.models import AbstractBaseUser
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from datasets.models import Dataset
from labeling.models import Annotation, AnnotationStatus
from models_app.ml import ModelConfig, dump_pipeline, train
from models_app.models import ModelVersion, TrainingTrigger, VersionStatus
from models_app.services.examples import training_examples
from models_app.services.scoring import tasks_rescore

logger = logging.getLogger(__name__)

INTERRUPTED = "The worker stopped during this run (killed or restarted); the previous model stays active."


def _enqueue(version: ModelVersion) -> None:
    from models_app.tasks import train_model_task

    transaction.on_commit(lambda: train_model_task.delay(version.pk))


def training_request(
    *,
    dataset: Dataset,
    trigger: str = TrainingTrigger.MANUAL,
    user: AbstractBaseUser | None = None,
    enqueue: bool = True,
) -> ModelVersion:
    """Ask for a training run; a run already waiting absorbs the request (later triggers coalesce).

    enqueue=False leaves the run to the caller (the labeling simulation trains in its own process).
    """
    with transaction.atomic():
        Dataset.objects.select_for_update().filter(pk=dataset.pk).first()
        versions = ModelVersion.objects.filter(dataset=dataset)
        waiting = versions.filter(status=VersionStatus.QUEUED).first()
        if waiting is not None:
            return waiting
        number = (versions.aggregate(n=Max("number"))["n"] or 0) + 1
        version = ModelVersion.objects.create(
            dataset=dataset, number=number, trigger=trigger, requested_by=user, config=dataset.model_config
        )
        if enqueue and not versions.filter(status__in=[VersionStatus.RUNNING, VersionStatus.SCORING]).exists():
            _enqueue(version)
    return version


def training_maybe_trigger(*, dataset: Dataset) -> ModelVersion | None:
    """After a submit: request a run once `retrain_every` labels arrived since the last run started."""
    if not dataset.retrain_every:
        return None
    latest = (
        ModelVersion.objects.filter(dataset=dataset).exclude(status=VersionStatus.FAILED).order_by("-number").first()
    )
    if latest is not None and latest.status == VersionStatus.QUEUED:
        return None
    since = latest.last_annotation_id if latest else 0
    new_labels = Annotation.objects.filter(
        dataset=dataset, status=AnnotationStatus.SUBMITTED, label__isnull=False, pk__gt=since
    )[: dataset.retrain_every].count()
    if new_labels < dataset.retrain_every:
        return None
    return training_request(dataset=dataset, trigger=TrainingTrigger.AUTO)


def _start(version_id: int) -> ModelVersion | None:
    """Claim the run, or say why not: finished already, interrupted before, or another run is busy."""
    with transaction.atomic():
        version = ModelVersion.objects.select_for_update(of=("self",)).select_related("dataset").get(pk=version_id)
        if version.is_finished:
            return None
        if version.status in (VersionStatus.RUNNING, VersionStatus.SCORING):
            _fail(version, INTERRUPTED)
            return None
        busy = ModelVersion.objects.filter(
            dataset=version.dataset_id, status__in=[VersionStatus.RUNNING, VersionStatus.SCORING]
        )
        if busy.exists():
            return None
        version.status = VersionStatus.RUNNING
        version.started_at = timezone.now()
        version.save(update_fields=["status", "started_at"])
    return version


def _fail(version: ModelVersion, reason: str) -> None:
    ModelVersion.objects.filter(pk=version.pk).update(
        status=VersionStatus.FAILED, error=reason[:5000], finished_at=timezone.now(), is_active=False
    )


def model_version_train(*, version_id: int) -> ModelVersion:
    """Train, rescore the open tasks, then make the version active. Safe to call twice."""
    version = _start(version_id)
    if version is None:
        _continue_queue(ModelVersion.objects.get(pk=version_id).dataset_id)
        return ModelVersion.objects.get(pk=version_id)
    try:
        _train_and_score(version)
    except Exception as error:
        logger.exception("training of %s failed", version)
        _fail(version, f"{type(error).__name__}: {error}")
    _continue_queue(version.dataset_id)
    return ModelVersion.objects.get(pk=version.pk)


def _train_and_score(version: ModelVersion) -> None:
    dataset = version.dataset
    config = ModelConfig.from_dict(version.config or dataset.model_config)
    version.config = config.to_dict()
    started = time.perf_counter()
    examples = training_examples(dataset=dataset, fields=config.features.fields)
    gathered = time.perf_counter()
    result = train(texts=examples.texts, labels=examples.labels, config=config, label_paths=examples.label_paths)
    trained = time.perf_counter()
    version.label_count = len(examples.labels)
    version.last_annotation_id = examples.last_annotation_id
    version.split = result.split
    version.metrics = result.metrics
    version.artifact.save(
        f"dataset-{dataset.pk}-v{version.number}.pkl", ContentFile(dump_pipeline(result.pipeline)), save=False
    )
    version.status = VersionStatus.SCORING
    version.save(
        update_fields=["config", "label_count", "last_annotation_id", "split", "metrics", "artifact", "status"]
    )

    counts = Counter(examples.labels)
    warm = min(counts.values()) >= dataset.cold_start_examples
    scored = tasks_rescore(
        dataset=dataset,
        pipeline=result.pipeline,
        fields=config.features.fields,
        strategy=dataset.uncertainty_strategy,
        prioritize=warm,
    )
    finished = time.perf_counter()
    with transaction.atomic():
        ModelVersion.objects.filter(dataset=dataset, is_active=True).update(is_active=False)
        version.status = VersionStatus.SUCCEEDED
        version.is_active = True
        version.scored_count = scored
        version.finished_at = timezone.now()
        version.timings = {
            **result.timings,
            "gather_s": round(gathered - started, 3),
            "train_s": round(trained - gathered, 3),
            "rescore_s": round(finished - trained, 3),
            "total_s": round(finished - started, 3),
            "cold_start": not warm,
        }
        version.save(update_fields=["status", "is_active", "scored_count", "finished_at", "timings"])


def _continue_queue(dataset_id: int) -> None:
    """Hand the waiting run (if any) to a worker once nothing runs for this dataset."""
    with transaction.atomic():
        versions = ModelVersion.objects.filter(dataset_id=dataset_id)
        if versions.filter(status__in=[VersionStatus.RUNNING, VersionStatus.SCORING]).exists():
            return
        waiting = versions.filter(status=VersionStatus.QUEUED).first()
        if waiting is not None:
            _enqueue(waiting)
