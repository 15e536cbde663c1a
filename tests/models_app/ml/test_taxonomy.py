"""The level-by-level classifier: the same answers as its exact distribution, a tree of small models."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression

from models_app.ml.config import ModelConfig
from models_app.ml.features import build_pipeline, fit_classifier, fit_vectorizers
from models_app.ml.scoring import top_k
from models_app.ml.taxonomy import TaxonomyClassifier

PATHS = {
    "sneakers": ("Apparel", "Shoes", "Sneakers"),
    "boots": ("Apparel", "Shoes", "Boots"),
    "shirts": ("Apparel", "Shirts"),
    "apparel": ("Apparel",),  # a label on an inner node
    "headphones": ("Electronics", "Audio", "Headphones"),
    "phones": ("Electronics", "Phones"),
}
WORDS = {
    "sneakers": ["running sneaker", "trainer sneaker", "canvas sneaker"],
    "boots": ["leather boot", "hiking boot", "rain boot"],
    "shirts": ["cotton shirt", "linen shirt", "polo shirt"],
    "apparel": ["clothing bundle", "apparel gift set", "wardrobe pack"],
    "headphones": ["wireless headphones", "studio headphones", "noise cancelling headphones"],
    "phones": ["android phone", "smartphone 128gb", "iphone"],
}


@pytest.fixture(scope="module")
def data():
    texts, labels = [], []
    for label, words in WORDS.items():
        for i in range(12):
            texts.append(f"brand{i % 5} {words[i % 3]} model {i}")
            labels.append(label)
    vectorizers = build_pipeline(ModelConfig.from_dict({"features": {"tokenizer": "regex"}}))[:-1].fit(texts)
    return sp.csr_matrix(vectorizers.transform(texts)), labels


def test_the_top_k_by_beam_are_the_exact_distributions_top_k(data):
    X, labels = data
    model = TaxonomyClassifier(beam=3).fit(X, labels, paths=PATHS)

    classes, probs = model.predict_top(X, k=3)

    exact = model.predict_proba(X)
    np.testing.assert_allclose(exact.sum(axis=1), 1.0, rtol=1e-5)
    expected_classes, expected_probs = top_k(exact, 3)
    assert (classes == expected_classes).mean() > 0.99  # ties may swap places
    np.testing.assert_allclose(probs, expected_probs, atol=1e-6)
    assert (model.predict(X) == np.asarray(labels)).mean() > 0.95


def test_a_label_on_an_inner_node_is_predicted_where_its_path_stops(data):
    X, labels = data
    model = TaxonomyClassifier().fit(X, labels, paths=PATHS)
    rows = [i for i, label in enumerate(labels) if label == "apparel"]
    assert (model.predict(X[rows]) == "apparel").mean() > 0.9


def test_each_node_models_only_its_children_on_the_columns_its_examples_hold(data):
    X, labels = data
    model = TaxonomyClassifier().fit(X, labels, paths=PATHS)
    fitted = [node for node in model.nodes_ if node.model is not None]
    # root: Apparel / Electronics; Apparel: stop / Shoes / Shirts; Shoes: 2; Electronics: Audio / Phones.
    assert sorted(len(node.children) for node in fitted) == [2, 2, 2, 3]
    assert sum(node.model.coef_.size for node in fitted) < LogisticRegression().fit(X, labels).coef_.size
    audio = [node for node in model.nodes_ if node.model is None and len(node.children) == 1]
    assert audio  # Electronics > Audio has one child: no model, probability 1


def test_without_paths_it_is_one_multinomial_logistic_regression(data):
    X, labels = data
    model = TaxonomyClassifier(C=10.0, class_weight="balanced").fit(X, labels)
    columns = np.unique(X.indices)
    flat = LogisticRegression(C=10.0, class_weight="balanced", max_iter=300).fit(X[:, columns], labels)
    np.testing.assert_allclose(model.predict_proba(X), flat.predict_proba(X[:, columns]), atol=1e-6)


def test_rows_reaching_fewer_classes_than_k_are_padded_with_other_classes(data):
    X, labels = data
    model = TaxonomyClassifier(beam=1).fit(X, labels, paths=PATHS)
    classes, probs = model.predict_top(X[:3], k=6)
    assert all(len(set(row)) == 6 for row in classes.tolist())
    assert (probs >= 0).all()


def test_the_refit_starts_each_node_from_the_same_node_of_the_holdouts_model():
    config = ModelConfig.from_dict({"classifier": "taxonomy", "features": {"tokenizer": "regex"}})
    texts, labels = [], []
    for label, words in WORDS.items():
        for i in range(40):
            texts.append(f"brand{i % 7} {words[i % 3]} {['new', 'pro', 'set', 'kit'][i % 4]} model {i}")
            labels.append(label)
    vectorizers, rows = fit_vectorizers(config, texts, texts)
    half = list(range(0, len(labels), 2))
    start = fit_classifier(config, vectorizers, rows[half], [labels[i] for i in half], label_paths=PATHS)
    cold = fit_classifier(config, vectorizers, rows, labels, label_paths=PATHS)

    warm = fit_classifier(config, vectorizers, rows, labels, label_paths=PATHS, start=start)
    again = fit_classifier(config, vectorizers, rows, labels, label_paths=PATHS, start=cold)  # from the solution

    def iterations(pipeline):
        return [node.model.n_iter_[0] for node in pipeline[-1].nodes_ if node.model is not None]

    assert sum(iterations(warm)) < sum(iterations(cold))
    assert max(iterations(again)) <= 2 < max(iterations(cold))
    assert warm.predict(texts).tolist() == cold.predict(texts).tolist()
    assert all(node.model.warm_start is False for node in warm[-1].nodes_ if node.model is not None)


def test_a_node_whose_children_changed_starts_from_zero():
    X = sp.csr_matrix(np.eye(6) + 0.1)
    labels = ["sneakers", "boots", "shirts", "sneakers", "boots", "shirts"]
    start = TaxonomyClassifier().fit(X[:4], labels[:4], paths=PATHS)  # Apparel: Shoes, Shirts
    with_apparel = [*labels[:5], "apparel"]  # Apparel now also stops: three children

    warm = TaxonomyClassifier().fit(X, with_apparel, paths=PATHS, start=start)
    cold = TaxonomyClassifier().fit(X, with_apparel, paths=PATHS)

    def node(model, path):
        return model.nodes_[model.prefixes_.index(path)].model

    np.testing.assert_array_equal(node(warm, ("Apparel",)).coef_, node(cold, ("Apparel",)).coef_)

