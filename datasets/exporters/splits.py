"""Stratified, seeded train/dev/test assignment: part of a snapshot, so it must be reproducible.

Rounding per class fails small classes: at 80/10/10 a class of 4 rounds 0.4 dev and 0.4 test
products to none, so 33 products in classes of 2-4 all landed in train. The parts are sized on the
whole export instead, and then shared out among the classes:

1. Part sizes by largest remainder (Hamilton): each part gets the floor of its share of the n
   products, and the products left over go to the parts with the largest fractional remainders
   (the earlier part on a tie). 33 products at 80/10/10 give 27/3/3; every part is within one
   product of its exact share.
2. Each class keeps one product in train (a category missing from train cannot be learned), so at
   most n - classes products can go to dev and test; test gives way first when that is short.
3. Each class is shuffled by its own generator, seeded with (seed, class). The product at position
   k of a class of s gets the priority (k + 0.5) / s (Sainte-Laguë), position 0 being the one kept
   for train; test takes the highest priorities, then dev the next. A class thus gives test, and
   dev and test together, their share of its own products within one (dev within two); small
   classes take turns for the products their shares add up to; equal priorities of classes of
   commensurate sizes are ordered by a seeded draw per class, then by class id.

The result depends on the keys, classes, fractions and seed only, never on the input order. A
class's selected products are a prefix of its own shuffle, so adding products of another class
moves a product of this one only where the rounding shifts by one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

SPLIT_NAMES: tuple[str, ...] = ("train", "dev", "test")


def parse_fractions(value: str | Sequence[float]) -> tuple[float, float, float]:
    """ "0.8,0.1,0.1" (or a sequence) -> three fractions; ValueError with a readable reason otherwise."""
    if isinstance(value, str):
        try:
            parts = [float(part) for part in value.split(",")]
        except ValueError as error:
            raise ValueError(f"split must be three numbers like 0.8,0.1,0.1, not {value!r}.") from error
    else:
        parts = [float(part) for part in value]
    if len(parts) != 3:
        raise ValueError(f"split needs three fractions (train, dev, test), got {len(parts)}.")
    if any(not 0 <= part <= 1 for part in parts) or parts[0] <= 0:
        raise ValueError("split fractions must be between 0 and 1, and train above 0.")
    if abs(sum(parts) - 1) > 1e-6:
        raise ValueError(f"split fractions must add up to 1, not {sum(parts):g}.")
    return parts[0], parts[1], parts[2]


def split_sizes(n: int, fractions: Sequence[float]) -> list[int]:
    """The parts' sizes for n products by largest remainder; they add up to n."""
    quotas = [n * fraction for fraction in fractions]
    # Rounded first: 0.1 * 30 is 3.0000000000000004 in floating point, and 0.7 * 10 is 7.000000000000001.
    exact = [round(quota, 9) for quota in quotas]
    sizes = [math.floor(quota) for quota in exact]
    by_remainder = sorted(range(len(sizes)), key=lambda i: (-(exact[i] - sizes[i]), i))
    for i in by_remainder[: n - sum(sizes)]:
        sizes[i] += 1
    return sizes


def _capped(sizes: list[int], spare: int) -> tuple[int, int]:
    """Dev and test sizes within the `spare` products classes can give up; test gives way first."""
    dev = min(sizes[1], spare)
    return dev, min(sizes[2], spare - dev)


def assign_splits(keys: np.ndarray, strata: np.ndarray, fractions: tuple[float, float, float], seed: int) -> np.ndarray:
    """A split code (index into SPLIT_NAMES) for every key, stratified by `strata` (see the module's docstring).

    `keys` are unique ids (task ids); the result does not depend on their order in the input.
    """
    keys = np.asarray(keys, dtype=np.int64)
    strata = np.asarray(strata, dtype=np.int64)
    n = len(keys)
    codes = np.zeros(n, dtype=np.int8)
    if not n:
        return codes
    order = np.lexsort((keys, strata))  # by class, then by key: the input order does not matter
    boundaries = np.flatnonzero(np.diff(strata[order])) + 1
    classes = np.split(order, boundaries)
    rank = np.empty(n, dtype=np.int64)
    size = np.empty(n, dtype=np.int64)
    draw = np.empty(n, dtype=np.float64)
    for members in classes:
        stratum = int(strata[members[0]])
        rng = np.random.default_rng([seed, stratum & 0xFFFFFFFF, stratum >> 32 & 0xFFFFFFFF])
        rank[members[rng.permutation(len(members))]] = np.arange(len(members))
        size[members] = len(members)
        draw[members] = rng.random()
    dev, test = _capped(split_sizes(n, fractions), n - len(classes))
    if not dev + test:
        return codes
    candidates = np.flatnonzero(rank > 0)
    # 2k+1 over 2s: equal fractions from different classes are the same float, so they tie exactly.
    lowest_first = -(2 * rank[candidates] + 1) / (2 * size[candidates])
    if dev + test < len(candidates):
        # Only the best dev + test (and whatever ties the last of them) need ordering: a partition, not a sort.
        cutoff = np.partition(lowest_first, dev + test - 1)[dev + test - 1]
        inside = lowest_first <= cutoff
        candidates, lowest_first = candidates[inside], lowest_first[inside]
    ranked = candidates[np.lexsort((strata[candidates], -draw[candidates], lowest_first))]
    codes[ranked[:test]] = 2
    codes[ranked[test : test + dev]] = 1
    return codes


def split_warnings(codes: np.ndarray, fractions: Sequence[float]) -> list[str]:
    """What a lead should know about an assignment: a part asked for that came out empty or short.

    Rounding alone never puts a part more than one product from its share; a part is short when the
    classes could not spare the products (each keeps one in train).
    """
    n = len(codes)
    if not n:
        return []
    counts = np.bincount(np.asarray(codes, dtype=np.int64), minlength=len(SPLIT_NAMES)).tolist()
    sizes = split_sizes(n, fractions)
    warnings = []
    for part in (1, 2):
        name, fraction, count, size = SPLIT_NAMES[part], fractions[part], counts[part], sizes[part]
        if fraction == 0:
            continue
        if count < size:
            got = "is empty" if count == 0 else f"has {count} {'product' if count == 1 else 'products'}"
            warnings.append(
                f"{name} {got} instead of the {size} asked for ({fraction * 100:g}% of {n}): every category keeps "
                "at least one product in train, which leaves too few for dev and test."
            )
        elif count == 0:
            share = f"{fraction * 100:g}% of {n} products is {n * fraction:.2g}"
            warnings.append(f"{name} is empty: {share}, which rounds to none.")
    return warnings
