"""The diverse batch: one pick per cluster of the most uncertain items, not the top of one crowd."""

import numpy as np
import pytest
import scipy.sparse as sp

from models_app.ml.batches import MostUncertain, candidate_count, diverse_batch


def crowds() -> tuple[np.ndarray, np.ndarray]:
    """Three tight groups of points: the first the most uncertain throughout, the others a little less."""
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    features = np.vstack([centre + rng.normal(0, 0.01, (6, 2)) for centre in centres])
    uncertainty = np.concatenate([np.linspace(0.99, 0.95, 6), np.linspace(0.90, 0.86, 6), np.linspace(0.80, 0.76, 6)])
    return features, uncertainty


def test_a_batch_takes_one_item_of_each_group_most_uncertain_first():
    features, uncertainty = crowds()
    batch = diverse_batch(features, uncertainty, size=3, seed=1)
    # Margin order would take three of the first group; the batch has one of each, in uncertainty order.
    assert sorted(batch // 6) == [0, 1, 2]
    assert list(uncertainty[batch]) == sorted(uncertainty[batch], reverse=True)


def test_sparse_features_cluster_as_they_are():
    features, uncertainty = crowds()
    batch = diverse_batch(sp.csr_matrix(features + 0.5), uncertainty, size=3, seed=1)
    assert sorted(batch // 6) == [0, 1, 2]


def test_identical_candidates_leave_room_that_the_most_uncertain_others_fill():
    features = np.array([[0.0, 1.0]] * 5 + [[1.0, 0.0]])
    uncertainty = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4])
    batch = diverse_batch(features, uncertainty, size=4, seed=1)
    assert len(set(batch.tolist())) == 4
    assert 5 in batch  # the only item unlike the others
    assert list(uncertainty[batch]) == sorted(uncertainty[batch], reverse=True)


@pytest.mark.parametrize(("size", "expected"), [(0, []), (1, [1]), (3, [1, 2, 0]), (5, [1, 2, 0])])
def test_a_batch_as_large_as_the_candidates_or_of_one_is_the_uncertainty_order(size, expected):
    features = np.array([[0.0], [1.0], [2.0]])
    assert diverse_batch(features, np.array([0.2, 0.9, 0.5]), size=size, seed=1).tolist() == expected


def test_features_and_uncertainties_must_agree_in_length():
    with pytest.raises(ValueError, match="3 rows of features but 2 uncertainties"):
        diverse_batch(np.zeros((3, 2)), np.zeros(2), size=2, seed=1)


def test_candidates_are_four_times_the_batch():
    assert (candidate_count(50), candidate_count(0), candidate_count(-1)) == (200, 0, 0)


def test_the_most_uncertain_items_are_kept_across_pages_with_their_values():
    kept = MostUncertain(3)
    kept.add(np.array([0.2, 0.9, 0.5]), task_ids=np.array([1, 2, 3]), texts=["a", "b", "c"])
    kept.add(np.array([0.9, 0.1, 0.7]), task_ids=np.array([4, 5, 6]), texts=["d", "e", "f"])
    # Ties go to the first met; the items stay in the order they were met.
    assert kept.uncertainty.tolist() == [0.9, 0.9, 0.7]
    assert kept.items["task_ids"].tolist() == [2, 4, 6] and kept.items["texts"].tolist() == ["b", "d", "f"]
    assert len(kept) == 3


def test_keeping_none_keeps_nothing():
    kept = MostUncertain(0)
    kept.add(np.array([0.5]), task_ids=np.array([1]))
    assert len(kept) == 0 and kept.items == {}
