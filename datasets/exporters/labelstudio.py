"""Label Studio task import JSON: a task per row, its label as an annotation, suggestions as predictions.

The names match a labeling config of `<Text name="text" value="$text"/>` and
`<Choices name="category" toName="text">`, with the taxonomy path as the choice value.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, BinaryIO

from .common import BASE_COLUMNS, Row, write_json_array

FROM_NAME = "category"
TO_NAME = "text"
# Everything but the label goes into task data, so a round trip back to products loses nothing.
_DATA_FIELDS = (*(name for name in BASE_COLUMNS if name != "label"), "attributes", "annotator")


def _choice(label: str) -> dict[str, Any]:
    return {"from_name": FROM_NAME, "to_name": TO_NAME, "type": "choices", "value": {"choices": [label]}}


def to_task(row: Row) -> dict[str, Any]:
    data: dict[str, Any] = {"text": row.get("title") or ""}
    data.update({name: row[name] for name in _DATA_FIELDS if name in row})
    task: dict[str, Any] = {"data": data}
    if row.get("label"):
        task["annotations"] = [{"result": [_choice(row["label"])]}]
    suggestions = row.get("suggestions")
    if suggestions:
        # One prediction per suggestion: a choices result carries one choice, and each keeps its score.
        task["predictions"] = [
            {"result": [{**_choice(s["label"]), "score": s["probability"]}], "score": s["probability"]}
            for s in suggestions
        ]
    return task


def write_labelstudio(rows: Iterable[Row], out: BinaryIO) -> int:
    tasks: Iterator[dict[str, Any]] = (to_task(row) for row in rows)
    return write_json_array(tasks, out)
