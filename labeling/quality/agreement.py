"""Inter-rater agreement for categorical labels and ordered grades, in numpy (and scikit-learn for weighted
kappa; no Django).

Every function takes ratings as (item_id, rater_id, label_id) triples, at most one per item and
rater, and returns plain Python numbers so a result goes straight into JSON. A figure that is
undefined (no item with two ratings, or no disagreement to expect by chance) is None, not NaN,
because NaN is not valid JSON and would read as a number in a chart.

The dataset-wide figures are built from one table of (item, label) counts, so a million ratings
cost a few sorts and bincounts, not a Python loop over items.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

Rating = tuple[int, int, int]

# norm.ppf(0.975), written out so this module does not need scipy.
Z_95 = 1.959963984540054


@dataclass(frozen=True)
class _Coded:
    """Ratings as dense codes, with the per-item label counts most figures are built from."""

    items: np.ndarray
    raters: np.ndarray
    labels: np.ndarray
    rater_ids: np.ndarray
    label_ids: np.ndarray
    sizes: np.ndarray  # ratings per item code
    cell_item: np.ndarray  # one cell per (item, label) that occurs
    cell_label: np.ndarray
    cell_count: np.ndarray

    @property
    def pairable(self) -> np.ndarray:
        """Items with two ratings or more: an item rated once says nothing about agreement."""
        return self.sizes >= 2


def _tally(
    items: np.ndarray,
    raters: np.ndarray,
    labels: np.ndarray,
    rater_ids: np.ndarray,
    label_ids: np.ndarray,
    n_items: int,
) -> _Coded:
    n_labels = max(len(label_ids), 1)
    cells, counts = np.unique(items * n_labels + labels, return_counts=True)
    return _Coded(
        items=items,
        raters=raters,
        labels=labels,
        rater_ids=rater_ids,
        label_ids=label_ids,
        sizes=np.bincount(items, minlength=n_items),
        cell_item=cells // n_labels,
        cell_label=cells % n_labels,
        cell_count=counts,
    )


def _dense_codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct values and each value's index among them, like np.unique(return_inverse=True).

    Database ids are mostly dense, so a bincount over their span does in one pass what np.unique
    does with a sort; sparse or huge ids fall back to the sort.
    """
    if values.size == 0:
        return values, values.astype(np.intp)
    low = values.min()
    span = int(values.max()) - int(low) + 1
    if span > 4 * values.size + 1024:
        return np.unique(values, return_inverse=True)
    present = np.bincount(values - low, minlength=span) > 0
    return np.flatnonzero(present) + low, (np.cumsum(present) - 1)[values - low]


def _code(ratings: Sequence[Rating]) -> _Coded:
    array = np.asarray(ratings, dtype=np.int64)
    if array.size == 0:
        array = array.reshape(0, 3)
    if array.ndim != 2 or array.shape[1] != 3:
        raise ValueError("ratings must be (item_id, rater_id, label_id) triples")
    item_ids, items = _dense_codes(array[:, 0])
    rater_ids, raters = _dense_codes(array[:, 1])
    label_ids, labels = _dense_codes(array[:, 2])
    duplicates = int(np.count_nonzero(np.diff(np.sort(items * len(rater_ids) + raters)) == 0))
    if duplicates:
        raise ValueError(f"{duplicates} ratings repeat an (item, rater) pair; keep one rating per rater and item")
    return _tally(items, raters, labels, rater_ids, label_ids, len(item_ids))


def _percent_agreement(coded: _Coded) -> float | None:
    pairable = coded.pairable
    if not pairable.any():
        return None
    counts = coded.cell_count
    agreeing = np.bincount(coded.cell_item, weights=counts * (counts - 1), minlength=len(coded.sizes))
    sizes = coded.sizes[pairable]
    return float(np.mean(agreeing[pairable] / (sizes * (sizes - 1))))


def _alpha(coded: _Coded) -> float | None:
    pairable = coded.pairable
    in_pairable = pairable[coded.cell_item]
    counts = coded.cell_count[in_pairable]
    if counts.size == 0:
        return None
    # Nominal alpha from the coincidence matrix: o[c, k] sums, over items, ordered pairs of ratings
    # (c, k) divided by (m_u - 1). Only its off-diagonal total and its margins n_c are needed.
    per_label = np.bincount(coded.cell_label[in_pairable], weights=counts, minlength=len(coded.label_ids))
    total = per_label.sum()
    expected = total * total - (per_label * per_label).sum()
    if expected == 0:
        return None
    sizes = coded.sizes[pairable]
    squares = np.bincount(coded.cell_item[in_pairable], weights=counts * counts, minlength=len(coded.sizes))
    observed = ((sizes * sizes - squares[pairable]) / (sizes - 1)).sum()
    return float(1 - (total - 1) * observed / expected)


@dataclass(frozen=True)
class _FleissTable:
    items: int
    raters: int
    column: list[int]  # ratings per label code over the subset
    squares: list[int]  # sum over the subset's items of n_ij ** 2, per label code


def _fleiss_table(coded: _Coded) -> _FleissTable | None:
    items_per_size = np.bincount(coded.sizes[coded.pairable])
    if items_per_size.size == 0:
        return None
    # On a tie the larger rater count wins: more raters per item is the stronger design.
    raters = int(len(items_per_size) - 1 - np.argmax(items_per_size[::-1]))
    in_subset = (coded.sizes == raters)[coded.cell_item]
    label = coded.cell_label[in_subset]
    count = coded.cell_count[in_subset]
    n_labels = len(coded.label_ids)
    return _FleissTable(
        items=int(items_per_size[raters]),
        raters=raters,
        column=np.bincount(label, weights=count, minlength=n_labels).astype(np.int64).tolist(),
        squares=np.bincount(label, weights=count * count, minlength=n_labels).astype(np.int64).tolist(),
    )


def percent_agreement(ratings: Sequence[Rating]) -> float | None:
    """Mean over items with 2+ ratings of the share of rater pairs in the item that agree."""
    return _percent_agreement(_code(ratings))


LEVELS = ("nominal", "ordinal", "interval")
# Ordered grades are a short scale (ESCI's four, a 0-3 scale): the coincidences are a dense grades x grades table.
MAX_GRADES = 100


def krippendorff_alpha(
    ratings: Sequence[Rating], *, level: str = "nominal", grades: Mapping[int, float] | None = None
) -> float | None:
    """Krippendorff's alpha with missing ratings; None without expected disagreement.

    `level` "nominal" compares labels as equal or not. "ordinal" and "interval" read each label as its grade
    (`grades`: label id -> number, e.g. Exact 3 ... Irrelevant 0; labels of one grade are one value): ordinal
    distances count the ratings between two grades (only their order matters), interval distances are the
    squared difference of the grades.
    """
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}, got {level!r}")
    if level == "nominal":
        return _alpha(_code(ratings))
    ranked, values = _graded(ratings, grades)
    return _alpha_ordered(_code(ranked), values, level)


def _graded(ratings: Sequence[Rating], grades: Mapping[int, float] | None) -> tuple[list[Rating], np.ndarray]:
    """The ratings with each label replaced by the rank of its grade among the distinct grades, and the grades
    in rank order."""
    values = _grade_values(grades, {label for _, _, label in ratings})
    rank = {label: int(np.searchsorted(values, value)) for label, value in (grades or {}).items()}
    return [(item, rater, rank[label]) for item, rater, label in ratings], values


def _grade_values(grades: Mapping[int, float] | None, labels: Iterable[int]) -> np.ndarray:
    """The distinct grades, ascending; refuses a missing scale, too many grades or a label without one."""
    if not grades:
        raise ValueError("ordinal and interval agreement need each label's grade")
    values = np.asarray(sorted(set(grades.values())), dtype=np.float64)
    if len(values) > MAX_GRADES:
        raise ValueError(f"{len(values)} distinct grades: ordered agreement is for scales of up to {MAX_GRADES}")
    missing = set(labels) - grades.keys()
    if missing:
        raise ValueError(f"labels without a grade: {sorted(missing)[:10]}")
    return values


def _alpha_ordered(coded: _Coded, values: np.ndarray, level: str) -> float | None:
    pairable = coded.pairable
    n_values = len(coded.label_ids)  # the grades' ranks present, ascending
    if not pairable.any() or n_values < 2:
        return None
    # The coincidence matrix: o[c, k] sums, over items, ordered pairs of ratings (c, k) / (m_u - 1).
    counts = np.zeros((len(coded.sizes), n_values))
    counts[coded.cell_item, coded.cell_label] = coded.cell_count
    counts = counts[pairable]
    weighted = counts / (coded.sizes[pairable] - 1)[:, None]
    coincidences = weighted.T @ counts - np.diag(weighted.sum(axis=0))
    margins = coincidences.sum(axis=1)
    total = margins.sum()
    if level == "interval":
        value = values[coded.label_ids]
        distance = (value[:, None] - value[None, :]) ** 2
    else:
        # Ordinal: (sum of n_g from c to k) - (n_c + n_k) / 2, squared, over the values in order.
        cumulative = np.cumsum(margins)
        low = np.minimum.outer(np.arange(n_values), np.arange(n_values))
        high = np.maximum.outer(np.arange(n_values), np.arange(n_values))
        between = cumulative[high] - cumulative[low] + margins[low]
        distance = (between - (margins[:, None] + margins[None, :]) / 2) ** 2
    expected = float((np.outer(margins, margins) * distance).sum())
    if expected == 0:
        return None
    return float(1 - (total - 1) * (coincidences * distance).sum() / expected)


def cohen_kappa_pairs(
    ratings: Sequence[Rating], min_items: int = 10, *, grades: Mapping[int, float] | None = None
) -> list[dict]:
    """Cohen's kappa for every pair of raters sharing at least ``min_items`` items, by (rater_a, rater_b).

    With `grades` (label id -> number), each pair also has "weighted_kappa": quadratic weights over the
    grades' order (scikit-learn's, a grade apart costs 1, two apart 4)."""
    coded = _code(ratings)
    rank = None
    if grades is not None:
        values = _grade_values(grades, coded.label_ids.tolist())
        rank = np.searchsorted(values, np.asarray([grades[label] for label in coded.label_ids.tolist()]))
        ranks = list(range(len(values)))
    order = np.argsort(coded.raters, kind="stable")
    bounds = np.searchsorted(coded.raters[order], np.arange(len(coded.rater_ids) + 1))
    items = np.split(coded.items[order], bounds[1:-1])
    labels = np.split(coded.labels[order], bounds[1:-1])
    n_labels = len(coded.label_ids)
    # One item-indexed buffer holds rater a's labels, so finding the items a shares with b is a
    # gather over b's items instead of a sort per pair.
    label_of_a = np.full(len(coded.sizes), -1, dtype=np.int64)
    results = []
    for a in range(len(items)):
        label_of_a[items[a]] = labels[a]
        for b in range(a + 1, len(items)):
            from_a = label_of_a[items[b]]
            shared = from_a >= 0
            n = int(np.count_nonzero(shared))
            if n == 0 or n < min_items:
                continue
            labels_a, labels_b = from_a[shared], labels[b][shared]
            agreeing = int(np.count_nonzero(labels_a == labels_b))
            # n * n * expected agreement, kept in integers so kappa is one exact division.
            chance = int(np.dot(np.bincount(labels_a, minlength=n_labels), np.bincount(labels_b, minlength=n_labels)))
            row = {
                "rater_a": int(coded.rater_ids[a]),
                "rater_b": int(coded.rater_ids[b]),
                "items": n,
                "agreement": agreeing / n,
                "kappa": None if chance == n * n else (n * agreeing - chance) / (n * n - chance),
            }
            if rank is not None:
                row["weighted_kappa"] = _weighted_kappa(rank[labels_a], rank[labels_b], ranks)
            results.append(row)
        label_of_a[items[a]] = -1
    return results


def fleiss_kappa(ratings: Sequence[Rating]) -> dict:
    """Fleiss' kappa over the items having the most common rater count (2+); ties take the larger count."""
    table = _fleiss_table(_code(ratings))
    if table is None:
        return {"kappa": None, "items": 0, "raters_per_item": None}
    n, total = table.raters, table.items * table.raters
    chance = sum(c * c for c in table.column)
    # Pbar = (Q - T) / (T (n - 1)) and Pe = C / T**2, combined over one denominator in integers.
    numerator = (sum(table.squares) - total) * total - chance * (n - 1)
    denominator = (n - 1) * (total * total - chance)
    return {"kappa": numerator / denominator if denominator else None, "items": table.items, "raters_per_item": n}


def per_label_agreement(ratings: Sequence[Rating]) -> dict[int, dict]:
    """Per label: its ratings, positive specific agreement, and Fleiss' per-category kappa."""
    coded = _code(ratings)
    n_labels = len(coded.label_ids)
    in_pairable = coded.pairable[coded.cell_item]
    label, count = coded.cell_label[in_pairable], coded.cell_count[in_pairable]
    # 2 * agreeing pairs = n_ik (n_ik - 1); pairs involving k, both ends counted for agreeing ones,
    # = n_ik (m_i - 1).
    agreeing = np.bincount(label, weights=count * (count - 1), minlength=n_labels)
    involving = np.bincount(label, weights=count * (coded.sizes[coded.cell_item[in_pairable]] - 1), minlength=n_labels)
    ratings_per_label = np.bincount(coded.labels, minlength=n_labels)
    table = _fleiss_table(coded)
    result = {}
    for code, label_id in enumerate(coded.label_ids.tolist()):
        kappa = None
        if table is not None:
            n, total, column = table.raters, table.items * table.raters, table.column[code]
            if 0 < column < total:
                disagreeing = n * column - table.squares[code]
                kappa = 1 - total * disagreeing / ((n - 1) * column * (total - column))
        result[label_id] = {
            "ratings": int(ratings_per_label[code]),
            "specific_agreement": float(agreeing[code] / involving[code]) if involving[code] else None,
            "kappa": kappa,
        }
    return result


def level_agreement(ratings: Sequence[Rating], ancestors: Mapping[int, Sequence[int]]) -> list[dict]:
    """Percent agreement and alpha at each taxonomy depth, each label replaced by its ancestor there."""
    coded = _code(ratings)
    paths = []
    for label_id in coded.label_ids.tolist():
        if label_id not in ancestors:
            raise ValueError(f"label {label_id} has no ancestor path")
        paths.append(list(ancestors[label_id]))
    depths = np.array([len(path) for path in paths], dtype=np.int64)
    max_depth = int(depths.max()) if len(paths) else 0
    path_table = np.zeros((len(paths), max_depth), dtype=np.int64)
    for row, path in enumerate(paths):
        path_table[row, : len(path)] = path
    results = []
    for depth in range(1, max_depth + 1):
        keep = depths[coded.labels] >= depth
        ancestor_ids, codes = _dense_codes(path_table[coded.labels[keep], depth - 1])
        level = _tally(coded.items[keep], coded.raters[keep], codes, coded.rater_ids, ancestor_ids, len(coded.sizes))
        results.append(
            {
                "depth": depth,
                "ratings": int(np.count_nonzero(keep)),
                "percent_agreement": _percent_agreement(level),
                "alpha": _alpha(level),
            }
        )
    return results


def wilson_interval(successes: int, trials: int, z: float = Z_95) -> tuple[float, float] | None:
    """Wilson score interval for a proportion, clipped to [0, 1]; None without trials."""
    if not 0 <= successes <= trials:
        raise ValueError("successes must be between 0 and trials")
    if trials == 0:
        return None
    share = successes / trials
    z2 = z * z
    denominator = 1 + z2 / trials
    center = (share + z2 / (2 * trials)) / denominator
    half = z * math.sqrt(share * (1 - share) / trials + z2 / (4 * trials * trials)) / denominator
    return max(center - half, 0.0), min(center + half, 1.0)


def label_distribution_distance(rater_counts: Mapping[int, int], team_counts: Mapping[int, int]) -> float | None:
    """Jensen-Shannon distance (base 2, in [0, 1]) between two label count distributions.

    None when either side has no labels, since an empty distribution has no shape to compare.
    """
    keys = sorted(set(rater_counts) | set(team_counts))
    p = np.array([rater_counts.get(key, 0) for key in keys], dtype=np.float64)
    q = np.array([team_counts.get(key, 0) for key in keys], dtype=np.float64)
    if (p < 0).any() or (q < 0).any():
        raise ValueError("label counts cannot be negative")
    if p.sum() == 0 or q.sum() == 0:
        return None
    p, q = p / p.sum(), q / q.sum()
    m = (p + q) / 2
    divergence = 0.0
    for dist in (p, q):
        nonzero = dist > 0
        divergence += float(np.sum(dist[nonzero] * np.log2(dist[nonzero] / m[nonzero]))) / 2
    # Rounding can leave a hair below zero for identical distributions.
    return math.sqrt(max(divergence, 0.0))


def _weighted_kappa(a: np.ndarray, b: np.ndarray, ranks: list[int]) -> float | None:
    if len(set(a.tolist()) | set(b.tolist())) < 2:
        return None  # one grade for every item: no disagreement to expect by chance
    # Imported here: the kinds load this module with the app, and sklearn.metrics brings scipy.stats and pandas,
    # a second of the start of a process that never computes a kappa (an import command).
    from sklearn.metrics import cohen_kappa_score

    kappa = float(cohen_kappa_score(a, b, labels=ranks, weights="quadratic"))
    return None if math.isnan(kappa) else kappa
