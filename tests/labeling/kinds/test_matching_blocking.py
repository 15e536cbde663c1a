"""Blocking proposes the pairs worth a look: nearest neighbours by TF-IDF cosine, exact keys, sources kept apart."""

import numpy as np
import pytest

from labeling.kinds.matching import blocking
from labeling.kinds.matching.block_tfidf import tfidf_fit_transform
from labeling.kinds.matching.blocking import (
    MAX_KEY_GROUP,
    BlockingConfig,
    BlockingConfigError,
    candidate_pairs,
    pair_codes,
    pair_completeness,
    possible_pairs,
    reduction_ratio,
)

SHOP_A = [
    "Sony WH-1000XM4 wireless noise cancelling headphones black",
    "Apple iPhone 13 128GB midnight",
    "Samsung Galaxy S21 5G 256GB phantom grey",
    "Bosch Serie 4 WAN28281GB washing machine 8kg",
    "Logitech MX Master 3 wireless mouse graphite",
    "Dyson V11 Absolute cordless vacuum cleaner",
]
SHOP_B = [
    "sony wh1000xm4 noise cancelling wireless headphones - black",
    "apple iphone 13 (128 gb) - midnight",
    "samsung galaxy s21 5g phantom grey 256gb",
    "bosch wan28281gb serie 4 8kg washing machine white",
    "logitech mx master 3 mouse graphite wireless",
    "dyson v11 absolute vacuum cleaner cordless",
]


def _records(titles):
    return [{"title": title} for title in titles]


def _pairs(found) -> set[tuple[int, int]]:
    return set(zip(found.left.tolist(), found.right.tolist(), strict=True))


def test_each_offer_finds_its_twin_in_the_other_shop():
    records = _records(SHOP_A + SHOP_B)
    found = candidate_pairs(records, BlockingConfig(k=1, keys=()))
    twins = {(i, i + len(SHOP_A)) for i in range(len(SHOP_A))}
    assert twins <= _pairs(found)
    assert all(left < right for left, right in _pairs(found))
    assert found.stats["candidates"] == len(found) <= len(records)
    assert np.all(found.similarity >= 0.3)


def test_pairs_come_once_whatever_direction_found_them():
    found = candidate_pairs(_records(SHOP_A + SHOP_B), BlockingConfig(k=3, keys=("model",), min_similarity=0.0))
    codes = pair_codes(found.left, found.right)
    assert len(np.unique(codes)) == len(codes)


def test_min_similarity_drops_weak_neighbours():
    records = _records(SHOP_A + SHOP_B)
    loose = candidate_pairs(records, BlockingConfig(k=5, keys=(), min_similarity=0.0))
    strict = candidate_pairs(records, BlockingConfig(k=5, keys=(), min_similarity=0.5))
    assert len(strict) < len(loose)
    assert np.all(strict.similarity >= 0.5 - 1e-6)


def test_sources_apart_never_pairs_a_shop_with_itself():
    # Shop A holds two listings of one product: without sources they would be each other's best neighbour.
    titles = [*SHOP_A, SHOP_A[0] + " refurbished", *SHOP_B]
    sources = ["a"] * (len(SHOP_A) + 1) + ["b"] * len(SHOP_B)
    together = candidate_pairs(_records(titles), BlockingConfig(k=1, keys=("model",)))
    apart = candidate_pairs(
        _records(titles), BlockingConfig(k=1, keys=("model",), skip_same_source=True), sources=sources
    )
    assert (0, len(SHOP_A)) in _pairs(together)
    assert all(sources[left] != sources[right] for left, right in _pairs(apart))
    assert (0, len(SHOP_A) + 1) in _pairs(apart)  # the twin across shops still found
    a, b = len(SHOP_A) + 1, len(SHOP_B)
    assert apart.stats["possible_pairs"] == a * b
    assert apart.stats["reduction_ratio"] == pytest.approx(1 - len(apart) / (a * b))


def test_one_source_with_sources_apart_has_nothing_to_compare():
    found = candidate_pairs(
        _records(SHOP_A), BlockingConfig(keys=("model",), skip_same_source=True), sources=["a"] * len(SHOP_A)
    )
    assert len(found) == 0
    assert found.stats["possible_pairs"] == 0 and found.stats["reduction_ratio"] is None


def test_exact_keys_find_what_the_words_do_not():
    # Nothing in common but the model number (written differently) and a GTIN.
    records = [
        {"title": "Kettle WK-2000X"},
        {"title": "wk2000x stainless"},
        {"title": "Anything at all", "attributes": {"EAN": "4 005900 036240"}},
        {"title": "Blue quilt", "attributes": {"gtin14": "04005900036240"}},
        {"title": "Unrelated product"},
    ]
    found = candidate_pairs(records, BlockingConfig(k=1, keys=("model", "gtin"), min_similarity=0.9))
    pairs = _pairs(found)
    assert {(0, 1), (2, 3)} <= pairs
    assert found.by_key[list(zip(found.left, found.right, strict=True)).index((2, 3))]
    assert found.stats["by_key_only"] >= 1


def test_brand_and_size_key_needs_both():
    records = [
        {"title": "Pro Drive 1TB portable", "brand": "Acme"},
        {"title": "external disk 1000 GB", "brand": "ACME"},
        {"title": "other disk 1TB", "brand": "Zeta"},
    ]
    found = candidate_pairs(records, BlockingConfig(k=1, keys=("brand_size",), min_similarity=0.99))
    assert _pairs(found) == {(0, 1)}


def test_a_key_everybody_shares_is_no_key():
    records = [{"title": f"widget number {i} 500ml", "brand": "Acme"} for i in range(MAX_KEY_GROUP + 1)]
    found = candidate_pairs(records, BlockingConfig(k=1, keys=("brand_size",), min_similarity=0.99))
    assert not found.by_key.any()


def test_progress_runs_from_zero_to_one():
    seen = []
    candidate_pairs(_records(SHOP_A + SHOP_B), BlockingConfig(k=2), progress=seen.append)
    assert seen[0] == 0.0 and seen[-1] == 1.0 and seen == sorted(seen)


@pytest.mark.parametrize("records", [[], [{"title": "alone"}], [{"title": "a"}, {"title": "b"}]])
def test_tiny_catalogs_give_no_pairs_and_no_error(records):
    found = candidate_pairs(records, BlockingConfig())
    assert len(found) == 0 or found.stats["candidates"] == len(found)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"k": 0}, "k must be"),
        ({"k": "ten"}, "must be numbers"),
        ({"fields": ["title", "colour"]}, "unknown: colour"),
        ({"fields": []}, "fields"),
        ({"min_similarity": 1.5}, "min_similarity"),
        ({"keys": "model,isbn"}, "unknown: isbn"),
        ({"kk": 3}, "Unknown blocking setting"),
    ],
)
def test_bad_settings_say_which(settings, message):
    with pytest.raises(BlockingConfigError, match=message):
        BlockingConfig.from_dict(settings)


def test_settings_round_trip_and_accept_text_lists():
    config = BlockingConfig.from_dict({"k": "5", "fields": "title, description", "keys": "", "min_similarity": "0.2"})
    assert config == BlockingConfig(k=5, fields=("title", "description"), keys=(), min_similarity=0.2)
    assert BlockingConfig.from_dict(config.to_dict()) == config


def test_completeness_and_reduction_ratio():
    candidates = pair_codes([1, 2, 5], [2, 3, 9])
    assert pair_completeness(candidates, pair_codes([2, 3, 4], [1, 2, 5])) == pytest.approx(2 / 3)
    assert pair_completeness(candidates, pair_codes([], [])) is None
    assert reduction_ratio(10, 100) == pytest.approx(0.9)
    assert possible_pairs(["a", "a", "b"], skip_same_source=False) == 3
    assert possible_pairs(["a", "a", "b"], skip_same_source=True) == 2


def test_many_sources_apart_still_find_each_twin_in_another_shop():
    # More shops than MAX_SOURCE_GROUPS: one pass over all, same-shop neighbours dropped from an over-fetched list.
    from labeling.kinds.matching.blocking import MAX_SOURCE_GROUPS

    shops = MAX_SOURCE_GROUPS + 2
    titles, sources = [], []
    for shop in range(shops):
        for title in SHOP_A:
            # Each shop lists every product twice (its own near-duplicate crowds the neighbour list).
            titles += [f"{title} offer {shop}", f"{title} offer {shop} new"]
            sources += [f"shop{shop}", f"shop{shop}"]
    found = candidate_pairs(
        _records(titles), BlockingConfig(k=2, keys=(), skip_same_source=True), sources=sources
    )
    assert len(found) and all(sources[left] != sources[right] for left, right in _pairs(found))
    product = [title.split(" offer")[0] for title in titles]
    assert all(product[left] == product[right] for left, right in _pairs(found))


def test_a_small_catalog_keeps_words_three_offers_share():
    titles = ["acme kettle steel 1.7l", "acme kettle steel 1.7 l", "kettle acme steel", *SHOP_B]
    found = candidate_pairs(_records(titles), BlockingConfig(k=2, keys=()))
    assert {(0, 1), (0, 2), (1, 2)} <= _pairs(found)


def test_a_character_trigram_is_capped_lower_than_a_word(monkeypatch):
    # "kettle" is in three titles: kept as a word (cap 3), its 3-grams dropped (cap 2); "steel" (two) stays both ways.
    monkeypatch.setattr(blocking, "MIN_DF_CAP", 1)
    monkeypatch.setattr(blocking, "MAX_DF_SHARE", 1.0)
    monkeypatch.setattr(blocking, "MAX_DF_COUNT", 3)
    monkeypatch.setattr(blocking, "MAX_CHAR_DF_COUNT", 2)
    texts = ["kettle steel", "kettle steel", "kettle glass", "toaster glass"]

    words = tfidf_fit_transform(texts, analyzer="word", max_df=3).shape[1]
    trigrams = tfidf_fit_transform(texts, analyzer="char_wb", max_df=2).shape[1]
    assert trigrams < tfidf_fit_transform(texts, analyzer="char_wb", max_df=3).shape[1]
    assert blocking._vectors(texts).shape[1] == words + trigrams
