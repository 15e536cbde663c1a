"""What a model reads of a categorization task: its product's fields, as records for `models_app.ml.product_text`."""

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from datasets.models import Dataset, Product
from datasets.selectors import CATALOG_SAMPLE, product_sample_ids
from labeling.models import Task

# The product fields a model may read; others named in a model's config are left out.
PRODUCT_FIELDS = ("title", "description", "brand", "attributes", "url", "currency")
CHUNK = 5000


def _columns(fields: Sequence[str]) -> list[str]:
    return [f"product__{field}" for field in fields if field in PRODUCT_FIELDS]


def _records(rows: list[tuple], columns: list[str]) -> tuple[list[int], list[dict[str, Any]]]:
    names = [column.removeprefix("product__") for column in columns]
    return [row[0] for row in rows], [dict(zip(names, row[1:], strict=True)) for row in rows]


def training_records(*, task_ids: Sequence[int], fields: Sequence[str]) -> tuple[list[int], list[dict[str, Any]]]:
    """The tasks' ids and product records, in task id order; a task deleted meanwhile is left out. Give a few
    thousand ids at a time: they are one query's parameters."""
    columns = _columns(fields)
    rows = list(Task.objects.filter(pk__in=task_ids).order_by("pk").values_list("pk", *columns))
    return _records(rows, columns)


def task_products(*, task_ids: Sequence[int]) -> tuple[list[int], list[int]]:
    """The tasks' ids and their products' ids, in task id order; a task deleted meanwhile is left out."""
    rows = list(Task.objects.filter(pk__in=task_ids).order_by("pk").values_list("pk", "product_id"))
    return [row[0] for row in rows], [row[1] for row in rows]


def product_record_pages(
    *, dataset: Dataset, fields: Sequence[str], changed_since: datetime | None = None, chunk_size: int = 20_000
) -> Iterator[tuple[list[int], list[datetime], list[dict[str, Any]]]]:
    """(product ids, their write times, records) of the dataset's products, or of those written at or after
    `changed_since`, ids ascending, by keyset pages so memory stays flat at a million products."""
    columns = [field for field in fields if field in PRODUCT_FIELDS]
    products = Product.objects.filter(dataset=dataset)
    if changed_since is not None:
        products = products.filter(updated_at__gte=changed_since)
    last = 0
    while True:
        rows = list(products.filter(pk__gt=last).order_by("pk").values_list("pk", "updated_at", *columns)[:chunk_size])
        if not rows:
            return
        last = rows[-1][0]
        yield (
            [row[0] for row in rows],
            [row[1] for row in rows],
            [dict(zip(columns, row[2:], strict=True)) for row in rows],
        )


def open_task_products(*, dataset: Dataset, chunk_size: int = 50_000) -> Iterator[tuple[list[int], list[int]]]:
    """(task ids, product ids) of every open task, by keyset pages."""
    last = 0
    while True:
        rows = list(
            Task.objects.filter(dataset=dataset, is_complete=False, pk__gt=last)
            .order_by("pk")
            .values_list("pk", "product_id")[:chunk_size]
        )
        if not rows:
            return
        last = rows[-1][0]
        yield [row[0] for row in rows], [row[1] for row in rows]


def catalog_records(
    *, dataset: Dataset, fields: Sequence[str], limit: int = CATALOG_SAMPLE
) -> list[dict[str, Any]]:
    """The records of the dataset's products, labeled or not, ids ascending: all of them or a seeded sample of
    `limit` (`product_sample_ids`)."""
    names = [field for field in fields if field in PRODUCT_FIELDS]
    if not names:
        return []
    ids = product_sample_ids(dataset=dataset, limit=limit)
    records: list[dict[str, Any]] = []
    for start in range(0, len(ids), CHUNK):
        rows = Product.objects.filter(pk__in=ids[start : start + CHUNK]).order_by("pk").values_list(*names)
        records.extend(dict(zip(names, row, strict=True)) for row in rows)
    return records
