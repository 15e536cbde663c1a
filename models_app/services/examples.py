"""Moves data between the ORM and `models_app.ml`: training examples out, product texts in chunks."""

from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from django.db.models import Max

from datasets.models import Dataset, Label
from labeling.models import Annotation, AnnotationStatus, Review, Task
from models_app.ml import product_text

PRODUCT_FIELDS = ("title", "description", "brand", "attributes", "url", "currency")


@dataclass
class Examples:
    texts: list[str]
    labels: list[str]
    label_paths: dict[str, list[str]]
    last_annotation_id: int


def _product_values(fields: Sequence[str]) -> list[str]:
    return [f"product__{field}" for field in fields if field in PRODUCT_FIELDS]


def training_examples(*, dataset: Dataset, fields: Sequence[str]) -> Examples:
    """One example per labeled task, with its final label: the gold label, else the reviewer's decision, else
    the majority of the answers (earliest wins a tie), human and imported alike."""
    last_id = Annotation.objects.filter(dataset=dataset).aggregate(last=Max("pk"))["last"] or 0
    votes: dict[int, Counter] = defaultdict(Counter)
    rows = (
        Annotation.objects.filter(
            dataset=dataset, status=AnnotationStatus.SUBMITTED, label__isnull=False, pk__lte=last_id
        )
        .order_by("pk")
        .values_list("task_id", "label_id")
    )
    for task_id, label_id in rows.iterator(chunk_size=5000):
        votes[task_id][label_id] += 1
    decided = dict(Review.objects.filter(dataset=dataset).values_list("task_id", "label_id"))
    decided |= dict(
        Task.objects.filter(dataset=dataset, is_gold=True).values_list("pk", "gold_label_id")
    )  # gold last: it wins over a review
    for task_id, label_id in decided.items():
        votes[task_id] = Counter({label_id: 1})
    texts, labels = [], []
    value_fields = _product_values(fields)
    labeled = sorted(votes)
    for chunk_start in range(0, len(labeled), 5000):
        task_ids = labeled[chunk_start : chunk_start + 5000]
        for task_id, *values in Task.objects.filter(pk__in=task_ids).order_by("pk").values_list("pk", *value_fields):
            record = {field.removeprefix("product__"): value for field, value in zip(value_fields, values, strict=True)}
            texts.append(product_text(record, fields))
            labels.append(str(votes[task_id].most_common(1)[0][0]))
    paths = {str(pk): path.split(" > ") for pk, path in Label.objects.filter(dataset=dataset).values_list("pk", "path")}
    return Examples(texts=texts, labels=labels, label_paths=paths, last_annotation_id=last_id)


def open_task_texts(
    *, dataset: Dataset, fields: Sequence[str], chunk_size: int = 20_000
) -> Iterator[tuple[list[int], list[str]]]:
    """(task ids, texts) of every open task, by keyset pages so memory stays flat at a million products."""
    value_fields = _product_values(fields)
    last = 0
    while True:
        page = list(
            Task.objects.filter(dataset=dataset, is_complete=False, pk__gt=last)
            .order_by("pk")
            .values_list("pk", *value_fields)[:chunk_size]
        )
        if not page:
            return
        last = page[-1][0]
        texts = [
            product_text({f.removeprefix("product__"): v for f, v in zip(value_fields, values, strict=True)}, fields)
            for _, *values in page
        ]
        yield [row[0] for row in page], texts
