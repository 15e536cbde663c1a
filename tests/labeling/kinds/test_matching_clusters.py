"""Product clusters and contradictions from pair answers (labeling.kinds.matching.clusters, pure)."""

import random
from collections import deque

import numpy as np
import pytest
from scipy.cluster.hierarchy import fcluster, linkage

from labeling.kinds.matching.clusters import Edge, Scored, clusters_build, contradictions


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


def groups(clusters, *, predicted: bool = True) -> list[list[int]]:
    """The clusters as sorted lists of products, the largest first."""
    found: dict[int, list[int]] = {}
    for product, cluster in zip(clusters.products, clusters.combined if predicted else clusters.labeled, strict=True):
        found.setdefault(int(cluster), []).append(int(product))
    return sorted(found.values(), key=lambda group: (-len(group), group))


def scored(*pairs) -> Scored:
    return Scored.of(pairs)


def test_predicted_matches_are_kept_apart_from_labeled_ones():
    clusters = clusters_build(
        matches=[Edge(1, 2, 1)], scored=scored((2, 3, 0.9), (1, 3, 0.8), (7, 8, 0.7), (8, 9, 0.2)), threshold=0.5
    )
    # Labeled only: 3, 7, 8 and 9 are alone.
    assert [cluster_of(clusters, p) for p in (1, 2, 3, 7, 8, 9)] == [1, 1, 3, 7, 8, 9]
    # Labeled + predicted: 3 joins 1 and 2 (average 0.85), and 7 and 8 form their own cluster.
    assert [cluster_of(clusters, p, predicted=True) for p in (1, 2, 3, 7, 8, 9)] == [1, 1, 1, 7, 7, 9]
    joined = {int(p): clusters.joined(i, predicted=True) for i, p in enumerate(clusters.products)}
    assert joined == {1: "labeled", 2: "labeled", 3: "predicted", 7: "predicted", 8: "predicted", 9: None}
    assert clusters.summary(predicted=True) == {"clusters": 2, "clustered_products": 5, "largest": 3}
    assert (clusters.predicted_used, clusters.predicted_inside) == (3, 3)


def test_without_a_threshold_the_combined_clusters_are_the_labeled_ones():
    clusters = clusters_build(matches=[Edge(1, 2, 1)], scored=scored((2, 3, 0.9)))
    assert groups(clusters) == groups(clusters, predicted=False) == [[1, 2], [3]]


def test_a_labeled_no_match_beats_a_prediction_of_the_same_pair_in_either_order():
    clusters = clusters_build(
        matches=[], no_matches=[Edge(5, 9, 1)], scored=scored((9, 5, 0.97), (9, 11, 0.9)), threshold=0.5
    )
    assert groups(clusters) == [[9, 11], [5]]
    assert clusters.predicted_used == 1


def test_a_chain_of_predicted_matches_does_not_join_products_never_compared():
    # Connected components would make one cluster of 1 ... 6; each merge needs most pairs across to match.
    chain = scored((1, 2, 0.95), (2, 3, 0.9), (3, 4, 0.9), (4, 5, 0.9), (5, 6, 0.9))
    clusters = clusters_build(matches=[], scored=chain, threshold=0.5)
    assert groups(clusters) == [[1, 2], [3, 4], [5, 6]]
    assert (clusters.predicted_used, clusters.predicted_inside) == (5, 3)


def test_a_missing_pair_counts_as_a_probability_of_zero_and_a_low_one_as_itself():
    # 3 matches 2 at 0.9; with 1 at 0.3 the average to {1, 2} is 0.6, with no pair at all 0.45.
    low = clusters_build(matches=[], scored=scored((1, 2, 0.95), (2, 3, 0.9), (1, 3, 0.3)), threshold=0.5)
    assert groups(low) == [[1, 2, 3]]
    missing = clusters_build(matches=[], scored=scored((1, 2, 0.95), (2, 3, 0.9)), threshold=0.5)
    assert groups(missing) == [[1, 2], [3]]


def test_two_matching_groups_joined_by_one_false_prediction_stay_apart():
    # Two triangles of strong matches and one wrong pair 3 ~ 4 between them: one cluster for connected
    # components, two here (1 of the 9 pairs across matches). Were 3 ~ 4 the surest pair of all, it would merge
    # first and stay a cluster of its own: the closest pair always merges.
    pairs = [(1, 2, 0.9), (1, 3, 0.9), (2, 3, 0.95), (4, 5, 0.9), (4, 6, 0.9), (5, 6, 0.9), (3, 4, 0.85)]
    clusters = clusters_build(matches=[], scored=scored(*pairs), threshold=0.5)
    assert groups(clusters) == [[1, 2, 3], [4, 5, 6]]


def test_a_labeled_cluster_is_never_split_and_joins_as_a_whole():
    # 4 matches one product of the labeled 1 = 2 = 3 at 0.9 (average 0.3): alone; 5 matches all three: joins.
    clusters = clusters_build(
        matches=[Edge(1, 2, 1), Edge(2, 3, 2)],
        scored=scored((4, 1, 0.9), (5, 1, 0.8), (5, 2, 0.7), (5, 3, 0.6), (1, 3, 0.01)),
        threshold=0.5,
    )
    assert groups(clusters) == [[1, 2, 3, 5], [4]]
    assert groups(clusters, predicted=False) == [[1, 2, 3], [4], [5]]


def test_predictions_never_put_a_labeled_no_match_in_one_cluster():
    # 1, 2 and 3 all match at 0.9, but people said 1 != 3: 2 goes with 1 (ties to the smaller cluster), 3 alone,
    # and 4, matching 3 and labeled the same as 1, does not bring 3 in either.
    clusters = clusters_build(
        matches=[Edge(1, 4, 1)], no_matches=[Edge(3, 1, 2)],
        scored=scored((1, 2, 0.9), (2, 3, 0.9), (1, 3, 0.9), (3, 4, 0.95), (2, 4, 0.9)), threshold=0.5,
    )
    assert groups(clusters) == [[1, 2, 4], [3]]


def test_a_contradiction_inside_a_labeled_cluster_keeps_the_cluster():
    clusters = clusters_build(
        matches=[Edge(1, 2, 1), Edge(2, 3, 2)], no_matches=[Edge(1, 3, 3)], scored=scored((3, 4, 0.1)),
        threshold=0.5,
    )
    assert groups(clusters) == [[1, 2, 3], [4]]


def test_same_pairs_same_clusters_whatever_their_order_named_by_their_smallest_product():
    rng = random.Random(3)
    pairs = [(a, b, round(rng.random(), 4)) for a in range(100, 160) for b in range(a + 1, 160) if rng.random() < 0.1]
    first = clusters_build(matches=[Edge(100, 101, 1)], no_matches=[Edge(102, 103, 2)], scored=scored(*pairs),
                           threshold=0.5)
    rng.shuffle(pairs)
    again = clusters_build(matches=[Edge(101, 100, 1)], no_matches=[Edge(103, 102, 2)],
                           scored=scored(*[(b, a, p) for a, b, p in pairs]), threshold=0.5)
    assert groups(first) == groups(again)
    assert np.array_equal(first.combined, again.combined)
    for group in groups(first):
        assert {cluster_of(first, product, predicted=True) for product in group} == {min(group)}


def planted(seed: int, size: int = 36) -> list[tuple[int, int, float]]:
    """Random pairs over planted groups: most pairs inside a group score high, a few across score anything."""
    rng = random.Random(seed)
    group = {product: rng.randrange(size // 4) for product in range(1, size + 1)}
    pairs = []
    for a in range(1, size + 1):
        for b in range(a + 1, size + 1):
            if group[a] == group[b] and rng.random() < 0.8:
                pairs.append((a, b, round(rng.uniform(0.3, 1.0), 6)))
            elif rng.random() < 0.08:
                pairs.append((a, b, round(rng.uniform(0.0, 0.9), 6)))
    return pairs


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("threshold", [0.35, 0.5, 0.7])
def test_the_same_clusters_as_scipys_average_linkage_cut_at_one_minus_the_threshold(seed, threshold):
    pairs = planted(seed)
    products = sorted({p for a, b, _ in pairs for p in (a, b)})
    at = {product: i for i, product in enumerate(products)}
    distance = np.ones((len(products), len(products)))
    for a, b, p in pairs:
        distance[at[a], at[b]] = distance[at[b], at[a]] = 1 - p
    condensed = distance[np.triu_indices(len(products), 1)]
    flat = fcluster(linkage(condensed, method="average"), t=1 - threshold, criterion="distance")
    expected: dict[int, list[int]] = {}
    for product, cluster in zip(products, flat, strict=True):
        expected.setdefault(int(cluster), []).append(product)
    clusters = clusters_build(matches=[], scored=scored(*pairs), threshold=threshold)
    assert groups(clusters) == sorted(expected.values(), key=lambda group: (-len(group), group))
    assert len(groups(clusters)) < len(products)  # the case is not trivial


def reference_agglomeration(products, matches, no_matches, pairs, threshold):
    """One merge at a time, the closest pair of clusters first: the textbook algorithm, over dicts."""
    clusters = [set(group) for group in reference_components(products, matches)]
    probability = {tuple(sorted((a, b))): p for a, b, p in pairs}
    refused = {edge.key for edge in no_matches}

    def average(one, other):
        if any(tuple(sorted((a, b))) in refused for a in one for b in other):
            return -1.0
        return sum(probability.get(tuple(sorted((a, b))), 0.0) for a in one for b in other) / (len(one) * len(other))

    while True:
        best = max(
            (
                (average(one, other), x, y)
                for x, one in enumerate(clusters) for y, other in enumerate(clusters) if x < y
            ),
            default=(-1.0, 0, 0),
        )
        if best[0] < threshold:
            return clusters
        _, x, y = best
        clusters[x] |= clusters.pop(y)


@pytest.mark.parametrize("seed", range(5))
def test_with_labeled_answers_the_same_clusters_as_one_merge_at_a_time(seed):
    pairs = planted(seed + 10, size=30)
    rng = random.Random(seed)
    rng.shuffle(pairs)
    answered, pairs = pairs[:10], pairs[10:]
    matches = [Edge(a, b, task) for task, (a, b, p) in enumerate(answered) if p > 0.6]
    no_matches = [Edge(a, b, task) for task, (a, b, p) in enumerate(answered) if p <= 0.6]
    products = sorted({p for a, b, _ in pairs + answered for p in (a, b)})
    clusters = clusters_build(matches=matches, no_matches=no_matches, scored=scored(*pairs), threshold=0.5,
                              products=products)
    expected = reference_agglomeration(products, matches, no_matches, pairs, 0.5)
    assert groups(clusters) == sorted((sorted(group) for group in expected), key=lambda group: (-len(group), group))


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
