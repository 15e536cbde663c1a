import json

import pytest
from statsmodels.stats.proportion import proportion_confint

from models_app.ml.metrics import evaluate, wilson_interval

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
