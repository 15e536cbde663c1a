"""Datasets as the pages, the API and the commands make and change them: of a task kind the registry knows,
with the kind's fixed labels, and with model settings training can use.

The checks live here, above datasets, because the kinds are labeling's and the model settings models_app's
to define; the writes stay datasets' own (datasets.services).
"""

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from config.errors import ApplicationError
from datasets.importers import TaxonomyRow
from datasets.models import Dataset, TaskType
from datasets.services import datasets
from datasets.services.taxonomy import taxonomy_upsert
from labeling.kinds import kind_get
from models_app.ml.config import ConfigError, MatcherConfig, ModelConfig, RelevanceConfig
from models_app.ml.spans import SpanConfig


def model_config_validate(config: Any, *, task_type: str) -> None:
    """Refuse model settings the dataset's training would: a matcher's for pairs, a ranker's for relevance, a
    tagger's for spans, a categorizer's otherwise."""
    # Not an object is datasets' own error (the column holds one); here only what training would refuse.
    if not isinstance(config, dict):
        return
    parse = {
        TaskType.MATCHING: MatcherConfig.from_dict, TaskType.RELEVANCE: RelevanceConfig.from_dict,
        TaskType.SPANS: SpanConfig.from_dict,
    }.get(task_type, ModelConfig.from_dict)
    try:
        parse(config)
    except ConfigError as error:
        raise ApplicationError(f"Model settings: {error}", extra={"model_config": str(error)}) from error


def dataset_create(*, user: AbstractBaseUser, name: str, **settings: Any) -> Dataset:
    """Create a dataset of a known task kind, with the kind's fixed labels ("match", "no match"; a relevance
    dataset's grades, on its `grade_scale`; a span dataset's `span_types`) and model settings training accepts;
    its creator becomes its first lead."""
    kind = kind_get(settings.setdefault("task_type", TaskType.CATEGORIZATION))
    kind_settings = kind.settings_clean(settings=settings)
    if "model_config" in settings:
        model_config_validate(settings["model_config"], task_type=kind.name)
    with transaction.atomic():
        dataset = datasets.dataset_create(user=user, name=name, **settings)
        choices = kind.choices_for(dataset=dataset, **kind_settings)
        if choices:
            choices = enumerate(choices, start=1)
            taxonomy_upsert(
                dataset=dataset,
                rows=[TaxonomyRow(line=line, code=choice.code, path=(choice.name,)) for line, choice in choices],
            )
    return dataset


def dataset_update(*, dataset: Dataset, **changes: Any) -> Dataset:
    if "model_config" in changes:
        model_config_validate(changes["model_config"], task_type=dataset.task_type)
    return datasets.dataset_update(dataset=dataset, **changes)
