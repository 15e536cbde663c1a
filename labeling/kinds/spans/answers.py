"""A span answer as the page and the API give it, read against the task's tokens.

The page posts `spans` as JSON text, the API as a list; a span is [token_start, token_end (inclusive), type]
or {"token_start", "token_end", "label"}, the type a label id of the dataset or its code ("BRAND"). What is
kept is the canonical value: sorted [token_start, token_end, label id] triples, [] for a title without any
attribute, so equal answers are equal values (`labeling.answer_values`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from config.errors import ApplicationError
from datasets.models import Dataset, Label
from labeling.kinds.spans.tokens import SpanError, Token, product_text, spans_check, tokenize

MAX_SPANS = 200  # a title has a few attributes; more is a client gone wrong, refused before any work


def task_text(product: Any, *, dataset: Dataset) -> str:
    """The product's text as the annotator marks it: its title, or its title and description when the dataset
    marks both (`Dataset.span_description`)."""
    fields = {"title": product.title, "description": product.description}
    return product_text(fields, with_description=dataset.span_description)


def task_tokens(product: Any, *, dataset: Dataset) -> tuple[Token, ...]:
    """The tokens of the product's text as the annotator sees them (`task_text`)."""
    return tokenize(task_text(product, dataset=dataset))


def spans_read(raw: Any) -> list:
    """The posted spans as a list: JSON text is parsed; anything but a list is refused with what it was."""
    if isinstance(raw, str | bytes):
        try:
            raw = json.loads(raw or "null")
        except ValueError:
            raise ApplicationError("The spans are not valid JSON.", extra={"spans": str(raw)[:200]}) from None
    if not isinstance(raw, list):
        raise ApplicationError(
            "Spans are a list of [token_start, token_end, type] (an empty list when the title has none).",
            extra={"spans": repr(raw)[:200]},
        )
    if len(raw) > MAX_SPANS:
        raise ApplicationError(f"{len(raw)} spans: a text has {MAX_SPANS} at most.", extra={"spans": len(raw)})
    return raw


def spans_clean(*, dataset: Dataset, labels: Sequence[Label], tokens: Sequence[Token], raw: Any) -> list[list[int]]:
    """The canonical value of the posted spans: each type a label of the dataset (by id or code), each span on
    the tokens, none overlapping another (SpanError, an ApplicationError, says which)."""
    by_id = {str(label.pk): label for label in labels}
    by_code = {label.code.casefold(): label for label in labels if label.code}
    typed = []
    for span in spans_read(raw):
        if isinstance(span, Mapping):
            parts = [span.get("token_start"), span.get("token_end"), span.get("label")]
        elif isinstance(span, list | tuple) and len(span) == 3:
            parts = list(span)
        else:
            raise SpanError(f"A span is [token_start, token_end, type], got {span!r}.")
        kind = parts[2]
        label = by_id.get(str(kind)) if isinstance(kind, int) and not isinstance(kind, bool) else None
        if label is None and isinstance(kind, str):
            label = by_id.get(kind) if kind.isdigit() else by_code.get(kind.strip().casefold())
        if label is None:
            known = ", ".join(label.code or str(label.pk) for label in labels) or "none"
            raise SpanError(f"Unknown span type {kind!r}; this dataset's types are: {known}.")
        typed.append((parts[0], parts[1], str(label.pk)))
    checked = spans_check(typed, tokens, labels=set(by_id))
    return [[start, end, int(label)] for start, end, label in checked]
