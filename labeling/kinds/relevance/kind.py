"""Search relevance: a (query, product) pair a task, graded on the dataset's scale (ESCI by default)."""

from typing import Any, ClassVar

from config.errors import ApplicationError
from datasets.exporters import Columns
from datasets.models import Dataset, Label
from datasets.selectors import label_list
from labeling.kinds.base import Answer, Choice, TaskKind
from labeling.kinds.relevance import export, page
from labeling.kinds.relevance.grades import ESCI, GradeScale, scale_get


def grade_choices(scale: GradeScale) -> tuple[Choice, ...]:
    """A scale's grades as the dataset's fixed answers; files and the API may also give a grade by its value."""
    return tuple(
        Choice(code=grade.code, name=grade.name, key=grade.key, aliases=(*grade.aliases, str(grade.value)))
        for grade in scale.grades
    )


class RelevanceKind(TaskKind):
    name: ClassVar[str] = "relevance"
    title: ClassVar[str] = "Search relevance"
    task_noun: ClassVar[str] = "result"
    task_noun_plural: ClassVar[str] = "results"
    roles: ClassVar[tuple[str, ...]] = ("product",)
    item_template: ClassVar[str] = "labeling/kinds/relevance/item.html"
    answer_template: ClassVar[str] = "labeling/kinds/relevance/answer.html"
    help_template: ClassVar[str] = "labeling/kinds/relevance/help.html"
    export_formats: ClassVar[tuple[str, ...]] = export.FORMATS
    export_columns: ClassVar[Columns] = export.COLUMNS
    split_groups: ClassVar[bool] = True  # by query
    trainable: ClassVar[bool] = True  # a pointwise ranker (models_app.ml.relevance), trained on the resolved grades
    list_template: ClassVar[str | None] = "labeling/kinds/relevance/judge_list.html"

    @property
    def fixed_labels(self) -> bool:
        return True

    def settings_clean(self, *, settings: dict[str, Any]) -> dict[str, Any]:
        if settings.get("span_types") is not None:
            raise ApplicationError(
                "A search relevance dataset has no span types; it grades on a scale.",
                extra={"span_types": settings["span_types"]},
            )
        if settings.get("span_description"):
            raise ApplicationError(
                "A search relevance dataset marks no text; only attribute span datasets mark descriptions.",
                extra={"span_description": True},
            )
        settings.pop("span_types", None)
        settings["grade_scale"] = scale_get(settings.get("grade_scale") or ESCI.name).name
        return {}

    def choices_for(self, *, dataset: Dataset, **kind_settings: Any) -> tuple[Choice, ...]:
        return grade_choices(scale_get(dataset.grade_scale))

    def answer_clean(self, *, dataset: Dataset, label: Label | None, value: str | None, flagged: bool) -> Answer:
        """As every kind reads an answer; a label of the dataset that is no grade of its scale (added by hand) is
        refused too: its judgment would have no value for nDCG or agreement."""
        answer = super().answer_clean(dataset=dataset, label=label, value=value, flagged=flagged)
        scale = scale_get(dataset.grade_scale)
        if answer.label is not None and answer.label.code not in scale.values:
            allowed = ", ".join(f"{grade.code} ({grade.name})" for grade in scale.grades)
            raise ApplicationError(
                f"{answer.label.name!r} is not a grade of the {scale.title} scale; use one of: {allowed}.",
                extra={"label": answer.label.pk},
            )
        return answer

    def label_grades(self, *, dataset: Dataset) -> dict[int, float] | None:
        values = scale_get(dataset.grade_scale).values
        return {label.pk: float(values[label.code]) for label in label_list(dataset=dataset) if label.code in values}

    def task_title(self, *, task: Any) -> str:
        return f"{task.query.text} → {task.product.title}"

    item_context = staticmethod(page.item_context)
    # The kind's modules do the work; the signatures and their contracts are TaskKind's.
    export_query = staticmethod(export.export_query)
    export_rows = staticmethod(export.export_rows)

    def page_context(self, *, dataset: Any, task: Any, user: Any) -> dict[str, Any]:
        return page.page_context(dataset=dataset, task=task, user=user, choices=self.choices_for(dataset=dataset))

    def list_context(
        self, *, dataset: Dataset, tasks: list[Any], chosen: dict[int, int] | None = None,
        flagged: set[int] | None = None,
    ) -> dict[str, Any]:
        """The list mode's page (`list_mode`): a query with its products."""
        return page.query_list_context(
            dataset=dataset, tasks=tasks, choices=self.choices_for(dataset=dataset), chosen=chosen, flagged=flagged
        )
