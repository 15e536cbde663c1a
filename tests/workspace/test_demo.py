import csv
import io
from collections import Counter
from io import StringIO

import pytest
from django.core.management import call_command

from datasets.models import Dataset
from labeling.kinds.relevance.models import QueryResult
from labeling.models import Annotation, Task
from workspace.demo import demo_catalog_csv, demo_products, demo_taxonomy
from workspace.demo_search import demo_queries

UNSAFE_MARKERS = ("<script", "onerror", "javascript:")


def _leaf_paths():
    paths = [path for _code, path in demo_taxonomy()]
    return {path for path in paths if not any(other.startswith(path + " > ") for other in paths)}


def test_same_seed_gives_same_products_and_other_seed_differs():
    first = list(demo_products(200, seed=7))
    assert first == list(demo_products(200, seed=7))
    assert first != list(demo_products(200, seed=8))


def test_count_is_respected_and_external_ids_are_unique():
    products = list(demo_products(500))
    assert len(products) == 500
    assert len({product["external_id"] for product in products}) == 500


def test_every_category_is_a_leaf_of_the_taxonomy():
    leaves = _leaf_paths()
    assert all(product["category"] in leaves for product in demo_products(3000))


def test_taxonomy_lists_parents_first_with_unique_codes():
    taxonomy = demo_taxonomy()
    codes = [code for code, _path in taxonomy]
    assert len(codes) == len(set(codes))
    seen = set()
    for _code, path in taxonomy:
        parts = path.split(" > ")
        assert all(" > ".join(parts[:depth]) in seen for depth in range(1, len(parts)))
        seen.add(path)


def test_every_leaf_has_at_least_ten_products_at_3000():
    counts = Counter(product["category"] for product in demo_products(3000))
    assert min(counts.get(leaf, 0) for leaf in _leaf_paths()) >= 10


def test_titles_are_non_empty_and_at_most_300_chars():
    assert all(0 < len(product["title"].strip()) <= 300 for product in demo_products(3000))


def test_a_few_descriptions_carry_untrusted_markup():
    products = list(demo_products(3000))
    unsafe = [p for p in products if any(m in p["description"] for m in UNSAFE_MARKERS)]
    assert 0 < len(unsafe) < 0.05 * len(products)


def test_csv_parses_back_to_the_same_products():
    products = list(demo_products(300))
    rows = list(csv.DictReader(io.StringIO(demo_catalog_csv(300))))
    assert [(r["external_id"], r["title"], r["category"]) for r in rows] == [
        (p["external_id"], p["title"], p["category"]) for p in products
    ]


def test_the_csv_without_category_does_not_reveal_the_true_label():
    header = next(csv.reader(io.StringIO(demo_catalog_csv(20, with_category=False))))
    assert "category" not in header


@pytest.mark.django_db
def test_load_demo_makes_the_demo_matching_dataset_once_with_some_pairs_labeled_by_an_import():
    call_command("load_demo", products=20, stdout=StringIO())
    call_command("load_demo", products=20, stdout=StringIO())
    dataset = Dataset.objects.get(name="Demo matching")
    assert dataset.task_type == "matching"
    assert dict(dataset.memberships.values_list("user__username", "role")) == {
        "lead": "lead", "annotator": "annotator", "annotator2": "annotator",
    }
    assert sorted(dataset.labels.values_list("name", flat=True)) == ["match", "no match"]
    assert Task.objects.filter(dataset=dataset, other_product__isnull=False).count() == 200
    answers = Annotation.objects.filter(dataset=dataset)
    assert answers.count() == 50
    assert set(answers.values_list("user", "source_name")) == {(None, "seed")}
    assert set(answers.values_list("label__name", flat=True)) == {"match", "no match"}


def test_demo_queries_are_deterministic_distinct_and_answered_by_the_catalog():
    products = list(demo_products(600, seed=23))
    queries = demo_queries(products, count=40)
    assert queries == demo_queries(products, count=40)
    texts = [query.text for query in queries]
    assert len(texts) == len(set(texts)) == 40
    assert [query.weight for query in queries] == sorted((query.weight for query in queries), reverse=True)
    # Every query names a kind of product as the catalog's titles do, so that search finds its answers.
    titles = " ".join(product["title"].lower() for product in products)
    assert sum(text.split()[-1] in titles for text in texts) >= 0.8 * len(texts)


@pytest.mark.django_db
def test_load_demo_makes_the_demo_search_once_with_the_top_ten_of_each_query_to_judge():
    call_command("load_demo", products=20, search_products=300, queries=12, stdout=StringIO())
    call_command("load_demo", products=20, search_products=300, queries=12, stdout=StringIO())
    dataset = Dataset.objects.get(name="Demo search")
    assert (dataset.task_type, dataset.grade_scale) == ("relevance", "esci")
    assert [label.name for label in dataset.labels.order_by("pk")] == ["exact", "substitute", "complement",
                                                                       "irrelevant"]
    assert dataset.products.count() == 300 and dataset.queries.count() == 12
    per_query = Counter(Task.objects.filter(dataset=dataset).values_list("query_id", flat=True))
    found = Counter(QueryResult.objects.filter(dataset=dataset).values_list("query_id", flat=True))
    assert per_query == Counter({query: min(10, results) for query, results in found.items()})
    assert len(per_query) >= 10 and max(per_query.values()) == 10


@pytest.mark.django_db
def test_load_demo_makes_the_demo_attributes_once_with_their_own_values_suggested():
    options = {"products": 20, "search_products": 50, "queries": 5, "attribute_products": 60, "stdout": StringIO()}
    call_command("load_demo", **options)
    call_command("load_demo", **options)
    dataset = Dataset.objects.get(name="Demo attributes")
    assert dataset.task_type == "spans" and dataset.products.count() == Task.objects.filter(dataset=dataset).count()
    assert dataset.products.count() == 60 and dataset.memberships.filter(user__username="annotator").exists()
    suggested = [task.suggestions for task in Task.objects.filter(dataset=dataset) if task.suggestions]
    # Most demo titles hold their brand as written: weak supervision has something to offer on most tasks.
    assert len(suggested) >= 40
    brand = dataset.labels.get(code="BRAND").pk
    assert any(label == brand for spans in suggested for _, _, label, _ in spans)
