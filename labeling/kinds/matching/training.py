"""What a matcher reads of a matching task: its two offers' fields, as records for `models_app.ml.train_matcher`.

One query per page whatever its size: the task joined to its two products.
A rescoring reads the open pairs as product ids (`open_pair_ids`) and each product's fields once
(`product_records`): a product stands in ~13 candidate pairs, and reading its fields (JSON included) with each
of them was most of the time a rescoring spent in the database.
"""

import json
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
from django.db import connection
from django.db.models import Case, F, QuerySet, When

from datasets.models import Dataset, Label, Product
from datasets.selectors import CATALOG_SAMPLE, product_sample_ids
from labeling.kinds.matching.kind import MATCH, NO_MATCH
from labeling.models import Task
from labeling.resolve import LabelPolicy, resolved_labels

# The product fields a matcher may read (models_app.ml MATCHER_FIELDS, with the price's currency).
PAIR_FIELDS = ("title", "brand", "description", "attributes", "price", "currency")
CHUNK = 5000
# Products a query of `product_records` on PostgreSQL (one array parameter).
PRODUCT_PAGE = 50_000
# Open pairs a page of `open_pair_ids`: three integers each, so a page can be large.
PAIR_PAGE = 50_000

Record = dict[str, Any]
Pairs = tuple[list[int], list[Record], list[Record]]
PairIds = tuple[np.ndarray, np.ndarray, np.ndarray]


def _paired(tasks: QuerySet[Task]) -> QuerySet[Task]:
    """The pairs among `tasks` with both sides' fields as columns, left and right as the pair came."""
    columns = {}
    for field in PAIR_FIELDS:
        first, second = F(f"product__{field}"), F(f"other_product__{field}")
        columns[f"left_{field}"] = Case(When(swapped=True, then=second), default=first)
        columns[f"right_{field}"] = Case(When(swapped=True, then=first), default=second)
    return tasks.filter(other_product__isnull=False).annotate(**columns)


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


def open_pair_ids(*, dataset: Dataset, chunk_size: int = PAIR_PAGE) -> Iterator[PairIds]:
    """(task ids, left product ids, right product ids) of every open pair, in task id order, by keyset pages.
    The products' fields come from `product_records`, once a product."""
    last = 0
    while True:
        rows = np.array(
            Task.objects.filter(dataset=dataset, is_complete=False, other_product__isnull=False, pk__gt=last)
            .order_by("pk")
            .values_list("pk", "product_id", "other_product_id", "swapped")[:chunk_size],
            dtype=np.int64,
        ).reshape(-1, 4)
        if not len(rows):
            return
        last = int(rows[-1, 0])
        swapped = rows[:, 3].astype(bool)
        yield rows[:, 0], np.where(swapped, rows[:, 2], rows[:, 1]), np.where(swapped, rows[:, 1], rows[:, 2])


def catalog_records(*, dataset: Dataset, limit: int = CATALOG_SAMPLE) -> list[Record]:
    """The records of the dataset's products, labeled or not, ids ascending: all of them, or a seeded sample of
    `limit` (`product_sample_ids`)."""
    return product_records(dataset=dataset, product_ids=product_sample_ids(dataset=dataset, limit=limit))[1]


def product_records(*, dataset: Dataset, product_ids: Sequence[int]) -> tuple[list[int], list[Record]]:
    """(ids, records) of these products of the dataset, ids ascending: the PAIR_FIELDS a matcher reads. An id
    that is not one of the dataset's products (deleted meanwhile) is left out.

    On PostgreSQL one plain query a PRODUCT_PAGE of ids (an array parameter), the values taken as the driver gives
    them and the attributes decoded as JSONField decodes them: a rescoring reads ~150k products, and the ORM's
    per-row work cost more than the query. Elsewhere one ORM query a CHUNK of ids.
    """
    wanted = sorted(map(int, product_ids))
    if connection.vendor != "postgresql":
        return _product_records_orm(dataset, wanted)
    ids: list[int] = []
    records: list[Record] = []
    fields = [Product._meta.get_field(name) for name in ("id", *PAIR_FIELDS)]
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    table = connection.ops.quote_name(Product._meta.db_table)
    dataset_column = connection.ops.quote_name(Product._meta.get_field("dataset").column)
    query = f"SELECT {columns} FROM {table} WHERE {dataset_column} = %s AND id = ANY(%s) ORDER BY id"  # noqa: S608
    attributes = PAIR_FIELDS.index("attributes")
    with connection.cursor() as cursor:
        for start in range(0, len(wanted), PRODUCT_PAGE):
            cursor.execute(query, [dataset.pk, wanted[start : start + PRODUCT_PAGE]])
            for row in cursor.fetchall():
                ids.append(row[0])
                values = list(row[1:])
                values[attributes] = _json(values[attributes])
                records.append(_record(values))
    return ids, records


def _json(value: Any) -> Any:
    """A jsonb column's value as JSONField.from_db_value gives it (psycopg2 hands Django the text)."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        return value


def _product_records_orm(dataset: Dataset, wanted: list[int]) -> tuple[list[int], list[Record]]:
    ids: list[int] = []
    records: list[Record] = []
    for start in range(0, len(wanted), CHUNK):
        rows = (
            Product.objects.filter(dataset=dataset, pk__in=wanted[start : start + CHUNK])
            .order_by("pk")
            .values_list("pk", *PAIR_FIELDS)
        )
        for row in rows:
            ids.append(row[0])
            records.append(_record(row[1:]))
    return ids, records
