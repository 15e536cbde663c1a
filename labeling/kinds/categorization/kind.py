"""Product categorization: one product a task, answered with a node of the dataset's taxonomy."""

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from datasets.importers import ProductRow
from datasets.models import Dataset
from labeling.kinds.base import TaskKind
from labeling.kinds.categorization import export, page, tasks


class CategorizationKind(TaskKind):
    name: ClassVar[str] = "categorization"
    title: ClassVar[str] = "Product categorization"
    roles: ClassVar[tuple[str, ...]] = ("product",)
    item_template: ClassVar[str] = "labeling/kinds/categorization/item.html"
    answer_template: ClassVar[str] = "labeling/kinds/categorization/answer.html"
    help_template: ClassVar[str] = "labeling/kinds/categorization/help.html"
    page_scripts: ClassVar[tuple[str, ...]] = ("js/label_tree.js",)
    page_styles: ClassVar[tuple[str, ...]] = ("css/label_tree.css",)
    trainable: ClassVar[bool] = True
    exports_suggestions: ClassVar[bool] = True
    exports_predictions: ClassVar[bool] = True
    export_formats: ClassVar[tuple[str, ...]] = export.FORMATS
    tasks_per_product: ClassVar[bool] = True

    def products_write(self, *, dataset: Dataset, rows: Sequence[ProductRow]) -> int:
        return tasks.product_tasks_upsert(dataset=dataset, rows=rows)

    def labeled_products_write(
        self, *, dataset: Dataset, rows: Sequence[ProductRow], labels: Mapping[str, int], source_name: str
    ) -> tuple[int, int]:
        return tasks.labeled_product_tasks_upsert(dataset=dataset, rows=rows, labels=labels, source_name=source_name)

    # The kind's modules do the work; the signatures and their contracts are TaskKind's.
    export_query = staticmethod(export.export_query)
    export_rows = staticmethod(export.export_rows)
    item_context = staticmethod(page.item_context)

    def page_context(self, *, dataset: Any, task: Any, user: Any) -> dict[str, Any]:
        return page.page_context(dataset=dataset, task=task, user=user)
