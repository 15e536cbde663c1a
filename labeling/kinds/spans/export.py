"""A span dataset's exports: one row per product (per answer for `raw`), its title and its spans, in the layout
`datasets.exporters.span_rows` names (`text`, `spans` with start/end characters, token_start/token_end inclusive
and the span type's code as `label`), which the span writers (spaCy NER DocBin, Prodigy, CoNLL, Label Studio)
and the tabular ones take as they are.

The answer of each task is the one resolve's over the value column (`labeling.resolve.resolved_cte("value")`):
the resolved `AnswerValue`, whose [[token_start, token_end, label id], ...] are on the tokens of the title as
the annotator saw it (`answers.task_tokens`), so the exported text is that very text and the characters come
from its tokens. A flag without spans exports `spans` None, which the span writers skip.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from typing import Any

import orjson

from datasets.exporters import Columns
from datasets.models import Dataset
from labeling.kinds.export import answer_columns, export_context, is_raw, query_params, raw_sql, resolved_sql
from labeling.kinds.spans.tokens import doc_tokens, product_text, tokenize_many
from labeling.models import AnswerValue

FORMATS: tuple[str, ...] = ("spacy_ner", "prodigy", "conll", "labelstudio_spans", "jsonl", "json", "csv")
# Formats with one document per text and no annotator: raw answers would repeat a title, unattributed.
ONE_ANSWER_FORMATS: tuple[str, ...] = ("spacy_ner", "conll")
COLUMNS = Columns(fixed=("external_id", "text", "split", "gold"), json_objects=(), json_lists=("spans",))
# Titles tokenized at a time: spaCy's tokenizer is faster on a batch, and memory holds one batch of rows.
TOKENIZE_BATCH = 1_000


def export_query(*, dataset: Dataset, params: dict[str, Any], with_items: bool) -> tuple[str, dict[str, Any]]:
    """The export's SQL and parameters: the six shared columns (the second the answer's `AnswerValue` id), then
    the product and the value's spans. The split pass gets the six and the product id, the group a split keeps
    whole (`split_groups`): value ids are one per task, no class to stratify by."""
    raw = is_raw(params)
    task = "t" if raw else "c"
    if with_items:
        value = "a.value_id" if raw else "c.label_id"
        select = ", p.external_id, p.title, v.value, p.description"
        joins = (
            f"JOIN datasets_product p ON p.id = {task}.product_id "
            f"LEFT JOIN {AnswerValue._meta.db_table} v ON v.id = {value}"
        )
    else:
        select, joins = f", {task}.product_id", ""
    if raw:
        sql = raw_sql(select=select, joins=joins, include_flagged=params["include_flagged"], answer="value")
    else:
        # `chosen` carries the product id: no join of the task table.
        sql = resolved_sql(select=select, joins=joins, answer="value")
    return sql, query_params(dataset=dataset, params=params)


def export_rows(
    *, dataset: Dataset, params: dict[str, Any], records: Iterable[tuple], split_of: Callable[[int], str] | None
) -> Iterator[dict[str, Any]]:
    """The rows of `export_query(with_items=True)`'s records, in their order."""
    context = export_context(dataset=dataset, params=params, split_of=split_of)
    codes = {label_id: code for label_id, (_path, code) in context.labels.items()}
    records = iter(records)
    while batch := list(islice(records, TOKENIZE_BATCH)):
        # The text as the annotator marked it (`answers.task_text`): the title, with the description if the
        # dataset marks it too.
        texts = [
            product_text({"title": record[7], "description": record[9]}, with_description=dataset.span_description)
            for record in batch
        ]
        for record, text, doc in zip(batch, texts, tokenize_many(texts), strict=True):
            task_id, _value_id, is_gold, flagged, extra_a, extra_b, external_id, _title, value, _description = record
            row: dict[str, Any] = {
                "external_id": external_id,
                "text": text,
                "spans": _spans(value, doc, codes) if value is not None else None,
                "split": split_of(task_id) if split_of is not None else None,
                "gold": bool(is_gold),
            }
            answer_columns(row, context, flagged=flagged, extra_a=extra_a, extra_b=extra_b)
            yield row


def _spans(value: Any, doc: Any, codes: dict[int | None, str]) -> list[dict[str, Any]]:
    """The value's [token_start, token_end, label id] triples as the writers' spans, in characters too."""
    tokens = doc_tokens(doc)
    spans = orjson.loads(value) if isinstance(value, str | bytes) else value
    return [
        {"start": tokens[first].start, "end": tokens[last].end, "token_start": first, "token_end": last,
         # A type gone from the dataset leaves no code: the writers refuse the span by its row.
         "label": codes.get(label_id)}
        for first, last, label_id in spans
    ]

