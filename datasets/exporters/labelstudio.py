"""Label Studio task import JSON: a task per row, its label as an annotation, suggestions as predictions.

The names match a labeling config of `<Text name="text" value="$text"/>` and
`<Choices name="category" toName="text">`, with the taxonomy path as the choice value.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from operator import itemgetter
from typing import Any, BinaryIO, TypeVar

from .common import BASE_COLUMNS, Row, peek, write_json_array

FROM_NAME = "category"
TO_NAME = "text"
# Everything but the label goes into task data, so a round trip back to products loses nothing.
# Annotation-level columns (raw policy) go on the annotation, not the task.
T = TypeVar("T")
_DATA_FIELDS = (*(name for name in BASE_COLUMNS if name != "label"), "attributes", "votes", "agreement", "flagged")


def _choice(label: str) -> dict[str, Any]:
    return {"from_name": FROM_NAME, "to_name": TO_NAME, "type": "choices", "value": {"choices": [label]}}


def _annotation(row: Row) -> dict[str, Any]:
    annotation: dict[str, Any] = {"result": [_choice(row["label"])]}
    if row.get("annotator"):
        # The object form of Label Studio's own exports, so its importers and ours read the annotator.
        annotation["completed_by"] = {"email": row["annotator"]}
    return annotation


def to_task(row: Row, annotations: Iterable[Row] | None = None) -> dict[str, Any]:
    """One task from a product row; `annotations` (the raw policy's rows of one product) default to the row."""
    data: dict[str, Any] = {"text": row.get("title") or ""}
    data.update({name: row[name] for name in _DATA_FIELDS if name in row})
    task: dict[str, Any] = {"data": data}
    labeled = [_annotation(item) for item in (annotations or [row]) if item.get("label")]
    if labeled:
        task["annotations"] = labeled
    suggestions = row.get("suggestions")
    if suggestions:
        # One prediction per suggestion: a choices result carries one choice, and each keeps its score.
        task["predictions"] = [
            {"result": [{**_choice(s["label"]), "score": s["probability"]}], "score": s["probability"]}
            for s in suggestions
        ]
    return task


def write_labelstudio(rows: Iterable[Row], out: BinaryIO) -> int:
    """One task per product; the raw policy's consecutive rows of one product become its annotations.

    Returns the number of rows (annotations for the raw policy) written, like the other formats.
    """
    first, stream = peek(rows)
    key = itemgetter("external_id") if first is not None and "annotator" in first else None
    return write_tasks(stream, out, lambda items: to_task(items[0], items), key)


def write_tasks(
    items: Iterable[T], out: BinaryIO, to_task: Callable[[list[T]], dict[str, Any]], key: Callable[[T], Any] | None
) -> int:
    """A JSON array of tasks: one per item, or with `key` one per run of consecutive items sharing it (the raw
    policy's annotations of one product). Returns the items written."""
    if key is None:
        return write_json_array((to_task([item]) for item in items), out)
    count = 0

    def grouped() -> Iterator[dict[str, Any]]:
        nonlocal count
        for _, group in itertools.groupby(items, key=key):
            run = list(group)
            count += len(run)
            yield to_task(run)

    write_json_array(grouped(), out)
    return count
