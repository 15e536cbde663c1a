"""Product matching: two offers a task (left and right), answered match, no match, or unsure (a flag)."""

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, ClassVar

from config.errors import ApplicationError
from datasets.exporters import Columns
from datasets.models import Dataset, Label
from labeling.kinds.base import Answer, Choice, TaskKind
from labeling.kinds.matching import clustering, export, page

MATCH = Choice(code="1", name="match", key="1", aliases=("match", "yes", "true", "same", "duplicate"))
NO_MATCH = Choice(
    code="0", name="no match", key="2", aliases=("no-match", "no_match", "non-match", "nomatch", "no", "false")
)
# "Unsure" is no label: the answer is a flag alone, so the pair goes to review (key 3 on the page).
UNSURE = ("unsure", "not sure", "maybe", "?")


class MatchingKind(TaskKind):
    name: ClassVar[str] = "matching"
    title: ClassVar[str] = "Product matching"
    task_noun: ClassVar[str] = "pair"
    task_noun_plural: ClassVar[str] = "pairs"
    roles: ClassVar[tuple[str, ...]] = ("left", "right")
    choices: ClassVar[tuple[Choice, ...]] = (MATCH, NO_MATCH)
    item_template: ClassVar[str] = "labeling/kinds/matching/item.html"
    answer_template: ClassVar[str] = "labeling/kinds/matching/answer.html"
    help_template: ClassVar[str] = "labeling/kinds/matching/help.html"
    review_template: ClassVar[str | None] = "labeling/kinds/matching/conflicts.html"
    # The pairs' formats, then the product clusters' (one row per product, clustering.py).
    export_formats: ClassVar[tuple[str, ...]] = (*export.FORMATS, *clustering.CLUSTER_FORMATS)
    export_columns: ClassVar[Columns] = export.COLUMNS
    trainable: ClassVar[bool] = True  # a pair matcher (models_app.ml.matcher), trained on the resolved pairs

    def answer_clean(self, *, dataset: Dataset, label: Label | None, value: str | None, flagged: bool) -> Answer:
        if value is not None and value.strip().casefold() in UNSURE:
            if label is not None:
                raise ApplicationError("An unsure answer has no label.", extra={"label": label.pk})
            return Answer(label=None, flagged=True)
        try:
            return super().answer_clean(dataset=dataset, label=label, value=value, flagged=flagged)
        except ApplicationError as error:
            if error.extra.get("value") is None:
                raise
            allowed = ", ".join([*(choice.name for choice in self.choices), UNSURE[0]])
            raise ApplicationError(f"Unknown answer {value!r}; choose one of: {allowed}.", extra=error.extra) from None

    # The kind's modules do the work; the signatures and their contracts are TaskKind's.
    item_context = staticmethod(page.item_context)

    def export_query(self, *, dataset: Dataset, params: dict[str, Any], with_items: bool) -> tuple[str, dict[str, Any]]:
        if params["format"] in clustering.CLUSTER_FORMATS:
            return clustering.cluster_export_query(dataset=dataset)
        return export.export_query(dataset=dataset, params=params, with_items=with_items)

    def export_rows(
        self,
        *,
        dataset: Dataset,
        params: dict[str, Any],
        records: Iterable[tuple],
        split_of: Callable[[int], str] | None,
    ) -> Iterator[dict[str, Any]]:
        if params["format"] in clustering.CLUSTER_FORMATS:
            return clustering.cluster_export_rows(dataset=dataset, params=params, records=records)
        return export.export_rows(dataset=dataset, params=params, records=records, split_of=split_of)

    def export_columns_for(self, *, params: dict[str, Any]) -> Columns:
        return clustering.CLUSTER_COLUMNS if params["format"] in clustering.CLUSTER_FORMATS else self.export_columns

    def review_context(self, *, task: Any, answers: Sequence[Any] = ()) -> dict[str, Any]:
        return {"pair_conflicts": clustering.pair_conflicts_of(task=task)}

    def page_context(self, *, dataset: Any, task: Any, user: Any) -> dict[str, Any]:
        return page.page_context(dataset=dataset, task=task, user=user, choices=self.choices)
