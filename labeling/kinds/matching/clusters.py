"""Product clusters from pair answers, and the contradictions among them (pure: numpy and scipy, no Django).

Two clusterings of the same products, kept apart so a reader always knows which clusters rest on people's
answers:

- Labeled clusters: the connected components of labeled matches. People's answers are transitive: A = B and
  B = C put A, B and C in one cluster.
- Combined clusters (labeled + predicted): average-linkage agglomeration (UPGMA) of the matcher's
  probabilities over the candidate pairs, cut at its threshold. It starts from the labeled clusters and,
  closest pair first, merges two clusters while the average of the match probability over every pair of
  products between them reaches the threshold, a pair blocking never proposed counting as 0. Without labeled
  answers these are the clusters of dedupe's hierarchical clustering with average linkage (or of scipy's
  `linkage(method="average")` on 1 - p, cut by `fcluster` at 1 - threshold), without their dense matrix per
  component. A chain of predicted matches A ~ B ~ C ~ ... no longer joins everything along it: a merge needs
  the pairs between the two sides to match on average. A labeled cluster is never split, and two clusters
  holding a labeled no-match between them are never merged (people's answers win).

A contradiction is a labeled no-match A != C whose ends are joined by labeled matches (A = B, B = C): one of
those answers is wrong. It comes with the shortest chain of matches joining A to C, so a reviewer sees every
task involved.

A cluster's id is the smallest product id in it: deterministic, and it stays as clusters grow unless a smaller
product joins.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

# Probabilities are summed as integers of this many units, so a sum does not depend on the pairs' order.
UNITS = 1_000_000


@dataclass(frozen=True, slots=True)
class Edge:
    """A pair answer: two product ids and the task that holds the pair."""

    left: int
    right: int
    task: int

    @property
    def key(self) -> tuple[int, int]:
        return (self.left, self.right) if self.left < self.right else (self.right, self.left)


@dataclass(frozen=True)
class Scored:
    """Pairs nobody resolved with the matcher's probability that they match, as parallel arrays (millions of
    pairs fit: 20 bytes each). One entry per pair: a pair given twice would weigh twice."""

    left: np.ndarray
    right: np.ndarray
    probability: np.ndarray

    @classmethod
    def of(cls, pairs: Iterable[tuple[int, int, float]]) -> Scored:
        rows = list(pairs)
        return cls(
            np.array([row[0] for row in rows], dtype=np.int64),
            np.array([row[1] for row in rows], dtype=np.int64),
            np.array([row[2] for row in rows], dtype=np.float32),
        )

    def __len__(self) -> int:
        return len(self.left)


# How a product joined its cluster: by a labeled match, or by predicted ones only (None: it is alone).
LABELED = "labeled"
PREDICTED = "predicted"


@dataclass(frozen=True)
class Clusters:
    """Every product's cluster id, from labeled matches only and from labeled + predicted ones.

    `products` is sorted; `labeled[i]`, `combined[i]` are the cluster ids of `products[i]`, `labeled_size[i]`
    and `combined_size[i]` the sizes of those clusters; `joined[i]` is "labeled" when the product has a
    labeled match in its cluster, "predicted" when only predicted matches put it in a larger cluster, else None.
    """

    products: np.ndarray
    labeled: np.ndarray
    labeled_size: np.ndarray
    combined: np.ndarray
    combined_size: np.ndarray
    # Predicted matches (scored pairs at or above the threshold, not overruled by a labeled no-match), and how
    # many of them ended inside one combined cluster: the others were outvoted by the pairs around them.
    predicted_used: int = 0
    predicted_inside: int = 0

    def joined(self, i: int, *, predicted: bool) -> str | None:
        if self.labeled_size[i] > 1:
            return LABELED
        if predicted and self.combined_size[i] > 1:
            return PREDICTED
        return None

    def summary(self, *, predicted: bool = False) -> dict[str, int]:
        """Clusters of two products or more, and the largest one's size."""
        ids, sizes = (self.combined, self.combined_size) if predicted else (self.labeled, self.labeled_size)
        multi = sizes > 1
        return {
            "clusters": len(np.unique(ids[multi])),
            "clustered_products": int(multi.sum()),
            "largest": int(sizes.max()) if len(sizes) else 0,
        }


@dataclass(frozen=True)
class Contradiction:
    """A labeled no-match whose two products are joined by a chain of labeled matches.

    `path` holds the match edges in order from `no_match.left` to `no_match.right`; `products` the chain's
    product ids, both ends included (len(path) + 1 of them).
    """

    no_match: Edge
    path: tuple[Edge, ...]
    products: tuple[int, ...]

    @property
    def tasks(self) -> tuple[int, ...]:
        """Every task involved: the no-match first, then the matches along the chain."""
        return (self.no_match.task, *(edge.task for edge in self.path))


def _index(products: np.ndarray, ids: Sequence[int] | np.ndarray) -> np.ndarray:
    return np.searchsorted(products, np.asarray(ids, dtype=np.int64))


def _numbered(component: np.ndarray, count: int) -> np.ndarray:
    """Components renumbered in the order of their smallest member, whatever order they were found in."""
    first = np.full(count, len(component), dtype=np.int64)
    np.minimum.at(first, component, np.arange(len(component)))
    number = np.empty(count, dtype=np.int32 if count < 2**31 else np.int64)
    number[np.argsort(first)] = np.arange(count)
    return number[component]


def _smallest(products: np.ndarray, component: np.ndarray, count: int) -> np.ndarray:
    smallest = np.full(count, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(smallest, component, products)
    return smallest


def _named(products: np.ndarray, component: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Each product's cluster id (its component's smallest product id) and the component's size."""
    return _smallest(products, component, count)[component], np.bincount(component, minlength=count)[component]


def _components(n: int, rows: np.ndarray, cols: np.ndarray) -> tuple[int, np.ndarray]:
    graph = coo_matrix((np.ones(len(rows), dtype=np.int32), (rows, cols)), shape=(n, n)).tocsr()
    return connected_components(graph, directed=False)


def clusters_build(
    *, matches: Sequence[Edge], no_matches: Sequence[Edge] = (), scored: Scored | None = None,
    threshold: float | None = None, products: Iterable[int] = (),
) -> Clusters:
    """The clusters of every product in `products` or in any pair given: the labeled ones, and the combined
    ones (the labeled clusters merged by average linkage of the `scored` pairs' probabilities, cut at
    `threshold`; see the module's docstring).

    Without `scored` pairs or without a `threshold` the combined clusters are the labeled ones. A scored pair
    that is also a labeled answer (in either order) is left out: people's answer wins.

    Arrays throughout: 9M scored pairs over 1M products take about 20 s and 1 GB at their peak (bench P8).
    """
    scored = scored if scored is not None else Scored.of([])
    ids = set(products)
    for edges in (matches, no_matches):
        for edge in edges:
            ids.add(edge.left)
            ids.add(edge.right)
    everyone = _distinct(np.concatenate([np.fromiter(ids, dtype=np.int64, count=len(ids)),
                                         _distinct(scored.left), _distinct(scored.right)]))
    n = len(everyone)
    if n == 0:
        empty = np.empty(0, dtype=np.int64)
        return Clusters(everyone, empty, empty, empty, empty)
    match_rows = _index(everyone, [edge.left for edge in matches])
    match_cols = _index(everyone, [edge.right for edge in matches])
    count, atom = _components(n, match_rows, match_cols)
    atom = _numbered(atom, count)
    labeled, labeled_size = _named(everyone, atom, count)
    if not len(scored) or threshold is None:
        return Clusters(everyone, labeled, labeled_size, labeled, labeled_size)

    no_rows = _index(everyone, [edge.left for edge in no_matches])
    no_cols = _index(everyone, [edge.right for edge in no_matches])
    left, right = _index(everyone, scored.left), _index(everyone, scored.right)
    open_ = ~_among(_pair_keys(n, left, right), np.concatenate([
        _pair_keys(n, match_rows, match_cols), _pair_keys(n, no_rows, no_cols)
    ])) & (left != right)
    left, right = atom[left], atom[right]  # products to labeled clusters, from here on
    units = np.clip(scored.probability, 0.0, 1.0).astype(np.float64)
    units *= UNITS
    units = np.rint(units, out=units).astype(np.int64)
    bar = round(threshold * UNITS)
    above = open_ & (units >= bar)
    above_left, above_right = left[above], right[above]
    # Two clusters can only merge through a pair at or above the threshold (an average is never above all its
    # parts): pairs across the components of those pairs never count, and most pairs go before the agglomeration.
    parts, part = _components(count, above_left, above_right)
    wide = np.bincount(part, minlength=parts) > 1
    within = open_ & (part[left] == part[right]) & wide[part[left]]
    left, right, units = left[within], right[within], units[within]
    no_left, no_right = atom[no_rows], atom[no_cols]
    no_within = (part[no_left] == part[no_right]) & wide[part[no_left]]
    # Only the labeled clusters of those components take part, numbered in the same order.
    taking = _distinct(np.concatenate([left, right]))
    left = _index(taking, left)
    right = _index(taking, right)
    merged = np.arange(count)
    merged[taking] = taking[average_linkage(
        size=np.bincount(atom, minlength=count)[taking], left=left, right=right, units=units,
        no_left=_index(taking, no_left[no_within]), no_right=_index(taking, no_right[no_within]), bar=bar,
    )]
    combined, combined_size = _named(everyone, merged[atom], count)
    return Clusters(
        everyone, labeled, labeled_size, combined, combined_size,
        predicted_used=len(above_left), predicted_inside=int((merged[above_left] == merged[above_right]).sum()),
    )


def _distinct(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values (np.unique's hash table is several times slower on millions of ids)."""
    ordered = np.sort(np.asarray(values, dtype=np.int64))
    if len(ordered) < 2:
        return ordered
    fresh = np.ones(len(ordered), dtype=bool)
    fresh[1:] = ordered[1:] != ordered[:-1]
    return ordered[fresh]


def _among(keys: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Which `keys` are in the (small) second array: a binary search each, no sort of the keys."""
    known = _distinct(others)
    if not len(known):
        return np.zeros(len(keys), dtype=bool)
    at = np.minimum(np.searchsorted(known, keys), len(known) - 1)
    return known[at] == keys


def _pair_keys(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """One int64 per unordered pair of indices below n."""
    a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
    return np.minimum(a, b) * n + np.maximum(a, b)


def average_linkage(
    *, size: np.ndarray, left: np.ndarray, right: np.ndarray, units: np.ndarray, no_left: np.ndarray,
    no_right: np.ndarray, bar: int,
) -> np.ndarray:
    """Average-linkage agglomeration of `len(size)` starting clusters (of `size` products each, numbered in the
    order of their smallest product): the cluster each one ends in, as the smallest number among its parts.

    The product pairs `left[k]`, `right[k]` (as starting clusters) carry `units`, a probability times UNITS; the
    average linkage of two clusters is the units summed over the pairs between them, over the product of their
    sizes. Two clusters merge while their average reaches `bar`, unless a no-match pair (`no_left`,
    `no_right`) lies between them.

    Merges go by rounds, with no n x n matrix and no loop over pairs: every cluster picks its best neighbour
    (highest average, ties to the smaller number), and pairs that picked each other merge. Average linkage is
    reducible (a merged cluster is never closer to a third than the closer of its two parts was), so these are
    the merges one-at-a-time agglomeration (the closest pair first, as dedupe's or scipy's) makes when no two
    averages tie; and a cluster with no neighbour at the bar never reaches it again, so it leaves for good.
    """
    count = len(size)
    size = size.astype(np.int64)
    final = np.arange(count)  # each starting cluster's result, written once it is out of play
    playing, at = np.arange(count), np.arange(count)  # starting clusters in play, and their cluster now
    first = np.arange(count)  # each cluster's smallest starting cluster (its number keeps their order)
    index = np.int32 if count < 2**31 else np.int64
    i, j, weight, refused = _gathered(
        count,
        np.concatenate([left, no_left]).astype(index),
        np.concatenate([right, no_right]).astype(index),
        np.concatenate([units, np.zeros(len(no_left), dtype=np.int64)]),
        np.concatenate([np.zeros(len(left), dtype=bool), np.ones(len(no_left), dtype=bool)]),
    )
    while len(i):
        ok = ~refused & (weight >= bar * size[i] * size[j])
        if not ok.any():
            break
        # Each cluster's best neighbour: its highest average, then the smallest number.
        rows, cols = np.concatenate([i[ok], j[ok]]), np.concatenate([j[ok], i[ok]])
        average = np.tile(weight[ok] / (size[i[ok]] * size[j[ok]]), 2)
        top = np.full(count, -1.0)
        np.maximum.at(top, rows, average)
        tied = average == top[rows]
        best = np.full(count, count, dtype=np.int64)
        np.minimum.at(best, rows[tied], cols[tied])
        picked = np.flatnonzero(best < count)
        keep = picked[(best[best[picked]] == picked) & (picked < best[picked])]
        gone = best[keep]
        size[keep] += size[gone]
        target = np.arange(count)
        target[gone] = keep
        at = target[at]
        # A cluster with no neighbour at the bar stays as it is: its averages only fall as its neighbours grow.
        live = (best[i] < count) & (best[j] < count)
        i, j, weight, refused = i[live], j[live], weight[live], refused[live]
        # Only the pairs of merged clusters change, and only they can now meet another entry of the same pair.
        merged = np.zeros(count, dtype=bool)
        merged[keep] = True
        merged[gone] = True
        moved = merged[i] | merged[j]
        again = _gathered(count, target[i[moved]].astype(index), target[j[moved]].astype(index), weight[moved],
                          refused[moved])
        stay = ~moved
        i, j, weight, refused = (
            np.concatenate([part[stay], new]) for part, new in zip((i, j, weight, refused), again, strict=True)
        )
        # Renumber the clusters still in play once they are fewer than half: a round's work follows them, not
        # every cluster there was (a long chain of falling probabilities merges one pair a round).
        playing_now = np.zeros(count, dtype=bool)
        playing_now[i] = True
        playing_now[j] = True
        if playing_now.sum() * 2 < count:
            out = ~playing_now[at]
            final[playing[out]] = first[at[out]]
            playing, at = playing[~out], at[~out]
            rank = np.cumsum(playing_now) - 1
            i, j, at = rank[i].astype(index), rank[j].astype(index), rank[at]
            size, first = size[playing_now], first[playing_now]
            count = len(size)
    final[playing] = first[at]
    return final


def _gathered(
    count: int, i: np.ndarray, j: np.ndarray, weight: np.ndarray, refused: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One entry per pair of distinct clusters (i < j): the weights summed, refused if any part is."""
    low, high = np.minimum(i, j), np.maximum(i, j)
    apart = low != high
    low, high, weight, refused = low[apart], high[apart], weight[apart], refused[apart]
    order = np.argsort(low.astype(np.int64) * count + high, kind="stable")
    low, high, weight, refused = low[order], high[order], weight[order], refused[order]
    first = np.ones(len(low), dtype=bool)
    first[1:] = (low[1:] != low[:-1]) | (high[1:] != high[:-1])
    if first.all():
        return low, high, weight, refused
    starts = np.flatnonzero(first)
    return low[starts], high[starts], np.add.reduceat(weight, starts), np.logical_or.reduceat(refused, starts)


def contradictions(*, matches: Sequence[Edge], no_matches: Sequence[Edge]) -> list[Contradiction]:
    """Every labeled no-match inside a labeled match cluster, with the shortest chain of matches joining its
    ends (breadth-first; ties go to the smaller product id, so the same answers give the same chains).

    In order of the no-match's task id.
    """
    if not matches or not no_matches:
        return []
    clusters = clusters_build(matches=matches, no_matches=no_matches)
    position = {int(product): i for i, product in enumerate(clusters.products)}
    inside = [
        edge for edge in no_matches
        if clusters.labeled[position[edge.left]] == clusters.labeled[position[edge.right]]
    ]
    if not inside:
        return []
    neighbours: dict[int, list[tuple[int, Edge]]] = {}
    for edge in matches:
        neighbours.setdefault(edge.left, []).append((edge.right, edge))
        neighbours.setdefault(edge.right, []).append((edge.left, edge))
    for around in neighbours.values():
        around.sort(key=lambda pair: (pair[0], pair[1].task))
    # One search per starting product serves every no-match that starts there.
    by_start: dict[int, list[Edge]] = {}
    for edge in inside:
        by_start.setdefault(edge.left, []).append(edge)
    found: list[Contradiction] = []
    for start, edges in by_start.items():
        came_from = _search(start, neighbours, {edge.right for edge in edges})
        for edge in edges:
            path: list[Edge] = []
            chain = [edge.right]
            at = edge.right
            while at != start:
                before, via = came_from[at]
                path.append(via)
                chain.append(before)
                at = before
            found.append(Contradiction(no_match=edge, path=tuple(reversed(path)), products=tuple(reversed(chain))))
    found.sort(key=lambda contradiction: contradiction.no_match.task)
    return found


def _search(start: int, neighbours: dict[int, list[tuple[int, Edge]]], targets: set[int]) -> dict[int, tuple]:
    """Breadth-first from `start` until every target is reached: each reached product's predecessor and edge."""
    came_from: dict[int, tuple[int, Edge]] = {}
    seen = {start}
    queue = deque([start])
    left = set(targets)
    while queue and left:
        at = queue.popleft()
        for other, edge in neighbours.get(at, ()):
            if other not in seen:
                seen.add(other)
                came_from[other] = (at, edge)
                left.discard(other)
                queue.append(other)
    return came_from
