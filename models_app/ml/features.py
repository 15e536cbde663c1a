"""The scikit-learn pipeline a ModelConfig describes: TF-IDF word (+ char) n-grams, then a linear classifier."""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.preprocessing import normalize
from sklearn.svm import LinearSVC

from .config import FeatureConfig, ModelConfig, TrainingError
from .taxonomy import TaxonomyClassifier
from .text import Preprocessor, WordAnalyzer, char_wb_ngrams

T = TypeVar("T")
# float32 halves the memory of a 20k-row scoring chunk and of the coefficients; accuracy is unchanged.
DTYPE = np.float32


class CharNgramVectorizer(TransformerMixin, BaseEstimator):
    """TF-IDF of char n-grams inside word boundaries: the features of ``TfidfVectorizer(analyzer="char_wb")``.

    Fitting delegates to TfidfVectorizer. Transform is the hot path of rescoring 1M products, and
    scikit-learn's analyzer builds and counts ~110 n-gram strings per title in Python; here each
    distinct word of a batch is turned into vocabulary columns once and reused (catalog words
    repeat heavily), which makes transform several times faster with identical output.
    """

    def __init__(
        self,
        *,
        lowercase: bool = True,
        normalize_numbers: bool = False,
        ngram_range: tuple[int, int] = (3, 5),
        max_features: int | None = None,
        min_df: int = 1,
        sublinear_tf: bool = True,
    ) -> None:
        self.lowercase = lowercase
        self.normalize_numbers = normalize_numbers
        self.ngram_range = ngram_range
        self.max_features = max_features
        self.min_df = min_df
        self.sublinear_tf = sublinear_tf

    def _preprocessor(self) -> Preprocessor:
        return Preprocessor(lowercase=self.lowercase, normalize_numbers=self.normalize_numbers)

    def fit(self, texts: Sequence[str], y: object = None) -> CharNgramVectorizer:
        self.fit_transform(texts)
        return self

    def fit_transform(self, texts: Sequence[str], y: object = None) -> sp.csr_matrix:
        vectorizer = TfidfVectorizer(
            analyzer="char_wb",
            preprocessor=self._preprocessor(),
            ngram_range=self.ngram_range,
            max_features=self.max_features,
            min_df=self.min_df,
            sublinear_tf=self.sublinear_tf,
            dtype=DTYPE,
        )
        matrix = vectorizer.fit_transform(texts)
        self.vocabulary_ = vectorizer.vocabulary_
        self.idf_ = vectorizer.idf_.astype(DTYPE)
        return matrix

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        preprocess, vocabulary, ngram_range = self._preprocessor(), self.vocabulary_, self.ngram_range
        # Per call, so memory is bounded by one batch's distinct words.
        columns_of: dict[str, list[int]] = {}
        indices: list[int] = []
        indptr = [0]
        for text in texts:
            for word in preprocess(text).split():
                columns = columns_of.get(word)
                if columns is None:
                    grams = char_wb_ngrams(word, ngram_range)
                    columns = columns_of[word] = [vocabulary[g] for g in grams if g in vocabulary]
                indices.extend(columns)
            indptr.append(len(indices))
        matrix = sp.csr_matrix(
            (np.ones(len(indices), dtype=DTYPE), np.asarray(indices, dtype=np.int32), np.asarray(indptr)),
            shape=(len(indptr) - 1, len(vocabulary)),
        )
        matrix.sum_duplicates()  # repeated n-grams -> counts
        if self.sublinear_tf:
            np.log(matrix.data, out=matrix.data)
            matrix.data += 1
        matrix.data *= self.idf_[matrix.indices]
        return normalize(matrix, norm="l2", copy=False)


class CalibratedLinearSVC(ClassifierMixin, BaseEstimator):
    """LinearSVC with sigmoid-calibrated probabilities that also fits on classes with very few labels.

    CalibratedClassifierCV needs as many examples per class as folds, so the folds shrink to the
    smallest class (at most 3). With a single-example class no fold can hold it out, so the SVM is
    calibrated on its own training data: probabilities are then overconfident, but training works.
    """

    def __init__(self, *, C: float = 1.0, class_weight: str | None = None, random_state: int = 0) -> None:
        self.C = C
        self.class_weight = class_weight
        self.random_state = random_state

    def fit(self, X: sp.spmatrix, y: Sequence[str]) -> CalibratedLinearSVC:
        svc = LinearSVC(C=self.C, class_weight=self.class_weight, random_state=self.random_state)
        folds = min(3, int(np.unique(y, return_counts=True)[1].min()))
        if folds >= 2:
            self.model_ = CalibratedClassifierCV(svc, cv=folds, method="sigmoid").fit(X, y)
        else:  # one "fold" that trains and calibrates on everything
            everything = np.arange(X.shape[0])
            frozen = FrozenEstimator(svc.fit(X, y))
            self.model_ = CalibratedClassifierCV(frozen, method="sigmoid", cv=[(everything, everything)]).fit(X, y)
        self.classes_ = self.model_.classes_
        return self

    def predict_proba(self, X: sp.spmatrix) -> np.ndarray:
        return self.model_.predict_proba(X)

    def predict(self, X: sp.spmatrix) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


def build_features(config: FeatureConfig) -> TfidfVectorizer | FeatureUnion:
    """Word TF-IDF, unioned with char TF-IDF when ``char_ngrams`` is set; each capped at ``max_features``."""
    words = TfidfVectorizer(
        analyzer=WordAnalyzer(
            lowercase=config.lowercase,
            normalize_numbers=config.normalize_numbers,
            tokenizer=config.tokenizer,
            ngram_range=config.word_ngrams,
        ),
        max_features=config.max_features,
        min_df=config.min_df,
        sublinear_tf=config.sublinear_tf,
        dtype=DTYPE,
    )
    if config.char_ngrams is None:
        return words
    chars = CharNgramVectorizer(
        lowercase=config.lowercase,
        normalize_numbers=config.normalize_numbers,
        ngram_range=config.char_ngrams,
        max_features=config.max_features,
        min_df=config.min_df,
        sublinear_tf=config.sublinear_tf,
    )
    return FeatureUnion([("words", words), ("chars", chars)])


def build_classifier(config: ModelConfig) -> BaseEstimator:
    """The classifier of the config; every choice exposes ``predict_proba`` for suggestions and uncertainty."""
    if config.classifier == "linear_svm":
        return CalibratedLinearSVC(C=config.C, class_weight=config.class_weight, random_state=config.seed)
    if config.classifier == "taxonomy":
        return TaxonomyClassifier(C=config.C, class_weight=config.class_weight, random_state=config.seed)
    if config.classifier == "sgd":
        # alpha is SGD's per-sample regularization; 1e-4 / C keeps "larger C = weaker regularization".
        return SGDClassifier(
            loss="log_loss", alpha=1e-4 / config.C, class_weight=config.class_weight, random_state=config.seed
        )
    return LogisticRegression(C=config.C, class_weight=config.class_weight, max_iter=1000, random_state=config.seed)


def build_pipeline(config: ModelConfig) -> Pipeline:
    """Unfitted pipeline: ``fit(texts, labels)``, ``predict_proba(texts)`` on lists of strings."""
    return Pipeline([("features", build_features(config.features)), ("classifier", build_classifier(config))])


class CatalogFits:
    """Vectorizers fitted on a catalog, kept by what they were fitted on: the settings and the catalog's texts.

    A dataset's trainings fit on the same catalog until its products change, and the fit (tokenizing 30k texts)
    cost more than the rest of a training; a changed text, a new product or other settings make a new key. The
    fitted objects are shared and never changed afterwards (transform does not change them). Per process (the
    worker's), at most ``size`` kept, the least recently used dropped first.
    """

    def __init__(self, size: int = 4) -> None:
        self.size = size
        self._fits: OrderedDict[tuple[str, bytes], Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, settings: str, texts: Sequence[str], fit: Callable[[list[str]], T]) -> T:
        """`fit(distinct texts)`, or what it gave for the same `settings` and texts before."""
        digest = hashlib.blake2b(digest_size=16)
        for text in texts:
            digest.update(text.encode("utf-8", "surrogatepass"))
            digest.update(b"\0")
        key = (settings, digest.digest())
        with self._lock:
            if key in self._fits:
                self._fits.move_to_end(key)
                return self._fits[key]
        fitted = fit(list(dict.fromkeys(texts)))
        with self._lock:
            self._fits[key] = fitted
            while len(self._fits) > self.size:
                self._fits.popitem(last=False)
        return fitted

    def clear(self) -> None:
        with self._lock:
            self._fits.clear()


catalog_fits = CatalogFits()


def fit_vectorizers(
    config: ModelConfig, texts: Sequence[str], catalog: Sequence[str] = ()
) -> tuple[Pipeline, sp.csr_matrix]:
    """The config's vectorizers (a pipeline of every step but the classifier) fitted without labels, and the
    rows of `texts`: fitted on the distinct texts of `catalog` (the dataset's products, the labeled ones
    among them, or a sample of them; kept in ``catalog_fits``), or on `texts` alone without a catalog.

    Fitted once, they serve every model of a training or an experiment (the holdout's, the folds', the final
    one): the classifiers then fit on slices of the same rows."""
    if not catalog:
        vectorizers = build_pipeline(config)[:-1]
        return vectorizers, sp.csr_matrix(vectorizers.fit_transform(list(texts)))
    settings = json.dumps(config.to_dict()["features"], sort_keys=True)
    vectorizers = catalog_fits.get(settings, catalog, lambda distinct: build_pipeline(config)[:-1].fit(distinct))
    return vectorizers, sp.csr_matrix(vectorizers.transform(list(texts)))


class ColumnSubset(TransformerMixin, BaseEstimator):
    """Keeps the given columns of a sparse matrix: the terms a classifier's training rows hold.

    A catalog's vocabulary is several times the labeled texts' (PriceRunner: 121k terms against 31k for 1,000
    titles), and a linear classifier's solver carries a weight per term and class: fitted on every column, a
    training with five folds took 35 s instead of 15. A term in no training row would get a weight of 0 anyway.
    """

    def __init__(self, columns: np.ndarray | None = None) -> None:
        self.columns = columns

    def fit(self, X: sp.spmatrix, y: object = None) -> ColumnSubset:
        self.columns_ = np.asarray(self.columns, dtype=np.int64)
        return self

    def transform(self, X: sp.spmatrix) -> sp.csr_matrix:
        return sp.csr_matrix(X)[:, self.columns_]


def fit_classifier(
    config: ModelConfig,
    vectorizers: Pipeline,
    rows: sp.spmatrix,
    labels: Sequence[str],
    *,
    start: Pipeline | None = None,
    label_paths: Mapping[str, Sequence[str]] | None = None,
) -> Pipeline:
    """A whole pipeline: the fitted `vectorizers`, the columns `rows` hold (``ColumnSubset``) and the config's
    classifier fitted on them; predict on rows with ``rows_predict``.

    `start`: a logistic regression fitted before on part of these rows (the holdout's model) whose weights the
    solver starts from: the refit on every label then takes half the iterations (25 against 54 on 10k labels).
    Raises TrainingError when logistic regression's solver would need more than MAX_SOLVER_BYTES (half the
    machine's memory)."""
    pipeline = build_pipeline(config)
    rows = sp.csr_matrix(rows)
    used = np.unique(rows.indices)
    solver_memory_check(config, classes=len(set(labels)), columns=len(used))
    steps = list(vectorizers.steps)
    if len(used) < rows.shape[1]:
        subset = ColumnSubset(used).fit(rows)
        steps.append(("columns", subset))
        rows = subset.transform(rows)
    pipeline.steps[:-1] = steps
    if isinstance(pipeline[-1], TaxonomyClassifier):
        begin = {}
        if start is not None and isinstance(start[-1], TaxonomyClassifier):
            begin = {"start": start[-1], "start_columns": _moved_columns(start, used)}
        pipeline[-1].fit(rows, list(labels), paths=label_paths, **begin)
    else:
        if start is not None:
            _warm_start(pipeline[-1], start, used, classes=sorted(set(labels)))
        pipeline[-1].fit(rows, list(labels))
    if start is not None and isinstance(pipeline[-1], LogisticRegression):
        pipeline[-1].set_params(warm_start=False)  # the artifact's settings stay the config's
    return pipeline


def _warm_start(classifier: BaseEstimator, start: Pipeline, used: np.ndarray, *, classes: list[str]) -> None:
    # Only a logistic regression of the same classes; its weights move to the columns the new rows hold (a column
    # new to these rows starts at 0).
    previous = start[-1]
    if not isinstance(classifier, LogisticRegression) or not isinstance(previous, LogisticRegression):
        return
    if list(previous.classes_) != classes:
        return
    moved = _moved_columns(start, used)
    kept = moved >= 0
    coef = np.zeros((previous.coef_.shape[0], len(used)), dtype=np.float64)
    coef[:, moved[kept]] = previous.coef_[:, kept]
    classifier.set_params(warm_start=True)
    classifier.coef_, classifier.intercept_ = coef, previous.intercept_.copy()


def _moved_columns(start: Pipeline, used: np.ndarray) -> np.ndarray:
    """For each column `start`'s classifier reads, where it is among the columns `used` now, or -1."""
    old_columns = start.named_steps["columns"].columns_ if "columns" in start.named_steps else np.arange(
        start[-1].n_features_in_
    )
    at = np.searchsorted(used, old_columns)
    kept = (at < len(used)) & (used[np.minimum(at, len(used) - 1)] == old_columns)
    return np.where(kept, at, -1)


# scikit-learn's lbfgs keeps 2m + 5 vectors of the weights' size plus small ones (m = 10 corrections).
LBFGS_VECTORS = 25


def _memory_bytes() -> int:
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # not a POSIX system: assume a small machine
        return 8 * 10**9


# A training shares the worker's machine with the database and the other processes: half its memory at most
# (the machine's, not a container's limit, which a later check could read from the cgroup).
MAX_SOLVER_BYTES = _memory_bytes() // 2


def solver_memory_check(config: ModelConfig, *, classes: int, columns: int) -> None:
    """Refuse, with a message that says what to change, a logistic regression whose solver would not fit in memory.

    lbfgs keeps LBFGS_VECTORS float64 vectors of the weights' size, classes x (columns + 1) for more than two
    classes: with the Google Product Taxonomy (4,694 categories among 10k labels, 57k columns) it asked for 49.9
    GiB and failed with a bare MemoryError.
    """
    if config.classifier != "logreg":
        return
    weights = (classes if classes > 2 else 1) * (columns + 1)
    needed = LBFGS_VECTORS * weights * 8
    if needed > MAX_SOLVER_BYTES:
        raise TrainingError(
            f"{classes:,} categories x {columns:,} features: logistic regression's solver would need "
            f"{needed / 1e9:,.1f} GB of memory, more than the {MAX_SOLVER_BYTES / 1e9:,.1f} GB a training may use. "
            "Choose the 'taxonomy' classifier (level by level), a lower max_features, or fewer categories."
        )


def rows_predict(pipeline: Pipeline, rows: sp.spmatrix) -> np.ndarray:
    """``pipeline.predict`` of the texts whose rows (the output of its vectorizers, step 0) these are."""
    return pipeline[1:].predict(rows)
