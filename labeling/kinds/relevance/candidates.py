"""What a relevance dataset's judges see: the products of each query by BM25, pooled with other rankers.

BM25 runs over each product's title, brand, description and attribute values (`bm25.py`). Every ranker's
results are kept to `depth` (`QueryResult`, replaced whole when the ranker runs again), so the judgments can
score each ranker later; the judged pool is TREC's depth pooling: every product in the top `pool` of any
ranker becomes a task (query, product), once. Tasks already made stay as they are, answered or not.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.db import connection, transaction

from config.copy import copy_in
from config.errors import ApplicationError
from datasets.models import Dataset, Product, Query
from datasets.offers import product_text
from labeling.kinds.relevance.bm25 import bm25_index, bm25_top
from labeling.kinds.relevance.models import QueryResult
from labeling.models import Task
from labeling.queue import random_key
from labeling.scores import binary_copy_rows

BM25 = "bm25"
DEPTH = 100  # results kept per query and ranker
POOL = 10  # of which each ranker's first are judged (the list mode shows 10 per query)
MAX_DEPTH = 1000
CHUNK = 5000
RANK_CHUNK = 2000  # queries ranked between two progress reports (and cancel checks)
MAX_RANKER_NAME = 64
SEARCHED = ("title", "brand", "description", "attributes")  # the fields BM25 reads


@dataclass(frozen=True)
class CandidateCounts:
    queries: int
    products: int
    results: dict[str, int]  # ranker -> results kept
    pooled: int  # distinct (query, product) pairs in the pool
    created: int  # new tasks among them
    timings: dict[str, float] = field(default_factory=dict)  # read_s, rank_s, write_s


def relevance_params_clean(data: Mapping[str, Any] | None) -> dict[str, int]:
    """A candidate run's settings, `depth` and `pool` (DEPTH and POOL by default), or an ApplicationError naming
    the bad one in `extra["fields"]` (as a form or the API reports it)."""
    data = dict(data or {})
    unknown = sorted(set(data) - {"depth", "pool"})
    if unknown:
        message = f"Unknown relevance candidate setting(s): {', '.join(unknown)}; use depth and pool."
        raise ApplicationError(message, extra={"fields": {"non_field_errors": [message]}})
    params = {"depth": data.get("depth", DEPTH), "pool": data.get("pool", POOL)}
    for name, value in params.items():
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_DEPTH:
            message = f"{name} must be a whole number from 1 to {MAX_DEPTH}."
            raise ApplicationError(message, extra={"fields": {name: [message]}})
    if params["pool"] > params["depth"]:
        message = f"pool ({params['pool']}) cannot exceed depth ({params['depth']}): only kept results are pooled."
        raise ApplicationError(message, extra={"fields": {"pool": [message]}})
    return params


def relevance_candidates(
    *,
    dataset: Dataset,
    depth: int = DEPTH,
    pool: int = POOL,
    runs: Mapping[str, Mapping[int, Sequence[int]]] | None = None,
    check: Callable[[], None] = lambda: None,
    progress: Callable[[str, float], None] = lambda phase, fraction: None,
) -> CandidateCounts:
    """Rank the dataset's products for each of its queries with BM25, keep every ranker's results (BM25's and
    `runs`: ranker name -> query id -> product ids, best first, e.g. the shop's own search engine), and make
    the pooled tasks. `check` is called between steps (a job's cancel); `progress(phase, fraction)` hears how far
    each phase got: read (the products, and their index), rank (the queries), write. Nothing is written before
    the last phase, and it is written whole."""
    if not 1 <= pool <= depth:
        raise ValueError(f"the pool ({pool}) must be between 1 and the depth ({depth})")
    timings: dict[str, float] = {}
    started = time.perf_counter()
    progress("read", 0.0)
    queries = list(Query.objects.filter(dataset=dataset).order_by("pk").values_list("pk", "text", "external_id"))
    product_ids, external_ids, texts = _product_texts(dataset)
    check()
    index = bm25_index(texts) if queries and product_ids else None
    del texts
    progress("read", 1.0)
    timings["read_s"] = round(time.perf_counter() - started, 3)
    started = time.perf_counter()
    rankings: dict[str, _Ranked] = {}
    if index is not None:
        ids = np.asarray(product_ids, dtype=np.int64)
        parts = []
        for start in range(0, len(queries), RANK_CHUNK):
            progress("rank", start / len(queries))
            chunk = queries[start : start + RANK_CHUNK]
            positions, scores = bm25_top(index, [text for _, text, _ in chunk], k=depth)
            chunk_ids = np.asarray([pk for pk, _, _ in chunk], dtype=np.int64)
            parts.append(_Ranked.of_top(chunk_ids, ids, positions, scores))
        rankings[BM25] = _Ranked.joined(parts)
    rankings.update(_checked_runs(runs or {}, {pk for pk, _, _ in queries}, set(product_ids), depth))
    progress("rank", 1.0)
    timings["rank_s"] = round(time.perf_counter() - started, 3)
    check()
    started = time.perf_counter()
    progress("write", 0.0)
    external_of = dict(zip(product_ids, external_ids, strict=True))
    query_external = {pk: external_id for pk, _, external_id in queries}
    pooled = _pooled(rankings.values(), pool)
    keys = np.asarray(
        [pair_key(dataset, query_external[query], external_of[product]) for query, product in pooled.tolist()],
        dtype=np.int64,
    )
    write = _write_postgres if connection.vendor == "postgresql" else _write_orm
    with transaction.atomic():
        created = write(dataset, rankings, pooled, keys)
    timings["write_s"] = round(time.perf_counter() - started, 3)
    return CandidateCounts(
        queries=len(queries), products=len(product_ids),
        results={ranker: len(ranked) for ranker, ranked in rankings.items()},
        pooled=len(pooled), created=created, timings=timings,
    )


def pair_key(dataset: Dataset, query: str, product: str) -> int:
    # The queue's seeded order for a (query, product) pair: stable across runs, apart for each pair.
    return random_key(seed=dataset.seed, external_id=f"{query}\x1f{product}")


def _product_texts(dataset: Dataset) -> tuple[list[int], list[str], list[str]]:
    """(ids, external ids, search texts) of the dataset's products, ids ascending: title, brand, description
    and the attributes' values, joined as the models join them (`product_text`)."""
    ids, external_ids, texts = [], [], []
    rows = Product.objects.filter(dataset=dataset).order_by("pk").values("pk", "external_id", *SEARCHED)
    for row in rows.iterator(chunk_size=CHUNK):
        ids.append(row["pk"])
        external_ids.append(row["external_id"])
        texts.append(product_text(row, SEARCHED))
    return ids, external_ids, texts


def _checked_runs(
    runs: Mapping[str, Mapping[int, Sequence[int]]], queries: set[int], products: set[int], depth: int
) -> dict[str, _Ranked]:
    checked: dict[str, _Ranked] = {}
    for ranker, ranking in runs.items():
        if not ranker or len(ranker) > MAX_RANKER_NAME or ranker == BM25:
            raise ValueError(f"a ranker needs a name of 1 to {MAX_RANKER_NAME} characters other than {BM25!r}")
        unknown_queries = set(ranking) - queries
        unknown_products = {product for results in ranking.values() for product in results} - products
        if unknown_queries or unknown_products:
            raise ValueError(
                f"ranker {ranker!r} names {len(unknown_queries)} queries and {len(unknown_products)} products "
                "that are not this dataset's"
            )
        columns: tuple[list[int], list[int], list[int]] = ([], [], [])
        for query, results in sorted(ranking.items()):
            if len(set(results)) != len(results):
                raise ValueError(f"ranker {ranker!r} lists a product twice for query {query}")
            kept = list(results)[:depth]
            columns[0].extend([query] * len(kept))
            columns[1].extend(kept)
            columns[2].extend(range(1, len(kept) + 1))
        query, product, rank = (np.asarray(column, dtype=np.int64) for column in columns)
        checked[ranker] = _Ranked(query, product, rank, np.full(len(query), np.nan))  # an imported run has no scores
    return checked


@dataclass(frozen=True)
class _Ranked:
    """One ranker's kept results as columns, in (query, rank) order: numpy arrays, not a tuple per result (a
    million of them at 10k queries)."""

    query: np.ndarray
    product: np.ndarray
    rank: np.ndarray  # 1 = best
    score: np.ndarray  # NaN where the ranker gave none

    def __len__(self) -> int:
        return len(self.query)

    @classmethod
    def of_top(
        cls, query_ids: np.ndarray, product_ids: np.ndarray, positions: np.ndarray, scores: np.ndarray
    ) -> _Ranked:
        """`bm25_top`'s (queries x k) positions and scores; a position of -1 (fewer matches than k) is no result."""
        found = positions >= 0
        ranks = np.broadcast_to(np.arange(1, positions.shape[1] + 1, dtype=np.int64), positions.shape)
        return cls(
            query=np.broadcast_to(query_ids[:, None], positions.shape)[found],
            product=product_ids[positions[found]],
            rank=ranks[found],
            score=scores[found].astype(np.float64),
        )

    @classmethod
    def joined(cls, parts: Sequence[_Ranked]) -> _Ranked:
        if not parts:
            empty = np.empty(0, dtype=np.int64)
            return cls(empty, empty, empty, np.empty(0))
        names = ("query", "product", "rank", "score")
        return cls(*(np.concatenate([getattr(part, name) for part in parts]) for name in names))


def _pooled(rankings: Iterable[_Ranked], pool: int) -> np.ndarray:
    """The distinct (query, product) pairs in the top `pool` of any ranker, sorted: an (n, 2) array."""
    tops = [np.column_stack([ranked.query, ranked.product])[ranked.rank <= pool] for ranked in rankings]
    if not tops:
        return np.empty((0, 2), dtype=np.int64)
    return np.unique(np.concatenate(tops), axis=0)


_RESULT_STAGE = "relevance_result_stage"
_TASK_STAGE = "relevance_task_stage"
_INSERT_RESULTS = f"""
INSERT INTO {QueryResult._meta.db_table} (dataset_id, query_id, product_id, ranker, rank, score)
SELECT %s, query_id, product_id, %s, rank, NULLIF(score, 'NaN'::float8) FROM {_RESULT_STAGE}
"""  # noqa: S608 - table names only
# A pair already a task (an earlier run's, an imported judgment's) keeps it: the unique index on (product, other
# product, query) turns it away. A query's tasks get neighbouring ids (the list mode reads them together).
_INSERT_TASKS = f"""
INSERT INTO {Task._meta.db_table} (dataset_id, product_id, query_id, random_key, swapped, is_gold, annotation_count,
                                   is_complete, priority, needs_review, created_at)
SELECT %s, product_id, query_id, random_key, false, false, 0, false, 0, false, now() FROM {_TASK_STAGE}
ORDER BY query_id, product_id
ON CONFLICT DO NOTHING
"""  # noqa: S608 - table names only


def _write_postgres(dataset: Dataset, rankings: Mapping[str, _Ranked], pooled: np.ndarray, keys: np.ndarray) -> int:
    """Each ranker's results replaced and the pooled tasks made: binary COPY into staging tables and one INSERT
    each (the ORM built a million objects for 10k queries, 75 s of a candidate run's 76)."""
    with connection.cursor() as cursor, connection.wrap_database_errors:
        for ranker, ranked in rankings.items():
            QueryResult.objects.filter(dataset=dataset, ranker=ranker).delete()
            if not len(ranked):
                continue
            cursor.execute(
                f"CREATE TEMP TABLE IF NOT EXISTS {_RESULT_STAGE} "
                "(query_id bigint, product_id bigint, rank bigint, score double precision) ON COMMIT DROP"
            )
            cursor.execute(f"TRUNCATE {_RESULT_STAGE}")
            columns = [("query_id", ranked.query), ("product_id", ranked.product), ("rank", ranked.rank),
                       ("score", ranked.score)]
            copy_in(cursor, f"COPY {_RESULT_STAGE} FROM STDIN WITH (FORMAT binary)", binary_copy_rows(columns))
            cursor.execute(_INSERT_RESULTS, [dataset.pk, ranker])
        if not len(pooled):
            return 0
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {_TASK_STAGE} (query_id bigint, product_id bigint, random_key bigint) "
            "ON COMMIT DROP"
        )
        cursor.execute(f"TRUNCATE {_TASK_STAGE}")
        columns = [("query_id", pooled[:, 0]), ("product_id", pooled[:, 1]), ("random_key", keys)]
        copy_in(cursor, f"COPY {_TASK_STAGE} FROM STDIN WITH (FORMAT binary)", binary_copy_rows(columns))
        cursor.execute(_INSERT_TASKS, [dataset.pk])
        return cursor.rowcount


def _write_orm(dataset: Dataset, rankings: Mapping[str, _Ranked], pooled: np.ndarray, keys: np.ndarray) -> int:
    for ranker, ranked in rankings.items():
        QueryResult.objects.filter(dataset=dataset, ranker=ranker).delete()
        QueryResult.objects.bulk_create(
            (
                QueryResult(dataset=dataset, query_id=query, product_id=product, ranker=ranker, rank=rank,
                            score=None if score != score else score)  # NaN: no score
                for query, product, rank, score in zip(
                    ranked.query.tolist(), ranked.product.tolist(), ranked.rank.tolist(), ranked.score.tolist(),
                    strict=True,
                )
            ),
            batch_size=CHUNK,
        )
    before = Task.objects.filter(dataset=dataset, query__isnull=False).count()
    Task.objects.bulk_create(
        (
            Task(dataset=dataset, product_id=product, query_id=query, random_key=key)
            for (query, product), key in zip(pooled.tolist(), keys.tolist(), strict=True)
        ),
        batch_size=CHUNK,
        ignore_conflicts=True,
    )
    return Task.objects.filter(dataset=dataset, query__isnull=False).count() - before
