"""A matching dataset's clusters and contradictions, read from its resolved pairs (the ORM side of clusters.py).

- Labeled edges: every pair the one resolve (`labeling.resolve`) labels match or no match, with its two products,
  in one streamed query (100k labeled pairs: about a second on PostgreSQL).
- Scored pairs: every pair nobody resolved with its matcher probability (`Task.suggestions`, match first), as
  numpy arrays; the combined clusters cut their average linkage at a threshold the caller gives (labeling does
  not know the models, so the caller, workspace, reads it from the active matcher).
- `pair_conflicts_refresh`: opens a `PairConflict` for every task of each contradiction, closes those that no
  longer hold, and lets `review_flags_refresh` (the one rule of `needs_review`) flag or unflag their tasks.
- The cluster export: one row per product of any pair, with its cluster (labeled, or labeled + predicted).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.db import connection, transaction
from django.db.models import FloatField
from django.db.models.fields.json import KT
from django.db.models.functions import Cast
from django.utils import timezone

from datasets.exporters import Columns
from datasets.models import Dataset, Label, Product
from labeling.kinds.matching.checks import pair_conflicts_seen_before
from labeling.kinds.matching.clusters import Clusters, Edge, Scored, clusters_build, contradictions
from labeling.kinds.matching.models import PairConflict, PairConflictCheck
from labeling.models import Task
from labeling.resolve import RESOLVED_CTE, LabelPolicy, resolve_params
from labeling.review import review_flags_refresh

CHUNK = 5_000
# The codes of kind.MATCH and kind.NO_MATCH (kind.py imports this module, so they are not imported from it).
MATCH_CODE, NO_MATCH_CODE = "1", "0"

# The cluster export: its formats (CSV and JSON Lines, written by datasets.exporters) and columns.
CLUSTER_FORMATS: tuple[str, ...] = ("clusters_csv", "clusters_jsonl")
CLUSTER_COLUMNS = Columns(
    fixed=("external_id", "title", "cluster_id", "cluster_size", "joined"),
    optional=(),
    json_objects=(),
    json_lists=(),
    types=(("cluster_id", "int"), ("cluster_size", "int")),
)
# Every resolved task with its label and its two products (an edge has no direction: id order will do).
_LABELED_EDGES = f"""
    WITH {RESOLVED_CTE}
    SELECT c.id, c.label_id, t.product_id, t.other_product_id
    FROM chosen c
    JOIN {Task._meta.db_table} t ON t.id = c.id
    WHERE c.label_id IS NOT NULL"""  # noqa: S608 - only constants and table names are interpolated
# Which matches make the export's clusters (its `cluster_matches` parameter).
LABELED, PREDICTED = "labeled", "predicted"


@dataclass(frozen=True)
class PairEdges:
    matches: list[Edge]
    no_matches: list[Edge]
    resolved: set[int]  # every resolved task, whatever its label


@contextmanager
def _whole_result_plan() -> Iterator[None]:
    """A transaction whose server-side cursors are planned for reading every row: by default PostgreSQL plans them
    for their first rows, and picks nested loops that take minutes over 100k pairs."""
    if connection.vendor != "postgresql":
        yield  # SQLite: no transaction, whose write lock would be held while the rows are read
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL cursor_tuple_fraction = 1.0")
        yield


def _choice_labels(dataset: Dataset) -> dict[str, int]:
    return dict(
        Label.objects.filter(dataset=dataset, code__in=[MATCH_CODE, NO_MATCH_CODE]).values_list("code", "pk")
    )


def labeled_edges(
    *,
    dataset: Dataset,
    policy: str = LabelPolicy.MAJORITY,
    min_votes: int = 1,
    min_agreement: float = 0.0,
    include_flagged: bool = False,
) -> PairEdges:
    """The matches and no-matches people decided, under the one resolve (training's rule by default: gold, a
    decision, else a strict majority of one vote or more). One query joins each resolved pair to its two
    products; its rows stream (a server-side cursor on PostgreSQL)."""
    labels = _choice_labels(dataset)
    match_id, no_match_id = labels.get(MATCH_CODE), labels.get(NO_MATCH_CODE)
    params = resolve_params(
        dataset=dataset, policy=policy, include_flagged=include_flagged, min_votes=min_votes,
        min_agreement=min_agreement,
    )
    matches: list[Edge] = []
    no_matches: list[Edge] = []
    resolved: set[int] = set()
    with _whole_result_plan():
        cursor = connection.chunked_cursor()
        try:
            cursor.execute(_LABELED_EDGES, params)
            while batch := cursor.fetchmany(CHUNK):
                for task_id, label_id, left, right in batch:
                    resolved.add(task_id)
                    if left is None or right is None:
                        continue  # a pair missing a side joins nothing
                    if label_id == match_id:
                        matches.append(Edge(left, right, task_id))
                    elif label_id == no_match_id:
                        no_matches.append(Edge(left, right, task_id))
        finally:
            cursor.close()
    return PairEdges(matches, no_matches, resolved)


def scored_pairs(*, dataset: Dataset, resolved: set[int]) -> Scored:
    """Every pair outside `resolved` that the matcher scored, with its probability of a match: the combined
    clusters weigh all of them, those below the threshold too. Rows stream into numpy arrays a page at a time
    (9M pairs: about 200 MB)."""
    match_id = _choice_labels(dataset).get(MATCH_CODE)
    if match_id is None:
        return Scored.of([])
    # The matcher writes [[match, p], [no match, 1 - p]].
    rows = (
        Task.objects.filter(dataset=dataset, suggestions__0__0=match_id, other_product__isnull=False)
        .annotate(probability=Cast(KT("suggestions__0__1"), FloatField()))
        .values_list("pk", "product_id", "other_product_id", "probability")
    )
    sql, params = rows.query.sql_with_params()
    done = np.array(sorted(resolved), dtype=np.int64)
    pages: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    with _whole_result_plan():
        cursor = connection.chunked_cursor()
        try:
            cursor.execute(sql, params)
            while batch := cursor.fetchmany(CHUNK * 10):
                page = np.array(batch, dtype=np.float64)  # ids are exact in a float64 below 2**53
                open_ = ~np.isin(page[:, 0].astype(np.int64), done) & ~np.isnan(page[:, 3])
                pages.append((page[open_, 1].astype(np.int64), page[open_, 2].astype(np.int64),
                              page[open_, 3].astype(np.float32)))
        finally:
            cursor.close()
    if not pages:
        return Scored.of([])
    return Scored(*(np.concatenate(part) for part in zip(*pages, strict=True)))


def pair_products(*, dataset: Dataset) -> list[int]:
    """Every product of any pair of the dataset, by id."""
    pairs = Task.objects.filter(dataset=dataset, other_product__isnull=False)
    return sorted({*pairs.values_list("product_id", flat=True), *pairs.values_list("other_product_id", flat=True)})


def dataset_clusters(
    *, dataset: Dataset, threshold: float | None = None, resolve: dict[str, Any] | None = None
) -> Clusters:
    """The clusters of every product of any pair: from labeled matches, and from labeled + predicted ones
    (average linkage of the matcher's probabilities, cut at `threshold`: see clusters.py) when a `threshold` is
    given. `resolve` passes the one resolve's options (policy, min_votes...)."""
    edges = labeled_edges(dataset=dataset, **(resolve or {}))
    scored = scored_pairs(dataset=dataset, resolved=edges.resolved) if threshold is not None else None
    return clusters_build(
        matches=edges.matches, no_matches=edges.no_matches, scored=scored, threshold=threshold,
        products=pair_products(dataset=dataset),
    )


# -- conflicts -------------------------------------------------------------------------------------


def pair_conflicts_refresh(*, dataset: Dataset) -> int:
    """Open a conflict for every contradiction among the resolved pairs, close those that no longer hold, and
    recompute the review flag of every task whose conflicts changed. Returns the open contradictions."""
    with transaction.atomic():
        # One check per dataset at a time, and the answers read only once the lock is held: a check that waited
        # reads what the one before it read and more, so an older reading never overwrites a newer one.
        PairConflictCheck.objects.get_or_create(dataset=dataset)
        check = PairConflictCheck.objects.select_for_update().get(dataset=dataset)
        started = timezone.now()
        edges = labeled_edges(dataset=dataset)
        found = contradictions(matches=edges.matches, no_matches=edges.no_matches)
        clusters = clusters_build(matches=edges.matches, no_matches=edges.no_matches)
        wanted: dict[tuple[int, int], tuple[list[int], list[int]]] = {}
        for contradiction in found:
            path = [edge.task for edge in contradiction.path]
            for task_id in contradiction.tasks:
                wanted[(task_id, contradiction.no_match.task)] = (path, list(contradiction.products))
        now = timezone.now()
        existing = {
            (row.task_id, row.no_match_task_id): row
            for row in PairConflict.objects.filter(dataset=dataset, resolved_at=None)
        }
        gone = [row.pk for key, row in existing.items() if key not in wanted]
        moved = []
        for key, row in existing.items():
            if key in wanted and (row.path, row.products) != wanted[key]:
                row.path, row.products = wanted[key]
                moved.append(row)
        new = [
            PairConflict(dataset=dataset, task_id=task_id, no_match_task_id=no_match, path=path, products=products)
            for (task_id, no_match), (path, products) in wanted.items()
            if (task_id, no_match) not in existing
        ]
        PairConflict.objects.filter(pk__in=gone).update(resolved_at=now)
        PairConflict.objects.bulk_update(moved, ["path", "products"], batch_size=1000)
        PairConflict.objects.bulk_create(new, batch_size=1000)
        touched = {row.task_id for row in new} | {key[0] for key, row in existing.items() if key not in wanted}
        review_flags_refresh(task_ids=touched)
        # The figures the dataset's page shows, so no page builds clusters itself.
        check.checked_at = now
        check.answers_seen_before = pair_conflicts_seen_before(started=started)
        check.figures = {**clusters.summary(), "conflicts": len(found)}
        check.save(update_fields=["checked_at", "answers_seen_before", "figures"])
    return len(found)


def pair_conflicts_check_run(*, dataset_id: int) -> int | None:
    """The worker's check: the waiting request is taken first, so answers given during the run ask again."""
    dataset = Dataset.objects.filter(pk=dataset_id).first()
    if dataset is None:
        return None  # deleted since
    PairConflictCheck.objects.filter(dataset=dataset).update(requested_at=None)
    return pair_conflicts_refresh(dataset=dataset)


def pair_conflicts_of(*, task: Task) -> list[dict[str, Any]]:
    """The open conflicts a task is part of, each as its chain for the review page: `steps` of
    {left, right (products), task id, same (True for a match)}, the matches first, then the no-match."""
    rows = list(PairConflict.objects.filter(task=task, resolved_at=None).order_by("no_match_task_id"))
    if not rows:
        return []
    product_ids = {pk for row in rows for pk in row.products}
    products = Product.objects.in_bulk(product_ids)
    conflicts = []
    for row in rows:
        chain = [products.get(pk) for pk in row.products]
        steps = [
            {"left": chain[i], "right": chain[i + 1], "task": task_id, "same": True}
            for i, task_id in enumerate(row.path)
        ]
        steps.append({"left": chain[0], "right": chain[-1], "task": row.no_match_task_id, "same": False})
        for step in steps:
            step["current"] = step["task"] == task.pk
        conflicts.append({"no_match_task": row.no_match_task_id, "steps": steps, "detected_at": row.detected_at})
    return conflicts


def pair_conflicts_open_count(*, dataset: Dataset) -> int:
    """The contradictions open in the dataset (each counted once, by its no-match task)."""
    return (
        PairConflict.objects.filter(dataset=dataset, resolved_at=None)
        .values("no_match_task_id").distinct().count()
    )


# -- the cluster export ----------------------------------------------------------------------------


def cluster_export_query(*, dataset: Dataset) -> tuple[str, dict[str, Any]]:
    """Every product of any pair of the dataset, by id: (id, external_id, title)."""
    products, tasks = Product._meta.db_table, Task._meta.db_table
    sql = f"""
    SELECT p.id, p.external_id, p.title
    FROM {products} p
    WHERE p.id IN (
        SELECT t.product_id FROM {tasks} t WHERE t.dataset_id = %(dataset)s AND t.other_product_id IS NOT NULL
        UNION
        SELECT t.other_product_id FROM {tasks} t WHERE t.dataset_id = %(dataset)s AND t.other_product_id IS NOT NULL
    )
    ORDER BY p.id"""  # noqa: S608 - only table names are interpolated
    return sql, {"dataset": dataset.pk}


def cluster_export_rows(
    *, dataset: Dataset, params: dict[str, Any], records: Iterable[tuple]
) -> Iterator[dict[str, Any]]:
    """One row per product: its cluster (the smallest product id in it), the cluster's size, and how it joined
    (labeled, predicted, or empty when alone). Clusters are made under the export's label policy; with
    predicted matches, by average linkage cut at the threshold fixed with the snapshot."""
    predicted = params.get("cluster_matches") == PREDICTED
    resolve = {
        "policy": params["policy"],
        "min_votes": params["min_votes"],
        "min_agreement": params["min_agreement"],
        "include_flagged": params["include_flagged"],
    }
    clusters = dataset_clusters(
        dataset=dataset, threshold=params["cluster_threshold"] if predicted else None, resolve=resolve
    )
    ids, sizes = (clusters.combined, clusters.combined_size) if predicted else (clusters.labeled, clusters.labeled_size)
    position = {int(product): i for i, product in enumerate(clusters.products)}
    for product_id, external_id, title in records:
        i = position.get(product_id)
        if i is None:  # paired after the clusters were read (SQLite has no snapshot across the two reads)
            yield {"external_id": external_id, "title": title, "cluster_id": product_id, "cluster_size": 1,
                   "joined": None}
            continue
        yield {
            "external_id": external_id,
            "title": title,
            "cluster_id": int(ids[i]),
            "cluster_size": int(sizes[i]),
            "joined": clusters.joined(i, predicted=predicted),
        }


def clusters_summary(*, dataset: Dataset) -> dict[str, Any] | None:
    """What the last conflict check found (clusters of two products or more, the largest's size, open
    contradictions) and when; None before any check."""
    check = PairConflictCheck.objects.filter(dataset=dataset, checked_at__isnull=False).first()
    if check is None:
        return None
    return {**check.figures, "checked_at": check.checked_at, "waiting": check.requested_at is not None}
