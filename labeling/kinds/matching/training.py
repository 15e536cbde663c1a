"""What a matcher reads of a matching task: its two offers' fields, as records for `models_app.ml.train_matcher`.

One query per page whatever its size: the task joined to its left and its right item (and their products).
"""

from collections.abc import Iterator, Sequence
from typing import Any

from django.db.models import F, FilteredRelation, Q, QuerySet

from datasets.models import Dataset, Label
from labeling.kinds.matching.kind import MATCH, NO_MATCH
from labeling.models import Task
from labeling.resolve import LabelPolicy, resolved_labels

# The product fields a matcher may read (models_app.ml MATCHER_FIELDS, with the price's currency).
PAIR_FIELDS = ("title", "brand", "description", "attributes", "price", "currency")
CHUNK = 5000

Record = dict[str, Any]
Pairs = tuple[list[int], list[Record], list[Record]]


def _paired(tasks: QuerySet[Task]) -> QuerySet[Task]:
    """The tasks with both sides' fields as columns: a task missing a side is left out."""
    joined = tasks.annotate(
        left_item=FilteredRelation("items", condition=Q(items__role="left")),
        right_item=FilteredRelation("items", condition=Q(items__role="right")),
    ).filter(left_item__isnull=False, right_item__isnull=False)
    columns = {
        f"{side}_{field}": F(f"{side}_item__product__{field}") for side in ("left", "right") for field in PAIR_FIELDS
    }
    return joined.annotate(**columns)


def _pairs(rows: list[tuple]) -> Pairs:
    width = len(PAIR_FIELDS)
    ids, left, right = [], [], []
    for row in rows:
        ids.append(row[0])
        left.append(_record(row[1 : 1 + width]))
        right.append(_record(row[1 + width :]))
    return ids, left, right


def _record(values: Sequence[Any]) -> Record:
    return dict(zip(PAIR_FIELDS, values, strict=True))


def _columns() -> list[str]:
    return [f"{side}_{field}" for side in ("left", "right") for field in PAIR_FIELDS]


def pair_records(*, task_ids: Sequence[int]) -> Pairs:
    """(task ids, left records, right records) of these tasks in task id order; a task deleted meanwhile is
    left out. Give a few thousand ids at a time: they are one query's parameters."""
    rows = list(_paired(Task.objects.filter(pk__in=task_ids)).order_by("pk").values_list("pk", *_columns()))
    return _pairs(rows)


def training_pairs(*, dataset: Dataset, upto_annotation_id: int) -> tuple[list[Record], list[Record], list[int]]:
    """Left records, right records and labels (1 match, 0 no match) of every resolved pair, as
    labeling.resolve resolves them (gold, else the reviewer's decision, else a strict majority)."""
    codes = dict(Label.objects.filter(dataset=dataset, code__in=[MATCH.code, NO_MATCH.code]).values_list("pk", "code"))
    left, right, labels = [], [], []
    chunk: dict[int, int] = {}

    def flush() -> None:
        ids, lefts, rights = pair_records(task_ids=list(chunk))
        left.extend(lefts)
        right.extend(rights)
        labels.extend(int(codes[chunk[task_id]]) for task_id in ids)
        chunk.clear()

    for task_id, label_id in resolved_labels(
        dataset=dataset, policy=LabelPolicy.MAJORITY, min_votes=1, upto_annotation_id=upto_annotation_id
    ):
        if label_id in codes:  # a hand-made extra label is no answer a matcher learns
            chunk[task_id] = label_id
        if len(chunk) == CHUNK:
            flush()
    if chunk:
        flush()
    return left, right, labels


def open_pair_records(*, dataset: Dataset, chunk_size: int = 20_000) -> Iterator[Pairs]:
    """(task ids, left records, right records) of every open pair, by keyset pages so memory stays flat."""
    last = 0
    while True:
        rows = list(
            _paired(Task.objects.filter(dataset=dataset, is_complete=False, pk__gt=last))
            .order_by("pk")
            .values_list("pk", *_columns())[:chunk_size]
        )
        if not rows:
            return
        last = rows[-1][0]
        yield _pairs(rows)
