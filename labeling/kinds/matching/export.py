"""A matching export: one row per pair (per answer for `raw`) in the layout of the public matching benchmarks
(`left_id, left_title, ..., right_id, right_title, ..., label`), so matching code loads it as it is.

`label` is 1 (match) or 0 (no match), read from the label's code; `split` is the export's own split, while the
pair's imported columns (a benchmark's `split` among them) stay in `attributes`, so the two never collide. The
label of each pair is the one resolve's (`labeling.resolve`), as for categorization.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import orjson

from datasets.exporters import Columns
from datasets.exporters.common import PRODUCT_COLUMNS
from datasets.models import Dataset, Product
from labeling.kinds.export import (
    answer_columns,
    export_context,
    is_raw,
    product_sql,
    query_params,
    raw_sql,
    resolved_sql,
)
from labeling.models import Task

FORMATS: tuple[str, ...] = ("csv", "jsonl", "json", "parquet", "ditto")
# The benchmarks name a product's id `id`: our external id.
_SIDE_FIELDS = ("id", *PRODUCT_COLUMNS[1:])
LEFT = tuple(f"left_{field}" for field in _SIDE_FIELDS)
RIGHT = tuple(f"right_{field}" for field in _SIDE_FIELDS)
COLUMNS = Columns(
    fixed=(*LEFT, *RIGHT, "label", "split", "gold"),
    json_objects=("left_attributes", "right_attributes", "attributes"),
    json_lists=(),
    types=(("label", "int"), ("left_price", "decimal"), ("right_price", "decimal")),
)
_FIELDS = len(PRODUCT_COLUMNS) + 1  # the product columns and its attributes


def _side_joins(task: str) -> str:
    """The left (l) and right (r) products of the pair `task`: its products are stored in id order, `swapped`
    says which one is left."""
    products = Product._meta.db_table
    return (
        f"JOIN {products} l ON l.id = CASE WHEN {task}.swapped THEN {task}.other_product_id "
        f"ELSE {task}.product_id END "
        f"JOIN {products} r ON r.id = CASE WHEN {task}.swapped THEN {task}.product_id "
        f"ELSE {task}.other_product_id END"
    )


def export_query(*, dataset: Dataset, params: dict[str, Any], with_items: bool) -> tuple[str, dict[str, Any]]:
    """The export's SQL and parameters: the six shared columns, then the pair's attributes, the left product and the
    right product; without items (the split pass) only the six."""
    select = joins = ""
    if is_raw(params):
        if with_items:
            select = f", t.attributes, {product_sql('l')}, {product_sql('r')}"
            joins = _side_joins("t")
        sql = raw_sql(select=select, joins=joins, include_flagged=params["include_flagged"])
    else:
        if with_items:
            select = f", t.attributes, {product_sql('l')}, {product_sql('r')}"
            joins = f"JOIN {Task._meta.db_table} t ON t.id = c.id {_side_joins('t')}"
        sql = resolved_sql(select=select, joins=joins)
    return sql, query_params(dataset=dataset, params=params)


def _object(value: Any) -> dict[str, Any]:
    # PostgreSQL's jsonb comes back as text, as SQLite's JSON does. Parsed, not passed through: Ditto writes a
    # side's attributes as columns of its own.
    value = orjson.loads(value) if isinstance(value, str | bytes) else value
    return value or {}


def _label_value(code: str) -> int | str | None:
    """1 or 0 from the choice's code; another code (a label added by hand) goes out as it is."""
    if code in ("0", "1"):
        return int(code)
    return code or None


def export_rows(
    *,
    dataset: Dataset,
    params: dict[str, Any],
    records: Iterable[tuple],
    split_of: Callable[[int], str] | None,
) -> Iterator[dict[str, Any]]:
    """The rows of `export_query(with_items=True)`'s records, in their order."""
    context = export_context(dataset=dataset, params=params, split_of=split_of)
    values = {label_id: _label_value(code) for label_id, (_, code) in context.labels.items()}
    left_start, right_start = 7, 7 + _FIELDS
    for record in records:
        task_id, label_id, is_gold, flagged, extra_a, extra_b, attributes = record[:7]
        left, right = record[left_start:right_start], record[right_start : right_start + _FIELDS]
        row: dict[str, Any] = dict(zip(LEFT, left[:-1], strict=True))
        row.update(zip(RIGHT, right[:-1], strict=True))
        row["label"] = values[label_id]
        row["split"] = split_of(task_id) if split_of is not None else None
        row["gold"] = bool(is_gold)
        answer_columns(row, context, flagged=flagged, extra_a=extra_a, extra_b=extra_b)
        row["left_attributes"] = _object(left[-1])
        row["right_attributes"] = _object(right[-1])
        row["attributes"] = _object(attributes)
        yield row
