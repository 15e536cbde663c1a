"""The pointwise relevance model: features that need no label, grades' probabilities, an expected gain."""

import numpy as np
import pytest

from labeling.kinds.relevance.ranking import ESCI_GAINS
from models_app.ml.relevance import (
    FEATURES,
    NO_CATEGORY,
    NO_RANK,
    RelevanceFeaturizer,
    category_shares,
    train_relevance,
)
from models_app.ml.train import TrainingError

CATALOG = [
    "Sony WH-1000XM4 wireless headphones black",
    "Sony WH-1000XM5 wireless headphones silver",
    "Apple iPhone 13 128GB blue",
    "Silicone case for iPhone 13",
    "Samsung 1TB portable SSD T7",
    "Bosch dishwasher silver 60cm",
]


def column(rows, name):
    return rows[:, FEATURES.index(name)]


def test_features_see_the_query_in_the_product_as_the_pair_page_reads_it():
    featurizer = RelevanceFeaturizer.fit(CATALOG)
    queries = ["sony wh1000xm4", "sony wh1000xm4", "samsung ssd 1000gb", "iphone 13"]
    titles = [CATALOG[0], CATALOG[1], CATALOG[4], CATALOG[5]]
    rows = featurizer.transform(queries, titles, titles, bm25=[9.5, 7.0, 5.0, 0.0], ranks=[1, 2, 1, 30])

    assert column(rows, "tokens_found").tolist() == [1.0, 0.5, 1.0, 0.0]  # "1000gb" is "1TB"
    assert column(rows, "identifiers_found").tolist() == [1.0, 0.0, 1.0, 1.0]  # XM4 against XM5
    assert column(rows, "identifiers_missing").tolist() == [0, 1, 0, 0]
    assert column(rows, "title_cosine_chars")[0] > column(rows, "title_cosine_chars")[3]
    assert column(rows, "bm25").tolist() == [9.5, 7.0, 5.0, 0.0]
    assert featurizer.transform(["x"], ["y"], ["y"])[0, FEATURES.index("bm25_rank")] == NO_RANK


def test_the_query_in_the_title_and_the_whole_text_count_apart():
    featurizer = RelevanceFeaturizer.fit(CATALOG)
    rows = featurizer.transform(["iphone 13", "iphone 13"], ["Silicone case", "Apple iPhone 13 128GB"],
                                ["Silicone case for iPhone 13", "Apple iPhone 13 128GB"])
    assert column(rows, "query_in_title").tolist() == [0.0, 1.0]
    assert column(rows, "title_cosine_words")[0] == 0.0 < column(rows, "text_cosine_words")[0]
    with pytest.raises(ValueError, match="one of each per pair"):
        featurizer.transform(["a", "b"], ["t"], ["t"])


def test_the_model_ranks_by_expected_gain_and_is_least_sure_between_grades():
    rng = np.random.default_rng(0)
    rows = rng.random((400, len(FEATURES)))
    found = rows[:, FEATURES.index("tokens_found")]
    grades = np.where(found > 0.66, "E", np.where(found > 0.33, "S", "I")).tolist()

    model = train_relevance(rows, grades, gains=ESCI_GAINS)

    probe = np.tile(rows[:1], (3, 1))
    probe[:, FEATURES.index("tokens_found")] = [0.95, 0.5, 0.05]
    gains = model.expected_gain(probe)
    assert gains[0] > gains[1] > gains[2]
    assert np.allclose(model.predict_proba(probe).sum(axis=1), 1.0)
    assert ((model.uncertainty(probe) >= 0) & (model.uncertainty(probe) <= 1)).all()


@pytest.mark.parametrize(
    ("grades", "message"),
    [
        (["E"] * 4, "at least 2 grades"),
        (["E", "X", "E", "X"], "grades without a gain: \\['X'\\]"),
        (["E"], "4 feature rows"),
    ],
)
def test_judgments_a_model_cannot_learn_from_are_refused(grades, message):
    with pytest.raises(TrainingError, match=message):
        train_relevance(np.zeros((4, len(FEATURES))), grades, gains=ESCI_GAINS)


def test_the_category_counts_as_the_share_of_the_query_top_results_in_it():
    featurizer = RelevanceFeaturizer.fit(CATALOG)
    top = ("phones", "phones", "", "phones", "cases")  # a result without a category does not count
    rows = featurizer.transform(
        ["iphone 13"] * 4, [CATALOG[2], CATALOG[3], CATALOG[5], CATALOG[2]], [CATALOG[2]] * 4,
        categories=["phones", "cases", "dishwashers", ""], top_categories=[top, top, top, ()],
    )
    # No category: unknown, apart from a share of 0.
    assert column(rows, "category_share").tolist() == [0.75, 0.25, 0.0, NO_CATEGORY]
    assert column(featurizer.transform(["x"], ["y"], ["y"]), "category_share").tolist() == [NO_CATEGORY]


def test_only_the_top_ten_results_count_for_the_category():
    top = ("phones",) * 10 + ("cases",) * 30
    assert category_shares(["phones", "cases"], [top, top]).tolist() == [1.0, 0.0]


def test_categories_come_with_the_top_categories_one_per_pair():
    featurizer = RelevanceFeaturizer.fit(CATALOG)
    with pytest.raises(ValueError, match="go together"):
        featurizer.transform(["a"], ["t"], ["t"], categories=["phones"])
    with pytest.raises(ValueError, match="one of each per pair"):
        featurizer.transform(["a"], ["t"], ["t"], categories=["phones", "cases"], top_categories=[(), ()])


def test_a_catalog_without_categories_trains_and_scores():
    rng = np.random.default_rng(1)
    catalog = [f"{word} {number}" for word in ("phone", "case", "fridge") for number in range(20)]
    featurizer = RelevanceFeaturizer.fit(catalog)
    rows = featurizer.transform(["phone 3"] * len(catalog), catalog, catalog, bm25=rng.random(len(catalog)))
    grades = ["E" if title.startswith("phone") else "I" for title in catalog]
    model = train_relevance(rows, grades, gains=ESCI_GAINS)
    assert np.isfinite(model.expected_gain(rows)).all()
