import numpy as np
import pytest

from models_app.ml.config import ModelConfig
from models_app.ml.features import build_pipeline
from models_app.ml.scoring import score, top_k, uncertainty

PROBS = np.array([[0.5, 0.3, 0.2], [1.0, 0.0, 0.0], [1 / 3, 1 / 3, 1 / 3]])


def test_least_confidence_is_one_minus_the_top_probability():
    assert np.allclose(uncertainty(PROBS, "least_confidence"), [0.5, 0.0, 2 / 3])


def test_margin_is_one_minus_the_gap_between_the_top_two():
    assert np.allclose(uncertainty(PROBS, "margin"), [0.8, 0.0, 1.0])


def test_entropy_is_normalized_to_one_for_a_uniform_row():
    expected = -(0.5 * np.log(0.5) + 0.3 * np.log(0.3) + 0.2 * np.log(0.2)) / np.log(3)
    assert np.allclose(uncertainty(PROBS, "entropy"), [expected, 0.0, 1.0])


def test_uncertainty_is_float32():
    assert uncertainty(PROBS, "margin").dtype == np.float32


def test_an_unknown_strategy_is_refused():
    with pytest.raises(ValueError, match="strategy must be one of"):
        uncertainty(PROBS, "random")


def test_top_k_orders_the_best_first():
    columns, probs = top_k(np.array([[0.1, 0.6, 0.3], [0.5, 0.2, 0.3]]), 2)
    assert (columns.tolist(), probs.tolist()) == ([[1, 2], [0, 2]], [[0.6, 0.3], [0.5, 0.3]])


TEXTS = ["red running shoe", "blue running shoe", "black android phone", "white android phone", "wired earbuds"]
LABELS = ["shoes", "shoes", "phones", "phones", "audio"]


def fitted():
    return build_pipeline(ModelConfig()).fit(TEXTS, LABELS)


def test_score_yields_chunks_that_cover_the_input_in_order():
    chunks = list(score(pipeline=fitted(), texts=(t for t in TEXTS), chunk_size=2))
    assert [(c.start, len(c.top_labels)) for c in chunks] == [(0, 2), (2, 2), (4, 1)]


def test_score_suggests_the_right_label_first():
    (chunk,) = score(pipeline=fitted(), texts=["green running shoe", "android phone"])
    assert [labels[0] for labels in chunk.top_labels] == ["shoes", "phones"]


def test_score_gives_k_labels_with_decreasing_float32_probabilities():
    (chunk,) = score(pipeline=fitted(), texts=["shoe"], k=2)
    assert (len(chunk.top_labels[0]), chunk.top_probs.shape, chunk.top_probs.dtype) == (2, (1, 2), np.float32)
    assert chunk.top_probs[0, 0] >= chunk.top_probs[0, 1]


def test_score_caps_k_at_the_number_of_classes():
    (chunk,) = score(pipeline=fitted(), texts=["shoe"], k=10)
    assert sorted(chunk.top_labels[0]) == ["audio", "phones", "shoes"]


def test_score_uses_the_chosen_strategy():
    pipeline = fitted()
    (chunk,) = score(pipeline=pipeline, texts=["shoe"], strategy="least_confidence")
    assert np.isclose(chunk.uncertainty[0], 1 - pipeline.predict_proba(["shoe"]).max())


def test_score_of_nothing_yields_nothing():
    assert list(score(pipeline=fitted(), texts=[])) == []
