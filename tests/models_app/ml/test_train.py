import pytest

from models_app.ml.config import ModelConfig
from models_app.ml.train import TrainingError, holdout_split, train

WORDS = {
    "audio": ["headphones", "earbuds", "speaker", "soundbar"],
    "phones": ["smartphone", "iphone", "galaxy phone", "android phone"],
    "shoes": ["sneakers", "running shoes", "boots", "sandals"],
}
TEXTS = [f"Brand{i} {words[i % 4]} model {i}" for words in WORDS.values() for i in range(8)]
LABELS = [label for label in WORDS for _ in range(8)]
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


def test_train_measures_on_the_holdout():
    result = train(texts=TEXTS, labels=LABELS, config=ModelConfig())
    assert (result.metrics["evaluated_on"], result.metrics["n"], result.metrics["accuracy"]) == ("holdout", 6, 1.0)


def test_train_records_the_split_and_the_refit_on_all_labels():
    split = train(texts=TEXTS, labels=LABELS, config=ModelConfig(seed=4)).split
    assert (split["n"], split["train"], split["holdout"], split["seed"], split["refit_on_all"]) == (24, 18, 6, 4, True)
    assert split["holdout_ids"] == holdout_split(LABELS, fraction=0.2, seed=4)[1]


def test_the_returned_pipeline_knows_a_class_seen_once():
    result = train(texts=[*TEXTS, "Canon EOS camera"], labels=[*LABELS, "cameras"], config=ModelConfig())
    assert result.classes == list(result.pipeline.classes_) == ["audio", "cameras", "phones", "shoes"]
    assert "cameras" in result.metrics["note"]


def test_too_few_labels_are_measured_on_the_training_data_and_say_so():
    result = train(texts=["red shoe", "blue shoe", "black phone"], labels=["s", "s", "p"], config=ModelConfig())
    assert result.metrics["evaluated_on"] == "training"
    assert result.metrics["note"] == (
        "too few labels for a holdout (3 < 10); metrics are measured on the training data and are optimistic"
    )
    assert result.split["holdout"] == 0


def test_train_adds_level_accuracy_with_label_paths():
    metrics = train(texts=TEXTS, labels=LABELS, config=ModelConfig(), label_paths=PATHS).metrics
    assert metrics["level_accuracy"] == [1.0, 1.0]


def test_train_reports_every_timing():
    timings = train(texts=TEXTS, labels=LABELS, config=ModelConfig()).timings
    assert set(timings) == {"featurize_fit_s", "fit_s", "evaluate_s", "total_s"}
    assert timings["total_s"] >= timings["featurize_fit_s"] + timings["fit_s"]


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
