"""Pair features: how far two product records agree, field by field, as one dense row per pair.

Records are mappings with product fields (title, brand, description, price, currency, attributes);
any may be missing. Each text field gives a missing indicator, token Jaccard, rapidfuzz similarities,
a length ratio and TF-IDF cosines (word 1-2 grams, char 3-5 grams). Model numbers and sizes are read
by ``datasets.offers``, the parsing the pair page shows people, so the matcher and the annotator see
the same "WH-1000XM4" and the same "1 TB = 1000 GB".
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from rapidfuzz import fuzz
from sklearn.feature_extraction.text import TfidfVectorizer

from datasets.offers import price_value, text_key, title_keys

from .config import MATCHER_FIELDS
from .features import DTYPE, CharNgramVectorizer, catalog_fits
from .text import WordAnalyzer, product_text

if TYPE_CHECKING:
    from .pair_table import PairCache

# partial_ratio is quadratic in the shorter text: a long description would cost milliseconds a pair,
# and its first few hundred characters carry what tells two offers apart.
FUZZY_MAX_CHARS = 300
# |log(price ratio)| is capped so one absurd price does not dominate a standardized feature.
MAX_LOG_PRICE_RATIO = 5.0
MAX_VOCABULARY = 100_000
# Model numbers and sizes are read from these fields when compared; from every text field otherwise.
IDENTIFYING_FIELDS = ("title", "attributes")
TEXT_SIMILARITIES = ("missing", "jaccard", "token_set", "partial", "length_ratio")
IDENTITY_FEATURES = (
    "model_match",
    "model_mismatch",
    "model_missing",
    "model_jaccard",
    "model_similarity",
    "measure_agree",
    "measure_conflict",
    "measure_missing",
    "numbers_jaccard",
)


@dataclass(frozen=True, slots=True)
class _Parsed:
    words: frozenset[str]
    numbers: frozenset[str]  # keys of tokens with a digit: model numbers, sizes, bare numbers
    models: tuple[str, ...]
    measures: dict[str, frozenset[str]]
    # The tokens' keys, so "WH-1000XM4" and "wh1000xm4", "1 TB" and "1000GB" are spelled alike; cut to FUZZY_MAX_CHARS.
    fuzzy: str


@functools.lru_cache(maxsize=2**16)
def _parsed(text: str) -> _Parsed:
    # Cached: in candidate pairs each product stands in about k pairs, so most texts repeat.
    tokens = title_keys(text)
    sizes: dict[str, set[str]] = {}
    for kind, key, dimension in tokens:
        if kind == "measure":
            sizes.setdefault(dimension, set()).add(key)
    return _Parsed(
        words=frozenset(key for _, key, _ in tokens),
        numbers=frozenset(key for _, key, _ in tokens if any(c.isdigit() for c in key)),
        models=tuple(dict.fromkeys(key for kind, key, _ in tokens if kind == "model")),
        measures={dimension: frozenset(keys) for dimension, keys in sizes.items()},
        fuzzy=" ".join(key for _, key, _ in tokens)[:FUZZY_MAX_CHARS],
    )


def feature_names(fields: Sequence[str]) -> list[str]:
    """The columns of ``pair_features``, in order, for a matcher comparing ``fields``."""
    names = [f"{field}_{similarity}" for field in _text_fields(fields) for similarity in TEXT_SIMILARITIES]
    if "brand" in fields:
        names.append("brand_equal")
    names.extend(IDENTITY_FEATURES)
    if "price" in fields:
        names += ["price_log_ratio", "price_missing"]
    return names


def pair_features(left: Mapping[str, Any], right: Mapping[str, Any], *, fields: Sequence[str] = MATCHER_FIELDS) -> dict:
    """The features of one pair that need no fitting (all but the TF-IDF cosines), by name."""
    fields = tuple(fields)
    row = _row(left, right, _record_texts(left, fields), _record_texts(right, fields), fields)
    return dict(zip(feature_names(fields), row, strict=True))


def _text_fields(fields: Sequence[str]) -> list[str]:
    return [name for name in fields if name != "price"]


def _record_texts(record: Mapping[str, Any], fields: tuple[str, ...]) -> tuple[dict[str, str], str]:
    """The text of each text field, and the text model numbers and sizes are read from."""
    texts = {name: product_text(record, (name,)) for name in _text_fields(fields)}
    identifying = [name for name in IDENTIFYING_FIELDS if name in fields] or _text_fields(fields)
    return texts, " ".join(texts[name] for name in identifying if texts[name])


def _row(
    left: Mapping[str, Any],
    right: Mapping[str, Any],
    left_texts: tuple[dict[str, str], str],
    right_texts: tuple[dict[str, str], str],
    fields: tuple[str, ...],
) -> list[float]:
    (left_fields, left_identity), (right_fields, right_identity) = left_texts, right_texts
    row: list[float] = []
    for name in left_fields:
        row += _text_similarities(left_fields[name], right_fields[name])
    if "brand" in fields:
        brands = text_key(left_fields["brand"]), text_key(right_fields["brand"])
        row.append(float(bool(brands[0]) and brands[0] == brands[1]))
    row += _identity(_parsed(left_identity), _parsed(right_identity))
    if "price" in fields:
        row += _price(left, right)
    return row


def _text_similarities(a: str, b: str) -> list[float]:
    """[missing, jaccard, token_set, partial, length_ratio]; all 0 but missing when a side is empty."""
    if not a or not b:
        return [1.0, 0.0, 0.0, 0.0, 0.0]
    pa, pb = _parsed(a), _parsed(b)
    shorter, longer = sorted((len(pa.words), len(pb.words)))
    return [
        0.0,
        _jaccard(pa.words, pb.words),
        fuzz.token_set_ratio(pa.fuzzy, pb.fuzzy) / 100,
        fuzz.partial_ratio(pa.fuzzy, pb.fuzzy) / 100,
        shorter / longer if longer else 0.0,
    ]


def _identity(a: _Parsed, b: _Parsed) -> list[float]:
    """Model numbers (match / mismatch / missing, Jaccard, closest spelling), sizes, numbers: IDENTITY_FEATURES."""
    models_a, models_b = set(a.models), set(b.models)
    if models_a and models_b:
        shared = bool(models_a & models_b)
        closest = max(fuzz.ratio(x, y) for x in a.models for y in b.models) / 100
        models = [float(shared), float(not shared), 0.0, _jaccard(models_a, models_b), closest]
    else:
        models = [0.0, 0.0, 1.0, 0.0, 0.0]
    both = a.measures.keys() & b.measures.keys()
    agreeing = sum(bool(a.measures[dimension] & b.measures[dimension]) for dimension in both)
    sizes = [agreeing / len(both), float(agreeing < len(both)), 0.0] if both else [0.0, 0.0, 1.0]
    return [*models, *sizes, _jaccard(a.numbers, b.numbers)]


def _price(left: Mapping[str, Any], right: Mapping[str, Any]) -> list[float]:
    """[|log(price ratio)|, missing]: prices in two named currencies cannot be compared, so count as missing."""
    prices = price_value(left.get("price")), price_value(right.get("price"))
    currencies = {text_key(str(record.get("currency") or "")) for record in (left, right)} - {""}
    if prices[0] and prices[1] and len(currencies) <= 1:
        return [min(abs(math.log(prices[0] / prices[1])), MAX_LOG_PRICE_RATIO), 0.0]
    return [0.0, 1.0]


def _jaccard(a: frozenset[str] | set[str], b: frozenset[str] | set[str]) -> float:
    union = len(a | b)
    return len(a & b) / union if union else 0.0


class PairFeaturizer:
    """Pairs of records -> a float32 matrix: ``feature_names`` columns, then two TF-IDF cosines per text field.

    ``fit`` learns each text field's vocabularies and IDF from the distinct texts of `catalog`, the dataset's
    products (those of the pairs among them) or a sample of them, kept in ``catalog_fits``; without a catalog from
    the distinct texts of both sides. No label is used. Everything it holds is plain data or a module-level
    class, so it pickles.
    """

    def __init__(self, *, fields: Sequence[str]) -> None:
        self.fields = tuple(fields)

    def fit(
        self,
        left: Sequence[Mapping[str, Any]],
        right: Sequence[Mapping[str, Any]],
        *,
        catalog: Sequence[Mapping[str, Any]] = (),
    ) -> PairFeaturizer:
        self.vectorizers_: dict[str, tuple[TfidfVectorizer, CharNgramVectorizer] | None] = {}
        for name in _text_fields(self.fields):
            if catalog:
                texts = [text for text in _texts(catalog, name) if text]
                fitted = catalog_fits.get(f"pair {name}", texts, _fitted_vectorizers) if texts else None
            else:
                texts = [text for text in dict.fromkeys(_texts(left, name) + _texts(right, name)) if text]
                fitted = _fitted_vectorizers(texts) if texts else None
            self.vectorizers_[name] = fitted
        self.feature_names_ = [
            *feature_names(self.fields),
            *(f"{name}_tfidf_{kind}" for name in _text_fields(self.fields) for kind in ("words", "chars")),
        ]
        return self

    def cache(self) -> PairCache:
        """An empty cache of parsed products and texts, to share between the pages of one rescoring."""
        from .pair_table import PairCache  # it reads this module's constants

        identifying = [name for name in IDENTIFYING_FIELDS if name in self.fields] or _text_fields(self.fields)
        return PairCache(
            fields=self.fields, text_fields=_text_fields(self.fields), identifying=identifying,
            vectorizers=self.vectorizers_,
        )

    def transform(
        self, left: Sequence[Mapping[str, Any]], right: Sequence[Mapping[str, Any]], *, cache: PairCache | None = None
    ) -> np.ndarray:
        """The features of the pairs (left[i], right[i]); give the same `cache` to the calls of one rescoring
        so that each product is parsed and vectorized once (``pair_table``)."""
        if len(left) != len(right):
            raise ValueError(f"{len(left)} left records but {len(right)} right records")
        cache = cache if cache is not None else self.cache()
        return cache.pairs(left, right, len(feature_names(self.fields)))

    def transform_ids(self, left: np.ndarray, right: np.ndarray, *, cache: PairCache) -> np.ndarray:
        """``transform`` of pairs of products given by id, whose records `cache` holds (``PairCache.products_add``)."""
        if len(left) != len(right):
            raise ValueError(f"{len(left)} left ids but {len(right)} right ids")
        return cache.pairs_by_id(left, right, len(feature_names(self.fields)))


def _texts(records: Sequence[Mapping[str, Any]], name: str) -> list[str]:
    return [product_text(record, (name,)) for record in records]


def _fitted_vectorizers(texts: list[str]) -> tuple[TfidfVectorizer, CharNgramVectorizer]:
    words = TfidfVectorizer(
        analyzer=WordAnalyzer(lowercase=True, normalize_numbers=False, tokenizer="regex", ngram_range=(1, 2)),
        max_features=MAX_VOCABULARY,
        sublinear_tf=True,
        dtype=DTYPE,
    )
    chars = CharNgramVectorizer(ngram_range=(3, 5), max_features=MAX_VOCABULARY)
    return words.fit(texts), chars.fit(texts)
