"""Prodigy span examples (`datasets.importers.prodigy_spans`) as imported answers of a span dataset.

Each accepted example is one source's answer to its product's task: its spans, by their characters, laid on the
tokens of the title as the annotator here sees it (`answers.task_tokens`), typed by the dataset's span type of
the same code (case ignored), and stored as the canonical value (`AnswerValue`) the page would store. Prodigy's
own token numbers are not trusted: another tokenizer numbers other tokens, and the characters say the same
thing. A row whose product is unknown, whose text is not that product's title, or whose span has an unknown type
or does not fall on the title's tokens, is a row error naming why; the other rows land. Importing the same
examples again changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from datasets.importers import RowError
from datasets.importers.prodigy_spans import SpanRow
from datasets.importers.values import quote
from datasets.models import Dataset, Label
from datasets.selectors import label_list
from labeling.answer_values import answer_values_intern_many
from labeling.imports import imported_values_write
from labeling.kinds.spans.tokens import (
    SpanError,
    Token,
    char_to_token,
    doc_tokens,
    product_text,
    spans_check,
    tokenize_many,
)
from labeling.models import Task

SOURCE_LIMIT = 100  # Annotation.source_name


@dataclass
class SpanImport:
    """What a batch did: examples landing on a task with no answer of their source yet (created), on one with
    (updated, changed or not), the answers new or changed, and the rows refused."""

    created: int = 0
    updated: int = 0
    answers: int = 0
    errors: list[RowError] = field(default_factory=list)


def span_answers_import(*, dataset: Dataset, rows: Sequence[SpanRow], default_source: str) -> SpanImport:
    """Record one batch of Prodigy span examples as imported answers, each under its annotator's name (else
    `default_source`)."""
    result = SpanImport()
    found = Task.objects.filter(dataset=dataset, product__external_id__in={row.external_id for row in rows})
    products = found.values_list("product__external_id", "product__title", "product__description")
    tasks = dict(found.values_list("product__external_id", "pk"))
    # The text as the annotator marks it (`answers.task_text`).
    texts = {
        external_id: product_text({"title": title, "description": description},
                                  with_description=dataset.span_description)
        for external_id, title, description in products
    }
    tokens = {
        external_id: doc_tokens(doc) for external_id, doc in zip(texts, tokenize_many(texts.values()), strict=True)
    }
    types = {label.code.casefold(): label for label in label_list(dataset=dataset) if label.code}
    kept: list[tuple[str, int, list[list[int]]]] = []
    for row in rows:
        try:
            value = _value(row, texts, tokens, types)
        except SpanError as error:
            result.errors.append(RowError(row.line, error.message, row.external_id))
            continue
        kept.append(((row.annotator or default_source)[:SOURCE_LIMIT], tasks[row.external_id], value))
    if not kept:
        return result
    value_ids = answer_values_intern_many(values=[(task_id, value) for _, task_id, value in kept])
    by_source: dict[str, dict[int, int]] = {}
    for (source, task_id, _), value_id in zip(kept, value_ids, strict=True):
        by_source.setdefault(source, {})[task_id] = value_id
    for source, values in sorted(by_source.items()):
        new, changed = imported_values_write(dataset=dataset, values=values, source_name=source)
        result.created += new
        result.updated += len(values) - new
        result.answers += new + changed
    return result


def _value(
    row: SpanRow, texts: dict[str, str], tokens: dict[str, tuple[Token, ...]], types: dict[str, Label]
) -> list[list[int]]:
    """The row's canonical value: [[token_start, token_end, label id], ...] on its product's title tokens."""
    if row.external_id not in texts:
        raise SpanError(f"unknown product id {quote(row.external_id)}")
    if row.text != texts[row.external_id]:
        raise SpanError(
            f"the text {quote(row.text[:80])} is not the title of {quote(row.external_id)} as it is marked here, "
            f"{quote(texts[row.external_id][:80])}"
        )
    title_tokens = tokens[row.external_id]
    typed = []
    for span in row.spans:
        label = types.get(span.label.casefold())
        if label is None:
            known = ", ".join(sorted(label.code for label in types.values())) or "none"
            raise SpanError(f"unknown span type {quote(span.label)}; this dataset's types are: {known}")
        typed.append((*char_to_token(title_tokens, span.start, span.end), str(label.pk)))
    checked = spans_check(typed, title_tokens, labels={str(label.pk) for label in types.values()})
    return [[start, end, int(label_id)] for start, end, label_id in checked]
