import json

import pytest
from statsmodels.stats.proportion import proportion_confint

from models_app.ml.metrics import best_f1_threshold, evaluate, match_metrics, wilson_interval

# Truth a a a b b c; predictions a a b b c c -> confusion [[2,1,0],[0,1,1],[0,0,1]].
Y_TRUE = ["a", "a", "a", "b", "b", "c"]
Y_PRED = ["a", "a", "b", "b", "c", "c"]


def metrics(**kwargs):
    return evaluate(y_true=Y_TRUE, y_pred=Y_PRED, classes=["a", "b", "c"], **kwargs)


def test_confusion_rows_are_truth_and_columns_predictions():
    assert metrics()["confusion"] == {"labels": ["a", "b", "c"], "matrix": [[2, 1, 0], [0, 1, 1], [0, 0, 1]]}


def test_accuracy_counts_the_diagonal():
    assert metrics()["accuracy"] == 0.6667


def test_per_class_precision_recall_f1_and_support():
    assert metrics()["per_class"] == {
        "a": {"precision": 1.0, "recall": 0.6667, "f1": 0.8, "support": 3},
        "b": {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2},
        "c": {"precision": 0.5, "recall": 1.0, "f1": 0.6667, "support": 1},
    }


def test_macro_f1_averages_the_classes():
    assert metrics()["macro_f1"] == round((0.8 + 0.5 + 2 / 3) / 3, 4)


def test_macro_f1_skips_a_class_absent_from_truth_and_predictions():
    result = evaluate(y_true=["a", "b"], y_pred=["a", "a"], classes=["a", "b", "z"])
    assert (result["macro_f1"], result["per_class"]["z"]["support"]) == (round((2 / 3 + 0) / 2, 4), 0)


def test_metrics_are_json_serializable():
    assert json.loads(json.dumps(metrics(label_paths={"a": ["x", "a"]}))) == metrics(label_paths={"a": ["x", "a"]})


def test_no_level_accuracy_without_label_paths():
    assert "level_accuracy" not in metrics()


PATHS = {"headphones": ["Audio", "Headphones"], "speakers": ["Audio", "Speakers"], "phones": ["Phones", "Smart"]}


def test_a_wrong_leaf_under_the_right_parent_is_right_at_depth_one_only():
    result = evaluate(y_true=["headphones"], y_pred=["speakers"], classes=list(PATHS), label_paths=PATHS)
    assert result["level_accuracy"] == [1.0, 0.0]


def test_a_wrong_leaf_under_the_right_parent_at_depth_two_scores_one_half():
    result = evaluate(y_true=["headphones"], y_pred=["speakers"], classes=list(PATHS), label_paths=PATHS)
    assert result["hierarchical_accuracy"] == 0.5


def test_level_accuracy_averages_over_examples():
    result = evaluate(
        y_true=["headphones", "headphones", "phones"],
        y_pred=["headphones", "speakers", "headphones"],
        classes=list(PATHS),
        label_paths=PATHS,
    )
    assert (result["level_accuracy"], result["hierarchical_accuracy"]) == ([0.6667, 0.3333], 0.5)


def test_a_label_outside_classes_is_refused():
    with pytest.raises(ValueError, match="labels not in classes: d"):
        evaluate(y_true=["a"], y_pred=["d"], classes=["a"])


def test_accuracy_carries_its_wilson_interval():
    expected = [round(x, 4) for x in proportion_confint(4, 6, method="wilson")]
    assert metrics()["accuracy_interval"] == expected


def test_each_taxonomy_level_carries_its_wilson_interval():
    result = evaluate(
        y_true=["headphones", "headphones", "phones"],
        y_pred=["headphones", "speakers", "headphones"],
        classes=list(PATHS),
        label_paths=PATHS,
    )
    expected = [[round(x, 4) for x in proportion_confint(hits, 3, method="wilson")] for hits in (2, 1)]
    assert result["level_accuracy_intervals"] == expected


def test_no_labels_have_no_interval():
    assert wilson_interval(correct=0, n=0) is None


def test_one_wrong_label_has_an_interval_up_to_79_percent():
    assert wilson_interval(correct=0, n=1) == [0.0, 0.7935]


def test_the_best_f1_threshold_lies_halfway_to_the_next_lower_probability():
    assert best_f1_threshold(y_true=[1, 1, 0, 0], probabilities=[0.9, 0.8, 0.3, 0.1]) == pytest.approx(0.55)


def test_the_best_f1_threshold_may_call_a_non_match_to_reach_a_match():
    # Calling the top one: F1 2/3; the top three (one wrong): 0.8; all four: 2/3.
    y_true, probabilities = [1, 0, 1, 0], [0.9, 0.7, 0.6, 0.2]
    assert best_f1_threshold(y_true=y_true, probabilities=probabilities) == pytest.approx((0.6 + 0.2) / 2)


def test_tied_probabilities_are_called_together():
    assert best_f1_threshold(y_true=[1, 0, 0], probabilities=[0.7, 0.7, 0.1]) == pytest.approx(0.4)


def test_a_threshold_needs_a_match():
    with pytest.raises(ValueError, match="at least one match"):
        best_f1_threshold(y_true=[0, 0], probabilities=[0.1, 0.2])


def test_match_metrics_count_the_pairs_at_the_threshold():
    figures = match_metrics(y_true=[1, 1, 0, 0, 1], probabilities=[0.9, 0.4, 0.6, 0.1, 0.8], threshold=0.5)
    assert figures["counts"] == {"tp": 2, "fp": 1, "fn": 1, "tn": 1}
    assert (figures["precision"], figures["recall"], figures["f1"]) == (0.6667, 0.6667, 0.6667)
    assert figures["n"] == 5 and figures["positives"] == 3 and figures["threshold"] == 0.5
    json.dumps(figures)


def test_the_precision_recall_curve_has_a_point_per_fixed_threshold():
    curve = match_metrics(y_true=[1, 0], probabilities=[0.42, 0.12], threshold=0.5)["pr_curve"]
    assert [point["threshold"] for point in curve][:3] == [0.05, 0.1, 0.15]
    assert curve[1] == {"threshold": 0.1, "precision": 0.5, "recall": 1.0}
    assert curve[2] == {"threshold": 0.15, "precision": 1.0, "recall": 1.0}
    assert curve[-1] == {"threshold": 0.95, "precision": None, "recall": 0.0}
