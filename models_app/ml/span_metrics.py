"""Entity-level precision, recall and F1 of marked spans, per label and micro-averaged, as JSON-ready dicts.

A predicted span counts as found only when its start, end and label all equal a gold span's (the CoNLL
convention, and `spacy.scorer.get_ner_prf`'s): a span one token short is both a miss and a false alarm.
A figure whose denominator is zero is 0.0, as in spaCy's scorer; labels that neither the gold nor the
predictions use are left out, since a figure on nothing misleads.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

Span = tuple[int, int, str]  # (start, end, label) in characters of the text


def _round(value: float) -> float:
    return round(float(value), 4)


def _figures(found: int, gold: int, predicted: int) -> dict[str, float | int]:
    precision = found / predicted if predicted else 0.0
    recall = found / gold if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": _round(precision), "recall": _round(recall), "f1": _round(f1), "support": gold,
            "predicted": predicted}


def span_prf(gold: Sequence[Iterable[Span]], predicted: Sequence[Iterable[Span]]) -> dict:
    """{"micro": figures, "per_label": {label: figures}, "documents": n} for documents gold[i] / predicted[i].

    figures: precision, recall, f1 (rounded to 4 places), support (gold spans) and predicted (spans).
    """
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold documents but {len(predicted)} predicted ones")
    found: Counter[str] = Counter()
    gold_count: Counter[str] = Counter()
    predicted_count: Counter[str] = Counter()
    for gold_spans, predicted_spans in zip(gold, predicted, strict=True):
        truth, guess = set(gold_spans), set(predicted_spans)
        gold_count.update(label for _, _, label in truth)
        predicted_count.update(label for _, _, label in guess)
        found.update(label for _, _, label in truth & guess)
    labels = sorted(gold_count.keys() | predicted_count.keys())
    return {
        "micro": _figures(found.total(), gold_count.total(), predicted_count.total()),
        "per_label": {label: _figures(found[label], gold_count[label], predicted_count[label]) for label in labels},
        "documents": len(gold),
    }
