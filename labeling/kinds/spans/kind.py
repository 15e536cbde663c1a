"""Attribute spans: one product a task, answered with the spans of its title that are attributes (brand,
model, color, size...), each of one of the dataset's span types."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any, ClassVar

from config.errors import ApplicationError
from datasets.exporters import Columns
from datasets.importers import ProductRow
from datasets.models import Dataset, Label
from datasets.selectors import labels_read
from labeling.kinds.base import Answer, Choice, TaskKind
from labeling.kinds.spans import answers, export, page, quality, review, tasks
from labeling.kinds.spans.preannotate import DEFAULT_LABELS

MAX_TYPES = page.TYPE_KEYS
TYPE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]{0,49}$")


def type_choices(names: Sequence[str]) -> tuple[Choice, ...]:
    return tuple(Choice(code=name, name=name, key=str(i)) for i, name in enumerate(names, start=1))


class SpansKind(TaskKind):
    name: ClassVar[str] = "spans"
    title: ClassVar[str] = "Attribute spans"
    roles: ClassVar[tuple[str, ...]] = ("product",)
    # The common attribute types, unless the lead names others at creation (`span_types`).
    choices: ClassVar[tuple[Choice, ...]] = type_choices(DEFAULT_LABELS)
    item_template: ClassVar[str] = "labeling/kinds/spans/item.html"
    answer_template: ClassVar[str] = "labeling/kinds/spans/answer.html"
    help_template: ClassVar[str] = "labeling/kinds/spans/help.html"
    # The answers over the title and the editor of the decision; the span types and the spans it holds.
    review_template: ClassVar[str] = "labeling/kinds/spans/review.html"
    review_decision_template: ClassVar[str] = "labeling/kinds/spans/review.html#decision"
    page_scripts: ClassVar[tuple[str, ...]] = ("js/span_editor.js",)
    page_styles: ClassVar[tuple[str, ...]] = ("css/spans.css",)
    answers_with_values: ClassVar[bool] = True
    export_formats: ClassVar[tuple[str, ...]] = export.FORMATS
    export_columns: ClassVar[Columns] = export.COLUMNS
    # By product: an answer value is one task's own, so its id stratifies nothing (see export.export_query).
    split_groups: ClassVar[bool] = True
    tasks_per_product: ClassVar[bool] = True
    trainable: ClassVar[bool] = True
    labels_with_task: ClassVar[int] = page.TYPE_KEYS  # next's suggestions are of the dataset's types

    def settings_clean(self, *, settings: dict[str, Any]) -> dict[str, Any]:
        """A span dataset's types: `span_types`, 1 to 9 distinct names (letters, digits, _ and -, starting
        with a letter), each on its digit key in the order given; by default the common attributes."""
        if settings.get("grade_scale"):
            raise ApplicationError(
                "An attribute span dataset has no grade scale; only search relevance datasets grade.",
                extra={"grade_scale": settings["grade_scale"]},
            )
        settings["grade_scale"] = ""
        settings["span_description"] = bool(settings.get("span_description"))
        names = settings.pop("span_types", None)
        if names is None:
            return {}
        if isinstance(names, str):
            names = re.split(r"[,\n]", names)
        if not isinstance(names, list | tuple):
            raise ApplicationError("Span types are a list of names.", extra={"span_types": repr(names)[:200]})
        names = [str(name).strip() for name in names if str(name).strip()]
        bad = [name for name in names if not TYPE_NAME.match(name)]
        if bad:
            raise ApplicationError(
                f"Span type {bad[0]!r} is not a name: letters, digits, _ and -, starting with a letter (e.g. BRAND).",
                extra={"span_types": bad},
            )
        seen: dict[str, str] = {}
        for name in names:
            if name.casefold() in seen:
                raise ApplicationError(f"Span type {name!r} is given twice.", extra={"span_types": [name]})
            seen[name.casefold()] = name
        if not 1 <= len(names) <= MAX_TYPES:
            raise ApplicationError(
                f"A span dataset has 1 to {MAX_TYPES} span types (one digit key each); {len(names)} were given.",
                extra={"span_types": names},
            )
        return {"span_types": names}

    def choices_for(self, *, dataset: Dataset, **kind_settings: Any) -> tuple[Choice, ...]:
        names = kind_settings.get("span_types")
        return type_choices(names) if names else self.choices

    def answer_clean(self, *, dataset: Dataset, label: Label | None, value: str | None, flagged: bool) -> Answer:
        """A span answer is its spans (`value_clean`); a label alone is no answer, a flag alone is."""
        if label is not None or value is not None:
            raise ApplicationError(
                "An attribute span answer is a list of spans, not a label.",
                extra={"label": label.pk if label is not None else value},
            )
        if not flagged:
            raise ApplicationError("Mark the spans (an empty list when the title has none), or flag the task.")
        return Answer(label=None, flagged=True)

    def value_clean(self, *, dataset: Dataset, task: Any, raw: Any, flagged: bool) -> Answer:
        """The spans on the task's tokens as its canonical value; no spans at all (None) is an answer only as a
        flag."""
        if raw is None or raw == "":
            return self.answer_clean(dataset=dataset, label=None, value=None, flagged=flagged)
        tokens = answers.task_tokens(task.product, dataset=dataset)
        value = answers.spans_clean(dataset=dataset, labels=labels_read(dataset=dataset), tokens=tokens, raw=raw)
        return Answer(label=None, flagged=flagged, value=value)

    def products_write(self, *, dataset: Dataset, rows: Sequence[ProductRow]) -> int:
        return tasks.span_tasks_upsert(dataset=dataset, rows=rows)

    export_query = staticmethod(export.export_query)
    export_rows = staticmethod(export.export_rows)
    item_context = staticmethod(page.item_context)

    def page_context(self, *, dataset: Any, task: Any, user: Any) -> dict[str, Any]:
        return page.page_context(dataset=dataset, task=task, user=user)

    def review_context(self, *, task: Any, answers: Sequence[Any] = ()) -> dict[str, Any]:
        return review.review_context(task=task, answers=answers)

    def answer_text(self, *, task: Any, label: Label | None, value: list | None) -> str:
        """A span answer in words: "Sony (BRAND), Black (COLOR)", or "no attribute"."""
        if value is None:
            return super().answer_text(task=task, label=label, value=value)
        return self._in_words(task)(value)

    def value_texts(self, *, task: Any, values: Iterable[Any]) -> dict[int, str]:
        in_words = self._in_words(task)
        return {value.pk: in_words(value.value) for value in values if value}

    def _in_words(self, task: Any) -> Callable[[list], str]:
        """Spans of this task in words: its tokens and the type names read once for all of them."""
        names = {span_type["id"]: span_type["name"] for span_type in page.span_types(dataset=task.dataset)}
        tokens = answers.task_tokens(task.product, dataset=task.dataset)
        return lambda value: review.spans_text(tokens=tokens, names=names, value=value)

    def quality_figures(
        self, *, dataset: Dataset, last_id: int, names: dict[int, str], sources: dict[str, int]
    ) -> dict[str, Any]:
        return quality.span_quality(dataset=dataset, last_id=last_id, names=names, sources=sources)

    def refused_context(self, *, posted: dict[str, Any]) -> dict[str, Any]:
        return {"given_spans": page.posted_spans(posted.get("spans"))}
