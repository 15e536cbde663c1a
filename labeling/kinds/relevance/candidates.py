"""What a relevance dataset's judges see: the products of each query by BM25, pooled with other rankers.

BM25 runs over each product's title, brand, description and attribute values (`bm25.py`). Every ranker's
results are kept to `depth` (`QueryResult`, replaced whole when the ranker runs again), so the judgments can
score each ranker later; the judged pool is TREC's depth pooling: every product in the top `pool` of any
ranker becomes a task (query, product), once. Tasks already made stay as they are, answered or not.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from config.errors import ApplicationError
from datasets.models import Dataset, Product, Query
from datasets.offers import product_text
from labeling.kinds.relevance.bm25 import bm25_index, bm25_top
from labeling.kinds.relevance.models import QueryResult
from labeling.models import Task
from labeling.queue import random_key

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
    rankings: dict[str, dict[int, list[tuple[int, float | None]]]] = {}
    if index is not None:
        rankings[BM25] = {}
        for start in range(0, len(queries), RANK_CHUNK):
            progress("rank", start / len(queries))
            chunk = queries[start : start + RANK_CHUNK]
            positions, scores = bm25_top(index, [text for _, text, _ in chunk], k=depth)
            rankings[BM25].update(
                (query_pk, [(product_ids[p], float(s)) for p, s in zip(row, row_scores, strict=True) if p >= 0])
                for (query_pk, _, _), row, row_scores in zip(chunk, positions, scores, strict=True)
            )
    rankings.update(_checked_runs(runs or {}, {pk for pk, _, _ in queries}, set(product_ids), depth))
    progress("rank", 1.0)
    timings["rank_s"] = round(time.perf_counter() - started, 3)
    check()
    started = time.perf_counter()
    progress("write", 0.0)
    external_of = dict(zip(product_ids, external_ids, strict=True))
    query_external = {pk: external_id for pk, _, external_id in queries}
    pooled = sorted({(query, product) for ranking in rankings.values() for query, results in ranking.items()
                     for product, _ in results[:pool]})
    with transaction.atomic():
        for ranker, ranking in rankings.items():
            QueryResult.objects.filter(dataset=dataset, ranker=ranker).delete()
            QueryResult.objects.bulk_create(_results(dataset, ranker, ranking), batch_size=CHUNK)
        before = Task.objects.filter(dataset=dataset, query__isnull=False).count()
        Task.objects.bulk_create(
            (
                Task(
                    dataset=dataset, product_id=product, query_id=query,
                    random_key=pair_key(dataset, query_external[query], external_of[product]),
                )
                for query, product in pooled
            ),
            batch_size=CHUNK,
            ignore_conflicts=True,
        )
        created = Task.objects.filter(dataset=dataset, query__isnull=False).count() - before
    timings["write_s"] = round(time.perf_counter() - started, 3)
    return CandidateCounts(
        queries=len(queries), products=len(product_ids),
        results={ranker: sum(map(len, ranking.values())) for ranker, ranking in rankings.items()},
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
) -> dict[str, dict[int, list[tuple[int, float | None]]]]:
    checked: dict[str, dict[int, list[tuple[int, float | None]]]] = {}
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
        checked[ranker] = {}
        for query, results in ranking.items():
            if len(set(results)) != len(results):
                raise ValueError(f"ranker {ranker!r} lists a product twice for query {query}")
            checked[ranker][query] = [(product, None) for product in list(results)[:depth]]
    return checked


def _results(dataset: Dataset, ranker: str, ranking: Mapping[int, list[tuple[int, float | None]]]):
    for query, results in ranking.items():
        for rank, (product, score) in enumerate(results, start=1):
            yield QueryResult(dataset=dataset, query_id=query, product_id=product, ranker=ranker, rank=rank,
                              score=score)
