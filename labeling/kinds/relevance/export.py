"""A relevance export: one row per judged (query, product) pair (per answer for `raw`), in the layout of Amazon's
Shopping Queries dataset (`query_id, query, product_id, esci_label`), so ranking code loads it as it is.

`esci_label` is the grade's code on the dataset's scale (E/S/C/I, 3-0, or 1/0) and `grade` its value (higher is
better: what TREC qrels and nDCG read). A split keeps each query whole (`TaskKind.split_groups`): a query in two
splits would leak its judgments from training into evaluation. The label of each pair is the one resolve's
(`labeling.resolve`), as for the other kinds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from datasets.exporters import Columns
from datasets.models import Dataset
from labeling.kinds.export import answer_columns, export_context, is_raw, query_params, raw_sql, resolved_sql
from labeling.kinds.relevance.grades import scale_get
from labeling.models import Task

FORMATS: tuple[str, ...] = ("csv", "jsonl", "json", "parquet", "qrels")
COLUMNS = Columns(
    fixed=("query_id", "query", "locale", "product_id", "product_title", "esci_label", "grade", "split", "gold"),
    json_objects=(),
    json_lists=(),
    types=(("grade", "int"), ("esci_label", "string")),
)
_ITEMS = "q.external_id, q.text, q.locale, p.external_id, p.title"


def export_query(*, dataset: Dataset, params: dict[str, Any], with_items: bool) -> tuple[str, dict[str, Any]]:
    """The export's SQL and parameters: the six shared columns, then the query and the product; the split pass
    gets the six and the task's query (its group)."""
    select = f", {_ITEMS}" if with_items else ", t.query_id"
    joins = (
        "JOIN datasets_query q ON q.id = t.query_id JOIN datasets_product p ON p.id = t.product_id"
        if with_items
        else ""
    )
    if is_raw(params):
        sql = raw_sql(select=select, joins=joins, include_flagged=params["include_flagged"])
    else:
        sql = resolved_sql(select=select, joins=f"JOIN {Task._meta.db_table} t ON t.id = c.id {joins}")
    return sql, query_params(dataset=dataset, params=params)


def export_rows(
    *,
    dataset: Dataset,
    params: dict[str, Any],
    records: Iterable[tuple],
    split_of: Callable[[int], str] | None,
) -> Iterator[dict[str, Any]]:
    """The rows of `export_query(with_items=True)`'s records, in their order."""
    context = export_context(dataset=dataset, params=params, split_of=split_of)
    values = scale_get(dataset.grade_scale).values
    codes = {label_id: code for label_id, (_, code) in context.labels.items()}
    for record in records:
        task_id, label_id, is_gold, flagged, extra_a, extra_b, query_id, query, locale, product_id, title = record
        code = codes[label_id] or None
        row: dict[str, Any] = {
            "query_id": query_id,
            "query": query,
            "locale": locale,
            "product_id": product_id,
            "product_title": title,
            "esci_label": code,
            # A label added by hand outside the scale has no value: its rows carry the code alone.
            "grade": values.get(code) if code is not None else None,
            "split": split_of(task_id) if split_of is not None else None,
            "gold": bool(is_gold),
        }
        answer_columns(row, context, flagged=flagged, extra_a=extra_a, extra_b=extra_b)
        yield row
