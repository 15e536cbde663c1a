"""How span tasks are made: one task per product, created with the product by its import, its suggestions the
spans its own structured values mark in its title (`preannotate`: weak supervision until a model is trained)."""

from __future__ import annotations

from collections.abc import Sequence

from config.errors import ApplicationError
from datasets.importers import ProductRow
from datasets.models import Dataset, Label
from datasets.selectors import product_ids
from labeling.kinds.categorization.tasks import product_tasks_upsert
from labeling.kinds.spans.preannotate import attribute_labels, preannotate
from labeling.models import Task

WRITE_BATCH = 2000


def span_tasks_upsert(*, dataset: Dataset, rows: Sequence[ProductRow]) -> int:
    """Create or update the products with a task each (new products only), then suggest on every row's task
    the spans its brand and attributes mark in its title; returns how many products are new."""
    labelled = [row.line for row in rows if row.label]
    if labelled:
        raise ApplicationError(
            f"A span dataset's product file has no label column (line {labelled[0]} has one): span answers "
            "import as Prodigy JSONL.",
            extra={"line": labelled[0]},
        )
    created = product_tasks_upsert(dataset=dataset, rows=rows)
    suggestions_preannotate(dataset=dataset, rows=rows)
    return created


def suggestions_preannotate(*, dataset: Dataset, rows: Sequence[ProductRow]) -> None:
    """Write the pre-annotations of these products' tasks as their suggestions: [[token_start, token_end,
    label id, None], ...] (no probability: a value found, not a guess). A task a model already scored keeps
    the model's."""
    types = dict(Label.objects.filter(dataset=dataset).values_list("code", "pk"))
    mapping = attribute_labels(list(types))
    if not mapping or not rows:
        return
    found = preannotate(
        [{"title": row.title, "description": row.description, "brand": row.brand, "attributes": row.attributes}
         for row in rows],
        mapping=mapping,
        with_description=dataset.span_description,
    )
    ids = product_ids(dataset=dataset, external_ids=[row.external_id for row in rows])
    suggested = {
        ids[row.external_id]: [[s.token_start, s.token_end, types[s.label], None] for s in spans]
        for row, spans in zip(rows, found.suggestions, strict=True)
        if row.external_id in ids
    }
    tasks = list(Task.objects.filter(dataset=dataset, product_id__in=list(suggested), uncertainty=None))
    for task in tasks:
        task.suggestions = suggested[task.product_id] or None
    Task.objects.bulk_update(tasks, ["suggestions"], batch_size=WRITE_BATCH)
