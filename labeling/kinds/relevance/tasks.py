"""Relevance tasks named by a file (a judgments import): one task per (query, product) pair, whoever made it first.

A candidate run makes its tasks in bulk (`candidates.py`); a judgments file names pairs a run may or may not have
pooled, so its pairs are looked up first and only the missing ones made, with the same seeded queue order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db import transaction

from datasets.models import Dataset
from labeling.kinds.relevance.candidates import pair_key
from labeling.models import Task

_CHUNK = 5_000  # stays under SQLite's bound-variable limit in the IN lookups


@dataclass(frozen=True)
class QueryProduct:
    query_id: int
    product_id: int
    query_external_id: str  # the external ids seed the pair's place in the queue, as a candidate run's
    product_external_id: str


def relevance_tasks_upsert(
    *, dataset: Dataset, pairs: Sequence[QueryProduct]
) -> tuple[dict[tuple[int, int], int], int]:
    """Tasks for (query, product) pairs of the dataset, a few statements for the whole batch; a pair the dataset
    holds keeps its task, answered or not. Returns each pair's task id by (query id, product id), and how many
    tasks are new."""
    wanted = {(pair.query_id, pair.product_id): pair for pair in pairs}
    with transaction.atomic():
        existing = _held(dataset, wanted)
        new = [pair for key, pair in wanted.items() if key not in existing]
        # Conflicts are ignored, not raised: a concurrent candidate run or import keeps the task it made.
        Task.objects.bulk_create(
            [
                Task(
                    dataset=dataset, product_id=pair.product_id, query_id=pair.query_id,
                    random_key=pair_key(dataset, pair.query_external_id, pair.product_external_id),
                )
                for pair in new
            ],
            ignore_conflicts=True,
            batch_size=2000,
        )
        created = _held(dataset, [(pair.query_id, pair.product_id) for pair in new]) if new else {}
    return existing | created, len(new)


def _held(dataset: Dataset, pairs: Iterable[tuple[int, int]]) -> dict[tuple[int, int], int]:
    """The task ids of the (query, product) pairs the dataset holds: one lookup a chunk of queries, by the task
    index on (query, product)."""
    wanted = set(pairs)
    queries = sorted({query for query, _ in wanted})
    held: dict[tuple[int, int], int] = {}
    for start in range(0, len(queries), _CHUNK):
        rows = Task.objects.filter(dataset=dataset, query_id__in=queries[start : start + _CHUNK]).values_list(
            "query_id", "product_id", "pk"
        )
        held.update({(query, product): pk for query, product, pk in rows if (query, product) in wanted})
    return held
