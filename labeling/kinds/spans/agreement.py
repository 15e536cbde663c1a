"""Agreement between annotators who marked spans (issue 14): span precision, recall and F1, with exact and with
overlapping match, and token-level Cohen's kappa. Pure.

Spans are (token_start, token_end inclusive, label), as `spans_check` leaves them; `items` map an item (a task)
to each annotator's spans on it. One annotator's spans (a) against another's (b): precision is the share of a's
spans that b matches, recall the share of b's spans that a matches, F1 their harmonic mean, the same whichever
comes first. An exact match has the same tokens and label; an overlapping match the same label and a token in
common, each span counted on its own (one long span over two short ones matches both of them).

Figures pool the counts over items and pairs of annotators ("precision", "recall", "f1"); "item_f1" is the mean
of each item's F1 instead, an item where both marked nothing counting 1 (they agree there is nothing to mark).
An undefined figure (no span on one side) is None, as in labeling.quality.agreement.

Token kappa reads each token's label ("O" outside every span) as one rating, so Cohen's kappa per pair of
annotators and Krippendorff's alpha come from labeling.quality.agreement over the tokens of the shared items.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Hashable, Mapping
from itertools import combinations

from labeling.quality.agreement import cohen_kappa_pairs, krippendorff_alpha

TokenSpan = tuple[int, int, str]
Counts = tuple[int, int, int, int]  # a's spans b matches, a's spans, b's spans a matches, b's spans
Items = Mapping[Hashable, Mapping[Hashable, Collection[TokenSpan]]]  # item -> annotator -> spans
OUTSIDE = "O"
MATCHES = ("exact", "overlap")


def span_counts(a: Collection[TokenSpan], b: Collection[TokenSpan], *, overlap: bool = False) -> Counts:
    """(a's spans that b matches, a's spans, b's spans that a matches, b's spans)."""
    if not overlap:
        shared = len(set(a) & set(b))
        return shared, len(set(a)), shared, len(set(b))
    return _overlapping(a, b), len(a), _overlapping(b, a), len(b)


def _overlapping(a: Collection[TokenSpan], b: Collection[TokenSpan]) -> int:
    return sum(any(label == other and start <= other_end and other_start <= end for other_start, other_end, other in b)
               for start, end, label in a)


def figures(counts: Counts) -> dict[str, float | None]:
    a_matched, a_total, b_matched, b_total = counts
    precision = a_matched / a_total if a_total else None
    recall = b_matched / b_total if b_total else None
    if precision is None or recall is None:
        f1 = None
    else:
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def span_agreement(items: Items) -> dict:
    """Span agreement over the items with two annotators or more: pooled over every pair ("exact", "overlap"),
    each label's F1s, and per pair of annotators (in sorted order, the first as a)."""
    pooled = {match: [0, 0, 0, 0] for match in MATCHES}
    item_f1: dict[str, list[float]] = {match: [] for match in MATCHES}
    by_label: dict[str, dict[str, list[int]]] = defaultdict(lambda: {match: [0, 0, 0, 0] for match in MATCHES})
    by_pair: dict[tuple, dict] = {}
    shared = 0
    for by_annotator in items.values():
        if len(by_annotator) < 2:
            continue
        shared += 1
        for first, second in combinations(sorted(by_annotator), 2):
            a, b = by_annotator[first], by_annotator[second]
            pair = by_pair.setdefault((first, second), {"items": 0, **{match: [0, 0, 0, 0] for match in MATCHES}})
            pair["items"] += 1
            for match in MATCHES:
                counts = span_counts(a, b, overlap=match == "overlap")
                _add(pooled[match], counts)
                _add(pair[match], counts)
                f1 = figures(counts)["f1"]
                item_f1[match].append(1.0 if not a and not b else f1 or 0.0)
                for label in {span[2] for span in (*a, *b)}:
                    mine = [span for span in a if span[2] == label]
                    theirs = [span for span in b if span[2] == label]
                    _add(by_label[label][match], span_counts(mine, theirs, overlap=match == "overlap"))
    return {
        "items": shared,
        **{match: {**figures(tuple(pooled[match])),
                   "item_f1": sum(item_f1[match]) / len(item_f1[match]) if item_f1[match] else None}
           for match in MATCHES},
        "per_label": {label: {match: figures(tuple(counts[match]))["f1"] for match in MATCHES}
                      for label, counts in sorted(by_label.items())},
        "pairs": [{"annotator_a": first, "annotator_b": second, "items": pair["items"],
                   **{match: figures(tuple(pair[match])) for match in MATCHES}}
                  for (first, second), pair in by_pair.items()],
    }


def token_labels(spans: Collection[TokenSpan], length: int) -> list[str]:
    """Each of the item's `length` tokens' label, "O" outside every span; spans may not overlap."""
    labels = [OUTSIDE] * length
    for start, end, label in spans:
        if not 0 <= start <= end < length:
            raise ValueError(f"The span {start}-{end} is not in the item's {length} tokens.")
        if any(labels[token] != OUTSIDE for token in range(start, end + 1)):
            raise ValueError(f"The span {start}-{end} ({label}) overlaps another; check spans first.")
        labels[start:end + 1] = [label] * (end - start + 1)
    return labels


def token_agreement(items: Items, lengths: Mapping[Hashable, int], *, min_tokens: int = 10) -> dict:
    """Token-level agreement: Cohen's kappa and percent agreement for each pair of annotators sharing at least
    `min_tokens` tokens, their mean kappa, and Krippendorff's alpha over every annotator. `lengths`: each item's
    token count."""
    annotators = sorted({annotator for by_annotator in items.values() for annotator in by_annotator})
    codes = {annotator: code for code, annotator in enumerate(annotators)}
    label_codes = {OUTSIDE: 0}
    ratings = []
    offset = 0
    for item, by_annotator in items.items():
        if item not in lengths:
            raise ValueError(f"No token count for item {item!r}.")
        for annotator, spans in by_annotator.items():
            for token, label in enumerate(token_labels(spans, lengths[item])):
                ratings.append((offset + token, codes[annotator], label_codes.setdefault(label, len(label_codes))))
        offset += lengths[item]
    pairs = [{**pair, "annotator_a": annotators[pair["rater_a"]], "annotator_b": annotators[pair["rater_b"]]}
             for pair in cohen_kappa_pairs(ratings, min_tokens)]
    kappas = [pair["kappa"] for pair in pairs if pair["kappa"] is not None]
    return {
        "pairs": [{"annotator_a": pair["annotator_a"], "annotator_b": pair["annotator_b"], "tokens": pair["items"],
                   "agreement": pair["agreement"], "kappa": pair["kappa"]} for pair in pairs],
        "kappa": sum(kappas) / len(kappas) if kappas else None,
        "alpha": krippendorff_alpha(ratings),
    }


def _add(total: list[int], counts: Counts) -> None:
    for position, count in enumerate(counts):
        total[position] += count

