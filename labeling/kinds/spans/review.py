"""What the review page shows of a span task: each distinct answer once, with its votes and who gave it, over
the title's tokens one under the other (tokens where the answers differ marked), the model's spans as one more
row, and the spans the decision starts from (the current decision, else the most voted answer)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from labeling.kinds.spans.answers import task_tokens
from labeling.kinds.spans.page import span_types
from labeling.kinds.spans.tokens import Token, tokens_text
from labeling.models import AnnotationStatus, Task

KEYS = 9  # keys 1-9 choose a row


def spans_text(*, tokens: Sequence[Token], names: dict[int, str], value: list) -> str:
    """Spans in words, for messages and the history: "Sony (BRAND), Black (COLOR)"; "no attribute" for []."""
    parts = []
    for start, end, label in value:
        words = tokens_text(tokens[start : end + 1]).strip()
        parts.append(f"{words} ({names.get(label, label)})")
    return ", ".join(parts) or "no attribute"


def _row_tokens(tokens: Sequence[Token], value: list, colors: dict[int, dict], differs: set[int]) -> list[dict]:
    covering = {i: (start, end, label) for start, end, label in value for i in range(start, end + 1)}
    row = []
    for token in tokens:
        span = covering.get(token.id)
        entry = {
            "i": token.id,
            "text": token.text,
            "ws": token.ws,
            "space": token.is_space,
            "differs": token.id in differs,
        }
        if span is not None:
            start, end, label = span
            span_type = colors.get(label, {})
            entry |= {"label": label, "color": span_type.get("color", ""), "start": token.id == start}
            entry |= {"name": span_type.get("name", str(label)), "end": token.id == end}
        row.append(entry)
    return row


def _differing(tokens: Sequence[Token], values: list[list]) -> set[int]:
    """The tokens not covered alike by every answer: another type, another span's edges, or no span."""
    coverings = [{i: (s, e, label) for s, e, label in value for i in range(s, e + 1)} for value in values]
    return {token.id for token in tokens if len({covering.get(token.id) for covering in coverings}) > 1}


def review_context(*, task: Task, answers: Sequence[Any]) -> dict[str, Any]:
    types = span_types(dataset=task.dataset)
    by_id = {span_type["id"]: span_type for span_type in types}
    names = {span_type["id"]: span_type["name"] for span_type in types}
    tokens = task_tokens(task.product, dataset=task.dataset)
    rows: dict[int, dict] = {}
    for answer in answers:  # oldest first: equal votes keep the first given first
        if answer.value is None:
            continue
        answer.spans_text = spans_text(tokens=tokens, names=names, value=answer.value.value)
        if answer.status != AnnotationStatus.SUBMITTED:
            continue
        row = rows.setdefault(answer.value_id, {"kind": "answer", "value": answer.value.value, "votes": 0, "who": []})
        row["votes"] += 1
        row["who"].append(answer.who)
    options = sorted(rows.values(), key=lambda row: -row["votes"])
    differs = _differing(tokens, [row["value"] for row in options]) if len(options) > 1 else set()
    review = getattr(task, "review", None)
    decided = review.value.value if review is not None and review.value is not None else None
    if decided is not None and all(row["value"] != decided for row in options):
        options.append({"kind": "review", "value": decided})
    # Unlike the annotator's page nothing is hidden: the reviewer is not the one whose anchoring is measured.
    suggested = (entry for entry in task.suggestions or [] if len(entry) == 4)
    model = sorted([start, end, label] for start, end, label, _ in suggested if label in by_id)
    if model and all(row["value"] != model for row in options):
        options.append({"kind": "model", "value": model})
    for i, row in enumerate(options):
        row["key"] = str(i + 1) if i < KEYS else ""
        row["json"] = json.dumps(row["value"])
        row["text"] = spans_text(tokens=tokens, names=names, value=row["value"])
        row["tokens"] = _row_tokens(tokens, row["value"], by_id, differs)
    start = decided if decided is not None else (options[0]["value"] if options else [])
    return {
        "span_types": types,
        "span_answers": options,
        "span_differs": len(differs),
        "given_spans": [{"start": s, "end": e, "label_id": label} for s, e, label in start],
        "suggested_spans": [],  # the model's spans are a row to choose, not dashes in the editor
    }
