from collections import Counter

import numpy as np
import pytest

from datasets.exporters.splits import SPLIT_NAMES, assign_splits, parse_fractions, split_sizes, split_warnings


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


def test_33_products_in_classes_of_3_are_not_all_put_in_train():
    keys, strata = make_classes(dict.fromkeys(range(11), 3))
    assert np.bincount(assign_splits(keys, strata, (0.8, 0.1, 0.1), seed=0)).tolist() == [27, 3, 3]


def test_a_class_of_two_gives_at_most_one_product_away_from_train():
    keys, strata = make_classes(dict.fromkeys(range(15), 2))
    codes = assign_splits(keys, strata, (0.8, 0.1, 0.1), seed=0)
    assert np.bincount(codes).tolist() == [24, 3, 3]
    assert all((codes[strata == label] == 0).sum() >= 1 for label in range(15))


def test_small_classes_take_turns_for_dev_and_test():
    keys, strata = make_classes(dict.fromkeys(range(11), 3))
    codes = assign_splits(keys, strata, (0.8, 0.1, 0.1), seed=0)
    assert max(Counter(strata[codes != 0].tolist()).values()) == 1  # six classes give one product each


@pytest.mark.parametrize("seed", range(20))
def test_every_part_is_within_one_product_of_its_share_when_classes_can_spare_them(seed):
    rng = np.random.default_rng(seed)
    sizes = {label: int(size) for label, size in enumerate(rng.integers(2, 40, size=12))}
    keys, strata = make_classes(sizes)
    fractions = (0.7, 0.2, 0.1)
    counts = np.bincount(assign_splits(keys, strata, fractions, seed=seed), minlength=3)
    assert all(abs(count - len(keys) * fraction) < 1 for count, fraction in zip(counts, fractions, strict=True))


@pytest.mark.parametrize("seed", range(20))
def test_each_class_gives_test_and_dev_with_test_their_share_within_one_product(seed):
    rng = np.random.default_rng(seed)
    sizes = {label: int(size) for label, size in enumerate(rng.integers(2, 200, size=8))}
    keys, strata = make_classes(sizes)
    codes = assign_splits(keys, strata, (0.7, 0.2, 0.1), seed=seed)
    for label, size in sizes.items():
        counts = np.bincount(codes[strata == label], minlength=3)
        assert abs(counts[2] - size * 0.1) < 1 and abs(counts[1] + counts[2] - size * 0.3) < 1


@pytest.mark.parametrize("seed", range(20))
def test_each_class_gives_dev_its_share_within_two_products(seed):
    rng = np.random.default_rng(seed)
    sizes = {label: int(size) for label, size in enumerate(rng.integers(2, 200, size=8))}
    keys, strata = make_classes(sizes)
    codes = assign_splits(keys, strata, (0.7, 0.2, 0.1), seed=seed)
    for label, size in sizes.items():
        assert abs((codes[strata == label] == 1).sum() - size * 0.2) < 2


def test_sizes_go_by_largest_remainder():
    assert split_sizes(33, (0.8, 0.1, 0.1)) == [27, 3, 3]  # 26.4, 3.3, 3.3: the spare product to train's .4


def test_a_tie_of_remainders_goes_to_the_earlier_part():
    assert split_sizes(5, (0.8, 0.1, 0.1)) == [4, 1, 0]


def test_sizes_always_add_up():
    assert all(sum(split_sizes(n, (0.7, 0.2, 0.1))) == n for n in range(200))


def test_no_warning_when_every_part_has_its_share():
    keys, strata = make_classes(dict.fromkeys(range(11), 3))
    assert split_warnings(assign_splits(keys, strata, (0.8, 0.1, 0.1), seed=0), (0.8, 0.1, 0.1)) == []


def test_a_part_too_small_to_round_to_a_product_is_warned_about():
    codes = assign_splits(*make_classes({1: 5}), (0.8, 0.1, 0.1), seed=0)
    assert split_warnings(codes, (0.8, 0.1, 0.1)) == ["test is empty: 10% of 5 products is 0.5, which rounds to none."]


def test_parts_the_classes_cannot_spare_are_warned_about():
    codes = assign_splits(*make_classes(dict.fromkeys(range(33), 1)), (0.8, 0.1, 0.1), seed=0)
    assert split_warnings(codes, (0.8, 0.1, 0.1)) == [
        f"{part} is empty instead of the 3 asked for (10% of 33): every category keeps at least one product in "
        "train, which leaves too few for dev and test."
        for part in ("dev", "test")
    ]


def test_a_short_part_says_how_many_it_got():
    codes = assign_splits(*make_classes({**dict.fromkeys(range(30), 1), 99: 3}), (0.8, 0.1, 0.1), seed=0)
    assert split_warnings(codes, (0.8, 0.1, 0.1))[0].startswith("dev has 2 products instead of the 3 asked for")


def test_a_part_not_asked_for_is_not_warned_about():
    codes = assign_splits(*make_classes({1: 5}), (0.8, 0.2, 0.0), seed=0)
    assert split_warnings(codes, (0.8, 0.2, 0.0)) == []
