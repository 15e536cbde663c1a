import pytest

from models_app.ml.config import FeatureConfig, ModelConfig
from models_app.ml.experiments import cross_validate, fold_count

TEXTS = [f"{colour} running shoe item {i}" for i, colour in enumerate(["red", "blue", "green", "black"])] + [
    f"{brand} android phone item {i}" for i, brand in enumerate(["nokia", "samsung", "pixel", "moto"])
]
LABELS = ["shoes"] * 4 + ["phones"] * 4
# "item" is in every text, so a one-word vocabulary keeps only it and cannot tell the classes apart.
CONFIGS = {
    "words": ModelConfig(features=FeatureConfig(char_ngrams=None)),
    "tiny vocabulary": ModelConfig(features=FeatureConfig(char_ngrams=None, max_features=1, word_ngrams=(1, 1))),
}


def test_folds_shrink_to_the_smallest_class():
    assert fold_count(["a"] * 3 + ["b"] * 9, 5) == (3, "3 folds instead of 5: the smallest class has 3 label(s)")


def test_folds_never_go_below_two():
    used, note = fold_count(["a"] + ["b"] * 9, 5)
    assert used == 2 and "never saw its class" in note


def test_folds_stay_when_every_class_is_big_enough():
    assert fold_count(["a"] * 5 + ["b"] * 5, 5) == (5, None)


def test_cross_validate_sorts_the_best_accuracy_first():
    results = cross_validate(texts=TEXTS, labels=LABELS, configs=CONFIGS, folds=4)
    assert [r["name"] for r in results] == ["words", "tiny vocabulary"]
    assert results[0]["accuracy_mean"] == 1.0


def test_cross_validate_reports_every_figure_per_config():
    (result,) = cross_validate(texts=TEXTS, labels=LABELS, configs={"words": CONFIGS["words"]}, folds=4)
    assert set(result) == {
        "name", "config", "folds", "accuracy_mean", "accuracy_std", "macro_f1_mean", "macro_f1_std", "fit_seconds_mean"
    }  # fmt: skip
    assert (result["folds"], result["config"]) == (4, CONFIGS["words"].to_dict())


def test_cross_validate_notes_reduced_folds():
    (result,) = cross_validate(texts=TEXTS, labels=LABELS, configs={"words": CONFIGS["words"]}, folds=5)
    assert (result["folds"], result["note"]) == (4, "4 folds instead of 5: the smallest class has 4 label(s)")


def test_cross_validate_averages_level_accuracy_with_label_paths():
    paths = {"shoes": ["Fashion", "Shoes"], "phones": ["Electronics", "Phones"]}
    (result,) = cross_validate(texts=TEXTS, labels=LABELS, configs={"w": CONFIGS["words"]}, folds=4, label_paths=paths)
    assert result["level_accuracy_mean"] == [1.0, 1.0]


def test_a_config_that_cannot_fit_reports_its_error_last():
    bad = ModelConfig(features=FeatureConfig(char_ngrams=None, min_df=100))
    results = cross_validate(texts=TEXTS, labels=LABELS, configs={"bad": bad, "words": CONFIGS["words"]}, folds=4)
    assert [r["name"] for r in results] == ["words", "bad"]
    assert "accuracy_mean" not in results[1] and results[1]["error"]


def test_fewer_than_two_folds_are_refused():
    with pytest.raises(ValueError, match="at least 2 folds"):
        cross_validate(texts=TEXTS, labels=LABELS, configs=CONFIGS, folds=1)


def test_each_config_learns_its_vocabulary_from_the_catalog_too():
    # A one-word vocabulary keeps the most frequent word: "item", in every labeled text, tells nothing; in this
    # catalog it is "running", which only the shoes have, so the tiny config now tells the classes apart.
    catalog = [*TEXTS, *(f"running {i}" for i in range(50))]
    results = cross_validate(texts=TEXTS, labels=LABELS, configs=CONFIGS, folds=4, catalog=catalog)
    assert [r["accuracy_mean"] for r in results] == [1.0, 1.0]
    without = cross_validate(texts=TEXTS, labels=LABELS, configs={"tiny": CONFIGS["tiny vocabulary"]}, folds=4)
    assert without[0]["accuracy_mean"] < 1.0
