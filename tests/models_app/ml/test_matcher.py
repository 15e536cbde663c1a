import numpy as np
import pytest

from models_app.ml.artifacts import ArtifactError, dump_matcher, dump_pipeline, load_matcher, load_pipeline
from models_app.ml.config import ConfigError, MatcherConfig, ModelConfig
from models_app.ml.features import build_pipeline
from models_app.ml.matcher import (
    DEFAULT_THRESHOLD,
    fit_matcher,
    pair_uncertainty,
    score_pairs,
    train_matcher,
)
from models_app.ml.metrics import best_f1_threshold
from models_app.ml.pair_features import PairFeaturizer
from models_app.ml.train import TrainingError

BRANDS = ["Acme", "Zorb", "Quill", "Vento"]
NOUNS = ["kettle", "blender", "toaster", "router", "monitor", "drill"]
LOGREG = MatcherConfig(classifier="logreg")


def product(i: int) -> dict:
    code = f"{chr(65 + i % 26)}{chr(65 + i * 7 % 26)}-{100 + i}"
    title = f"{BRANDS[i % 4]} {NOUNS[i % 6]} {code} {(i % 5 + 1) * 8}GB"
    return {"title": title, "brand": BRANDS[i % 4], "price": 50 + i}


def other_shop(record: dict) -> dict:
    """The same product as another shop writes it: lower case, no hyphen in the code, a space before the unit."""
    title = record["title"].lower().replace("-", "").replace("gb", " GB")
    return {"title": f"{title} (new)", "brand": record["brand"].upper(), "price": record["price"] * 1.05}


def easy_pairs(n: int, start: int = 0) -> tuple[list[dict], list[dict], list[int]]:
    """n matches and n non-matches; product i + 12 has i's brand and noun but another code and capacity."""
    left, right, labels = [], [], []
    for i in range(start, start + n):
        left += [product(i), product(i)]
        right += [other_shop(product(i)), other_shop(product(i + 12))]
        labels += [1, 0]
    return left, right, labels


LEFT, RIGHT, LABELS = easy_pairs(80)  # 160 labels: a holdout of 32


def test_training_separates_an_easy_set_and_measures_it_on_the_holdout():
    result = train_matcher(left=LEFT, right=RIGHT, labels=LABELS, config=MatcherConfig(), seed=0)
    assert result.metrics["evaluated_on"] == "holdout"
    assert result.metrics["n"] == result.split["holdout"] == 32
    assert result.metrics["f1"] == 1.0
    new_left, new_right, new_labels = easy_pairs(20, start=300)
    probabilities = result.matcher.predict_proba(new_left, new_right)
    assert ((probabilities >= result.matcher.threshold) == np.array(new_labels, dtype=bool)).all()


def test_the_default_trees_learn_from_the_few_dozen_pairs_of_a_first_run():
    left, right, labels = easy_pairs(20)  # 40 labels, as a dataset's first automatic run sees
    result = train_matcher(left=left, right=right, labels=labels, config=MatcherConfig(), seed=0)
    new_left, new_right, new_labels = easy_pairs(20, start=300)
    probabilities = result.matcher.predict_proba(new_left, new_right)
    assert ((probabilities >= result.matcher.threshold) == np.array(new_labels, dtype=bool)).mean() >= 0.9


def test_probabilities_are_float32_in_zero_one():
    matcher = train_matcher(left=LEFT, right=RIGHT, labels=LABELS, config=LOGREG).matcher
    probabilities = matcher.predict_proba(LEFT, RIGHT)
    assert probabilities.dtype == np.float32
    assert probabilities.shape == (160,)
    assert ((probabilities >= 0) & (probabilities <= 1)).all()


def test_the_default_threshold_is_the_calibrated_half_and_the_best_f1_one_is_reported():
    result = train_matcher(left=LEFT, right=RIGHT, labels=LABELS, config=LOGREG, seed=3)
    assert result.matcher.threshold == 0.5 and result.metrics["threshold"] == 0.5
    chosen = train_matcher(
        left=LEFT, right=RIGHT, labels=LABELS, config=MatcherConfig(classifier="logreg", threshold="holdout"), seed=3
    )
    assert result.metrics["best_f1_threshold"] == chosen.metrics["threshold"] == chosen.metrics["best_f1_threshold"]


def test_the_holdout_threshold_is_the_best_f1_one_of_the_holdout_and_kept_with_the_refit_model():
    config = MatcherConfig(classifier="logreg", threshold="holdout")
    result = train_matcher(left=LEFT, right=RIGHT, labels=LABELS, config=config, seed=3)
    held = result.split["holdout_ids"]
    train_ids = [i for i in range(len(LABELS)) if i not in set(held)]
    # The measured model shares the final one's featurizer, fitted without labels on every pair's texts.
    featurizer = PairFeaturizer(fields=LOGREG.fields).fit(LEFT, RIGHT)
    measured, _, _ = fit_matcher(
        [LEFT[i] for i in train_ids],
        [RIGHT[i] for i in train_ids],
        np.array(LABELS)[train_ids],
        config=LOGREG,
        seed=3,
        featurizer=featurizer,
    )
    probabilities = measured.predict_proba([LEFT[i] for i in held], [RIGHT[i] for i in held])
    expected = best_f1_threshold(y_true=[LABELS[i] for i in held], probabilities=probabilities)
    assert result.matcher.threshold == pytest.approx(np.clip(expected, 0.01, 0.99))
    assert result.metrics["threshold"] == round(result.matcher.threshold, 4)
    assert result.split["refit_on_all"] and result.split["n"] == 160 and result.split["positives"] == 80


def test_the_featurizer_learns_its_vocabulary_from_the_catalog_too_and_uses_no_label():
    catalog = [*LEFT, *RIGHT, {"title": "zyxcorp quantum toaster"}, {"title": "zyxcorp quantum kettle"}]
    result = train_matcher(left=LEFT, right=RIGHT, labels=LABELS, config=LOGREG, seed=3, catalog=catalog)
    words, _ = result.matcher.featurizer.vectorizers_["title"]
    assert "zyxcorp" in words.vocabulary_ and "quantum toaster" in words.vocabulary_
    plain = train_matcher(left=LEFT, right=RIGHT, labels=LABELS, config=LOGREG, seed=3)
    assert "zyxcorp" not in plain.matcher.featurizer.vectorizers_["title"][0].vocabulary_
    # The IDF counts each distinct text once: a catalog that repeats the labeled texts changes nothing.
    again = train_matcher(left=LEFT, right=RIGHT, labels=LABELS, config=LOGREG, seed=3, catalog=LEFT + RIGHT)
    pairs = (LEFT[:20], RIGHT[:20])
    assert np.array_equal(again.matcher.predict_proba(*pairs), plain.matcher.predict_proba(*pairs))


def test_the_metrics_carry_counts_and_a_small_precision_recall_curve():
    metrics = train_matcher(left=LEFT, right=RIGHT, labels=LABELS, config=LOGREG).metrics
    assert sum(metrics["counts"].values()) == 32
    assert metrics["positives"] == 16
    assert 10 <= len(metrics["pr_curve"]) <= 20
    assert {"threshold", "precision", "recall"} == set(metrics["pr_curve"][0])


def test_too_small_a_holdout_gives_way_to_cross_validation():
    left, right, labels = easy_pairs(20)  # 40 labels: a holdout of 8
    result = train_matcher(left=left, right=right, labels=labels, config=LOGREG)
    assert result.metrics["evaluated_on"] == "cross-validation"
    assert result.metrics["n"] == 40 and result.split["folds"] == result.metrics["folds"] == 5
    assert result.split["holdout_ids"] == []


def test_with_too_few_labels_there_are_no_figures_and_the_threshold_is_one_half():
    left, right, labels = easy_pairs(10)
    result = train_matcher(left=left, right=right, labels=labels, config=LOGREG)
    assert result.metrics["evaluated_on"] is None
    assert result.metrics["f1"] is None
    assert result.matcher.threshold == DEFAULT_THRESHOLD
    assert "20 labels, figures need at least 30" in result.metrics["note"]


def test_labels_may_be_booleans():
    result = train_matcher(left=LEFT, right=RIGHT, labels=[bool(label) for label in LABELS], config=LOGREG)
    assert result.metrics["f1"] == 1.0


@pytest.mark.parametrize(
    ("left", "labels", "message"),
    [
        ([], [], "no labeled pairs"),
        (LEFT[:4], [1, 1, 1, 1], "both matches and non-matches"),
        (LEFT[:3], [1, 0, 1, 0], "3 left records, 4 right records and 4 labels"),
        (LEFT[:4], [1, 0, "match", 0], "labels must be 0/1"),
    ],
)
def test_unusable_labels_are_refused(left, labels, message):
    with pytest.raises(TrainingError, match=message):
        train_matcher(left=left, right=RIGHT[: len(labels)], labels=labels, config=LOGREG)


def test_scores_come_in_chunks_from_any_iterables():
    matcher = train_matcher(left=LEFT, right=RIGHT, labels=LABELS, config=LOGREG).matcher
    chunks = list(score_pairs(matcher=matcher, left=iter(LEFT[:7]), right=iter(RIGHT[:7]), chunk_size=3))
    assert [chunk.start for chunk in chunks] == [0, 3, 6]
    probabilities = np.concatenate([chunk.probabilities for chunk in chunks])
    assert np.allclose(probabilities, matcher.predict_proba(LEFT[:7], RIGHT[:7]))
    uncertainty = np.concatenate([chunk.uncertainty for chunk in chunks])
    assert np.allclose(uncertainty, pair_uncertainty(probabilities, matcher.threshold))


def test_scoring_sides_of_different_lengths_is_refused():
    matcher = train_matcher(left=LEFT, right=RIGHT, labels=LABELS, config=LOGREG).matcher
    with pytest.raises(ValueError):
        list(score_pairs(matcher=matcher, left=LEFT[:3], right=RIGHT[:2]))


def test_uncertainty_is_one_at_the_threshold_and_zero_at_certainty():
    values = pair_uncertainty([0.0, 0.15, 0.3, 0.65, 1.0], 0.3)
    assert values == pytest.approx([0.0, 0.5, 1.0, 0.5, 0.0])
    assert values.dtype == np.float32


def test_uncertainty_needs_a_threshold_inside_zero_one():
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        pair_uncertainty([0.5], 1.0)


def test_a_matcher_config_survives_a_json_round_trip():
    config = MatcherConfig(fields=("title", "price"), classifier="logreg", holdout=0.3, threshold="holdout")
    assert config.to_dict() == {
        "fields": ["title", "price"], "classifier": "logreg", "holdout": 0.3, "threshold": "holdout"
    }
    assert MatcherConfig.from_dict(config.to_dict()) == config
    assert MatcherConfig.from_dict({}) == MatcherConfig()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"classifier": "svm"}, "classifier must be one of"),
        ({"fields": ["title", "colour"]}, "fields must be among .*'colour'"),
        ({"fields": ["title", "title"]}, "must not repeat"),
        ({"fields": ["price"]}, "at least one text field"),
        ({"fields": "title"}, "non-empty list of field names"),
        ({"holdout": 0.6}, "holdout must be a fraction"),
        ({"threshold": 0.5}, "threshold must be one of"),
        ({"cutoff": 0.5}, "unknown matcher config key.*cutoff"),
        (["title"], "must be a mapping"),
    ],
)
def test_a_bad_matcher_config_names_what_is_wrong(data, message):
    with pytest.raises(ConfigError, match=message):
        MatcherConfig.from_dict(data)


def test_a_loaded_matcher_scores_like_the_original_and_keeps_its_threshold():
    matcher = train_matcher(left=LEFT, right=RIGHT, labels=LABELS, config=MatcherConfig()).matcher
    loaded = load_matcher(dump_matcher(matcher))
    assert loaded.threshold == matcher.threshold
    assert loaded.config == matcher.config
    assert np.array_equal(loaded.predict_proba(LEFT, RIGHT), matcher.predict_proba(LEFT, RIGHT))


def test_matcher_and_pipeline_artifacts_are_not_confused():
    matcher = train_matcher(left=LEFT, right=RIGHT, labels=LABELS, config=LOGREG).matcher
    with pytest.raises(ArtifactError, match="not a Pipeline"):
        load_pipeline(dump_matcher(matcher))
    pipeline = build_pipeline(ModelConfig(features=ModelConfig().features)).fit(["a mug", "a kettle"], ["x", "y"])
    with pytest.raises(ArtifactError, match="holds no matcher"):
        load_matcher(dump_pipeline(pipeline))
