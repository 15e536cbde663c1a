"""The next batch an annotator is served: uncertain, and not many near-copies of one uncertain item.

Margin order alone serves the batch's most uncertain items, which are often alike (pairs of the same two
models in different wordings): their labels teach the next model one thing many times. Clustering the most
uncertain items and taking one per cluster spreads the batch over the kinds of doubt the model has. On
PriceRunner's pairs (bench/results/matching_active.md) it cut the labels margin needs to reach random order's
F1 at 1,000 labels.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning

# The batch is drawn from this many times its size of the most uncertain items: wide enough to hold several
# kinds of doubt, narrow enough that each pick stays among the uncertain ones (4 measured better than 8).
POOL_FACTOR = 4


def candidate_count(batch: int) -> int:
    """How many of the most uncertain items ``diverse_batch`` chooses a batch of `batch` from."""
    return POOL_FACTOR * max(0, batch)


def diverse_batch(features: np.ndarray | sp.spmatrix, uncertainty: np.ndarray, *, size: int, seed: int) -> np.ndarray:
    """Indices (rows of `features`) of a batch of at most `size` items, one of each cluster, most uncertain first.

    `features` are the candidates' features (``candidate_count(size)`` rows or fewer, the most uncertain ones),
    dense or sparse, on comparable scales (similarities in [0, 1], TF-IDF rows), and `uncertainty` theirs. The
    candidates fall in `size` k-means clusters of the features as they are, and from each the member nearest its
    centre is taken. (Standardizing by the candidates' own spread measured worse: it magnifies columns that
    barely vary among them.) Clusters that came out empty or merged (identical candidates) leave room that the
    most uncertain candidates not yet taken fill. The order returned is by uncertainty, highest first.
    """
    uncertainty = np.asarray(uncertainty, dtype=np.float64)
    count = features.shape[0]
    if count != len(uncertainty):
        raise ValueError(f"{count} rows of features but {len(uncertainty)} uncertainties")
    size = min(size, count)
    if size <= 0:
        return np.zeros(0, dtype=np.int64)
    by_uncertainty = np.argsort(-uncertainty, kind="stable")
    if size == count or size == 1:
        return by_uncertainty[:size]
    points = sp.csr_matrix(features, dtype=np.float64) if sp.issparse(features) else np.asarray(features, np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # fewer distinct points than clusters: filled below
        clusters = KMeans(n_clusters=size, n_init=1, random_state=seed).fit(points)
    distances = clusters.transform(points)[np.arange(count), clusters.labels_]
    chosen: list[int] = []
    for cluster in np.unique(clusters.labels_):
        members = np.flatnonzero(clusters.labels_ == cluster)
        chosen.append(int(members[np.argmin(distances[members])]))
    taken = np.zeros(count, dtype=bool)
    taken[chosen] = True
    chosen.extend(int(i) for i in by_uncertainty if not taken[i])
    batch = np.asarray(chosen[:size], dtype=np.int64)
    return batch[np.argsort(-uncertainty[batch], kind="stable")]


class MostUncertain:
    """The `limit` most uncertain items met so far, page after page (ties: the first met), with what each page
    gave for them (arrays of one row per item, by name)."""

    def __init__(self, limit: int) -> None:
        self.limit = max(0, limit)
        self.uncertainty = np.zeros(0, dtype=np.float64)
        self.items: dict[str, np.ndarray] = {}

    def add(self, uncertainty: np.ndarray, **items: np.ndarray | Sequence) -> None:
        if not self.limit:
            return
        joined = np.concatenate([self.uncertainty, np.asarray(uncertainty, dtype=np.float64)])
        kept = np.sort(np.argsort(-joined, kind="stable")[: self.limit])
        self.uncertainty = joined[kept]
        for name, values in items.items():
            values = np.asarray(values, dtype=object if _strings(values) else None)
            mine = self.items.get(name)
            self.items[name] = (values if mine is None else np.concatenate([mine, values]))[kept]

    def __len__(self) -> int:
        return len(self.uncertainty)


def _strings(values: np.ndarray | Sequence) -> bool:
    # Texts stay Python strings: a fixed-width numpy string array would cut nothing but copy every text's padding.
    return not isinstance(values, np.ndarray) and len(values) > 0 and isinstance(values[0], str)
