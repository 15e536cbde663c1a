"""The Taxonomy page's reads: the tree with counts per node, and the recent changes (issue 15)."""

from collections import defaultdict

from django.db import connection
from django.db.models import QuerySet

from config.errors import ApplicationError
from datasets.models import Dataset, Label, TaxonomyAction, TaxonomyChange
from datasets.selectors import LabelResolver, label_list
from datasets.services.taxonomy import SEPARATOR
from labeling.models import AnnotationStatus

# Three grouped counts in one statement: submitted answers, gold items, and suggestions of open tasks (each task's
# suggestions expanded by the database's JSON functions, never read into Python).
_SUGGESTED = {
    "postgresql": "SELECT (e->>0)::bigint AS label_id FROM labeling_task t, jsonb_array_elements(t.suggestions) e "
    "WHERE t.dataset_id = %s AND NOT t.is_complete AND jsonb_typeof(t.suggestions) = 'array'",
    "sqlite": "SELECT json_extract(e.value, '$[0]') AS label_id FROM labeling_task t, json_each(t.suggestions) e "
    "WHERE t.dataset_id = %s AND NOT t.is_complete AND t.suggestions IS NOT NULL",
}
_COUNTS_SQL = f"""
SELECT 'answers', a.label_id, COUNT(*) FROM labeling_annotation a
WHERE a.dataset_id = %s AND a.status = '{AnnotationStatus.SUBMITTED}' AND a.label_id IS NOT NULL GROUP BY a.label_id
UNION ALL
SELECT 'gold', t.gold_label_id, COUNT(*) FROM labeling_task t
WHERE t.dataset_id = %s AND t.is_gold AND t.gold_label_id IS NOT NULL GROUP BY t.gold_label_id
UNION ALL
SELECT 'suggestions', s.label_id, COUNT(*) FROM ({{suggested}}) s GROUP BY s.label_id
"""  # noqa: S608 - only the vendor's fixed fragment is interpolated

FIGURES = ("answers", "gold", "suggestions")


def taxonomy_counts(*, dataset: Dataset) -> dict[str, dict[int, int]]:
    """Per label id: its submitted answers, gold items and open tasks' suggestions (one query)."""
    counts: dict[str, dict[int, int]] = {figure: {} for figure in FIGURES}
    with connection.cursor() as cursor:
        cursor.execute(_COUNTS_SQL.format(suggested=_SUGGESTED[connection.vendor]), [dataset.pk] * 3)
        for figure, label_id, n in cursor.fetchall():
            counts[figure][int(label_id)] = n
    return counts


def taxonomy_tree(*, dataset: Dataset) -> list[dict]:
    """Every node in path order with its own counts and its subtree's (own plus its descendants')."""
    labels = list(label_list(dataset=dataset).select_related("merged_into"))
    counts = taxonomy_counts(dataset=dataset)
    nodes = []
    by_path = {}
    totals: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(FIGURES, 0))
    for label in labels:
        own = {figure: counts[figure].get(label.pk, 0) for figure in FIGURES}
        node = {"label": label, "own": own, "total": totals[label.path], "leaf": True}
        nodes.append(node)
        by_path[label.path] = node
        parts = label.path.split(SEPARATOR)
        for depth in range(1, len(parts) + 1):
            total = totals[SEPARATOR.join(parts[:depth])]
            for figure in FIGURES:
                total[figure] += own[figure]
        if label.parent_id and SEPARATOR.join(parts[:-1]) in by_path:
            by_path[SEPARATOR.join(parts[:-1])]["leaf"] = False
    return nodes


TREE_MATCHES = 50
PATH_OPTIONS = 30


def taxonomy_tree_view(*, dataset: Dataset, parent_id: int | None = None, query: str = "") -> dict:
    """What the page's tree shows at once: one level (the roots, or a branch's children, opened lazily) or the nodes
    whose path holds the query, never all 5,595 nodes of a Google-sized taxonomy; the counts still cover subtrees."""
    nodes = taxonomy_tree(dataset=dataset)
    needle = query.strip().casefold()
    if needle:
        shown = [node for node in nodes if needle in node["label"].path.casefold()]
    else:
        shown = [node for node in nodes if node["label"].parent_id == parent_id]
    shown_now = shown[:TREE_MATCHES] if needle else shown
    return {"nodes": shown_now, "matches": len(shown), "size": len(nodes), "query": needle}


def taxonomy_path_options(*, dataset: Dataset, query: str, limit: int = PATH_OPTIONS) -> list[str]:
    """Paths of labels still offered whose path holds the query: the action forms' suggestions as the lead types."""
    needle = query.strip()
    if not needle:
        return []
    labels = label_list(dataset=dataset).filter(deprecated=False, path__icontains=needle)
    return list(labels.values_list("path", flat=True)[:limit])


def taxonomy_change_list(*, dataset: Dataset, limit: int = 50) -> QuerySet[TaxonomyChange]:
    return TaxonomyChange.objects.filter(dataset=dataset).select_related("user", "label", "target")[:limit]


def taxonomy_label_find(*, dataset: Dataset, value: str, field: str = "label") -> Label:
    """A label of the dataset named by its full path, its code or a unique leaf name, as the page's fields take it."""
    label = LabelResolver(dataset)(value) if value.strip() else None
    if label is None:
        raise ApplicationError(f"No label {value.strip()!r} in this taxonomy.", extra={field: value})
    return label


def taxonomy_change_summary(change: TaxonomyChange) -> str:
    """What the change did, in a sentence for the page."""
    counts = change.counts
    if change.action == TaxonomyAction.MERGE:
        moved = ", ".join(f"{counts.get(key, 0)} {key}" for key in ("answers", "reviews", "gold", "suggestions"))
        return f"Merged {change.old_path!r} into {change.new_path!r}: moved {moved}; {change.old_path!r} is deprecated."
    if change.action == TaxonomyAction.DEPRECATE:
        return f"Deprecated {change.old_path!r} ({counts.get('labels', 1)} labels with its descendants)."
    if change.action == TaxonomyAction.ADD_CHILD:
        return f"Added {change.new_path!r}; {counts.get('sent_to_review', 0)} tasks of its parent went to review."
    return f"{change.get_action_display()}d {change.old_path!r} to {change.new_path!r}."
