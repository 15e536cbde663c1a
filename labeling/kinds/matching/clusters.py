"""Product clusters from pair answers, and the contradictions among them (pure: numpy and scipy, no Django).

Matches are edges between product ids; a cluster is a connected component of them. Labeled matches and
predicted ones (a matcher's probability above its threshold on a pair nobody resolved) are kept apart: each
product gets its cluster from labeled matches alone and from labeled + predicted, so a reader always knows
which clusters rest on people's answers. A predicted match never joins a pair that people labeled no match.

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


@dataclass(frozen=True, slots=True)
class Edge:
    """A pair answer (or prediction): two product ids and the task that holds the pair."""

    left: int
    right: int
    task: int

    @property
    def key(self) -> tuple[int, int]:
        return (self.left, self.right) if self.left < self.right else (self.right, self.left)


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
    predicted_used: int  # predicted edges that count (not overruled by a labeled no-match)

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


def _index(products: np.ndarray, ids: Sequence[int]) -> np.ndarray:
    return np.searchsorted(products, np.asarray(ids, dtype=np.int64))


def _components(products: np.ndarray, edges: Sequence[Edge]) -> tuple[np.ndarray, np.ndarray]:
    """Each product's cluster id (its component's smallest product id) and the component's size."""
    n = len(products)
    if n == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    rows = _index(products, [edge.left for edge in edges])
    cols = _index(products, [edge.right for edge in edges])
    graph = coo_matrix((np.ones(len(rows), dtype=np.int32), (rows, cols)), shape=(n, n)).tocsr()
    count, component = connected_components(graph, directed=False)
    smallest = np.full(count, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(smallest, component, products)
    sizes = np.bincount(component, minlength=count)
    return smallest[component], sizes[component]


def clusters_build(
    *, matches: Sequence[Edge], no_matches: Sequence[Edge] = (), predicted: Sequence[Edge] = (),
    products: Iterable[int] = (),
) -> Clusters:
    """The clusters of every product in `products` or in any edge given.

    `predicted` edges whose pair is a labeled no-match (in either order) are left out: people's answer wins.
    """
    refused = {edge.key for edge in no_matches}
    kept = [edge for edge in predicted if edge.key not in refused]
    ids = set(products)
    for edges in (matches, no_matches, kept):
        for edge in edges:
            ids.add(edge.left)
            ids.add(edge.right)
    everyone = np.array(sorted(ids), dtype=np.int64)
    labeled, labeled_size = _components(everyone, matches)
    combined, combined_size = _components(everyone, [*matches, *kept])
    return Clusters(everyone, labeled, labeled_size, combined, combined_size, predicted_used=len(kept))


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
