"""Fit a categorizer on labeled texts: measure it on a stratified holdout, then refit on every label."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.pipeline import Pipeline

from .config import ModelConfig
from .features import build_pipeline
from .metrics import evaluate

MIN_FOR_HOLDOUT = 10


class TrainingError(ValueError):
    """The labels cannot train a model (empty, one class, no usable text); the message says why."""


@dataclass
class TrainResult:
    """A fitted pipeline (trained on all labels) and how it was measured.

    metrics: ``evaluate()`` output plus "evaluated_on" ("holdout" or "training") and, when the
    holdout is partial or missing, "note".
    split: {"n", "train", "holdout", "seed", "holdout_ids" (indices into the input), "refit_on_all": True}.
    timings: seconds; "featurize_fit_s" and "fit_s" are the final fit on all labels (vectorizers,
    then classifier), "evaluate_s" the holdout model's fit, prediction and metrics, "total_s" all.
    """

    pipeline: Pipeline
    classes: list[str]
    metrics: dict
    split: dict
    timings: dict


def holdout_split(labels: Sequence[str], *, fraction: float, seed: int) -> tuple[list[int], list[int], list[str]]:
    """Stratified (train indices, holdout indices, notes).

    Each class gives round(count * fraction) examples to the holdout but keeps at least one for
    training, so a single-example class is trained on and never held out. Fewer than
    MIN_FOR_HOLDOUT labels give no holdout at all.
    """
    n = len(labels)
    if fraction == 0:
        return list(range(n)), [], ["holdout fraction is 0"]
    if n < MIN_FOR_HOLDOUT:
        return list(range(n)), [], [f"too few labels for a holdout ({n} < {MIN_FOR_HOLDOUT})"]
    rng = np.random.default_rng(seed)
    y = np.asarray(labels)
    held: list[int] = []
    missing: list[str] = []
    for label in sorted(set(labels)):
        members = rng.permutation(np.flatnonzero(y == label))
        take = min(len(members) - 1, int(len(members) * fraction + 0.5))
        held.extend(members[:take].tolist())
        if take == 0:
            missing.append(label)
    held.sort()
    held_set = set(held)
    train_ids = [i for i in range(n) if i not in held_set]
    # A count and a few names: with a large taxonomy early on, most classes are in the list.
    shown = ", ".join(missing[:5]) + (", ..." if len(missing) > 5 else "")
    notes = []
    if missing:
        notes.append(f"{len(missing)} of {len(set(labels))} classes have too few labels to hold out ({shown})")
    if not held:
        notes = ["no class has enough labels for a holdout"]
    return train_ids, held, notes


def _fit(pipeline: Pipeline, texts: list[str], labels: list[str]) -> tuple[float, float]:
    """Fit in two timed steps (vectorizers, classifier); equivalent to ``pipeline.fit``."""
    started = time.perf_counter()
    features = pipeline[:-1].fit_transform(texts)
    featurized = time.perf_counter()
    pipeline[-1].fit(features, labels)
    return featurized - started, time.perf_counter() - featurized


def train(
    *,
    texts: Sequence[str],
    labels: Sequence[str],
    config: ModelConfig,
    label_paths: Mapping[str, Sequence[str]] | None = None,
) -> TrainResult:
    """Train ``config``'s pipeline on (texts, labels); see TrainResult for what comes back.

    The holdout metrics describe a model fitted on the other labels; the returned pipeline is then
    refitted on all labels, because every label helps the deployed model. When no holdout is
    possible the metrics are measured on the training data (optimistic) and say so.
    ``label_paths`` (label -> taxonomy path) adds accuracy per taxonomy level.
    Raises TrainingError for empty input, mismatched lengths, or fewer than 2 classes.
    """
    started = time.perf_counter()
    texts, labels = list(texts), [str(label) for label in labels]
    if not texts:
        raise TrainingError("no labeled examples to train on")
    if len(texts) != len(labels):
        raise TrainingError(f"{len(texts)} texts but {len(labels)} labels")
    classes = sorted(set(labels))
    if len(classes) < 2:
        raise TrainingError(f"training needs at least 2 classes, the labels use {len(classes)}: {classes}")
    train_ids, holdout_ids, notes = holdout_split(labels, fraction=config.holdout, seed=config.seed)
    try:
        metrics = None
        if holdout_ids:
            model = build_pipeline(config)
            _fit(model, [texts[i] for i in train_ids], [labels[i] for i in train_ids])
            predicted = model.predict([texts[i] for i in holdout_ids]).tolist()
            truth = [labels[i] for i in holdout_ids]
            metrics = evaluate(y_true=truth, y_pred=predicted, classes=classes, label_paths=label_paths)
            metrics["evaluated_on"] = "holdout"
        evaluated = time.perf_counter()
        pipeline = build_pipeline(config)
        featurize_s, fit_s = _fit(pipeline, texts, labels)
        if metrics is None:
            predicted = pipeline.predict(texts).tolist()
            metrics = evaluate(y_true=labels, y_pred=predicted, classes=classes, label_paths=label_paths)
            metrics["evaluated_on"] = "training"
            notes.append("metrics are measured on the training data and are optimistic")
    except ValueError as exc:  # e.g. an empty vocabulary when every text is blank
        raise TrainingError(f"training failed: {exc}") from exc
    if notes:
        metrics["note"] = "; ".join(notes)
    finished = time.perf_counter()
    evaluate_s = evaluated - started if holdout_ids else finished - evaluated - featurize_s - fit_s
    return TrainResult(
        pipeline=pipeline,
        classes=classes,
        metrics=metrics,
        split={
            "n": len(texts),
            "train": len(train_ids),
            "holdout": len(holdout_ids),
            "seed": config.seed,
            "holdout_ids": holdout_ids,
            "refit_on_all": True,
        },
        timings={
            "featurize_fit_s": round(featurize_s, 3),
            "fit_s": round(fit_s, 3),
            "evaluate_s": round(evaluate_s, 3),
            "total_s": round(finished - started, 3),
        },
    )
