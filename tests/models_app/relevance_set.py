"""A small generated relevance set for the tests: products in clusters (offers of one product) and categories,
a query per cluster (the product's name), graded as the PriceRunner set is: the query's own cluster Exact, its
category's other clusters Substitutes, the rest Irrelevant."""

from datasets.importers.products import ProductRow
from datasets.importers.queries import QueryRow
from datasets.services.products import products_upsert
from datasets.services.queries import queries_upsert
from labeling.kinds.relevance.candidates import relevance_candidates
from tests.factories import UserFactory
from workspace.services.datasets import dataset_create

CATEGORIES = {
    "phone": ("apple iphone", "samsung galaxy", "google pixel", "nokia lumia", "sony xperia", "motorola moto"),
    "fridge": ("bosch fridge", "samsung fridge", "lg fridge", "beko fridge", "smeg fridge", "miele fridge"),
    "laptop": ("lenovo thinkpad", "dell xps", "apple macbook", "hp elitebook", "asus zenbook", "acer swift"),
}
VARIANTS = ("", " black", " 2 year warranty", " refurbished")


def relevance_set(*, name: str = "Search", pool: int = 10, **settings):
    """A relevance dataset with its products, queries and candidate tasks; and its truth: (query external id,
    product external id) -> grade code, for every pair."""
    dataset = dataset_create(user=UserFactory(), name=name, task_type="relevance", **settings)
    products, queries, cluster_of, category_of = [], [], {}, {}
    for category, names in CATEGORIES.items():
        for number, product in enumerate(names):
            cluster = f"{category}{number}"
            title = f"{product} {number + 10}{category[0]}"
            queries.append(QueryRow(line=len(queries) + 1, external_id=cluster, text=title))
            for variant in VARIANTS:
                external_id = f"{cluster}-{len(products)}"
                products.append(ProductRow(line=len(products) + 1, external_id=external_id, title=title + variant,
                                           attributes={"category": category}))
                cluster_of[external_id], category_of[external_id] = cluster, category
    products_upsert(dataset=dataset, rows=products)
    queries_upsert(dataset=dataset, rows=queries)
    relevance_candidates(dataset=dataset, pool=pool)
    truth = {}
    for query in queries:
        for product, cluster in cluster_of.items():
            same_category = category_of[product] == query.external_id.rstrip("0123456789")
            truth[query.external_id, product] = "E" if cluster == query.external_id else "S" if same_category else "I"
    return dataset, truth
