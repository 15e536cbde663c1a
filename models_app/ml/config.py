"""Featurization and model configuration: frozen dataclasses that round-trip through JSON."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

TOKENIZERS = ("spacy", "regex")
CLASSIFIERS = ("logreg", "linear_svm", "sgd", "taxonomy")
CLASS_WEIGHTS = ("balanced", None)


class ConfigError(ValueError):
    """A configuration that cannot be used; the message names the offending key."""


class TrainingError(ValueError):
    """The labels cannot train a model (empty, one class, no usable text, too many classes for the classifier
    chosen); the message says why."""


@dataclass(frozen=True)
class FeatureConfig:
    """How product records become a sparse feature matrix.

    fields: record fields joined into the text (see ``product_text``).
    lowercase: fold case before tokenizing (both the word and the char features).
    tokenizer: "spacy" (blank English tokenizer, splits "64GB" into "64" "GB") or "regex" (word characters).
    normalize_numbers: replace numbers by "<num>" and canonicalize a following unit ("64GB" -> "<num> gb").
    word_ngrams: (min_n, max_n) of word n-grams.
    char_ngrams: (min_n, max_n) of char n-grams inside word boundaries ("char_wb"), or None for no char features.
    max_features: vocabulary cap of each vectorizer (most frequent kept), None for no cap.
    min_df: drop terms seen in fewer documents than this.
    sublinear_tf: use 1 + log(tf) instead of raw counts.
    """

    fields: tuple[str, ...] = ("title",)
    lowercase: bool = True
    tokenizer: str = "spacy"
    normalize_numbers: bool = False
    word_ngrams: tuple[int, int] = (1, 2)
    char_ngrams: tuple[int, int] | None = (3, 5)
    max_features: int | None = 100_000
    min_df: int = 1
    sublinear_tf: bool = True

    def __post_init__(self) -> None:
        # JSON gives lists; normalize to tuples so configs compare and hash equal after a round trip.
        object.__setattr__(self, "fields", _str_tuple("fields", self.fields))
        object.__setattr__(self, "word_ngrams", _ngram_range("word_ngrams", self.word_ngrams))
        if self.char_ngrams is not None:
            object.__setattr__(self, "char_ngrams", _ngram_range("char_ngrams", self.char_ngrams))
        if self.tokenizer not in TOKENIZERS:
            raise ConfigError(f"tokenizer must be one of {TOKENIZERS}, got {self.tokenizer!r}")
        for name in ("lowercase", "normalize_numbers", "sublinear_tf"):
            if not isinstance(getattr(self, name), bool):
                raise ConfigError(f"{name} must be true or false, got {getattr(self, name)!r}")
        if self.max_features is not None and not (_is_int(self.max_features) and self.max_features >= 1):
            raise ConfigError(f"max_features must be a positive integer or null, got {self.max_features!r}")
        if not (_is_int(self.min_df) and self.min_df >= 1):
            raise ConfigError(f"min_df must be a positive integer, got {self.min_df!r}")


@dataclass(frozen=True)
class ModelConfig:
    """Features plus classifier plus evaluation split.

    classifier: "logreg" (multinomial logistic regression), "linear_svm" (LinearSVC with sigmoid
    calibration by CalibratedClassifierCV), "sgd" (SGDClassifier, log loss, alpha = 1e-4 / C) or "taxonomy"
    (level by level: a logistic regression per taxonomy node over its children, ``ml.taxonomy``; for
    thousands of categories).
    C: inverse regularization strength (larger = less regularized) for every classifier.
    class_weight: "balanced" (weights inversely proportional to class frequency) or None.
    holdout: fraction of the labels held out (stratified) to measure the model, in [0, 0.5].
    seed: seeds the split and the stochastic solvers.
    """

    features: FeatureConfig = field(default_factory=FeatureConfig)
    classifier: str = "logreg"
    C: float = 10.0
    class_weight: str | None = "balanced"
    holdout: float = 0.2
    seed: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.features, FeatureConfig):
            raise ConfigError(f"features must be a FeatureConfig, got {type(self.features).__name__}")
        if self.classifier not in CLASSIFIERS:
            raise ConfigError(f"classifier must be one of {CLASSIFIERS}, got {self.classifier!r}")
        if isinstance(self.C, bool) or not isinstance(self.C, int | float) or not self.C > 0:
            raise ConfigError(f"C must be a positive number, got {self.C!r}")
        if self.class_weight not in CLASS_WEIGHTS:
            raise ConfigError(f"class_weight must be one of {CLASS_WEIGHTS}, got {self.class_weight!r}")
        _holdout_check(self.holdout)
        if not _is_int(self.seed):
            raise ConfigError(f"seed must be an integer, got {self.seed!r}")

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-serializable dict (tuples become lists) that ``from_dict`` accepts."""
        data = asdict(self)
        features = data["features"]
        for key in ("fields", "word_ngrams", "char_ngrams"):
            if features[key] is not None:
                features[key] = list(features[key])
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelConfig:
        """Build and validate a config; missing keys take the defaults, unknown keys raise ConfigError."""
        if not isinstance(data, Mapping):
            raise ConfigError(f"a model config must be a mapping, got {type(data).__name__}")
        _reject_unknown(data, cls, "model config")
        features = data.get("features", {})
        if not isinstance(features, Mapping):
            raise ConfigError(f"features must be a mapping, got {type(features).__name__}")
        _reject_unknown(features, FeatureConfig, "features")
        try:
            return cls(**{**data, "features": FeatureConfig(**features)})
        except TypeError as exc:  # a wrongly typed value that slipped past the checks above
            raise ConfigError(str(exc)) from exc


MATCHER_FIELDS = ("title", "brand", "description", "attributes", "price")
MATCHER_CLASSIFIERS = ("hgb", "logreg")
MATCHER_THRESHOLDS = ("calibrated", "holdout")


@dataclass(frozen=True)
class MatcherConfig:
    """What a pair matcher compares and how it decides.

    fields: the product fields compared. Each text field ("title", "brand", "description",
    "attributes") gets its own similarities and a missing indicator; "brand" also an equality;
    "price" the log price ratio (with the currency). Model numbers and sizes are read from "title"
    and "attributes". At least one text field.
    classifier: "hgb" (histogram gradient-boosted trees, sigmoid-calibrated on 3 folds) or "logreg"
    (logistic regression on standardized features, calibrated as it is).
    holdout: fraction of the labels held out (stratified) to measure the model, in [0, 0.5].
    threshold: how the decision threshold is chosen. "calibrated" (the default): 0.5, where a match
    is as likely as not; the probabilities are calibrated, and a threshold fitted to the held-out
    labels inherits their bias when active learning chose them (they are the hardest pairs, with
    another share of matches than the catalog's): measured on WDC computers, margin order reaches
    random order's F1 at 1,000 labels with 450 labels at 0.5 and 650 with the fitted one.
    "holdout": the threshold of the best F1 on the held-out labels, for pairs labeled in random
    order (or imported) where the holdout looks like the catalog.
    """

    fields: tuple[str, ...] = MATCHER_FIELDS
    classifier: str = "hgb"
    holdout: float = 0.2
    threshold: str = "calibrated"

    def __post_init__(self) -> None:
        object.__setattr__(self, "fields", _str_tuple("fields", self.fields))
        unknown = [name for name in self.fields if name not in MATCHER_FIELDS]
        if unknown:
            raise ConfigError(f"fields must be among {MATCHER_FIELDS}, got {', '.join(map(repr, unknown))}")
        if len(set(self.fields)) != len(self.fields):
            raise ConfigError(f"fields must not repeat, got {list(self.fields)!r}")
        if self.fields == ("price",):
            raise ConfigError("fields need at least one text field besides price")
        if self.classifier not in MATCHER_CLASSIFIERS:
            raise ConfigError(f"classifier must be one of {MATCHER_CLASSIFIERS}, got {self.classifier!r}")
        _holdout_check(self.holdout)
        if self.threshold not in MATCHER_THRESHOLDS:
            raise ConfigError(f"threshold must be one of {MATCHER_THRESHOLDS}, got {self.threshold!r}")

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-serializable dict (tuples become lists) that ``from_dict`` accepts."""
        return {**asdict(self), "fields": list(self.fields)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MatcherConfig:
        """Build and validate a config; missing keys take the defaults, unknown keys raise ConfigError."""
        return _from_mapping(cls, data, "matcher config")


@dataclass(frozen=True)
class RelevanceConfig:
    """How a relevance dataset's ranker is trained (`models_app.ml.relevance`).

    holdout: fraction of the judged queries held out whole to measure the ranker (nDCG@10 against BM25's, the
    grades' accuracy), in [0, 0.5]; the ranker is then refitted on every judgment.
    """

    holdout: float = 0.2

    def __post_init__(self) -> None:
        _holdout_check(self.holdout)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RelevanceConfig:
        """Build and validate a config; missing keys take the defaults, unknown keys raise ConfigError."""
        return _from_mapping(cls, data, "relevance config")


def _holdout_check(holdout: Any) -> None:
    if isinstance(holdout, bool) or not isinstance(holdout, int | float) or not 0 <= holdout <= 0.5:
        raise ConfigError(f"holdout must be a fraction between 0 and 0.5, got {holdout!r}")


def _from_mapping(cls: type, data: Mapping[str, Any], what: str) -> Any:
    if not isinstance(data, Mapping):
        raise ConfigError(f"a {what} must be a mapping, got {type(data).__name__}")
    _reject_unknown(data, cls, what)
    return cls(**data)


def _reject_unknown(data: Mapping[str, Any], cls: type, what: str) -> None:
    unknown = sorted(set(data) - {f.name for f in fields(cls)})
    if unknown:
        raise ConfigError(f"unknown {what} key(s): {', '.join(map(str, unknown))}")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _str_tuple(name: str, value: Any) -> tuple[str, ...]:
    items = tuple(value) if isinstance(value, list | tuple) else ()
    if not items or not all(isinstance(item, str) and item for item in items):
        raise ConfigError(f"{name} must be a non-empty list of field names, got {value!r}")
    return items


def _ngram_range(name: str, value: Any) -> tuple[int, int]:
    items = tuple(value) if isinstance(value, list | tuple) else ()
    if len(items) != 2 or not all(_is_int(v) for v in items) or not 1 <= items[0] <= items[1]:
        raise ConfigError(f"{name} must be [min_n, max_n] with 1 <= min_n <= max_n, got {value!r}")
    return (items[0], items[1])


DEFAULT = ModelConfig()

# Each preset changes one thing against the default, so a comparison answers one question.
PRESETS: dict[str, ModelConfig] = {
    "default": DEFAULT,
    "case_kept": replace(DEFAULT, features=replace(DEFAULT.features, lowercase=False)),
    "regex_tokenizer": replace(DEFAULT, features=replace(DEFAULT.features, tokenizer="regex")),
    "words_1gram": replace(DEFAULT, features=replace(DEFAULT.features, word_ngrams=(1, 1))),
    "words_only": replace(DEFAULT, features=replace(DEFAULT.features, char_ngrams=None)),
    "vocab_5k": replace(DEFAULT, features=replace(DEFAULT.features, max_features=5_000)),
    "numbers_normalized": replace(DEFAULT, features=replace(DEFAULT.features, normalize_numbers=True)),
}
