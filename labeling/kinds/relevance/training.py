"""What a relevance model reads of a relevance dataset: the judged pairs, the open ones, and each pair's inputs.

A pair is a task's (query, product). Its inputs are the query's text, the product's title and search text
(the fields BM25 reads, joined as the candidate step joins them), BM25's score and rank of the product
for the query where the candidate step returned it, and the categories of the product and of the query's BM25
top 10 (a product's category is the first of CATEGORY_KEYS its attributes hold). Reads go by pages of ids: one
query a page, none a pair.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from datasets.models import Dataset, Label, Product, Query
from datasets.offers import product_text
from datasets.selectors import CATALOG_SAMPLE, product_sample_ids
from labeling.kinds.relevance.candidates import BM25, SEARCHED
from labeling.kinds.relevance.grades import scale_get
from labeling.kinds.relevance.models import QueryResult
from labeling.models import Task
from labeling.resolve import LabelPolicy, resolved_labels

CHUNK = 5000
PAIR_PAGE = 10_000  # pairs a page: ~1,000 queries, whose BM25 results (up to 100 each) are read with them
TOP = 10  # the query's BM25 results whose categories a product's is compared with (models_app.ml.relevance)
# Where catalogs keep a product's category, in the order read: the demo's and PriceRunner's "category", Google
# Shopping's "product_type", a taxonomy path's column names.
CATEGORY_KEYS = ("category", "category_path", "product_type", "categories", "department")


@dataclass(frozen=True)
class Pairs:
    """Pairs as columns: task i is (query_ids[i], product_ids[i])."""

    task_ids: np.ndarray
    query_ids: np.ndarray
    product_ids: np.ndarray


@dataclass(frozen=True)
class PairInputs:
    """What the featurizer reads of each pair, in the order asked (`models_app.ml.relevance`)."""

    queries: list[str]
    titles: list[str]
    texts: list[str]
    bm25: list[float]
    ranks: list[float]
    categories: list[str]
    top_categories: list[tuple[str, ...]]


def grade_labels(*, dataset: Dataset) -> dict[str, int]:
    """grade code -> the dataset's label id, for the grades of its scale."""
    codes = [grade.code for grade in scale_get(dataset.grade_scale).grades]
    return dict(Label.objects.filter(dataset=dataset, code__in=codes).values_list("code", "pk"))


def judged_pairs(*, dataset: Dataset, upto_annotation_id: int) -> tuple[Pairs, list[str]]:
    """The resolved pairs (gold, else the reviewer's decision, else a strict majority) and their grade codes."""
    code_of = {pk: code for code, pk in grade_labels(dataset=dataset).items()}
    grade_of: dict[int, str] = {}
    for task_id, label_id in resolved_labels(
        dataset=dataset, policy=LabelPolicy.MAJORITY, min_votes=1, upto_annotation_id=upto_annotation_id
    ):
        if label_id in code_of:
            grade_of[task_id] = code_of[label_id]
    pairs = pairs_of_tasks(task_ids=sorted(grade_of))
    return pairs, [grade_of[pk] for pk in pairs.task_ids.tolist()]


def pairs_of_tasks(*, task_ids: Sequence[int]) -> Pairs:
    """The (query, product) of these relevance tasks, in task id order; a task deleted meanwhile is left out."""
    rows: list[tuple[int, int, int]] = []
    for start in range(0, len(task_ids), CHUNK):
        rows += Task.objects.filter(pk__in=task_ids[start : start + CHUNK], query__isnull=False).order_by(
            "pk"
        ).values_list("pk", "query_id", "product_id")
    return _pairs(np.array(rows, dtype=np.int64).reshape(-1, 3))


def _pairs(rows: np.ndarray) -> Pairs:
    return Pairs(task_ids=rows[:, 0], query_ids=rows[:, 1], product_ids=rows[:, 2])


def open_pairs(*, dataset: Dataset, chunk_size: int = PAIR_PAGE) -> Iterator[Pairs]:
    """Every open relevance task's pair, in task id order, by keyset pages."""
    last = 0
    while True:
        rows = np.array(
            Task.objects.filter(dataset=dataset, is_complete=False, query__isnull=False, pk__gt=last)
            .order_by("pk")
            .values_list("pk", "query_id", "product_id")[:chunk_size],
            dtype=np.int64,
        ).reshape(-1, 3)
        if not len(rows):
            return
        last = int(rows[-1, 0])
        yield _pairs(rows)


def bm25_results(*, dataset: Dataset, query_ids: Sequence[int]) -> dict[int, list[tuple[int, int, float]]]:
    """query id -> BM25's results for it as the candidate step kept them: (product id, rank, score), best first."""
    results: dict[int, list[tuple[int, int, float]]] = {}
    wanted = sorted({int(pk) for pk in query_ids})
    for start in range(0, len(wanted), CHUNK // 50):  # up to DEPTH results a query
        rows = (
            QueryResult.objects.filter(dataset=dataset, ranker=BM25, query_id__in=wanted[start : start + CHUNK // 50])
            .order_by("query_id", "rank")
            .values_list("query_id", "product_id", "rank", "score")
        )
        for query, product, rank, score in rows:
            results.setdefault(query, []).append((product, rank, score or 0.0))
    return results


def pair_inputs(*, dataset: Dataset, query_ids: np.ndarray, product_ids: np.ndarray) -> PairInputs:
    """The featurizer's inputs of the pairs (query_ids[i], product_ids[i]); a pair BM25 did not return gets
    score 0 and rank NaN (the featurizer's "no rank")."""
    texts = dict(Query.objects.filter(dataset=dataset, pk__in=np.unique(query_ids).tolist()).values_list("pk", "text"))
    results = bm25_results(dataset=dataset, query_ids=list(texts))
    tops = {query: [product for product, rank, _ in found if rank <= TOP] for query, found in results.items()}
    wanted = {int(pk) for pk in np.unique(product_ids)} | {product for top in tops.values() for product in top}
    products = _products(dataset, sorted(wanted))
    found = {
        (query, product): (rank, score) for query, found in results.items() for product, rank, score in found
    }
    top_categories = {
        query: tuple(products[product][2] if product in products else "" for product in top)
        for query, top in tops.items()
    }
    inputs = PairInputs(queries=[], titles=[], texts=[], bm25=[], ranks=[], categories=[], top_categories=[])
    for query, product in zip(query_ids.tolist(), product_ids.tolist(), strict=True):
        title, text, category = products.get(product, ("", "", ""))
        rank, score = found.get((query, product), (np.nan, 0.0))
        inputs.queries.append(texts.get(query, ""))
        inputs.titles.append(title)
        inputs.texts.append(text)
        inputs.bm25.append(score)
        inputs.ranks.append(rank)
        inputs.categories.append(category)
        inputs.top_categories.append(top_categories.get(query, ()))
    return inputs


def product_category(attributes: Mapping[str, Any] | None) -> str:
    """The product's category as its attributes name it (the first of CATEGORY_KEYS, any case; a list is a
    path), folded so "Headphones" and "headphones " are one; '' when it has none."""
    if not isinstance(attributes, Mapping):
        return ""
    folded = {str(key).casefold(): value for key, value in attributes.items()}
    for key in CATEGORY_KEYS:
        value = folded.get(key)
        if isinstance(value, list | tuple):
            value = " > ".join(str(part) for part in value if part is not None)
        if value is not None and (text := " ".join(str(value).split()).casefold()):
            return text
    return ""


def _products(dataset: Dataset, product_ids: list[int]) -> dict[int, tuple[str, str, str]]:
    """product id -> (title, search text, category) of these products of the dataset."""
    found: dict[int, tuple[str, str, str]] = {}
    for start in range(0, len(product_ids), CHUNK):
        rows = Product.objects.filter(dataset=dataset, pk__in=product_ids[start : start + CHUNK]).values(
            "pk", *SEARCHED
        )
        found.update(
            (row["pk"], (row["title"], product_text(row, SEARCHED), product_category(row["attributes"])))
            for row in rows
        )
    return found


def catalog_search_texts(*, dataset: Dataset, limit: int = CATALOG_SAMPLE) -> list[str]:
    """The search texts of the dataset's products (all, or a seeded sample of `limit`), for the featurizer's
    vocabulary: it needs no label."""
    return [text for _, text, _ in _products(dataset, product_sample_ids(dataset=dataset, limit=limit)).values()]
