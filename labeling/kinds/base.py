"""What every task kind provides, and what the shared layers (queue, answers, review, quality, exports,
training) ask of it.

Most kinds answer with one choice from a label set: categorization picks a node of the dataset's
taxonomy, matching picks "match" or "no match" from the fixed set the kind creates with the dataset.
Their answers are `Label` rows, so the queue, the vote tally in SQL, review, gold, history and the
agreement figures are shared and stay set-based; a kind says what its tasks hold, how an answer is
read, how it is shown and how its resolved answers become export rows and training examples.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from config.errors import ApplicationError
from datasets.exporters import PRODUCT_ROWS, Columns
from datasets.importers import ProductRow
from datasets.models import Dataset, Label
from datasets.selectors import label_by_code, label_list, product_ids
from datasets.services.products import products_upsert
from labeling.kinds.export import is_predicted, predicted_columns
from labeling.selectors import task_items


@dataclass(frozen=True)
class Choice:
    """A fixed answer of a kind: its label is created with every dataset of the kind."""

    code: str  # the label's code, the value written to exports ("1", "0")
    name: str  # the label's name and path ("match")
    key: str  # the key that gives this answer on the page ("1")
    aliases: tuple[str, ...] = ()  # other spellings accepted in files and the API ("yes", "true")


@dataclass(frozen=True)
class Answer:
    """An answer read and checked by its kind: a label of the dataset, a flag, or both; or, for a kind answered
    with values (`answers_with_values`), its canonical value instead of a label."""

    label: Label | None
    flagged: bool = False
    value: list | None = None


def choice_buttons(*, dataset: Dataset, choices: tuple[Choice, ...], suggestions: list[dict]) -> list[dict]:
    """A page's answer buttons for fixed choices, in their order: each with its label, its key and the model's
    probability when it is shown."""
    labels = {label.code: label for label in label_list(dataset=dataset)}
    probabilities = {s["label"].pk: s["probability"] for s in suggestions}
    return [
        {"choice": choice, "label": labels[choice.code], "probability": probabilities.get(labels[choice.code].pk)}
        for choice in choices
        if choice.code in labels
    ]


class TaskKind(ABC):
    """A task kind: subclasses live in their own folder under labeling/kinds/ and register in KINDS."""

    name: ClassVar[str]
    title: ClassVar[str]
    # What one task is called where tasks are counted or listed ("3 products labeled", "3 pairs labeled").
    task_noun: ClassVar[str] = "product"
    task_noun_plural: ClassVar[str] = "products"
    # Who the products of a task are: one role names `Task.product`; two name a pair's products (`Task.sides`).
    roles: ClassVar[tuple[str, ...]] = ("product",)
    # Fixed answers, created as the dataset's labels; empty when the dataset brings its own taxonomy.
    choices: ClassVar[tuple[Choice, ...]] = ()
    # Page partials: the task's items, the answer controls and the lines of the keyboard help.
    item_template: ClassVar[str]
    answer_template: ClassVar[str]
    help_template: ClassVar[str]
    # The kind's own scripts (static paths) that the annotate page loads before annotate.js: its answer editor.
    page_scripts: ClassVar[tuple[str, ...]] = ()
    # The kind's own stylesheets (static paths) that the annotate page links in its head.
    page_styles: ClassVar[tuple[str, ...]] = ()
    # A partial of the review page with what `review_context` gives (a matching pair's contradictions).
    review_template: ClassVar[str | None] = None
    # The review page's decision controls, when not a label's (a span kind's editor): a partial of the form.
    review_decision_template: ClassVar[str | None] = None
    # Whether a model can be trained on its answers yet.
    trainable: ClassVar[bool] = False
    # Whether its exports can carry the model's suggestions (include_suggestions).
    exports_suggestions: ClassVar[bool] = False
    # Whether the `predicted` export policy applies (its `export_rows` then takes `predict`): its model labels the
    # tasks nobody labeled.
    exports_predictions: ClassVar[bool] = False
    # Exports (kinds/<name>/export.py): the file formats offered, and the column order of the tabular ones.
    export_formats: ClassVar[tuple[str, ...]]
    export_columns: ClassVar[Columns] = PRODUCT_ROWS
    # Whether each product is a task of its own, made when the product is imported (so a product file may
    # bring answers). Otherwise imported products wait, without tasks, for what pairs them (a pairs file).
    tasks_per_product: ClassVar[bool] = False
    # Whether an export's split keeps groups of tasks together (a relevance dataset's queries): its split-pass
    # rows then carry the group's id after the six shared columns.
    split_groups: ClassVar[bool] = False
    # Whether an answer is a value (a title's spans, `AnswerValue`) rather than a label: `value_clean` reads it,
    # and the shared layers compare the `value` columns where they compare labels (`labeling.resolve`).
    answers_with_values: ClassVar[bool] = False
    # How many of the dataset's labels (the first by id; their ids) the queue's claim reads with the task, for what
    # next serves of it without another statement (`Task.dataset_label_ids`): a span dataset's types.
    labels_with_task: ClassVar[int] = 0
    # The page of a list of tasks worked through at once (a relevance query's products), when the kind has one;
    # `list_context` gives what it shows.
    list_template: ClassVar[str | None] = None

    @property
    def answer_column(self) -> str:
        """Where its answers are: "label" (`Annotation.label`, `Task.gold_label`...) or "value" (`AnswerValue`)."""
        return "value" if self.answers_with_values else "label"

    @property
    def list_mode(self) -> bool:
        return self.list_template is not None

    @property
    def multi_item(self) -> bool:
        return len(self.roles) > 1

    @property
    def fixed_labels(self) -> bool:
        """Whether the kind makes the dataset's labels itself (its choices) rather than taking a taxonomy."""
        return bool(self.choices)

    def choices_for(self, *, dataset: Dataset, **kind_settings: Any) -> tuple[Choice, ...]:
        """The fixed answers of this dataset: the kind's choices, unless a dataset setting picks them (a
        relevance dataset's grade scale) or a setting given at creation does (a span dataset's types)."""
        return self.choices

    def settings_clean(self, *, settings: dict[str, Any]) -> dict[str, Any]:
        """Check a new dataset's settings for this kind, filling in the kind's defaults, and take out those only
        the creation reads (returned, for `choices_for`); only a relevance dataset has a grade scale, only a span
        dataset span types."""
        if settings.get("grade_scale"):
            raise ApplicationError(
                f"A {self.title.lower()} dataset has no grade scale; only search relevance datasets grade.",
                extra={"grade_scale": settings["grade_scale"]},
            )
        if settings.get("span_types") is not None:
            raise ApplicationError(
                f"A {self.title.lower()} dataset has no span types; only attribute span datasets mark spans.",
                extra={"span_types": settings["span_types"]},
            )
        if settings.get("span_description"):
            raise ApplicationError(
                f"A {self.title.lower()} dataset marks no text; only attribute span datasets mark descriptions.",
                extra={"span_description": True},
            )
        settings.pop("span_types", None)
        settings["grade_scale"] = ""
        return {}

    def label_grades(self, *, dataset: Dataset) -> dict[int, float] | None:
        """Each label's place on an ordered scale (label id -> number), when the kind's answers are ordered
        (relevance grades), so that agreement also weighs near misses; None when labels are only equal or not."""
        return None

    def quality_figures(
        self, *, dataset: Dataset, last_id: int, names: dict[int, str], sources: dict[str, int]
    ) -> dict[str, Any]:
        """A kind's own agreement figures for the quality report, over the answers up to `last_id` (`names`: a
        rater's name by id, `sources`: an import source's rater id); a label kind's are the shared ones."""
        return {}

    def products_write(self, *, dataset: Dataset, rows: Sequence[ProductRow]) -> int:
        """Create or update `rows` by external_id (unique within `rows`), with their tasks when the kind has one
        per product; returns how many products are new."""
        existing = product_ids(dataset=dataset, external_ids=[row.external_id for row in rows])
        products_upsert(dataset=dataset, rows=rows)
        return len(rows) - len(existing)

    def labeled_products_write(
        self, *, dataset: Dataset, rows: Sequence[ProductRow], labels: Mapping[str, int], source_name: str
    ) -> tuple[int, int]:
        """`products_write`, with `labels` (external id -> label id, for some of `rows`) recorded as source
        `source_name`'s imported answers to the products' tasks (a kind with one task per product); returns (new
        products, answers new or changed)."""
        from labeling.imports import product_labels_write  # it imports matching's checks, a kind built on this

        created = self.products_write(dataset=dataset, rows=rows)
        return created, product_labels_write(dataset=dataset, labels=dict(labels), source_name=source_name)

    def answer_clean(self, *, dataset: Dataset, label: Label | None, value: str | None, flagged: bool) -> Answer:
        """Read an answer given as a label (from the page's or the API's `label` id) or a value (a code,
        name or alias of a fixed choice); refuse what the kind cannot take."""
        if value is not None:
            label = self.choice_label(dataset=dataset, value=value)
        if label is not None and label.dataset_id != dataset.pk:
            raise ApplicationError("That label is not part of this dataset.", extra={"label": label.pk})
        if label is None and not flagged:
            raise ApplicationError("Choose a label, or flag the task.")
        return Answer(label=label, flagged=flagged)

    def value_clean(self, *, dataset: Dataset, task: Any, raw: Any, flagged: bool) -> Answer:
        """Read an answer given as a value (a kind that `answers_with_values`); other kinds answer with labels."""
        raise ApplicationError(
            f"A {self.title.lower()} answer is a label, not spans.", extra={"spans": repr(raw)[:200]}
        )

    def choice_label(self, *, dataset: Dataset, value: str) -> Label:
        """The dataset's label for a fixed choice given by its code, name or an alias."""
        choices = self.choices_for(dataset=dataset)
        if not choices:
            raise ApplicationError(
                f"A {self.title.lower()} answer is a label id, not a value.", extra={"value": value}
            )
        wanted = value.strip().casefold()
        for choice in choices:
            if wanted in (choice.code.casefold(), choice.name.casefold(), *(a.casefold() for a in choice.aliases)):
                label = label_by_code(dataset=dataset, code=choice.code)
                if label is None:  # made with the dataset: only a hand-edited taxonomy lacks it
                    raise ApplicationError(
                        f"This dataset has no label for {choice.name!r} (code {choice.code}); a lead must restore it.",
                        extra={"value": value},
                    )
                return label
        allowed = ", ".join(choice.name for choice in choices)
        raise ApplicationError(f"Unknown answer {value!r}; choose one of: {allowed}.", extra={"value": value})

    @abstractmethod
    def export_query(self, *, dataset: Dataset, params: dict[str, Any], with_items: bool) -> tuple[str, dict[str, Any]]:
        """An export's SQL and its parameters under the export's label policy (built on the one resolve). Its rows
        come in task order and start with the columns `labeling.kinds.export` names (task id, label id...);
        `with_items` adds what `export_rows` shapes, without it the split pass reads the label of each task."""

    @abstractmethod
    def export_rows(
        self,
        *,
        dataset: Dataset,
        params: dict[str, Any],
        records: Iterable[tuple],
        split_of: Callable[[int], str] | None,
    ) -> Iterator[dict[str, Any]]:
        """The export's rows, in `export_columns`' names, from the records of `export_query(with_items=True)`;
        `split_of` names a task's split when the export has one. A kind that `exports_predictions` also takes
        `predict` (`labeling.kinds.export.Predict`) under the `predicted` policy."""

    def export_columns_for(self, *, params: dict[str, Any]) -> Columns:
        """The column order of this export: `export_columns` (and the `predicted` policy's columns after them),
        unless a format of the kind writes other rows."""
        return predicted_columns(self.export_columns) if is_predicted(params) else self.export_columns

    def review_context(self, *, task: Any, answers: Sequence[Any] = ()) -> dict[str, Any]:
        """What the review page shows of a task beyond its items and answers (`review_template`, if any);
        `answers` are the task's answers as `labeling.selectors.review_context` gives them."""
        return {}

    def value_texts(self, *, task: Any, values: Iterable[Any]) -> dict[int, str]:
        """The task's answer values (`AnswerValue` rows) in words, by id, for the history; {} for a kind of labels."""
        return {}

    def answer_text(self, *, task: Any, label: Label | None, value: list | None) -> str:
        """How messages and the history name an answer or a decision: its label's path; a kind answered with
        values says its value in words."""
        return label.path if label is not None else ""

    def task_products(self, *, task: Any) -> list[dict[str, Any]]:
        """A multi-item task's products as [{"role", "product"}] in the kind's role order (left, then right);
        [] for a single-product task. Lists prefetch them with `task_items_prefetch` first."""
        products = task_items(task=task)
        return [{"role": role, "product": product} for role, product in zip(self.roles, products, strict=False)]

    def task_title(self, *, task: Any) -> str:
        """How lists and messages name a task: its product's title, or its items' titles ("left ↔ right")."""
        if not task.is_pair:
            return task.product.title
        return " ↔ ".join(item["product"].title for item in self.task_products(task=task))

    def page_context(self, *, dataset: Dataset, task: Any, user: Any) -> dict[str, Any]:
        """What the kind's partials need beyond the task itself."""
        return {}

    def refused_context(self, *, posted: dict[str, Any]) -> dict[str, Any]:
        """What the page shows again of a refused answer (`posted`: the form's fields), so nothing typed is lost:
        a label is one key away again, so nothing; a span kind's marks."""
        return {}

    def item_context(self, *, task: Any) -> dict[str, Any]:
        """What the item partial alone needs: the review page shows the task's items without the answer controls."""
        return {}
