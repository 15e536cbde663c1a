"""Stratified, seeded train/dev/test assignment: part of a snapshot, so it must be reproducible.

Each class is shuffled by its own generator, seeded with (seed, class), so adding products of one class
never moves the products of another. Within a class the dev and test counts are rounded from the
fractions and train takes the rest, so a class of one product always lands in train.
"""

from __future__ import annotations

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


def assign_splits(keys: np.ndarray, strata: np.ndarray, fractions: tuple[float, float, float], seed: int) -> np.ndarray:
    """A split code (index into SPLIT_NAMES) for every key, stratified by `strata`.

    `keys` are unique ids (task ids); the result does not depend on their order in the input.
    """
    keys = np.asarray(keys, dtype=np.int64)
    strata = np.asarray(strata, dtype=np.int64)
    codes = np.zeros(len(keys), dtype=np.int8)
    if not len(keys):
        return codes
    order = np.lexsort((keys, strata))  # by class, then by key: the input order does not matter
    sorted_strata = strata[order]
    boundaries = np.flatnonzero(np.diff(sorted_strata)) + 1
    for members in np.split(order, boundaries):
        stratum = int(strata[members[0]])
        rng = np.random.default_rng([seed, stratum & 0xFFFFFFFF, stratum >> 32 & 0xFFFFFFFF])
        shuffled = members[rng.permutation(len(members))]
        size = len(members)
        n_dev = round(size * fractions[1])
        n_test = round(size * fractions[2])
        overflow = n_dev + n_test - (size - 1)
        if overflow > 0:  # a tiny class keeps at least one example for training; test gives way first
            from_test = min(n_test, overflow)
            n_test -= from_test
            n_dev -= overflow - from_test
        codes[shuffled[:n_dev]] = 1
        codes[shuffled[n_dev : n_dev + n_test]] = 2
    return codes
