"""Fit a categorizer on labeled texts: measure it on a stratified holdout, then refit on every label."""

from __future__ import annotations

import time
import warnings
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline

from .config import ModelConfig, TrainingError
from .features import fit_classifier, fit_vectorizers, rows_predict
from .figures import MIN_EVALUATED, withheld_reason
from .metrics import evaluate

MIN_FOR_HOLDOUT = 10
CV_FOLDS = 5
# Cross-validation costs about CV_FOLDS trainings. Below this it takes seconds; above it a holdout
# too small for a figure means the holdout fraction is too small, and a larger one is the cheap fix.
MAX_CROSS_VALIDATED = 5000


@dataclass
class TrainResult:
    """A fitted pipeline (trained on all labels) and how it was measured.

    metrics: ``evaluate()`` output plus "evaluated_on": "holdout" when the holdout has at least
    MIN_EVALUATED labels, else "cross-validation" (pooled out-of-fold predictions, with "folds"),
    else None with no figures at all ({"n", "evaluated_on", "accuracy": None, "macro_f1": None}:
    a figure on a handful of labels misleads more than none); "note" says why when it is not a
    plain holdout, or when classes were too small to be measured.
    split: {"n", "train", "holdout", "seed", "holdout_ids" (indices into the input), "refit_on_all": True},
    and "folds" when cross-validated (then no holdout: "train" is every label).
    timings: seconds; "featurize_fit_s" is the vectorizers' fit and the labeled texts' featurizing (once, for
    every model of the run), "fit_s" the final classifier's fit on all labels, "evaluate_s" the vectorizers and
    the holdout model's or the folds' fits, predictions and metrics, "total_s" all.
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


def _cross_validated(
    rows: sp.csr_matrix,
    labels: list[str],
    classes: list[str],
    config: ModelConfig,
    label_paths: Mapping[str, Sequence[str]] | None,
    vectorizers: Pipeline,
) -> tuple[dict | None, int, list[str]]:
    """Metrics of out-of-fold predictions pooled over a stratified k-fold, the labels scored, and notes.

    As in the holdout, the only label of a class is always trained on and never scored: a model that
    never saw its class cannot get it right, while the deployed model has seen it. None (no metrics)
    when fewer than MIN_EVALUATED labels can be scored.
    """
    counts = Counter(labels)
    scored = np.array([i for i, label in enumerate(labels) if counts[label] > 1], dtype=np.int64)
    always_trained = [i for i, label in enumerate(labels) if counts[label] == 1]
    if len(scored) < MIN_EVALUATED:
        return None, len(scored), []
    folds = min(CV_FOLDS, max(counts.values()))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=config.seed)
    with warnings.catch_warnings():
        # Classes smaller than the folds are expected early on; each of their labels is still scored once.
        warnings.simplefilter("ignore", UserWarning)
        splits = list(splitter.split(np.zeros(len(scored)), [labels[i] for i in scored]))
    truth: list[str] = []
    predicted: list[str] = []
    for train_part, test_part in splits:
        train_ids = [*scored[train_part].tolist(), *always_trained]
        test_ids = scored[test_part].tolist()
        model = fit_classifier(
            config, vectorizers, rows[train_ids], [labels[i] for i in train_ids], label_paths=label_paths
        )
        predicted.extend(rows_predict(model, rows[test_ids]).tolist())
        truth.extend(labels[i] for i in test_ids)
    metrics = evaluate(y_true=truth, y_pred=predicted, classes=classes, label_paths=label_paths)
    metrics["evaluated_on"] = "cross-validation"
    metrics["folds"] = folds
    notes = [f"measured by {folds}-fold cross-validation over {len(scored)} labels"]
    if always_trained:
        single = len(always_trained)
        classes_word = "class" if single == 1 else "classes"
        notes.append(f"{single} {classes_word} with a single label trained on but not measured")
    return metrics, len(scored), notes


def train(
    *,
    texts: Sequence[str],
    labels: Sequence[str],
    config: ModelConfig,
    label_paths: Mapping[str, Sequence[str]] | None = None,
    catalog: Sequence[str] = (),
) -> TrainResult:
    """Train ``config``'s pipeline on (texts, labels); see TrainResult for what comes back.

    The vectorizers are fitted once, without labels, and shared by the measured models and the final one: on
    the distinct texts of `catalog` (the dataset's products, labeled or not, or a sample of them;
    ``fit_vectorizers``), or without one on the labeled texts (the held-out ones too: no label is read).

    The holdout metrics describe a model fitted on the other labels; the returned pipeline is then
    refitted on all labels, because every label helps the deployed model. A holdout too small for a
    figure (under MIN_EVALUATED labels) gives way to cross-validation over every label, up to
    MAX_CROSS_VALIDATED labels; with fewer than MIN_EVALUATED labels to score there are no figures.
    ``label_paths`` (label -> taxonomy path) adds accuracy per taxonomy level.
    Raises TrainingError for empty input, mismatched lengths, or fewer than 2 classes.
    """
    started = time.perf_counter()
    texts, labels = list(texts), [str(label) for label in labels]
    if not texts:
        raise TrainingError("no labeled examples to train on")
    if len(texts) != len(labels):
        raise TrainingError(f"{len(texts)} texts but {len(labels)} labels")
    label_classes(labels)
    try:
        vectorizers, rows = fit_vectorizers(config, texts, catalog)
    except ValueError as exc:  # e.g. an empty vocabulary when every text is blank
        raise TrainingError(f"training failed: {exc}") from exc
    return train_rows(
        vectorizers=vectorizers, rows=rows, labels=labels, config=config, label_paths=label_paths, started=started
    )


def cold_start_over(
    labels: Sequence[str],
    *,
    examples: int,
    config: ModelConfig | None = None,
    label_paths: Mapping[str, Sequence[str]] | None = None,
) -> bool:
    """Whether a model trained on `labels` can rank the queue: every label seen has `examples` examples.

    The "taxonomy" classifier decides the first branch of the tree first, and a taxonomy of thousands of
    leaves never gives every leaf seen a few examples (10k labels over 5,595 leaves), so for it the count is
    per branch at the first level where the seen labels' paths (`label_paths`) part.
    """
    if not labels:
        return False
    if config is not None and config.classifier == "taxonomy" and label_paths:
        paths = {label: tuple(label_paths.get(label) or (label,)) for label in set(labels)}
        depth = 0
        while len({path[: depth + 1] for path in paths.values()}) == 1 and depth < max(map(len, paths.values())):
            depth += 1
        labels = [paths[label][: depth + 1] for label in labels]
    return min(Counter(labels).values()) >= examples


def label_classes(labels: Sequence[str]) -> list[str]:
    """The sorted classes of `labels`; TrainingError when there are none or fewer than 2."""
    if not labels:
        raise TrainingError("no labeled examples to train on")
    classes = sorted(set(labels))
    if len(classes) < 2:
        raise TrainingError(f"training needs at least 2 classes, the labels use {len(classes)}: {classes}")
    return classes


def train_rows(
    *,
    vectorizers: Pipeline,
    rows: sp.spmatrix,
    labels: Sequence[str],
    config: ModelConfig,
    label_paths: Mapping[str, Sequence[str]] | None = None,
    started: float | None = None,
) -> TrainResult:
    """``train`` on rows already featurized by the fitted `vectorizers` (a kept catalog matrix's rows of the
    labeled products, ``ml.catalog_matrix``); the returned pipeline starts with `vectorizers`, so it also
    predicts on texts. `started` (a ``perf_counter`` time) counts the featurizing before in the timings."""
    featurized = time.perf_counter()
    started = featurized if started is None else started
    labels = [str(label) for label in labels]
    rows = sp.csr_matrix(rows)
    if not labels:
        raise TrainingError("no labeled examples to train on")
    if rows.shape[0] != len(labels):
        raise TrainingError(f"{rows.shape[0]} rows but {len(labels)} labels")
    classes = label_classes(labels)
    train_ids, holdout_ids, notes = holdout_split(labels, fraction=config.holdout, seed=config.seed)
    split = {
        "n": len(labels),
        "train": len(train_ids),
        "holdout": len(holdout_ids),
        "seed": config.seed,
        "holdout_ids": holdout_ids,
        "refit_on_all": True,
    }
    featurize_s = featurized - started
    try:
        measured_on_holdout = len(holdout_ids) >= MIN_EVALUATED
        if measured_on_holdout:
            model = fit_classifier(
                config, vectorizers, rows[train_ids], [labels[i] for i in train_ids], label_paths=label_paths
            )
            predicted = rows_predict(model, rows[holdout_ids]).tolist()
            truth = [labels[i] for i in holdout_ids]
            metrics = evaluate(y_true=truth, y_pred=predicted, classes=classes, label_paths=label_paths)
            metrics["evaluated_on"] = "holdout"
        else:
            held_out = len(holdout_ids)
            cross_validated, scorable = None, held_out
            if len(labels) <= MAX_CROSS_VALIDATED:
                cross_validated, scorable, cv_notes = _cross_validated(
                    rows, labels, classes, config, label_paths, vectorizers
                )
            if cross_validated is not None:
                metrics = cross_validated
                notes = [f"the holdout would have {held_out} labels, too few for a figure", *cv_notes]
                split.update(train=len(labels), holdout=0, holdout_ids=[], folds=metrics["folds"])
            else:
                metrics = {"n": scorable, "evaluated_on": None, "accuracy": None, "macro_f1": None}
                notes = [f"{withheld_reason(scorable)}; figures need at least {MIN_EVALUATED}"]
        evaluated = time.perf_counter()
        pipeline = fit_classifier(
            config, vectorizers, rows, labels, start=model if measured_on_holdout else None, label_paths=label_paths
        )
        fit_s = time.perf_counter() - evaluated
    except ValueError as exc:
        raise TrainingError(f"training failed: {exc}") from exc
    if notes:
        metrics["note"] = "; ".join(notes)
    finished = time.perf_counter()
    return TrainResult(
        pipeline=pipeline,
        classes=classes,
        metrics=metrics,
        split=split,
        timings={
            "featurize_fit_s": round(featurize_s, 3),
            "fit_s": round(fit_s, 3),
            "evaluate_s": round(evaluated - started, 3),
            "total_s": round(finished - started, 3),
        },
    )
