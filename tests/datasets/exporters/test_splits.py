from collections import Counter

import numpy as np
import pytest

from datasets.exporters.splits import SPLIT_NAMES, assign_splits, parse_fractions


def test_parse_fractions_reads_the_command_line_form():
    assert parse_fractions("0.8,0.1,0.1") == (0.8, 0.1, 0.1)
    assert parse_fractions([0.7, 0.3, 0]) == (0.7, 0.3, 0.0)


@pytest.mark.parametrize(
    ("value", "message"),
    [("0.8,0.1", "three fractions"), ("a,b,c", "three numbers"), ("0.8,0.3,0.1", "add up to 1"),
     ("0,0.5,0.5", "train above 0"), ("1.2,-0.1,-0.1", "between 0 and 1")],
)
def test_parse_fractions_refuses_with_a_reason(value, message):
    with pytest.raises(ValueError, match=message):
        parse_fractions(value)


def make_classes(sizes: dict[int, int]) -> tuple[np.ndarray, np.ndarray]:
    strata = np.concatenate([np.full(size, label) for label, size in sizes.items()])
    keys = np.arange(1, len(strata) + 1) * 7
    return keys, strata


def test_every_class_is_split_in_the_asked_proportions():
    keys, strata = make_classes({1: 1000, 2: 200, 3: 50})
    codes = assign_splits(keys, strata, (0.8, 0.1, 0.1), seed=3)
    for label, size in {1: 1000, 2: 200, 3: 50}.items():
        counts = Counter(codes[strata == label].tolist())
        assert counts[1] == round(size * 0.1) and counts[2] == round(size * 0.1)
        assert counts[0] == size - counts[1] - counts[2]


def test_same_seed_same_assignment_whatever_the_input_order():
    keys, strata = make_classes({1: 300, 2: 300})
    codes = assign_splits(keys, strata, (0.8, 0.1, 0.1), seed=9)
    order = np.random.default_rng(0).permutation(len(keys))
    shuffled = assign_splits(keys[order], strata[order], (0.8, 0.1, 0.1), seed=9)
    assert dict(zip(keys[order].tolist(), shuffled.tolist(), strict=True)) == dict(
        zip(keys.tolist(), codes.tolist(), strict=True)
    )


def test_another_seed_gives_another_assignment():
    keys, strata = make_classes({1: 300})
    first = assign_splits(keys, strata, (0.8, 0.1, 0.1), seed=1)
    second = assign_splits(keys, strata, (0.8, 0.1, 0.1), seed=2)
    assert (first != second).any()


def test_a_new_class_does_not_move_the_others():
    keys, strata = make_classes({1: 100})
    before = assign_splits(keys, strata, (0.8, 0.1, 0.1), seed=5)
    more_keys = np.concatenate([keys, np.arange(10_000, 10_050)])
    more_strata = np.concatenate([strata, np.full(50, 2)])
    after = assign_splits(more_keys, more_strata, (0.8, 0.1, 0.1), seed=5)
    assert (after[: len(keys)] == before).all()


@pytest.mark.parametrize("size", [1, 2, 3])
def test_tiny_classes_keep_an_example_for_training(size):
    keys, strata = make_classes({4: size})
    codes = assign_splits(keys, strata, (0.34, 0.33, 0.33), seed=1)
    assert (codes == 0).sum() >= 1


def test_names_are_train_dev_test():
    assert SPLIT_NAMES == ("train", "dev", "test")
