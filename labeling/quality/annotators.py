"""Per-annotator quality figures and the confusion between annotators, in numpy (no Django).

Ratings are the same (item_id, rater_id, label_id) triples as `agreement`, with one float per rating
for its active seconds (NaN when unknown) and the gold label of the items that have one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

import numpy as np
from scipy import sparse

from labeling.quality.agreement import label_distribution_distance, wilson_interval

# Who stands out: thresholds a reviewer would check by hand, only once someone has enough labels.
MIN_LABELS_TO_JUDGE = 20
SAME_LABEL_SHARE = 0.8
# "Fast" is implausibly fast: a median under FAST_SECONDS a label is less than reading a product
# title takes (8 words at 250-300 words a minute is 1.6-1.9 s), let alone choosing its category,
# whatever the rest of the team does; or a median under a third of the others' median.
FAST_SECONDS = 1.5
FAST_SHARE_OF_TEAM_MEDIAN = 0.33
UNUSUAL_DISTANCE = 0.5


def _majority_votes(items: np.ndarray, raters: np.ndarray, labels: np.ndarray) -> dict[int, list[int]]:
    """rater -> [agreed, compared]: each rating against the strict majority of the *other* ratings of its item.

    Leaving the rater out keeps an annotator from agreeing with themselves; items where the others tie
    (or where nobody else answered) are not counted.
    """
    order = np.argsort(items, kind="stable")
    items, raters, labels = items[order], raters[order], labels[order]
    starts = np.flatnonzero(np.r_[True, items[1:] != items[:-1]])
    ends = np.r_[starts[1:], len(items)]
    result: dict[int, list[int]] = {}
    for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
        if end - start < 2:
            continue
        item_labels = labels[start:end].tolist()
        counts = Counter(item_labels)
        for rater, label in zip(raters[start:end].tolist(), item_labels, strict=True):
            counts[label] -= 1
            (top, top_n), (_, runner_up) = [*counts.most_common(2), (None, 0)][:2]
            counts[label] += 1
            if top_n == 0 or top_n == runner_up:
                continue
            tally = result.setdefault(rater, [0, 0])
            tally[0] += int(top == label)
            tally[1] += 1
    return result


def annotator_stats(
    ratings: np.ndarray,
    seconds: np.ndarray,
    gold: Mapping[int, int],
    skips: Mapping[int, int] | None = None,
    not_gold: set[tuple[int, int]] | None = None,
) -> list[dict]:
    """One row per rater: volume, speed, agreement with the majority and with gold, label distribution.

    `not_gold` holds (item, rater) answers on gold items that do not measure the rater (given before the
    item became gold). `flags` names what stands out: "same label" (one label for most answers), "fast" (a median time
    under FAST_SECONDS, or far under the rest of the team's), "unusual labels" (a label distribution far from the
    team's).
    """
    ratings = np.asarray(ratings, dtype=np.int64).reshape(-1, 3)
    seconds = np.asarray(seconds, dtype=np.float64)
    items, raters, labels = ratings[:, 0], ratings[:, 1], ratings[:, 2]
    team_counts = Counter(labels.tolist())
    timed = ~np.isnan(seconds)
    majority = _majority_votes(items, raters, labels)
    gold_items = np.fromiter(gold.keys(), dtype=np.int64, count=len(gold))
    gold_labels = np.fromiter(gold.values(), dtype=np.int64, count=len(gold))
    on_gold = np.isin(items, gold_items)
    if not_gold:
        on_gold &= ~np.fromiter(
            ((item, rater) in not_gold for item, rater in zip(items.tolist(), raters.tolist(), strict=True)),
            dtype=bool, count=len(items),
        )
    gold_of = dict(zip(gold_items.tolist(), gold_labels.tolist(), strict=True))
    rows = []
    for rater in sorted(set(raters.tolist()) | set((skips or {}).keys())):
        mine = raters == rater
        count = int(mine.sum())
        own_seconds = seconds[mine]
        own_seconds = own_seconds[~np.isnan(own_seconds)]
        counts = Counter(labels[mine].tolist())
        top_share = max(counts.values()) / count if count else None
        mine_gold = mine & on_gold
        gold_total = int(mine_gold.sum())
        answered = zip(items[mine_gold].tolist(), labels[mine_gold].tolist(), strict=True)
        gold_correct = sum(gold_of[item] == label for item, label in answered)
        interval = wilson_interval(gold_correct, gold_total)
        agreed, compared = majority.get(rater, [0, 0])
        median = float(np.median(own_seconds)) if len(own_seconds) else None
        distance = label_distribution_distance(counts, team_counts) if count else None
        flags = []
        if count >= MIN_LABELS_TO_JUDGE:
            favourite, favourite_count = counts.most_common(1)[0]
            others_total = len(labels) - count
            # Judged against the others only, so a large share of one person cannot hide itself.
            others_share = (team_counts[favourite] - favourite_count) / others_total if others_total else 1.0
            if top_share >= SAME_LABEL_SHARE and others_share < SAME_LABEL_SHARE / 2:
                flags.append("same label")
            # The others' median, not the team's: one prolific fast annotator would drag the team's down to theirs.
            others_seconds = seconds[timed & ~mine]
            others_median = float(np.median(others_seconds)) if len(others_seconds) else None
            if median is not None and (
                median < FAST_SECONDS or (others_median and median < FAST_SHARE_OF_TEAM_MEDIAN * others_median)
            ):
                flags.append("fast")
            if distance is not None and distance >= UNUSUAL_DISTANCE:
                flags.append("unusual labels")
        rows.append({
            "rater": rater,
            "labels": count,
            "skips": int((skips or {}).get(rater, 0)),
            "labels_per_hour": round(3600 * len(own_seconds) / float(own_seconds.sum()), 1)
            if len(own_seconds) and own_seconds.sum() > 0
            else None,
            "median_seconds": median,
            "majority_agreement": agreed / compared if compared else None,
            "majority_items": compared,
            "gold_items": gold_total,
            "gold_correct": gold_correct,
            "gold_accuracy": gold_correct / gold_total if gold_total else None,
            "gold_interval": list(interval) if interval else None,
            "top_label_share": top_share,
            "distribution_distance": distance,
            "flags": flags,
        })
    return rows


def annotator_confusion(ratings: np.ndarray, top: int = 15) -> dict:
    """How often two annotators of one item chose label a and label b, for the `top` most used labels.

    Every unordered pair of ratings on an item counts once in [a][b] and once in [b][a]; the diagonal
    counts agreeing pairs twice, so each row sums to the pairs that involve its label.
    """
    ratings = np.asarray(ratings, dtype=np.int64).reshape(-1, 3)
    if not len(ratings):
        return {"labels": [], "matrix": []}
    _, item_codes = np.unique(ratings[:, 0], return_inverse=True)
    label_ids, label_codes = np.unique(ratings[:, 2], return_inverse=True)
    counts = sparse.coo_matrix(
        (np.ones(len(ratings), dtype=np.int64), (item_codes, label_codes)),
        shape=(int(item_codes.max()) + 1, len(label_ids)),
    ).tocsr()
    pairs = (counts.T @ counts).toarray()
    pairs -= np.diag(np.asarray(counts.sum(axis=0)).ravel())  # a rating is not paired with itself
    shown = np.argsort(-np.bincount(label_codes, minlength=len(label_ids)), kind="stable")[:top]
    return {
        "labels": label_ids[shown].tolist(),
        "matrix": pairs[np.ix_(shown, shown)].tolist(),
    }
