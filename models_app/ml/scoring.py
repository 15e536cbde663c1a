"""Bulk scoring for active learning: top-k suggestions and an uncertainty score, chunk by chunk."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice

import numpy as np
from scipy.special import entr
from sklearn.pipeline import Pipeline

STRATEGIES = ("least_confidence", "margin", "entropy")


@dataclass
class ScoreChunk:
    """Scores of ``texts[start : start + len(top_labels)]``.

    top_labels: k labels per text, most probable first. top_probs: (n, k) float32, same order.
    uncertainty: (n,) float32 in [0, 1], higher = more uncertain, whatever the strategy.
    """

    start: int
    top_labels: list[list[str]]
    top_probs: np.ndarray
    uncertainty: np.ndarray


def top_k(probs: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(column indices, probabilities) of the k largest values of each row, largest first."""
    k = min(k, probs.shape[1])
    # argpartition is O(classes) per row; only the k winners get sorted.
    part = np.argpartition(-probs, k - 1, axis=1)[:, :k]
    part_probs = np.take_along_axis(probs, part, axis=1)
    order = np.argsort(-part_probs, axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1), np.take_along_axis(part_probs, order, axis=1)


def uncertainty(probs: np.ndarray, strategy: str) -> np.ndarray:
    """Uncertainty of each probability row (n, classes), higher = more uncertain, in [0, 1].

    least_confidence: 1 - p1. margin: 1 - (p1 - p2). entropy: Shannon entropy divided by
    log(classes), so a uniform row scores 1 and a one-hot row 0.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES}, got {strategy!r}")
    probs = np.asarray(probs, dtype=np.float64)
    n_classes = probs.shape[1]
    if strategy == "entropy":
        values = entr(probs).sum(axis=1) / np.log(n_classes) if n_classes > 1 else np.zeros(len(probs))
    else:
        _, best = top_k(probs, 2)
        second = best[:, 1] if n_classes > 1 else 0.0
        values = 1 - best[:, 0] if strategy == "least_confidence" else 1 - (best[:, 0] - second)
    return np.clip(values, 0.0, 1.0).astype(np.float32)


def score(
    *,
    pipeline: Pipeline,
    texts: Iterable[str],
    k: int = 3,
    strategy: str = "margin",
    chunk_size: int = 20_000,
) -> Iterator[ScoreChunk]:
    """Score texts with a fitted pipeline, yielding one ScoreChunk per ``chunk_size`` texts.

    ``texts`` may be any iterable (a generator over a database cursor keeps memory flat for 1M
    products); ``start`` tells which input positions a chunk covers. k is capped at the number of
    classes. Margin uses the top two probabilities even when k is 1.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES}, got {strategy!r}")
    if k < 1 or chunk_size < 1:
        raise ValueError(f"k and chunk_size must be positive, got k={k}, chunk_size={chunk_size}")
    classes = np.asarray(pipeline.classes_, dtype=object)
    iterator = iter(texts)
    start = 0
    while chunk := list(islice(iterator, chunk_size)):
        probs = pipeline.predict_proba(chunk)
        columns, top_probs = top_k(probs, k)
        yield ScoreChunk(
            start=start,
            top_labels=classes[columns].tolist(),
            top_probs=top_probs.astype(np.float32),
            uncertainty=uncertainty(probs, strategy),
        )
        start += len(chunk)
