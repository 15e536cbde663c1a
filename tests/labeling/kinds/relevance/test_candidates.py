"""A relevance dataset's candidates: BM25's results kept per query, the top of each ranker pooled into tasks."""

import pytest

from datasets.models import Query
from labeling.kinds.relevance.candidates import BM25, relevance_candidates
from labeling.kinds.relevance.models import QueryResult
from labeling.models import Task
from tests.factories import DatasetFactory, ProductFactory

pytestmark = pytest.mark.django_db

CATALOG = [
    ("iphone", "Apple iPhone 13 128GB", "Apple", "", {}),
    ("case", "Silicone case", "Spigen", "A clear case for the iPhone 13", {}),
    ("galaxy", "Galaxy S21 smartphone", "Samsung", "", {"color": "phantom black"}),
    ("buds", "Wireless earbuds", "Sony", "", {"compatible": ["iPhone", "Android"]}),
    ("fridge", "Fridge freezer RB34", "Samsung", "", {}),
]


@pytest.fixture
def dataset():
    dataset = DatasetFactory()
    for external_id, title, brand, description, attributes in CATALOG:
        ProductFactory(dataset=dataset, external_id=external_id, title=title, brand=brand,
                       description=description, attributes=attributes)
    Query.objects.create(dataset=dataset, external_id="q1", text="iphone 13")
    Query.objects.create(dataset=dataset, external_id="q2", text="samsung black")
    return dataset


def results(dataset, ranker=BM25):
    rows = QueryResult.objects.filter(dataset=dataset, ranker=ranker).order_by("query__external_id", "rank")
    return [(row.query.external_id, row.rank, row.product.external_id) for row in rows]


def tasks(dataset):
    return sorted(Task.objects.filter(dataset=dataset).values_list("query__external_id", "product__external_id"))


def test_bm25_ranks_every_text_field_and_the_top_of_each_query_becomes_tasks(dataset):
    counts = relevance_candidates(dataset=dataset, pool=2)

    ranked = results(dataset)
    assert [product for query, _, product in ranked if query == "q1"][:2] == ["iphone", "case"]
    assert {product for query, _, product in ranked if query == "q1"} == {"iphone", "case", "buds"}  # attributes
    assert next(product for query, _, product in ranked if query == "q2") == "galaxy"  # brand and attribute
    assert tasks(dataset) == [("q1", "case"), ("q1", "iphone"), ("q2", "fridge"), ("q2", "galaxy")]
    assert (counts.queries, counts.products, counts.pooled, counts.created) == (2, 5, 4, 4)
    assert counts.results == {BM25: len(ranked)}


def test_another_rankers_top_joins_the_pool_and_a_second_run_adds_only_new_pairs(dataset):
    relevance_candidates(dataset=dataset, pool=1)
    answered = Task.objects.get(query__external_id="q1")
    Task.objects.filter(pk=answered.pk).update(annotation_count=1, is_complete=True)
    products = {p.external_id: p.pk for p in dataset.products.all()}
    q1 = Query.objects.get(dataset=dataset, external_id="q1").pk

    counts = relevance_candidates(dataset=dataset, pool=1, runs={"shop search": {q1: [products["buds"]]}})

    assert tasks(dataset) == [("q1", "buds"), ("q1", "iphone"), ("q2", "galaxy")]
    assert counts.created == 1
    assert Task.objects.get(pk=answered.pk).is_complete  # kept as it was
    assert results(dataset, "shop search") == [("q1", 1, "buds")]
    # BM25 keeps its scores, best first; an imported ranking has none.
    assert QueryResult.objects.get(ranker="shop search").score is None
    bm25 = list(QueryResult.objects.filter(dataset=dataset, ranker=BM25, query_id=q1).order_by("rank"))
    assert all(row.score > 0 for row in bm25)
    assert [row.score for row in bm25] == sorted((row.score for row in bm25), reverse=True)
    assert len(set(Task.objects.filter(dataset=dataset).values_list("random_key", flat=True))) == 3


def test_a_rankers_results_are_replaced_whole_when_it_runs_again(dataset):
    relevance_candidates(dataset=dataset, depth=5, pool=5)
    Query.objects.filter(dataset=dataset, external_id="q2").update(text="fridge")
    relevance_candidates(dataset=dataset, depth=5, pool=5)
    assert [product for query, _, product in results(dataset) if query == "q2"] == ["fridge"]


@pytest.mark.parametrize(
    ("runs", "message"),
    [
        ({"bm25": {}}, "other than 'bm25'"),
        ({"shop": {999_999: []}}, "names 1 queries and 0 products"),
        ({"shop": {"q": [999_999]}}, "names 1 queries and 1 products"),
    ],
)
def test_a_ranking_that_is_not_this_datasets_is_refused(dataset, runs, message):
    with pytest.raises(ValueError, match=message):
        relevance_candidates(dataset=dataset, runs=runs)
    assert not Task.objects.filter(dataset=dataset).exists()


def test_a_dataset_without_queries_or_products_makes_nothing():
    counts = relevance_candidates(dataset=DatasetFactory())
    assert (counts.queries, counts.pooled, counts.created) == (0, 0, 0)


def test_a_product_is_judged_once_per_query_and_for_every_query_it_answers(dataset):
    Query.objects.create(dataset=dataset, external_id="q3", text="iphone case")
    relevance_candidates(dataset=dataset, pool=5)
    relevance_candidates(dataset=dataset, pool=5)  # a second run adds no pair twice
    iphone = Task.objects.filter(dataset=dataset, product__external_id="iphone").values_list("query__external_id")
    assert sorted(iphone) == [("q1",), ("q3",)]
