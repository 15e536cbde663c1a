"""Classification metrics as plain JSON-ready dicts: accuracy at each taxonomy level, a matcher's F1 at a threshold."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from scipy.stats import binomtest
from sklearn.metrics import average_precision_score


def _round(value: float) -> float:
    return round(float(value), 4)


def wilson_interval(*, correct: int, n: int, confidence: float = 0.95) -> list[float] | None:
    """The Wilson score interval of an accuracy of ``correct`` out of ``n``, as [low, high]; None when n is 0.

    Wilson rather than the normal approximation: it stays inside [0, 1] and keeps its coverage at
    small n and at accuracies near 0 or 1, which is exactly where early models are.
    """
    if n == 0:
        return None
    interval = binomtest(int(correct), int(n)).proportion_ci(confidence_level=confidence, method="wilson")
    return [_round(interval.low), _round(interval.high)]


def confusion_matrix(*, y_true: Sequence[str], y_pred: Sequence[str], classes: Sequence[str]) -> np.ndarray:
    """Counts with rows = true class and columns = predicted class, both in the order of ``classes``."""
    index = {label: i for i, label in enumerate(classes)}
    unknown = sorted({*y_true, *y_pred} - index.keys())
    if unknown:
        raise ValueError(f"labels not in classes: {', '.join(unknown)}")
    matrix = np.zeros((len(classes), len(classes)), dtype=np.int64)
    np.add.at(matrix, ([index[y] for y in y_true], [index[y] for y in y_pred]), 1)
    return matrix


def level_hits(
    *, y_true: Sequence[str], y_pred: Sequence[str], label_paths: Mapping[str, Sequence[str]]
) -> tuple[list[int], float]:
    """Right predictions at each taxonomy depth (counts), and the mean share of each true path predicted right.

    At depth d a prediction is right when the first d segments of its path equal the first d of the
    true path (a label missing from ``label_paths`` is a one-segment path of itself); the list runs
    to the deepest path, where it equals plain accuracy if no two labels share a path. The second
    value gives partial credit per example: a wrong leaf under the right parent at depth 2 scores 0.5.
    Counts rather than shares, so that each depth's accuracy gets its interval.
    """
    paths_true = [tuple(label_paths.get(y, (y,))) for y in y_true]
    paths_pred = [tuple(label_paths.get(y, (y,))) for y in y_pred]
    # The taxonomy's depth, not this sample's, so folds of a cross-validation give lists of one length.
    depth = max((len(p) for p in [*label_paths.values(), *paths_true]), default=0)
    hits = [sum(t[:d] == p[:d] for t, p in zip(paths_true, paths_pred, strict=True)) for d in range(1, depth + 1)]
    credit = [_shared_prefix(t, p) / len(t) for t, p in zip(paths_true, paths_pred, strict=True) if t]
    return hits, _round(np.mean(credit)) if credit else 0.0


def _shared_prefix(a: tuple[str, ...], b: tuple[str, ...]) -> int:
    shared = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        shared += 1
    return shared


def evaluate(
    *,
    y_true: Sequence[str],
    y_pred: Sequence[str],
    classes: Sequence[str],
    label_paths: Mapping[str, Sequence[str]] | None = None,
) -> dict:
    """Metrics of predictions against the truth, every float rounded to 4 decimals.

    Returns {"n", "accuracy", "accuracy_interval" (95% Wilson, [low, high]; None when n is 0),
    "macro_f1", "per_class": {label: {"precision", "recall", "f1", "support"}}, "confusion":
    {"labels", "matrix"}} and, when ``label_paths`` is given, "level_accuracy" (list, depth 1 first;
    see ``level_hits``), "level_accuracy_intervals" (one [low, high] per depth) and
    "hierarchical_accuracy".
    Undefined precision/recall (no predictions / no support) count as 0. Macro-F1 averages the
    classes that occur in y_true or y_pred, as scikit-learn's ``f1_score(average="macro")`` does.
    """
    if len(y_true) != len(y_pred):
        raise ValueError(f"y_true has {len(y_true)} labels and y_pred {len(y_pred)}")
    matrix = confusion_matrix(y_true=y_true, y_pred=y_pred, classes=classes)
    tp = np.diag(matrix).astype(float)
    support, predicted = matrix.sum(axis=1), matrix.sum(axis=0)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, support, out=np.zeros_like(tp), where=support > 0)
    denominator = precision + recall
    f1 = np.divide(2 * precision * recall, denominator, out=np.zeros_like(tp), where=denominator > 0)
    present = (support + predicted) > 0
    n = len(y_true)
    metrics: dict = {
        "n": n,
        "accuracy": _round(tp.sum() / n) if n else 0.0,
        "accuracy_interval": wilson_interval(correct=int(tp.sum()), n=n),
        "macro_f1": _round(f1[present].mean()) if present.any() else 0.0,
        "per_class": {
            label: {
                "precision": _round(precision[i]),
                "recall": _round(recall[i]),
                "f1": _round(f1[i]),
                "support": int(support[i]),
            }
            for i, label in enumerate(classes)
        },
        "confusion": {"labels": list(classes), "matrix": matrix.tolist()},
    }
    if label_paths is not None and n:
        hits, metrics["hierarchical_accuracy"] = level_hits(y_true=y_true, y_pred=y_pred, label_paths=label_paths)
        metrics["level_accuracy"] = [_round(h / n) for h in hits]
        metrics["level_accuracy_intervals"] = [wilson_interval(correct=h, n=n) for h in hits]
    return metrics


# Thresholds of the precision-recall points stored with a matcher: enough to draw the curve, small enough to store.
PR_CURVE_THRESHOLDS = tuple(round(0.05 * i, 2) for i in range(1, 20))


def best_f1_threshold(*, y_true: Sequence[int], probabilities: Sequence[float]) -> float:
    """The threshold (match when p >= threshold) of the highest F1 on these labels.

    It lies halfway between the lowest probability called a match and the next lower one, not on the
    former: the same F1 here, and a margin on both sides for pairs the holdout did not have.
    """
    y, p = np.asarray(y_true, dtype=np.int64), np.asarray(probabilities, dtype=np.float64)
    if not y.any():
        raise ValueError("choosing a threshold needs at least one match")
    cuts = np.unique(p)[::-1]  # every distinct probability, highest first: each is a candidate threshold
    positives = y.sum()
    order = np.argsort(-p, kind="stable")
    # Pairs called matches at each cut: all with p >= cut; counting in sorted order gives tp and calls at once.
    calls = np.searchsorted(-p[order], -cuts, side="right")
    tp = np.concatenate([[0], np.cumsum(y[order])])[calls]
    f1 = 2 * tp / (calls + positives)
    best = int(np.argmax(f1))  # the first best: the highest threshold among equals, the fewest calls
    lower = cuts[best + 1] if best + 1 < len(cuts) else 0.0
    return float((cuts[best] + lower) / 2)


def match_metrics(*, y_true: Sequence[int], probabilities: Sequence[float], threshold: float) -> dict:
    """Precision, recall and F1 of "match when p >= threshold", rounded to 4 decimals.

    Returns {"n", "positives", "threshold", "precision", "recall", "f1", "average_precision",
    "counts": {"tp", "fp", "fn", "tn"}, "pr_curve": [{"threshold", "precision", "recall"}, ...]}
    (one point per PR_CURVE_THRESHOLDS; precision None where nothing is called a match).
    Undefined precision or recall counts as 0 in the headline figures.
    """
    y, p = np.asarray(y_true, dtype=bool), np.asarray(probabilities, dtype=np.float64)
    if len(y) != len(p):
        raise ValueError(f"y_true has {len(y)} labels and probabilities {len(p)}")
    predicted = p >= threshold
    tp, fp = int((predicted & y).sum()), int((predicted & ~y).sum())
    fn, tn = int((~predicted & y).sum()), int((~predicted & ~y).sum())
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "n": len(y),
        "positives": int(y.sum()),
        "threshold": _round(threshold),
        "precision": _round(precision),
        "recall": _round(recall),
        "f1": _round(f1),
        "average_precision": _round(average_precision_score(y, p)) if y.any() else 0.0,
        "counts": {"tp": tp, "fp": fp, "fn": fn, "tn": tn},
        "pr_curve": [_pr_point(y, p, cut) for cut in PR_CURVE_THRESHOLDS],
    }


def _pr_point(y: np.ndarray, p: np.ndarray, threshold: float) -> dict:
    called = p >= threshold
    hits = int((called & y).sum())
    return {
        "threshold": threshold,
        "precision": _round(hits / called.sum()) if called.any() else None,
        "recall": _round(hits / y.sum()) if y.any() else 0.0,
    }
