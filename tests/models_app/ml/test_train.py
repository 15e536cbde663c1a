import importlib

import pytest
from statsmodels.stats.proportion import proportion_confint

from models_app.ml.config import FeatureConfig, ModelConfig
from models_app.ml.features import catalog_fits, fit_classifier, fit_vectorizers
from models_app.ml.train import TrainingError, cold_start_over, holdout_split, train

WORDS = {
    "audio": ["headphones", "earbuds", "speaker", "soundbar"],
    "phones": ["smartphone", "iphone", "galaxy phone", "android phone"],
    "shoes": ["sneakers", "running shoes", "boots", "sandals"],
}


def catalog(per_class: int) -> tuple[list[str], list[str]]:
    texts = [f"Brand{i} {words[i % 4]} model {i}" for words in WORDS.values() for i in range(per_class)]
    return texts, [label for label in WORDS for _ in range(per_class)]


TEXTS, LABELS = catalog(8)  # 24 labels: too few for any figure
BIG_TEXTS, BIG_LABELS = catalog(60)  # 180 labels: a holdout of 36
MID_TEXTS, MID_LABELS = catalog(11)  # 33 labels: a holdout of 6, so cross-validation
# The package's `train` is the function; the module holds the constants.
train_module = importlib.import_module("models_app.ml.train")
PATHS = {"audio": ["Electronics", "Audio"], "phones": ["Electronics", "Phones"], "shoes": ["Fashion", "Shoes"]}


def test_holdout_takes_the_fraction_of_every_class():
    _, holdout, notes = holdout_split(LABELS, fraction=0.2, seed=0)
    assert sorted(LABELS[i] for i in holdout) == ["audio"] * 2 + ["phones"] * 2 + ["shoes"] * 2
    assert notes == []


def test_holdout_never_takes_the_only_example_of_a_class():
    train_ids, holdout, notes = holdout_split([*LABELS, "cameras"], fraction=0.2, seed=0)
    assert 24 in train_ids and 24 not in holdout
    assert notes == ["1 of 4 classes have too few labels to hold out (cameras)"]


def test_holdout_is_reproducible_with_the_seed():
    assert holdout_split(LABELS, fraction=0.2, seed=3) == holdout_split(LABELS, fraction=0.2, seed=3)


def test_train_measures_on_a_holdout_of_at_least_30_labels():
    result = train(texts=BIG_TEXTS, labels=BIG_LABELS, config=ModelConfig())
    assert (result.metrics["evaluated_on"], result.metrics["n"], result.metrics["accuracy"]) == ("holdout", 36, 1.0)


def test_holdout_metrics_carry_the_accuracy_interval():
    metrics = train(texts=BIG_TEXTS, labels=BIG_LABELS, config=ModelConfig()).metrics
    assert metrics["accuracy_interval"] == [0.9036, 1.0]  # Wilson, 36 of 36


def test_train_records_the_split_and_the_refit_on_all_labels():
    split = train(texts=BIG_TEXTS, labels=BIG_LABELS, config=ModelConfig(seed=4)).split
    assert (split["n"], split["train"], split["holdout"], split["seed"]) == (180, 144, 36, 4)
    assert split["refit_on_all"] is True
    assert split["holdout_ids"] == holdout_split(BIG_LABELS, fraction=0.2, seed=4)[1]


def test_the_returned_pipeline_knows_a_class_seen_once():
    result = train(texts=[*BIG_TEXTS, "Canon EOS camera"], labels=[*BIG_LABELS, "cameras"], config=ModelConfig())
    assert result.classes == list(result.pipeline.classes_) == ["audio", "cameras", "phones", "shoes"]
    assert "cameras" in result.metrics["note"]


def test_a_holdout_under_30_labels_gives_way_to_cross_validation_over_every_label():
    metrics = train(texts=MID_TEXTS, labels=MID_LABELS, config=ModelConfig()).metrics
    assert (metrics["evaluated_on"], metrics["n"], metrics["folds"]) == ("cross-validation", 33, 5)
    assert metrics["note"] == (
        "the holdout would have 6 labels, too few for a figure; measured by 5-fold cross-validation over 33 labels"
    )


def test_cross_validated_metrics_carry_the_interval_of_every_label_scored():
    metrics = train(texts=MID_TEXTS, labels=MID_LABELS, config=ModelConfig()).metrics
    matrix = metrics["confusion"]["matrix"]
    correct, scored = sum(matrix[i][i] for i in range(len(matrix))), sum(map(sum, matrix))
    assert scored == 33
    assert metrics["accuracy_interval"] == [round(x, 4) for x in proportion_confint(correct, 33, method="wilson")]


def test_cross_validation_records_its_folds_and_no_holdout_in_the_split():
    split = train(texts=MID_TEXTS, labels=MID_LABELS, config=ModelConfig()).split
    assert (split["train"], split["holdout"], split["holdout_ids"], split["folds"]) == (33, 0, [], 5)


def test_cross_validation_never_scores_the_only_label_of_a_class():
    metrics = train(
        texts=[*MID_TEXTS, "Canon EOS camera"], labels=[*MID_LABELS, "cameras"], config=ModelConfig()
    ).metrics
    assert (metrics["n"], metrics["per_class"]["cameras"]["support"]) == (33, 0)
    assert metrics["note"].endswith("1 class with a single label trained on but not measured")


def test_cross_validation_is_reproducible_with_the_seed():
    def measure() -> dict:
        return train(texts=MID_TEXTS, labels=MID_LABELS, config=ModelConfig(seed=5)).metrics

    assert measure() == measure()


def test_fewer_than_30_labels_give_no_figures_and_say_why():
    result = train(texts=TEXTS, labels=LABELS, config=ModelConfig())
    assert result.metrics == {
        "n": 24,
        "evaluated_on": None,
        "accuracy": None,
        "macro_f1": None,
        "note": "too few held-out labels: 24; figures need at least 30",
    }


def test_a_large_dataset_with_a_tiny_holdout_is_not_cross_validated(monkeypatch):
    monkeypatch.setattr(train_module, "MAX_CROSS_VALIDATED", 30)
    metrics = train(texts=MID_TEXTS, labels=MID_LABELS, config=ModelConfig()).metrics
    assert (metrics["evaluated_on"], metrics["n"], metrics["accuracy"]) == (None, 6, None)


def test_train_adds_level_accuracy_with_label_paths():
    metrics = train(texts=BIG_TEXTS, labels=BIG_LABELS, config=ModelConfig(), label_paths=PATHS).metrics
    assert (metrics["level_accuracy"], metrics["level_accuracy_intervals"]) == ([1.0, 1.0], [[0.9036, 1.0]] * 2)


def test_train_reports_every_timing():
    timings = train(texts=BIG_TEXTS, labels=BIG_LABELS, config=ModelConfig()).timings
    assert set(timings) == {"featurize_fit_s", "fit_s", "evaluate_s", "total_s"}
    # Each is rounded to the millisecond, so the sum may exceed the rounded total by one.
    assert timings["total_s"] >= timings["featurize_fit_s"] + timings["fit_s"] - 0.001


def test_the_vectorizers_learn_from_the_catalog_without_its_labels_and_serve_every_model():
    unlabeled = ["Zyxcorp quantum speaker", "Zyxcorp quantum boots"]
    result = train(texts=BIG_TEXTS, labels=BIG_LABELS, config=ModelConfig(), catalog=[*BIG_TEXTS, *unlabeled])
    words = result.pipeline.named_steps["features"].transformer_list[0][1]
    assert "zyxcorp" in words.vocabulary_ and "quantum speaker" in words.vocabulary_
    plain = train(texts=BIG_TEXTS, labels=BIG_LABELS, config=ModelConfig())
    assert "zyxcorp" not in plain.pipeline.named_steps["features"].transformer_list[0][1].vocabulary_
    # Each distinct text counts once: a catalog of the labeled texts themselves learns what they alone teach.
    again = train(texts=BIG_TEXTS, labels=BIG_LABELS, config=ModelConfig(), catalog=BIG_TEXTS)
    # (to float32 rounding: the rows come from transform, not from fit_transform)
    assert again.pipeline.predict_proba(unlabeled) == pytest.approx(plain.pipeline.predict_proba(unlabeled), abs=1e-6)


def test_the_classifier_fits_only_the_columns_its_training_rows_hold():
    unlabeled = ["Zyxcorp quantum speaker", "Zyxcorp quantum boots"]
    catalog = [*BIG_TEXTS, *unlabeled]
    pipeline = train(texts=BIG_TEXTS, labels=BIG_LABELS, config=ModelConfig(), catalog=catalog).pipeline
    words = pipeline.named_steps["features"].transformer_list[0][1].vocabulary_
    kept = set(pipeline.named_steps["columns"].columns_.tolist())
    assert words["zyxcorp"] not in kept and words["sneakers"] in kept  # the word columns come first
    assert pipeline[:-1].transform(unlabeled).shape[1] == len(kept) < pipeline[:1].transform(unlabeled).shape[1]
    assert pipeline.predict(["Brand3 sneakers model 3"]).tolist() == ["shoes"]


def test_the_refit_on_every_label_starts_from_the_holdout_models_weights():
    config = ModelConfig()
    vectorizers, rows = fit_vectorizers(config, BIG_TEXTS, BIG_TEXTS)
    half = list(range(0, len(BIG_LABELS), 2))
    start = fit_classifier(config, vectorizers, rows[half], [BIG_LABELS[i] for i in half])
    cold = fit_classifier(config, vectorizers, rows, BIG_LABELS)

    warm = fit_classifier(config, vectorizers, rows, BIG_LABELS, start=start)
    again = fit_classifier(config, vectorizers, rows, BIG_LABELS, start=cold)  # from the solution itself

    assert warm[-1].n_iter_[0] <= cold[-1].n_iter_[0]
    assert again[-1].n_iter_[0] <= 2 < cold[-1].n_iter_[0]
    assert warm.predict(BIG_TEXTS).tolist() == cold.predict(BIG_TEXTS).tolist()
    assert warm[-1].warm_start is False  # the artifact keeps the config's settings


def test_a_catalogs_fit_is_kept_until_its_texts_or_the_settings_change():
    catalog_fits.clear()
    first, _ = fit_vectorizers(ModelConfig(), TEXTS, BIG_TEXTS)
    assert fit_vectorizers(ModelConfig(), TEXTS[:3], list(BIG_TEXTS))[0] is first  # other labels, same catalog
    changed = [*BIG_TEXTS[:-1], BIG_TEXTS[-1] + " v2"]
    assert fit_vectorizers(ModelConfig(), TEXTS, changed)[0] is not first
    assert fit_vectorizers(ModelConfig(features=FeatureConfig(min_df=2)), TEXTS, BIG_TEXTS)[0] is not first
    assert fit_vectorizers(ModelConfig(C=5.0), TEXTS, BIG_TEXTS)[0] is first  # the classifier's settings: the same


def test_one_class_is_refused():
    with pytest.raises(TrainingError, match="at least 2 classes"):
        train(texts=["a", "b"], labels=["x", "x"], config=ModelConfig())


def test_no_examples_are_refused():
    with pytest.raises(TrainingError, match="no labeled examples"):
        train(texts=[], labels=[], config=ModelConfig())


def test_texts_and_labels_of_different_lengths_are_refused():
    with pytest.raises(TrainingError, match="3 texts but 2 labels"):
        train(texts=["a", "b", "c"], labels=["x", "y"], config=ModelConfig())


def test_blank_texts_raise_a_training_error():
    with pytest.raises(TrainingError, match="training failed"):
        train(texts=["", " "], labels=["x", "y"], config=ModelConfig())


def test_training_error_is_a_value_error():
    assert issubclass(TrainingError, ValueError)


features_module = importlib.import_module("models_app.ml.features")


def test_a_logistic_regression_too_large_for_memory_is_refused_with_what_to_change():
    # The Google Product Taxonomy's scale asked lbfgs for ~54 GB; this one would need petabytes anywhere.
    with pytest.raises(TrainingError, match=r"100,000 categories x 1,000,000 features: .* Choose the 'taxonomy'"):
        features_module.solver_memory_check(ModelConfig(), classes=100_000, columns=1_000_000)
    features_module.solver_memory_check(ModelConfig(classifier="sgd"), classes=100_000, columns=1_000_000)
    features_module.solver_memory_check(ModelConfig(), classes=57, columns=100_000)


def test_training_refuses_before_the_solver_asks_for_the_memory(monkeypatch):
    monkeypatch.setattr(features_module, "MAX_SOLVER_BYTES", 10_000)
    with pytest.raises(TrainingError, match=r"3 categories x [0-9,]+ features: logistic regression's solver"):
        train(texts=BIG_TEXTS, labels=BIG_LABELS, config=ModelConfig())


TAXONOMY = ModelConfig(classifier="taxonomy")


def test_the_cold_start_ends_when_every_label_seen_has_enough_examples():
    assert not cold_start_over(["audio", "audio", "phones"], examples=2)
    assert cold_start_over(["audio", "audio", "phones", "phones"], examples=2)
    assert not cold_start_over([], examples=1)


def test_the_taxonomy_classifier_counts_per_branch_where_the_seen_paths_part():
    # Every leaf seen once, but each first branch (Electronics, Fashion) has two examples.
    paths = {**PATHS, "boots": ["Fashion", "Boots"]}
    labels = ["audio", "phones", "shoes", "boots"]
    assert cold_start_over(labels, examples=2, config=TAXONOMY, label_paths=paths)
    assert not cold_start_over(labels, examples=2, config=ModelConfig(), label_paths=paths)
    assert not cold_start_over([*labels[:3]], examples=2, config=TAXONOMY, label_paths=paths)


def test_a_root_every_path_shares_is_not_a_branch():
    # All under "Shop": the first decision is among Shop's children, each seen once here.
    paths = {"audio": ["Shop", "Audio"], "phones": ["Shop", "Phones"], "shop": ["Shop"]}
    assert not cold_start_over(["audio", "phones", "audio"], examples=2, config=TAXONOMY, label_paths=paths)
    assert cold_start_over(["audio", "phones"] * 2, examples=2, config=TAXONOMY, label_paths=paths)
    # A label on the shared node itself is a branch of its own (the tree's "stop" there).
    assert not cold_start_over(["audio", "phones", "shop"] * 1 + ["audio", "phones"], examples=2,
                               config=TAXONOMY, label_paths=paths)
