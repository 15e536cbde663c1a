import pickle

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from models_app.ml.config import FeatureConfig, ModelConfig
from models_app.ml.features import CharNgramVectorizer, build_features, build_pipeline
from models_app.ml.text import Preprocessor

TEXTS = ["Apple iPhone 8 64GB", "Samsung Galaxy S9 phone", "Sony WH-1000XM3 headphones", "Bose QC35 headphones"]
LABELS = ["phone", "phone", "audio", "audio"]


def test_char_vectorizer_gives_the_same_matrix_as_tfidf_char_wb():
    ours = CharNgramVectorizer(ngram_range=(2, 4), normalize_numbers=True).fit(TEXTS[:3])
    reference = TfidfVectorizer(
        analyzer="char_wb",
        preprocessor=Preprocessor(lowercase=True, normalize_numbers=True),
        ngram_range=(2, 4),
        sublinear_tf=True,
    ).fit(TEXTS[:3])
    assert ours.vocabulary_ == reference.vocabulary_
    assert np.allclose(ours.transform(TEXTS).toarray(), reference.transform(TEXTS).toarray(), atol=1e-6)


def test_char_vectorizer_transform_repeats_fit_transform():
    vectorizer = CharNgramVectorizer()
    fitted = vectorizer.fit_transform(TEXTS)
    assert np.allclose(fitted.toarray(), vectorizer.transform(TEXTS).toarray(), atol=1e-6)


def test_max_features_caps_each_vectorizer():
    union = build_features(FeatureConfig(max_features=5)).fit(TEXTS)
    assert [len(t.vocabulary_) for _, t in union.transformer_list] == [5, 5]


def test_char_ngrams_off_gives_word_features_only():
    assert isinstance(build_features(FeatureConfig(char_ngrams=None)), TfidfVectorizer)


def test_kept_case_makes_distinct_features():
    words = build_features(FeatureConfig(lowercase=False, char_ngrams=None, word_ngrams=(1, 1)))
    assert {"Phone", "phone"} <= set(words.fit(["Phone", "phone"]).vocabulary_)


@pytest.mark.parametrize("classifier", ["logreg", "linear_svm", "sgd"])
def test_every_classifier_gives_probabilities(classifier):
    pipeline = build_pipeline(ModelConfig(classifier=classifier)).fit(TEXTS * 3, LABELS * 3)
    probs = pipeline.predict_proba(["Apple iPhone 7"])
    assert probs.shape == (1, 2)
    assert np.isclose(probs.sum(), 1.0)


def test_calibrated_svm_fits_a_class_with_one_example():
    pipeline = build_pipeline(ModelConfig(classifier="linear_svm")).fit([*TEXTS, "Canon EOS camera"], [*LABELS, "cam"])
    assert list(pipeline.classes_) == ["audio", "cam", "phone"]


def test_a_fitted_spacy_pipeline_pickles_and_predicts_the_same():
    pipeline = build_pipeline(ModelConfig()).fit(TEXTS, LABELS)
    copy = pickle.loads(pickle.dumps(pipeline))  # noqa: S301 - bytes made two lines up
    assert np.array_equal(copy.predict_proba(TEXTS), pipeline.predict_proba(TEXTS))
