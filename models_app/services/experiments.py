"""Preprocessing experiments: compare featurization configs by cross-validation on the dataset's own labels.

Requested from a page or the API, run in the worker (one at a time per dataset, held by the database),
and the winner made the dataset's config in one step. The reads live here too, next to the one model they serve.
"""

import logging
from collections import defaultdict
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Count

from config.errors import ApplicationError, ConflictError
from config.jobs.dispatch import job_enqueue
from config.jobs.lifecycle import JobRun, job_execute, job_state
from datasets.models import Dataset, TaskType
from datasets.services.datasets import dataset_update
from labeling.models import Annotation, AnnotationStatus
from models_app.ml import PRESETS, ConfigError, ModelConfig, cross_validate
from models_app.models import Experiment, ExperimentStatus
from models_app.services.examples import catalog_texts, training_examples

logger = logging.getLogger(__name__)

CURRENT = "current"
MAX_CONFIGS = 8
MIN_FOLDS, MAX_FOLDS = 2, 10  # the same bounds as the model's check constraint

# The question each config answers; every preset changes one thing of the default.
QUESTIONS: dict[str, tuple[str, str]] = {
    CURRENT: ("Current config", "the dataset's settings as they are now."),
    "default": ("Default", "the baseline each preset changes one thing of."),
    "case_kept": ("Case kept", "does capitalization matter?"),
    "regex_tokenizer": ("Regex tokenizer", "does spaCy's tokenizer beat splitting on word characters?"),
    "words_1gram": ("Single words", "do word pairs (bigrams) add anything?"),
    "words_only": ("No character n-grams", "do pieces of words help, or only whole words?"),
    "vocab_5k": ("5,000-term vocabulary", "how much does a small vocabulary lose, and how much faster is it?"),
    "numbers_normalized": (
        "Numbers normalized",
        "do the exact numbers matter (64GB vs 128GB), or only that there is one?",
    ),
}


def experiment_choices() -> list[tuple[str, str, str]]:
    """(name, title, question) of every config an experiment can name: the current one, then the presets."""
    return [(name, *QUESTIONS.get(name, (name, ""))) for name in (CURRENT, *PRESETS)]


def _configs(dataset: Dataset, names: list[str], custom: dict[str, Any]) -> dict[str, dict]:
    known = [name for name, _, _ in experiment_choices()]
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ApplicationError(
            f"Unknown config(s): {', '.join(map(str, unknown))}. Choose from {', '.join(known)}.",
            extra={"names": unknown},
        )
    configs = {}
    for name in dict.fromkeys(names):  # a name given twice runs once
        try:
            config = ModelConfig.from_dict(dataset.model_config or {}) if name == CURRENT else PRESETS[name]
        except ConfigError as error:
            raise ApplicationError(f"The dataset's current model settings are not valid: {error}") from error
        configs[name] = config.to_dict()
    for name, data in custom.items():
        if not isinstance(name, str) or not name.strip() or len(name) > 64:
            raise ApplicationError("A custom config needs a name of 1 to 64 characters.", extra={"custom": name})
        if name in known:
            raise ApplicationError(f"{name!r} is a preset's name; give the custom config another.")
        try:
            configs[name] = ModelConfig.from_dict(data).to_dict()
        except ConfigError as error:
            raise ApplicationError(f"Custom config {name!r}: {error}", extra={"custom": {name: str(error)}}) from error
    if not 1 <= len(configs) <= MAX_CONFIGS:
        raise ApplicationError(f"Choose between 1 and {MAX_CONFIGS} configs to compare; {len(configs)} given.")
    return configs


def _check_labels(dataset: Dataset) -> None:
    """Cheap early refusal; a product labeled differently by two annotators counts under both (the worker decides)."""
    per_label = (
        Annotation.objects.filter(dataset=dataset, status=AnnotationStatus.SUBMITTED, label__isnull=False)
        .values("label")
        .annotate(products=Count("task", distinct=True))
        .values_list("products", flat=True)
    )
    counts = list(per_label)
    if len(counts) < 2:
        raise ApplicationError(
            f"An experiment needs labels in at least 2 categories; this dataset has labels in {len(counts)}."
        )
    if sum(count >= 2 for count in counts) < 2:
        raise ApplicationError(
            "Cross-validation needs at least 2 labeled products in each of two categories; label a few more first."
        )


def experiment_create(
    *,
    dataset: Dataset,
    user: AbstractBaseUser | None,
    names: list[str],
    custom: dict[str, Any] | None = None,
    folds: int = 5,
) -> Experiment:
    """Queue a comparison of the named configs (presets, "current") and any custom ones, for the worker."""
    if isinstance(folds, bool) or not isinstance(folds, int) or not MIN_FOLDS <= folds <= MAX_FOLDS:
        raise ApplicationError(f"Folds must be a whole number from {MIN_FOLDS} to {MAX_FOLDS}.", extra={"folds": folds})
    if dataset.task_type != TaskType.CATEGORIZATION:
        raise ApplicationError(
            "Preprocessing experiments compare a categorizer's text settings; this dataset's model is trained on its "
            "own kind of answers (pairs or graded results), so there is nothing here to compare.",
            extra={"task_type": dataset.task_type},
        )
    configs = _configs(dataset, list(names), custom or {})
    _check_labels(dataset)
    return _queue(dataset=dataset, user=user, configs=configs, folds=folds, seed=0)


def experiment_retry(*, experiment: Experiment, user: AbstractBaseUser | None) -> Experiment:
    """Run a failed or cancelled experiment again: a new one with the same configs, folds and seed."""
    if not experiment.can_retry:
        state = job_state(experiment)
        raise ConflictError(f"This experiment is {state}; only a failed or cancelled one can be retried.")
    return _queue(
        dataset=experiment.dataset,
        user=user,
        configs=experiment.configs,
        folds=experiment.folds,
        seed=experiment.seed,
    )


def _queue(
    *, dataset: Dataset, user: AbstractBaseUser | None, configs: dict[str, dict], folds: int, seed: int
) -> Experiment:
    with transaction.atomic():
        Dataset.objects.select_for_update().filter(pk=dataset.pk).first()
        if Experiment.objects.filter(
            dataset=dataset, status__in=[ExperimentStatus.QUEUED, ExperimentStatus.RUNNING]
        ).exists():
            raise ConflictError("An experiment is already waiting or running for this dataset; let it finish first.")
        experiment = Experiment.objects.create(
            dataset=dataset, configs=configs, folds=folds, seed=seed, requested_by=user
        )
        job_enqueue(experiment)
    return experiment


def experiment_run(*, experiment_id: int) -> Experiment | None:
    """Cross-validate every config of the experiment on the current labels. Safe to call twice."""
    return job_execute(Experiment, experiment_id, _cross_validate)


def _cross_validate(experiment: Experiment, run: JobRun) -> None:
    # Configs reading different product fields need different texts; the labels (and so the folds) are the same.
    groups: dict[tuple[str, ...], dict[str, ModelConfig]] = defaultdict(dict)
    for name, data in experiment.configs.items():
        config = ModelConfig.from_dict(data)
        groups[config.features.fields][name] = config
    results, label_count = [], 0
    for fields, configs in groups.items():
        run.check()
        examples = training_examples(dataset=experiment.dataset, fields=fields)
        label_count = len(examples.labels)
        results += cross_validate(
            texts=examples.texts,
            labels=examples.labels,
            configs=configs,
            folds=experiment.folds,
            seed=experiment.seed,
            label_paths=examples.label_paths,
            catalog=catalog_texts(dataset=experiment.dataset, fields=fields),
        )
    results.sort(key=lambda result: (-result.get("accuracy_mean", -1.0), result["name"]))
    run.finish(ExperimentStatus.SUCCEEDED, "", results=results, label_count=label_count)


def experiment_apply(*, experiment: Experiment, name: str, user: AbstractBaseUser | None) -> Dataset:
    """Make one of the experiment's configs the dataset's model config; the next training uses it."""
    if experiment.status != ExperimentStatus.SUCCEEDED:
        raise ApplicationError(
            f"Only a succeeded experiment's configs can be applied; this one is {experiment.get_status_display()}."
        )
    result = next((result for result in experiment.results if result.get("name") == name), None)
    if result is None:
        raise ApplicationError(f"{name!r} is not one of this experiment's configs.", extra={"name": name})
    if "error" in result:
        raise ApplicationError(
            f"{name!r} could not be fitted in this experiment, so it is not applied: {result['error']}"
        )
    dataset = dataset_update(dataset=experiment.dataset, model_config=result["config"])
    logger.info("%s made %r of experiment %s the model config of %s", user, name, experiment.pk, dataset)
    return dataset
