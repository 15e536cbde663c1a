import pytest

from models_app.ml.forecast import forecast

# acc(n) = 0.95 - n^-0.5 reaches 0.9 at n = 400 exactly.
POINTS = [(n, 0.95 - n**-0.5) for n in (25, 100, 225, 900)]


def test_forecast_recovers_the_curve_parameters():
    assert forecast(points=POINTS, target=0.9)["params"] == pytest.approx({"a": 0.95, "b": 1.0, "c": 0.5}, abs=1e-4)


def test_forecast_solves_for_the_labels_needed():
    result = forecast(points=POINTS[:3], target=0.9)
    assert (result["fitted"], result["labels_needed"], result["more_labels"]) == (True, 400, 175)


def test_a_target_already_passed_needs_no_more_labels():
    result = forecast(points=POINTS, target=0.9)
    assert (result["labels_needed"], result["more_labels"]) == (400, 0)


def test_the_curve_runs_to_twice_the_labels_needed():
    curve = forecast(points=POINTS[:3], target=0.9)["curve"]
    assert (curve[0][0], curve[-1][0]) == (25, 800)


def test_a_target_above_the_asymptote_gives_no_answer():
    result = forecast(points=POINTS, target=0.97)
    assert (result["fitted"], result["labels_needed"]) == (True, None)
    assert "levels off at accuracy 0.950" in result["reason"]


def test_fewer_than_three_label_counts_give_no_fit():
    result = forecast(points=[(10, 0.5), (10, 0.52), (20, 0.6)], target=0.9)
    assert (result["fitted"], result["labels_needed"], result["curve"]) == (False, None, [])
    assert result["reason"] == "need points at 3 or more label counts, got 2"


def test_a_target_outside_zero_to_one_is_refused():
    with pytest.raises(ValueError, match="target must be an accuracy"):
        forecast(points=POINTS, target=90)
