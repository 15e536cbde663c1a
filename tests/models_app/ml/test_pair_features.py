import math

import numpy as np
import pytest

from models_app.ml.pair_features import MAX_LOG_PRICE_RATIO, PairFeaturizer, feature_names, pair_features


def features(left: dict, right: dict, fields=("title", "brand", "price")) -> dict:
    return pair_features(left, right, fields=fields)


def test_the_same_model_number_whatever_its_hyphens_is_a_match():
    found = features({"title": "Sony WH-1000XM4 headphones"}, {"title": "SONY wh1000xm4 black"})
    assert [found[name] for name in ("model_match", "model_mismatch", "model_missing", "model_jaccard")] == [1, 0, 0, 1]
    assert found["model_similarity"] == 1.0


def test_different_model_numbers_are_a_mismatch_with_their_closest_spelling():
    found = features({"title": "Sony WH-1000XM4"}, {"title": "Sony WH-1000XM5"})
    assert [found["model_match"], found["model_mismatch"], found["model_missing"]] == [0, 1, 0]
    assert found["model_similarity"] == pytest.approx(8 / 9)  # "wh1000xm4" vs "wh1000xm5"


def test_a_model_number_on_one_side_only_is_missing():
    found = features({"title": "Sony WH-1000XM4 headphones"}, {"title": "Sony headphones"})
    assert [found["model_match"], found["model_mismatch"], found["model_missing"]] == [0, 0, 1]


def test_conflicting_capacities():
    found = features({"title": "Acme phone 16GB"}, {"title": "Acme phone 32 GB"})
    assert [found["measure_agree"], found["measure_conflict"], found["measure_missing"]] == [0, 1, 0]


def test_capacities_in_other_units_agree():
    found = features({"title": "Acme disk 1TB"}, {"title": "Acme disk 1000 GB"})
    assert [found["measure_agree"], found["measure_conflict"], found["measure_missing"]] == [1, 0, 0]


def test_one_agreeing_and_one_conflicting_dimension():
    found = features({"title": "Acme laptop 16GB 15in"}, {"title": "Acme laptop 16 GB 13in"})
    assert [found["measure_agree"], found["measure_conflict"]] == [0.5, 1]


def test_sizes_on_one_side_only_are_missing():
    found = features({"title": "Acme phone 16GB"}, {"title": "Acme phone 6 in"})
    assert [found["measure_agree"], found["measure_conflict"], found["measure_missing"]] == [0, 0, 1]


def test_sizes_are_also_read_from_the_attributes():
    fields = ("title", "attributes")
    found = features({"title": "Acme phone", "attributes": {"Storage": "16GB"}}, {"title": "Acme phone 32GB"}, fields)
    assert found["measure_conflict"] == 1


def test_a_missing_brand_is_flagged_and_not_equal():
    found = features({"title": "x", "brand": "Sony"}, {"title": "x"})
    assert found["brand_missing"] == 1
    assert found["brand_equal"] == 0
    assert [found[f"brand_{name}"] for name in ("jaccard", "token_set", "partial", "length_ratio")] == [0, 0, 0, 0]


def test_brands_are_equal_whatever_their_case_and_spacing():
    found = features({"title": "x", "brand": "Sony "}, {"title": "x", "brand": "SONY"})
    assert (found["brand_equal"], found["brand_missing"]) == (1, 0)
    assert features({"title": "x", "brand": "Sony"}, {"title": "x", "brand": "Bose"})["brand_equal"] == 0


def test_text_similarities_of_identical_and_of_disjoint_titles():
    same = features({"title": "Acme Kettle 1.7 l"}, {"title": "acme kettle 1,7 L"})
    names = ("missing", "jaccard", "token_set", "partial", "length_ratio")
    assert [same[f"title_{name}"] for name in names] == [0, 1, 1, 1, 1]
    other = features({"title": "Acme Kettle"}, {"title": "Zorb mouse pad"})
    assert other["title_jaccard"] == 0
    assert other["title_length_ratio"] == pytest.approx(2 / 3)


def test_the_price_ratio_is_logged_and_symmetric():
    cheap, dear = {"title": "x", "price": "100", "currency": "EUR"}, {"title": "x", "price": 200, "currency": "eur"}
    assert features(cheap, dear)["price_log_ratio"] == pytest.approx(math.log(2))
    assert features(dear, cheap)["price_log_ratio"] == pytest.approx(math.log(2))
    assert features(cheap, dear)["price_missing"] == 0


def test_prices_in_two_currencies_or_absent_are_missing():
    euros, dollars = {"title": "x", "price": 100, "currency": "EUR"}, {"title": "x", "price": 100, "currency": "USD"}
    assert (features(euros, dollars)["price_log_ratio"], features(euros, dollars)["price_missing"]) == (0, 1)
    assert features(euros, {"title": "x"})["price_missing"] == 1
    assert features(euros, {"title": "x", "price": 100})["price_missing"] == 0  # one currency unnamed


def test_an_absurd_price_ratio_is_capped():
    found = features({"title": "x", "price": 0.01}, {"title": "x", "price": 100_000})
    assert found["price_log_ratio"] == MAX_LOG_PRICE_RATIO


def test_only_the_configured_fields_give_features():
    names = feature_names(("title",))
    assert not any(name.startswith(("brand", "price", "description")) for name in names)
    assert "model_match" in names


def test_the_featurizer_adds_tfidf_cosines_per_field():
    left = [{"title": "Acme steel kettle 1.7 l"}, {"title": "Acme steel kettle"}]
    right = [{"title": "Acme steel kettle 1.7 l"}, {"title": "Zorb mouse pad"}]
    featurizer = PairFeaturizer(fields=("title", "brand")).fit(left, right)
    matrix = featurizer.transform(left, right)
    columns = {name: matrix[:, i] for i, name in enumerate(featurizer.feature_names_)}
    assert matrix.shape == (2, len(feature_names(("title", "brand"))) + 4)
    assert matrix.dtype == np.float32
    assert columns["title_tfidf_words"] == pytest.approx([1, 0], abs=1e-6)
    assert columns["title_tfidf_chars"] == pytest.approx([1, 0], abs=1e-6)
    # No brand anywhere in the fitted pairs: the brand cosines are 0, not an error.
    assert columns["brand_tfidf_words"].tolist() == columns["brand_tfidf_chars"].tolist() == [0, 0]


def test_the_featurizer_scores_no_pairs_and_refuses_unequal_sides():
    featurizer = PairFeaturizer(fields=("title",)).fit([{"title": "a kettle"}], [{"title": "a mug"}])
    assert featurizer.transform([], []).shape == (0, len(featurizer.feature_names_))
    with pytest.raises(ValueError, match="1 left records but 0 right records"):
        featurizer.transform([{"title": "a"}], [])
