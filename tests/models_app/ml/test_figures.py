import pytest
from statsmodels.stats.proportion import proportion_confint

from models_app.ml.figures import MIN_EVALUATED, headline


def wilson(correct: int, n: int) -> list[float]:
    return [round(x, 4) for x in proportion_confint(correct, n, method="wilson")]


# What a model measured on one held-out product recorded: wrong leaf, right top level.
ONE_PRODUCT = {"n": 1, "accuracy": 0.0, "macro_f1": 0.0, "level_accuracy": [1.0, 0.0], "evaluated_on": "holdout"}


def test_the_minimum_is_30_held_out_labels():
    assert MIN_EVALUATED == 30


def test_one_held_out_product_shows_no_accuracy_and_says_why():
    shown = headline(ONE_PRODUCT)
    assert (shown["accuracy"], shown["accuracy_interval"], shown["macro_f1"]) == (None, None, None)
    assert shown["withheld"] == "too few held-out labels: 1"


def test_one_held_out_product_shows_no_level_accuracy():
    assert headline(ONE_PRODUCT)["level_accuracy"] == []


def test_29_held_out_labels_are_still_too_few():
    assert headline({**ONE_PRODUCT, "n": 29, "accuracy": 0.9})["withheld"] == "too few held-out labels: 29"


def test_30_held_out_labels_show_the_accuracy_with_its_interval():
    stored = {"n": 30, "accuracy": 0.8, "accuracy_interval": wilson(24, 30), "macro_f1": 0.7, "evaluated_on": "holdout"}
    shown = headline(stored)
    assert (shown["accuracy"], shown["accuracy_interval"], shown["macro_f1"], shown["n"]) == (
        0.8, [0.6269, 0.9049], 0.7, 30
    )
    assert shown["withheld"] is None


def test_metrics_stored_without_an_interval_get_it_from_the_accuracy_and_n():
    shown = headline({"n": 200, "accuracy": 0.93, "macro_f1": 0.91, "level_accuracy": [0.98, 0.93]})
    assert shown["accuracy_interval"] == wilson(186, 200)
    assert shown["level_accuracy"] == [
        {"accuracy": 0.98, "interval": wilson(196, 200)},
        {"accuracy": 0.93, "interval": wilson(186, 200)},
    ]


def test_stored_level_intervals_are_kept():
    stored = {"n": 40, "accuracy": 0.5, "level_accuracy": [0.75], "level_accuracy_intervals": [[0.1, 0.2]]}
    assert headline(stored)["level_accuracy"] == [{"accuracy": 0.75, "interval": [0.1, 0.2]}]


def test_figures_measured_on_the_training_data_are_withheld():
    shown = headline({"n": 500, "accuracy": 1.0, "evaluated_on": "training"})
    assert (shown["accuracy"], shown["withheld"]) == (None, "measured on the training data, not on held-out labels")


def test_a_training_that_measured_nothing_is_withheld_with_its_n():
    shown = headline({"n": 24, "evaluated_on": None, "accuracy": None, "macro_f1": None})
    assert shown["withheld"] == "too few held-out labels: 24"


@pytest.mark.parametrize("evaluated_on, folds", [("holdout", None), ("cross-validation", 5)])
def test_the_headline_says_how_it_was_measured(evaluated_on, folds):
    shown = headline({"n": 31, "accuracy": 0.5, "evaluated_on": evaluated_on, "folds": folds})
    assert (shown["evaluated_on"], shown["folds"]) == (evaluated_on, folds)


def test_a_matcher_is_shown_by_precision_recall_and_f1_not_accuracy():
    metrics = {"n": 120, "evaluated_on": "holdout", "threshold": 0.42, "precision": 0.8, "recall": 0.7,
               "f1": 0.7467, "average_precision": 0.81}
    shown = headline(metrics)
    assert shown["withheld"] is None and shown["accuracy"] is None
    assert (shown["precision"], shown["recall"], shown["f1"], shown["threshold"]) == (0.8, 0.7, 0.7467, 0.42)
    few = headline({**metrics, "n": MIN_EVALUATED - 1})
    assert few["withheld"] == f"too few held-out labels: {MIN_EVALUATED - 1}" and few["f1"] is None
    assert headline({"n": 0, "evaluated_on": None, "f1": None})["withheld"] == "too few held-out labels: 0"


def test_a_categorizer_has_no_matcher_figures():
    shown = headline({"n": 200, "accuracy": 0.93, "macro_f1": 0.91})
    assert shown["f1"] is None and shown["precision"] is None and shown["accuracy"] == 0.93
