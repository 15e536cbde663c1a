"""Compare model configs on the same labels by stratified k-fold cross-validation."""

from __future__ import annotations

import time
import warnings
from collections.abc import Mapping, Sequence
from statistics import mean, pstdev

import numpy as np
from sklearn.model_selection import StratifiedKFold

from .config import ModelConfig
from .features import fit_classifier, fit_vectorizers, rows_predict
from .metrics import evaluate


def fold_count(labels: Sequence[str], folds: int) -> tuple[int, str | None]:
    """Folds to use and why they were reduced: at most the smallest class size, at least 2."""
    smallest = min(np.unique(np.asarray(labels), return_counts=True)[1])
    if smallest >= folds:
        return folds, None
    used = max(2, int(smallest))
    note = f"{used} folds instead of {folds}: the smallest class has {smallest} label(s)"
    if smallest < 2:
        note += "; its single example is scored by a model that never saw its class"
    return used, note


def cross_validate(
    *,
    texts: Sequence[str],
    labels: Sequence[str],
    configs: Mapping[str, ModelConfig],
    folds: int = 5,
    seed: int = 0,
    label_paths: Mapping[str, Sequence[str]] | None = None,
    catalog: Sequence[str] = (),
) -> list[dict]:
    """Stratified k-fold comparison of named configs, best mean accuracy first.

    Every config sees the same folds. Each result: {"name", "config" (to_dict), "folds",
    "accuracy_mean", "accuracy_std", "macro_f1_mean", "macro_f1_std", "fit_seconds_mean"}, plus
    "level_accuracy_mean" with ``label_paths``, "note" when folds were reduced, and "error" (and
    no scores; sorted last) when a config cannot be fitted, so one bad config does not sink the page.
    Each config's vectorizers are fitted once, without labels, on the distinct texts of `catalog`, or without one
    on the labeled texts (as a training fits them, ``fit_vectorizers``); its folds fit the classifier on their rows.
    fit_seconds is what one training would cost: the vectorizers' fit plus the classifier's fit on one fold.
    """
    texts, labels = list(texts), [str(label) for label in labels]
    if folds < 2:
        raise ValueError(f"cross-validation needs at least 2 folds, got {folds}")
    if len(texts) != len(labels):
        raise ValueError(f"{len(texts)} texts but {len(labels)} labels")
    classes = sorted(set(labels))
    if len(classes) < 2:
        raise ValueError(f"cross-validation needs at least 2 classes, the labels use {len(classes)}")
    used, note = fold_count(labels, folds)
    splitter = StratifiedKFold(n_splits=used, shuffle=True, random_state=seed)
    with warnings.catch_warnings():
        # The "least populated class" warning is reported in the note instead.
        warnings.simplefilter("ignore", UserWarning)
        splits = list(splitter.split(np.zeros(len(labels)), labels))
    results = [
        _run(name, config, texts, labels, classes, splits, label_paths, catalog) for name, config in configs.items()
    ]
    for result in results:
        result["folds"] = used
        if note:
            result["note"] = note
    return sorted(results, key=lambda r: (-r.get("accuracy_mean", -1.0), r["name"]))


def _run(
    name: str,
    config: ModelConfig,
    texts: list[str],
    labels: list[str],
    classes: list[str],
    splits: list[tuple[np.ndarray, np.ndarray]],
    label_paths: Mapping[str, Sequence[str]] | None,
    catalog: Sequence[str],
) -> dict:
    result: dict = {"name": name, "config": config.to_dict()}
    fold_metrics, fit_seconds = [], []
    try:
        started = time.perf_counter()
        vectorizers, rows = fit_vectorizers(config, texts, catalog)
        featurize_s = time.perf_counter() - started
        for train_ids, test_ids in splits:
            started = time.perf_counter()
            pipeline = fit_classifier(
                config, vectorizers, rows[train_ids], [labels[i] for i in train_ids], label_paths=label_paths
            )
            fit_seconds.append(featurize_s + time.perf_counter() - started)
            predicted = rows_predict(pipeline, rows[test_ids]).tolist()
            truth = [labels[i] for i in test_ids]
            fold_metrics.append(evaluate(y_true=truth, y_pred=predicted, classes=classes, label_paths=label_paths))
    except ValueError as exc:
        result["error"] = str(exc)
        return result
    for key in ("accuracy", "macro_f1"):
        values = [m[key] for m in fold_metrics]
        result[f"{key}_mean"], result[f"{key}_std"] = round(mean(values), 4), round(pstdev(values), 4)
    result["fit_seconds_mean"] = round(mean(fit_seconds), 3)
    if label_paths is not None:
        levels = np.array([m["level_accuracy"] for m in fold_metrics])
        result["level_accuracy_mean"] = [round(float(v), 4) for v in levels.mean(axis=0)]
    return result
