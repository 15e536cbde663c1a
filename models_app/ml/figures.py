"""Which of a model's measured figures may be shown, and with what uncertainty.

A figure needs at least MIN_EVALUATED held-out labels. At 30 the 95% Wilson interval of an accuracy
is still about 30 points wide (0.63-0.90 around 0.80, 0.33-0.67 around 0.50), and below that it
widens quickly while a single label moves the figure by more than 3 points: a model measured on one
product shows 0% or 100%. 30 is where the figure with its interval starts to separate a useful
model from a useless one; the interval is always shown beside it, so nobody reads 80% as exact.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .metrics import wilson_interval

MIN_EVALUATED = 30
# What a matcher is measured by, at its threshold, where a categorizer has an accuracy.
MATCHER_KEYS = ("precision", "recall", "f1", "threshold", "average_precision")


def withheld_reason(n: int) -> str:
    return f"too few held-out labels: {n}"


def headline(metrics: Mapping[str, Any]) -> dict[str, Any]:
    """What the pages and the API show of a training's metrics: figures with their 95% interval, or why none.

    Returns {"n", "evaluated_on", "folds", "accuracy", "accuracy_interval", "macro_f1",
    "level_accuracy": [{"accuracy", "interval"}, ...] (depth 1 first), "withheld"}, and for a matcher
    (metrics with an "f1": ``match_metrics``) its "precision", "recall", "f1", "threshold" and
    "average_precision" instead of an accuracy (None for a categorizer). When fewer than
    MIN_EVALUATED labels were held out (or the figures were measured on the training data) the
    figures are None, the level list is empty, and "withheld" says why. Metrics stored before
    intervals were recorded get theirs from the accuracy and n.
    """
    n = int(metrics.get("n") or 0)
    accuracy = metrics.get("accuracy")
    result: dict[str, Any] = {
        "n": n,
        "evaluated_on": metrics.get("evaluated_on"),
        "folds": metrics.get("folds"),
        "accuracy": None,
        "accuracy_interval": None,
        "macro_f1": None,
        "level_accuracy": [],
        "withheld": None,
        **dict.fromkeys(MATCHER_KEYS),
    }
    if metrics.get("evaluated_on") == "training":
        # Figures on the labels a model was fitted on say how well it memorized, not how it labels new products.
        return result | {"withheld": "measured on the training data, not on held-out labels"}
    if "f1" in metrics:
        if n < MIN_EVALUATED or not isinstance(metrics["f1"], int | float):
            return result | {"withheld": withheld_reason(n)}
        return result | {key: metrics.get(key) for key in MATCHER_KEYS}
    if n < MIN_EVALUATED or not isinstance(accuracy, int | float):
        return result | {"withheld": withheld_reason(n)}
    levels = metrics.get("level_accuracy") or []
    level_intervals = metrics.get("level_accuracy_intervals") or [None] * len(levels)
    return result | {
        "accuracy": accuracy,
        "accuracy_interval": metrics.get("accuracy_interval") or _interval(accuracy, n),
        "macro_f1": metrics.get("macro_f1"),
        "level_accuracy": [
            {"accuracy": level, "interval": interval or _interval(level, n)}
            for level, interval in zip(levels, level_intervals, strict=True)
        ],
    }


def _interval(share: float, n: int) -> list[float] | None:
    # Shares are stored rounded to 4 decimals: the nearest count is exact below 10,000 labels, off by one above.
    return wilson_interval(correct=round(share * n), n=n)
