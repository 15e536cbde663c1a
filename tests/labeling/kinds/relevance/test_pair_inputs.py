"""What a ranker reads of a pair: the query, the product's texts, BM25's score and rank, and the categories of
the product and of the query's BM25 top 10."""

import numpy as np
import pytest

from labeling.kinds.relevance.candidates import BM25
from labeling.kinds.relevance.models import QueryResult
from labeling.kinds.relevance.training import TOP, pair_inputs, product_category
from labeling.models import Task
from tests.models_app.relevance_set import relevance_set


@pytest.mark.parametrize(
    ("attributes", "category"),
    [
        ({"category": "Mobile Phones"}, "mobile phones"),
        ({"Category": "  Mobile   Phones "}, "mobile phones"),
        ({"product_type": ["Electronics", "Phones"]}, "electronics > phones"),
        ({"colour": "red", "department": "Home"}, "home"),
        ({"category": "", "product_type": "Fridges"}, "fridges"),
        ({"colour": "red"}, ""),
        ({}, ""),
        (None, ""),
    ],
)
def test_a_product_category_is_read_from_its_attributes(attributes, category):
    assert product_category(attributes) == category


@pytest.mark.django_db
def test_each_pair_reads_its_product_category_and_its_query_top_ten_categories():
    dataset, _ = relevance_set()
    tasks = list(Task.objects.filter(dataset=dataset).select_related("query", "product").order_by("pk"))
    inputs = pair_inputs(
        dataset=dataset,
        query_ids=np.array([task.query_id for task in tasks]),
        product_ids=np.array([task.product_id for task in tasks]),
    )

    assert inputs.categories == [task.product.attributes["category"] for task in tasks]
    for task, top in zip(tasks, inputs.top_categories, strict=True):
        results = QueryResult.objects.filter(dataset=dataset, ranker=BM25, query=task.query, rank__lte=TOP)
        expected = tuple(result.product.attributes["category"] for result in results.order_by("rank"))
        assert top == expected and 0 < len(top) <= TOP
