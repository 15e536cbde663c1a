"""BM25 candidates: bm25s' scores, retrieved in batches from the non-zero scores alone."""

import bm25s
import numpy as np
import pytest

from labeling.kinds.relevance.bm25 import bm25_index, bm25_top

PRODUCTS = [
    "Apple iPhone 13 128GB blue smartphone",
    "Samsung Galaxy S21 smartphone 256GB",
    "Apple iPhone 13 case clear silicone",
    "Sony WH-1000XM4 wireless headphones black",
    "Bosch dishwasher SMS46 silver",
    "Apple AirPods Pro wireless earbuds",
    "iPhone charger USB-C 20W",
    "Samsung fridge freezer RB34 stainless",
]


def test_the_scores_are_bm25s_scores_of_every_product_sharing_a_term():
    index = bm25_index(PRODUCTS)
    queries = ["apple iphone 13", "wireless headphones", "samsung fridge"]

    positions, scores = bm25_top(index, queries, k=len(PRODUCTS))

    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize(PRODUCTS, stopwords="en", show_progress=False), show_progress=False)
    for row, query in enumerate(queries):
        expected = retriever.get_scores(bm25s.tokenize(query, stopwords="en", show_progress=False, return_ids=False)[0])
        found = positions[row] >= 0
        np.testing.assert_allclose(scores[row][found], expected[positions[row][found]], rtol=1e-5)
        assert set(positions[row][found]) == set(np.flatnonzero(expected > 0))  # no product without a shared term
        assert (np.diff(scores[row][found]) <= 0).all()
    assert positions[0][0] == 0  # "Apple iPhone 13 128GB ..." holds every term


def test_ties_come_in_product_order_and_short_lists_are_padded():
    index = bm25_index(["red shoe", "red shoe", "blue shoe", "green hat"])
    positions, scores = bm25_top(index, ["red shoe"], k=5)
    assert positions[0].tolist()[:3] == [0, 1, 2]
    assert positions[0].tolist()[3:] == [-1, -1]
    assert scores[0][3:].tolist() == [0.0, 0.0]


def test_the_top_k_is_a_full_rankings_head_but_for_which_ties_at_the_cut_are_kept():
    catalog = [f"brand{i % 7} {['shoe', 'boot', 'hat', 'shirt'][i % 4]} {i}" for i in range(600)]
    queries = [f"brand{i % 7} {['shoe', 'hat'][i % 2]}" for i in range(40)]
    index = bm25_index(catalog)
    top, scores = bm25_top(index, queries, k=10)
    ranked, ranked_scores = bm25_top(index, queries, k=600)
    np.testing.assert_allclose(scores, ranked_scores[:, :10])
    for row in range(len(queries)):
        above = ranked_scores[row] > scores[row][-1]
        assert set(ranked[row][above]) <= set(top[row])
    assert (top == bm25_top(index, queries, k=10)[0]).all()  # the same every run


@pytest.mark.parametrize("queries", [["the of and"], ["zebra unicorn"], [""]])
def test_a_query_with_no_known_term_has_no_candidates(queries):
    positions, scores = bm25_top(bm25_index(PRODUCTS), queries, k=3)
    assert (positions == -1).all() and (scores == 0).all()


def test_an_empty_catalog_or_no_queries_give_empty_results():
    assert bm25_top(bm25_index([]), ["iphone"], k=2)[0].tolist() == [[-1, -1]]
    assert bm25_top(bm25_index(PRODUCTS), [], k=2)[0].shape == (0, 2)
