"""A pointwise relevance model (issue 13): how well a product answers a query, as the probability of each grade.

Features of a (query, product) pair need no labels: the BM25 score and rank the candidate step gave it,
TF-IDF cosines of the query with the product's title and whole text (word 1-2 and char 3-5 grams, their
vocabularies and IDF learned from the catalog), the share of the query's tokens the product holds and the
count it lacks (tokens read as the pair page reads them: "WH-1000XM4" and "wh1000xm4", "1 TB" and "1000GB"
alike, `datasets.offers`), the same for its model numbers and sizes alone, whether the title holds the
whole query, and both lengths. The product's category counts as the share of the query's BM25 top 10 in
the same category: a catalog's categories are its own, so a category alone means nothing across queries, but
one the top results share is what the shopper is after, and a complement or an accessory sits outside it.
Gradient-boosted trees give each grade's probability; a
product's ranking score is its expected gain (ESCI's gains by default), and its uncertainty the entropy of
its grades, for the queue.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import entr
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize
from threadpoolctl import threadpool_limits

from datasets.offers import title_keys

from .train import TrainingError

FEATURES = (
    "bm25", "bm25_rank", "title_cosine_words", "title_cosine_chars", "text_cosine_words", "query_in_title",
    "tokens_found", "tokens_missing", "identifiers_found", "identifiers_missing", "query_tokens", "title_tokens",
    "category_share",
)
NO_RANK = 1000.0  # the rank of a pair the candidate step did not return
TOP = 10  # the query's top results whose categories a product's is compared with
# The category share of a pair without a category on either side: below every share, so the trees split it
# off. Not NaN: a catalog without categories would give an all-NaN column, which the trees' binning refuses.
NO_CATEGORY = -1.0
MAX_VOCABULARY = 100_000
# One OpenMP thread for the trees, as the matcher's (matcher.THREADS): on a busy 2-core machine their spin-waits
# made a fit of 120 judged pairs take 13 s instead of 0.3 s.
THREADS = 1


@dataclass
class RelevanceFeaturizer:
    """Fitted on the catalog's texts (no label): `transform` gives one row of FEATURES per pair."""

    words: TfidfVectorizer
    chars: TfidfVectorizer

    @classmethod
    def fit(cls, catalog: Sequence[str]) -> RelevanceFeaturizer:
        words = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, max_features=MAX_VOCABULARY)
        chars = TfidfVectorizer(
            analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, max_features=MAX_VOCABULARY
        )
        texts = list(dict.fromkeys(catalog)) or [""]
        return cls(words=words.fit(texts), chars=chars.fit(texts))

    def transform(
        self,
        queries: Sequence[str],
        titles: Sequence[str],
        texts: Sequence[str],
        bm25: Sequence[float] | None = None,
        ranks: Sequence[float] | None = None,
        categories: Sequence[str] | None = None,
        top_categories: Sequence[Sequence[str]] | None = None,
    ) -> np.ndarray:
        """Rows for the pairs (queries[i], product i): its title and whole text (title, brand, description,
        attributes), the candidate step's BM25 score and rank where it returned the pair (NaN: not), the
        product's category ('' for none) and the categories of the query's BM25 top results, best first."""
        n = len(queries)
        if not len(titles) == len(texts) == n:
            raise ValueError(f"{n} queries, {len(titles)} titles and {len(texts)} texts: one of each per pair")
        if (categories is None) != (top_categories is None) or (
            categories is not None and not len(categories) == len(top_categories) == n
        ):
            raise ValueError("categories and top categories go together: one of each per pair")
        rows = np.zeros((n, len(FEATURES)), dtype=np.float64)
        if not n:
            return rows
        rows[:, 0] = np.zeros(n) if bm25 is None else np.asarray(bm25, dtype=np.float64)
        rows[:, 1] = NO_RANK if ranks is None else np.nan_to_num(np.asarray(ranks, dtype=np.float64), nan=NO_RANK)
        rows[:, 2] = _cosines(self.words, queries, titles)
        rows[:, 3] = _cosines(self.chars, queries, titles)
        rows[:, 4] = _cosines(self.words, queries, texts)
        for i, (query, title, text) in enumerate(zip(queries, titles, texts, strict=True)):
            query_keys = title_keys(query)
            asked = {key for _, key, _ in query_keys}
            held = {key for _, key, _ in title_keys(text)}
            identifiers = {key for kind, key, _ in query_keys if kind != "word"}
            rows[i, 5] = float(" ".join(query.casefold().split()) in " ".join(title.casefold().split()))
            rows[i, 6] = len(asked & held) / len(asked) if asked else 0.0
            rows[i, 7] = len(asked - held)
            rows[i, 8] = len(identifiers & held) / len(identifiers) if identifiers else 1.0
            rows[i, 9] = len(identifiers - held)
            rows[i, 10] = len(asked)
            rows[i, 11] = len(title_keys(title))
        rows[:, 12] = NO_CATEGORY if categories is None else category_shares(categories, top_categories)
        return rows


def category_shares(categories: Sequence[str], top_categories: Sequence[Sequence[str]]) -> np.ndarray:
    """The share of each pair's query's TOP results (those with a category) in the pair's product's category;
    NO_CATEGORY where either side has none (unknown, not a share of 0)."""
    shares = np.full(len(categories), NO_CATEGORY)
    for i, (category, top) in enumerate(zip(categories, top_categories, strict=True)):
        known = [name for name in top[:TOP] if name]
        if category and known:
            shares[i] = sum(name == category for name in known) / len(known)
    return shares


def _cosines(vectorizer: TfidfVectorizer, left: Sequence[str], right: Sequence[str]) -> np.ndarray:
    a = normalize(vectorizer.transform(left))
    b = normalize(vectorizer.transform(right))
    return np.asarray(a.multiply(b).sum(axis=1)).ravel()


@dataclass
class RelevanceModel:
    """Grades' probabilities for feature rows; `gains` turns them into an expected gain to rank by."""

    classifier: HistGradientBoostingClassifier
    gains: dict[str, float]

    @property
    def grades(self) -> list[str]:
        return [str(grade) for grade in self.classifier.classes_]

    def predict_proba(self, rows: np.ndarray) -> np.ndarray:
        with threadpool_limits(limits=THREADS, user_api="openmp"):
            return self.classifier.predict_proba(rows)

    def predict(self, rows: np.ndarray) -> list[str]:
        """The likeliest grade of each row."""
        return [self.grades[i] for i in self.predict_proba(rows).argmax(axis=1)]

    def expected_gain(self, rows: np.ndarray) -> np.ndarray:
        gains = np.asarray([self.gains[grade] for grade in self.grades])
        return self.predict_proba(rows) @ gains

    def uncertainty(self, rows: np.ndarray) -> np.ndarray:
        """The entropy of the grades, scaled to [0, 1] by the most a scale of this many grades can have."""
        probabilities = self.predict_proba(rows)
        return entr(probabilities).sum(axis=1) / np.log(max(probabilities.shape[1], 2))


def train_relevance(
    rows: np.ndarray, grades: Sequence[str], *, gains: Mapping[str, float], seed: int = 0
) -> RelevanceModel:
    """Fit the grades of the judged pairs' feature rows; every grade judged must have a gain."""
    grades = [str(grade) for grade in grades]
    if len(grades) != len(rows):
        raise TrainingError(f"{len(rows)} feature rows but {len(grades)} grades")
    if len(set(grades)) < 2:
        raise TrainingError(f"training needs at least 2 grades, the judgments use {sorted(set(grades))}")
    unknown = set(grades) - set(gains)
    if unknown:
        raise TrainingError(f"grades without a gain: {sorted(unknown)}")
    classifier = HistGradientBoostingClassifier(max_iter=200, learning_rate=0.1, random_state=seed)
    with threadpool_limits(limits=THREADS, user_api="openmp"):
        classifier.fit(rows, grades)
    return RelevanceModel(classifier=classifier, gains=dict(gains))


@dataclass
class Ranker:
    """What a relevance dataset's training stores: the featurizer fitted on its catalog and the model."""

    featurizer: RelevanceFeaturizer
    model: RelevanceModel


def query_holdout_split(queries: Sequence[int], *, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train positions, holdout positions) of pairs whose query is queries[i]: round(fraction * the distinct
    queries) queries, seeded, are held out whole, so that a held-out query's figures never come from a model
    that saw it; one query at least stays for training."""
    queries = np.asarray(queries)
    distinct = np.unique(queries)
    take = min(len(distinct) - 1, int(len(distinct) * fraction + 0.5))
    held = np.random.default_rng(seed).permutation(distinct)[: max(take, 0)]
    mask = np.isin(queries, held)
    return np.flatnonzero(~mask), np.flatnonzero(mask)
