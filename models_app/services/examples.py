"""Moves data between labeling and `models_app.ml`: training examples out, product texts in chunks."""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from datasets.models import Dataset, Label
from labeling.kinds.categorization.training import catalog_records, task_products, training_records
from labeling.label_stats import annotation_last_id
from labeling.resolve import LabelPolicy, resolved_labels
from models_app.ml import product_text

CHUNK = 5000


@dataclass
class Examples:
    """One labeled task each: its product's text (or its product's id, for the kept catalog matrix) and label."""

    texts: list[str]
    labels: list[str]
    label_paths: dict[str, list[str]]
    last_annotation_id: int
    product_ids: list[int] = field(default_factory=list)


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


def training_examples(*, dataset: Dataset, fields: Sequence[str], texts: bool = True) -> Examples:
    """One example per resolved task (labeling.resolve: gold, else the reviewer's decision, else a strict
    majority of the answers given so far); a tie or an unreviewed flag is not trained on. With `texts` false,
    the products' ids instead of their texts (``Examples.product_ids``)."""
    last_id = annotation_last_id(dataset=dataset)
    examples = Examples(texts=[], labels=[], label_paths={}, last_annotation_id=last_id)
    for chunk in _labeled_chunks(dataset, last_id):
        if texts:
            task_ids, records = training_records(task_ids=list(chunk), fields=fields)
            examples.texts.extend(product_text(record, fields) for record in records)
        else:
            task_ids, product_ids = task_products(task_ids=list(chunk))
            examples.product_ids.extend(product_ids)
        examples.labels.extend(str(chunk[task_id]) for task_id in task_ids)
    examples.label_paths = {
        str(pk): path.split(" > ") for pk, path in Label.objects.filter(dataset=dataset).values_list("pk", "path")
    }
    return examples


def catalog_texts(*, dataset: Dataset, fields: Sequence[str]) -> list[str]:
    """The texts of the dataset's products, labeled or not (a seeded sample of a large catalog), that a model's
    vectorizers learn their vocabularies and IDF from."""
    return [product_text(record, fields) for record in catalog_records(dataset=dataset, fields=fields)]
