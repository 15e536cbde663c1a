"""Moves data between labeling and `models_app.ml`: training examples out, product texts in chunks."""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from datasets.models import Dataset, Label
from labeling.kinds.categorization.training import catalog_records, open_task_records, training_records
from labeling.label_stats import annotation_last_id
from labeling.resolve import LabelPolicy, resolved_labels
from models_app.ml import product_text

CHUNK = 5000


@dataclass
class Examples:
    texts: list[str]
    labels: list[str]
    label_paths: dict[str, list[str]]
    last_annotation_id: int


def _labeled_chunks(dataset: Dataset, last_id: int) -> Iterator[dict[int, int]]:
    chunk: dict[int, int] = {}
    for task_id, label_id in resolved_labels(
        dataset=dataset, policy=LabelPolicy.MAJORITY, min_votes=1, upto_annotation_id=last_id
    ):
        chunk[task_id] = label_id
        if len(chunk) == CHUNK:
            yield chunk
            chunk = {}
    if chunk:
        yield chunk


def training_examples(*, dataset: Dataset, fields: Sequence[str]) -> Examples:
    """One example per resolved task (labeling.resolve: gold, else the reviewer's decision, else a strict
    majority of the answers given so far); a tie or an unreviewed flag is not trained on."""
    last_id = annotation_last_id(dataset=dataset)
    texts, labels = [], []
    for chunk in _labeled_chunks(dataset, last_id):
        task_ids, records = training_records(task_ids=list(chunk), fields=fields)
        texts.extend(product_text(record, fields) for record in records)
        labels.extend(str(chunk[task_id]) for task_id in task_ids)
    paths = {str(pk): path.split(" > ") for pk, path in Label.objects.filter(dataset=dataset).values_list("pk", "path")}
    return Examples(texts=texts, labels=labels, label_paths=paths, last_annotation_id=last_id)


def open_task_texts(
    *, dataset: Dataset, fields: Sequence[str], chunk_size: int = 20_000
) -> Iterator[tuple[list[int], list[str]]]:
    """(task ids, texts) of every open task, a page at a time, so memory stays flat at a million products."""
    for task_ids, records in open_task_records(dataset=dataset, fields=fields, chunk_size=chunk_size):
        yield task_ids, [product_text(record, fields) for record in records]


def catalog_texts(*, dataset: Dataset, fields: Sequence[str]) -> list[str]:
    """The texts of the dataset's products, labeled or not (a seeded sample of a large catalog), that a model's
    vectorizers learn their vocabularies and IDF from."""
    return [product_text(record, fields) for record in catalog_records(dataset=dataset, fields=fields)]
