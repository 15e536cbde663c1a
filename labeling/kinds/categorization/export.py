"""A categorization export: one row per product (per answer for `raw`), its fields then its label.

The label of each task is the one resolve's (`labeling.resolve`); the query adds the product and, when asked,
the model's suggestions. Python only shapes the rows, which the writers take in `PRODUCT_ROWS` order. The
`predicted` policy writes every product: its final label, else the label a model predicts (`predict`, given by the
caller: this layer loads no model).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from typing import Any

import orjson

from config.errors import ApplicationError
from datasets.models import Dataset
from labeling.kinds.export import (
    FROM_FINAL,
    FROM_MODEL,
    Predict,
    answer_columns,
    export_context,
    is_predicted,
    is_raw,
    product_sql,
    query_params,
    raw_sql,
    resolved_sql,
)

FORMATS: tuple[str, ...] = ("csv", "jsonl", "json", "spacy", "parquet", "labelstudio")
# The products a predicted export hands its model at once: a few MB of text and probabilities.
PREDICT_BATCH = 2_000


def export_query(*, dataset: Dataset, params: dict[str, Any], with_items: bool) -> tuple[str, dict[str, Any]]:
    """The export's SQL and parameters; without items (the split pass) a row stops after the six shared columns."""
    raw = is_raw(params)
    task = "t" if raw else "c"
    select = f", {product_sql('p')}" if with_items else ""
    if with_items and params["include_suggestions"]:
        select += f", {task}.suggestions"
    joins = f"JOIN datasets_product p ON p.id = {task}.product_id"
    if raw:
        sql = raw_sql(select=select, joins=joins, include_flagged=params["include_flagged"])
    else:
        sql = resolved_sql(select=select, joins=joins, every_task=is_predicted(params))
    return sql, query_params(dataset=dataset, params=params)


def _loads(value: Any) -> Any:
    # Django hands PostgreSQL jsonb back as text and SQLite stores text, so both usually arrive as str.
    return orjson.loads(value) if isinstance(value, str | bytes) else value


def export_rows(
    *,
    dataset: Dataset,
    params: dict[str, Any],
    records: Iterable[tuple],
    split_of: Callable[[int], str] | None,
    predict: Predict | None = None,
) -> Iterator[dict[str, Any]]:
    """The rows of `export_query(with_items=True)`'s records, in their order; under the `predicted` policy `predict`
    labels the products left without a final label."""
    context = export_context(dataset=dataset, params=params, split_of=split_of)
    labels = context.labels
    with_suggestions = context.include_suggestions

    def shaped(record: tuple) -> dict[str, Any]:
        task_id, label_id, is_gold, flagged, extra_a, extra_b = record[:6]
        external_id, title, description, brand, price, currency, image_url, url, attributes = record[6:15]
        path, code = labels[label_id]
        row = {
            "external_id": external_id,
            "title": title,
            "description": description,
            "brand": brand,
            "price": price,
            "currency": currency,
            "image_url": image_url,
            "url": url,
            "label": path,
            "label_id": label_id,
            "label_code": code,
            "split": split_of(task_id) if split_of is not None else None,
            "gold": bool(is_gold),
        }
        answer_columns(row, context, flagged=flagged, extra_a=extra_a, extra_b=extra_b)
        # The stored JSON text goes out as it is (orjson embeds a Fragment unparsed): decoding and
        # re-encoding every product's attributes was an eighth of an export's time.
        row["attributes"] = orjson.Fragment(attributes) if isinstance(attributes, str) else attributes or {}
        if with_suggestions:
            row["suggestions"] = [
                {"label": labels[label][0], "label_id": label, "probability": probability}
                for label, probability in (_loads(record[15]) or [])
                if label in labels
            ]
        return row

    if not is_predicted(params):
        for record in records:
            yield shaped(record)
        return
    if predict is None:
        raise ApplicationError("A predicted export needs the model that predicts its labels.")
    min_confidence = params["min_confidence"]
    records = iter(records)
    # A batch at a time: the model predicts the batch's unlabeled products at once, and rows keep task order.
    while batch := list(islice(records, PREDICT_BATCH)):
        unlabeled = [_model_record(record) for record in batch if record[1] is None]
        predictions = iter(predict(unlabeled) if unlabeled else ())
        for record in batch:
            row = shaped(record)
            if record[1] is not None:
                row["label_source"], row["probability"] = FROM_FINAL, None
                yield row
                continue
            label_id, probability = next(predictions)
            if probability < min_confidence:
                continue
            path, code = labels[label_id]
            # The votes describe the answers, not the model's label: a prediction has none.
            row |= {"label": path, "label_id": label_id, "label_code": code, "votes": None, "agreement": None}
            row["label_source"], row["probability"] = FROM_MODEL, round(float(probability), 4)
            yield row


def _model_record(record: tuple) -> dict[str, Any]:
    """What a model reads of a product, as training gives it (`training.PRODUCT_FIELDS`)."""
    _, title, description, brand, _, currency, _, url, attributes = record[6:15]
    return {
        "title": title,
        "description": description,
        "brand": brand,
        "attributes": _loads(attributes) or {},
        "url": url,
        "currency": currency,
    }
