"""Which files a dataset takes, by its task kind: read from what the kind says of itself, so a new kind needs
no line here unless it brings a new kind of file.

A matching dataset takes pairs files, and product files without labels: their products are stored without
tasks, ready for a pairs file that names them by id (`left_id,right_id`). A relevance dataset likewise takes
product files without labels, its search queries, and judgments files that grade (query, product) pairs.
Whatever needs a task per product (labels in a product file, Label Studio and Prodigy exports) or a taxonomy of
its own is refused. A span dataset takes product files without labels and Prodigy span files, whose spans are its
answers; not the one-label-a-product Label Studio and Prodigy exports.
"""

from typing import Any

from config.errors import ApplicationError
from datasets.models import Dataset
from labeling.kinds import TaskKind, kind_get
from labeling.kinds.matching import KIND as MATCHING
from labeling.kinds.relevance import KIND as RELEVANCE
from labeling.kinds.spans import KIND as SPANS
from workspace.models import ImportKind

ANNOTATED_KINDS = (ImportKind.LABELSTUDIO, ImportKind.PRODIGY)
# The files only one task kind takes: what its tasks are made of.
KIND_FILES = {
    ImportKind.PAIRS: MATCHING,
    ImportKind.QUERIES: RELEVANCE,
    ImportKind.JUDGMENTS: RELEVANCE,
    ImportKind.PRODIGY_SPANS: SPANS,
}
# The file that brings the answers of a kind without a task per product, named when another file is refused.
ANSWER_FILES = {MATCHING.name: ImportKind.PAIRS, RELEVANCE.name: ImportKind.JUDGMENTS}


def import_kinds_for(*, dataset: Dataset) -> list[str]:
    """The import kinds the dataset takes, for the upload form."""
    task_kind = kind_get(dataset.task_type)
    return [kind for kind in ImportKind.values if _refusal(task_kind, kind, {}, dataset) is None]


def import_kind_check(*, dataset: Dataset, kind: str, options: dict[str, Any]) -> None:
    """Refuse, with the reason, a file the dataset's kind cannot take."""
    reason = _refusal(kind_get(dataset.task_type), kind, options, dataset)
    if reason is not None:
        raise ApplicationError(reason, extra={"kind": kind, "task_type": dataset.task_type})


def _refusal(task_kind: TaskKind, kind: str, options: dict[str, Any], dataset: Dataset) -> str | None:
    title = task_kind.title.lower()
    owner = KIND_FILES.get(kind)
    if owner is not None and task_kind.name != owner.name:
        return f"A {kind} file goes into a {owner.title.lower()} dataset; this one is {title}."
    if task_kind.fixed_labels and (kind == ImportKind.TAXONOMY or options.get("create_labels")):
        names = [repr(choice.name) for choice in task_kind.choices_for(dataset=dataset)]
        fixed = f"{', '.join(names[:-1])} and {names[-1]}" if len(names) > 1 else "".join(names)
        return f"A {title} dataset has fixed labels ({fixed}): it takes no taxonomy and creates no labels."
    if task_kind.answers_with_values and kind in ANNOTATED_KINDS:
        # Their answers are one label a product: a span dataset's are spans.
        return (
            f"A {ImportKind(kind).label.split(' (')[0]} file gives a product one label; a {title} dataset's "
            f"answers are spans. Import a {ImportKind.PRODIGY_SPANS} file."
        )
    if not task_kind.tasks_per_product:
        answers = ANSWER_FILES[task_kind.name]
        if kind in ANNOTATED_KINDS:
            return (
                f"A {ImportKind(kind).label.split(' (')[0]} file labels products one by one; the tasks of a "
                f"{title} dataset are not single products. Import a {answers} file."
            )
        if kind == ImportKind.PRODUCTS and options.get("label_column"):
            return (
                f"In a {title} dataset products have no task of their own, so a product file brings no labels: "
                f"import it without a label column, and the labels with a {answers} file."
            )
    return None
