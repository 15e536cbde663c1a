"""Product matching: train a pair classifier on labeled pairs, choose its threshold, score pairs in chunks.

Labels are 1 (same product) and 0 (different products). A matcher is measured on a stratified holdout
(or, with too few labels for one, by cross-validation as the categorizer is) at its threshold: 0.5 on
its calibrated probabilities, or with `threshold: "holdout"` the one of the best F1 there (see
MatcherConfig for why 0.5 is the default). It is then refitted on every label and keeps that threshold.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import islice
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from .config import MatcherConfig
from .features import DTYPE
from .figures import MIN_EVALUATED
from .metrics import best_f1_threshold, match_metrics
from .pair_features import PairFeaturizer
from .pair_table import PairCache
from .train import CV_FOLDS, MAX_CROSS_VALIDATED, TrainingError, holdout_split

Record = Mapping[str, Any]
# The threshold of a matcher that could not be measured: its probabilities are calibrated, so 0.5 is "as likely as not".
DEFAULT_THRESHOLD = 0.5
# Kept inside (0, 1) so that uncertainty, which divides by t and by 1 - t, is defined.
THRESHOLD_RANGE = (0.01, 0.99)
CALIBRATION_FOLDS = 3
# Gradient boosting runs OpenMP threads. On matcher-sized data (thousands of pairs, ~40 columns) their
# synchronization costs more than it saves, and on a busy 2-core machine their spin-waits made a fit
# of 128 pairs take 8.5 s instead of 0.12 s on one thread. Workers run side by side anyway.
THREADS = 1
# Row blocks predicted side by side past this many rows a block (a thread costs more than a few thousand rows).
PREDICT_THREADS = 2
PREDICT_BLOCK_ROWS = 10_000


@dataclass
class Matcher:
    """A fitted matcher: featurizer, classifier and the threshold above which a pair is called a match."""

    config: MatcherConfig
    featurizer: PairFeaturizer
    classifier: BaseEstimator
    threshold: float

    @property
    def feature_names(self) -> list[str]:
        return self.featurizer.feature_names_

    def predict_proba(
        self, left: Sequence[Record], right: Sequence[Record], *, cache: PairCache | None = None
    ) -> np.ndarray:
        """The match probability of each pair, float32 in [0, 1]; `cache` as in ``PairFeaturizer.transform``."""
        if not len(left):
            return np.zeros(0, dtype=DTYPE)
        return self._probabilities(self.featurizer.transform(left, right, cache=cache))

    def predict_proba_ids(self, left: np.ndarray, right: np.ndarray, *, cache: PairCache) -> np.ndarray:
        """``predict_proba`` of pairs of products given by id, whose records `cache` holds."""
        if not len(left):
            return np.zeros(0, dtype=DTYPE)
        return self._probabilities(self.featurizer.transform_ids(left, right, cache=cache))

    def _probabilities(self, features: np.ndarray) -> np.ndarray:
        # One OpenMP thread: on a busy 2-core machine two made a page of 20k pairs 10x slower (spin-waits). A large
        # page is cut in row blocks predicted by Python threads instead (the trees' loop runs without the GIL);
        # rows are independent, so the result is the same.
        blocks = min(PREDICT_THREADS, len(features) // PREDICT_BLOCK_ROWS) or 1
        with threadpool_limits(limits=THREADS, user_api="openmp"):
            if blocks == 1:
                return self._match_probabilities(features).astype(DTYPE)
            with ThreadPoolExecutor(blocks) as pool:
                parts = pool.map(self._match_probabilities, np.array_split(features, blocks))
                return np.concatenate(list(parts)).astype(DTYPE)

    def _match_probabilities(self, features: np.ndarray) -> np.ndarray:
        return self.classifier.predict_proba(features)[:, 1]


@dataclass
class MatcherResult:
    """A matcher fitted on all labels and how it was measured.

    metrics: ``match_metrics`` of the evaluated model at the chosen threshold plus "evaluated_on"
    ("holdout", "cross-validation" with "folds", or None with no figures: {"n", "evaluated_on",
    "threshold", "precision": None, "recall": None, "f1": None}) and "note" when it is not a plain
    holdout, and "best_f1_threshold" (the threshold of the best F1 on those labels). With `threshold:
    "holdout"` the threshold is chosen on the same labels it is measured on, which flatters F1 a little
    (about a point at a few hundred held-out pairs).
    split: {"n", "positives", "train", "holdout", "seed", "holdout_ids" (indices into the input),
    "refit_on_all": True}, and "folds" when cross-validated.
    timings: seconds; "featurize_fit_s" is the featurizer's fit (vocabularies, IDF) and the featurizing of all
    labels, "fit_s" the final classifier's fit, "evaluate_s" the featurizer's fit and the measured models' fits
    and predictions, "total_s" all.
    """

    matcher: Matcher
    metrics: dict
    split: dict
    timings: dict


def build_classifier(config: MatcherConfig, *, seed: int, labels: np.ndarray) -> BaseEstimator:
    """An unfitted classifier with calibrated ``predict_proba`` for these labels."""
    if config.classifier == "logreg":
        # Unweighted: class weights would shift the probabilities away from the real match rate.
        return make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=1000, random_state=seed))
    # The first runs of a dataset see a few dozen pairs: with the default 20 samples a leaf, trees fitted on
    # a calibration fold of ~26 could not split at all and answered the same for every pair.
    leaf = int(np.clip(len(labels) // 20, 2, 20))
    trees = HistGradientBoostingClassifier(
        max_iter=100, learning_rate=0.1, l2_regularization=1.0, min_samples_leaf=leaf, random_state=seed
    )
    folds = min(CALIBRATION_FOLDS, int(np.bincount(labels).min()))
    if folds < 2:  # a class of one label: nothing to calibrate on, the trees' own probabilities it is
        return trees
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    return CalibratedClassifierCV(trees, method="sigmoid", cv=splitter)


def fit_matcher(
    left: Sequence[Record],
    right: Sequence[Record],
    labels: np.ndarray,
    *,
    config: MatcherConfig,
    seed: int,
    featurizer: PairFeaturizer | None = None,
) -> tuple[Matcher, float, float]:
    """A matcher fitted on these pairs, with the default threshold; and the seconds to featurize and to fit.

    `featurizer`: one already fitted (``PairFeaturizer.fit``); by default one is fitted on these pairs' texts."""
    started = time.perf_counter()
    if featurizer is None:
        featurizer = PairFeaturizer(fields=config.fields).fit(left, right)
    features = featurizer.transform(left, right)
    featurized = time.perf_counter()
    with threadpool_limits(limits=THREADS, user_api="openmp"):
        classifier = build_classifier(config, seed=seed, labels=labels).fit(features, labels)
    matcher = Matcher(config=config, featurizer=featurizer, classifier=classifier, threshold=DEFAULT_THRESHOLD)
    return matcher, featurized - started, time.perf_counter() - featurized


def train_matcher(
    *,
    left: Sequence[Record],
    right: Sequence[Record],
    labels: Sequence[int | bool],
    config: MatcherConfig,
    seed: int = 0,
    catalog: Sequence[Record] = (),
) -> MatcherResult:
    """Train a matcher on labeled pairs (left[i], right[i], labels[i]); see MatcherResult for what comes back.

    The featurizer's vocabularies and IDF are learned once, with no label, from the texts of `catalog` (the
    dataset's products, labeled or not, or a sample of them), or without one from the labeled pairs' texts, and
    shared by the measured fits and the final one. With few labels their texts alone give a poor IDF: on
    PriceRunner's pairs, 1,000 labels in random order scored 85.5 F1 with it and 87.8 with the catalog's
    (bench/results/matching_active.md).

    Raises TrainingError for no pairs, lengths that differ, labels other than 0/1, or a single class.
    """
    started = time.perf_counter()
    left, right, y = list(left), list(right), _labels(labels)
    if not len(y):
        raise TrainingError("no labeled pairs to train on")
    if not len(left) == len(right) == len(y):
        raise TrainingError(f"{len(left)} left records, {len(right)} right records and {len(y)} labels")
    if y.min() == y.max():
        raise TrainingError(f"training needs both matches and non-matches, every label is {int(y[0])}")
    train_ids, holdout_ids, notes = holdout_split([str(v) for v in y], fraction=config.holdout, seed=seed)
    split = {
        "n": len(y),
        "positives": int(y.sum()),
        "train": len(train_ids),
        "holdout": len(holdout_ids),
        "seed": seed,
        "holdout_ids": holdout_ids,
        "refit_on_all": True,
    }
    started_featurizer = time.perf_counter()
    featurizer = PairFeaturizer(fields=config.fields).fit(left, right, catalog=catalog)
    featurizer_s = time.perf_counter() - started_featurizer
    if len(holdout_ids) >= MIN_EVALUATED:
        measured = _fit_and_predict(
            left, right, y, train_ids, holdout_ids, config=config, seed=seed, featurizer=featurizer
        )
        truth, evaluated_on, reason = y[holdout_ids], "holdout", "the held-out labels hold no match"
    else:
        notes = [f"the holdout would have {len(holdout_ids)} labels, too few for a figure"]
        measured, folds, reason = _cross_validated(left, right, y, config=config, seed=seed, featurizer=featurizer)
        truth, evaluated_on = y, "cross-validation"
        if measured is not None:
            notes.append(f"measured by {folds}-fold cross-validation over {len(y)} labels")
            split.update(train=len(y), holdout=0, holdout_ids=[], folds=folds)
    evaluated = time.perf_counter()
    if measured is not None and truth.any():
        best = float(np.clip(best_f1_threshold(y_true=truth, probabilities=measured), *THRESHOLD_RANGE))
        threshold = best if config.threshold == "holdout" else DEFAULT_THRESHOLD
        metrics = match_metrics(y_true=truth, probabilities=measured, threshold=threshold)
        metrics["best_f1_threshold"] = round(best, 4)
        metrics["evaluated_on"] = evaluated_on
        if evaluated_on == "cross-validation":
            metrics["folds"] = split["folds"]
    else:
        threshold = DEFAULT_THRESHOLD
        metrics = {"n": 0, "evaluated_on": None, "threshold": threshold, "precision": None, "recall": None, "f1": None}
        notes.append(f"no figures: {reason}; the threshold is {DEFAULT_THRESHOLD}")
    matcher, featurize_s, fit_s = fit_matcher(left, right, y, config=config, seed=seed, featurizer=featurizer)
    matcher.threshold = threshold
    if notes:
        metrics["note"] = "; ".join(notes)
    return MatcherResult(
        matcher=matcher,
        metrics=metrics,
        split=split,
        timings={
            "featurize_fit_s": round(featurizer_s + featurize_s, 3),
            "fit_s": round(fit_s, 3),
            "evaluate_s": round(evaluated - started, 3),
            "total_s": round(time.perf_counter() - started, 3),
        },
    )


def _labels(labels: Sequence[int | bool]) -> np.ndarray:
    values = list(labels)
    wrong = [value for value in values if value not in (0, 1)]  # True == 1 and False == 0
    if wrong:
        raise TrainingError(f"labels must be 0/1 or true/false, got {wrong[:3]!r}")
    return np.asarray(values, dtype=np.int64)


def _fit_and_predict(
    left: list[Record],
    right: list[Record],
    y: np.ndarray,
    train_ids: Sequence[int],
    test_ids: Sequence[int],
    *,
    config: MatcherConfig,
    seed: int,
    featurizer: PairFeaturizer,
) -> np.ndarray:
    matcher, _, _ = fit_matcher(
        [left[i] for i in train_ids],
        [right[i] for i in train_ids],
        y[train_ids],
        config=config,
        seed=seed,
        featurizer=featurizer,
    )
    return matcher.predict_proba([left[i] for i in test_ids], [right[i] for i in test_ids])


def _cross_validated(
    left: list[Record],
    right: list[Record],
    y: np.ndarray,
    *,
    config: MatcherConfig,
    seed: int,
    featurizer: PairFeaturizer,
) -> tuple[np.ndarray | None, int, str]:
    """Out-of-fold probabilities of every label (in input order), the folds, and why there are none if so."""
    folds = min(CV_FOLDS, int(np.bincount(y).min()))
    if len(y) < MIN_EVALUATED:
        return None, 0, f"{len(y)} labels, figures need at least {MIN_EVALUATED}"
    if len(y) > MAX_CROSS_VALIDATED:
        return None, 0, f"{len(y)} labels are too many to cross-validate; hold out a larger fraction"
    if folds < 2:
        return None, 0, "a class with a single label cannot be measured"
    probabilities = np.zeros(len(y), dtype=DTYPE)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train_ids, test_ids in splitter.split(np.zeros(len(y)), y):
        probabilities[test_ids] = _fit_and_predict(
            left, right, y, train_ids, test_ids, config=config, seed=seed, featurizer=featurizer
        )
    return probabilities, folds, ""


@dataclass
class PairScores:
    """Scores of pairs ``start`` to ``start + len(probabilities)``: match probability and uncertainty, float32."""

    start: int
    probabilities: np.ndarray
    uncertainty: np.ndarray


def score_pairs(
    *,
    matcher: Matcher,
    left: Iterable[Record],
    right: Iterable[Record],
    chunk_size: int = 20_000,
    cache: PairCache | None = None,
) -> Iterator[PairScores]:
    """Score pairs (left[i], right[i]) with a fitted matcher, one PairScores per ``chunk_size`` pairs.

    ``left`` and ``right`` may be any iterables of the same length (generators over a database
    cursor keep memory flat); a ValueError is raised when one runs out before the other. Each product is
    parsed once for all the chunks (``matcher.featurizer.cache()``); pass one `cache` to several calls
    that score the same products (the pages of one rescoring).
    """
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be positive, got {chunk_size}")
    cache = cache if cache is not None else matcher.featurizer.cache()
    pairs = zip(left, right, strict=True)
    start = 0
    while chunk := list(islice(pairs, chunk_size)):
        probabilities = matcher.predict_proba([a for a, _ in chunk], [b for _, b in chunk], cache=cache)
        yield PairScores(start, probabilities, pair_uncertainty(probabilities, matcher.threshold))
        start += len(chunk)


def score_pair_ids(
    *,
    matcher: Matcher,
    left: np.ndarray,
    right: np.ndarray,
    cache: PairCache,
    new_ids: np.ndarray | Sequence[int] = (),
    new_records: Sequence[Record] = (),
) -> PairScores:
    """Score the pairs of products (left[i], right[i]) given by id, as one chunk.

    The rescoring path: `cache` (one per rescoring, ``matcher.featurizer.cache()``) holds every product met so
    far; `new_ids` and `new_records` are the products of these pairs it does not hold yet (``cache.unknown``),
    parsed here once for all the pages that follow.
    """
    cache.products_add(new_ids, new_records)
    probabilities = matcher.predict_proba_ids(left, right, cache=cache)
    return PairScores(0, probabilities, pair_uncertainty(probabilities, matcher.threshold))


def pair_uncertainty(probabilities: np.ndarray | Sequence[float] | float, threshold: float) -> np.ndarray:
    """How undecided each pair is, float32 in [0, 1]: 1 at the threshold, falling linearly to 0 at p = 0 and p = 1.

    Linear on each side of the threshold, so a threshold of 0.3 makes p = 0.15 and p = 0.65 equally
    uncertain: both lie halfway between the decision and certainty.
    """
    if not 0 < threshold < 1:
        raise ValueError(f"threshold must lie strictly between 0 and 1, got {threshold!r}")
    p = np.clip(np.asarray(probabilities, dtype=np.float64), 0.0, 1.0)
    values = np.where(p < threshold, p / threshold, (1 - p) / (1 - threshold))
    return np.atleast_1d(values).astype(np.float32)
