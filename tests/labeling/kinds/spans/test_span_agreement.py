"""Span agreement: precision, recall and F1 with exact and overlapping match, and token kappa as scikit-learn's."""

import random

import pytest
from sklearn.metrics import cohen_kappa_score

from labeling.kinds.spans.agreement import figures, span_agreement, span_counts, token_agreement, token_labels

A = [(0, 0, "BRAND"), (2, 3, "COLOR"), (5, 5, "SIZE")]
B = [(0, 0, "BRAND"), (3, 3, "COLOR"), (5, 6, "COLOR")]


def test_exact_match_needs_the_same_tokens_and_label():
    assert span_counts(A, B) == (1, 3, 1, 3)
    assert figures(span_counts(A, B)) == pytest.approx({"precision": 1 / 3, "recall": 1 / 3, "f1": 1 / 3})


def test_overlapping_match_needs_the_same_label_and_a_shared_token():
    # (2, 3) COLOR and (3, 3) COLOR share token 3; (5, 5) SIZE and (5, 6) COLOR share a token but not the label.
    assert span_counts(A, B, overlap=True) == (2, 3, 2, 3)
    assert figures(span_counts(A, B, overlap=True))["f1"] == pytest.approx(2 / 3)


def test_a_long_span_over_two_short_ones_matches_both_when_overlapping_and_none_exactly():
    long, short = [(0, 3, "COLOR")], [(0, 1, "COLOR"), (2, 3, "COLOR")]
    assert figures(span_counts(long, short, overlap=True)) == {"precision": 1.0, "recall": 1.0, "f1": 1.0}
    assert figures(span_counts(long, short))["f1"] == 0.0


def test_f1_is_the_same_whichever_annotator_comes_first():
    for overlap in (False, True):
        forward = figures(span_counts(A, B[:2], overlap=overlap))
        backward = figures(span_counts(B[:2], A, overlap=overlap))
        assert forward["f1"] == pytest.approx(backward["f1"])
        assert (forward["precision"], forward["recall"]) == (backward["recall"], backward["precision"])


def test_without_spans_on_one_side_the_figures_are_undefined():
    assert figures(span_counts([], A)) == {"precision": None, "recall": 0.0, "f1": None}
    assert figures(span_counts([], [])) == {"precision": None, "recall": None, "f1": None}


def test_agreement_pools_items_and_pairs_and_means_the_items_f1():
    items = {
        1: {7: A, 9: B},
        2: {7: [], 9: []},  # both saw nothing to mark: full agreement for the item mean
        3: {7: [(1, 1, "SIZE")], 9: []},
        4: {7: [(0, 0, "BRAND")]},  # one annotator: no pair
    }
    report = span_agreement(items)
    assert report["items"] == 3
    item_f1 = (1 / 3 + 1 + 0) / 3
    assert report["exact"] == pytest.approx({"precision": 1 / 4, "recall": 1 / 3, "f1": 2 / 7, "item_f1": item_f1})
    assert report["overlap"]["precision"] == pytest.approx(2 / 4)
    assert report["overlap"]["recall"] == pytest.approx(2 / 3)
    assert report["per_label"] == {"BRAND": {"exact": 1.0, "overlap": 1.0},
                                   "COLOR": {"exact": 0.0, "overlap": pytest.approx(2 / 3)},
                                   "SIZE": {"exact": None, "overlap": None}}
    [pair] = report["pairs"]
    assert (pair["annotator_a"], pair["annotator_b"], pair["items"]) == (7, 9, 3)
    assert pair["exact"] == {key: report["exact"][key] for key in ("precision", "recall", "f1")}


def test_each_pair_of_three_annotators_is_reported():
    report = span_agreement({1: {3: A, 1: A, 2: B}})
    assert [(pair["annotator_a"], pair["annotator_b"]) for pair in report["pairs"]] == [(1, 2), (1, 3), (2, 3)]
    assert [pair["exact"]["f1"] for pair in report["pairs"]] == pytest.approx([1 / 3, 1.0, 1 / 3])


def test_token_labels_are_the_span_labels_and_o_elsewhere():
    assert token_labels(A, 7) == ["BRAND", "O", "COLOR", "COLOR", "O", "SIZE", "O"]
    with pytest.raises(ValueError, match="overlaps another"):
        token_labels([(0, 2, "COLOR"), (2, 2, "SIZE")], 4)
    with pytest.raises(ValueError, match="not in the item's 6 tokens"):
        token_labels(B, 6)


def _random_spans(rng, length, labels=("BRAND", "COLOR", "SIZE")):
    spans, token = [], 0
    while token < length:
        token += rng.randint(0, 3)
        end = min(token + rng.randint(0, 2), length - 1)
        if token < length:
            spans.append((token, end, rng.choice(labels)))
        token = end + 1
    return spans


def test_token_kappa_is_scikit_learns_over_the_shared_items_tokens():
    rng = random.Random(3)
    lengths = {item: rng.randint(3, 15) for item in range(60)}
    items = {}
    for item, length in lengths.items():
        truth = _random_spans(rng, length)
        # Annotator 5 copies the truth with some spans dropped or retyped; 8 marks at random; 2 skips some items.
        copy = [(s, e, rng.choice(["COLOR", "SIZE"]) if rng.random() < 0.2 else label)
                for s, e, label in truth if rng.random() < 0.8]
        items[item] = {5: truth, 8: _random_spans(rng, length), **({2: copy} if item % 3 else {})}
    report = token_agreement(items, lengths)
    for pair in report["pairs"]:
        shared = [item for item in items if {pair["annotator_a"], pair["annotator_b"]} <= items[item].keys()]
        a = [label for item in shared for label in token_labels(items[item][pair["annotator_a"]], lengths[item])]
        b = [label for item in shared for label in token_labels(items[item][pair["annotator_b"]], lengths[item])]
        assert pair["tokens"] == len(a)
        assert pair["kappa"] == pytest.approx(cohen_kappa_score(a, b))
        assert pair["agreement"] == pytest.approx(sum(x == y for x, y in zip(a, b, strict=True)) / len(a))
    kappa = {(pair["annotator_a"], pair["annotator_b"]): pair["kappa"] for pair in report["pairs"]}
    assert kappa[(2, 5)] > 0.6 > 0.2 > kappa[(5, 8)]
    assert report["kappa"] == pytest.approx(sum(kappa.values()) / 3)


def test_identical_annotators_agree_fully_on_tokens():
    items = {1: {1: A, 2: A}, 2: {1: B, 2: B}}
    report = token_agreement(items, {1: 7, 2: 7}, min_tokens=1)
    assert report["pairs"][0]["kappa"] == 1.0 and report["alpha"] == pytest.approx(1.0)


def test_an_item_without_a_token_count_is_refused():
    with pytest.raises(ValueError, match="No token count for item 2"):
        token_agreement({1: {1: A}, 2: {1: A}}, {1: 7})
