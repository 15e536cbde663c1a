"""Prodigy span JSONL, as `prodigy db-out` writes a `ner_manual` dataset: one accepted example a line.

{"text", "tokens": [{"text", "start", "end", "id", "ws"}], "spans": [{"start", "end", "token_start",
"token_end", "label"}], "meta": {...}, "_view_id": "ner_manual", "answer": "accept"}. Every other column of
the row (external_id, split...) goes into `meta`, which Prodigy shows under the text and keeps; the row's
`annotator` becomes `_annotator_id`, Prodigy's own field. No `_input_hash` / `_task_hash`: Prodigy computes
them on import (`db-in`), and our importer finds the product by `meta.external_id`. Rows without spans (not
annotated) are skipped.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, BinaryIO

from .common import Row, dumpb
from .span_rows import SpanDoc, span_docs

EXTENSION = "prodigy.jsonl"
VIEW_ID = "ner_manual"
_NOT_META = frozenset(("text", "tokens", "spans", "annotator"))


def to_example(item: SpanDoc) -> dict[str, Any]:
    example: dict[str, Any] = {
        "text": item.text,
        "tokens": item.tokens,
        "spans": item.spans,
        "meta": {key: value for key, value in item.row.items() if key not in _NOT_META and value is not None},
        "_view_id": VIEW_ID,
        "answer": "accept",
    }
    if item.row.get("annotator"):
        example["_annotator_id"] = item.row["annotator"]
    return example


def write_prodigy_spans(rows: Iterable[Row], out: BinaryIO) -> int:
    """Write one example a line (UTF-8, "\\n"); returns the examples written."""
    count = 0
    for item in span_docs(rows):
        out.write(dumpb(to_example(item)) + b"\n")
        count += 1
    return count
