"""The Queries page's figures from the database: two rankers' kept results scored against resolved judgments,
checked against nDCG, MRR and precision computed by hand; the page and the API, for leads only."""

import math

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from config.errors import ApplicationError
from datasets.models import Query
from labeling.kinds.relevance.models import QueryResult
from labeling.kinds.relevance.report import ranking_report
from labeling.services import annotation_submit
from tests.factories import DatasetFactory, TaskFactory, member
from tests.workspace.candidates.relevance import search_dataset

pytestmark = pytest.mark.django_db

# query -> ranker -> products, best first
RUNS = {
    "q1": {"A": ["iphone", "buds", "case"], "B": ["galaxy", "case", "iphone"]},
    "q2": {"A": ["fridge", "kettle", "galaxy"], "B": ["galaxy"]},
    "q3": {"A": ["kettle"], "B": ["fridge"]},  # nobody judged q3: it counts nowhere
}
# query -> product -> ESCI grade (gains 1, 0.1, 0.01, 0)
JUDGED = {"q1": {"iphone": "E", "buds": "S", "case": "C", "galaxy": "I"}, "q2": {"galaxy": "E", "fridge": "I"}}

# By hand, k = 10. q1: A's DCG 1 + 0.1/log2(3) + 0.01/log2(4) is the ideal one (nDCG 1); B's is
# 0.01/log2(3) + 1/log2(4). q2: A finds its only Exact third (nDCG 1/log2(4) = 0.5), B first.
IDEAL_Q1 = 1 + 0.1 / math.log2(3) + 0.01 / 2
B_Q1 = (0.01 / math.log2(3) + 0.5) / IDEAL_Q1


@pytest.fixture
def search():
    dataset = search_dataset()  # q1 weighs 1, q2 2
    products = {product.external_id: product for product in dataset.products.all()}
    queries = {query.external_id: query for query in Query.objects.filter(dataset=dataset)}
    for query, by_ranker in RUNS.items():
        for ranker, ranking in by_ranker.items():
            for rank, product in enumerate(ranking, start=1):
                QueryResult.objects.create(
                    dataset=dataset, query=queries[query], product=products[product], ranker=ranker, rank=rank
                )
    judge = member(dataset, "judge")
    labels = {label.code: label for label in dataset.labels.all()}
    for query, grades in JUDGED.items():
        for product, grade in grades.items():
            task = TaskFactory(dataset=dataset, query=queries[query], product=products[product])
            annotation_submit(task=task, user=judge, label=labels[grade])
    return dataset


@pytest.fixture
def lead(search):
    return member(search, "lead", role="lead")


def test_each_rankers_figures_match_the_hand_computed_ones(search):
    report = ranking_report(dataset=search)

    assert (report["queries"], report["judged_queries"], report["judgments"]) == (3, 2, 6)
    a, b = report["rankers"]
    assert a["name"] == "A" and b["name"] == "B"
    # Overall: means weighted by the queries' weights (q1 1, q2 2).
    assert a["ndcg"] == pytest.approx((1.0 + 2 * 0.5) / 3)
    assert b["ndcg"] == pytest.approx((B_Q1 + 2 * 1.0) / 3)
    assert a["mrr"] == pytest.approx((1.0 + 2 / 3) / 3) and b["mrr"] == pytest.approx((1 / 3 + 2 * 1.0) / 3)
    assert a["precision"] == b["precision"] == pytest.approx(0.1)
    assert a["unjudged"] == pytest.approx(2 * 0.1 / 3) and b["unjudged"] == 0  # A's kettle for q2
    assert a["queries"] == b["queries"] == 2


def test_per_query_figures_and_the_disagreements_come_most_different_first(search):
    report = ranking_report(dataset=search)

    q1, q2 = report["per_query"]
    assert (q1["query_id"], q1["query"], q1["weight"], q1["judged"]) == ("q1", "iphone 13", 1.0, 4)
    assert q1["rankers"]["B"]["ndcg"] == pytest.approx(B_Q1) and q1["rankers"]["B"]["reciprocal_rank"] == 1 / 3
    assert q1["ndcg_spread"] == pytest.approx(1 - B_Q1) and q2["ndcg_spread"] == pytest.approx(0.5)
    assert q2["rankers"]["A"]["unjudged"] == pytest.approx(0.1)
    assert [(row["query_id"], round(row["ndcg_spread"], 6)) for row in report["disagreements"]] == [
        ("q1", round(1 - B_Q1, 6)), ("q2", 0.5)
    ]
    assert [row["query_id"] for row in ranking_report(dataset=search, order="A")["per_query"]] == ["q2", "q1"]
    assert [row["query_id"] for row in ranking_report(dataset=search, order="weight")["per_query"]] == ["q2", "q1"]


def test_the_cutoff_counts_only_the_top_k(search):
    report = ranking_report(dataset=search, k=1)
    q1 = report["per_query"][0]
    assert q1["rankers"]["A"]["ndcg"] == 1.0 and q1["rankers"]["B"]["ndcg"] == 0.0
    assert q1["rankers"]["A"]["precision"] == 1.0


def test_bad_parameters_are_named(search):
    with pytest.raises(ApplicationError, match="k must be a whole number from 1 to 100"):
        ranking_report(dataset=search, k=0)
    with pytest.raises(ApplicationError, match="use final or majority"):
        ranking_report(dataset=search, policy="raw")
    with pytest.raises(ApplicationError, match="Unknown order 'C'; use one of: spread, query, weight, A, B"):
        ranking_report(dataset=search, order="C")


def test_the_page_shows_the_rankers_and_the_queries_to_leads(client, search, lead):
    client.force_login(lead)
    url = reverse("labeling:queries", args=[search.pk])
    page = client.get(url).text
    assert '<td class="text">A</td><td>0.667</td>' in page
    assert f'<td class="text">B</td><td>{(B_Q1 + 2) / 3:.3f}</td>' in page
    assert 'id="per-query-table"' in page and "iphone 13" in page and "order=A" in page

    part = client.get(url, {"order": "query", "k": "5"}, headers={"HX-Request": "true"}).text
    assert part.lstrip().startswith('<div id="per-query">') and "nDCG@5" in part
    bad = client.get(url, {"k": "zero"})
    assert bad.status_code == 400 and "k must be a whole number" in bad.text


def test_annotators_and_other_kinds_have_no_queries_page(client, search):
    client.force_login(member(search, "ann"))
    assert client.get(reverse("labeling:queries", args=[search.pk])).status_code == 403
    categorization = DatasetFactory()
    client.force_login(member(categorization, "lead2", role="lead"))
    assert client.get(reverse("labeling:queries", args=[categorization.pk])).status_code == 404


def test_the_api_gives_the_same_report_to_leads_only(search, lead):
    api = APIClient()
    api.force_authenticate(lead)
    url = reverse("api-ranking", args=[search.pk])
    body = api.get(url, {"k": "10"}).json()
    assert body["rankers"][0]["ndcg"] == pytest.approx(2 / 3)
    assert body["per_query"][0]["rankers"]["B"]["ndcg"] == pytest.approx(B_Q1)
    assert body["disagreements"][0]["query_id"] == "q1"
    bad = api.get(url, {"k": "1000"})
    assert bad.status_code == 400 and bad.json()["extra"]["fields"]["k"]

    api.force_authenticate(member(search, "ann"))
    assert api.get(url).status_code == 403
    other = DatasetFactory()
    api.force_authenticate(member(other, "lead3", role="lead"))
    assert api.get(reverse("api-ranking", args=[other.pk])).status_code == 404
