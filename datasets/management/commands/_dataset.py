"""The --dataset argument every command takes: a dataset id or its exact name."""

from django.core.management.base import CommandError

from datasets.models import Dataset


def find_dataset(value: str) -> Dataset:
    dataset = Dataset.objects.filter(pk=int(value)).first() if value.isdigit() else None
    dataset = dataset or Dataset.objects.filter(name=value).first()
    if dataset is None:
        raise CommandError(f"No dataset {value!r}.")
    return dataset
