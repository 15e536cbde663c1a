"""Agreement figures checked against the reference libraries on seeded random data."""

import itertools
from collections import Counter, defaultdict

import krippendorff
import numpy as np
import pytest
from scipy.spatial.distance import jensenshannon
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import aggregate_raters
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss_kappa
from statsmodels.stats.proportion import proportion_confint

from labeling.quality.agreement import (
    cohen_kappa_pairs,
    fleiss_kappa,
    krippendorff_alpha,
    label_distribution_distance,
    level_agreement,
    per_label_agreement,
    percent_agreement,
    wilson_interval,
)

EXACT = 1e-9
RATERS = (3, 7, 11, 42, 99)
LABELS = (10, 20, 30, 40, 50, 60)
SEEDS = (0, 1, 2, 3)


def simulate(seed: int, items: int = 200, answer_rate: float = 0.7) -> list[tuple[int, int, int]]:
    """Raters answer an item with some probability and copy a latent true label with their own accuracy."""
    rng = np.random.default_rng(seed)
    accuracy = dict(zip(RATERS, (0.95, 0.85, 0.7, 0.55, 0.3), strict=True))
    truth = rng.choice(LABELS, size=items, p=(0.35, 0.25, 0.15, 0.1, 0.1, 0.05))
    ratings = []
    for item in range(items):
        for rater in RATERS:
            if rng.random() > answer_rate:
                continue
            label = truth[item] if rng.random() < accuracy[rater] else rng.choice(LABELS)
            ratings.append((1000 + item, rater, int(label)))
    return ratings


def by_item(ratings):
    items = defaultdict(dict)
    for item, rater, label in ratings:
        items[item][rater] = label
    return items


def fleiss_subset(ratings):
    """The items fleiss_kappa should use, found the slow, obvious way."""
    items = {item: raters for item, raters in by_item(ratings).items() if len(raters) >= 2}
    sizes = Counter(len(raters) for raters in items.values())
    size = max(sizes, key=lambda s: (sizes[s], s))
    return size, [sorted(raters.values()) for raters in items.values() if len(raters) == size]


def reliability_matrix(ratings):
    items = sorted({item for item, _, _ in ratings})
    raters = sorted({rater for _, rater, _ in ratings})
    data = np.full((len(raters), len(items)), np.nan)
    for item, rater, label in ratings:
        data[raters.index(rater), items.index(item)] = label
    return data


@pytest.mark.parametrize("seed", SEEDS)
def test_percent_agreement_matches_pairwise_count(seed):
    ratings = simulate(seed)
    shares = []
    for raters in by_item(ratings).values():
        if len(raters) >= 2:
            pairs = list(itertools.combinations(raters.values(), 2))
            shares.append(sum(a == b for a, b in pairs) / len(pairs))
    assert percent_agreement(ratings) == pytest.approx(np.mean(shares), abs=EXACT)


@pytest.mark.parametrize("seed", SEEDS)
def test_cohen_kappa_pairs_match_sklearn(seed):
    ratings = simulate(seed, answer_rate=0.5)
    items = by_item(ratings)
    expected = []
    for a, b in itertools.combinations(RATERS, 2):
        shared = [labels for labels in items.values() if a in labels and b in labels]
        if len(shared) >= 30:
            y_a, y_b = [labels[a] for labels in shared], [labels[b] for labels in shared]
            expected.append((a, b, len(shared), np.mean(np.equal(y_a, y_b)), cohen_kappa_score(y_a, y_b)))
    result = cohen_kappa_pairs(ratings, min_items=30)
    assert [(r["rater_a"], r["rater_b"], r["items"]) for r in result] == [e[:3] for e in expected]
    for row, (*_, agreement, kappa) in zip(result, expected, strict=True):
        assert row["agreement"] == pytest.approx(agreement, abs=EXACT)
        assert row["kappa"] == pytest.approx(kappa, abs=EXACT)


def test_cohen_kappa_pairs_skip_pairs_below_min_items():
    ratings = [(item, 1, 0) for item in range(5)] + [(item, 2, item % 2) for item in range(5)]
    assert cohen_kappa_pairs(ratings, min_items=6) == []
    assert [row["items"] for row in cohen_kappa_pairs(ratings, min_items=5)] == [5]


@pytest.mark.parametrize("seed", SEEDS)
def test_fleiss_kappa_matches_statsmodels_on_most_common_rater_count(seed):
    ratings = simulate(seed)
    size, subset = fleiss_subset(ratings)
    table, _ = aggregate_raters(np.array(subset))
    assert fleiss_kappa(ratings) == {
        "kappa": pytest.approx(sm_fleiss_kappa(table, method="fleiss"), abs=EXACT),
        "items": len(subset),
        "raters_per_item": size,
    }


def test_fleiss_kappa_on_complete_data_uses_every_item():
    ratings = simulate(5, answer_rate=1.0)
    table, _ = aggregate_raters(np.array([sorted(r.values()) for r in by_item(ratings).values()]))
    result = fleiss_kappa(ratings)
    assert (result["items"], result["raters_per_item"]) == (200, 5)
    assert result["kappa"] == pytest.approx(sm_fleiss_kappa(table, method="fleiss"), abs=EXACT)


def test_fleiss_kappa_breaks_a_rater_count_tie_toward_more_raters():
    ratings = [(1, 1, 0), (1, 2, 0), (2, 1, 0), (2, 2, 1), (2, 3, 1), (3, 1, 1), (3, 2, 1), (3, 3, 1)]
    assert fleiss_kappa(ratings)["raters_per_item"] == 3


@pytest.mark.parametrize("seed", SEEDS)
def test_krippendorff_alpha_matches_krippendorff_package(seed):
    ratings = simulate(seed, answer_rate=0.45)
    expected = krippendorff.alpha(reliability_data=reliability_matrix(ratings), level_of_measurement="nominal")
    assert krippendorff_alpha(ratings) == pytest.approx(expected, abs=EXACT)


@pytest.mark.parametrize("seed", SEEDS)
def test_per_label_agreement_matches_pair_counts_and_fleiss_formula(seed):
    ratings = simulate(seed)
    result = per_label_agreement(ratings)
    size, subset = fleiss_subset(ratings)
    table, categories = aggregate_raters(np.array(subset))
    total = table.sum()
    share = table.sum(axis=0) / total
    for label in LABELS:
        agreeing = involving = 0
        for raters in by_item(ratings).values():
            for a, b in itertools.combinations(raters.values(), 2):
                agreeing += 2 * (a == b == label)
                involving += (a == label) + (b == label)
        row = result[label]
        assert row["ratings"] == sum(1 for _, _, lab in ratings if lab == label)
        assert row["specific_agreement"] == pytest.approx(agreeing / involving, abs=EXACT)
        # Fleiss (1971), kappa_j = 1 - sum_i n_ij (n - n_ij) / (N n (n - 1) p_j q_j).
        j = list(categories).index(label)
        column = table[:, j]
        p = share[j]
        kappa = 1 - (column * (size - column)).sum() / (len(subset) * size * (size - 1) * p * (1 - p))
        assert row["kappa"] == pytest.approx(kappa, abs=EXACT)
    # The overall kappa is the p_j q_j weighted mean of the per-label ones.
    weights = share * (1 - share)
    per_label = np.array([result[c]["kappa"] for c in categories])
    assert fleiss_kappa(ratings)["kappa"] == pytest.approx((weights * per_label).sum() / weights.sum(), abs=EXACT)


@pytest.mark.parametrize(("successes", "trials"), [(0, 1), (1, 1), (0, 10), (10, 10), (3, 10), (57, 200), (999, 1000)])
def test_wilson_interval_matches_statsmodels(successes, trials):
    expected = proportion_confint(successes, trials, alpha=0.05, method="wilson")
    assert wilson_interval(successes, trials) == pytest.approx(expected, abs=EXACT)


def test_wilson_interval_is_none_without_trials():
    assert wilson_interval(0, 0) is None


@pytest.mark.parametrize("seed", SEEDS)
def test_label_distribution_distance_matches_scipy(seed):
    rng = np.random.default_rng(seed)
    rater = {label: int(rng.integers(0, 50)) for label in LABELS[:4]}
    team = {label: int(rng.integers(1, 500)) for label in LABELS}
    keys = sorted(set(rater) | set(team))
    expected = jensenshannon([rater.get(k, 0) for k in keys], [team.get(k, 0) for k in keys], base=2)
    assert label_distribution_distance(rater, team) == pytest.approx(expected, abs=EXACT)


def test_label_distribution_distance_bounds():
    assert label_distribution_distance({1: 5, 2: 5}, {1: 50, 2: 50}) == pytest.approx(0.0, abs=EXACT)
    assert label_distribution_distance({1: 5}, {2: 7}) == pytest.approx(1.0, abs=EXACT)
    assert label_distribution_distance({}, {1: 3}) is None


def test_perfect_agreement_scores_one():
    ratings = [(item, rater, item % 3) for item in range(30) for rater in (1, 2, 3)]
    assert percent_agreement(ratings) == 1.0
    assert fleiss_kappa(ratings)["kappa"] == pytest.approx(1.0)
    assert krippendorff_alpha(ratings) == pytest.approx(1.0)
    assert all(row["kappa"] == pytest.approx(1.0) for row in cohen_kappa_pairs(ratings))
    assert all(row["specific_agreement"] == 1.0 for row in per_label_agreement(ratings).values())


def test_one_label_for_everything_leaves_kappa_undefined():
    ratings = [(item, rater, 7) for item in range(20) for rater in (1, 2)]
    assert percent_agreement(ratings) == 1.0
    assert fleiss_kappa(ratings) == {"kappa": None, "items": 20, "raters_per_item": 2}
    assert krippendorff_alpha(ratings) is None
    assert cohen_kappa_pairs(ratings)[0]["kappa"] is None
    assert per_label_agreement(ratings)[7]["kappa"] is None


def test_two_raters_who_always_disagree():
    ratings = [(item, 1, item % 2) for item in range(20)] + [(item, 2, 1 - item % 2) for item in range(20)]
    assert percent_agreement(ratings) == 0.0
    [pair] = cohen_kappa_pairs(ratings)
    assert pair["agreement"] == 0.0
    assert pair["kappa"] == pytest.approx(-1.0)
    # Alpha corrects the expected disagreement for sampling without replacement: 1 - (n - 1) / (n / 2).
    assert krippendorff_alpha(ratings) == pytest.approx(1 - 39 / 20)


def test_items_rated_once_contribute_nothing():
    ratings = [(1, 1, 0), (1, 2, 0), (2, 1, 1), (2, 2, 0)]
    lonely = [*ratings, (3, 1, 5), (4, 2, 6)]
    assert percent_agreement(lonely) == percent_agreement(ratings) == 0.5
    assert krippendorff_alpha(lonely) == krippendorff_alpha(ratings)
    assert fleiss_kappa(lonely) == fleiss_kappa(ratings)


def test_no_item_with_two_ratings_is_undefined():
    ratings = [(1, 1, 0), (2, 2, 1)]
    assert percent_agreement(ratings) is None
    assert krippendorff_alpha(ratings) is None
    assert fleiss_kappa(ratings) == {"kappa": None, "items": 0, "raters_per_item": None}
    assert per_label_agreement(ratings)[0] == {"ratings": 1, "specific_agreement": None, "kappa": None}
    assert percent_agreement([]) is None
    assert cohen_kappa_pairs([]) == []
    assert level_agreement([], {}) == []


@pytest.mark.parametrize(
    "function", [percent_agreement, cohen_kappa_pairs, fleiss_kappa, krippendorff_alpha, per_label_agreement]
)
def test_duplicate_rating_is_rejected(function):
    with pytest.raises(ValueError, match="repeat"):
        function([(1, 1, 0), (1, 2, 0), (1, 1, 1)])


def test_level_agreement_is_higher_on_the_parent_than_on_the_leaf():
    ancestors = {1: [1], 2: [2], 11: [1, 11], 12: [1, 12], 21: [2, 21], 22: [2, 22]}
    rng = np.random.default_rng(7)
    ratings = []
    for item in range(100):
        parent = int(rng.choice([1, 2]))
        for rater in (1, 2, 3):
            ratings.append((item, rater, parent * 10 + int(rng.choice([1, 2]))))
    # A rater who stopped at the parent counts at depth 1 and is dropped at depth 2.
    ratings.append((100, 1, 1))
    ratings.append((100, 2, 11))
    depth_1, depth_2 = level_agreement(ratings, ancestors)
    assert (depth_1["depth"], depth_1["ratings"], depth_2["depth"], depth_2["ratings"]) == (1, 302, 2, 301)
    assert depth_1["percent_agreement"] == 1.0
    assert depth_1["alpha"] == pytest.approx(1.0)
    assert depth_2["percent_agreement"] < depth_1["percent_agreement"]
    assert depth_2["alpha"] < depth_1["alpha"]
    leaves = [r for r in ratings if r[2] >= 10]
    assert depth_2["percent_agreement"] == pytest.approx(percent_agreement(leaves), abs=EXACT)
    assert depth_2["alpha"] == pytest.approx(krippendorff_alpha(leaves), abs=EXACT)


def test_level_agreement_rejects_a_label_without_a_path():
    with pytest.raises(ValueError, match="no ancestor path"):
        level_agreement([(1, 1, 5), (1, 2, 6)], {5: [5]})


def test_sparse_and_negative_ids_give_the_same_figures():
    ratings = simulate(1)
    # Huge gaps between ids take the sorting path instead of the bincount one; order is kept.
    far = [(item * 10**12, rater * 10**9, label - 10**15) for item, rater, label in ratings]
    assert percent_agreement(far) == pytest.approx(percent_agreement(ratings), abs=EXACT)
    assert krippendorff_alpha(far) == pytest.approx(krippendorff_alpha(ratings), abs=EXACT)
    assert fleiss_kappa(far) == fleiss_kappa(ratings)
    assert [row["kappa"] for row in cohen_kappa_pairs(far)] == [row["kappa"] for row in cohen_kappa_pairs(ratings)]
    assert [row["rater_a"] for row in cohen_kappa_pairs(far)] == [
        row["rater_a"] * 10**9 for row in cohen_kappa_pairs(ratings)
    ]


def test_results_are_plain_python_values():
    ratings = simulate(0)
    values = [
        percent_agreement(ratings),
        krippendorff_alpha(ratings),
        *fleiss_kappa(ratings).values(),
        *(v for row in cohen_kappa_pairs(ratings) for v in row.values()),
        *(v for row in per_label_agreement(ratings).values() for v in row.values()),
        *wilson_interval(3, 10),
        label_distribution_distance({1: 2}, {1: 1, 2: 1}),
    ]
    assert {type(v) for v in values} <= {int, float, type(None)}
    assert all(type(k) is int for k in per_label_agreement(ratings))


def test_a_million_ratings_finish():
    rng = np.random.default_rng(11)
    items = 260_000
    # Four of eight raters per item, then 3% of ratings dropped so rater counts vary as in a real queue.
    item = np.repeat(np.arange(items), 4)
    rater = np.argsort(rng.random((items, 8)), axis=1)[:, :4].ravel()
    truth = np.repeat(rng.integers(0, 40, size=items), 4)
    label = np.where(rng.random(item.size) < 0.7, truth, rng.integers(0, 40, size=item.size))
    kept = np.flatnonzero(rng.random(item.size) < 0.97)[:1_000_000]
    ratings = np.column_stack([item, rater, label])[kept].tolist()
    assert len(ratings) == 1_000_000
    ancestors = {code: [code // 10, code] for code in range(40)}
    assert 0 < percent_agreement(ratings) < 1
    assert len(cohen_kappa_pairs(ratings)) == 8 * 7 // 2
    assert fleiss_kappa(ratings)["raters_per_item"] == 4
    assert 0 < krippendorff_alpha(ratings) < 1
    assert len(per_label_agreement(ratings)) == 40
    depth_1, depth_2 = level_agreement(ratings, ancestors)
    assert depth_1["percent_agreement"] > depth_2["percent_agreement"]


ESCI = {10: 3, 20: 2, 30: 1, 40: 0}  # label id -> grade: Exact, Substitute, Complement, Irrelevant


def simulate_grades(seed: int, items: int = 200, answer_rate: float = 0.6) -> list[tuple[int, int, int]]:
    """Raters grade with noise around a latent grade: near misses are likelier than far ones."""
    rng = np.random.default_rng(seed)
    label_of = {grade: label for label, grade in ESCI.items()}
    truth = rng.choice([3, 2, 1, 0], size=items, p=(0.4, 0.25, 0.1, 0.25))
    ratings = []
    for item in range(items):
        for rater, noise in zip(RATERS, (0.3, 0.6, 0.9, 1.2, 2.0), strict=True):
            if rng.random() < answer_rate:
                grade = int(np.clip(np.rint(truth[item] + rng.normal(0, noise)), 0, 3))
                ratings.append((1000 + item, rater, label_of[grade]))
    return ratings


@pytest.mark.parametrize("level", ["ordinal", "interval"])
@pytest.mark.parametrize("seed", SEEDS)
def test_ordered_alpha_matches_krippendorff_package(seed, level):
    ratings = simulate_grades(seed)
    graded = [(item, rater, ESCI[label]) for item, rater, label in ratings]
    expected = krippendorff.alpha(reliability_data=reliability_matrix(graded), level_of_measurement=level)
    assert krippendorff_alpha(ratings, level=level, grades=ESCI) == pytest.approx(expected, abs=EXACT)


def test_interval_alpha_reads_the_grades_values_and_ordinal_only_their_order():
    ratings = simulate_grades(5)
    uneven = {10: 1.0, 20: 0.1, 30: 0.01, 40: 0.0}  # ESCI's gains: the same order, other distances
    graded = [(item, rater, uneven[label]) for item, rater, label in ratings]
    for level in ("ordinal", "interval"):
        expected = krippendorff.alpha(reliability_data=reliability_matrix(graded), level_of_measurement=level)
        assert krippendorff_alpha(ratings, level=level, grades=uneven) == pytest.approx(expected, abs=EXACT)
    assert krippendorff_alpha(ratings, level="ordinal", grades=uneven) == pytest.approx(
        krippendorff_alpha(ratings, level="ordinal", grades=ESCI), abs=EXACT
    )
    assert krippendorff_alpha(ratings, level="interval", grades=uneven) != pytest.approx(
        krippendorff_alpha(ratings, level="interval", grades=ESCI), abs=1e-3
    )


def test_near_misses_cost_less_than_far_ones_in_ordered_figures():
    near = [(i, 1, 10) for i in range(20)] + [(i, 2, 20 if i % 2 else 10) for i in range(20)]
    far = [(i, 1, 10) for i in range(20)] + [(i, 2, 40 if i % 2 else 10) for i in range(20)]
    others = [(100 + i, r, [10, 20, 30, 40][i % 4]) for i in range(20) for r in (1, 2)]  # spread the grades
    assert krippendorff_alpha(near + others) == pytest.approx(krippendorff_alpha(far + others), abs=EXACT)
    for level in ("ordinal", "interval"):
        assert krippendorff_alpha(near + others, level=level, grades=ESCI) > krippendorff_alpha(
            far + others, level=level, grades=ESCI
        )


@pytest.mark.parametrize("seed", SEEDS)
def test_weighted_kappa_pairs_match_sklearn_quadratic(seed):
    ratings = simulate_grades(seed, answer_rate=0.7)
    items = by_item(ratings)
    result = cohen_kappa_pairs(ratings, min_items=30, grades=ESCI)
    assert result
    for row in result:
        a, b = row["rater_a"], row["rater_b"]
        shared = [labels for labels in items.values() if a in labels and b in labels]
        y_a, y_b = [ESCI[labels[a]] for labels in shared], [ESCI[labels[b]] for labels in shared]
        expected = cohen_kappa_score(y_a, y_b, labels=[0, 1, 2, 3], weights="quadratic")
        assert row["weighted_kappa"] == pytest.approx(expected, abs=EXACT)
        assert row["kappa"] == pytest.approx(cohen_kappa_score(y_a, y_b), abs=EXACT)


def test_ordered_figures_refuse_what_they_cannot_read():
    with pytest.raises(ValueError, match="need each label's grade"):
        krippendorff_alpha([(1, 1, 10), (1, 2, 20)], level="ordinal")
    with pytest.raises(ValueError, match=r"labels without a grade: \[99\]"):
        krippendorff_alpha([(1, 1, 10), (1, 2, 99)], level="interval", grades=ESCI)
    with pytest.raises(ValueError, match="level must be one of"):
        krippendorff_alpha([(1, 1, 10), (1, 2, 20)], level="ratio", grades=ESCI)
    assert krippendorff_alpha([(1, 1, 10), (1, 2, 10)], level="ordinal", grades=ESCI) is None  # one grade only
