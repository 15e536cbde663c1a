"""Product clusters and contradictions from pair answers (labeling.kinds.matching.clusters, pure)."""

import random
from collections import deque

import pytest

from labeling.kinds.matching.clusters import Edge, clusters_build, contradictions


def cluster_of(clusters, product: int, *, predicted: bool = False) -> int:
    i = list(clusters.products).index(product)
    return int((clusters.combined if predicted else clusters.labeled)[i])


def size_of(clusters, product: int, *, predicted: bool = False) -> int:
    i = list(clusters.products).index(product)
    return int((clusters.combined_size if predicted else clusters.labeled_size)[i])


def test_a_chain_of_matches_is_one_cluster_named_by_its_smallest_product():
    clusters = clusters_build(matches=[Edge(30, 20, 1), Edge(20, 10, 2), Edge(50, 40, 3)], products=[60])
    assert list(clusters.products) == [10, 20, 30, 40, 50, 60]
    assert [cluster_of(clusters, p) for p in (10, 20, 30, 40, 50, 60)] == [10, 10, 10, 40, 40, 60]
    assert [size_of(clusters, p) for p in (10, 20, 30, 40, 50, 60)] == [3, 3, 3, 2, 2, 1]
    assert clusters.summary() == {"clusters": 2, "clustered_products": 5, "largest": 3}


def test_no_match_answers_bring_their_products_but_join_nothing():
    clusters = clusters_build(matches=[Edge(1, 2, 1)], no_matches=[Edge(2, 3, 2)])
    assert cluster_of(clusters, 3) == 3 and size_of(clusters, 3) == 1
    assert clusters.joined(list(clusters.products).index(3), predicted=False) is None


def test_predicted_matches_are_kept_apart_from_labeled_ones():
    clusters = clusters_build(matches=[Edge(1, 2, 1)], predicted=[Edge(2, 3, 2), Edge(7, 8, 3)])
    # Labeled only: 3, 7 and 8 are alone.
    assert [cluster_of(clusters, p) for p in (1, 2, 3, 7, 8)] == [1, 1, 3, 7, 8]
    # Labeled + predicted: 3 joins 1 and 2, and 7 and 8 form their own cluster.
    assert [cluster_of(clusters, p, predicted=True) for p in (1, 2, 3, 7, 8)] == [1, 1, 1, 7, 7]
    joined = {int(p): clusters.joined(i, predicted=True) for i, p in enumerate(clusters.products)}
    assert joined == {1: "labeled", 2: "labeled", 3: "predicted", 7: "predicted", 8: "predicted"}
    assert clusters.summary(predicted=True) == {"clusters": 2, "clustered_products": 5, "largest": 3}
    assert clusters.predicted_used == 2


def test_a_labeled_no_match_beats_a_prediction_of_the_same_pair_in_either_order():
    clusters = clusters_build(matches=[], no_matches=[Edge(5, 9, 1)], predicted=[Edge(9, 5, 2), Edge(9, 11, 3)])
    assert cluster_of(clusters, 5, predicted=True) == 5
    assert cluster_of(clusters, 9, predicted=True) == cluster_of(clusters, 11, predicted=True) == 9
    assert clusters.predicted_used == 1


def test_a_triangle_contradiction_names_every_task():
    found = contradictions(matches=[Edge(1, 2, 10), Edge(2, 3, 11)], no_matches=[Edge(1, 3, 12), Edge(3, 4, 13)])
    assert len(found) == 1
    (contradiction,) = found
    assert contradiction.no_match == Edge(1, 3, 12)
    assert [edge.task for edge in contradiction.path] == [10, 11]
    assert contradiction.products == (1, 2, 3)
    assert contradiction.tasks == (12, 10, 11)


def test_the_chain_is_the_shortest_and_runs_from_the_left_end_to_the_right():
    # 1-2-3-4-5 and a shortcut 1-6-5: the no-match 5 != 1 is joined by 5-6-1.
    matches = [Edge(1, 2, 1), Edge(2, 3, 2), Edge(3, 4, 3), Edge(4, 5, 4), Edge(1, 6, 5), Edge(6, 5, 6)]
    (contradiction,) = contradictions(matches=matches, no_matches=[Edge(5, 1, 9)])
    assert contradiction.products == (5, 6, 1)
    assert [edge.task for edge in contradiction.path] == [6, 5]


def test_no_contradiction_across_clusters_or_without_matches():
    assert contradictions(matches=[Edge(1, 2, 1)], no_matches=[Edge(2, 3, 2)]) == []
    assert contradictions(matches=[], no_matches=[Edge(1, 2, 1)]) == []


def test_several_contradictions_from_one_product_come_in_no_match_task_order():
    matches = [Edge(1, 2, 1), Edge(2, 3, 2), Edge(3, 4, 3)]
    found = contradictions(matches=matches, no_matches=[Edge(1, 4, 8), Edge(1, 3, 7), Edge(2, 4, 9)])
    assert [c.no_match.task for c in found] == [7, 8, 9]
    assert [c.products for c in found] == [(1, 2, 3), (1, 2, 3, 4), (2, 3, 4)]


def test_same_answers_same_result_whatever_their_order():
    matches = [Edge(1, 2, 1), Edge(1, 3, 2), Edge(2, 4, 3), Edge(3, 4, 4)]
    no_matches = [Edge(1, 4, 5)]
    first = contradictions(matches=matches, no_matches=no_matches)
    again = contradictions(matches=list(reversed(matches)), no_matches=no_matches)
    assert first == again
    assert first[0].products == (1, 2, 4)  # two shortest chains: the one through the smaller product


def reference_components(products, matches):
    """Union-find: an implementation independent of scipy's."""
    parent = {p: p for p in products}

    def root(p):
        while parent[p] != p:
            parent[p] = parent[parent[p]]
            p = parent[p]
        return p

    for edge in matches:
        a, b = root(edge.left), root(edge.right)
        parent[max(a, b)] = min(a, b)
    groups = {}
    for p in products:
        groups.setdefault(root(p), set()).add(p)
    return list(groups.values())


def distance(matches, start, goal):
    around = {}
    for edge in matches:
        around.setdefault(edge.left, set()).add(edge.right)
        around.setdefault(edge.right, set()).add(edge.left)
    seen, queue = {start: 0}, deque([start])
    while queue:
        at = queue.popleft()
        for other in around.get(at, ()):
            if other not in seen:
                seen[other] = seen[at] + 1
                queue.append(other)
    return seen.get(goal)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_components_and_chains_agree_with_a_reference(seed):
    rng = random.Random(seed)
    products = list(range(1, 200))
    pairs = {tuple(sorted(rng.sample(products, 2))) for _ in range(260)}
    edges = [Edge(a, b, task) for task, (a, b) in enumerate(sorted(pairs), start=1)]
    matches = [edge for edge in edges if rng.random() < 0.6]
    no_matches = [edge for edge in edges if edge not in matches]
    clusters = clusters_build(matches=matches, no_matches=no_matches, products=products)
    for component in reference_components(products, matches):
        for product in component:
            assert cluster_of(clusters, product) == min(component)
            assert size_of(clusters, product) == len(component)
    found = contradictions(matches=matches, no_matches=no_matches)
    expected = [edge for edge in no_matches if distance(matches, edge.left, edge.right) is not None]
    assert expected, "the random graph should hold some contradictions"
    assert sorted(c.no_match.task for c in found) == sorted(edge.task for edge in expected)
    match_keys = {edge.key: edge.task for edge in matches}
    for contradiction in found:
        assert len(contradiction.path) == distance(matches, contradiction.no_match.left, contradiction.no_match.right)
        assert contradiction.products[0] == contradiction.no_match.left
        assert contradiction.products[-1] == contradiction.no_match.right
        steps = zip(contradiction.products, contradiction.products[1:], strict=False)
        for (a, b), edge in zip(steps, contradiction.path, strict=True):
            assert match_keys[tuple(sorted((a, b)))] == edge.task
