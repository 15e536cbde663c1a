"""What a span tagger reads of a span dataset: the resolved answers as marked titles, and the open tasks' titles.

A title is the text the annotator marked (`answers.task_text`: the title, its whitespace runs made one space,
and the description below it when the dataset marks it too); a span comes back in characters of it with its
type's code, as a tagger trained on texts wants it, and a suggestion goes back on the title's tokens with the
type's label id, as the page reads it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from django.db.models import QuerySet

from datasets.models import Dataset, Label
from labeling.kinds.spans.tokens import SpanError, product_text, token_to_char, tokenize
from labeling.models import AnswerValue, Task
from labeling.resolve import LabelPolicy, resolved_labels

CHUNK = 5000
OPEN_PAGE = 2000  # open titles a page: the tagger's beam parse of a page takes a few seconds on one core

CharSpan = tuple[int, int, str]  # (start, end exclusive) in characters of the title, the type's code


@dataclass(frozen=True)
class MarkedTitle:
    task_id: int
    text: str
    spans: tuple[CharSpan, ...]


@dataclass(frozen=True)
class OpenTitles:
    """A page of open tasks: task_ids[i]'s title is texts[i]. A tagger's Doc of it has the page's tokens
    (spaCy's blank English tokenizer both), so its spans' token numbers are the suggestions'."""

    task_ids: list[int]
    texts: list[str]


def span_type_codes(*, dataset: Dataset) -> dict[int, str]:
    """label id -> code of the dataset's span types."""
    return dict(Label.objects.filter(dataset=dataset).values_list("pk", "code"))


def marked_titles(*, dataset: Dataset, upto_annotation_id: int | None = None) -> list[MarkedTitle]:
    """The resolved span answers (gold, else the reviewer's decision, else a strict majority), in task id order,
    their spans in characters of the title; a span of a type deleted since is left out, and a title changed
    since (re-imported) so that its answer's tokens are no longer in it is left out whole."""
    value_of = dict(
        resolved_labels(
            dataset=dataset, policy=LabelPolicy.MAJORITY, min_votes=1, upto_annotation_id=upto_annotation_id,
            answer="value",
        )
    )
    codes = span_type_codes(dataset=dataset)
    task_ids = sorted(value_of)
    marked = []
    for start in range(0, len(task_ids), CHUNK):
        page = task_ids[start : start + CHUNK]
        values = dict(
            AnswerValue.objects.filter(pk__in=[value_of[pk] for pk in page]).values_list("pk", "value")
        )
        titles = _texts(dataset, Task.objects.filter(pk__in=page))
        for pk in page:
            if pk not in titles or value_of[pk] not in values:
                continue  # deleted meanwhile
            text = titles[pk]
            tokens = tokenize(text)
            try:
                spans = tuple(
                    (*token_to_char(tokens, first, last), codes[label])
                    for first, last, label in values[value_of[pk]]
                    if label in codes
                )
            except SpanError:
                continue
            marked.append(MarkedTitle(task_id=pk, text=text, spans=spans))
    return marked


def task_titles(*, dataset: Dataset, task_ids: Sequence[int]) -> dict[int, str]:
    """task id -> the text its annotator marks."""
    titles: dict[int, str] = {}
    for start in range(0, len(task_ids), CHUNK):
        titles.update(_texts(dataset, Task.objects.filter(pk__in=task_ids[start : start + CHUNK])))
    return titles


def open_titles(*, dataset: Dataset, page_size: int = OPEN_PAGE) -> Iterator[OpenTitles]:
    """Every open task's title, in task id order, by keyset pages."""
    last = 0
    while True:
        page = _texts(dataset, Task.objects.filter(dataset=dataset, is_complete=False, pk__gt=last)
                      .order_by("pk")[:page_size])
        if not page:
            return
        last = max(page)
        yield OpenTitles(task_ids=list(page), texts=list(page.values()))


def _texts(dataset: Dataset, tasks: QuerySet[Task]) -> dict[int, str]:
    """task id -> its text, in the queryset's order."""
    rows = tasks.values_list("pk", "product__title", "product__description")
    return {pk: _text(dataset, title, description) for pk, title, description in rows}


def _text(dataset: Dataset, title: str | None, description: str | None) -> str:
    # A product whose title is blank has nothing to mark: its text is empty, and the tagger marks nothing in it.
    if not (title or "").strip():
        return ""
    return product_text({"title": title, "description": description}, with_description=dataset.span_description)
