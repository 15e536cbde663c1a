"""One batch of parsed products: their labels resolved, the products (and their tasks) written by the dataset's
task kind, with the labels as imported answers to the tasks.

Called inside the batch's transaction; a few bulk statements per batch, never a query per row.
"""

from datasets.importers import ProductRow, RowError
from datasets.models import Dataset, Label
from datasets.selectors import LabelResolver
from labeling.kinds import kind_get
from workspace.services.import_batches import BatchResult


def product_batch_write(
    *, dataset: Dataset, rows: list[ProductRow], resolve_label: LabelResolver | None, label_source: str
) -> tuple[BatchResult, list[RowError]]:
    errors: list[RowError] = []
    labels: dict[str, Label] = {}
    if resolve_label is not None:
        kept = []
        for row in rows:
            if row.label:
                label = resolve_label(row.label)
                if label is None:
                    errors.append(RowError(row.line, f"unknown label {row.label!r}", row.external_id))
                    continue
                labels[row.external_id] = label
            kept.append(row)
        rows = kept
    if not rows:
        return BatchResult(), errors

    kind = kind_get(dataset.task_type)
    answered = 0
    if labels:
        created, answered = kind.labeled_products_write(
            dataset=dataset, rows=rows, labels={key: label.pk for key, label in labels.items()},
            source_name=label_source,
        )
    else:
        created = kind.products_write(dataset=dataset, rows=rows)
    return BatchResult(created=created, updated=len(rows) - created, labels=answered), errors

