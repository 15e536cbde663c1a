"""Training runs: requested (coalesced per dataset), run in the worker, activated only when complete.

Invariants held by the database: one queued and one running version per dataset, one active version.
A run that fails, is cancelled or is killed leaves the active version as it was and records why; a
killed run is run again by the sweeper (config/jobs) unless a newer request already waits.
"""

import logging
import time
from functools import partial

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Max

from config.errors import ApplicationError, ConflictError, ServiceUnavailableError
from config.jobs.dispatch import job_enqueue, job_nudge, job_send
from config.jobs.lifecycle import JobRun, job_execute, job_state
from datasets.models import Dataset
from labeling.kinds import KINDS, kind_get
from labeling.label_stats import annotation_last_id, labels_since_count
from models_app.ml import ModelConfig, TrainingError, cold_start_over, dump_pipeline, train_rows
from models_app.ml.train import label_classes
from models_app.models import ModelVersion, TrainingTrigger, VersionStatus
from models_app.services.activation import version_activate, version_store
from models_app.services.catalog_features import catalog_matrix
from models_app.services.examples import training_examples
from models_app.services.matching import matcher_train_and_score
from models_app.services.relevance import ranker_train_and_score
from models_app.services.scoring import next_batch_size, tasks_rescore
from models_app.services.spans import spans_train_and_score

logger = logging.getLogger(__name__)


def training_request(
    *,
    dataset: Dataset,
    trigger: str = TrainingTrigger.MANUAL,
    user: AbstractBaseUser | None = None,
    enqueue: bool = True,
) -> ModelVersion:
    """Ask for a training run; a run already waiting absorbs the request (later triggers coalesce).

    The new run is sent to the workers at once even when another run is busy: the worker leaves it
    queued until that one ends, which sends it again. enqueue=False leaves the run to the caller (the
    labeling simulation trains in its own process). A dataset whose task kind has no models yet is refused.
    """
    kind = kind_get(dataset.task_type)
    if not kind.trainable:
        raise ApplicationError(
            f"Models for {kind.title.lower()} are not available yet.", extra={"task_type": dataset.task_type}
        )
    with transaction.atomic():
        Dataset.objects.select_for_update().filter(pk=dataset.pk).first()
        versions = ModelVersion.objects.filter(dataset=dataset)
        waiting = versions.filter(status=VersionStatus.QUEUED).first()
        if waiting is not None:
            if enqueue:
                job_nudge(waiting)
            return waiting
        number = (versions.aggregate(n=Max("number"))["n"] or 0) + 1
        version = ModelVersion.objects.create(
            dataset=dataset, number=number, trigger=trigger, requested_by=user, config=dataset.model_config
        )
        if enqueue:
            job_enqueue(version)
    return version


def model_version_retry(*, version: ModelVersion, user: AbstractBaseUser | None) -> ModelVersion:
    """Train again after a failed or cancelled run: a new version (or the one already waiting), with the
    dataset's current settings; a finished version never changes."""
    if not version.can_retry:
        state = job_state(version)
        raise ConflictError(f"This training run is {state}; only a failed or cancelled one can be retried.")
    return training_request(dataset=version.dataset, user=user)


def training_maybe_trigger(*, dataset: Dataset) -> ModelVersion | None:
    """Request a run once `retrain_every` labels arrived since the last run started.

    Counted from the newest run whatever became of it, and never while one waits or runs: a run that
    fails (too few labels, a bad config) must not be requested again on every following submit.
    """
    if not dataset.retrain_every or not kind_get(dataset.task_type).trainable:
        return None
    latest = ModelVersion.objects.filter(dataset=dataset).order_by("-number").first()
    if latest is not None and not latest.is_finished:
        return None
    since = latest.last_annotation_id if latest else 0
    new_labels = labels_since_count(dataset=dataset, after_id=since, limit=dataset.retrain_every)
    if new_labels < dataset.retrain_every:
        return None
    return training_request(dataset=dataset, trigger=TrainingTrigger.AUTO)


def trainings_due_request() -> list[ModelVersion]:
    """Request a run for each dataset that got `retrain_every` labels since its last run.

    The worker's sweeper calls it every JOB_SWEEP_SECONDS (`config.jobs.signals.swept`), so an annotator's submit
    checks nothing: the count is a query, and the web's hot path is a few statements. A run starts at most one
    sweep after its labels arrived. Several workers may ask at once: a request joins the one already waiting.
    """
    trainable = [name for name in KINDS if kind_get(name).trainable]
    requested = []
    for dataset in Dataset.objects.filter(retrain_every__gt=0, task_type__in=trainable).order_by("pk"):
        try:
            version = training_maybe_trigger(dataset=dataset)
        except ServiceUnavailableError:
            # Nothing is lost: the labels are still there at the next sweep.
            logger.warning("automatic training of %s not requested: the broker is unreachable", dataset.pk)
            continue
        if version is not None:
            requested.append(version)
    return requested


def _no_other_run(version: ModelVersion) -> bool:
    return not ModelVersion.objects.filter(
        dataset=version.dataset_id, status__in=ModelVersion.RUNNING_STATES
    ).exclude(pk=version.pk).exists()


def model_version_train(*, version_id: int, batch: int | None = None) -> ModelVersion | None:
    """Train, rescore the open tasks, then make the version active. Safe to call twice.

    `batch`: the labels the queue serves before the next training, made diverse (``next_batch_size`` of the
    dataset by default; the labeling simulation gives its own, since it trains on demand).
    A run that fails, is cancelled or whose worker dies leaves the active version as it was.
    """
    version = job_execute(ModelVersion, version_id, partial(_train_and_score, batch=batch), ready=_no_other_run)
    if version is not None:
        _continue_queue(version.dataset_id)
    return version


def _train_and_score(version: ModelVersion, run: JobRun, *, batch: int | None) -> None:
    dataset = version.dataset
    batch = batch or next_batch_size(dataset)
    kind = kind_get(dataset.task_type).name
    own = {"matching": matcher_train_and_score, "relevance": ranker_train_and_score, "spans": spans_train_and_score}
    if kind in own:
        own[kind](version, run, batch=batch)
        return
    # The label count the next automatic trigger starts from, kept even if this run fails.
    run.update(last_annotation_id=annotation_last_id(dataset=dataset))
    config = ModelConfig.from_dict(version.config or dataset.model_config)
    started = time.perf_counter()
    examples = training_examples(dataset=dataset, fields=config.features.fields, texts=False)
    label_classes(examples.labels)  # refused before the catalog is featurized
    run.check()
    catalog_started = time.perf_counter()
    try:
        matrix = catalog_matrix(dataset=dataset, config=config, check=run.check)
    except ValueError as exc:  # e.g. an empty vocabulary: every product's text is blank
        raise TrainingError(f"featurizing the catalog failed: {exc}") from exc
    rows = matrix.rows(examples.product_ids)
    gathered = time.perf_counter()
    run.check()
    result = train_rows(
        vectorizers=matrix.vectorizers, rows=rows, labels=examples.labels, config=config,
        label_paths=examples.label_paths,
    )
    result.timings["catalog_s"] = round(gathered - catalog_started, 3)
    trained = time.perf_counter()
    version_store(
        run,
        artifact=dump_pipeline(result.pipeline),
        config=config.to_dict(),
        label_count=len(examples.labels),
        last_annotation_id=examples.last_annotation_id,
        split=result.split,
        metrics=result.metrics,
    )

    warm = cold_start_over(
        examples.labels, examples=dataset.cold_start_examples, config=config, label_paths=examples.label_paths
    )
    scored = tasks_rescore(
        dataset=dataset,
        pipeline=result.pipeline,
        matrix=matrix,
        strategy=dataset.uncertainty_strategy,
        prioritize=warm,
        check=run.check,
        batch=batch,
    )
    version_activate(
        run, timings=result.timings, started=started, gathered=gathered, trained=trained, scored=scored, warm=warm
    )


def _continue_queue(dataset_id: int) -> None:
    """Send the waiting run (if any) to a worker once nothing runs for this dataset."""
    versions = ModelVersion.objects.filter(dataset_id=dataset_id)
    if versions.filter(status__in=ModelVersion.RUNNING_STATES).exists():
        return
    waiting = versions.filter(status=VersionStatus.QUEUED).first()
    if waiting is not None:
        job_send(waiting)
