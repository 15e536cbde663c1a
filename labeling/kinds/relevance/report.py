"""The Queries page's figures: each ranker's kept results (`QueryResult`) scored against the judgments.

The judgments are the resolved grades, by the one rule exports and training follow (`labeling.resolve`), worth
their grade's gain on the dataset's scale (`grades.py`; a label added by hand outside the scale counts as no
judgment). `ranking.py` does the arithmetic; this module reads what it needs (each ranker's top k, not its
whole depth) and names the queries as people know them (their id and text).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection

from config.errors import ApplicationError
from datasets.models import Dataset, Query
from labeling.kinds.relevance.grades import scale_get
from labeling.kinds.relevance.models import QueryResult
from labeling.kinds.relevance.ranking import ranker_report
from labeling.models import Task
from labeling.resolve import RESOLVED_CTE, LabelPolicy, resolve_params

K_MAX = 100
DISAGREEMENTS = 20
# How the per-query table can be ordered: "spread" (the rankers' nDCG disagree most first), "query" (by id),
# "weight" (the heaviest first), or a ranker's name (its worst nDCG first).
ORDERS = ("spread", "query", "weight")

_JUDGED = f"""
    WITH {RESOLVED_CTE}
    SELECT t.query_id, t.product_id, c.label_id
    FROM chosen c JOIN {Task._meta.db_table} t ON t.id = c.id
    WHERE c.label_id IS NOT NULL AND t.query_id IS NOT NULL"""  # noqa: S608


def relevance_judgments(*, dataset: Dataset, policy: str = LabelPolicy.MAJORITY) -> dict[int, dict[int, float]]:
    """query id -> product id -> gain of every resolved judgment of the dataset."""
    gains = scale_get(dataset.grade_scale).gains
    gain_of = {pk: gains[code] for pk, code in dataset.labels.values_list("pk", "code") if code in gains}
    judged: dict[int, dict[int, float]] = {}
    with connection.cursor() as cursor:
        cursor.execute(_JUDGED, resolve_params(dataset=dataset, policy=policy))
        for query_id, product_id, label_id in cursor.fetchall():
            if label_id in gain_of:
                judged.setdefault(query_id, {})[product_id] = gain_of[label_id]
    return judged


def ranker_runs(*, dataset: Dataset, k: int) -> dict[str, dict[int, list[int]]]:
    """ranker -> query id -> its top k product ids, best first."""
    rows = (
        QueryResult.objects.filter(dataset=dataset, rank__lte=k)
        .order_by("ranker", "query_id", "rank")
        .values_list("ranker", "query_id", "product_id")
    )
    runs: dict[str, dict[int, list[int]]] = {}
    for ranker, query_id, product_id in rows.iterator(chunk_size=5000):
        runs.setdefault(ranker, {}).setdefault(query_id, []).append(product_id)
    return runs


def cutoff_parse(raw: str | None, *, default: int = 10) -> int:
    """k from a query string: a whole number from 1 to K_MAX, or an ApplicationError naming it."""
    if raw is None or raw == "":
        return default
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= K_MAX:
        message = f"k must be a whole number from 1 to {K_MAX}."
        raise ApplicationError(message, extra={"fields": {"k": [message]}})
    return int(raw)


def ranking_report(
    *, dataset: Dataset, k: int = 10, policy: str = LabelPolicy.MAJORITY, order: str = "spread"
) -> dict[str, Any]:
    """Each ranker's nDCG@k, MRR and precision@k over the judged queries (means weighted by the queries'
    weights), the share of its top k nobody judged, the same per query (`per_query`, in `order`), and the
    queries whose nDCG differs most between rankers. JSON-ready: queries are named by their external ids."""
    if not 1 <= k <= K_MAX:
        raise ApplicationError(f"k must be a whole number from 1 to {K_MAX}.", extra={"fields": {"k": [str(k)]}})
    if policy not in (LabelPolicy.FINAL, LabelPolicy.MAJORITY):
        message = f"Unknown label policy {policy!r}; use final or majority (one grade per judged pair)."
        raise ApplicationError(message, extra={"fields": {"policy": [message]}})
    judged = relevance_judgments(dataset=dataset, policy=policy)
    runs = ranker_runs(dataset=dataset, k=k)
    queries = {
        pk: {"query_id": external_id, "query": text, "weight": weight}
        for pk, external_id, text, weight in Query.objects.filter(dataset=dataset).values_list(
            "pk", "external_id", "text", "weight"
        )
    }
    raw = ranker_report(
        runs, judged, k=k, weights={pk: query["weight"] for pk, query in queries.items()},
        disagreements=DISAGREEMENTS,
    )
    per_query = []
    for pk, by_ranker in raw["per_query"].items():
        # ranking.py's disagreement, for every query rather than the first few
        values = [figures["ndcg"] for figures in by_ranker.values() if figures["ndcg"] is not None]
        per_query.append({
            **queries[pk],
            "judged": len(judged[pk]),
            "ndcg_spread": max(values) - min(values) if len(values) >= 2 else None,
            "rankers": by_ranker,
        })
    rankers = sorted(raw["rankers"])
    return {
        "k": k,
        "policy": LabelPolicy(policy).value,
        "queries": len(queries),
        "judged_queries": raw["queries"],
        "judgments": sum(map(len, judged.values())),
        "rankers": [{"name": name, **raw["rankers"][name]} for name in rankers],
        "disagreements": [{**queries[row["query"]], "ndcg_spread": row["ndcg_spread"]} for row in raw["disagreements"]],
        "per_query": per_query_sorted(per_query, order=order, rankers=rankers),
    }


def per_query_sorted(rows: Sequence[dict[str, Any]], *, order: str, rankers: Sequence[str]) -> list[dict[str, Any]]:
    """The per-query rows in `order` (ORDERS or a ranker's name); ties and undefined figures go by query id."""
    if order == "query":
        return sorted(rows, key=lambda row: row["query_id"])
    if order == "weight":
        return sorted(rows, key=lambda row: (-row["weight"], row["query_id"]))
    if order == "spread":
        return sorted(rows, key=lambda row: (row["ndcg_spread"] is None, -(row["ndcg_spread"] or 0), row["query_id"]))
    if order in rankers:

        def worst_first(row: dict[str, Any]) -> tuple:
            ndcg = row["rankers"][order]["ndcg"]
            return (ndcg is None, ndcg or 0.0, row["query_id"])

        return sorted(rows, key=worst_first)
    allowed = ", ".join([*ORDERS, *rankers])
    raise ApplicationError(f"Unknown order {order!r}; use one of: {allowed}.", extra={"fields": {"order": [allowed]}})
