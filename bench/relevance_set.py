"""Issue 13's relevance set made from PriceRunner, shared by P9 (BM25's quality) and P10 (the learned ranker).

PriceRunner groups offers of one product in a cluster, under the product's name (the cluster label): each
label is a query. The offers of its cluster are Exact, those of other clusters of its category Substitutes,
the rest Irrelevant (ESCI's gains: 1, 0.1, 0.01 for a Complement, which this set has none of, 0).
"""

from __future__ import annotations

import csv
import math
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from bench import data

GAINS = {"E": 1.0, "S": 0.1, "C": 0.01, "I": 0.0}


def pricerunner_rows() -> list[dict[str, str]]:
    """PriceRunner's offers as rows by column name (the header's names stripped of their spaces)."""
    with data.PRICERUNNER.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = [name.strip() for name in next(reader)]
        return [dict(zip(header, row, strict=False)) for row in reader]


@dataclass
class RelevanceSet:
    """Offers (ids, titles, clusters, categories as arrays, in the file's order) and their queries: cluster
    label -> (cluster, category)."""

    ids: list[str]
    titles: list[str]
    clusters: np.ndarray
    categories: np.ndarray
    queries: dict[str, tuple[str, str]]
    members: Counter = field(init=False)
    in_category: Counter = field(init=False)

    def __post_init__(self) -> None:
        self.members = Counter(self.clusters.tolist())
        self.in_category = Counter(self.categories.tolist())

    @classmethod
    def from_pricerunner(cls) -> RelevanceSet:
        rows = pricerunner_rows()
        queries: dict[str, tuple[str, str]] = {}
        for row in rows:
            if row["Cluster Label"].strip():
                queries.setdefault(row["Cluster Label"], (row["Cluster ID"], row["Category Label"]))
        return cls(
            ids=[f"pr{row['Product ID']}" for row in rows],
            titles=[row["Product Title"] for row in rows],
            clusters=np.asarray([row["Cluster ID"] for row in rows]),
            categories=np.asarray([row["Category Label"] for row in rows]),
            queries=queries,
        )

    def grades(self, query: str, offers: np.ndarray) -> np.ndarray:
        """The grade of each offer (positions) for the query."""
        cluster, category = self.queries[query]
        found = np.asarray(offers, dtype=np.int64)
        same_category = self.categories[found] == category
        return np.where(self.clusters[found] == cluster, "E", np.where(same_category, "S", "I"))

    def exact(self, query: str) -> np.ndarray:
        """The positions of the query's Exact offers."""
        return np.flatnonzero(self.clusters == self.queries[query][0])

    def ndcg(self, query: str, order: np.ndarray, k: int = 10) -> float:
        """nDCG@k of offers in this order, against the ideal of every Exact offer, then Substitutes."""
        gains = np.asarray([GAINS[grade] for grade in self.grades(query, order[:k])])
        dcg = float((gains / np.log2(np.arange(2, len(gains) + 2))).sum())
        cluster, category = self.queries[query]
        exact, same_category = self.members[cluster], self.in_category[category] - self.members[cluster]
        ideal = [GAINS["E"]] * min(exact, k) + [GAINS["S"]] * max(0, min(same_category, k - exact))
        idcg = sum(gain / math.log2(rank + 2) for rank, gain in enumerate(ideal))
        return dcg / idcg if idcg else 0.0
