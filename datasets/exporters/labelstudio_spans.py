"""Label Studio task import JSON for span labeling: a task per text, its spans as `labels` results.

The names match Label Studio's NER template, `<Labels name="label" toName="text">` over
`<Text name="text" value="$text"/>`, each result {"value": {"start", "end", "text", "labels": [label]},
"from_name": "label", "to_name": "text", "type": "labels"} in characters of the text. Every other column of
the row (external_id, split...) goes into the task's data; the raw policy's consecutive rows of one product
become its annotations, as in `labelstudio`. Rows without spans (not annotated) are skipped.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, BinaryIO

from .common import Row, peek
from .labelstudio import write_tasks
from .span_rows import SpanDoc, span_docs

EXTENSION = "labelstudio.json"
FROM_NAME = "label"
TO_NAME = "text"
_NOT_DATA = frozenset(("text", "tokens", "spans", "annotator"))


def _result(item: SpanDoc, span: dict[str, Any]) -> dict[str, Any]:
    value = {"start": span["start"], "end": span["end"], "text": item.text[span["start"]:span["end"]],
             "labels": [span["label"]]}
    return {"value": value, "from_name": FROM_NAME, "to_name": TO_NAME, "type": "labels"}


def _annotation(item: SpanDoc) -> dict[str, Any]:
    annotation: dict[str, Any] = {"result": [_result(item, span) for span in item.spans]}
    if item.row.get("annotator"):
        # The object form of Label Studio's own exports, which its importer and ours read.
        annotation["completed_by"] = {"email": item.row["annotator"]}
    return annotation


def to_span_task(items: list[SpanDoc]) -> dict[str, Any]:
    """One task from the annotations of one text (a single row, or the raw policy's rows of one product)."""
    first = items[0]
    data = {key: value for key, value in first.row.items() if key not in _NOT_DATA and value is not None}
    return {"data": {**data, "text": first.text}, "annotations": [_annotation(item) for item in items]}


def write_labelstudio_spans(rows: Iterable[Row], out: BinaryIO) -> int:
    """Write the annotated rows as a JSON array of tasks; returns the rows (annotations) written."""
    first, stream = peek(span_docs(rows))
    key = (lambda item: item.row.get("external_id")) if first is not None and "annotator" in first.row else None
    return write_tasks(stream, out, to_span_task, key)
