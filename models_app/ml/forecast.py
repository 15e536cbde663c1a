"""Learning-curve fit and a forecast of the labels needed to reach a target accuracy."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np
from scipy.optimize import OptimizeWarning, curve_fit

MIN_POINTS = 3
CURVE_POINTS = 12


def inverse_power_law(n: np.ndarray, a: float, b: float, c: float) -> np.ndarray:
    """acc(n) = a - b * n^(-c): rises with n and levels off at the asymptote a."""
    return a - b * np.power(n, -c)


def forecast(*, points: Sequence[tuple[int, float]], target: float) -> dict:
    """Fit ``inverse_power_law`` to (labels, holdout accuracy) points and solve acc(n) = target.

    Returns {"fitted", "params": {"a", "b", "c"}, "target", "labels_needed" (total labels, or
    None), "more_labels" (beyond the largest label count seen, or None), "reason", "curve":
    [[n, predicted accuracy], ...] from the smallest n up to twice the labels needed (twice the
    largest n seen when there is no answer)}. Bounds: 0 < a <= 1, b > 0, 0 < c < 2. With several
    points at one label count, the fit weighs each of them. labels_needed is None with fewer than
    3 distinct label counts, when the fit fails, or when the asymptote a does not exceed the target.
    """
    if not 0 < target <= 1:
        raise ValueError(f"target must be an accuracy in (0, 1], got {target!r}")
    pairs = sorted((int(n), float(acc)) for n, acc in points if n > 0)
    result: dict = {"fitted": False, "params": {}, "target": target, "labels_needed": None, "more_labels": None}
    distinct = len({n for n, _ in pairs})
    if distinct < MIN_POINTS:
        return {**result, "reason": f"need points at {MIN_POINTS} or more label counts, got {distinct}", "curve": []}
    x = np.array([n for n, _ in pairs], dtype=float)
    y = np.array([acc for _, acc in pairs])
    # Start from a plausible curve: asymptote a bit above the best accuracy seen, c = 0.5.
    a0 = min(1.0, y.max() + 0.01)
    p0 = [a0, max((a0 - y[0]) * math.sqrt(x[0]), 1e-3), 0.5]
    try:
        with warnings.catch_warnings():
            # Three points fit three parameters exactly and leave no covariance; only the fit is used.
            warnings.simplefilter("ignore", OptimizeWarning)
            (a, b, c), _ = curve_fit(
                inverse_power_law,
                x,
                y,
                p0=p0,
                bounds=([1e-9, 1e-12, 1e-6], [1.0, np.inf, 2.0 - 1e-6]),
                # Tight tolerances: the few points cost nothing, and n = (b / (a - target))^(1/c)
                # magnifies small parameter errors near the asymptote.
                ftol=1e-12,
                xtol=1e-12,
                gtol=1e-12,
                maxfev=20_000,
            )
    except (RuntimeError, ValueError) as exc:
        return {**result, "reason": f"the learning curve could not be fitted: {exc}", "curve": []}
    result.update(fitted=True, params={"a": round(float(a), 6), "b": round(float(b), 6), "c": round(float(c), 6)})
    largest = int(x.max())
    if a <= target:
        result["reason"] = f"the curve levels off at accuracy {a:.3f}, which does not reach the target {target}"
        return {**result, "curve": _curve(int(x.min()), 2 * largest, a, b, c)}
    needed = (b / (a - target)) ** (1 / c)
    if not math.isfinite(needed) or needed > 1e12:
        result["reason"] = "the target is too close to the curve's asymptote for a usable forecast"
        return {**result, "curve": _curve(int(x.min()), 2 * largest, a, b, c)}
    needed = max(1, math.ceil(round(needed, 6)))  # round first: 400.0000001 means 400
    result.update(labels_needed=needed, more_labels=max(0, needed - largest))
    if needed <= largest:
        result["reason"] = f"the fitted curve reaches {target} at about {needed} labels, already passed"
    else:
        result["reason"] = f"the fitted curve reaches {target} at about {needed} labels ({needed - largest} more)"
    return {**result, "curve": _curve(int(x.min()), 2 * max(needed, largest), a, b, c)}


def _curve(low: int, high: int, a: float, b: float, c: float) -> list[list[float]]:
    """Predicted accuracy at label counts spaced evenly on a log scale, rounded for JSON."""
    counts = np.unique(np.geomspace(max(1, low), max(low + 1, high), CURVE_POINTS).round().astype(int))
    return [[int(n), round(float(inverse_power_law(n, a, b, c)), 4)] for n in counts]
