"""Ranking figures against the judgments, checked against scikit-learn's nDCG."""

import numpy as np
import pytest
from sklearn.metrics import ndcg_score

from labeling.kinds.relevance.ranking import ESCI_GAINS, query_figures, ranker_report

EXACT, SUB, COMP, IRR = (ESCI_GAINS[grade] for grade in "ESCI")


@pytest.mark.parametrize("seed", range(5))
def test_ndcg_is_scikit_learns_over_every_judged_product(seed):
    rng = np.random.default_rng(seed)
    products = list(range(40))
    gains = {p: float(rng.choice([EXACT, SUB, COMP, IRR])) for p in rng.choice(products, size=25, replace=False)}
    ranking = [int(p) for p in rng.permutation(products)[:15]]

    figures = query_figures(ranking, gains, k=10)

    # scikit-learn scores every product: the ranking's order as scores, the rest below; unjudged gain 0.
    truth = np.asarray([[gains.get(p, 0.0) for p in products]])
    scores = np.asarray([[len(ranking) - ranking.index(p) if p in ranking else -1 - p / 100 for p in products]])
    assert figures.ndcg == pytest.approx(ndcg_score(truth, scores, k=10), abs=1e-12)


def test_mrr_precision_and_the_unjudged_share_of_the_top_k():
    gains = {"a": IRR, "b": EXACT, "c": SUB, "d": EXACT}
    figures = query_figures(["x", "a", "b", "c", "y"], gains, k=5)
    assert figures.reciprocal_rank == pytest.approx(1 / 3)  # "b", the first Exact, is third
    assert figures.precision == pytest.approx(1 / 5)
    assert figures.unjudged == pytest.approx(2 / 5)
    assert figures.judged == 4
    # Substitutes count as relevant when asked: "c" too.
    assert query_figures(["x", "a", "b", "c", "y"], gains, k=5, relevant=SUB).precision == pytest.approx(2 / 5)


def test_a_query_without_any_gain_has_no_ndcg_and_a_bad_ranking_is_refused():
    assert query_figures(["a"], {"a": IRR, "b": IRR}).ndcg is None
    with pytest.raises(ValueError, match="each product once"):
        query_figures(["a", "a"], {"a": EXACT})


def test_the_report_weighs_queries_and_lists_where_rankers_disagree():
    judgments = {"q1": {"a": EXACT, "b": IRR}, "q2": {"c": EXACT, "d": SUB}, "q3": {"e": IRR}}
    runs = {
        "bm25": {"q1": ["a", "b"], "q2": ["d", "c"]},
        "model": {"q1": ["b", "a"], "q2": ["c", "d"]},
    }
    report = ranker_report(runs, judgments, k=2, weights={"q1": 3.0})
    q1_bm25, q2_bm25 = 1.0, query_figures(["d", "c"], judgments["q2"], k=2).ndcg
    assert report["rankers"]["bm25"]["ndcg"] == pytest.approx((3 * q1_bm25 + q2_bm25) / 4)
    assert report["rankers"]["bm25"]["queries"] == 2  # q3 has no gain to find
    assert report["per_query"]["q1"]["model"]["reciprocal_rank"] == 0.5
    assert [row["query"] for row in report["disagreements"]] == ["q1", "q2"]
    assert report["disagreements"][0]["ndcg_spread"] == pytest.approx(1 - 1 / np.log2(3))
