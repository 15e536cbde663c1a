"""Product categorization and matching with scikit-learn and spaCy: configs, training, metrics, scoring, forecasts.

Pure Python, never imports Django: the services move data between the ORM and these functions.
spaCy is imported on first tokenization only (it costs seconds); scikit-learn and SciPy on import.

``train`` and ``forecast`` are both a module and a function; the package attribute is the function
(imported below after its module), which is what ``from models_app.ml import train`` should give.
"""

from .artifacts import (
    ArtifactError,
    dump_matcher,
    dump_pipeline,
    dump_ranker,
    load_matcher,
    load_pipeline,
    load_ranker,
)
from .config import PRESETS, ConfigError, FeatureConfig, MatcherConfig, ModelConfig, RelevanceConfig
from .experiments import cross_validate
from .features import build_pipeline
from .figures import MIN_EVALUATED, headline
from .forecast import forecast
from .matcher import (
    Matcher,
    MatcherResult,
    PairScores,
    pair_uncertainty,
    score_pair_ids,
    score_pairs,
    train_matcher,
)
from .metrics import evaluate
from .scoring import ScoreChunk, score, uncertainty
from .text import product_text
from .train import TrainingError, TrainResult, cold_start_over, train, train_rows

__all__ = [
    "MIN_EVALUATED",
    "PRESETS",
    "ArtifactError",
    "ConfigError",
    "FeatureConfig",
    "Matcher",
    "MatcherConfig",
    "MatcherResult",
    "ModelConfig",
    "PairScores",
    "RelevanceConfig",
    "ScoreChunk",
    "TrainResult",
    "TrainingError",
    "build_pipeline",
    "cold_start_over",
    "cross_validate",
    "dump_matcher",
    "dump_pipeline",
    "dump_ranker",
    "evaluate",
    "forecast",
    "headline",
    "load_matcher",
    "load_pipeline",
    "load_ranker",
    "pair_uncertainty",
    "product_text",
    "score",
    "score_pair_ids",
    "score_pairs",
    "train",
    "train_matcher",
    "train_rows",
    "uncertainty",
]
