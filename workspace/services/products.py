"""One batch of parsed products: their labels resolved and their COPY text made (`product_batch_prepare`, no
database: an import runs it in its parser's thread), then the products (and their tasks) written by the dataset's
task kind, with the labels as imported answers to the tasks (`product_batch_write`, inside the batch's
transaction: a few bulk statements per batch, never a query per row).
"""

from collections.abc import Sequence
from dataclasses import dataclass

from datasets.importers import ProductRow, RowError
from datasets.models import Dataset
from datasets.selectors import LabelResolver
from datasets.services.products import products_prepare
from labeling.kinds import kind_get
from workspace.services.import_batches import BatchResult


@dataclass(frozen=True)
class ProductBatch:
    """A batch of parsed products ready to write: the rows kept, and their labels' ids by external id."""

    rows: Sequence[ProductRow]
    labels: dict[str, int]


def product_batch_prepare(
    *, dataset: Dataset, rows: list[ProductRow], resolve_label: LabelResolver | None
) -> tuple[ProductBatch, list[RowError]]:
    """The batch with its labels resolved (an unknown label rejects its row) and its products' COPY text made
    (`products_prepare`), and the rejected rows. Needs no database: an import runs it in its parser's thread."""
    errors: list[RowError] = []
    labels: dict[str, int] = {}
    if resolve_label is not None:
        kept = []
        for row in rows:
            if row.label:
                label = resolve_label(row.label)
                if label is None:
                    errors.append(RowError(row.line, f"unknown label {row.label!r}", row.external_id))
                    continue
                labels[row.external_id] = label.pk
            kept.append(row)
        rows = kept
    if rows:
        rows = products_prepare(dataset=dataset, rows=rows)
    return ProductBatch(rows=rows, labels=labels), errors


def product_batch_write(
    *, dataset: Dataset, batch: ProductBatch, label_source: str
) -> tuple[BatchResult, list[RowError]]:
    """Write a prepared batch: its products and their tasks by the dataset's kind, its labels as imported answers."""
    rows = batch.rows
    if not rows:
        return BatchResult(), []
    kind = kind_get(dataset.task_type)
    answered = 0
    if batch.labels:
        created, answered = kind.labeled_products_write(
            dataset=dataset, rows=rows, labels=batch.labels, source_name=label_source
        )
    else:
        created = kind.products_write(dataset=dataset, rows=rows)
    return BatchResult(created=created, updated=len(rows) - created, labels=answered), []


def products_import(
    *, dataset: Dataset, rows: list[ProductRow], resolve_label: LabelResolver | None, label_source: str
) -> tuple[BatchResult, list[RowError]]:
    """`product_batch_prepare` then `product_batch_write`, in the caller's thread."""
    batch, errors = product_batch_prepare(dataset=dataset, rows=rows, resolve_label=resolve_label)
    result, rejected = product_batch_write(dataset=dataset, batch=batch, label_source=label_source)
    return result, errors + rejected
