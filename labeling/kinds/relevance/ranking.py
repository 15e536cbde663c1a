"""How good is a ranker, by the judgments: nDCG@k, MRR and precision@k per query and overall, the share of each
top k nobody judged, and the queries where rankers disagree most (issue 13's Queries page). Pure.

A ranking is a query's products in the ranker's order; the judgments give some of them a gain (ESCI's 1, 0.1,
0.01, 0 by default, `ESCI_GAINS`). A product nobody judged counts as gain 0, as TREC counts it, and the share
of them in the top k says how far to trust the figure. The ideal ranking, nDCG's denominator, orders every
judged product of the query by gain, retrieved or not.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import asdict, dataclass

from labeling.kinds.relevance.grades import ESCI

# Amazon's Shopping Queries (ESCI) gains: Exact, Substitute, Complement, Irrelevant.
ESCI_GAINS = ESCI.gains


@dataclass(frozen=True)
class QueryFigures:
    ndcg: float | None  # None: no judged product of the query has a gain
    reciprocal_rank: float  # 1 / the rank of the first relevant product in the top k, 0 without one
    precision: float  # relevant products in the top k / k
    unjudged: float  # share of the top k without a judgment
    judged: int  # the query's judged products


def query_figures(
    ranking: Sequence[Hashable], gains: Mapping[Hashable, float], *, k: int = 10, relevant: float | None = None
) -> QueryFigures:
    """The figures of one query: `ranking` its products in the ranker's order, `gains` the judged ones' gains.
    `relevant`: the least gain MRR and precision count as relevant (by default the highest gain judged)."""
    if k < 1:
        raise ValueError(f"k must be positive, got {k}")
    top = list(ranking[:k])
    if len(set(top)) != len(top):
        raise ValueError("a ranking lists each product once")
    positive = sorted((gain for gain in gains.values() if gain > 0), reverse=True)
    threshold = positive[0] if relevant is None and positive else relevant
    ideal = _dcg(positive[:k])
    hits = [threshold is not None and gains.get(product, 0.0) >= threshold > 0 for product in top]
    first = next((rank for rank, hit in enumerate(hits, start=1) if hit), None)
    return QueryFigures(
        ndcg=_dcg([gains.get(product, 0.0) for product in top]) / ideal if ideal > 0 else None,
        reciprocal_rank=1 / first if first else 0.0,
        precision=sum(hits) / k,
        unjudged=sum(product not in gains for product in top) / k,
        judged=len(gains),
    )


def _dcg(gains: Sequence[float]) -> float:
    return sum(gain / math.log2(rank + 1) for rank, gain in enumerate(gains, start=1))


def ranker_report(
    runs: Mapping[str, Mapping[Hashable, Sequence[Hashable]]],
    judgments: Mapping[Hashable, Mapping[Hashable, float]],
    *,
    k: int = 10,
    weights: Mapping[Hashable, float] | None = None,
    relevant: float | None = None,
    disagreements: int = 20,
) -> dict:
    """Each ranker's figures over the judged queries: `runs` ranker -> query -> ranking, `judgments` query ->
    product -> gain, `weights` query -> weight (1 by default). Overall figures are weighted means over the
    queries with a defined nDCG; "disagreements" lists the queries whose nDCG differs most between rankers."""
    weights = weights or {}
    queries = [query for query in judgments if judgments[query]]
    report: dict = {"k": k, "queries": len(queries), "rankers": {}, "per_query": {}}
    per_query: dict[Hashable, dict[str, QueryFigures]] = {}
    for ranker, rankings in runs.items():
        figures = {query: query_figures(rankings.get(query, ()), judgments[query], k=k, relevant=relevant)
                   for query in queries}
        for query, figure in figures.items():
            per_query.setdefault(query, {})[ranker] = figure
        scored = [query for query, figure in figures.items() if figure.ndcg is not None]
        total = sum(weights.get(query, 1.0) for query in scored)

        def mean(name: str, scored: list = scored, total: float = total, figures: dict = figures) -> float | None:
            if not total:
                return None
            return sum(weights.get(q, 1.0) * getattr(figures[q], name) for q in scored) / total

        report["rankers"][ranker] = {
            "ndcg": mean("ndcg"), "mrr": mean("reciprocal_rank"), "precision": mean("precision"),
            "unjudged": mean("unjudged"), "queries": len(scored),
        }
    report["per_query"] = {query: {ranker: asdict(figure) for ranker, figure in by_ranker.items()}
                           for query, by_ranker in per_query.items()}
    spread = []
    for query, by_ranker in per_query.items():
        values = [figure.ndcg for figure in by_ranker.values() if figure.ndcg is not None]
        if len(values) >= 2:
            spread.append((max(values) - min(values), query))
    spread.sort(key=lambda item: (-item[0], str(item[1])))
    report["disagreements"] = [{"query": query, "ndcg_spread": value} for value, query in spread[:disagreements]]
    return report
